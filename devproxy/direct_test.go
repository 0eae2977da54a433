package devproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDirectEligible(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		body           string
		header         string
		want           bool
	}{
		{"GET", "/", "", "", true},
		{"HEAD", "/a?b=c", "", "", true},
		{"OPTIONS", "/x", "", "", true},
		{"POST", "/", "", "", false},
		{"DELETE", "/", "", "", false},
		{"GET", "/", "body", "", false},                 // a GET with a body goes the general way
		{"GET", "/ws", "", "Upgrade: websocket", false}, // WebSocket handshakes need the Transport
		{"OPTIONS", "*", "", "", false},
	} {
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: localhost\r\n", tc.method, tc.target)
		if tc.header != "" {
			raw += tc.header + "\r\nConnection: Upgrade\r\n"
		}
		if tc.body != "" {
			raw += fmt.Sprintf("Content-Length: %d\r\n", len(tc.body))
		}
		raw += "\r\n" + tc.body
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.target, err)
		}
		if got := directEligible(r); got != tc.want {
			t.Errorf("directEligible(%s %s %q) = %v, want %v", tc.method, tc.target, tc.header, got, tc.want)
		}
	}
}

// countingUpstream is an application that counts the TCP connections the
// proxy opens to it.
func countingUpstream(t *testing.T, h http.Handler) (*url.URL, *atomic.Int32, *httptest.Server) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return mustUpstream(t, srv.URL), &conns, srv
}

func TestDirectPathReusesAndReplacesConnections(t *testing.T) {
	up, conns, srv := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", "5")
			return
		}
		if r.URL.Path == "/304" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "hello")
	}))
	ts := start(t, Config{Upstream: up})
	for _, c := range []*http.Client{ts.h1, ts.h2} {
		for i := range 10 {
			path := []string{"/", "/304"}[i%2]
			resp, body := ts.get(t, c, ts.url("localhost", path))
			want, wantBody := http.StatusOK, "hello"
			if path == "/304" {
				want, wantBody = http.StatusNotModified, ""
			}
			if resp.StatusCode != want || body != wantBody {
				t.Fatalf("GET %s: %d %q, want %d %q", path, resp.StatusCode, body, want, wantBody)
			}
		}
		req, _ := http.NewRequest(http.MethodHead, ts.url("localhost", "/"), nil)
		if resp, _ := do(t, c, req); resp.StatusCode != http.StatusOK || resp.ContentLength != 5 {
			t.Fatalf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("sequential requests opened %d upstream connections, want 1 reused", n)
	}

	// The application restarts (its connections are closed while idle in
	// the pool): the next request is sent again on a new connection.
	srv.CloseClientConnections()
	for range 3 {
		if resp, body := ts.get(t, ts.h1, ts.url("localhost", "/")); resp.StatusCode != http.StatusOK || body != "hello" {
			t.Fatalf("after the application closed its connections: %d %q", resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("after the restart: %d upstream connections in all, want 2", n)
	}
}

// oneShotUpstream answers one request per connection and then closes it
// without saying so (no "Connection: close"), like a server whose keep-alive
// timeout is shorter than the proxy's.
func oneShotUpstream(t *testing.T) (*url.URL, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	u := serveRaw(t, func(c net.Conn) {
		conns.Add(1)
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		// Let the proxy pool the connection before it goes.
		time.Sleep(20 * time.Millisecond)
	})
	return u, &conns
}

func TestDirectPathRetriesConnectionClosedWhileIdle(t *testing.T) {
	up, conns := oneShotUpstream(t)
	ts := start(t, Config{Upstream: up})
	for i := range 5 {
		resp, body := ts.get(t, ts.h1, ts.url("localhost", "/"))
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("request %d: %d %q\n%s", i, resp.StatusCode, body, ts.logs.dump())
		}
		time.Sleep(50 * time.Millisecond) // the upstream closes its side meanwhile
	}
	if n := conns.Load(); n < 5 {
		t.Errorf("%d upstream connections for 5 requests, want one each", n)
	}
}

func TestDirectPathHopByHopHeaders(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"X-Secret", "Keep-Alive", "Proxy-Authorization", "Te", "X-Also-Listed"} {
			if v := r.Header.Get(h); v != "" {
				http.Error(w, "received hop-by-hop "+h+": "+v, http.StatusTeapot)
				return
			}
		}
		if r.Header.Get("X-End-To-End") != "kept" {
			http.Error(w, "end-to-end header lost", http.StatusTeapot)
			return
		}
		w.Header().Set("Connection", "X-Internal")
		w.Header().Set("X-Internal", "hop")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Public", "yes")
		io.WriteString(w, "ok")
	}))
	ts := start(t, Config{Upstream: up})
	resp, body := ts.get(t, ts.h1, ts.url("localhost", "/"),
		"Connection", "keep-alive, X-Secret", "Connection", "x-also-listed",
		"X-Secret", "1", "X-Also-Listed", "2", "Keep-Alive", "timeout=9",
		"Proxy-Authorization", "Basic Zm9vOmJhcg==", "Te", "gzip", "X-End-To-End", "kept")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, h := range []string{"X-Internal", "Keep-Alive"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("browser received the application's hop-by-hop %s: %s", h, v)
		}
	}
	if resp.Header.Get("X-Public") != "yes" {
		t.Errorf("end-to-end response header lost: %v", resp.Header)
	}
}

func TestDirectPathTrailers(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		io.WriteString(w, "body")
		w.(http.Flusher).Flush()
		w.Header().Set("X-Checksum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Late", "def")
	}))
	ts := start(t, Config{Upstream: up})
	for _, c := range []*http.Client{ts.h1, ts.h2} {
		resp, body := ts.get(t, c, ts.url("localhost", "/"))
		if body != "body" {
			t.Fatalf("body %q", body)
		}
		if got := resp.Trailer.Get("X-Checksum"); got != "abc" {
			t.Errorf("%s: announced trailer X-Checksum = %q, want abc (trailers %v)", resp.Proto, got, resp.Trailer)
		}
		if got := resp.Trailer.Get("X-Late"); got != "def" {
			t.Errorf("%s: unannounced trailer X-Late = %q, want def (trailers %v)", resp.Proto, got, resp.Trailer)
		}
	}
}

func TestDirectPathInformationalResponses(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		io.WriteString(w, "page")
	}))
	ts := start(t, Config{Upstream: up})
	for _, c := range []*http.Client{ts.h1, ts.h2} {
		var mu sync.Mutex
		var hints []string
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			hints = append(hints, fmt.Sprintf("%d %s", code, h.Get("Link")))
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, ts.url("localhost", "/"), nil)
		resp, body := do(t, c, req)
		if resp.StatusCode != http.StatusOK || body != "page" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		mu.Lock()
		if len(hints) != 1 || hints[0] != "103 </style.css>; rel=preload; as=style" {
			t.Errorf("%s: informational responses %q, want the 103 with its Link", resp.Proto, hints)
		}
		mu.Unlock()
		if v := resp.Header.Get("Link"); v != "" {
			t.Errorf("%s: the 103's Link leaked into the final response: %s", resp.Proto, v)
		}
	}
}

func TestDirectPathBrowserLeavesClosesUpstream(t *testing.T) {
	entered := make(chan struct{}, 1)
	left := make(chan struct{}, 1)
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done() // a long poll: nothing until the client goes
		left <- struct{}{}
	}))
	ts := start(t, Config{Upstream: up})
	for _, c := range []*http.Client{ts.h1, ts.h2} {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.url("localhost", "/poll"), nil)
		errc := make(chan error, 1)
		go func() {
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		<-entered
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("client: %v, want context.Canceled", err)
		}
		select {
		case <-left:
		case <-time.After(10 * time.Second):
			t.Fatalf("the application still waits for a browser that left (%T)", c.Transport)
		}
	}
}

// rawUpstream answers every request with the given bytes and closes.
func rawUpstream(t *testing.T, response string) *url.URL {
	t.Helper()
	return serveRaw(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, response)
	})
}

func TestDirectPathBrokenResponses(t *testing.T) {
	for _, tc := range []struct {
		name, response string
		status         int  // for a response that never started
		broken         bool // the browser must see a broken body, not a short one
	}{
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", http.StatusBadGateway, false},
		{"closed at once", "", http.StatusBadGateway, false},
		{"bad status line", "HTTP/1.1 two hundred OK\r\n\r\n", http.StatusBadGateway, false},
		{"switching protocols unasked", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", http.StatusBadGateway, false},
		// Passed on, as ReverseProxy does: Go's Transport does not limit
		// the number of 1xx responses it delivers.
		{"many 1xx", strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 7) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", http.StatusOK, false},
		{"status below 100", "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", http.StatusBadGateway, false},
		{"head without end", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Padding: "+strings.Repeat("a", 1000)+"\r\n", 2<<10) + "\r\n", http.StatusBadGateway, false},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", http.StatusOK, true},
		{"cut chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", http.StatusOK, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, Config{Upstream: rawUpstream(t, tc.response)})
			for _, c := range []*http.Client{ts.h1, ts.h2} {
				resp, err := c.Get(ts.url("localhost", "/"))
				if err != nil {
					if tc.broken {
						continue // aborted before the head went out: broken too
					}
					t.Fatalf("%v", err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Fatalf("%s: status %d, want %d: %s", resp.Proto, resp.StatusCode, tc.status, body)
				}
				if tc.broken && err == nil {
					t.Errorf("%s: body %q read without error: a cut response must not look complete", resp.Proto, body)
				}
				if !tc.broken && err != nil {
					t.Errorf("%s: error page: %v", resp.Proto, err)
				}
			}
		})
	}
}

func TestDirectPathUpstreamDown(t *testing.T) {
	ts := start(t, Config{Upstream: mustUpstream(t, freePort(t))})
	resp, body := ts.get(t, ts.h1, ts.url("localhost", "/"))
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "not running") {
		t.Fatalf("status %d, body %.200q: want the 'not running' page", resp.StatusCode, body)
	}
}

// FuzzWriteDirectRequest checks that no header name or value, path or host
// can make the proxy's request mean something else to the application: the
// bytes written either parse back to the same request or were refused.
func FuzzWriteDirectRequest(f *testing.F) {
	f.Add("/a?b=c", "X-Custom", "value", "localhost:8443")
	f.Add("/%0d%0a", "X-Inject", "a\r\nX-Evil: 1", "localhost")
	f.Add("/ x", "Bad Name", "v", "host")
	f.Add("/", "X", "v\x00", "h\r\nX: y")
	f.Add("/p", "Connection", "close", "[::1]:8443")
	f.Fuzz(func(t *testing.T, path, name, value, host string) {
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return
		}
		r := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{name: {value}}, Host: host}
		head := &directHead{host: host, proto: "https", fwdHost: host, fwdFor: "127.0.0.1", forwarded: "proto=https"}
		var b strings.Builder
		w := bufio.NewWriter(&b)
		if err := writeDirectRequest(w, r, head); err != nil {
			return
		}
		w.Flush()
		got, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
		if err != nil {
			t.Fatalf("written request does not parse: %v\n%q", err, b.String())
		}
		if got.Host != host || got.URL.RequestURI() != u.RequestURI() {
			t.Fatalf("host %q uri %q, want %q %q\n%q", got.Host, got.URL.RequestURI(), host, u.RequestURI(), b.String())
		}
		for k := range got.Header {
			switch k {
			case "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded":
				continue
			}
			if k != http.CanonicalHeaderKey(name) {
				t.Fatalf("unexpected header %q in\n%q", k, b.String())
			}
		}
		if got.Header.Get("X-Forwarded-Proto") != "https" {
			t.Fatalf("X-Forwarded-Proto overridden:\n%q", b.String())
		}
	})
}

// An application with a short keep-alive timeout (Node.js closes idle
// connections after 5 s) leaves the proxy's pool full of closed
// connections after a burst; the next burst must not see one of them.
func TestDirectPathAfterAppClosedAllIdleConnections(t *testing.T) {
	release := make(chan struct{})
	var inFlight atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") != "" && inFlight.Add(1) < 8 {
			<-release // keep the burst in flight together, so it opens 8 connections
		} else if r.URL.Query().Get("hold") != "" {
			close(release)
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = 50 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	ts := start(t, Config{Upstream: mustUpstream(t, srv.URL)})

	burst := func(query string) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for range 8 {
			wg.Go(func() {
				resp, err := ts.h2.Get(ts.url("localhost", "/"+query))
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Sprintf("%d %.80q", resp.StatusCode, body)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("request after the application closed its idle connections: %s", e)
		}
	}
	burst("?hold=1")
	// Wait until the application has closed every idle connection.
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(100 * time.Millisecond)
		n := 0
		ts.proxy.direct.mu.Lock()
		n = len(ts.proxy.direct.idle)
		ts.proxy.direct.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(200 * time.Millisecond)
	burst("")
}

// Trailers net/http's HTTP/2 server cannot encode (an invalid name, or one
// announced and never sent) must not leave the browser waiting for the end
// of the response, on either path.
func TestUnsendableTrailersEndTheResponse(t *testing.T) {
	for _, response := range []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX Late: def\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Never\r\n\r\n4\r\nbody\r\n0\r\n\r\n",
	} {
		ts := start(t, Config{Upstream: rawUpstream(t, response)})
		for _, method := range []string{http.MethodGet, http.MethodPost} { // direct path, ReverseProxy
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			req, _ := http.NewRequestWithContext(ctx, method, ts.url("localhost", "/"), strings.NewReader(""))
			if method == http.MethodPost {
				req.Body = io.NopCloser(strings.NewReader("x"))
				req.ContentLength = 1
			}
			resp, err := ts.h2.Do(req)
			if err != nil {
				cancel()
				t.Fatalf("%s: %v", method, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			cancel()
			if err != nil || string(body) != "body" {
				t.Errorf("%s %.40q: body %q, %v: the response did not end", method, response, body, err)
			}
		}
	}
}
