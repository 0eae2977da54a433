package httpsguard

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// serve starts a real server, plain or TLS, running h behind a Guard for p,
// and returns it with a client that trusts its certificate and does not
// follow redirects.
func serve(t *testing.T, p Policy, h http.Handler, useTLS bool) (*httptest.Server, *http.Client) {
	t.Helper()
	g, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(g.Handler(h))
	} else {
		srv = httptest.NewServer(g.Handler(h))
	}
	t.Cleanup(srv.Close)
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return srv, &c
}

// request is one request a test case sends.
type request struct {
	method string // default GET
	path   string // default "/"
	host   string // Host header; default the server's address
	header http.Header
}

func send(t *testing.T, srv *httptest.Server, c *http.Client, rq request) *http.Response {
	t.Helper()
	method, path := rq.method, rq.path
	if method == "" {
		method = http.MethodGet
	}
	if path == "" {
		path = "/"
	}
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("a=1")
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.host != "" {
		req.Host = rq.host
	}
	for k, vs := range rq.header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

// absent marks a header that must not be in the response.
const absent = "<absent>"

func TestGuardOverRealServers(t *testing.T) {
	defaults, err := PolicyFromLookup(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	hsts := Policy{HSTSSeconds: 63072000, HSTSIncludeSubdomains: true, HSTSPreload: true}
	redirect := Policy{SSLRedirect: true, HSTSSeconds: 3600, RedirectExempt: []string{"^health$", "^api/hooks/"}}
	hostTmpl := "HOST" // replaced by the server's host:port

	cases := []struct {
		name    string
		policy  Policy
		handler http.Handler
		tls     []bool // which servers the case runs on; default both
		req     request
		status  int
		headers map[string]string // value, or absent
		ran     bool              // whether the handler must have run
	}{
		{
			name: "zero policy adds nothing", policy: Policy{},
			status: 200, ran: true,
			headers: map[string]string{hdrHSTS: absent, hdrNosniff: absent, hdrFrameOptions: absent, hdrReferrerPolicy: absent, hdrCOOP: absent},
		},
		{
			name: "Django defaults", policy: defaults,
			status: 200, ran: true,
			headers: map[string]string{hdrNosniff: "nosniff", hdrFrameOptions: "DENY", hdrReferrerPolicy: "same-origin", hdrCOOP: "same-origin", hdrHSTS: absent, hdrCSP: absent},
		},
		{
			name: "HSTS on TLS", policy: hsts, tls: []bool{true},
			status: 200, ran: true,
			headers: map[string]string{hdrHSTS: "max-age=63072000; includeSubDomains; preload"},
		},
		{
			name: "no HSTS on plain HTTP", policy: hsts, tls: []bool{false},
			status: 200, ran: true,
			headers: map[string]string{hdrHSTS: absent},
		},
		{
			name: "HSTS set by the handler wins", policy: hsts, tls: []bool{true},
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(hdrHSTS, "max-age=60")
			}),
			status: 200, ran: true,
			headers: map[string]string{hdrHSTS: "max-age=60"},
		},
		{
			name: "GET redirected with 301, query kept", policy: redirect, tls: []bool{false},
			req:     request{path: "/a/b?x=1&y=%20z"},
			status:  301,
			headers: map[string]string{"Location": "https://" + hostTmpl + "/a/b?x=1&y=%20z", hdrHSTS: absent},
		},
		{
			name: "HEAD redirected with 301", policy: redirect, tls: []bool{false},
			req:    request{method: http.MethodHead, path: "/x"},
			status: 301, headers: map[string]string{"Location": "https://" + hostTmpl + "/x"},
		},
		{
			name: "POST redirected with 308", policy: redirect, tls: []bool{false},
			req:    request{method: http.MethodPost, path: "/form"},
			status: 308, headers: map[string]string{"Location": "https://" + hostTmpl + "/form"},
		},
		{
			name: "DELETE redirected with 308", policy: redirect, tls: []bool{false},
			req:    request{method: http.MethodDelete, path: "/item/1"},
			status: 308, headers: map[string]string{"Location": "https://" + hostTmpl + "/item/1"},
		},
		{
			name: "secure request not redirected", policy: redirect, tls: []bool{true},
			status: 200, ran: true, headers: map[string]string{hdrHSTS: "max-age=3600"},
		},
		{
			name: "exempt path served over HTTP", policy: redirect, tls: []bool{false},
			req:    request{path: "/health"},
			status: 200, ran: true,
		},
		{
			name: "exempt prefix served over HTTP", policy: redirect, tls: []bool{false},
			req:    request{path: "/api/hooks/github"},
			status: 200, ran: true,
		},
		{
			name: "exemption matches the path without its leading slashes", policy: redirect, tls: []bool{false},
			req:    request{path: "//health"},
			status: 200, ran: true,
		},
		{
			name: "near miss of an exemption is redirected", policy: redirect, tls: []bool{false},
			req:    request{path: "/healthz"},
			status: 301,
		},
		{
			name: "SSLHost replaces the request host", policy: Policy{SSLRedirect: true, SSLHost: "secure.example.com:8443"}, tls: []bool{false},
			req:    request{path: "/p?q"},
			status: 301, headers: map[string]string{"Location": "https://secure.example.com:8443/p?q"},
		},
		{
			name: "redirect never echoes an invalid Host", policy: Policy{SSLRedirect: true}, tls: []bool{false},
			req:    request{host: "evil.com,good.com"},
			status: 400, headers: map[string]string{"Location": absent},
		},
		{
			name: "redirect refuses a Host with sub-delims", policy: Policy{SSLRedirect: true}, tls: []bool{false},
			req:    request{host: "evil.com;x=1"},
			status: 400,
		},
		{
			name: "redirect keeps a valid Host and port", policy: Policy{SSLRedirect: true}, tls: []bool{false},
			req:    request{host: "Shop.Example.COM:8080", path: "/"},
			status: 301, headers: map[string]string{"Location": "https://Shop.Example.COM:8080/"},
		},
		{
			name: "allowed host", policy: Policy{AllowedHosts: []string{"example.com"}},
			req:    request{host: "example.com"},
			status: 200, ran: true,
		},
		{
			name: "allowed host: port, case and trailing dot ignored", policy: Policy{AllowedHosts: []string{"example.com"}},
			req:    request{host: "EXAMPLE.com.:8443"},
			status: 200, ran: true,
		},
		{
			name: "disallowed host gets 400 before the app runs", policy: Policy{AllowedHosts: []string{"example.com"}, ContentTypeNosniff: true},
			req:    request{host: "evil.example.net"},
			status: 400, headers: map[string]string{hdrNosniff: "nosniff"},
		},
		{
			name: "domain pattern matches a subdomain", policy: Policy{AllowedHosts: []string{".example.com"}},
			req:    request{host: "a.b.example.com"},
			status: 200, ran: true,
		},
		{
			name: "domain pattern is not a suffix match", policy: Policy{AllowedHosts: []string{".example.com"}},
			req:    request{host: "badexample.com"},
			status: 400,
		},
		{
			name: "IPv6 literal compared by address", policy: Policy{AllowedHosts: []string{"[::1]"}},
			req:    request{host: "[0:0::1]:443"},
			status: 200, ran: true,
		},
		{
			name: "disallowed host is refused before the redirect", policy: Policy{SSLRedirect: true, AllowedHosts: []string{"example.com"}}, tls: []bool{false},
			req:    request{host: "evil.com"},
			status: 400, headers: map[string]string{"Location": absent},
		},
		{
			name: "redirect to an allowed host", policy: Policy{SSLRedirect: true, AllowedHosts: []string{".example.com"}}, tls: []bool{false},
			req:    request{host: "www.example.com"},
			status: 301, headers: map[string]string{"Location": "https://www.example.com/"},
		},
		{
			name: "headers the handler set win", policy: defaults,
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(hdrFrameOptions, "SAMEORIGIN")
				w.Header().Set(hdrReferrerPolicy, "no-referrer")
				w.WriteHeader(http.StatusTeapot)
			}),
			status: http.StatusTeapot, ran: true,
			headers: map[string]string{hdrFrameOptions: "SAMEORIGIN", hdrReferrerPolicy: "no-referrer", hdrNosniff: "nosniff"},
		},
		{
			name: "a nil header suppresses the guard's", policy: Policy{ContentSecurityPolicy: "default-src 'self'", ContentTypeNosniff: true},
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()[hdrCSP] = nil
			}),
			status: 200, ran: true, headers: map[string]string{hdrCSP: absent, hdrNosniff: "nosniff"},
		},
		{
			name: "ExemptFrameOptions", policy: defaults,
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !ExemptFrameOptions(w) {
					panic("no guard found")
				}
				_, _ = io.WriteString(w, "widget")
			}),
			status: 200, ran: true, headers: map[string]string{hdrFrameOptions: absent, hdrNosniff: "nosniff"},
		},
		{
			name: "FrameOptionsExempt through another middleware", policy: defaults,
			handler: unwrappingMiddleware(FrameOptionsExempt(okHandler)),
			status:  200, ran: true, headers: map[string]string{hdrFrameOptions: absent},
		},
		{
			name: "static CSP and Permissions-Policy", policy: Policy{ContentSecurityPolicy: "default-src 'self'", PermissionsPolicy: "camera=()"},
			status: 200, ran: true, headers: map[string]string{hdrCSP: "default-src 'self'", hdrPermissionsPolicy: "camera=()"},
		},
		{
			name: "report-only CSP alone", policy: Policy{ContentSecurityPolicyReportOnly: "default-src 'self'; report-uri /csp"},
			status: 200, ran: true, headers: map[string]string{hdrCSPReportOnly: "default-src 'self'; report-uri /csp", hdrCSP: absent},
		},
		{
			name: "enforced and report-only CSP together", policy: Policy{ContentSecurityPolicy: "default-src 'self'", ContentSecurityPolicyReportOnly: " default-src 'none'; report-to csp "},
			status: 200, ran: true, headers: map[string]string{hdrCSP: "default-src 'self'", hdrCSPReportOnly: "default-src 'none'; report-to csp"},
		},
		{
			name: "report-only CSP set by the handler wins", policy: Policy{ContentSecurityPolicy: "default-src 'self'", ContentSecurityPolicyReportOnly: "default-src 'none'; report-uri /csp"},
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(hdrCSPReportOnly, "img-src 'none'; report-uri /img")
			}),
			status: 200, ran: true, headers: map[string]string{hdrCSP: "default-src 'self'", hdrCSPReportOnly: "img-src 'none'; report-uri /img"},
		},
		{
			name: "a nil report-only header suppresses the guard's", policy: Policy{ContentSecurityPolicy: "default-src 'self'", ContentSecurityPolicyReportOnly: "default-src 'none'; report-uri /csp"},
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()[hdrCSPReportOnly] = nil
			}),
			status: 200, ran: true, headers: map[string]string{hdrCSP: "default-src 'self'", hdrCSPReportOnly: absent},
		},
		{
			name: "report-only CSP on the redirect", policy: Policy{SSLRedirect: true, ContentSecurityPolicyReportOnly: "default-src 'none'; report-uri /csp"}, tls: []bool{false},
			status: 301, headers: map[string]string{hdrCSPReportOnly: "default-src 'none'; report-uri /csp"},
		},
		{
			name: "report-only CSP on a handler with a large header map", policy: Policy{ContentSecurityPolicyReportOnly: "default-src 'none'; report-uri /csp"},
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for i := range 10 {
					w.Header().Set("X-Filler-"+strconv.Itoa(i), "x")
				}
			}),
			status: 200, ran: true, headers: map[string]string{hdrCSPReportOnly: "default-src 'none'; report-uri /csp"},
		},
		{
			name: "Development: no redirect, no HSTS, headers kept", policy: Policy{Development: true, SSLRedirect: true, HSTSSeconds: 3600, FrameOptions: "DENY", SecureCookies: []string{"*"}},
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "x"})
			}),
			status: 200, ran: true, headers: map[string]string{hdrHSTS: absent, hdrFrameOptions: "DENY", "Set-Cookie": "sessionid=x"},
		},
		{
			name: "Development still enforces AllowedHosts", policy: Policy{Development: true, AllowedHosts: []string{"localhost"}},
			req:    request{host: "evil.test"},
			status: 400,
		},
		{
			name: "handler that writes nothing still gets headers", policy: Policy{FrameOptions: "DENY", HSTSSeconds: 60}, tls: []bool{true},
			handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
			status:  200, ran: true, headers: map[string]string{hdrFrameOptions: "DENY", hdrHSTS: "max-age=60"},
		},
		{
			name: "error responses get headers", policy: Policy{FrameOptions: "DENY"},
			handler: http.NotFoundHandler(),
			status:  404, ran: true, headers: map[string]string{hdrFrameOptions: "DENY"},
		},
	}
	for _, tc := range cases {
		modes := tc.tls
		if modes == nil {
			modes = []bool{false, true}
		}
		for _, useTLS := range modes {
			name := tc.name + map[bool]string{false: " (http)", true: " (https)"}[useTLS]
			t.Run(name, func(t *testing.T) {
				var ran atomic.Bool
				h := tc.handler
				if h == nil {
					h = okHandler
				}
				srv, c := serve(t, tc.policy, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ran.Store(true)
					h.ServeHTTP(w, r)
				}), useTLS)
				resp := send(t, srv, c, tc.req)
				if resp.StatusCode != tc.status {
					t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
				}
				if ran.Load() != tc.ran {
					t.Errorf("handler ran = %v, want %v", ran.Load(), tc.ran)
				}
				for k, want := range tc.headers {
					want = strings.ReplaceAll(want, hostTmpl, srv.Listener.Addr().String())
					got, ok := resp.Header[k]
					switch {
					case want == absent && ok:
						t.Errorf("%s = %q, want absent", k, got)
					case want != absent && (len(got) != 1 || got[0] != want):
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
			})
		}
	}
}

// unwrappingMiddleware stands for any well-behaved middleware that wraps the
// ResponseWriter and exposes Unwrap.
func unwrappingMiddleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&wrapped{w}, r)
	})
}

type wrapped struct{ http.ResponseWriter }

func (w *wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestRedirectHostValidation drives the guard directly with Host values the
// net/http server would already refuse, to prove the guard does not rely on
// it (another server or a proxy in front may be more lenient).
func TestRedirectHostValidation(t *testing.T) {
	g, err := New(Policy{SSLRedirect: true})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(okHandler)
	for _, host := range []string{
		"evil.com/x", "user@good.com", "good.com@evil.com", "a\r\nSet-Cookie: x=1", "good.com\n", "",
		"good.com:", "good.com:99999", "good.com:8a", "[::1", "[fe80::1%25eth0]", "[1.2.3.4]", "good..com",
		".good.com", "http://good.com", "góód.com", "good com", strings.Repeat("a", 64) + ".com",
	} {
		r := httptest.NewRequest(http.MethodGet, "http://placeholder/x", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
			t.Errorf("Host %q: status %d, Location %q; want 400 and no Location", host, w.Code, w.Header().Get("Location"))
		}
	}
	for host, want := range map[string]string{
		"good.com":         "https://good.com/x",
		"good.com.":        "https://good.com./x",
		"127.0.0.1:8080":   "https://127.0.0.1:8080/x",
		"[::1]:8443":       "https://[::1]:8443/x",
		"[::ffff:1.2.3.4]": "https://[::ffff:1.2.3.4]/x",
		"my_app:8000":      "https://my_app:8000/x",
	} {
		r := httptest.NewRequest(http.MethodGet, "http://placeholder/x", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != want {
			t.Errorf("Host %q: status %d, Location %q; want 301 to %q", host, w.Code, w.Header().Get("Location"), want)
		}
	}
}

func TestNonce(t *testing.T) {
	var seen []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := Nonce(r.Context())
		seen = append(seen, n)
		_, _ = io.WriteString(w, `<script nonce="`+n+`"></script>`)
	})
	p := Policy{ContentSecurityPolicy: "script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'nonce-{nonce}'"}
	srv, c := serve(t, p, h, true)
	var csps []string
	for range 3 {
		resp := send(t, srv, c, request{})
		csps = append(csps, resp.Header.Get(hdrCSP))
	}
	for i, n := range seen {
		if raw, err := base64.RawURLEncoding.DecodeString(n); err != nil || len(raw) != 16 {
			t.Fatalf("nonce %q: want 128 bits in URL-safe base64 (%v)", n, err)
		}
		want := "script-src 'nonce-" + n + "' 'strict-dynamic'; style-src 'nonce-" + n + "'"
		if csps[i] != want {
			t.Errorf("CSP = %q, want %q", csps[i], want)
		}
		if i > 0 && n == seen[i-1] {
			t.Errorf("nonce repeated: %q", n)
		}
	}
	// Outside a guard, or without a placeholder, there is no nonce.
	if n := Nonce(t.Context()); n != "" {
		t.Errorf("Nonce outside a guard = %q", n)
	}
}

// TestNonceReportOnly checks that both CSP headers carry the nonce the
// handler reads, whichever of them has the placeholder: one nonce attribute
// in the page has to satisfy both policies.
func TestNonceReportOnly(t *testing.T) {
	const (
		enforce = "script-src 'nonce-{nonce}'; object-src 'none'"
		trial   = "script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'nonce-{nonce}'; report-uri /csp"
	)
	fill := func(v, nonce string) string { return strings.ReplaceAll(v, NoncePlaceholder, nonce) }
	for _, tc := range []struct {
		name       string
		policy     Policy
		csp, cspRO string // with {nonce} for the expected nonce, or absent
		wantNonce  bool
	}{
		{"both carry a nonce", Policy{ContentSecurityPolicy: enforce, ContentSecurityPolicyReportOnly: trial}, enforce, trial, true},
		{"only the report-only one", Policy{ContentSecurityPolicy: "default-src 'self'", ContentSecurityPolicyReportOnly: trial}, "default-src 'self'", trial, true},
		{"only the enforced one", Policy{ContentSecurityPolicy: enforce, ContentSecurityPolicyReportOnly: "default-src 'none'; report-uri /csp"}, enforce, "default-src 'none'; report-uri /csp", true},
		{"report-only without enforced", Policy{ContentSecurityPolicyReportOnly: trial}, absent, trial, true},
		{"no placeholder, no nonce", Policy{ContentSecurityPolicy: "default-src 'self'", ContentSecurityPolicyReportOnly: "default-src 'none'; report-uri /csp"}, "default-src 'self'", "default-src 'none'; report-uri /csp", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nonces []string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nonces = append(nonces, Nonce(r.Context()))
			})
			srv, c := serve(t, tc.policy, h, true)
			for i := range 2 {
				resp := send(t, srv, c, request{})
				n := nonces[i]
				if tc.wantNonce != (n != "") {
					t.Fatalf("nonce %q, want one: %v", n, tc.wantNonce)
				}
				if i > 0 && n != "" && n == nonces[0] {
					t.Errorf("nonce repeated: %q", n)
				}
				for name, want := range map[string]string{hdrCSP: tc.csp, hdrCSPReportOnly: tc.cspRO} {
					got, ok := resp.Header[name]
					switch {
					case want == absent && ok:
						t.Errorf("%s = %q, want absent", name, got)
					case want != absent && (len(got) != 1 || got[0] != fill(want, n)):
						t.Errorf("%s = %q, want %q", name, got, fill(want, n))
					}
				}
			}
		})
	}
}

// TestNewNonceCSP checks the values built for one request: the nonce in
// every placeholder, and header value slices that cannot reach each other.
func TestNewNonceCSP(t *testing.T) {
	split := func(v string) []string {
		if v == "" {
			return nil
		}
		return strings.Split(v, NoncePlaceholder)
	}
	for _, tc := range []struct{ csp, cspRO string }{
		{"a {nonce} b {nonce}", "c {nonce}"},
		{"{nonce}", ""},
		{"", "{nonce}x"},
		{"static", "{nonce}{nonce}"},
		{"x{nonce}", "static"},
	} {
		nonce, csp, cspRO := newNonceCSP(split(tc.csp), split(tc.cspRO))
		if len(nonce) != 22 {
			t.Fatalf("%q, %q: nonce %q", tc.csp, tc.cspRO, nonce)
		}
		for _, c := range []struct {
			in  string
			got []string
		}{{tc.csp, csp}, {tc.cspRO, cspRO}} {
			if !strings.Contains(c.in, NoncePlaceholder) {
				if c.got != nil {
					t.Errorf("%q: got %q, want nil (a fixed header)", c.in, c.got)
				}
				continue
			}
			if want := strings.ReplaceAll(c.in, NoncePlaceholder, nonce); len(c.got) != 1 || cap(c.got) != 1 || c.got[0] != want {
				t.Errorf("%q: got %q (cap %d), want [%q] with capacity 1", c.in, c.got, cap(c.got), want)
			}
		}
		if csp != nil && cspRO != nil {
			before := cspRO[0]
			_ = append(csp, "appended") // a handler adding a value must not reach the other header
			if cspRO[0] != before {
				t.Errorf("appending to the CSP changed the report-only value to %q", cspRO[0])
			}
		}
	}
}

func TestNewRejectsInvalidValues(t *testing.T) {
	cases := []struct {
		name  string
		p     Policy
		field string
		value string
	}{
		{"bad regexp", Policy{RedirectExempt: []string{"(unclosed"}}, "RedirectExempt", "(unclosed"},
		{"negative seconds", Policy{HSTSSeconds: -1}, "HSTSSeconds", "-1"},
		{"malformed CIDR", Policy{TrustedProxies: []string{"10.0.0.0/33"}}, "TrustedProxies", "10.0.0.0/33"},
		{"not an address", Policy{TrustedProxies: []string{"proxy.internal"}}, "TrustedProxies", "proxy.internal"},
		{"CR/LF in CSP", Policy{ContentSecurityPolicy: "default-src 'self'\r\nSet-Cookie: a=b"}, "ContentSecurityPolicy", "default-src 'self'\r\nSet-Cookie: a=b"},
		{"CR in report-only CSP", Policy{ContentSecurityPolicyReportOnly: "default-src 'self'\rX: y"}, "ContentSecurityPolicyReportOnly", "default-src 'self'\rX: y"},
		{"LF in Permissions-Policy", Policy{PermissionsPolicy: "camera=()\n"}, "PermissionsPolicy", "camera=()\n"},
		{"unknown frame option", Policy{FrameOptions: "ALLOW-FROM https://x"}, "FrameOptions", "ALLOW-FROM https://x"},
		{"unknown referrer policy", Policy{ReferrerPolicy: "same-origin, nope"}, "ReferrerPolicy", "same-origin, nope"},
		{"unknown COOP", Policy{CrossOriginOpenerPolicy: "isolated"}, "CrossOriginOpenerPolicy", "isolated"},
		{"SSLHost with scheme", Policy{SSLHost: "https://example.com"}, "SSLHost", "https://example.com"},
		{"SSLHost with path", Policy{SSLHost: "example.com/app"}, "SSLHost", "example.com/app"},
		{"SSLHost with userinfo", Policy{SSLHost: "u@example.com"}, "SSLHost", "u@example.com"},
		{"proxy header without value", Policy{ProxySSLHeader: "X-Forwarded-Proto"}, "ProxySSLValue", ""},
		{"proxy value without header", Policy{ProxySSLValue: "https"}, "ProxySSLValue", "https"},
		{"proxy header not a token", Policy{ProxySSLHeader: "X Forwarded", ProxySSLValue: "https"}, "ProxySSLHeader", "X Forwarded"},
		{"proxy value with CR", Policy{ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https\r"}, "ProxySSLValue", "https\r"},
		{"bad cookie name", Policy{SecureCookies: []string{"a;b"}}, "SecureCookies", "a;b"},
		{"bad SameSite", Policy{CookieSameSite: "lenient"}, "CookieSameSite", "lenient"},
		{"bad per-cookie SameSite", Policy{SameSiteCookies: map[string]string{"sessionid": "lenient"}}, "SameSiteCookies", "sessionid=lenient"},
		{"bad per-cookie name", Policy{SameSiteCookies: map[string]string{"a b": "Lax"}}, "SameSiteCookies", "a b"},
		{"\"*\" disagreeing with CookieSameSite", Policy{CookieSameSite: "Lax", SameSiteCookies: map[string]string{"*": "Strict"}}, "SameSiteCookies", "*=Strict"},
		{"wildcard host", Policy{AllowedHosts: []string{"*.example.com"}}, "AllowedHosts", "*.example.com"},
		{"host with port", Policy{AllowedHosts: []string{"example.com:443"}}, "AllowedHosts", "example.com:443"},
		{"host with scheme", Policy{AllowedHosts: []string{"https://example.com"}}, "AllowedHosts", "https://example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := New(tc.p)
			if err == nil || g != nil {
				t.Fatalf("New accepted %+v", tc.p)
			}
			msg := err.Error()
			if !strings.Contains(msg, "Policy."+tc.field) || !strings.Contains(msg, strconv.Quote(tc.value)) {
				t.Errorf("error %q does not name field %s and value %q", msg, tc.field, tc.value)
			}
		})
	}
	if _, err := New(Policy{HSTSSeconds: -1, FrameOptions: "x"}); err == nil || strings.Count(err.Error(), "Policy.") != 2 {
		t.Errorf("two invalid fields: error %v should name both", err)
	}
}
