package httpsguard

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

var writerPolicy = Policy{HSTSSeconds: 60, FrameOptions: "DENY", ContentTypeNosniff: true, SecureCookies: []string{"*"}}

// startH2 starts a TLS server that speaks HTTP/2, where Hijack is not
// available and flushing goes through the HTTP/2 framer.
func startH2(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, srv.Client()
}

func TestFlushStreamsWithHeaders(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run(proto, func(t *testing.T) {
			g, _ := New(writerPolicy)
			release := make(chan struct{})
			h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
				_, _ = io.WriteString(w, "first\n")
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				<-release // the client must see "first" before the handler goes on
				_, _ = io.WriteString(w, "second\n")
			}))
			var srv *httptest.Server
			var c *http.Client
			if proto == "HTTP/2.0" {
				srv, c = startH2(t, h)
			} else {
				srv = httptest.NewTLSServer(h)
				t.Cleanup(srv.Close)
				c = srv.Client()
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			resp, err := c.Do(req)
			if err != nil {
				close(release)
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			if resp.Proto != proto {
				t.Errorf("proto %s", resp.Proto)
			}
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			close(release)
			if err != nil || line != "first\n" {
				t.Fatalf("first chunk %q, %v", line, err)
			}
			if resp.Header.Get(hdrHSTS) != "max-age=60" || resp.Header.Get(hdrFrameOptions) != "DENY" ||
				resp.Header.Get("Set-Cookie") != "a=1; Secure" {
				t.Errorf("flushed header lacks the policy: %v", resp.Header)
			}
			if rest, _ := io.ReadAll(br); string(rest) != "second\n" {
				t.Errorf("rest %q", rest)
			}
		})
	}
}

func TestHijack(t *testing.T) {
	g, _ := New(writerPolicy)
	srv := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Raw: yes\r\n\r\nraw")
		_ = brw.Flush()
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "raw" || resp.Header.Get("X-Raw") != "yes" || resp.Header.Get(hdrFrameOptions) != "" {
		t.Errorf("hijacked response: %v %q", resp.Header, body)
	}

	// Over HTTP/2 there is nothing to hijack, and the caller is told so.
	h2, c := startH2(t, g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, err := http.NewResponseController(w).Hijack()
		if !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("HTTP/2 Hijack error = %v, want ErrNotSupported", err)
		}
		if _, _, err := w.(http.Hijacker).Hijack(); err == nil {
			t.Error("HTTP/2 Hijack through the interface succeeded")
		}
	})))
	resp = send(t, h2, c, request{})
	if resp.Header.Get(hdrFrameOptions) != "DENY" {
		t.Errorf("after a failed hijack the response lost its headers: %v", resp.Header)
	}
}

func TestWebSocketThroughGuard(t *testing.T) {
	g, _ := New(writerPolicy)
	srv := httptest.NewTLSServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer func() { _ = c.CloseNow() }()
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		_ = c.Write(r.Context(), typ, append([]byte("echo: "), msg...))
		_ = c.Close(websocket.StatusNormalClosure, "")
	})))
	defer srv.Close()
	ws, resp, err := websocket.Dial(t.Context(), "wss"+strings.TrimPrefix(srv.URL, "https"), &websocket.DialOptions{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer func() { _ = ws.CloseNow() }()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("status %d", resp.StatusCode)
	}
	if err := ws.Write(t.Context(), websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	_, msg, err := ws.Read(t.Context())
	if err != nil || string(msg) != "echo: hi" {
		t.Fatalf("read %q, %v", msg, err)
	}
}

func TestReadFrom(t *testing.T) {
	file := filepath.Join(t.TempDir(), "big.txt")
	content := strings.Repeat("0123456789abcdef", 64<<10/16)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"plain (sendfile)", false}, {"TLS", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var sawReaderFrom bool
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, sawReaderFrom = w.(io.ReaderFrom)
				f, err := os.Open(file)
				if err != nil {
					t.Error(err)
					return
				}
				defer func() { _ = f.Close() }()
				w.Header().Set("Content-Type", "text/plain")
				if n, err := io.Copy(w, f); err != nil || n != int64(len(content)) {
					t.Errorf("io.Copy = %d, %v", n, err)
				}
			})
			srv, c := serve(t, writerPolicy, h, tc.tls)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if !sawReaderFrom {
				t.Error("the wrapper hides io.ReaderFrom")
			}
			if string(body) != content || resp.Header.Get(hdrNosniff) != "nosniff" {
				t.Errorf("body %d bytes, header %v", len(body), resp.Header)
			}
		})
	}
}

// TestResponseController checks that http.ResponseController reaches the
// server's writer through the wrapper's Unwrap.
func TestResponseController(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetReadDeadline: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	})
	srv, c := serve(t, writerPolicy, h, true)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader("duplex"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "duplex" {
		t.Errorf("body %q", body)
	}
}

// TestEarlyHints sends 103 Early Hints before the response: the 1xx goes out
// as the handler wrote it, and the final response gets the policy.
func TestEarlyHints(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "page")
	})
	for _, useTLS := range []bool{false, true} {
		srv, c := serve(t, writerPolicy, h, useTLS)
		var hints []textproto.MIMEHeader
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, hdr textproto.MIMEHeader) error {
			if code == http.StatusEarlyHints {
				hints = append(hints, hdr)
			}
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, srv.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if len(hints) != 1 || hints[0].Get("Link") == "" || hints[0].Get(hdrFrameOptions) != "" {
			t.Errorf("103 headers: %v", hints)
		}
		if resp.StatusCode != 200 || string(body) != "page" || resp.Header.Get(hdrFrameOptions) != "DENY" {
			t.Errorf("final: %d %q %v", resp.StatusCode, body, resp.Header)
		}
		if (resp.Header.Get(hdrHSTS) != "") != useTLS {
			t.Errorf("HSTS on TLS=%v: %q", useTLS, resp.Header.Get(hdrHSTS))
		}
	}
}

// TestWebSocketThroughGuardedReverseProxy is the devproxy's shape: a Guard
// around an httputil.ReverseProxy, which hijacks for the protocol switch.
func TestWebSocketThroughGuardedReverseProxy(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		typ, msg, err := c.Read(r.Context())
		if err == nil {
			_ = c.Write(r.Context(), typ, append([]byte("backend: "), msg...))
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)
	g, _ := New(writerPolicy)
	front := httptest.NewTLSServer(g.Handler(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
	}}))
	defer front.Close()
	ws, _, err := websocket.Dial(t.Context(), "wss"+strings.TrimPrefix(front.URL, "https"), &websocket.DialOptions{HTTPClient: front.Client()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer func() { _ = ws.CloseNow() }()
	if err := ws.Write(t.Context(), websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(t.Context()); err != nil || string(msg) != "backend: hi" {
		t.Fatalf("read %q, %v", msg, err)
	}
}
