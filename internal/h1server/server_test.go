package h1server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca"
)

type testServer struct {
	*Server
	addr string
	ca   *localca.CA
	logs *syncBuffer
	done chan error // what Serve returned
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func start(t *testing.T, h http.Handler, configure ...func(*Server)) *testServer {
	t.Helper()
	ca, cfg := testTLS(t)
	logs := &syncBuffer{}
	s := newServer(h, cfg, log.New(logs, "", 0))
	for _, f := range configure {
		f(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, addr: ln.Addr().String(), ca: ca, logs: logs, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return ts
}

func (ts *testServer) client(h2 bool) *http.Client {
	var protos http.Protocols
	protos.SetHTTP1(!h2)
	protos.SetHTTP2(h2)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ts.ca.Pool(), ServerName: "example.test"},
		Protocols:       &protos,
	}}
}

func (ts *testServer) dial(t *testing.T) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.ca.Pool(), ServerName: "example.test", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second)) // a bound for a broken server, not a timing check
	t.Cleanup(func() { c.Close() })
	return c
}

// servedBy names the server that answered: h1server itself or the
// fallback.
func servedBy(w http.ResponseWriter) string {
	if _, ok := w.(*response); ok {
		return "h1server"
	}
	return "fallback"
}

func TestWhoServesWhat(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || !r.TLS.HandshakeComplete || r.RemoteAddr == "" || r.Context().Value(http.LocalAddrContextKey) == nil {
			t.Errorf("%s %s: request without TLS state, remote or local address", r.Method, r.URL)
		}
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, servedBy(w)+" "+r.Proto+" "+string(body))
	}))
	h1, h2 := ts.client(false), ts.client(true)
	url := "https://" + ts.addr + "/"
	for _, tc := range []struct {
		client *http.Client
		method string
		body   string
		want   string
	}{
		{h1, "GET", "", "h1server HTTP/1.1 "},
		{h1, "HEAD", "", ""},
		{h1, "DELETE", "", "h1server HTTP/1.1 "},
		{h2, "GET", "", "fallback HTTP/2.0 "},
		{h2, "POST", "form", "fallback HTTP/2.0 form"},
		// A body hands the connection over, and the next request on it
		// stays with the fallback.
		{h1, "POST", "form", "fallback HTTP/1.1 form"},
		{h1, "GET", "", "fallback HTTP/1.1 "},
	} {
		req, _ := http.NewRequest(tc.method, url, strings.NewReader(tc.body))
		if tc.body == "" {
			req.Body = nil
		}
		resp, err := tc.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.method, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != tc.want {
			t.Errorf("%s %s: %q, want %q", resp.Proto, tc.method, got, tc.want)
		}
	}
}

func TestPipelinedRequests(t *testing.T) {
	arrived, slow := make(chan struct{}), make(chan struct{})
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-slow
		}
		io.WriteString(w, r.URL.Path+" "+servedBy(w))
	}))
	c := ts.dial(t)
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
	<-arrived
	// Long enough for the watch for a client that hangs up to start, so
	// that it reads the start of the next request, which must not be
	// lost.
	time.Sleep(3 * watchDelay)
	io.WriteString(c, "GET /c HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(watchDelay)
	io.WriteString(c, "GET /d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	close(slow)
	br := bufio.NewReader(c)
	for _, want := range []string{"/slow h1server", "/b h1server", "/c h1server", "/d h1server"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the response %q: %v", want, err)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestSlowHandlerKeepsConnection checks that the watch for a client that
// hangs up, started under a slow handler, is stopped when the handler
// returns and leaves the connection as it was.
func TestSlowHandlerKeepsConnection(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(3 * watchDelay) // the watch starts meanwhile
		}
		if err := r.Context().Err(); err != nil {
			t.Errorf("%s: context ended while the client waits: %v", r.URL.Path, err)
		}
		io.WriteString(w, r.URL.Path)
	}))
	c := ts.dial(t)
	br := bufio.NewReader(c)
	for _, path := range []string{"/slow", "/next", "/slow", "/last"} {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != path {
			t.Errorf("got %q, want %q", got, path)
		}
	}
}

func TestClientGoneCancelsRequest(t *testing.T) {
	cancelled := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		cancelled <- r.Context().Err()
	}))
	c := ts.dial(t)
	io.WriteString(c, "GET /poll HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(2 * watchDelay)
	c.Close()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("context ended with %v, want Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler's context was not cancelled after the client hung up")
	}
}

func TestShutdown(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{})
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		io.WriteString(w, "done")
	}))
	idle := ts.dial(t)
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	idleBR := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(idleBR, nil); err != nil {
		t.Fatal(err)
	} else {
		io.ReadAll(resp.Body)
	}
	busy := ts.dial(t)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-arrived

	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(context.Background()) }()
	// The idle connection is closed at once.
	if n, err := idleBR.Read(make([]byte, 1)); err == nil {
		t.Errorf("idle connection read %d bytes after Shutdown, want it closed", n)
	}
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatalf("request in flight during Shutdown: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "done" || !resp.Close {
		t.Errorf("request in flight: %q, Connection close %v; want done and close", body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if _, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.ca.Pool(), ServerName: "example.test"}); err == nil {
		t.Error("a connection was accepted after Shutdown")
	}
}

func TestPlainHTTPToTheHTTPSPort(t *testing.T) {
	ts := start(t, http.NotFoundHandler())
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	got, _ := io.ReadAll(c)
	if want := "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	waitLog(t, ts.logs, "http: TLS handshake error from 127.0.0.1:")
}

func TestPanicsAreLoggedAndEndTheConnection(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		panic("boom")
	}))
	for _, path := range []string{"/boom", "/abort"} {
		c := ts.dial(t)
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n")
		if got, _ := io.ReadAll(c); len(got) != 0 {
			t.Errorf("%s: got %q, want the connection closed with nothing sent", path, got)
		}
	}
	waitLog(t, ts.logs, "http: panic serving 127.0.0.1:")
	if n := strings.Count(ts.logs.String(), "http: panic serving"); n != 1 {
		t.Errorf("%d panics logged, want 1 (ErrAbortHandler is not logged):\n%s", n, ts.logs)
	}
}

// TestReadHeaderTimeout checks that a head cut short ends the connection
// after ReadHeaderTimeout, also when the idle timeout is much longer (the
// client's read deadline, from ts.dial, is what an idle timeout of an hour
// would run into).
func TestReadHeaderTimeout(t *testing.T) {
	for _, idle := range []time.Duration{100 * time.Millisecond, time.Hour} {
		ts := start(t, http.NotFoundHandler(), func(s *Server) {
			s.ReadHeaderTimeout = 100 * time.Millisecond
			s.IdleTimeout = idle
		})
		for _, prefix := range []string{"", "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /half"} {
			c := ts.dial(t)
			io.WriteString(c, prefix)
			got, err := io.ReadAll(c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("idle timeout %v: after %q the server kept the connection open", idle, prefix)
			}
			if prefix != "" && !bytes.HasPrefix(got, []byte("HTTP/1.1 404")) {
				t.Errorf("idle timeout %v: after %q got %q, want one 404 and then the end", idle, prefix, got)
			}
		}
	}
}

// waitLog waits for the server's log to contain s; the server logs after
// the client has seen the outcome.
func waitLog(t *testing.T, logs *syncBuffer, s string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(logs.String(), s) {
			return
		}
	}
	t.Errorf("log lacks %q:\n%s", s, logs)
}

func TestRequestContextEndsWithHandler(t *testing.T) {
	ended := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		go func() {
			<-r.Context().Done()
			ended <- r.Context().Err()
		}()
		io.WriteString(w, "ok")
	}))
	resp, err := ts.client(false).Get("https://" + ts.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("request context ended with %v, want Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request's context did not end with its handler (the connection is still open)")
	}
}
