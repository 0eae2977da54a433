package autotls_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/autotls"
	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/scan"
)

// issueDeadline bounds each wait for the CA: generous, since two busy cores
// run Pebble, the server and the race detector at once.
const issueDeadline = 4 * time.Minute

// site is a Server under test on two loopback listeners.
type site struct {
	srv                 *autotls.Server
	httpPort, httpsPort int
	logs                *syncBuffer
	cancel              context.CancelFunc
	done                chan error
	stopOnce            sync.Once
}

// listeners opens the two loopback listeners a site serves on, so that
// their ports can be given to Pebble before the site starts.
func listeners(t *testing.T) (httpLn, httpsLn net.Listener) {
	t.Helper()
	var err error
	if httpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if httpsLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return httpLn, httpsLn
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// serveSite starts a Server for h on the listeners; the test's cleanup
// stops it and checks that it stopped cleanly.
func serveSite(t *testing.T, h http.Handler, opts autotls.Options, httpLn, httpsLn net.Listener) *site {
	t.Helper()
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Storage == "" {
		opts.Storage = t.TempDir()
	}
	srv, err := autotls.New(h, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &site{srv: srv, httpPort: port(httpLn), httpsPort: port(httpsLn), logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.ServeListeners(ctx, httpLn, httpsLn) }()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("the server's log:\n%s", logs.String())
		}
	})
	return s
}

// stop cancels the server's context and waits for Serve to return.
func (s *site) stop(t *testing.T) {
	t.Helper()
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("ServeListeners: %v", err)
			}
		case <-time.After(2 * time.Minute):
			t.Error("the server did not stop within two minutes of its context's cancellation")
		}
	})
}

func (s *site) status(name string) autotls.NameStatus {
	for _, st := range s.srv.Status() {
		if st.Name == name {
			return st
		}
	}
	return autotls.NameStatus{}
}

func (s *site) waitCertificate(t *testing.T, names ...string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("certificates for %v are served", names), issueDeadline, func() bool {
		for _, n := range names {
			if s.status(n).NotAfter.IsZero() {
				return false
			}
		}
		return true
	})
}

// client returns an HTTP client that reaches any name at this site's
// loopback ports, verifies certificates against roots, and does not follow
// redirects.
func (s *site) client(roots *x509.CertPool) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", p))
	}
	return &http.Client{
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			DialContext:       dial,
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
		},
	}
}

func (s *site) httpsURL(host, path string) string {
	return "https://" + host + ":" + strconv.Itoa(s.httpsPort) + path
}

func (s *site) httpURL(host, path string) string {
	return "http://" + host + ":" + strconv.Itoa(s.httpPort) + path
}

// handshakeAfterStop tries a handshake with a stopped site.
func (s *site) handshakeAfterStop(pb *pebble) (*x509.Certificate, error) {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpsPort)), 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: "site.test", RootCAs: pb.rootPool()})
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	return tc.ConnectionState().PeerCertificates[0], nil
}

// handshake returns the leaf certificate the site serves for name.
func (s *site) handshake(t *testing.T, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	t.Helper()
	d := &tls.Dialer{Config: &tls.Config{ServerName: name, RootCAs: roots}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpsPort)))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

func app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "abc", Path: "/"})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "hello from %s over %s", r.Host, r.Proto)
	})
	return mux
}

// TestHTTP01EndToEnd issues certificates through the HTTP-01 challenge
// alone (so the :80 listener must serve the challenge path while it
// redirects the rest), then checks what a browser and a scanner see, the
// graceful shutdown, and a restart that reuses the stored certificates
// while the CA is down.
func TestHTTP01EndToEnd(t *testing.T) {
	resolver := startDNS(t)
	httpLn, httpsLn := listeners(t)
	pb := startPebble(t, pebbleConfig{httpPort: port(httpLn), tlsPort: port(httpsLn), dns: resolver.addr, validity: 90 * 24 * time.Hour})

	release := make(chan struct{})
	started := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.Handle("/", app())
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "finished")
	})
	storage := t.TempDir()
	// The default policy, with what only the site's owner can decide: a
	// Content-Security-Policy for its pages, and HSTS for its subdomains.
	policy := autotls.DefaultPolicy([]string{"site.test", "www.site.test"})
	policy.ContentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	policy.HSTSIncludeSubdomains = true
	s := serveSite(t, mux, autotls.Options{
		Domains: []string{"site.test", "www.site.test"}, CA: pb.directory, CARoots: pb.apiRoots,
		Email: "ops@site.test", Storage: storage, DisableTLSALPNChallenge: true, Policy: &policy,
	}, httpLn, httpsLn)
	s.waitCertificate(t, "site.test", "www.site.test")
	if !strings.Contains(pb.logs.String(), "Attempting to validate w/ HTTP: http://site.test:"+strconv.Itoa(s.httpPort)+"/.well-known/acme-challenge/") {
		t.Errorf("Pebble's log shows no HTTP-01 validation on the site's port:\n%s", pb.logs.String())
	}
	c := s.client(pb.rootPool())

	t.Run("HTTPS with a chain to Pebble's root", func(t *testing.T) {
		for _, name := range []string{"site.test", "www.site.test"} {
			resp, err := c.Get(s.httpsURL(name, "/"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "hello from "+name) || resp.Proto != "HTTP/2.0" {
				t.Errorf("%s: %d %s %q", name, resp.StatusCode, resp.Proto, body)
			}
			chain := resp.TLS.VerifiedChains[0]
			if !chain[len(chain)-1].Equal(pb.root) || chain[0].VerifyHostname(name) != nil {
				t.Errorf("%s: chain %v does not end at Pebble's root", name, chain)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
				t.Errorf("%s: HSTS %q", name, got)
			}
			if got := resp.Header.Get("Set-Cookie"); got != "sessionid=abc; Path=/; Secure; HttpOnly; SameSite=Lax" {
				t.Errorf("%s: Set-Cookie %q", name, got)
			}
		}
		if st := s.status("site.test"); st.Err != nil || time.Until(st.NotAfter) < 80*24*time.Hour {
			t.Errorf("status %+v", st)
		}
		// A name with no certificate gets no handshake, and a Host outside
		// the domains gets 400 even on a valid connection.
		if _, err := s.handshake(t, "other.test", pb.rootPool()); err == nil {
			t.Error("handshake for a name not in Domains succeeded")
		}
		req, _ := http.NewRequest("GET", s.httpsURL("site.test", "/"), nil)
		req.Host = "evil.test"
		if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Host evil.test over HTTPS: %v %v", resp, err)
		}
	})

	t.Run(":80 redirects all but the challenges", func(t *testing.T) {
		for _, tc := range []struct {
			method, host, path string
			status             int
			location           string
		}{
			{"GET", "site.test", "/a/b?q=1", 301, s.httpsURL("site.test", "/a/b?q=1")},
			{"HEAD", "www.site.test", "/", 301, s.httpsURL("www.site.test", "/")},
			{"POST", "site.test", "/form", 308, s.httpsURL("site.test", "/form")},
			{"GET", "SITE.test.", "/", 301, s.httpsURL("SITE.test", "/")},
			{"GET", "site.test", "/.well-known/acme-challenge/no-such-token", 301, s.httpsURL("site.test", "/.well-known/acme-challenge/no-such-token")},
			{"GET", "evil.test", "/", 400, ""},
		} {
			req, _ := http.NewRequest(tc.method, s.httpURL("127.0.0.1", tc.path), strings.NewReader("a=1"))
			req.Host = tc.host + ":" + strconv.Itoa(s.httpPort)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
				t.Errorf("%s http://%s%s: %d %q, want %d %q", tc.method, tc.host, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
			}
			if resp.Header.Get("Strict-Transport-Security") != "" {
				t.Errorf("%s http://%s%s: HSTS on plain HTTP", tc.method, tc.host, tc.path)
			}
		}
	})

	t.Run("the scanner grades it A+", func(t *testing.T) {
		sc, err := scan.New(scan.Options{
			HTTPPort: s.httpPort, HTTPSPort: s.httpsPort, CAFiles: []string{pb.rootFile},
			Resolve: map[string]string{
				"site.test:" + strconv.Itoa(s.httpPort):  "127.0.0.1",
				"site.test:" + strconv.Itoa(s.httpsPort): "127.0.0.1",
			},
			Timeout: 2 * time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		res := sc.Scan(context.Background(), "site.test")
		// A grade earned in full: fetched, every check observed.
		if !res.Graded() || res.Incomplete || res.Grade != "A+" {
			var failed []string
			for _, ch := range append(scan.FixFirst(res.Checks), res.ErroredChecks()...) {
				failed = append(failed, fmt.Sprintf("%s %s %s (%d): %s %s", ch.ID, ch.Status, ch.Title, ch.ScoreImpact, ch.Message, ch.Error))
			}
			t.Errorf("grade %q (incomplete %v), score %d, error %+v:\n%s", res.Grade, res.Incomplete, res.Score, res.Error, strings.Join(failed, "\n"))
		}
	})

	t.Run("graceful shutdown finishes the requests in flight", func(t *testing.T) {
		got := make(chan string, 1)
		go func() {
			resp, err := c.Get(s.httpsURL("site.test", "/slow"))
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got <- string(b)
		}()
		<-started
		s.cancel()
		// New connections are refused once the listeners close, while the
		// request in flight is still running.
		waitFor(t, "the HTTPS listener closes", time.Minute, func() bool {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpsPort)), time.Second)
			if err == nil {
				conn.Close()
			}
			return err != nil
		})
		close(release)
		if body := <-got; body != "finished" {
			t.Errorf("request in flight: %q", body)
		}
		s.stop(t)
	})

	t.Run("a restart serves the stored certificates while the CA is down", func(t *testing.T) {
		before, err := s.handshakeAfterStop(pb)
		if err == nil {
			t.Fatalf("the stopped server still answers (%v)", before.Subject)
		}
		pb.stop()
		httpLn, httpsLn := listeners(t)
		s2 := serveSite(t, app(), autotls.Options{
			Domains: []string{"site.test", "www.site.test", "new.site.test"}, CA: pb.directory, CARoots: pb.apiRoots,
			Email: "ops@site.test", Storage: storage,
		}, httpLn, httpsLn)
		s2.waitCertificate(t, "site.test", "www.site.test")
		waitFor(t, "new.site.test's failure is reported", issueDeadline, func() bool { return s2.status("new.site.test").Err != nil })
		if e := s2.status("new.site.test").Err; e.Kind != autotls.KindCAUnreachable || !strings.Contains(s2.logs.String(), "the ACME CA is unreachable") {
			t.Errorf("new.site.test: %v (kind %s)", e, e.Kind)
		}
		resp, err := s2.client(pb.rootPool()).Get(s2.httpsURL("site.test", "/"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("site.test after the restart: %d", resp.StatusCode)
		}
	})
}

// TestTLSALPN01AndRenewal issues through the TLS-ALPN-01 challenge alone
// (answered by the HTTPS listener) certificates that live two minutes, and
// waits for the server to replace one before it expires.
func TestTLSALPN01AndRenewal(t *testing.T) {
	resolver := startDNS(t)
	httpLn, httpsLn := listeners(t)
	pb := startPebble(t, pebbleConfig{httpPort: port(httpLn), tlsPort: port(httpsLn), dns: resolver.addr, validity: 2 * time.Minute})
	s := serveSite(t, app(), autotls.Options{
		Domains: []string{"alpn.test"}, CA: pb.directory, CARoots: pb.apiRoots,
		DisableHTTPChallenge: true, RenewCheckInterval: time.Second,
	}, httpLn, httpsLn)
	s.waitCertificate(t, "alpn.test")
	// Only TLS-ALPN-01 was on offer (Pebble logs its HTTP-01 attempts, and
	// there were none), so the HTTPS listener answered the challenge.
	if strings.Contains(pb.logs.String(), "validate w/ HTTP") {
		t.Errorf("Pebble validated over HTTP:\n%s", pb.logs.String())
	}
	first, err := s.handshake(t, "alpn.test", pb.rootPool())
	if err != nil {
		t.Fatal(err)
	}
	if first.NotAfter.Sub(first.NotBefore) > 3*time.Minute {
		t.Fatalf("Pebble issued a certificate valid %v, not two minutes", first.NotAfter.Sub(first.NotBefore))
	}
	var renewed *x509.Certificate
	waitFor(t, "the certificate is renewed", issueDeadline, func() bool {
		leaf, err := s.handshake(t, "alpn.test", pb.rootPool())
		if err == nil && leaf.SerialNumber.Cmp(first.SerialNumber) != 0 {
			renewed = leaf
			return true
		}
		return false
	})
	if !renewed.NotAfter.After(first.NotAfter) {
		t.Errorf("renewed certificate expires %v, the first %v", renewed.NotAfter, first.NotAfter)
	}
	if st := s.status("alpn.test"); !st.NotAfter.Equal(renewed.NotAfter) || st.Err != nil {
		t.Errorf("status %+v after the renewal to %v", st, renewed.NotAfter)
	}
	if !strings.Contains(s.logs.String(), "certificate renewed") {
		t.Errorf("no renewal in the log")
	}
}

// TestErrors checks that each kind of failure is reported as such, and that
// the names that have certificates keep being served.
func TestErrors(t *testing.T) {
	t.Run("challenge failed", func(t *testing.T) {
		resolver := startDNS(t)
		resolver.set("fail.test", "127.0.0.2") // nothing listens there
		httpLn, httpsLn := listeners(t)
		pb := startPebble(t, pebbleConfig{httpPort: port(httpLn), tlsPort: port(httpsLn), dns: resolver.addr, validity: 24 * time.Hour})
		s := serveSite(t, app(), autotls.Options{
			Domains: []string{"ok.test", "fail.test"}, CA: pb.directory, CARoots: pb.apiRoots,
		}, httpLn, httpsLn)
		s.waitCertificate(t, "ok.test")
		waitFor(t, "fail.test's failure is reported", issueDeadline, func() bool { return s.status("fail.test").Err != nil })
		e := s.status("fail.test").Err
		if e.Kind != autotls.KindChallengeFailed || e.Name != "fail.test" || e.Renewal {
			t.Errorf("fail.test: %v (kind %s)", e, e.Kind)
		}
		if !strings.Contains(s.logs.String(), "could not validate the challenge") {
			t.Error("the log does not say the challenge failed")
		}
		resp, err := s.client(pb.rootPool()).Get(s.httpsURL("ok.test", "/"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("ok.test: %d", resp.StatusCode)
		}
	})

	t.Run("CA unreachable", func(t *testing.T) {
		down, err := testnet.ClosedAddr()
		if err != nil {
			t.Fatal(err)
		}
		httpLn, httpsLn := listeners(t)
		s := serveSite(t, app(), autotls.Options{Domains: []string{"site.test"}, CA: "https://" + down + "/dir"}, httpLn, httpsLn)
		waitFor(t, "the failure is reported", issueDeadline, func() bool { return s.status("site.test").Err != nil })
		if e := s.status("site.test").Err; e.Kind != autotls.KindCAUnreachable {
			t.Errorf("%v (kind %s)", e, e.Kind)
		}
		if !strings.Contains(s.logs.String(), "level=ERROR") || !strings.Contains(s.logs.String(), "the ACME CA is unreachable") {
			t.Errorf("the log does not report it at ERROR")
		}
		// The server is still up: the plain-HTTP listener redirects.
		req, _ := http.NewRequest("GET", s.httpURL("127.0.0.1", "/"), nil)
		req.Host = "site.test"
		resp, err := s.client(nil).Do(req)
		if err != nil || resp.StatusCode != 301 {
			t.Errorf("redirect while the CA is down: %v %v", resp, err)
		}
	})

	t.Run("rate limited", func(t *testing.T) {
		resolver := startDNS(t)
		httpLn, httpsLn := listeners(t)
		pb := startPebble(t, pebbleConfig{httpPort: port(httpLn), tlsPort: port(httpsLn), dns: resolver.addr, validity: 24 * time.Hour})
		// Pebble enforces no rate limits, so a proxy in front of it answers
		// new orders with the problem Let's Encrypt sends, keeping Pebble's
		// nonce; every other request reaches the real CA.
		target, _ := url.Parse(pb.directory)
		proxy := &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(&url.URL{Scheme: "https", Host: target.Host})
				r.Out.Host = r.In.Host // Pebble writes its URLs, and checks the JWS url, with the proxy's host
			},
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pb.apiRoots}},
			ModifyResponse: func(resp *http.Response) error {
				if resp.Request.URL.Path != "/order-plz" {
					return nil
				}
				problem := `{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s","status":429}`
				resp.StatusCode, resp.Status = 429, "429 Too Many Requests"
				resp.Header.Set("Content-Type", "application/problem+json")
				resp.Header.Set("Retry-After", "3600")
				resp.Header.Del("Location")
				resp.Header.Set("Content-Length", strconv.Itoa(len(problem)))
				resp.Body.Close()
				resp.Body = io.NopCloser(strings.NewReader(problem))
				return nil
			},
		}
		front := httptest.NewTLSServer(proxy)
		defer front.Close()
		roots := x509.NewCertPool()
		roots.AddCert(front.Certificate())
		s := serveSite(t, app(), autotls.Options{Domains: []string{"busy.test"}, CA: front.URL + "/dir", CARoots: roots}, httpLn, httpsLn)
		waitFor(t, "the failure is reported", issueDeadline, func() bool { return s.status("busy.test").Err != nil })
		e := s.status("busy.test").Err
		if e.Kind != autotls.KindRateLimited || !strings.Contains(e.Error(), "rate-limits") || !strings.Contains(e.Error(), "too many certificates") {
			t.Errorf("%v (kind %s)", e, e.Kind)
		}
		var ae *autotls.Error
		if !errors.As(error(e), &ae) {
			t.Error("not an *autotls.Error")
		}
	})
}

// TestOnDemand obtains a certificate during the first handshake for a name
// the decision function approves, and for no other.
func TestOnDemand(t *testing.T) {
	resolver := startDNS(t)
	httpLn, httpsLn := listeners(t)
	pb := startPebble(t, pebbleConfig{httpPort: port(httpLn), tlsPort: port(httpsLn), dns: resolver.addr, validity: 24 * time.Hour})
	decide := func(_ context.Context, name string) error {
		if strings.HasSuffix(name, ".tenant.test") {
			return nil
		}
		return fmt.Errorf("%s is not a tenant", name)
	}
	s := serveSite(t, app(), autotls.Options{Domains: []string{"main.test"}, OnDemand: decide, CA: pb.directory, CARoots: pb.apiRoots}, httpLn, httpsLn)
	c := s.client(pb.rootPool())
	s.waitCertificate(t, "main.test")

	resp, err := c.Get(s.httpsURL("a.tenant.test", "/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || s.status("a.tenant.test").NotAfter.IsZero() {
		t.Errorf("a.tenant.test: %d, status %+v", resp.StatusCode, s.status("a.tenant.test"))
	}
	if _, err := s.handshake(t, "stranger.test", pb.rootPool()); err == nil {
		t.Error("a certificate was served for a name the decision function refuses")
	}
	// The Host must be the name the connection was made for.
	req, _ := http.NewRequest("GET", s.httpsURL("a.tenant.test", "/"), nil)
	req.Host = "b.tenant.test"
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host b.tenant.test on a.tenant.test's connection: %v %v", resp, err)
	}
	// Plain HTTP redirects only names that can get a certificate.
	for host, want := range map[string]int{"b.tenant.test": 301, "stranger.test": 400} {
		req, _ := http.NewRequest("GET", s.httpURL("127.0.0.1", "/"), nil)
		req.Host = host
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != want {
			t.Errorf("http://%s/: %v %v, want %d", host, resp, err, want)
		}
	}
}
