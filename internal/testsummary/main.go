// Command testsummary runs go test and says, at the end, what it skipped.
//
// "go test ./..." hides the output of passing packages, so a test that
// skips because a peer program is missing (PostgreSQL, Chromium, the MDN
// HTTP Observatory on node, Django, certutil...) passes without a word.
// testsummary runs "go test -json" with its own arguments, prints what
// go test would print (a line per package, and the full output of failing
// tests), then lists the skipped tests: those skipped for a missing peer
// grouped by peer, with the package to install, and the others by reason.
// It exits with go test's exit status.
//
// Usage, from the repository root:
//
//	go run ./internal/testsummary [go test flags] [packages]
//	go run ./internal/testsummary -race ./...
//
// With -v every line of output is printed, as with go test -v. Peer skips
// are recognised by the message internal/testpeer writes.
//
// Without a -timeout argument, testsummary gives go test -timeout 30m
// rather than go test's 10 minutes per package: the testssl.sh oracle
// (scan/tlsoracle) runs testssl.sh against seven servers, several minutes
// of work on its own, and the whole suite shares two cores in CI.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/internal/testpeer"
)

// defaultTimeout is go test's -timeout when the arguments give none.
const defaultTimeout = "30m"

// isTimeoutFlag reports whether a is go test's -timeout flag, in any of the
// spellings the flag package accepts.
func isTimeoutFlag(a string) bool {
	for _, name := range []string{"-timeout", "--timeout", "-test.timeout", "--test.timeout"} {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs go test -json with args and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	verbose := false
	goArgs := []string{"test", "-json"}
	for _, a := range args {
		switch a {
		case "-json", "--json":
			continue
		case "-v", "--v", "-test.v", "-v=true":
			verbose = true
		}
		goArgs = append(goArgs, a)
	}
	if !slices.ContainsFunc(args, isTimeoutFlag) {
		goArgs = slices.Insert(goArgs, 2, "-timeout", defaultTimeout)
	}
	cmd := exec.Command("go", goArgs...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "testsummary: %v\n", err)
		return 2
	}
	// Ctrl-C reaches go test through the terminal's process group; this
	// process waits for it to finish so the summary is still printed.
	// (Notify, not Ignore: an ignored signal would stay ignored in go test.)
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "testsummary: starting go test: %v\n", err)
		return 2
	}
	s := newSummary(stdout, verbose)
	readErr := s.read(out)
	waitErr := cmd.Wait()
	s.printSkips()
	if readErr != nil {
		fmt.Fprintf(stderr, "testsummary: reading go test's output: %v\n", readErr)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(waitErr, &exit):
		return exit.ExitCode()
	case waitErr != nil:
		fmt.Fprintf(stderr, "testsummary: %v\n", waitErr)
		return 2
	case readErr != nil:
		return 2
	}
	return 0
}

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Output     string
}

// skip is one skipped test and why.
type skip struct {
	pkg, test, reason string
	peer              testpeer.Peer
	isPeer            bool
}

type summary struct {
	w       io.Writer
	verbose bool
	output  map[string][]string // per package and test, until it ends
	skips   []skip
}

func newSummary(w io.Writer, verbose bool) *summary {
	return &summary{w: w, verbose: verbose, output: map[string][]string{}}
}

// read consumes go test -json's output and prints what go test would.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(s.w, "%s\n", line) // not an event: pass it on
			continue
		}
		s.handle(e)
	}
	return sc.Err()
}

func (s *summary) handle(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.w, e.Output)
	case "output":
		switch {
		case s.verbose:
			fmt.Fprint(s.w, e.Output)
		case e.Test != "":
			s.output[key] = append(s.output[key], e.Output)
		case e.Output != "PASS\n" && e.Output != "testing: warning: no tests to run\n":
			// A package's own lines: "ok", "FAIL", "?   ... [no test
			// files]", and whatever a panic or TestMain printed. (-json
			// runs the tests verbosely; plain go test prints neither
			// PASS nor the warning.)
			fmt.Fprint(s.w, e.Output)
		}
	case "fail":
		if e.Test != "" && !s.verbose {
			fmt.Fprint(s.w, strings.Join(s.output[key], ""))
		}
		delete(s.output, key)
	case "skip":
		if e.Test != "" {
			s.addSkip(e.Package, e.Test, s.output[key])
		}
		delete(s.output, key)
	case "pass":
		delete(s.output, key)
	}
}

func (s *summary) addSkip(pkg, test string, lines []string) {
	var reason []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		// "file_test.go:12: message": keep the message.
		if i := strings.Index(l, ": "); i > 0 && strings.Contains(l[:i], ".go:") && !strings.Contains(l[:i], " ") {
			l = l[i+2:]
		}
		reason = append(reason, l)
	}
	sk := skip{pkg: pkg, test: test, reason: strings.Join(reason, " ")}
	sk.peer, sk.isPeer = testpeer.Parse(sk.reason)
	s.skips = append(s.skips, sk)
}

// printSkips lists the skipped tests: one line per missing peer with the
// package to install, then one line per other reason.
func (s *summary) printSkips() {
	if len(s.skips) == 0 {
		return
	}
	var peers, other []skip
	for _, sk := range s.skips {
		if sk.isPeer {
			peers = append(peers, sk)
		} else {
			other = append(other, sk)
		}
	}
	fmt.Fprintf(s.w, "\nSKIPPED %d test(s)", len(s.skips))
	if len(peers) > 0 {
		fmt.Fprintf(s.w, ", %d for a missing peer (install it, or %s=1 makes these fail)", len(peers), testpeer.StrictEnv)
	}
	fmt.Fprintln(s.w, ":")
	for _, g := range group(peers, func(sk skip) string { return sk.peer.Name + " [" + sk.peer.Install + "]" }) {
		p := g.skips[0].peer
		fmt.Fprintf(s.w, "  missing %s: %s — %s\n", p.Name, p.Install, testList(g.skips))
	}
	for _, g := range group(other, func(sk skip) string { return otherReason(sk.reason) }) {
		fmt.Fprintf(s.w, "  %s: %s\n", g.key, testList(g.skips))
	}
}

// otherReason folds the reasons that differ only by test name.
func otherReason(r string) string {
	switch {
	case r == "":
		return "(no reason given)"
	case strings.HasPrefix(r, "helper process"):
		return "helper processes, run by other tests"
	}
	return r
}

type skipGroup struct {
	key   string
	skips []skip
}

// group groups skips by key, in the order keys first appear.
func group(skips []skip, key func(skip) string) []skipGroup {
	var out []skipGroup
	for _, sk := range skips {
		k := key(sk)
		i := slices.IndexFunc(out, func(g skipGroup) bool { return g.key == k })
		if i < 0 {
			out = append(out, skipGroup{key: k})
			i = len(out) - 1
		}
		out[i].skips = append(out[i].skips, sk)
	}
	return out
}

const module = "github.com/httpsguard/httpsguard"

// testList names the tests as "pkg: TestA, TestB; pkg2: TestC".
func testList(skips []skip) string {
	var parts []string
	for _, g := range group(skips, func(sk skip) string { return sk.pkg }) {
		pkg := strings.TrimPrefix(strings.TrimPrefix(g.key, module), "/")
		if pkg == "" {
			pkg = "."
		}
		var names []string
		for _, sk := range g.skips {
			names = append(names, sk.test)
		}
		parts = append(parts, pkg+": "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}
