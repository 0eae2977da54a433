package devproxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/httpsguard/httpsguard"
	"golang.org/x/net/http2"
)

func TestWebSocketThroughProxy(t *testing.T) {
	for _, p := range []*httpsguard.Policy{nil, withPolicy} {
		t.Run(fmt.Sprintf("policy=%v", p != nil), func(t *testing.T) { testWebSocket(t, p) })
	}
}

func testWebSocket(t *testing.T, policy *httpsguard.Policy) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		// Tell the client what the proxy forwarded, then echo.
		ctx := r.Context()
		c.Write(ctx, websocket.MessageText, []byte("proto="+r.Header.Get("X-Forwarded-Proto")))
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, append([]byte("echo:"), msg...)); err != nil {
				return
			}
		}
	}))
	ts := start(t, Config{Upstream: up, Policy: policy})

	ctx := t.Context()
	// Browsers open WebSockets on an HTTP/1.1 connection when the server
	// does not offer extended CONNECT; ts.h1 does the same.
	c, resp, err := websocket.Dial(ctx, "wss://localhost:"+ts.httpsPort()+"/ws", &websocket.DialOptions{HTTPClient: ts.h1})
	if err != nil {
		t.Fatalf("dial through the proxy: %v", err)
	}
	defer c.CloseNow()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	_, first, err := c.Read(ctx)
	if err != nil || string(first) != "proto=https" {
		t.Fatalf("first message %q, %v; want proto=https", first, err)
	}
	for i := range 5 {
		want := fmt.Sprintf("message %d %s", i, strings.Repeat("x", i*1000))
		if err := c.Write(ctx, websocket.MessageText, []byte(want)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != "echo:"+want {
			t.Fatalf("echo %d: %q, %v", i, got, err)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// TestNoExtendedConnect checks that the HTTP/2 server does not announce
// SETTINGS_ENABLE_CONNECT_PROTOCOL: if it did, browsers would send
// WebSockets as HTTP/2 CONNECT streams, which the proxy cannot upgrade.
func TestNoExtendedConnect(t *testing.T) {
	ts := start(t, Config{Upstream: upstream(t, http.NotFoundHandler())})
	conn, err := tls.Dial("tcp", "127.0.0.1:"+ts.httpsPort(), &tls.Config{
		RootCAs: ts.ca.Pool(), ServerName: "localhost", NextProtos: []string{"h2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q, want h2", p)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("first frame %T, want SETTINGS", f)
	}
	if v, ok := sf.Value(http2.SettingEnableConnectProtocol); ok && v != 0 {
		t.Errorf("server announces SETTINGS_ENABLE_CONNECT_PROTOCOL=%d", v)
	}
}

// withPolicy is a policy for tests that check that streaming and upgrades
// also work through httpsguard's Guard, which wraps the ResponseWriter.
var withPolicy = &httpsguard.Policy{ContentTypeNosniff: true, SecureCookies: []string{"*"}}

func TestStreamsFlushedAtOnce(t *testing.T) {
	for _, ct := range []string{"text/event-stream", "text/plain; charset=utf-8"} {
		for _, p := range []*httpsguard.Policy{nil, withPolicy} {
			t.Run(fmt.Sprintf("%s/policy=%v", ct, p != nil), func(t *testing.T) { testStreamFlushed(t, ct, p) })
		}
	}
}

// testStreamFlushed checks a server-sent event stream, or a chunked
// response of unknown length (progress output, long polls), of type ct.
func testStreamFlushed(t *testing.T, ct string, policy *httpsguard.Policy) {
	release := make(chan struct{})
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		// Event two is only written once the client has read event one:
		// if the proxy held event one back, neither side would move and
		// the test would hang rather than pass.
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: two\n\n")
	}))
	ts := start(t, Config{Upstream: up, Policy: policy})
	for _, c := range []*http.Client{ts.h2, ts.h1} {
		resp, err := c.Get(ts.url("localhost", "/events"))
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || line != "data: one\n" {
			t.Fatalf("first event %q, %v", line, err)
		}
		release <- struct{}{}
		rest, err := io.ReadAll(br)
		resp.Body.Close()
		if err != nil || string(rest) != "\ndata: two\n\n" {
			t.Fatalf("rest %q, %v", rest, err)
		}
	}
}

// TestLargeBodiesStream sends a large upload and download through the
// proxy, with each side waiting for the other to have seen the first part
// before sending the rest: a proxy that buffered whole bodies would
// deadlock here.
func TestLargeBodiesStream(t *testing.T) {
	const part = 1 << 20
	const total = 16 << 20
	gotFirst := make(chan struct{})
	readFirst := make(chan struct{})
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			h := sha256.New()
			if _, err := io.CopyN(h, r.Body, part); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			close(gotFirst)
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintf(w, "%d %x", n+part, h.Sum(nil))
		case http.MethodGet:
			w.Header().Set("Content-Length", fmt.Sprint(total))
			// The first part in two writes, the second small: it reaches
			// the proxy in a read of its own, as a slow upstream's tail.
			w.Write(bytes.Repeat([]byte{'a'}, part-1000))
			w.(http.Flusher).Flush()
			w.Write(bytes.Repeat([]byte{'a'}, 1000))
			w.(http.Flusher).Flush()
			<-readFirst
			chunk := bytes.Repeat([]byte{'b'}, part)
			for range total/part - 1 {
				w.Write(chunk)
			}
		}
	}))
	ts := start(t, Config{Upstream: up, Quiet: true})

	// Upload.
	pr, pw := io.Pipe()
	want := sha256.New()
	go func() {
		chunk := bytes.Repeat([]byte{'u'}, part)
		want.Write(chunk)
		pw.Write(chunk)
		<-gotFirst
		for range total/part - 1 {
			want.Write(chunk)
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPut, ts.url("localhost", "/upload"), pr)
	resp, body := do(t, ts.h2, req)
	if wantBody := fmt.Sprintf("%d %x", total, want.Sum(nil)); resp.StatusCode != 200 || body != wantBody {
		t.Fatalf("upload: status %d body %q, want %q", resp.StatusCode, body, wantBody)
	}

	// Download.
	resp, err := ts.h2.Get(ts.url("localhost", "/download"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Most of the first part must arrive while the upstream waits: the
	// body streams. Not all of it: a response of known length goes through
	// the server's 4 KiB write buffer, which flushes when it fills or the
	// response ends (proxy.go), so its last bytes may wait for the rest,
	// and waiting for them here would wait for ever.
	first := make([]byte, part-16<<10)
	if _, err := io.ReadFull(resp.Body, first); err != nil || first[len(first)-1] != 'a' {
		t.Fatalf("first part: %v", err)
	}
	close(readFirst)
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != total-int64(len(first)) {
		t.Fatalf("rest of the download: %d bytes, %v", n, err)
	}
}

// TestConnectRejected checks that a CONNECT request (a client taking the
// server for a forward proxy) gets a clear refusal, not a tunnel.
func TestConnectRejected(t *testing.T) {
	ts := start(t, Config{Upstream: upstream(t, http.NotFoundHandler())})
	conn, err := tls.Dial("tcp", "127.0.0.1:"+ts.httpsPort(), &tls.Config{RootCAs: ts.ca.Pool(), ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("CONNECT got %d, want 405", resp.StatusCode)
	}
}

// TestShutdownEndsStreams checks that stopping the server (Ctrl-C) does not
// hang on an open WebSocket or event stream, which http.Server.Shutdown
// does not close by itself.
func TestShutdownEndsStreams(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.Read(r.Context())
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: hello\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	ts := start(t, Config{Upstream: up})
	ctx := t.Context()
	ws, _, err := websocket.Dial(ctx, "wss://localhost:"+ts.httpsPort()+"/ws", &websocket.DialOptions{HTTPClient: ts.h1})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	resp, err := ts.h2.Get(ts.url("localhost", "/events"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || line != "data: hello\n" {
		t.Fatalf("event %q, %v", line, err)
	}

	if err := ts.stop(); err != nil {
		t.Fatalf("Serve after shutdown: %v", err)
	}
	if _, _, err := ws.Read(ctx); err == nil {
		t.Error("WebSocket still open after shutdown")
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("event stream ended cleanly, want it cut by the shutdown")
	}
}

// TestShutdownClosesIdleHTTP2 checks that Ctrl-C ends an idle HTTP/2
// connection whose client keeps it open after the GOAWAY, as Go's does:
// net/http's server closes it itself a second later, within the shutdown's
// grace period. (Chromium closes such a connection at once.)
func TestShutdownClosesIdleHTTP2(t *testing.T) {
	ts := start(t, Config{Upstream: upstream(t, http.HandlerFunc(echoHeaders))})
	var conn net.Conn
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { conn = info.Conn }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", ts.url("localhost", "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.h2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || conn == nil {
		t.Fatalf("client spoke %s (connection %v), want HTTP/2", resp.Proto, conn)
	}
	if err := ts.stop(); err != nil {
		t.Fatalf("Serve after shutdown: %v", err)
	}
	// Serve returned: the server has closed the connection, which the
	// client's transport sees as the end of its reads.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the idle HTTP/2 connection is still open after shutdown (read: %v)", err)
	}
}

// TestShutdownLetsHTTP2RequestsFinish checks that a shutdown lets the
// requests in flight on an HTTP/2 connection finish.
func TestShutdownLetsHTTP2RequestsFinish(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	body := strings.Repeat("slow but whole. ", 4096)
	ts := start(t, Config{Upstream: upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, body)
	}))})
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := ts.h2.Get(ts.url("localhost", "/slow"))
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-arrived
	stopped := make(chan error, 1)
	go func() { stopped <- ts.stop() }()
	// Shutdown has begun once the listener refuses connections.
	addr := ts.HTTPSAddrs()[0].String()
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		runtime.Gosched()
	}
	// Long enough for a shutdown that ignored the request to have closed
	// its connection.
	time.Sleep(200 * time.Millisecond)
	close(release)
	if r := <-got; r.err != nil || r.body != body {
		t.Errorf("response during shutdown: %d bytes, %v; want the whole %d-byte body", len(r.body), r.err, len(body))
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve after shutdown: %v", err)
	}
}
