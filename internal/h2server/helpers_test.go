package h2server

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/localca/localcatest"
)

// quietLog drops what a server logs.
var quietLog = log.New(io.Discard, "", 0)

// lockedBuffer is a bytes.Buffer that the servers' loggers share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	testCAOnce sync.Once
	testCA     *localca.CA
	testCert   *tls.Certificate
)

// testTLS returns the test CA and a new server configuration that offers
// only h2, with a certificate from the CA for example.test and 127.0.0.1.
// The CA and the certificate are made once per test binary, since the fuzz
// targets start many servers.
func testTLS(tb testing.TB) (*localca.CA, *tls.Config) {
	testCAOnce.Do(func() {
		testCA = localcatest.New(tb)
		testCert = localcatest.Issue(tb, testCA, "example.test", "127.0.0.1")
	})
	return testCA, &tls.Config{Certificates: []tls.Certificate{*testCert}, NextProtos: []string{"h2"}}
}

// listen returns a new loopback listener, closed at cleanup.
func listen(tb testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// startRef serves h with net/http's server (HTTP/2 over TLS) on a loopback
// listener until cleanup and returns its address.
func startRef(tb testing.TB, cfg *tls.Config, h http.Handler) string {
	srv := &http.Server{Handler: h, TLSConfig: cfg.Clone(), ErrorLog: quietLog}
	ln := listen(tb)
	tb.Cleanup(func() { srv.Close() })
	go srv.ServeTLS(ln, "", "")
	return ln.Addr().String()
}

// oursIsRef reports whether startOurs serves with another HTTP/2 server
// instead of this package's, to check the tests themselves: with
// H2DIFF_OURS=ref net/http's own (the same code, so any difference is the
// test's), with H2DIFF_OURS=xnet x/net's (which differs from the copy in
// net/http in places).
func oursIsRef() bool { return os.Getenv("H2DIFF_OURS") == "ref" || os.Getenv("H2DIFF_OURS") == "xnet" }

// serveNetHTTP serves c with net/http's HTTP/2 until the connection ends.
// net/http serves one connection only through a listener, so this one gives
// it c and then reports itself closed; x/net's http2.Server.ServeConn would
// take c directly, but it is deprecated for net/http's server.
func serveNetHTTP(ctx context.Context, c *tls.Conn, h http.Handler, errLog *log.Logger) {
	closed := make(chan struct{})
	srv := &http.Server{
		Handler:     h,
		ErrorLog:    errLog,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed || s == http.StateHijacked {
				close(closed)
			}
		},
	}
	srv.Serve(&oneConnListener{conn: c}) // returns once c is taken
	<-closed
}

// oneConnListener is a listener that accepts conn, then nothing.
type oneConnListener struct {
	mu   sync.Mutex
	conn net.Conn
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil, net.ErrClosed
	}
	c := l.conn
	l.conn = nil
	return c, nil
}

func (l *oneConnListener) Close() error { return nil }

func (l *oneConnListener) Addr() net.Addr { return addrOf{} }

// addrOf is oneConnListener's address; net/http asks for it only to log.
type addrOf struct{}

func (addrOf) Network() string { return "tcp" }
func (addrOf) String() string  { return "one-connection listener" }

// tlsServer accepts loopback connections, completes each one's TLS
// handshake, and serves it in a goroutine of its own: the accept loop of
// the tests that give connections to ServeConn (or to a reference server)
// themselves.
type tlsServer struct {
	addr  string
	wg    sync.WaitGroup // the accept loop and every serve
	mu    sync.Mutex
	conns map[net.Conn]bool // accepted, and not yet served to the end
}

// tlsServerOpts are startTLSServer's bounds and hooks.
type tlsServerOpts struct {
	// handshakeTimeout bounds each TLS handshake.
	handshakeTimeout time.Duration
	// handshakeLog, if not nil, logs the handshakes that fail.
	handshakeLog *log.Logger
	// stop runs at cleanup, once the listener is closed; it makes every
	// serve return (by closing the server, or the server's connections).
	stop func(*tlsServer)
	// stopTimeout bounds how long cleanup waits, after stop, for every
	// serve to return; the test fails if one has not.
	stopTimeout time.Duration
}

// startTLSServer listens on loopback and, for each connection, completes
// the TLS handshake with cfg and calls serve with it; the connection is
// closed when serve returns, or when its handshake fails. At cleanup it
// closes the listener, runs o.stop, and fails the test unless every serve
// returns within o.stopTimeout.
func startTLSServer(tb testing.TB, cfg *tls.Config, o tlsServerOpts, serve func(*tls.Conn)) *tlsServer {
	ln := listen(tb)
	s := &tlsServer{addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	handle := func(c net.Conn) {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(o.handshakeTimeout))
		if err := tc.Handshake(); err != nil {
			if o.handshakeLog != nil {
				o.handshakeLog.Printf("test server: TLS handshake from %s: %v", c.RemoteAddr(), err)
			}
			return
		}
		_ = tc.SetDeadline(time.Time{})
		serve(tc)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go handle(c)
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		o.stop(s)
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(o.stopTimeout):
			tb.Errorf("serving a connection did not return within %v of the test server's cleanup", o.stopTimeout)
		}
	})
	return s
}

// closeConns closes every connection still being served.
func (s *tlsServer) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// startOurs serves h with this package's server on a loopback listener:
// each accepted connection is handshaken with cfg and given to ServeConn.
// With H2DIFF_OURS=ref it is given to net/http's server instead, with
// H2DIFF_OURS=xnet to x/net's http2.Server (see oursIsRef). It returns the
// address; cleanup closes everything and fails the test if a ServeConn does
// not return.
func startOurs(tb testing.TB, cfg *tls.Config, h http.Handler) string {
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{Handler: h, ErrorLog: quietLog}
	stop := func(ts *tlsServer) {
		if oursIsRef() {
			ts.closeConns()
		} else {
			srv.Close()
		}
		cancel()
	}
	opts := tlsServerOpts{handshakeTimeout: 20 * time.Second, stop: stop, stopTimeout: 20 * time.Second}
	ts := startTLSServer(tb, cfg, opts, func(tc *tls.Conn) {
		switch os.Getenv("H2DIFF_OURS") {
		case "xnet":
			//lint:ignore SA1019 x/net's server, for comparison
			(&http2.Server{}).ServeConn(tc, &http2.ServeConnOpts{
				Context:    ctx,
				Handler:    h,
				BaseConfig: &http.Server{Handler: h, ErrorLog: quietLog},
			})
		case "ref":
			serveNetHTTP(ctx, tc, h, quietLog)
		default:
			srv.ServeConn(ctx, tc)
		}
	})
	return ts.addr
}

// results collects what handlers report, by an id the request carries.
type results struct {
	mu sync.Mutex
	m  map[string]chan string
}

func (rs *results) ch(id string) chan string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = make(map[string]chan string)
	}
	c, ok := rs.m[id]
	if !ok {
		c = make(chan string, 1)
		rs.m[id] = c
	}
	return c
}

// put records s for id; a second report for the same id is dropped.
func (rs *results) put(id, s string) {
	select {
	case rs.ch(id) <- s:
	default:
	}
}

// take returns what the handler of id reported, waiting up to wait for it
// (a handler may still be finishing after its response ended, for HEAD).
func (rs *results) take(id string, wait time.Duration) string {
	c := rs.ch(id)
	defer func() {
		rs.mu.Lock()
		delete(rs.m, id)
		rs.mu.Unlock()
	}()
	select {
	case s := <-c:
		return s
	case <-time.After(wait):
		return "(no handler report)"
	}
}

// maskPattern is H2DIFF_MASK as a regular expression: what it matches in
// either outcome is removed before comparing, to look past a difference
// already known (including text only one side has).
var maskPattern = sync.OnceValue(func() *regexp.Regexp {
	if m := os.Getenv("H2DIFF_MASK"); m != "" {
		return regexp.MustCompile(m)
	}
	return nil
})

func mask(s string) string {
	if re := maskPattern(); re != nil {
		return re.ReplaceAllString(s, "")
	}
	return s
}
