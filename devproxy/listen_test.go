package devproxy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
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
		if got := resp.Header.Get(MarkHeader); got != "dev, temporary-redirect" {
			t.Errorf("%s %s: %s %q, want the redirect marked as the server's own", tc.method, tc.path, MarkHeader, got)
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
		if got := resp.Header.Get(MarkHeader); got != "dev, temporary-redirect" {
			t.Errorf("%s: %s %q, want the permanent redirect marked as made temporary", p, MarkHeader, got)
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

// TestPortInUse checks an HTTPS address given explicitly and taken: an
// error that names the process holding it (on Linux) and suggests a port
// that is free.
func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s, err := New(Config{Upstream: mustUpstream(t, "8000"), CA: startCA(t), HTTPSAddr: busy.Addr().String(), HTTPAddr: Off})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Listen(context.Background())
	var le *ListenError
	if !errors.As(err, &le) || !le.InUse() || le.Role != "HTTPS" || le.Addr != busy.Addr().String() {
		t.Fatalf("Listen = %v, want a ListenError for %s in use", err, busy.Addr())
	}
	if !strings.Contains(err.Error(), busy.Addr().String()+" is already in use") {
		t.Errorf("message %q", err)
	}
	if runtime.GOOS == "linux" {
		if want := fmt.Sprintf("(pid %d)", os.Getpid()); !strings.Contains(le.Holder, want) || !strings.Contains(err.Error(), want) {
			t.Errorf("holder %q, message %q: want this test's process, %s", le.Holder, err, want)
		}
	}
	// The suggestion was free, and is free still (nothing else runs here).
	if le.Suggest == "" {
		t.Fatal("no free port suggested")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+le.Suggest)
	if err != nil {
		t.Errorf("suggested port %s: %v", le.Suggest, err)
	} else {
		ln.Close()
	}
	// Nothing stays bound after the failure.
	if len(s.HTTPSAddrs()) != 0 {
		t.Errorf("listeners left open: %v", s.HTTPSAddrs())
	}
}

// TestDefaultPortMovesOn checks the default HTTPS address: when its port is
// taken, the next free one is used and the log says which.
func TestDefaultPortMovesOn(t *testing.T) {
	// Two taken ports in a row: one the kernel picks, and the next (held
	// here, or by another process if it already was).
	var first int
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if first = ln.Addr().(*net.TCPAddr).Port; first < 65000 {
			break
		}
	}
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", first+1)); err == nil {
		defer ln.Close()
	}
	logs := newLogRecorder()
	s, err := New(Config{Upstream: mustUpstream(t, "8000"), CA: startCA(t), HTTPSAddr: fmt.Sprintf("127.0.0.1:%d", first), HTTPAddr: Off, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	s.httpsMoves = true // as with the default address, whose port tests cannot count on
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Listen(ctx); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer closeAll(s.httpsLns)
	got := portOf(s.HTTPSAddrs()[0])
	if n, _ := strconv.Atoi(got); n <= first+1 || n > first+1+portTries {
		t.Errorf("bound port %s, want one after %d and %d", got, first, first+1)
	}
	if !strings.HasSuffix(s.URL(), ":"+got) {
		t.Errorf("URL %s does not name port %s", s.URL(), got)
	}
	msg := logs.matching(slog.LevelInfo, "serving HTTPS on port "+got+" instead")
	if len(msg) != 1 || !strings.Contains(msg[0].msg, fmt.Sprintf("127.0.0.1:%d is in use", first)) {
		t.Errorf("want one message naming the taken port and the one chosen:\n%s", logs.dump())
	}
}

// TestHTTPPortTakenIsAWarning checks that the optional plain-HTTP listener
// never stops the server.
func TestHTTPPortTakenIsAWarning(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ts := start(t, Config{Upstream: upstream(t, http.HandlerFunc(echoHeaders)), HTTPAddr: busy.Addr().String()})
	if a := ts.HTTPAddrs(); len(a) != 0 || ts.HTTPURL() != "" {
		t.Errorf("HTTP listener %v (%q), want none", a, ts.HTTPURL())
	}
	warn := ts.logs.matching(slog.LevelWarn, busy.Addr().String()+" is already in use")
	if len(warn) != 1 || !strings.Contains(warn[0].msg, "serving HTTPS only") {
		t.Errorf("want one warning about the HTTP port:\n%s", ts.logs.dump())
	}
	if runtime.GOOS == "linux" && len(warn) == 1 && !strings.Contains(warn[0].msg, fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Errorf("the warning does not name the process holding the port: %s", warn[0].msg)
	}
	if resp, _ := ts.get(t, ts.h2, ts.url("localhost", "/")); resp.StatusCode != http.StatusOK {
		t.Errorf("HTTPS without the HTTP listener: %d", resp.StatusCode)
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

func TestParseProcNetTCP(t *testing.T) {
	// Lines as a little-endian Linux writes them.
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 457821 1 0000000000000000 100 0 0 10 0
   1: 0100007F:20FB 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 457999 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   3: garbage
`
	const table6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:20FB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 457822 1 0000000000000000 100 0 0 10 0
`
	got := parseProcNetTCP(strings.NewReader(table))
	got = append(got, parseProcNetTCP(strings.NewReader(table6))...)
	var lines []string
	for _, s := range got {
		lines = append(lines, fmt.Sprintf("%s %d uid=%s inode=%s", s.ip, s.port, s.uid, s.inode))
	}
	want := []string{"127.0.0.1 8443 uid=1000 inode=457821", "0.0.0.0 8080 uid=0 inode=12345", "::1 8443 uid=1000 inode=457822"}
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the table's addresses are in a little-endian machine's byte order")
	}
	if !slices.Equal(lines, want) {
		t.Errorf("parsed %q, want %q", lines, want)
	}
}

func FuzzParseProcNetTCP(f *testing.F) {
	f.Add("   0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 457821 1\n")
	f.Add("   0: 00000000000000000000000001000000:20FB 0:0 0A x x x 0 0 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, sock := range parseProcNetTCP(strings.NewReader(s)) {
			if len(sock.ip) != 4 && len(sock.ip) != 16 || sock.port < 0 || sock.port > 65535 || sock.inode == "" {
				t.Fatalf("parsed %+v from %q", sock, s)
			}
		}
	})
}
