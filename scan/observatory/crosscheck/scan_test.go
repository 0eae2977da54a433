// Package crosscheck_test checks httpsguard's whole Observatory pipeline
// (package scan's fetcher feeding observatory.Analyze, as
// `httpsguard check --scoring observatory` runs it) against the real MDN
// HTTP Observatory 1.4.8 on node, over loopback sites. The analysis alone
// is cross-checked in package observatory; this test catches a fetcher
// that records something other than what the Observatory fetches.
package crosscheck_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/localca/localcatest"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/observatory"
)

// observatoryDir finds the installed Observatory (see
// ../crosscheck_test.go for the install), or skips.
func observatoryDir(t *testing.T) string {
	t.Helper()
	missing := func(msg string) {
		t.Helper()
		testpeer.Missing(t, testpeer.Observatory, msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed")
	}
	dir := os.Getenv("HTTPSGUARD_OBSERVATORY_DIR")
	if dir == "" {
		missing("HTTPSGUARD_OBSERVATORY_DIR is not set (see scan/observatory/crosscheck_test.go)")
	}
	for _, f := range []string{"package.json", "conf/hsts-preload.json", "conf/tld-list.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing(fmt.Sprintf("the Observatory is not set up in %s: %v", dir, err))
		}
	}
	return dir
}

type site struct {
	name          string
	http, https   http.HandlerFunc
	badCert       bool
	httpsRedirect bool // http:// redirects to the https server
	noHTTP        bool // nothing listens on the http:// port
}

// closedPort returns a loopback port nothing listens on.
func closedPort() int {
	p, err := testnet.ClosedPort()
	if err != nil {
		return 1 // tcpmux: nothing listens there either
	}
	return p
}

// downgradeTo redirects every HTTPS request to a plain-HTTP port where
// nothing listens, with HSTS and a session cookie on the redirect.
func downgradeTo(port int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		w.Header().Set("Set-Cookie", "sessionid=1; Secure; HttpOnly")
		http.Redirect(w, r, fmt.Sprintf("http://localhost:%d/plain", port), http.StatusFound)
	}
}

func headers(kv ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Add(kv[i], kv[i+1])
		}
	}
}

func serve(status int, body string, set func(http.ResponseWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		set(w)
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const plain = "<!doctype html><title>t</title><p>hi</p>"

func sites() []site {
	return []site{
		{name: "a-plus", httpsRedirect: true, https: serve(200, plain+`<script src="/a.js" integrity="sha384-x"></script>`, headers(
			"Strict-Transport-Security", "max-age=63072000; includeSubDomains",
			"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'",
			"X-Content-Type-Options", "nosniff", "Referrer-Policy", "no-referrer",
			"Cross-Origin-Resource-Policy", "same-origin",
			"Set-Cookie", "__Host-session=1; Path=/; Secure; HttpOnly; SameSite=Lax"))},
		{name: "bare", http: serve(200, plain, headers("Set-Cookie", "sessionid=1")),
			https: serve(200, plain+`<script src="http://cdn.example.com/x.js"></script>`, headers("Set-Cookie", "sessionid=2"))},
		{name: "repeated-fields-json-body", httpsRedirect: true, https: serve(200,
			`"<meta http-equiv=\"Content-Security-Policy\" content=\"img-src http:\"><script src=\"//x.example.com/a.js\"></script>"`,
			headers("Content-Security-Policy", "default-src 'none'", "Content-Security-Policy", "script-src 'self'",
				"X-Frame-Options", "DENY", "X-Frame-Options", "DENY", "Strict-Transport-Security", "max-age=abc",
				"Set-Cookie", "__Secure-x=1", "Set-Cookie", "csrftoken=1; Secure"))},
		{name: "bad-certificate", httpsRedirect: true, badCert: true, https: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/robots.txt" {
				w.Header().Set("Set-Cookie", "loginstate=1")
				w.Header().Set("Access-Control-Allow-Origin", "*")
				io.WriteString(w, "User-agent: *\n")
				return
			}
			serve(200, plain, headers("Strict-Transport-Security", "max-age=63072000"))(w, r)
		}},
		{name: "cors-only-on-2xx", httpsRedirect: true, https: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Referrer-Policy", "unsafe-url")
			w.Header().Set("Content-Type", "text/html")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			io.WriteString(w, `<meta name="referrer" content="no-referrer"><div style="@media x{"></div>`)
		}},
		{name: "cookie-on-a-redirect-hop", httpsRedirect: true, https: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" {
				w.Header().Set("Set-Cookie", "sess=1")
				http.Redirect(w, r, "/home", http.StatusFound)
				return
			}
			serve(200, plain, headers("Set-Cookie", "pref=1; Secure; SameSite=Lax"))(w, r)
		}},
		{name: "odd-locations", https: serve(200, plain, headers()), http: func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/":
				w.WriteHeader(http.StatusFound) // no Location: the Observatory goes to /undefined
			case "/undefined":
				w.Header().Set("Location", `\\localhost\elsewhere`)
				w.WriteHeader(http.StatusMovedPermanently)
			default:
				serve(200, plain, headers("Content-Security-Policy", "default-src 'self'"))(w, r)
			}
		}},
		// The HTTPS page downgrades to a closed http:// port: the
		// Observatory's HTTPS session fails as a whole (the chain is
		// dropped), so with nothing on port 80 either it refuses to grade
		// ("The site seems to be down."), and with a page there it grades
		// that plain-HTTP page.
		{name: "downgrade-to-closed-port", noHTTP: true, https: downgradeTo(closedPort())},
		{name: "downgrade-to-closed-port-http-serves", https: downgradeTo(closedPort()), http: serve(200, plain, headers("Set-Cookie", "sessionid=1"))},
		{name: "forbidden", httpsRedirect: true, https: serve(403, `{"e":1}`, headers("Content-Type", "application/json", "X-Content-Type-Options", "nosniff"))},
	}
}

type verdict struct {
	Error      string   `json:"error"`
	Message    string   `json:"message"`
	StatusCode int      `json:"statusCode"`
	Score      int      `json:"score"`
	Grade      string   `json:"grade"`
	Jar        []string `json:"jar"`
	Tests      []struct {
		Name   string `json:"name"`
		Result string `json:"result"`
	} `json:"tests"`
}

func port(t *testing.T, raw string) int {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanPipelineMatchesTheObservatory(t *testing.T) {
	dir := observatoryDir(t)
	trusted, untrusted := localcatest.New(t), localcatest.New(t)
	type running struct {
		site
		httpPort, httpsPort int
	}
	var all []running
	var args []string
	for _, s := range sites() {
		ca := trusted
		if s.badCert {
			ca = untrusted
		}
		tlsSrv := localcatest.NewTLSServer(t, ca, s.https)
		r := running{site: s, httpsPort: port(t, tlsSrv.URL)}
		h := s.http
		if s.httpsRedirect {
			h = func(w http.ResponseWriter, req *http.Request) {
				http.Redirect(w, req, fmt.Sprintf("https://localhost:%d%s", r.httpsPort, req.URL.Path), http.StatusMovedPermanently)
			}
		}
		if s.noHTTP {
			r.httpPort = closedPort()
		} else {
			plainSrv := httptest.NewServer(h)
			t.Cleanup(plainSrv.Close)
			r.httpPort = port(t, plainSrv.URL)
		}
		all = append(all, r)
		args = append(args, fmt.Sprintf("localhost:%d:%d", r.httpPort, r.httpsPort))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	verdicts := runDriver(t, ctx, dir, trusted.RootFile(), args)

	for i, r := range all {
		want := verdicts[i]
		t.Run(r.name, func(t *testing.T) {
			res := scanSite(t, ctx, r.httpPort, r.httpsPort, trusted.Pool())
			for _, d := range compare(want, res) {
				t.Error(d)
			}
		})
	}
}

// runDriver scans every "host:httpPort:httpsPort" of sites with the real
// Observatory (one node process, sites one after the other) and returns its
// verdicts, in order.
func runDriver(t *testing.T, ctx context.Context, dir, caFile string, sites []string) []verdict {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", append([]string{"driver.mjs"}, sites...)...)
	cmd.Env = append(os.Environ(), "OBSERVATORY_DIR="+dir,
		"NODE_EXTRA_CA_CERTS="+caFile, "NODE_OPTIONS=--dns-result-order=ipv4first")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node driver: %v\n%s", err, stderr.String())
	}
	var verdicts []verdict
	if err := json.Unmarshal(out, &verdicts); err != nil || len(verdicts) != len(sites) {
		t.Fatalf("node driver output (%d verdicts for %d sites): %v\n%s", len(verdicts), len(sites), err, out)
	}
	return verdicts
}

// scanSite runs httpsguard's Observatory mode on localhost at the ports.
func scanSite(t *testing.T, ctx context.Context, httpPort, httpsPort int, roots *x509.CertPool) *scan.Result {
	t.Helper()
	s, err := scan.New(scan.Options{
		HTTPPort: httpPort, HTTPSPort: httpsPort,
		RootCAs: roots, Scoring: scan.ScoringObservatory,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s.Scan(ctx, "localhost")
}

// compare lists every way res differs from the Observatory's verdict: the
// refusal to grade and its reason, the score, the grade and each test's
// result (the checks that carry an Observatory result must carry exactly
// the Observatory's ten).
func compare(want verdict, res *scan.Result) []string {
	if want.Error != "" {
		// The Observatory refused to grade: httpsguard must refuse too,
		// with no score, and for the same reason when the page answered
		// with a status the Observatory does not grade.
		ok := res.Error != nil && !res.Graded()
		switch want.Error {
		case "unexpected-status":
			ok = ok && strings.Contains(res.Error.Message, fmt.Sprintf("unexpected HTTP status code %d", want.StatusCode))
		case "exception":
			ok = false
		}
		if !ok {
			return []string{fmt.Sprintf("the Observatory refused to grade (%s %s %d); httpsguard: %d %s, error %q",
				want.Error, want.Message, want.StatusCode, res.Score, res.Grade, res.Error)}
		}
		return nil
	}
	var diffs []string
	if !res.Graded() {
		diffs = append(diffs, fmt.Sprintf("httpsguard: no grade (error %v); the Observatory graded", res.Error))
	}
	if res.Score != want.Score || res.Grade != want.Grade {
		diffs = append(diffs, fmt.Sprintf("httpsguard --scoring observatory: %d %s; the Observatory: %d %s",
			res.Score, res.Grade, want.Score, want.Grade))
	}
	// Every Observatory test's result must be carried by a check.
	// (httpsguard's own checks may use an Observatory result name for a
	// verdict of their own, such as hsts-header-invalid for a max-age the
	// Observatory reads as NaN: extra names are not differences.)
	var got []string
	for _, c := range res.Checks {
		got = append(got, c.Result)
	}
	for _, w := range want.Tests {
		if !slices.Contains(got, w.Result) {
			diffs = append(diffs, fmt.Sprintf("%s: the Observatory says %s; httpsguard's checks: %q", w.Name, w.Result, observatoryResults(got)))
		}
	}
	return diffs
}

// observatoryResults keeps the results that are Observatory result names.
func observatoryResults(results []string) []string {
	var out []string
	for _, r := range results {
		if observatory.Description(r) != "" {
			out = append(out, r)
		}
	}
	return out
}
