package observatory

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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

	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/localca/localcatest"
)

// This file cross-checks Analyze against the real MDN HTTP Observatory
// 1.4.8 running on node: both scan the same loopback sites and every test
// result, pass flag, modifier, the score and the grade must agree.
//
// Setup (the test skips without it, or fails when HTTPSGUARD_TEST_STRICT=1):
//
//	npm install --prefix "$DIR" --ignore-scripts @mdn/mdn-http-observatory@1.4.8
//	echo '{}' > "$DIR/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json"
//	echo '[]' > "$DIR/node_modules/@mdn/mdn-http-observatory/conf/tld-list.json"
//	export HTTPSGUARD_OBSERVATORY_DIR="$DIR/node_modules/@mdn/mdn-http-observatory"

// observatoryDir finds the installed Observatory package, or skips.
func observatoryDir(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		testpeer.Missing(t, testpeer.Observatory, fmt.Sprintf(format, args...))
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed: %v", err)
	}
	dir := os.Getenv("HTTPSGUARD_OBSERVATORY_DIR")
	if dir == "" {
		missing("HTTPSGUARD_OBSERVATORY_DIR is not set (see crosscheck_test.go for the npm install)")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		missing("the Observatory is not installed in %s: %v", dir, err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(raw, &pkg); err != nil || pkg.Version != "1.4.8" {
		missing("the Observatory in %s is version %q, want 1.4.8 (%v)", dir, pkg.Version, err)
	}
	for _, f := range []string{"hsts-preload.json", "tld-list.json"} {
		if _, err := os.Stat(filepath.Join(dir, "conf", f)); err != nil {
			missing("create %s/conf/%s by hand (see crosscheck_test.go): %v", dir, f, err)
		}
	}
	return dir
}

// ports are where a site listens; handlers read them once the servers run.
type ports struct{ http, https int }

// site is one loopback site of the cross-check.
type site struct {
	name string
	// handlers for the http:// and https:// servers.
	http, https func(p *ports) http.HandlerFunc
	// noHTTP and noHTTPS close that server before the scan: refused.
	noHTTP, noHTTPS bool
	// badCert serves HTTPS with a certificate from a CA nobody trusts.
	badCert bool
	// desc describes a generated site, for failure messages.
	desc string
}

func page(h http.Header, status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range h {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func toHTTPS(p *ports) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("https://localhost:%d%s", p.https, r.URL.Path), http.StatusMovedPermanently)
	}
}

func static(h http.HandlerFunc) func(*ports) http.HandlerFunc {
	return func(*ports) http.HandlerFunc { return h }
}

const plainPage = "<!doctype html><title>t</title><p>hello</p>"

func sites() []site {
	return []site{
		{
			name: "a-plus",
			http: toHTTPS,
			https: static(page(http.Header{
				"Strict-Transport-Security":    {"max-age=63072000; includeSubDomains; preload"},
				"Content-Security-Policy":      {"default-src 'none'; frame-ancestors 'none'; img-src 'self'"},
				"X-Content-Type-Options":       {"nosniff"},
				"Referrer-Policy":              {"no-referrer"},
				"Cross-Origin-Resource-Policy": {"same-origin"},
				"Set-Cookie":                   {"__Host-session=1; Path=/; Secure; HttpOnly; SameSite=Lax"},
			}, 200, plainPage+`<script src="/app.js" integrity="sha384-abc"></script>`)),
		},
		{
			name: "bare",
			http: static(page(http.Header{"Set-Cookie": {"sessionid=1"}}, 200, plainPage)),
			https: static(page(http.Header{
				"Set-Cookie": {"sessionid=2", "csrftoken=3; Secure"},
			}, 200, plainPage+`<script src="http://cdn.example.com/x.js"></script><script src="https://cdn.example.net/y.js"></script>`)),
		},
		{
			name: "meta-policies",
			http: toHTTPS,
			https: static(page(http.Header{
				"Strict-Transport-Security":           {"max-age=86400"},
				"Content-Security-Policy-Report-Only": {"default-src 'self'"},
				"X-Frame-Options":                     {"ALLOW-FROM https://example.com"},
				"Set-Cookie":                          {"pref=1; Secure; SameSite=Bogus", "other=2; Secure; SameSite=Strict"},
				"Access-Control-Allow-Origin":         {"*"},
			}, 200, `<!doctype html><html><head>
<meta http-equiv="Content-Security-Policy" content="script-src 'self' 'unsafe-inline'; frame-ancestors 'none'">
<meta name="referrer" content="unsafe-url">
</head><body><script src="https://cdn.example.org/lib.js" integrity="sha384-xyz" crossorigin="anonymous"></script></body></html>`)),
		},
		{
			name: "reflected-cors-and-quirks",
			http: toHTTPS,
			https: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if o := r.Header.Get("Origin"); o != "" {
						w.Header().Set("Access-Control-Allow-Origin", o)
						w.Header().Set("Access-Control-Allow-Credentials", "true")
					}
					w.Header().Add("Content-Security-Policy", "script-src 'nonce-abc' 'strict-dynamic' https: 'unsafe-inline'; object-src 'none'")
					w.Header().Add("Content-Security-Policy", "report-uri /a; report-uri /b")
					w.Header().Add("Strict-Transport-Security", "max-age=31536000")
					w.Header().Add("Strict-Transport-Security", "max-age=31536000")
					w.Header().Set("X-Frame-Options", "bogus")
					w.Header().Set("X-Content-Type-Options", "sniff")
					w.Header().Set("Cross-Origin-Resource-Policy", "nope")
					w.Header().Set("Referrer-Policy", "no-referrer, unsafe-url, bogus")
					w.Header().Set("Content-Type", "text/html")
					io.WriteString(w, plainPage)
				}
			},
		},
		{
			name:    "bad-certificate",
			http:    toHTTPS,
			badCert: true,
			https: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/robots.txt" {
						w.Header().Set("Set-Cookie", "loginstate=1")
						io.WriteString(w, "User-agent: *\n")
						return
					}
					page(http.Header{
						"Strict-Transport-Security": {"max-age=63072000"},
						"Content-Security-Policy":   {"default-src 'self'; img-src http://images.example.com"},
					}, 200, plainPage)(w, r)
				}
			},
		},
		{
			name:    "http-only",
			noHTTPS: true,
			http: static(page(http.Header{
				"Content-Security-Policy": {"default-src 'self' http://cdn.example.com; style-src 'unsafe-inline'"},
				"X-Frame-Options":         {"DENY"},
				"Set-Cookie":              {"SESSID=1; HttpOnly"},
			}, 200, plainPage)),
			https: static(page(nil, 200, plainPage)),
		},
		{
			name: "json-body-and-chain",
			http: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/" {
						http.Redirect(w, r, "/step", http.StatusFound)
						return
					}
					http.Redirect(w, r, fmt.Sprintf("https://localhost:%d/", p.https), http.StatusFound)
				}
			},
			https: static(page(http.Header{
				"Content-Security-Policy": {"default-src 'self' https://a.example.com; script-src 'self' 'unsafe-eval'"},
				"Set-Cookie":              {"csrftoken=1; Secure; HttpOnly"},
			}, 200, `"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'\"><script src=\"http://evil.example.com/x.js\"></script>"`)),
		},
		{
			name: "off-host-and-relative-protocol",
			http: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, fmt.Sprintf("https://127.0.0.1:%d/", p.https), http.StatusPermanentRedirect)
				}
			},
			https: static(page(http.Header{
				"Content-Security-Policy":   {"default-src https:; frame-ancestors 'self'"},
				"Strict-Transport-Security": {"max-age=15552000; includeSubDomains"},
			}, 200, plainPage+`<script src="https://127.0.0.1/x.js"></script><script src="//cdn.example.com/y.js" integrity="sha256-q"></script>`)),
		},
		{
			name: "forbidden-page",
			http: toHTTPS,
			https: static(page(http.Header{
				"Content-Type":            {"application/json"},
				"X-Content-Type-Options":  {"nosniff"},
				"Content-Security-Policy": {"default-src 'none'; frame-ancestors 'none'"},
			}, 403, `{"error":"forbidden"}`)),
		},
		{
			name:  "server-error",
			http:  toHTTPS,
			https: static(page(nil, 500, "oops")),
		},
		{
			name: "redirect-loop",
			http: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
					http.Redirect(w, r, fmt.Sprintf("/%d", n+1), http.StatusFound)
				}
			},
			https: static(page(http.Header{"Content-Security-Policy": {"default-src"}}, 200, plainPage)),
		},
		{
			name: "cookie-jar-rules",
			http: toHTTPS,
			https: static(page(http.Header{
				"Set-Cookie": {
					"__Secure-sess=1; HttpOnly",
					"__Host-x=1; Secure; Domain=localhost",
					"a=1; Max-Age=0; Secure; SameSite=Lax",
					"sess=1; HttpOnly",
					"sess=2; Secure; HttpOnly; SameSite=Lax",
					"far=1; Domain=example.com",
					"nameonly",
				},
				"Strict-Transport-Security": {"max-age=abc"},
			}, 200, plainPage)),
		},
		{
			name: "html-edges",
			http: toHTTPS,
			https: static(page(http.Header{
				"Referrer-Policy": {"unsafe-url"},
			}, 200, `<!doctype html><html><head><base href="https://cdn.example.com/">
<meta name="referrer" content="no-referrer"></head><body>
<script src="/x.js"></script><svg><script href="https://evil.example.com/a.js"></script></svg>
<template><script src="http://evil.example.com/b.js"></script></template></body></html>`)),
		},
		{
			name: "json-object-page",
			http: toHTTPS,
			https: static(page(http.Header{
				"X-Content-Type-Options":  {""},
				"Content-Security-Policy": {""},
			}, 200, `{"a":"<script src=\"http://x.example.com/a.js\"></script><meta http-equiv=\"content-security-policy\" content=\"default-src 'none'\">"}`)),
		},
		{
			name: "style-attribute-breaks-jsdom",
			http: toHTTPS,
			https: static(page(nil, 200, `<!doctype html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<meta name="referrer" content="no-referrer"></head>
<body><div style="@media screen{color:red"></div><script src="http://x.example.com/a.js"></script></body></html>`)),
		},
		{
			name: "repeated-csp-fields-and-escapes",
			http: toHTTPS,
			https: static(page(http.Header{
				"Content-Security-Policy": {"default-src 'none'", "script-src 'self'"},
				"Content-Type":            {"text/html; charset=utf-8", "text/plain"},
				"X-Frame-Options":         {"DENY", "SAMEORIGIN"},
			}, 200, plainPage)),
		},
		{
			name: "malformed-escape-across-policies",
			http: toHTTPS,
			https: static(page(http.Header{
				"Content-Security-Policy": {"default-src https://a.example.com/%zz/x"},
			}, 200, `<meta http-equiv="Content-Security-Policy" content="default-src https://a.example.com/%zz/y">`)),
		},
		{
			name: "content-type-case-and-401",
			http: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/" {
						w.WriteHeader(http.StatusFound) // no Location at all
						return
					}
					page(nil, 200, plainPage)(w, r)
				}
			},
			https: static(page(http.Header{
				"Content-Type":            {"Text/HTML"},
				"Content-Security-Policy": {"default-src 'self'; img-src http:"},
			}, 401, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'"><script src="http://x.example.com/a.js"></script>`)),
		},
		{
			name: "https-downgrades-to-http",
			http: static(page(http.Header{"Set-Cookie": {"plain=1"}}, 200, plainPage)),
			https: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Strict-Transport-Security", "max-age=31536000")
					w.Header().Set("Set-Cookie", "seen=1; Secure; SameSite=Strict")
					http.Redirect(w, r, fmt.Sprintf("http://localhost:%d/landing", p.http), http.StatusMovedPermanently)
				}
			},
		},
		{
			name: "hsts-protects-cookies",
			http: toHTTPS,
			https: static(page(http.Header{
				"Strict-Transport-Security":    {"max-age=31536000"},
				"Set-Cookie":                   {"pref=1; SameSite=Lax"},
				"X-Frame-Options":              {"ALLOW-FROM https://a.example"},
				"Cross-Origin-Resource-Policy": {"cross-origin"},
				"Content-Security-Policy":      {"default-src 'self'; report-uri /a; report-uri /b"},
				"Referrer-Policy":              {"whimsy"},
			}, 200, plainPage)),
		},
		{
			name: "hsts-protects-session-cookies",
			http: toHTTPS,
			https: static(page(http.Header{
				"Strict-Transport-Security":    {"max-age=31536000"},
				"Set-Cookie":                   {"sess=1; HttpOnly", "pref=1"},
				"Cross-Origin-Resource-Policy": {"same-site"},
				"Content-Security-Policy":      {"default-src 'self'; frame-src http://frames.example.com"},
			}, 200, plainPage)),
		},
		{
			name: "session-without-httponly",
			http: toHTTPS,
			https: static(page(http.Header{
				"Set-Cookie":              {"sess=1; Secure"},
				"Content-Security-Policy": {"default-src 'self'; script-src 'self' 'unsafe-eval'"},
			}, 200, plainPage)),
		},
		{
			name:   "report-only-without-http",
			noHTTP: true,
			http:   toHTTPS,
			https: static(page(http.Header{
				"Content-Security-Policy-Report-Only": {"default-src 'none'"},
				"Set-Cookie":                          {"a=1; Secure; HttpOnly"},
			}, 200, plainPage+`<script src="/a.js"></script><script src="https://localhost/b.js"></script>`)),
		},
		{
			name:    "bad-certificate-without-robots",
			http:    toHTTPS,
			badCert: true,
			https: func(p *ports) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/robots.txt" {
						w.Header().Set("Set-Cookie", "sess=1")
						http.NotFound(w, r)
						return
					}
					w.Header().Set("Access-Control-Allow-Origin", "https://a.example")
					page(http.Header{"Set-Cookie": {"pref=1; Secure; SameSite=Lax"}}, 200, plainPage)(w, r)
				}
			},
		},
		{
			name:    "down",
			noHTTP:  true,
			noHTTPS: true,
			http:    static(page(nil, 200, plainPage)),
			https:   static(page(nil, 200, plainPage)),
		},
	}
}

// started is a running site.
type started struct {
	site
	ports ports
}

func startSite(t *testing.T, s site, trusted *localca.CA, untrusted *localca.CA) *started {
	t.Helper()
	st := &started{site: s}
	httpSrv := httptest.NewUnstartedServer(s.http(&st.ports))
	t.Cleanup(httpSrv.Close)
	ca := trusted
	if s.badCert {
		ca = untrusted
	}
	httpsSrv := localcatest.NewUnstartedTLSServer(t, ca, s.https(&st.ports))
	// The handlers read the ports: set them before anything is served.
	st.ports.http = httpSrv.Listener.Addr().(*net.TCPAddr).Port
	st.ports.https = httpsSrv.Listener.Addr().(*net.TCPAddr).Port
	httpSrv.Start()
	httpsSrv.StartTLS()
	if s.noHTTP {
		httpSrv.Close()
	}
	if s.noHTTPS {
		httpsSrv.Close()
	}
	return st
}

// nodeVerdict is the driver's output for one site.
type nodeVerdict struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	Score      int    `json:"score"`
	Grade      string `json:"grade"`
	StatusCode int    `json:"statusCode"`
	Tests      []struct {
		Name          string `json:"name"`
		Result        string `json:"result"`
		Pass          bool   `json:"pass"`
		ScoreModifier int    `json:"scoreModifier"`
	} `json:"tests"`
}

func TestCrossCheckWithTheRealObservatory(t *testing.T) {
	dir := observatoryDir(t)
	compareWithObservatory(t, dir, sites(), localcatest.New(t), localcatest.New(t))
}

// compareWithObservatory starts every site, scans them all with the real
// Observatory (one node process) and with Analyze over our own fetch, and
// compares every test result, pass flag, modifier, the score and the
// grade. untrusted issues the certificates of badCert sites.
func compareWithObservatory(t *testing.T, dir string, all []site, trusted, untrusted *localca.CA) {
	t.Helper()
	var running []*started
	var args []string
	for _, s := range all {
		st := startSite(t, s, trusted, untrusted)
		running = append(running, st)
		args = append(args, fmt.Sprintf("localhost:%d:%d", st.ports.http, st.ports.https))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("crosscheck", "driver.mjs")}, args...)...)
	cmd.Env = append(os.Environ(),
		"OBSERVATORY_DIR="+dir,
		"NODE_EXTRA_CA_CERTS="+trusted.RootFile(),
		// Our servers listen on 127.0.0.1 only.
		"NODE_OPTIONS=--dns-result-order=ipv4first",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node driver: %v\n%s", err, stderr.String())
	}
	var verdicts []nodeVerdict
	if err := json.Unmarshal(out, &verdicts); err != nil {
		t.Fatalf("node driver output: %v\n%s", err, out)
	}
	if len(verdicts) != len(running) {
		t.Fatalf("node driver returned %d verdicts for %d sites", len(verdicts), len(running))
	}

	for i, st := range running {
		want := verdicts[i]
		t.Run(st.name, func(t *testing.T) {
			if want.Error == "exception" {
				t.Fatalf("the Observatory threw: %s", want.Message)
			}
			in := fetch(t, ctx, "localhost", st.ports, trusted.Pool())
			got := Analyze(in)
			switch want.Error {
			case "site-down":
				if !errors.Is(got.Err, ErrSiteDown) {
					t.Fatalf("Observatory: site down; Analyze: err %v", got.Err)
				}
				return
			case "unexpected-status":
				var se *UnexpectedStatusError
				if !errors.As(got.Err, &se) || se.Status != want.StatusCode {
					t.Fatalf("Observatory: unexpected status %d; Analyze: err %v", want.StatusCode, got.Err)
				}
				return
			}
			if got.Err != nil {
				t.Fatalf("Analyze: %v; the Observatory scored %d", got.Err, want.Score)
			}
			if len(got.Tests) != len(want.Tests) {
				t.Fatalf("got %d tests, want %d", len(got.Tests), len(want.Tests))
			}
			for j, w := range want.Tests {
				g := got.Tests[j]
				if g.Name != w.Name || g.Result != w.Result || g.Pass != w.Pass || g.ScoreModifier != w.ScoreModifier {
					t.Errorf("test %d: got %s=%s pass=%v %+d; the Observatory %s=%s pass=%v %+d",
						j, g.Name, g.Result, g.Pass, g.ScoreModifier, w.Name, w.Result, w.Pass, w.ScoreModifier)
				}
			}
			defer func() {
				if t.Failed() && st.desc != "" {
					t.Logf("site: %s", st.desc)
				}
			}()
			if got.Score != want.Score || got.Grade != want.Grade || got.StatusCode != want.StatusCode {
				t.Errorf("got score %d %s (status %d); the Observatory %d %s (status %d)",
					got.Score, got.Grade, got.StatusCode, want.Score, want.Grade, want.StatusCode)
			}
		})
	}
	seen := map[string]bool{}
	for _, v := range verdicts {
		seen[v.Error] = v.Error != ""
		for _, tt := range v.Tests {
			seen[tt.Result] = true
		}
	}
	var missed []string
	for r := range scoreTable {
		if !seen[r] {
			missed = append(missed, r)
		}
	}
	slices.Sort(missed)
	t.Logf("%d sites; result codes never reached: %q", len(all), missed)
}

// fetch builds an Input the way the Input documentation says, with a
// minimal client: it is the reference a production fetcher must match.
func fetch(t *testing.T, ctx context.Context, host string, p ports, pool *x509.CertPool) Input {
	t.Helper()
	in := Input{Hostname: host}
	var httpJar, httpsJar *Jar
	in.HTTP, httpJar = session(ctx, fmt.Sprintf("http://%s:%d/", host, p.http), pool)
	in.HTTPS, httpsJar = session(ctx, fmt.Sprintf("https://%s:%d/", host, p.https), pool)
	s := in.Analysed()
	if s == nil {
		return in
	}
	// The follow-up client verifies certificates, and has no cookie jar,
	// unless the session went through the unverified retry: then it
	// shares the session's jar, on https:// requests only.
	var jar *Jar
	if !s.Verified {
		jar = httpsJar
		if s == &in.HTTP {
			jar = httpJar
		}
	}
	in.RobotsChain, in.Robots = followUpChain(ctx, pool, jar, http.MethodGet, in.RobotsURL(), http.Header{"Accept": {RobotsAccept}})
	in.CORSChain, in.CORS = followUpChain(ctx, pool, jar, http.MethodOptions, in.CORSURL(), http.Header{
		"Accept":                        {Accept},
		"Access-Control-Request-Method": {"GET"},
		"Origin":                        {CORSOrigin},
	})
	return in
}

// followUpChain follows redirects as follow-redirects does (any 3xx with a
// Location, at most 10, 303 turns the method into GET) and returns every
// response and the final one (nil when a request failed).
func followUpChain(ctx context.Context, pool *x509.CertPool, jar *Jar, method, u string, h http.Header) ([]*Response, *Response) {
	rt := transport(pool, jar != nil)
	defer rt.CloseIdleConnections()
	var chain []*Response
	for i := 0; ; i++ {
		var j *Jar
		if strings.HasPrefix(u, "https:") {
			j = jar
		}
		r, err := do(ctx, rt, j, method, u, h)
		if err != nil {
			return chain, nil
		}
		chain = append(chain, r)
		loc := r.Header.Get("Location")
		if r.Status < 300 || r.Status > 399 || loc == "" {
			return chain, r
		}
		if i >= MaxRedirects {
			return chain, nil
		}
		base, _ := url.Parse(u)
		next, err := resolveURL(base, loc)
		if err != nil {
			return chain, nil
		}
		if r.Status == http.StatusSeeOther && method != http.MethodHead {
			method = http.MethodGet
		}
		u = next.String()
	}
}

// transport is an HTTP/1.1 transport, as Node's, verifying certificates
// against pool unless insecure.
func transport(pool *x509.CertPool, insecure bool) *http.Transport {
	return &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, InsecureSkipVerify: insecure},
		DialContext:     (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
}

// do sends one request (no redirects followed), with the cookies of jar
// when it is not nil, and stores the response's cookies in it.
func do(ctx context.Context, rt http.RoundTripper, jar *Jar, method, u string, h http.Header) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", UserAgent)
	if jar != nil {
		c, ok := jar.Request(u, time.Now())
		if !ok {
			return nil, errors.New("the cookie agent fails this request")
		}
		if c != "" {
			req.Header.Set("Cookie", c)
		}
	}
	// The transport's RoundTrip, not http.Client: the client fails on a
	// Location it cannot parse even when told not to follow it, where the
	// Observatory follows it.
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if jar != nil {
		jar.Response(u, resp.Header.Values("Set-Cookie"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	if err != nil {
		return nil, err
	}
	return &Response{URL: u, Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

func isCertError(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
		hn  x509.HostnameError
		cve *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) || errors.As(err, &cve)
}

// session runs one page session; after a certificate error it starts over
// without verification, with the same cookie jar, as the Observatory does.
func session(ctx context.Context, start string, pool *x509.CertPool) (Session, *Jar) {
	s := Session{Start: start, Verified: true}
	jar := new(Jar)
	chain, err := runChain(ctx, start, pool, jar, false)
	if err != nil && isCertError(err) {
		s.Verified = false
		chain, err = runChain(ctx, start, pool, jar, true)
	}
	s.Chain = chain
	s.Failed = err != nil
	return s, jar
}

func runChain(ctx context.Context, start string, pool *x509.CertPool, jar *Jar, insecure bool) ([]*Response, error) {
	rt := transport(pool, insecure)
	defer rt.CloseIdleConnections()
	var chain []*Response
	u := start
	for redirects := 0; ; redirects++ {
		resp, err := do(ctx, rt, jar, http.MethodGet, u, http.Header{"Accept": {Accept}})
		if err != nil {
			return chain, err
		}
		chain = append(chain, resp)
		next, follow, err := NextURL(u, resp, redirects)
		if err != nil {
			return chain, err
		}
		if !follow {
			return chain, nil
		}
		u = next
	}
}
