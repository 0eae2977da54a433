package devproxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard"
)

func TestParseListenAddr(t *testing.T) {
	loop := []string{"127.0.0.1", "::1"}
	tests := []struct {
		in    string
		hosts []string
		port  string
		err   string
	}{
		{"8443", loop, "8443", ""},
		{":8443", loop, "8443", ""},
		{"localhost:8443", loop, "8443", ""},
		{"LOCALHOST:0", loop, "0", ""},
		{"127.0.0.1:8443", []string{"127.0.0.1"}, "8443", ""},
		{"[::1]:8443", []string{"::1"}, "8443", ""},
		{"0.0.0.0:8443", []string{"0.0.0.0"}, "8443", ""},
		{"[::]:8443", []string{"::"}, "8443", ""},
		{"08443", loop, "8443", ""},
		{"", nil, "", "empty"},
		{"localhost", nil, "", "not PORT"},
		{"65536", nil, "", "out of range"},
		{"example.com:8443", nil, "", "must be localhost or an IP"},
		{"127.0.0.1:http", nil, "", "not a number"},
		{"[fe80::1%eth0]:8443", nil, "", "must be localhost or an IP"},
	}
	for _, tc := range tests {
		got, err := parseListenAddr(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseListenAddr(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got.hosts, tc.hosts) || got.port != tc.port {
			t.Errorf("parseListenAddr(%q) = %+v, %v; want hosts %v port %s", tc.in, got, err, tc.hosts, tc.port)
		}
	}
}

func TestHTTPRedirectsToHTTPS(t *testing.T) {
	ts := start(t, Config{Upstream: upstream(t, http.HandlerFunc(echoHeaders))})
	httpURL := "http://" + ts.HTTPAddrs()[0].String()
	port := ts.httpsPort()
	for _, tc := range []struct {
		method, path, host, want string
	}{
		{"GET", "/a/b?c=d", "", "https://127.0.0.1:" + port + "/a/b?c=d"},
		{"POST", "/form", "localhost:8080", "https://localhost:" + port + "/form"},
		{"GET", "/", "myapp.test", "https://myapp.test:" + port + "/"},
		{"GET", "/", "[::1]:8080", "https://[::1]:" + port + "/"},
	} {
		req, _ := http.NewRequest(tc.method, httpURL+tc.path, strings.NewReader("body"))
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, _ := do(t, ts.h1, req)
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("%s %s: status %d, want 307 (temporary, keeps the method)", tc.method, tc.path, resp.StatusCode)
		}
		if got := resp.Header.Get("Location"); got != tc.want {
			t.Errorf("%s %s Host %q: Location %q, want %q", tc.method, tc.path, tc.host, got, tc.want)
		}
	}
}

func TestHTTPPassthrough(t *testing.T) {
	// An app that forces HTTPS itself, like Django with SECURE_SSL_REDIRECT
	// and SECURE_PROXY_SSL_HEADER: it only knows the port the request
	// came to.
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/open/secure" && r.Header.Get("X-Forwarded-Proto") != "https" {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		echoHeaders(w, r)
	}))
	policy := &httpsguard.Policy{SSLRedirect: true, RedirectExempt: []string{"^open"}, ContentTypeNosniff: true}
	ts := start(t, Config{Upstream: up, HTTPPassthrough: true, Policy: policy})
	httpURL := "http://" + ts.HTTPAddrs()[0].String()

	resp, body := ts.get(t, ts.h1, httpURL+"/open")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"X-Forwarded-Proto":"http"`) {
		t.Errorf("passthrough: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("policy headers missing on the passthrough listener")
	}
	// The policy's redirect and the app's own both go to the HTTPS port,
	// and are made temporary.
	for _, p := range []string{"/page?x=1", "/open/secure"} {
		resp, _ = ts.get(t, ts.h1, httpURL+p)
		want := "https://127.0.0.1:" + ts.httpsPort()
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, want+"/") {
			t.Errorf("%s: Location %q, want it on %s", p, loc, want)
		}
		if resp.StatusCode != http.StatusFound {
			t.Errorf("%s: status %d, want 302", p, resp.StatusCode)
		}
	}
}

func TestPolicyApplied(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "s"})
		w.Write([]byte("ok"))
	}))
	policy := &httpsguard.Policy{
		SSLRedirect:        true,
		HSTSSeconds:        3600,
		ContentTypeNosniff: true,
		FrameOptions:       "DENY",
		SecureCookies:      []string{"*"},
		AllowedHosts:       []string{"localhost"},
	}
	for _, keepHSTS := range []bool{false, true} {
		ts := start(t, Config{Upstream: up, Policy: policy, HSTS: keepHSTS})
		resp, body := ts.get(t, ts.h2, ts.url("localhost", "/"))
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("status %d body %q: requests over TLS must count as secure", resp.StatusCode, body)
		}
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("policy headers missing: %v", h)
		}
		if c := h.Get("Set-Cookie"); !strings.Contains(c, "Secure") {
			t.Errorf("cookie not made Secure: %q", c)
		}
		if got := h.Get("Strict-Transport-Security"); (got == "max-age=3600") != keepHSTS {
			t.Errorf("HSTS=%v: Strict-Transport-Security %q", keepHSTS, got)
		}
		resp, _ = ts.get(t, ts.h2, ts.url("127.0.0.1", "/"))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Host outside AllowedHosts: %d, want 400", resp.StatusCode)
		}
	}
	// Nor by naming an allowed host in X-Forwarded-Host: serve removes it
	// before the policy runs, and says the setting has no effect.
	fwd := &httpsguard.Policy{AllowedHosts: []string{"localhost"}, UseXForwardedHost: true, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}}
	ts := start(t, Config{Upstream: up, Policy: fwd})
	if resp, _ := ts.get(t, ts.h1, ts.url("127.0.0.1", "/"), "X-Forwarded-Host", "localhost"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("Host 127.0.0.1 with X-Forwarded-Host: localhost: %d, want 400", resp.StatusCode)
	}
	if len(ts.logs.matching(slog.LevelInfo, "USE_X_FORWARDED_HOST has no effect")) != 1 {
		t.Errorf("no note that USE_X_FORWARDED_HOST has no effect:\n%s", ts.logs.dump())
	}
	// A client cannot defeat the policy by claiming a proxy told it so.
	spoof := &httpsguard.Policy{ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", SSLRedirect: true, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}}
	ts = start(t, Config{Upstream: up, Policy: spoof, HTTPPassthrough: true})
	resp, _ := ts.get(t, ts.h1, "http://"+ts.HTTPAddrs()[0].String()+"/", "X-Forwarded-Proto", "https")
	if resp.StatusCode != http.StatusFound {
		t.Errorf("spoofed X-Forwarded-Proto over plain HTTP: %d, want the redirect to HTTPS", resp.StatusCode)
	}
}

func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		cfg  Config
		role string
	}{
		{Config{HTTPSAddr: busy.Addr().String(), HTTPAddr: Off}, "HTTPS"},
		{Config{HTTPSAddr: "127.0.0.1:0", HTTPAddr: busy.Addr().String()}, "HTTP"},
	} {
		tc.cfg.Upstream = mustUpstream(t, "8000")
		tc.cfg.CA = startCA(t)
		s, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Listen(context.Background())
		var le *ListenError
		if !errors.As(err, &le) || !le.InUse() || le.Role != tc.role || le.Addr != busy.Addr().String() {
			t.Fatalf("Listen = %v, want a ListenError for %s in use", err, busy.Addr())
		}
		if !strings.Contains(err.Error(), busy.Addr().String()+" is already in use") {
			t.Errorf("message %q", err)
		}
		// Nothing stays bound after the failure.
		if len(s.HTTPSAddrs()) != 0 {
			t.Errorf("listeners left open: %v", s.HTTPSAddrs())
		}
	}
}

func TestNewErrors(t *testing.T) {
	ca := startCA(t)
	up := mustUpstream(t, "8000")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Upstream: up}, "no local CA"},
		{Config{CA: ca}, "nothing to serve"},
		{Config{CA: ca, Upstream: up, Dir: "."}, "not both"},
		{Config{CA: ca, Upstream: up, Hosts: []string{"bad name"}}, "host name"},
		{Config{CA: ca, Upstream: up, HTTPSAddr: "x"}, "HTTPS address"},
		{Config{CA: ca, Upstream: up, HTTPAddr: "example.com:80"}, "HTTP address"},
		{Config{CA: ca, Upstream: up, Policy: &httpsguard.Policy{FrameOptions: "bogus"}}, "policy"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
}

func FuzzParseListenAddr(f *testing.F) {
	for _, s := range []string{"8443", ":8443", "localhost:8443", "127.0.0.1:0", "[::1]:8443", "0.0.0.0:1", "[::]:65535", "off", "[fe80::1%en0]:1", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := parseListenAddr(s)
		if err != nil {
			return
		}
		if len(spec.hosts) == 0 {
			t.Fatalf("parseListenAddr(%q): no hosts", s)
		}
		for _, h := range spec.hosts {
			if net.ParseIP(h) == nil {
				t.Fatalf("parseListenAddr(%q): host %q is not an IP", s, h)
			}
		}
		if n, err := strconv.Atoi(spec.port); err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != spec.port {
			t.Fatalf("parseListenAddr(%q): port %q", s, spec.port)
		}
	})
}

func TestDefaultHTTPPortLeftToTheApp(t *testing.T) {
	s, err := New(Config{Upstream: mustUpstream(t, "8080"), CA: startCA(t), HTTPSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if s.plain != nil {
		t.Error("the default HTTP listener would collide with an application on 8080")
	}
}
