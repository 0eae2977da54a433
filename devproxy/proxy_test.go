package devproxy

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// echoHeaders is an upstream that answers with the request it received.
func echoHeaders(w http.ResponseWriter, r *http.Request) {
	h := map[string]string{"Host": r.Host, "Proto": r.Proto, "URI": r.RequestURI}
	for k, v := range r.Header {
		h[k] = strings.Join(v, " | ")
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(h)
}

func TestProxyForwardedHeaders(t *testing.T) {
	up := upstream(t, http.HandlerFunc(echoHeaders))
	ts := start(t, Config{Upstream: up})
	origin := ts.urlHost("localhost", ts.httpsPort(), "443")

	spoofed := []string{
		"X-Forwarded-For", "6.6.6.6",
		"X-Forwarded-Proto", "http",
		"X-Forwarded-Host", "evil.example",
		"X-Forwarded-Port", "80",
		"X-Forwarded-Prefix", "/evil",
		"X-Forwarded-Ssl", "off",
		"X-Forwarded-Scheme", "http",
		"X-Real-IP", "6.6.6.6",
		"Forwarded", "for=6.6.6.6;proto=http",
		"Front-End-Https", "off",
		"X-Url-Scheme", "http",
	}
	for _, tc := range []struct {
		name   string
		client *http.Client
		proto  string
	}{
		{"HTTP/2", ts.h2, "HTTP/2.0"},
		{"HTTP/1.1", ts.h1, "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.get(t, tc.client, ts.url("localhost", "/path/x?q=1&r=%2F"), spoofed...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if resp.Proto != tc.proto {
				t.Errorf("browser side spoke %s, want %s", resp.Proto, tc.proto)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"Host":              origin,
				"Proto":             "HTTP/1.1", // to the upstream, always
				"URI":               "/path/x?q=1&r=%2F",
				"X-Forwarded-For":   "127.0.0.1",
				"X-Forwarded-Proto": "https",
				"X-Forwarded-Host":  origin,
				"Forwarded":         `for=127.0.0.1;host="` + origin + `";proto=https`,
			}
			if strings.HasPrefix(got["X-Forwarded-For"], "::1") {
				// localhost resolved to IPv6 first.
				want["X-Forwarded-For"] = "::1"
				want["Forwarded"] = `for="[::1]";host="` + origin + `";proto=https`
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("upstream saw %s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range []string{"X-Real-Ip", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Ssl", "X-Forwarded-Scheme", "Front-End-Https", "X-Url-Scheme"} {
				if v, ok := got[k]; ok {
					t.Errorf("spoofed %s = %q reached the upstream", k, v)
				}
			}
		})
	}
}

func TestProxyChangeHost(t *testing.T) {
	up := upstream(t, http.HandlerFunc(echoHeaders))
	ts := start(t, Config{Upstream: up, ChangeHost: true})
	_, body := ts.get(t, ts.h2, ts.url("127.0.0.1", "/"))
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got["Host"] != up.Host {
		t.Errorf("Host = %q, want the upstream's %q", got["Host"], up.Host)
	}
	if want := ts.urlHost("127.0.0.1", ts.httpsPort(), "443"); got["X-Forwarded-Host"] != want {
		t.Errorf("X-Forwarded-Host = %q, want the browser's %q", got["X-Forwarded-Host"], want)
	}
}

func TestForwardedHeader(t *testing.T) {
	tests := []struct {
		remote, host, proto, want string
	}{
		{"127.0.0.1:5000", "localhost:8443", "https", `for=127.0.0.1;host="localhost:8443";proto=https`},
		{"[::1]:5000", "localhost", "http", `for="[::1]";host=localhost;proto=http`},
		{"[::1]:5000", "[::1]:8443", "https", `for="[::1]";host="[::1]:8443";proto=https`},
		{"bogus", "a\"b", "https", `proto=https`},
	}
	for _, tc := range tests {
		if got := forwardedHeader(tc.remote, tc.host, tc.proto); got != tc.want {
			t.Errorf("forwardedHeader(%q, %q, %q) = %q, want %q", tc.remote, tc.host, tc.proto, got, tc.want)
		}
	}
}

// djangoLike mimics Django with SECURE_SSL_REDIRECT = True: it redirects
// every request it believes insecure to https://HOST/PATH. trustsProxy
// models SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https").
func djangoLike(trustsProxy bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", "WSGIServer/0.2 CPython/3.11.2")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !(trustsProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
			h.Set("Location", "https://"+r.Host+r.URL.RequestURI())
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<h1>django app</h1>"))
	})
}

func TestRedirectLoopDetected(t *testing.T) {
	for _, tc := range []struct {
		name       string
		changeHost bool
	}{
		{"browser host", false},
		{"change host", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, Config{Upstream: upstream(t, djangoLike(false)), ChangeHost: tc.changeHost})
			for i := 0; i < 3; i++ {
				resp, body := ts.get(t, ts.h2, ts.url("localhost", "/admin/?next=1"), "Accept", "text/html")
				if resp.StatusCode != http.StatusLoopDetected {
					t.Fatalf("status %d, want 508; body: %s", resp.StatusCode, body)
				}
				for _, want := range []string{
					"Redirect loop stopped",
					"SECURE_PROXY_SSL_HEADER = (&#34;HTTP_X_FORWARDED_PROTO&#34;, &#34;https&#34;)",
					"CSRF_TRUSTED_ORIGINS = [&#34;https://localhost:" + ts.httpsPort() + "&#34;]",
					"config.assume_ssl = true",
					"app.set(&#34;trust proxy&#34;, &#34;loopback&#34;)",
					"TrustedProxies",
					"This looks like Django",
				} {
					if !strings.Contains(body, want) {
						t.Errorf("error page lacks %q:\n%s", want, body)
					}
				}
				if resp.Header.Get("Location") != "" {
					t.Errorf("the redirect reached the browser: Location %q", resp.Header.Get("Location"))
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
			}
			full := ts.logs.matching(slog.LevelWarn, "redirect loop stopped: ")
			if len(full) != 1 {
				t.Fatalf("%d full loop diagnoses, want 1 (once, not per request):\n%s", len(full), ts.logs.dump())
			}
			if msg := full[0].msg; !strings.Contains(msg, `SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")`) || !strings.Contains(msg, "This looks like Django") {
				t.Errorf("terminal diagnosis lacks the Django fix:\n%s", msg)
			}
		})
	}
}

// TestRedirectLoopWithCookie checks that a self-redirect which sets a
// cookie is a loop only once the browser already has that cookie.
func TestRedirectLoopWithCookie(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "seen", Value: "1"})
		http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusFound)
	}))
	ts := start(t, Config{Upstream: up})
	resp, _ := ts.get(t, ts.h2, ts.url("localhost", "/"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("first visit: %d, want the redirect that sets the cookie", resp.StatusCode)
	}
	resp, _ = ts.get(t, ts.h2, ts.url("localhost", "/"), "Cookie", "seen=1")
	if resp.StatusCode != http.StatusLoopDetected {
		t.Fatalf("with the cookie: %d, want 508", resp.StatusCode)
	}
}

func TestRedirectLoopFixedApp(t *testing.T) {
	ts := start(t, Config{Upstream: upstream(t, djangoLike(true))})
	resp, body := ts.get(t, ts.h2, ts.url("localhost", "/admin/"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "django app") {
		t.Fatalf("status %d body %q, want the app's page", resp.StatusCode, body)
	}
	if got := ts.logs.matching(slog.LevelWarn, "redirect loop"); len(got) != 0 {
		t.Errorf("unexpected loop warning: %v", got)
	}
}

func TestRedirectsThatAreNotLoops(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slash":
			http.Redirect(w, r, "/slash/", http.StatusMovedPermanently) // APPEND_SLASH
		case "/login":
			http.Redirect(w, r, "https://"+r.Host+"/login?next=/", http.StatusFound)
		case "/other":
			http.Redirect(w, r, "https://example.com/login", http.StatusFound)
		case "/plain":
			http.Redirect(w, r, "http://"+r.Host+"/plain/", http.StatusFound)
		case "/contact": // Post/Redirect/Get to the same page
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
		case "/lang": // sets a cookie, then comes back to the same page
			if _, err := r.Cookie("lang"); err == nil {
				w.Write([]byte("bonjour"))
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "lang", Value: "fr", Secure: true})
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
		}
	}))
	ts := start(t, Config{Upstream: up})
	for _, p := range []string{"/slash", "/login", "/other", "/plain", "/plain", "/lang"} {
		resp, _ := ts.get(t, ts.h2, ts.url("localhost", p))
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			t.Errorf("%s: status %d, want the app's redirect", p, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, ts.url("localhost", "/contact"), strings.NewReader("msg=hi"))
	if resp, _ := do(t, ts.h2, req); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /contact: status %d, want the app's 303", resp.StatusCode)
	}
	if got := ts.logs.matching(slog.LevelWarn, "redirect loop"); len(got) != 0 {
		t.Errorf("false loop report: %v", got)
	}
	warn := ts.logs.matching(slog.LevelWarn, "leaving HTTPS")
	if len(warn) != 1 || !strings.Contains(warn[0].msg, "http://localhost:"+ts.httpsPort()+"/plain/") {
		t.Errorf("want one warning about the redirect to http://, got:\n%s", ts.logs.dump())
	}
}

func TestUpstreamDownThenBack(t *testing.T) {
	addr := freePort(t)
	up, err := ParseUpstream(addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, Config{Upstream: up})

	for i := 0; i < 2; i++ {
		resp, body := ts.get(t, ts.h2, ts.url("localhost", "/dash"), "Accept", "text/html,application/xhtml+xml")
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
		for _, want := range []string{"The application is not running", addr, `http-equiv="refresh"`, "runserver"} {
			if !strings.Contains(body, want) {
				t.Errorf("502 page lacks %q:\n%s", want, body)
			}
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("502 page may be cached: Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	}
	if n := len(ts.logs.matching(slog.LevelWarn, "is not running")); n != 1 {
		t.Errorf("%d 'not running' warnings, want 1:\n%s", n, ts.logs.dump())
	}

	// The developer starts the app: the very next request reaches it.
	startOn(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("up")) }))
	resp, body := ts.get(t, ts.h2, ts.url("localhost", "/dash"))
	if resp.StatusCode != http.StatusOK || body != "up" {
		t.Fatalf("after the app started: status %d body %q", resp.StatusCode, body)
	}
	if n := len(ts.logs.matching(slog.LevelInfo, "answering again")); n != 1 {
		t.Errorf("%d 'answering again' records, want 1", n)
	}
}

func TestInsecureCookieWarnings(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "x", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "safe", Value: "y", Secure: true})
		http.SetCookie(w, &http.Cookie{Name: "gone", Value: "", MaxAge: -1})
	}))
	ts := start(t, Config{Upstream: up})
	for i := 0; i < 3; i++ {
		ts.get(t, ts.h2, ts.url("localhost", "/"))
	}
	got := ts.logs.matching(slog.LevelWarn, "without Secure")
	if len(got) != 1 || got[0].attrs["cookie"] != "sessionid" {
		t.Errorf("want one warning, for sessionid; got:\n%s", ts.logs.dump())
	}
}

func TestHSTSRemovedUnlessAsked(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		w.Header().Set(MarkHeader, "spoofed by the app")
	}))
	for _, keep := range []bool{false, true} {
		ts := start(t, Config{Upstream: up, HSTS: keep})
		resp, _ := ts.get(t, ts.h2, ts.url("localhost", "/"))
		if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != keep {
			t.Errorf("HSTS=%v: Strict-Transport-Security %q", keep, got)
		}
		want := map[bool]string{false: "dev, hsts-removed", true: "dev"}[keep]
		if got := resp.Header.Values(MarkHeader); len(got) != 1 || got[0] != want {
			t.Errorf("HSTS=%v: %s %q, want %q", keep, MarkHeader, got, want)
		}
	}
}

// FuzzRedirectDiagnosis feeds arbitrary Location values and request URIs
// to the redirect check, which reads what an application sends.
func FuzzRedirectDiagnosis(f *testing.F) {
	for _, s := range [][2]string{
		{"/admin/", "https://localhost:8443/admin/"},
		{"/a?b", "//localhost:8443/a?b"},
		{"/", "http://localhost:8443/"},
		{"/x", "https://127.0.0.1:8000/x"},
		{"/%2e%2e/", "../"},
		{"/", "https://[::1/"},
		{"/", "\x00"},
	} {
		f.Add(s[0], s[1])
	}
	d := newDiagnoser(slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, uri, location string) {
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			return
		}
		resp := &http.Response{StatusCode: http.StatusFound, Header: http.Header{}, Request: &http.Request{URL: u, Header: http.Header{}}}
		err = d.redirect(resp, "https", "localhost:8443", "127.0.0.1:8000", location)
		var loop *loopError
		if errors.As(err, &loop) {
			// A loop is only reported for a redirect to https on the same path.
			if !strings.HasPrefix(loop.Location, "https://") || loop.URL == "" {
				t.Fatalf("loop %+v for Location %q", loop, location)
			}
			writeErrorPage(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), loopPage(loop))
		}
	})
}

// TestBarePortReachesEitherLoopback checks the reason "--to 8000" means
// localhost:8000: Django binds 127.0.0.1 and Node 17+ binds ::1, and both
// must be found.
func TestBarePortReachesEitherLoopback(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			if ip == "::1" {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatal(err)
		}
		if ip == "::1" {
			// The proxy tries 127.0.0.1 first: make sure nothing else
			// (another test's server) listens there on the same port.
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			v4, err := net.Listen("tcp", "127.0.0.1:"+port)
			if err != nil {
				ln.Close()
				t.Skipf("127.0.0.1:%s is taken by another program", port)
			}
			v4.Close()
		}
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("app on " + ip))
		})}}
		srv.Start()
		defer srv.Close()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ts := start(t, Config{Upstream: mustUpstream(t, port)})
		resp, body := ts.get(t, ts.h2, ts.url("localhost", "/"))
		if resp.StatusCode != http.StatusOK || body != "app on "+ip {
			t.Errorf("--to %s with the app on %s: %d %q", port, ip, resp.StatusCode, body)
		}
	}
}
