//go:build linux || darwin || freebsd

package httpsguard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testpeer"
)

// TestREADMETour runs the README's quick tour as written, in order, the way
// a newcomer would in one terminal: every shell block marked
//
//	<!-- runnable -->          every command exits 0
//	<!-- runnable exit=1 -->   every command exits 1 (findings)
//
// and writes the Go block marked <!-- runnable file=main.go --> into the
// tour's directory, a module that requires this checkout. A command ending
// in "&" starts a server in the background; the test waits for the README's
// ports (8000, 8443, 8080, 8088) that its line or comment names, and stops
// every such server at the end.
//
// Nothing leaves the machine and nothing outside a temporary directory
// changes: HOME (so the CA, the NSS databases and every XDG directory) is
// temporary, HTTPSGUARD_TRUST_STORES=nss keeps "ca install" away from the
// system store, and CURL_CA_BUNDLE stands in for the system store trusting
// the root, which is what "ca install" gives a real user. The ports are the
// README's own, so a second run on the machine waits for the first, and a
// port taken by another program skips the test (fails it under
// HTTPSGUARD_TEST_STRICT=1).
func TestREADMETour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the README's tour; not in -short")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := runnableBlocks(string(readme))
	var files, scripts int
	for _, b := range blocks {
		if b.file != "" {
			files++
		} else {
			scripts++
		}
	}
	if files == 0 || scripts < 4 {
		t.Fatalf("README.md has %d runnable files and %d runnable shell blocks; the tour has at least 1 and 4", files, scripts)
	}
	for _, peer := range []testpeer.Peer{testpeer.Curl, testpeer.Jq} {
		name := strings.Fields(peer.Name)[0]
		if _, err := exec.LookPath(name); err != nil {
			testpeer.Missing(t, peer, err.Error())
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skipf("no bash: %v", err)
	}

	unlock := lockTour(t)
	defer unlock()
	for _, port := range tourPorts {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), time.Second); err == nil {
			c.Close()
			msg := fmt.Sprintf("port %s, which the README's tour uses, is taken by another program", port)
			if testpeer.Strict() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}

	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	home, work, bin := filepath.Join(tmp, "home"), filepath.Join(tmp, "tour"), filepath.Join(tmp, "bin")
	for _, d := range []string{home, work, bin} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	goEnv := realGoEnv(t)
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "httpsguard"), "./cmd/httpsguard")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/httpsguard: %v\n%s", err, out)
	}
	writeTourModule(t, work, root)

	caRoot := filepath.Join(home, ".local", "share", "httpsguard", "rootCA.pem")
	env := tourEnv(map[string]string{
		"HOME":                    home,
		"XDG_DATA_HOME":           filepath.Join(home, ".local", "share"),
		"XDG_CONFIG_HOME":         filepath.Join(home, ".config"),
		"XDG_CACHE_HOME":          filepath.Join(home, ".cache"),
		"PATH":                    bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HTTPSGUARD_TRUST_STORES": "nss",
		"CURL_CA_BUNDLE":          caRoot,
		"NO_COLOR":                "1",
		"GOCACHE":                 goEnv["GOCACHE"],
		"GOMODCACHE":              goEnv["GOMODCACHE"],
		"GOPATH":                  goEnv["GOPATH"],
		"GOPROXY":                 "off",
		"GOSUMDB":                 "off",
		"GOFLAGS":                 "-mod=mod",
		"GOTOOLCHAIN":             "local",
	})

	var groups []int
	defer func() { stopGroups(t, groups) }()
	for i, b := range blocks {
		if b.file != "" {
			if err := os.WriteFile(filepath.Join(work, b.file), []byte(b.body), 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		logPath := filepath.Join(tmp, fmt.Sprintf("block%d.log", i))
		pgid, err := runTourBlock(bash, work, env, logPath, b)
		if pgid != 0 {
			groups = append(groups, pgid)
		}
		if err != nil {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("README.md:%d: %v\n--- the block:\n%s--- its output:\n%s", b.line, err, b.body, log)
		}
		log, _ := os.ReadFile(logPath)
		t.Logf("README.md:%d: ok\n%s", b.line, log)
	}

	// What the tour says it made.
	var res struct {
		Score *int   `json:"score"`
		Grade string `json:"grade"`
	}
	if b, err := os.ReadFile(filepath.Join(work, "result.json")); err != nil || json.Unmarshal(b, &res) != nil || res.Score == nil || res.Grade == "" {
		t.Errorf("result.json is not a graded result (%v): %.200s", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(work, "report.html")); err != nil || !strings.Contains(string(b), "<html") {
		t.Errorf("report.html is not an HTML report (%v)", err)
	}
}

// tourPorts are the ports the README's tour uses.
var tourPorts = []string{"8000", "8443", "8080", "8088"}

type runnableBlock struct {
	line int    // of the opening fence, 1-based
	file string // file=NAME: written into the tour directory
	exit int    // exit=N: the status every command must return
	body string
}

var runnableRE = regexp.MustCompile(`^<!--\s*runnable((?:\s+\w+=\S+)*)\s*-->$`)

// runnableBlocks returns the fenced blocks that directly follow a runnable
// marker.
func runnableBlocks(doc string) []runnableBlock {
	lines := strings.Split(doc, "\n")
	var blocks []runnableBlock
	for i := 0; i+1 < len(lines); i++ {
		m := runnableRE.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil || !strings.HasPrefix(lines[i+1], "```") {
			continue
		}
		b := runnableBlock{line: i + 2}
		for _, attr := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(attr, "=")
			switch k {
			case "file":
				b.file = v
			case "exit":
				b.exit, _ = strconv.Atoi(v)
			}
		}
		var body strings.Builder
		for i += 2; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body.WriteString(lines[i] + "\n")
		}
		b.body = body.String()
		blocks = append(blocks, b)
	}
	return blocks
}

// runTourBlock runs one shell block with bash in its own process group,
// output to logPath, checking each command's exit status; it returns the
// group, which holds the servers the block left running.
func runTourBlock(bash, dir string, env []string, logPath string, b runnableBlock) (int, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer log.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", "-c", tourScript(b))
	cmd.Dir, cmd.Env = dir, env
	// Files, not pipes: a server left running keeps them open, and Wait
	// would wait for it.
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		err = fmt.Errorf("the block did not finish in time: %w", err)
	}
	return cmd.Process.Pid, err
}

// tourScript turns a block into a bash script that stops at the first
// command whose status is not the block's, and waits after each
// background command for the README ports it names.
func tourScript(b runnableBlock) string {
	var s strings.Builder
	s.WriteString("set -u -o pipefail\n")
	s.WriteString(`__wait() { for p in "$@"; do for _ in $(seq 1200); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue 2; sleep 0.1; done; echo "README tour: nothing listens on port $p" >&2; exit 98; done; }` + "\n")
	for _, c := range logicalCommands(b.body) {
		code := strings.TrimSpace(stripComment(c))
		if code == "" {
			continue
		}
		s.WriteString(c + "\n")
		if strings.HasSuffix(code, "&") && !strings.HasSuffix(code, "&&") {
			var ports []string
			for _, p := range tourPorts {
				if regexp.MustCompile(`\b` + p + `\b`).MatchString(c) {
					ports = append(ports, p)
				}
			}
			if len(ports) > 0 {
				s.WriteString("__wait " + strings.Join(ports, " ") + "\n")
			}
			continue
		}
		fmt.Fprintf(&s, "__rc=$?; if [ \"$__rc\" -ne %d ]; then echo \"README tour: exit $__rc, want %d: \"%s >&2; exit 97; fi\n",
			b.exit, b.exit, shellQuote(code))
	}
	return s.String()
}

// logicalCommands splits a block into commands, joining lines continued
// with a backslash.
func logicalCommands(body string) []string {
	var cmds []string
	var cur strings.Builder
	for _, l := range strings.Split(body, "\n") {
		cur.WriteString(l)
		if strings.HasSuffix(stripComment(l), "\\") {
			cur.WriteString("\n")
			continue
		}
		cmds = append(cmds, cur.String())
		cur.Reset()
	}
	return cmds
}

// stripComment removes a shell comment: a '#' at the start of a word,
// outside quotes.
func stripComment(line string) string {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return strings.TrimRight(line[:i], " \t")
		}
	}
	return line
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// lockTour makes runs of the tour on one machine take turns: they share the
// README's fixed ports.
func lockTour(t *testing.T) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "httpsguard-readme-tour.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			t.Fatalf("waiting for another run of the README tour: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return func() { f.Close() } // closing releases the lock
}

// realGoEnv reads the go command's caches from the real environment, before
// HOME changes, so the tour builds offline from what is already there.
func realGoEnv(t *testing.T) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	env := map[string]string{}
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("go env: %v", err)
	}
	return env
}

// writeTourModule makes dir the module the README's main.go goes in: one
// that requires github.com/httpsguard/httpsguard, replaced by this checkout.
func writeTourModule(t *testing.T, dir, root string) {
	t.Helper()
	goMod := "module tour\n\ngo 1.26.8\n\nrequire github.com/httpsguard/httpsguard v0.0.0\n\nreplace github.com/httpsguard/httpsguard => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tourEnv is this process's environment without HTTPSGUARD_* and the
// variables set, then with set.
func tourEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || strings.HasPrefix(k, "HTTPSGUARD_") || k == "JAVA_HOME" || k == "SSL_CERT_FILE" || k == "GOENV" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// stopGroups ends the servers the tour left running: SIGTERM to each
// process group, then SIGKILL to what is left after a few seconds.
func stopGroups(t *testing.T, groups []int) {
	for _, g := range groups {
		syscall.Kill(-g, syscall.SIGTERM)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, g := range groups {
		for syscall.Kill(-g, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if syscall.Kill(-g, 0) == nil {
			t.Logf("process group %d did not stop on SIGTERM; killing it", g)
			syscall.Kill(-g, syscall.SIGKILL)
		}
	}
}
