package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/internal/progress"
	"github.com/httpsguard/httpsguard/internal/termcolor"
	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
)

func init() {
	register(&command{
		name:    "check",
		summary: "grade a live site's HTTPS: TLS, redirects, HSTS, cookies, headers, leaks",
		usage:   "httpsguard check [flags] TARGET...",
		help: `Scans each TARGET (a host name, host:port, or an http:// or https:// URL)
and reports every check with its verdict, the evidence seen, its effect on the
score and the fix: TLS (every protocol version and cipher suite the server
accepts, forward secrecy, the served chain, as testssl.sh reports them) and
the certificate, redirects from HTTP, HSTS and preload
eligibility (chromium's hstspreload rules), cookies, security headers (the MDN
HTTP Observatory's tests), mixed content, and framework leaks (debug pages,
admin and login pages over HTTP, TRACE, version banners).

The score is httpsguard's 0-100 model (each deduction is one check's
score_impact) or, with --scoring observatory, the MDN HTTP Observatory 1.4.8
score and grade reproduced exactly.

With several targets they are scanned --concurrency at a time; text and
jsonl results are printed as each scan finishes, and a progress bar is drawn
on stderr when it is a terminal. Every network step is bounded: connect, TLS
handshake, --timeout per target, 10 redirects, 2 MiB of body, 256 KiB of
response head, a fixed number of requests and TLS probes per target.

Fail closed: a grade is earned by what the scan saw. When the HTTPS page
(after its redirects) cannot be fetched as a browser would fetch it, there
is no grade and no score: the report says why first (the name does not
resolve, the port refuses connections, a timeout and where it struck, a TLS
alert, bytes that are not TLS or HTTP, a response head over the 256 KiB
browsers accept, a redirect loop...) with the fix for that cause; the JSON
has "grade": null and an "error" with its "kind". When the page was fetched
but some checks could not observe what they judge, the grade is marked
incomplete everywhere, with those checks and why.

Exit status: 0 when every check passed or only warned, 1 when a check failed
or a score is below --fail-under, 2 on a usage error, when a target has no
grade, or when a grade is incomplete (--fail-under never accepts one).

Examples:
  httpsguard check example.com
  httpsguard check --format html --output report.html example.com www.example.com
  httpsguard check --fail-under 90 --format sarif --output httpsguard.sarif https://staging.example.com
  httpsguard check --scoring observatory example.com
  httpsguard check --input sites.txt --concurrency 32 --format jsonl
  httpsguard check --ca-file ~/.local/share/httpsguard/rootCA.pem --https-port 8443 --http-port 8080 myapp.test
  httpsguard check --resolve myapp.test:443:127.0.0.1 --resolve myapp.test:80:127.0.0.1 myapp.test
  httpsguard check --deny-private "$UNTRUSTED_URL"`,
		flags: checkFlags,
	})
}

func checkFlags(fs *flagSet, st *stdio) func(context.Context, []string) (int, error) {
	format := fs.String("format", "text", "output `format`: text, json, jsonl, sarif, html or markdown; without it, taken from the --output file's extension")
	output := fs.String("output", "", "write the report to `file` instead of standard output (\"-\" for standard output)")
	failUnder := fs.Int("fail-under", 0, "exit 1 when a target's score is below `score` (0-100; the Observatory's scale goes higher); a missing or incomplete grade exits 2")
	scoring := fs.String("scoring", scan.ScoringHTTPSGuard, "scoring `model`: httpsguard or observatory")
	caFiles := fs.list("ca-file", "also trust the roots in this PEM `file` (repeatable); the report names the file that verified the chain", false)
	localCA := fs.Bool("local-ca", false, "also trust httpsguard's local CA (see \"httpsguard ca\"), for sites served by \"httpsguard serve\"")
	httpPort := fs.Int("http-port", 80, "`port` for http:// when the target does not give one")
	httpsPort := fs.Int("https-port", 443, "`port` for https:// when the target does not give one")
	timeout := fs.duration("timeout", scan.DefaultTimeout, "time limit for each target, every request included: a `duration` such as 20s or 2m")
	concurrency := fs.Int("concurrency", scan.DefaultConcurrency, "`number` of targets scanned at once")
	input := fs.String("input", "", "read targets from `file`, one a line, # starts a comment (\"-\" for standard input)")
	denyPrivate := fs.Bool("deny-private", false, "refuse to connect to loopback, private, link-local, CGNAT and metadata addresses (checked on the address dialled, every redirect hop included)")
	resolves := fs.list("resolve", "connect to `host:port:addr` instead of resolving host, like curl (repeatable; host * matches any name)", false)
	userAgent := fs.String("user-agent", "", "User-Agent `string` to send (default: httpsguard's, or the Observatory's with --scoring observatory)")
	verbose := fs.Bool("verbose", false, "text output: show every check, not only those that need attention")
	debug := fs.Bool("debug", false, "log every request and TLS probe to standard error")

	return func(ctx context.Context, args []string) (int, error) {
		toFile := *output != "" && *output != "-"
		fname := *format
		if !fs.isSet("format") && toFile {
			if f, ok := report.FormatForFile(*output); ok {
				fname = f.String()
			}
		}
		name, err := parseFormat(fname, reportFormats())
		if err != nil {
			return exitError, usagef("--format: %v", err)
		}
		f, _ := report.ParseFormat(name)
		// The Observatory's score goes above 100 with its bonuses;
		// httpsguard's stops at 100, so a higher bar could never be met.
		if *failUnder < 0 || *failUnder > 100 && *scoring != scan.ScoringObservatory {
			return exitError, usagef("--fail-under %d: must be between 0 and 100 (above 100 only with --scoring observatory)", *failUnder)
		}
		if *concurrency < 1 {
			return exitError, usagef("--concurrency %d: must be at least 1", *concurrency)
		}
		if *timeout <= 0 {
			return exitError, usagef("--timeout %s: must be positive", formatDuration(*timeout))
		}
		targets := append([]string(nil), args...)
		if *input != "" {
			more, err := readTargets(*input, st.in)
			if err != nil {
				return exitError, fmt.Errorf("--input: %w", err)
			}
			targets = append(targets, more...)
		}
		if len(targets) == 0 {
			return exitError, usagef("no targets; for example: httpsguard check example.com")
		}
		resolve, err := scan.ParseResolve(*resolves)
		if err != nil {
			return exitError, usagef("--resolve: %v", err)
		}
		cas := slices.Clone(*caFiles)
		if *localCA {
			root, err := localca.RootFileFromEnv(st.getenv)
			if errors.Is(err, os.ErrNotExist) {
				return exitError, fmt.Errorf("--local-ca: %w (create one with \"httpsguard ca install\")", err)
			}
			if err != nil {
				return exitError, fmt.Errorf("--local-ca: %w", err)
			}
			cas = append(cas, root)
		}
		sc, err := scan.New(scan.Options{
			HTTPPort: *httpPort, HTTPSPort: *httpsPort, Timeout: *timeout, CAFiles: cas,
			DenyPrivate: *denyPrivate, Resolve: resolve, Scoring: *scoring, UserAgent: *userAgent,
			Concurrency: *concurrency, Logger: debugLogger(*debug, st.err),
		})
		if err != nil {
			return exitError, err
		}
		sc.SetVersion(version())

		out := st.out
		var file *os.File
		if toFile {
			file, err = os.Create(*output)
			if err != nil {
				return exitError, fmt.Errorf("--output: %w", err)
			}
			out = file
		}
		ropts := report.Options{Verbose: *verbose, ToolVersion: version()}
		if f == report.Text && file == nil {
			ropts.Color = termcolor.Enabled(st.out, st.getenv)
		}
		var bar *progress.Bar
		if len(targets) > 1 {
			bar = progress.New(st.err, len(targets))
		}
		// The bar shares the terminal with streamed results only when
		// they go to standard output.
		clear := file == nil && f.Streams()
		// Diagnostics go to stderr when the report is not text on the
		// terminal, which says the same itself.
		var diag io.Writer
		if f != report.Text || file != nil {
			diag = st.err
		}
		code, werr := runChecks(ctx, sc, targets, out, f, ropts, bar, clear, *failUnder, diag)
		if file != nil {
			if err := file.Close(); err != nil && werr == nil {
				werr = err
			}
		}
		if werr != nil {
			return exitError, fmt.Errorf("writing the report: %w", werr)
		}
		return code, nil
	}
}

// runChecks scans every target, streams the results into the report, and
// returns the exit code. When diag is not nil, a target without a grade or
// with an incomplete one is also named there, with the reason.
func runChecks(ctx context.Context, sc *scan.Scanner, targets []string, out io.Writer, f report.Format, ropts report.Options, bar *progress.Bar, clearBar bool, failUnder int, diag io.Writer) (int, error) {
	stream, err := report.NewStream(out, f, ropts)
	if err != nil {
		return exitError, err
	}
	code := exitOK
	var werr error
	for res := range sc.ScanAll(ctx, targets) {
		if clearBar {
			bar.Clear()
		}
		if err := stream.Add(res); err != nil && werr == nil {
			werr = err
		}
		bar.Increment(res.Target)
		code = max(code, exitCodeFor(res, failUnder))
		if diag != nil {
			if msg := ungradedReason(res); msg != "" {
				say(diag, "check", "%s", msg)
			}
		}
	}
	bar.Finish()
	if err := stream.Close(); err != nil && werr == nil {
		werr = err
	}
	if ctx.Err() != nil {
		code = exitError
	}
	return code, werr
}

// exitCodeFor is 2 for a target without a grade or with an incomplete one
// (which --fail-under must not accept: it may be better than the site
// deserves), 1 for a failed check or a score under failUnder, else 0.
func exitCodeFor(r *scan.Result, failUnder int) int {
	if !r.Graded() || r.Incomplete {
		return exitError
	}
	if failUnder > 0 && r.Score < failUnder {
		return exitFindings
	}
	for _, c := range r.Checks {
		if c.Status == scan.StatusFail {
			return exitFindings
		}
	}
	return exitOK
}

// ungradedReason says, in one line, why a result has no grade or an
// incomplete one; "" when its grade is whole.
func ungradedReason(r *scan.Result) string {
	name := cmp.Or(r.Host, r.Target)
	switch {
	case !r.Graded():
		if r.Error == nil {
			return name + ": no grade"
		}
		return fmt.Sprintf("%s: no grade (%s): %s", name, r.Error.Kind, r.Error.Message)
	case r.Incomplete:
		var ids []string
		for _, c := range r.ErroredChecks() {
			ids = append(ids, c.ID)
		}
		return fmt.Sprintf("%s: grade %s is incomplete: %s could not complete", name, r.Grade, strings.Join(ids, ", "))
	}
	return ""
}

// debugLogger returns a logger writing to w when on, else nil (no logs).
func debugLogger(on bool, w io.Writer) *slog.Logger {
	if !on {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// readTargets reads one target a line; blank lines and # comments are
// skipped.
func readTargets(path string, stdin io.Reader) ([]string, error) {
	var r io.Reader
	if path == "-" {
		if stdin == nil {
			return nil, errors.New("no standard input")
		}
		r = stdin
	} else {
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}
