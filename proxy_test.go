package httpsguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// proxyAddr is the loopback address the test proxies connect from, so the
// app can tell them from a client connecting directly from 127.0.0.1.
const proxyAddr = "127.0.0.2"

// frontProxy starts a real reverse proxy, TLS or plain, in front of app. It
// connects to the app from proxyAddr and passes the client's Host through.
// rewrite adds the proxy's own forwarding headers to the outbound request.
func frontProxy(t *testing.T, app *httptest.Server, useTLS bool, rewrite func(*httputil.ProxyRequest)) (*httptest.Server, *http.Client) {
	t.Helper()
	target, _ := url.Parse(app.URL)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(proxyAddr)}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			rewrite(pr)
		},
		Transport: &http.Transport{DialContext: dialer.DialContext},
	}
	if app.TLS != nil {
		// The proxy re-encrypts to the app, trusting only the app's certificate.
		pool := x509.NewCertPool()
		pool.AddCert(app.Certificate())
		rp.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(rp)
	} else {
		srv = httptest.NewServer(rp)
	}
	t.Cleanup(srv.Close)
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return srv, &c
}

// canBindProxyAddr skips tests that need a second loopback address on
// systems (macOS) that only configure 127.0.0.1.
func canBindProxyAddr(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", proxyAddr+":0")
	if err != nil {
		t.Skipf("cannot use %s as a second loopback address: %v", proxyAddr, err)
	}
	_ = l.Close()
}

func TestTrustedProxiesOverRealProxies(t *testing.T) {
	canBindProxyAddr(t)
	xfp := Policy{SSLRedirect: true, HSTSSeconds: 60, ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", TrustedProxies: []string{proxyAddr + "/32", "::1"}}
	forwardedOnly := xfp
	forwardedOnly.ProxySSLHeader = "Forwarded"
	untrusted := xfp
	untrusted.TrustedProxies = nil

	setXFP := func(pr *httputil.ProxyRequest) { pr.SetXForwarded() }
	appendXFP := func(pr *httputil.ProxyRequest) {
		// A proxy that appends to the client's header, as many do.
		proto := "http"
		if pr.In.TLS != nil {
			proto = "https"
		}
		pr.Out.Header["X-Forwarded-Proto"] = append(pr.In.Header.Values("X-Forwarded-Proto"), proto)
	}
	appendForwarded := func(pr *httputil.ProxyRequest) {
		proto := "http"
		if pr.In.TLS != nil {
			proto = "https"
		}
		pr.Out.Header.Add("Forwarded", `for="`+pr.In.RemoteAddr+`";proto=`+proto)
	}

	cases := []struct {
		name      string
		policy    Policy
		viaProxy  bool // false: the client talks to the app directly
		proxyTLS  bool
		rewrite   func(*httputil.ProxyRequest)
		header    http.Header // sent by the client
		status    int
		wantHSTS  bool
		wantHTTPS bool // Location starts with https://
	}{
		{name: "TLS proxy sets X-Forwarded-Proto", policy: xfp, viaProxy: true, proxyTLS: true, rewrite: setXFP, status: 200, wantHSTS: true},
		{name: "plain proxy sets X-Forwarded-Proto: http", policy: xfp, viaProxy: true, rewrite: setXFP, status: 301, wantHTTPS: true},
		{name: "client spoofs X-Forwarded-Proto through a setting proxy", policy: xfp, viaProxy: true, rewrite: setXFP,
			header: http.Header{"X-Forwarded-Proto": {"https"}}, status: 301, wantHTTPS: true},
		{name: "client spoofs X-Forwarded-Proto through an appending proxy", policy: xfp, viaProxy: true, rewrite: appendXFP,
			header: http.Header{"X-Forwarded-Proto": {"https"}}, status: 301, wantHTTPS: true},
		{name: "appending TLS proxy after a client's http", policy: xfp, viaProxy: true, proxyTLS: true, rewrite: appendXFP,
			header: http.Header{"X-Forwarded-Proto": {"http"}}, status: 200, wantHSTS: true},
		{name: "direct client spoofing X-Forwarded-Proto is not trusted", policy: xfp,
			header: http.Header{"X-Forwarded-Proto": {"https"}}, status: 301, wantHTTPS: true},
		{name: "direct client spoofing Forwarded is not trusted", policy: xfp,
			header: http.Header{"Forwarded": {"proto=https"}}, status: 301, wantHTTPS: true},
		{name: "without TrustedProxies a direct client can spoof (why HGP-PROXY-001 warns)", policy: untrusted,
			header: http.Header{"X-Forwarded-Proto": {"https"}}, status: 200, wantHSTS: true},
		{name: "TLS proxy appends Forwarded proto=https", policy: xfp, viaProxy: true, proxyTLS: true, rewrite: appendForwarded, status: 200, wantHSTS: true},
		{name: "client spoofs Forwarded through an appending plain proxy", policy: xfp, viaProxy: true, rewrite: appendForwarded,
			header: http.Header{"Forwarded": {"for=192.0.2.1;proto=https"}}, status: 301, wantHTTPS: true},
		{name: "Forwarded-only ignores X-Forwarded-Proto", policy: forwardedOnly, viaProxy: true, proxyTLS: true, rewrite: setXFP, status: 301, wantHTTPS: true},
		{name: "Forwarded-only reads Forwarded", policy: forwardedOnly, viaProxy: true, proxyTLS: true, rewrite: appendForwarded, status: 200, wantHSTS: true},
		{name: "X-Forwarded-Proto decides when both are present", policy: xfp, viaProxy: true, rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetXForwarded()
			pr.Out.Header.Set("Forwarded", "proto=https")
		}, status: 301, wantHTTPS: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app, appClient := serve(t, tc.policy, okHandler, false)
			srv, c := app, appClient
			if tc.viaProxy {
				srv, c = frontProxy(t, app, tc.proxyTLS, tc.rewrite)
			}
			resp := send(t, srv, c, request{path: "/account?tab=2", host: "shop.example", header: tc.header})
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get(hdrHSTS) != ""; got != tc.wantHSTS {
				t.Errorf("HSTS present = %v, want %v", got, tc.wantHSTS)
			}
			if loc := resp.Header.Get("Location"); tc.wantHTTPS && loc != "https://shop.example/account?tab=2" {
				t.Errorf("Location = %q", loc)
			}
		})
	}
}

// TestTrustedProxyHeaderOverTLSHop puts the app on TLS behind a proxy that
// re-encrypts (a load balancer or service mesh talking HTTPS to the app).
// r.TLS then describes only the proxy's hop: what the trusted proxy says
// about the client decides, as in Django, where a present
// SECURE_PROXY_SSL_HEADER settles the scheme whatever the connection.
func TestTrustedProxyHeaderOverTLSHop(t *testing.T) {
	canBindProxyAddr(t)
	xfp := Policy{SSLRedirect: true, HSTSSeconds: 60, ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", TrustedProxies: []string{proxyAddr + "/32"}}
	forwardedOnly := xfp
	forwardedOnly.ProxySSLHeader = "Forwarded"
	setXFP := func(pr *httputil.ProxyRequest) { pr.SetXForwarded() }
	setForwarded := func(pr *httputil.ProxyRequest) {
		proto := "http"
		if pr.In.TLS != nil {
			proto = "https"
		}
		pr.Out.Header.Set("Forwarded", "proto="+proto)
	}
	noHeader := func(*httputil.ProxyRequest) {}
	malformed := func(pr *httputil.ProxyRequest) { pr.Out.Header.Set("Forwarded", "proto") }

	cases := []struct {
		name     string
		policy   Policy
		viaProxy bool
		proxyTLS bool
		rewrite  func(*httputil.ProxyRequest)
		header   http.Header
		status   int
		wantHSTS bool
	}{
		{name: "plain proxy says http over a TLS hop", policy: xfp, viaProxy: true, rewrite: setXFP, status: 301},
		{name: "plain proxy says proto=http in Forwarded over a TLS hop", policy: forwardedOnly, viaProxy: true, rewrite: setForwarded, status: 301},
		{name: "TLS proxy says https over a TLS hop", policy: xfp, viaProxy: true, proxyTLS: true, rewrite: setXFP, status: 200, wantHSTS: true},
		{name: "proxy says nothing: the TLS hop decides", policy: xfp, viaProxy: true, rewrite: noHeader, status: 200, wantHSTS: true},
		{name: "malformed Forwarded: the TLS hop decides", policy: forwardedOnly, viaProxy: true, rewrite: malformed, status: 200, wantHSTS: true},
		{name: "untrusted direct TLS client claiming http is ignored", policy: xfp,
			header: http.Header{"X-Forwarded-Proto": {"http"}}, status: 200, wantHSTS: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app, appClient := serve(t, tc.policy, okHandler, true)
			srv, c := app, appClient
			if tc.viaProxy {
				srv, c = frontProxy(t, app, tc.proxyTLS, tc.rewrite)
			}
			resp := send(t, srv, c, request{path: "/account?tab=2", host: "shop.example", header: tc.header})
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get(hdrHSTS) != ""; got != tc.wantHSTS {
				t.Errorf("HSTS present = %v, want %v", got, tc.wantHSTS)
			}
			if loc := resp.Header.Get("Location"); tc.status == 301 && loc != "https://shop.example/account?tab=2" {
				t.Errorf("Location = %q", loc)
			}
		})
	}
}

// TestTrustedUnixSocket runs the app on a Unix socket behind a TLS proxy:
// "unix" in TrustedProxies trusts exactly such peers.
func TestTrustedUnixSocket(t *testing.T) {
	for i, tc := range []struct {
		trusted []string
		status  int
	}{{[]string{"unix"}, 200}, {[]string{"127.0.0.1"}, 301}} {
		sock := filepath.Join(t.TempDir(), fmt.Sprintf("app%d.sock", i))
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Skipf("no Unix sockets: %v", err)
		}
		g, err := New(Policy{SSLRedirect: true, ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", TrustedProxies: tc.trusted})
		if err != nil {
			t.Fatal(err)
		}
		app := &http.Server{Handler: g.Handler(okHandler)}
		go func() { _ = app.Serve(l) }()
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(&url.URL{Scheme: "http", Host: "app"})
				pr.SetXForwarded()
			},
			Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", sock)
			}},
		}
		front := httptest.NewTLSServer(rp)
		c := *front.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp := send(t, front, &c, request{})
		if resp.StatusCode != tc.status {
			t.Errorf("TrustedProxies %v: status %d, want %d", tc.trusted, resp.StatusCode, tc.status)
		}
		front.Close()
		_ = app.Close()
	}
}

func TestForwardedProto(t *testing.T) {
	type tcase struct {
		lines []string
		proto string
		ok    bool
	}
	cases := []tcase{
		{nil, "", false},
		{[]string{""}, "", false},
		{[]string{"proto=https"}, "https", true},
		{[]string{"Proto=HTTPS"}, "HTTPS", true},
		{[]string{`for=192.0.2.60;proto=http;by=203.0.113.43`}, "http", true},
		{[]string{`for="[2001:db8:cafe::17]:4711";proto="https"`}, "https", true},
		{[]string{`proto=http, for=10.0.0.1;proto=https`}, "https", true},
		{[]string{`proto=https, for=10.0.0.1;proto=http`}, "http", true},
		{[]string{`proto=https`, `for=10.0.0.1;proto=http`}, "http", true},
		{[]string{`proto=http`, `proto=https`}, "https", true},
		{[]string{`proto=https, for=10.0.0.1`}, "", false},   // the nearest proxy said nothing about proto
		{[]string{`proto=https, `}, "https", true},           // empty list elements are ignored
		{[]string{`proto=https`, ``}, "https", true},         // an empty line too
		{[]string{`for="a,b;c";proto=https`}, "https", true}, // separators inside quotes
		{[]string{`for=x; proto=https ;by=y`}, "https", true},
		{[]string{`;proto=https;`}, "https", true}, // empty pairs are allowed
		{[]string{"proto=\"ht\tps\""}, "ht\tps", true},
		{[]string{`proto="htt\ps"`}, "https", true}, // quoted-pair
	}
	malformed := []string{
		`proto=https;proto=https`, // a parameter twice in one element (RFC 7239 §4)
		`proto`, `proto=`, `=https`, `proto="https`, `proto=ht tps`, `proto=https"`,
		`for=x proto=https`, `"proto"=https`, "proto=\"a\x01\"",
	}
	for _, m := range malformed {
		cases = append(cases, tcase{[]string{m}, "", false})
		// A valid element after a malformed one does not rescue it.
		cases = append(cases, tcase{[]string{m, "proto=https"}, "", false})
	}
	for _, tc := range cases {
		proto, ok := forwardedProto(tc.lines)
		if proto != tc.proto || ok != tc.ok {
			t.Errorf("forwardedProto(%q) = %q, %v; want %q, %v", tc.lines, proto, ok, tc.proto, tc.ok)
		}
	}
}

// TestCustomProxyHeader covers a header whose value is not a scheme, such
// as X-Forwarded-Ssl: on, and the Forwarded fallback next to it.
func TestCustomProxyHeader(t *testing.T) {
	g, err := New(Policy{ProxySSLHeader: "x-forwarded-ssl", ProxySSLValue: "on"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		header http.Header
		want   bool
	}{
		{http.Header{"X-Forwarded-Ssl": {"on"}}, true},
		{http.Header{"X-Forwarded-Ssl": {"ON"}}, true},
		{http.Header{"X-Forwarded-Ssl": {"off"}}, false},
		{http.Header{"X-Forwarded-Ssl": {"off"}, "Forwarded": {"proto=https"}}, false}, // the configured header decides
		{http.Header{"Forwarded": {"proto=https"}}, true},
		{http.Header{"Forwarded": {"proto=on"}}, false},
		{http.Header{}, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
		r.Header = tc.header
		if got := g.IsSecure(r); got != tc.want {
			t.Errorf("%v: IsSecure = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestLastListElement(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
		ok    bool
	}{
		{nil, "", false},
		{[]string{"https"}, "https", true},
		{[]string{" https "}, "https", true},
		{[]string{"https, http"}, "http", true},
		{[]string{"https", "http"}, "http", true},
		{[]string{"http, https,", " "}, "https", true},
		{[]string{",,"}, "", false},
	} {
		got, ok := lastListElement(tc.lines)
		if got != tc.want || ok != tc.ok {
			t.Errorf("lastListElement(%q) = %q, %v; want %q, %v", tc.lines, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPeerTrusted(t *testing.T) {
	g, err := New(Policy{ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https",
		TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7", "fd00::/8", "::ffff:172.16.0.0/108"}})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"10.1.2.3:5555":        true,
		"11.0.0.1:5555":        false,
		"192.0.2.7:1":          true,
		"192.0.2.8:1":          false,
		"[::ffff:10.0.0.1]:80": true, // IPv4-mapped peers on a dual-stack socket
		"[fd00::1]:80":         true,
		"[fe80::1%eth0]:80":    false,
		"172.16.3.4:1":         true, // the mapped prefix was normalised to 172.16.0.0/12
		"@":                    false,
		"":                     false,
		"not an address":       false,
		"10.0.0.1":             true, // no port
	} {
		if got := g.proxy.peerTrusted(addr); got != want {
			t.Errorf("peerTrusted(%q) = %v, want %v", addr, got, want)
		}
	}
}

// FuzzForwarded checks that the Forwarded parser never panics, that the
// element appended by a proxy after any well-formed header is the one that
// counts, and that a malformed header is never rescued.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{
		"proto=https", `for="[2001:db8::1]:80";proto=http`, "proto=http, proto=https",
		`for="a\"b";proto=https`, "by=x;;proto=https,,", `proto="`, "proto=https;proto=http", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _, err := parseForwardedLine(s, "", false)
		proto, ok := forwardedProto([]string{s, "for=10.0.0.1;proto=https"})
		if err == nil && (!ok || proto != "https") {
			t.Fatalf("well-formed %q followed by proto=https gave %q, %v", s, proto, ok)
		}
		if err != nil && ok {
			t.Fatalf("malformed %q was accepted (%q)", s, proto)
		}
		p1, ok1 := forwardedProto([]string{s})
		if ok1 && err != nil {
			t.Fatalf("malformed %q gave %q", s, p1)
		}
		// The same line spread over two header lines at an element boundary
		// means the same.
		if i := strings.IndexByte(s, ','); i >= 0 && !strings.Contains(s, `"`) {
			p2, ok2 := forwardedProto([]string{s[:i], s[i+1:]})
			if p2 != p1 || ok2 != ok1 {
				t.Fatalf("%q split at ',' gave %q, %v; whole gave %q, %v", s, p2, ok2, p1, ok1)
			}
		}
	})
}

// FuzzProxyHeader checks the X-Forwarded-Proto list handling: the answer is
// always one trimmed element of the header, the last non-empty one.
func FuzzProxyHeader(f *testing.F) {
	for _, s := range []string{"https", "https, http", " , https ,", ",,", "http,https"} {
		f.Add(s, "")
	}
	f.Add("http", "https")
	f.Fuzz(func(t *testing.T, a, b string) {
		lines := []string{a, b}
		got, ok := lastListElement(lines)
		var elems []string
		for _, e := range strings.Split(a+","+b, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				elems = append(elems, e)
			}
		}
		if len(elems) == 0 {
			if ok {
				t.Fatalf("%q: got %q from an empty list", lines, got)
			}
			return
		}
		if !ok || got != elems[len(elems)-1] {
			t.Fatalf("%q: got %q, %v; want %q", lines, got, ok, elems[len(elems)-1])
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["X-Forwarded-Proto"] = lines
		tr := proxyTrust{header: "X-Forwarded-Proto", value: "https"}
		if secure, known := tr.scheme(r); !known || secure != strings.EqualFold(got, "https") {
			t.Fatalf("%q: secure, known = %v, %v for last element %q", lines, secure, known, got)
		}
	})
}
