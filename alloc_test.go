package httpsguard

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a ResponseWriter that reuses its header map, so that only
// the guard's own allocations are counted.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *discardWriter) reset() {
	clear(w.h)
	w.code = 0
}

// TestAllocations pins the allocation budget the docs promise: none on a
// plain HTTPS GET, one when cookies are rewritten. The race detector makes
// sync.Pool drop items, so it skips under -race; .ci/run runs it without.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	p := Policy{
		SSLRedirect: true, HSTSSeconds: 63072000, HSTSIncludeSubdomains: true, HSTSPreload: true,
		ContentTypeNosniff: true, FrameOptions: "DENY", ReferrerPolicy: "same-origin",
		CrossOriginOpenerPolicy: "same-origin", ContentSecurityPolicy: "default-src 'self'",
		ContentSecurityPolicyReportOnly: "default-src 'none'; report-uri /csp",
		PermissionsPolicy:               "camera=()", AllowedHosts: []string{"example.com", ".example.org"},
		ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", TrustedProxies: []string{"10.0.0.0/8"},
		SecureCookies: []string{"*"}, HTTPOnlyCookies: []string{"sessionid"}, CookieSameSite: "Lax",
	}
	g, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	write := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(nil)
	})
	get := g.Handler(write)
	fwd := p
	fwd.UseXForwardedHost = true
	gf, err := New(fwd)
	if err != nil {
		t.Fatal(err)
	}
	forwarded := gf.Handler(write)
	// A nonce costs the same whether one CSP or both carry it: the two
	// values share one string.
	nonceOne, nonceBoth := p, p
	nonceOne.ContentSecurityPolicy = "script-src 'nonce-{nonce}'"
	nonceBoth.ContentSecurityPolicy = "script-src 'nonce-{nonce}'"
	nonceBoth.ContentSecurityPolicyReportOnly = "script-src 'nonce-{nonce}' 'strict-dynamic'; report-uri /csp"
	gn1, err1 := New(nonceOne)
	gn2, err2 := New(nonceBoth)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// The cookie lines are made once: the handler's own allocations are
	// not the guard's.
	cookieLines := []string{"sessionid=abc; Path=/", "csrftoken=def; Path=/"}
	cookies := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Set-Cookie"] = cookieLines
		_, _ = w.Write(nil)
	}))
	tlsReq := httptest.NewRequest(http.MethodGet, "https://www.example.org/", nil)
	tlsReq.TLS = &tls.ConnectionState{}
	proxied := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
	proxied.RemoteAddr = "10.1.2.3:4567"
	proxied.Header.Set("X-Forwarded-Proto", "https")
	proxiedHost := httptest.NewRequest(http.MethodGet, "http://app.internal:8000/", nil)
	proxiedHost.RemoteAddr = "10.1.2.3:4567"
	proxiedHost.Header.Set("X-Forwarded-Proto", "https")
	proxiedHost.Header.Set("X-Forwarded-Host", "evil.example, www.example.org")

	w := &discardWriter{h: http.Header{}}
	for _, tc := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		max  float64
	}{
		{"HTTPS GET", get, tlsReq, 0},
		{"GET via trusted proxy", get, proxied, 0},
		{"two cookies rewritten", cookies, tlsReq, 1},
		{"X-Forwarded-Host from a trusted proxy", forwarded, proxiedHost, 0},
		// The nonce, the header values, the context and the request copy.
		{"nonce in the CSP", gn1.Handler(write), tlsReq, 4},
		{"nonce in both CSPs", gn2.Handler(write), tlsReq, 4},
	} {
		n := testing.AllocsPerRun(200, func() {
			cookieLines[0], cookieLines[1] = "sessionid=abc; Path=/", "csrftoken=def; Path=/"
			w.reset()
			tc.h.ServeHTTP(w, tc.r)
		})
		t.Logf("%s: %.1f allocs/op", tc.name, n)
		if n > tc.max {
			t.Errorf("%s: %.1f allocs/op, want <= %.0f", tc.name, n, tc.max)
		}
		if w.h.Get(hdrHSTS) == "" || w.code != http.StatusOK {
			t.Errorf("%s: status %d, HSTS %q; want 200 and the request seen as secure", tc.name, w.code, w.h.Get(hdrHSTS))
		}
		if w.h.Get(hdrCSPReportOnly) == "" {
			t.Errorf("%s: no %s", tc.name, hdrCSPReportOnly)
		}
	}
}
