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

func TestUpstreamConnectionsReusedAndReplaced(t *testing.T) {
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

func TestRetryOnConnectionClosedWhileIdle(t *testing.T) {
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

func TestHopByHopHeaders(t *testing.T) {
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

func TestTrailers(t *testing.T) {
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

func TestInformationalResponses(t *testing.T) {
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

func TestBrowserLeavesClosesUpstream(t *testing.T) {
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

func TestBrokenResponses(t *testing.T) {
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

func TestUpstreamDown(t *testing.T) {
	ts := start(t, Config{Upstream: mustUpstream(t, freePort(t))})
	resp, body := ts.get(t, ts.h1, ts.url("localhost", "/"))
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "not running") {
		t.Fatalf("status %d, body %.200q: want the 'not running' page", resp.StatusCode, body)
	}
}

// trackedConns wraps the proxy's dialer to keep every upstream connection
// it opens, and whether the proxy has closed it.
type trackedConns struct {
	mu     sync.Mutex
	opened int
	open   map[*trackedConn]bool
}

type trackedConn struct {
	net.Conn
	t    *trackedConns
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.open, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

func trackUpstreamConns(p *proxy) *trackedConns {
	t := &trackedConns{open: map[*trackedConn]bool{}}
	dial := p.transport.DialContext
	p.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, t: t}
		t.mu.Lock()
		t.opened++
		t.open[tc] = true
		t.mu.Unlock()
		return tc, nil
	}
	return t
}

// counts returns how many connections the proxy opened, and how many of
// them it has not closed.
func (t *trackedConns) counts() (opened, open int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.opened, len(t.open)
}

// waitFor polls cond every 20 ms for up to 20 s; it is for outcomes that
// come a moment after the event that causes them, not a timing assertion.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// burst sends n requests to path at once with client c, and fails the
// test for any that does not get a 200. Over HTTP/2 (as a browser), n must
// stay within the server's 250 concurrent streams per connection: Go's
// client waits for a free stream rather than open another connection.
func burst(t *testing.T, ts *testServer, c *http.Client, n int, path string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for range n {
		wg.Go(func() {
			resp, err := c.Get(ts.url("localhost", path))
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
		t.Errorf("GET %s: %s", path, e)
	}
}

// heldApp answers "ok"; requests to /hold wait until n of them have
// arrived (for at most a minute, so that a broken test fails rather than
// hangs), so that a burst of n is in flight at once and needs n upstream
// connections. It counts the connections it has open.
func heldApp(t *testing.T, n int, idleTimeout time.Duration) (*url.URL, *atomic.Int32) {
	t.Helper()
	var arrived atomic.Int32
	all := make(chan struct{})
	var open atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			if arrived.Add(1) == int32(n) {
				close(all)
			}
			select {
			case <-all:
			case <-r.Context().Done():
				return
			case <-time.After(time.Minute):
			}
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = idleTimeout
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return mustUpstream(t, srv.URL), &open
}

// TestUpstreamClosesIdleConnections is the trickle after a burst: an
// application with a short keep-alive timeout (Node.js closes idle
// connections after 5 s) closes the connections a burst opened while they
// sit idle in the proxy's pool. The proxy must close its side of each at
// once, leaving none in CLOSE-WAIT, and the requests that follow, one at a
// time, must not be sent on a connection the application has closed.
func TestUpstreamClosesIdleConnections(t *testing.T) {
	const n = 64
	up, appOpen := heldApp(t, n, 100*time.Millisecond)
	ts := start(t, Config{Upstream: up, Quiet: true})
	conns := trackUpstreamConns(ts.proxy)
	burst(t, ts, ts.h2, n, "/hold")
	if opened, _ := conns.counts(); opened < n {
		t.Fatalf("a burst of %d requests in flight together opened %d upstream connections", n, opened)
	}
	if !waitFor(func() bool { return appOpen.Load() == 0 }) {
		t.Fatalf("the application still has %d connections open past its idle timeout", appOpen.Load())
	}
	if !waitFor(func() bool { _, open := conns.counts(); return open == 0 }) {
		opened, open := conns.counts()
		t.Fatalf("the application closed every connection, and the proxy still holds %d of %d open (CLOSE-WAIT)", open, opened)
	}
	for i := range 20 {
		if resp, body := ts.get(t, ts.h2, ts.url("localhost", "/")); resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("request %d of the trickle: %d %.100q", i, resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, open := conns.counts(); open > 1 {
		t.Errorf("a trickle of requests one at a time keeps %d upstream connections open, want 1", open)
	}
}

// TestUpstreamPoolBounded checks that after a burst wider than the pool,
// the proxy keeps at most maxIdleUpstream idle connections and closes the
// rest, even when the application would keep them all.
func TestUpstreamPoolBounded(t *testing.T) {
	const n = maxIdleUpstream + 44
	up, _ := heldApp(t, n, time.Hour)
	ts := start(t, Config{Upstream: up, Quiet: true})
	conns := trackUpstreamConns(ts.proxy)
	// More than one HTTP/2 connection carries: HTTP/1.1, a connection
	// per request, as several tabs or a load test would.
	burst(t, ts, ts.h1, n, "/hold")
	if opened, _ := conns.counts(); opened < n {
		t.Fatalf("a burst of %d requests in flight together opened %d upstream connections", n, opened)
	}
	if !waitFor(func() bool { _, open := conns.counts(); return open <= maxIdleUpstream }) {
		_, open := conns.counts()
		t.Errorf("%d upstream connections open after the burst, want at most %d", open, maxIdleUpstream)
	}
	// The pool serves the next burst without dialling again.
	opened, _ := conns.counts()
	burst(t, ts, ts.h2, 32, "/")
	if again, _ := conns.counts(); again != opened {
		t.Errorf("a second burst of 32 dialled %d new connections with %d idle in the pool", again-opened, maxIdleUpstream)
	}
}

// Trailers net/http's HTTP/2 server cannot encode (an invalid name, or one
// announced and never sent) must not leave the browser waiting for the end
// of the response.
func TestUnsendableTrailersEndTheResponse(t *testing.T) {
	for _, response := range []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX Late: def\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Never\r\n\r\n4\r\nbody\r\n0\r\n\r\n",
	} {
		ts := start(t, Config{Upstream: rawUpstream(t, response)})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.url("localhost", "/"), nil)
		resp, err := ts.h2.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%.40q: %v", response, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil || string(body) != "body" {
			t.Errorf("%.40q: body %q, %v: the response did not end", response, body, err)
		}
	}
}
