// Package middleware benchmarks the httpsguard middleware against a bare
// handler and github.com/unrolled/secure configured for the same policy.
//
// Run from the bench directory:
//
//	go test ./middleware -run '^$' -bench . -benchmem -count 6 | tee out.txt
//	benchstat out.txt   # optional: golang.org/x/perf/cmd/benchstat
package middleware

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard"
	"github.com/unrolled/secure"
)

// The one policy all contenders enforce.
var policy = httpsguard.Policy{
	SSLRedirect:             true,
	HSTSSeconds:             63072000,
	HSTSIncludeSubdomains:   true,
	HSTSPreload:             true,
	ContentTypeNosniff:      true,
	FrameOptions:            "DENY",
	ReferrerPolicy:          "same-origin",
	CrossOriginOpenerPolicy: "same-origin",
	ContentSecurityPolicy:   "default-src 'self'",
	PermissionsPolicy:       "camera=(), microphone=()",
	AllowedHosts:            []string{"example.com"},
	SecureCookies:           []string{"*"},
	HTTPOnlyCookies:         []string{"sessionid"},
	CookieSameSite:          "Lax",
}

// unrolledOptions is policy in unrolled/secure's terms. It has no cookie
// rewriting, so on the cookie benchmark it does less work than httpsguard.
var unrolledOptions = secure.Options{
	SSLRedirect:             true,
	STSSeconds:              63072000,
	STSIncludeSubdomains:    true,
	STSPreload:              true,
	ContentTypeNosniff:      true,
	FrameDeny:               true,
	ReferrerPolicy:          "same-origin",
	CrossOriginOpenerPolicy: "same-origin",
	ContentSecurityPolicy:   "default-src 'self'",
	PermissionsPolicy:       "camera=(), microphone=()",
	AllowedHosts:            []string{"example.com"},
}

var body = []byte("<!doctype html><title>ok</title>")

// page is the application: it allocates nothing, so every allocation
// counted belongs to the middleware.
var page = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header()["Content-Type"] = contentType
	_, _ = w.Write(body)
})

var contentType = []string{"text/html; charset=utf-8"}

// cookieLines are reset before every request because httpsguard rewrites
// the handler's Set-Cookie values in place.
var cookieLines = make([]string, 2)

var login = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	cookieLines[0] = "sessionid=8a1f0c2e9b; Path=/; Max-Age=1209600"
	cookieLines[1] = "csrftoken=Zk3q0Vt7Ym; Path=/; Max-Age=31449600"
	h := w.Header()
	h["Set-Cookie"] = cookieLines
	h["Content-Type"] = contentType
	_, _ = w.Write(body)
})

// recorder is a ResponseWriter that reuses its header map, standing in for
// net/http's writer without adding allocations of its own.
type recorder struct {
	h    http.Header
	code int
}

func (w *recorder) Header() http.Header         { return w.h }
func (w *recorder) WriteHeader(code int)        { w.code = code }
func (w *recorder) Write(b []byte) (int, error) { return len(b), nil }

func httpsGET() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/account", nil)
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	return r
}

type contender struct {
	name string
	wrap func(http.Handler) http.Handler
}

func contenders(b testing.TB) []contender {
	g, err := httpsguard.New(policy)
	if err != nil {
		b.Fatal(err)
	}
	s := secure.New(unrolledOptions)
	return []contender{
		{"bare", func(h http.Handler) http.Handler { return h }},
		{"httpsguard", g.Handler},
		{"unrolled-secure", s.Handler},
	}
}

func bench(b *testing.B, app http.Handler) {
	for _, c := range contenders(b) {
		b.Run(c.name, func(b *testing.B) {
			h := c.wrap(app)
			r := httpsGET()
			w := &recorder{h: make(http.Header, 16)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			if w.code != 0 && w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		})
	}
}

// BenchmarkGET is an HTTPS GET of a page that sets no cookie.
func BenchmarkGET(b *testing.B) { bench(b, page) }

// BenchmarkCookies is an HTTPS GET whose response sets two cookies, which
// httpsguard rewrites (Secure, HttpOnly, SameSite) and unrolled/secure
// leaves alone.
func BenchmarkCookies(b *testing.B) { bench(b, login) }

// BenchmarkLoopbackHTTPS measures whole requests over a real TLS connection
// on loopback (keep-alive), to put the middleware's cost in proportion.
func BenchmarkLoopbackHTTPS(b *testing.B) {
	for _, c := range contenders(b) {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewUnstartedServer(c.wrap(page))
			srv.StartTLS()
			defer srv.Close()
			client := srv.Client()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/account", nil)
			req.Host = "example.com"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// TestSamePolicy makes sure the comparison is fair: both middlewares send
// the same security headers for the benchmark request.
func TestSamePolicy(t *testing.T) {
	cs := contenders(t)
	got := map[string]http.Header{}
	for _, c := range cs[1:] {
		w := &recorder{h: http.Header{}}
		c.wrap(page).ServeHTTP(w, httpsGET())
		got[c.name] = w.h
	}
	var names []string
	for k := range got["httpsguard"] {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) < 8 {
		t.Fatalf("httpsguard sent only %v", names)
	}
	for _, k := range names {
		a, b := got["httpsguard"].Get(k), got["unrolled-secure"].Get(k)
		if !strings.EqualFold(a, b) {
			t.Errorf("%s: httpsguard %q, unrolled/secure %q", k, a, b)
		}
	}
	if len(got["unrolled-secure"]) != len(got["httpsguard"]) {
		t.Errorf("header sets differ:\n%v\n%v", got["httpsguard"], got["unrolled-secure"])
	}

	// And httpsguard really rewrites the cookies in the cookie benchmark.
	w := &recorder{h: http.Header{}}
	cs[1].wrap(login).ServeHTTP(w, httpsGET())
	if c := w.h.Values("Set-Cookie"); len(c) != 2 || !strings.HasSuffix(c[0], "; Secure; HttpOnly; SameSite=Lax") || !strings.HasSuffix(c[1], "; Secure; SameSite=Lax") {
		t.Errorf("cookies: %q", c)
	}
}
