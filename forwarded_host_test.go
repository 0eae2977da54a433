package httpsguard

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"testing"
)

// internalHost is the Host the test proxies send to the app, as a proxy
// that rewrites Host to the app's internal name does.
const internalHost = "app.internal:8000"

// TestForwardedHostOverRealProxies runs the app behind a real reverse proxy
// on proxyAddr that rewrites Host and forwards the client's in
// X-Forwarded-Host, and also lets clients talk to the app directly from
// 127.0.0.1, outside TrustedProxies.
func TestForwardedHostOverRealProxies(t *testing.T) {
	canBindProxyAddr(t)
	base := Policy{
		SSLRedirect: true, HSTSSeconds: 60,
		ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", TrustedProxies: []string{proxyAddr + "/32"},
		UseXForwardedHost: true, AllowedHosts: []string{"shop.example", ".shop.example"},
	}
	off := base
	off.UseXForwardedHost = false
	everyone := base
	everyone.TrustedProxies = nil
	noHosts := base
	noHosts.AllowedHosts = nil
	noHostsOff := noHosts
	noHostsOff.UseXForwardedHost = false
	sslHost := base
	sslHost.SSLHost = "secure.shop.example"

	// setXFH is a proxy that sets X-Forwarded-Host (and -Proto, -For) to
	// what it saw, overwriting the client's, as nginx with
	// "proxy_set_header X-Forwarded-Host $host" and Go's ReverseProxy do.
	setXFH := func(pr *httputil.ProxyRequest) {
		pr.SetXForwarded()
		pr.Out.Host = internalHost
	}
	// appendXFH is a proxy that appends to the client's header, as Apache's
	// mod_proxy does: "client, proxy" on one line.
	appendXFH := func(pr *httputil.ProxyRequest) {
		pr.SetXForwarded()
		pr.Out.Header.Set("X-Forwarded-Host", strings.Join(append(pr.In.Header.Values("X-Forwarded-Host"), pr.In.Host), ", "))
		pr.Out.Host = internalHost
	}
	// addLine appends its own header line after the client's.
	addLine := func(pr *httputil.ProxyRequest) {
		pr.SetXForwarded()
		pr.Out.Header["X-Forwarded-Host"] = append(pr.In.Header.Values("X-Forwarded-Host"), pr.In.Host)
		pr.Out.Host = internalHost
	}
	// fixed is a proxy that sends the given X-Forwarded-Host whatever the
	// client asked for (a misconfigured or hostile one).
	fixed := func(v string) func(*httputil.ProxyRequest) {
		return func(pr *httputil.ProxyRequest) {
			pr.SetXForwarded()
			pr.Out.Header["X-Forwarded-Host"] = []string{v}
			pr.Out.Host = internalHost
		}
	}
	// passHost passes Host through and sets no X-Forwarded-Host.
	passHost := func(pr *httputil.ProxyRequest) {
		pr.SetXForwarded()
		pr.Out.Header.Del("X-Forwarded-Host")
	}

	cases := []struct {
		name     string
		policy   Policy
		viaProxy bool // false: the client talks to the app directly
		proxyTLS bool
		rewrite  func(*httputil.ProxyRequest)
		host     string      // the client's Host
		header   http.Header // sent by the client
		status   int
		location string // for a redirect
		seenHost string // Guard.Host in the handler, for a 200
		rawHost  string // r.Host in the handler, for a 200
	}{
		{name: "plain proxy: redirect to the client's host", policy: base, viaProxy: true, rewrite: setXFH,
			host: "shop.example", status: 301, location: "https://shop.example/account?tab=2"},
		{name: "plain proxy: redirect keeps the client's port", policy: base, viaProxy: true, rewrite: setXFH,
			host: "www.shop.example:8080", status: 301, location: "https://www.shop.example:8080/account?tab=2"},
		{name: "TLS proxy: the handler sees the client's host", policy: base, viaProxy: true, proxyTLS: true, rewrite: setXFH,
			host: "shop.example", status: 200, seenHost: "shop.example", rawHost: internalHost},
		{name: "option off: the proxy's Host is checked and refused", policy: off, viaProxy: true, proxyTLS: true, rewrite: setXFH,
			host: "shop.example", status: 400},
		{name: "option off: the redirect would go to the internal name", policy: noHostsOff, viaProxy: true, rewrite: setXFH,
			host: "shop.example", status: 301, location: "https://" + internalHost + "/account?tab=2"},
		{name: "forwarded host outside AllowedHosts gets 400", policy: base, viaProxy: true, rewrite: setXFH,
			host: "evil.example", status: 400},
		{name: "client spoofs X-Forwarded-Host through a setting proxy", policy: base, viaProxy: true, rewrite: setXFH,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"evil.example"}}, status: 301, location: "https://shop.example/account?tab=2"},
		{name: "client spoofs X-Forwarded-Host through an appending proxy", policy: base, viaProxy: true, rewrite: appendXFH,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"evil.example"}}, status: 301, location: "https://shop.example/account?tab=2"},
		{name: "client spoofs an allowed host through an appending proxy", policy: base, viaProxy: true, proxyTLS: true, rewrite: appendXFH,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"admin.shop.example"}}, status: 200, seenHost: "shop.example", rawHost: internalHost},
		{name: "client's header line before the proxy's", policy: base, viaProxy: true, rewrite: addLine,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"evil.example", "x.shop.example"}}, status: 301, location: "https://shop.example/account?tab=2"},
		{name: "direct client's X-Forwarded-Host is ignored", policy: base,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"evil.example"}}, status: 301, location: "https://shop.example/account?tab=2"},
		{name: "direct client cannot pick another allowed host", policy: base,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"admin.shop.example"}}, status: 301, location: "https://shop.example/account?tab=2"},
		{name: "direct client's invalid X-Forwarded-Host is ignored, not refused", policy: base,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"evil.example/x"}}, status: 301, location: "https://shop.example/account?tab=2"},
		{name: "without TrustedProxies a direct client chooses the host (why HGP-PROXY-006 warns)", policy: everyone,
			host: "shop.example", header: http.Header{"X-Forwarded-Host": {"www.shop.example"}}, status: 301, location: "https://www.shop.example/account?tab=2"},
		{name: "garbage from the proxy gets 400, not a redirect", policy: base, viaProxy: true, rewrite: fixed("shop.example/evil"),
			host: "shop.example", status: 400},
		{name: "garbage gets 400 even without AllowedHosts", policy: noHosts, viaProxy: true, proxyTLS: true, rewrite: fixed("evil.example@shop.example"),
			host: "shop.example", status: 400},
		{name: "a bad port gets 400", policy: noHosts, viaProxy: true, rewrite: fixed("shop.example:99999"),
			host: "shop.example", status: 400},
		{name: "without AllowedHosts a valid forwarded host is used as it is", policy: noHosts, viaProxy: true, rewrite: fixed("Other.Example:8443"),
			host: "shop.example", status: 301, location: "https://Other.Example:8443/account?tab=2"},
		{name: "an empty header falls back to Host", policy: base, viaProxy: true, rewrite: fixed(" , "),
			host: "shop.example", status: 400}, // Host is the internal name, not allowed
		{name: "no header: Host decides", policy: base, viaProxy: true, proxyTLS: true, rewrite: passHost,
			host: "shop.example", status: 200, seenHost: "shop.example", rawHost: "shop.example"},
		{name: "IPv6 literal", policy: noHosts, viaProxy: true, rewrite: fixed("[::1]:8443"),
			host: "shop.example", status: 301, location: "https://[::1]:8443/account?tab=2"},
		{name: "SSLHost still decides the redirect target", policy: sslHost, viaProxy: true, rewrite: setXFH,
			host: "www.shop.example", status: 301, location: "https://secure.shop.example/account?tab=2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := New(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			var seenHost, rawHost string
			app := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seenHost, rawHost = g.Host(r), r.Host
			})))
			t.Cleanup(app.Close)
			srv := app
			c := app.Client()
			if tc.viaProxy {
				srv, c = frontProxy(t, app, tc.proxyTLS, tc.rewrite)
			} else {
				cc := *c
				cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
				c = &cc
			}
			resp := send(t, srv, c, request{path: "/account?tab=2", host: tc.host, header: tc.header})
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if loc := resp.Header.Get("Location"); loc != tc.location {
				t.Errorf("Location = %q, want %q", loc, tc.location)
			}
			if tc.status == 200 {
				if seenHost != tc.seenHost {
					t.Errorf("Guard.Host = %q, want %q", seenHost, tc.seenHost)
				}
				if rawHost != tc.rawHost {
					t.Errorf("r.Host = %q, want %q (the Guard must not rewrite it)", rawHost, tc.rawHost)
				}
			}
		})
	}
}

// TestForwardedHostValidation drives the guard directly with
// X-Forwarded-Host values from a trusted peer: every value that is not a
// host[:port] gets 400, whether or not AllowedHosts or the redirect would
// have looked at it, and never a Location.
func TestForwardedHostValidation(t *testing.T) {
	for _, p := range []Policy{
		{UseXForwardedHost: true, TrustedProxies: []string{"10.0.0.0/8"}},
		{UseXForwardedHost: true, TrustedProxies: []string{"10.0.0.0/8"}, SSLRedirect: true},
		{UseXForwardedHost: true, TrustedProxies: []string{"10.0.0.0/8"}, AllowedHosts: []string{"*"}},
	} {
		g, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		ran := false
		h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
		for _, v := range []string{
			"evil.com/x", "user@good.com", "good.com@evil.com", "good.com:", "good.com:99999", "good.com:8a",
			"[::1", "[fe80::1%25eth0]", "good..com", ".good.com", "http://good.com", "góód.com", "good com",
			"good.com;x=1", "good.com\t:80", strings.Repeat("a", 64) + ".com", "good.com, evil.com/x",
		} {
			r := httptest.NewRequest(http.MethodGet, "http://good.com/x", nil)
			r.RemoteAddr = "10.0.0.7:40000"
			r.Header.Set("X-Forwarded-Host", v)
			w := httptest.NewRecorder()
			ran = false
			h.ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" || ran {
				t.Errorf("%+v: X-Forwarded-Host %q: status %d, Location %q, handler ran %v; want 400", p, v, w.Code, w.Header().Get("Location"), ran)
			}
		}
	}
}

// TestGuardHost covers Guard.Host outside the middleware too: the value a
// handler would build links with.
func TestGuardHost(t *testing.T) {
	on, _ := New(Policy{UseXForwardedHost: true, TrustedProxies: []string{"10.0.0.0/8", "unix"}})
	off, _ := New(Policy{TrustedProxies: []string{"10.0.0.0/8"}})
	for _, tc := range []struct {
		g      *Guard
		remote string
		xfh    []string
		want   string
	}{
		{on, "10.1.1.1:5000", []string{"shop.example"}, "shop.example"},
		{on, "10.1.1.1:5000", []string{" a.example , b.example:444 "}, "b.example:444"},
		{on, "10.1.1.1:5000", []string{"a.example", "b.example,"}, "b.example"},
		{on, "10.1.1.1:5000", []string{"a.example", ""}, "a.example"},
		{on, "10.1.1.1:5000", []string{""}, "internal:8000"},
		{on, "10.1.1.1:5000", nil, "internal:8000"},
		{on, "[::ffff:10.1.1.1]:5000", []string{"shop.example"}, "shop.example"},
		{on, "@", []string{"shop.example"}, "shop.example"}, // Unix socket
		{on, "192.0.2.1:5000", []string{"shop.example"}, "internal:8000"},
		{on, "127.0.0.1:5000", []string{"shop.example"}, "internal:8000"},
		{off, "10.1.1.1:5000", []string{"shop.example"}, "internal:8000"},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://internal:8000/", nil)
		r.RemoteAddr = tc.remote
		if tc.xfh != nil {
			r.Header["X-Forwarded-Host"] = tc.xfh
		}
		if got := tc.g.Host(r); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-Host %q: Host = %q, want %q", tc.remote, tc.xfh, got, tc.want)
		}
	}
}

// FuzzForwardedHost sends any X-Forwarded-Host, from a trusted proxy, to a
// guard that redirects: the answer is a 400 or a redirect to exactly the
// host Guard.Host reports, and that host is a valid host[:port] and, when the
// handler runs, an allowed one.
func FuzzForwardedHost(f *testing.F) {
	for _, s := range []string{
		"shop.example", "evil.example, shop.example", "shop.example:8443", "[::1]:443", "", " , ",
		"shop.example/x", "a@shop.example", "shop.example\r\nX: y", "SHOP.example.", "x.shop.example,",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	redirect, err := New(Policy{SSLRedirect: true, UseXForwardedHost: true, TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		f.Fatal(err)
	}
	allowed, err := New(Policy{UseXForwardedHost: true, TrustedProxies: []string{"10.0.0.0/8"}, AllowedHosts: []string{".shop.example"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, xfh string, useAllowed bool) {
		g := redirect
		if useAllowed {
			g = allowed
		}
		ran := false
		h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
		r := httptest.NewRequest(http.MethodGet, "http://app.internal:8000/x", nil)
		r.RemoteAddr = "10.9.8.7:1234"
		r.Header["X-Forwarded-Host"] = []string{xfh}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		host := g.Host(r)
		if w.Code == http.StatusBadRequest {
			if ran || w.Header().Get("Location") != "" {
				t.Fatalf("%q: 400 with the handler run (%v) or a Location", xfh, ran)
			}
			return
		}
		if _, ok := splitHost(host); !ok {
			t.Fatalf("%q: status %d for invalid host %q", xfh, w.Code, host)
		}
		switch {
		case g == redirect && (w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "https://"+host+"/x"):
			t.Fatalf("%q: status %d, Location %q; want 301 to %q", xfh, w.Code, w.Header().Get("Location"), host)
		case g == allowed && (!ran || !allowedShop(host)):
			t.Fatalf("%q: handler ran %v for host %q", xfh, ran, host)
		}
	})
}

// allowedShop is ".shop.example" matched the slow, obvious way.
func allowedShop(host string) bool {
	name, _ := splitHost(host)
	name = strings.ToLower(name)
	return name == "shop.example" || strings.HasSuffix(name, ".shop.example")
}
