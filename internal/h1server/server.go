// Package h1server serves HTTPS connections, answering the commonest
// requests itself and leaving everything else to a net/http Server.
//
// A development proxy spends most of its time on one kind of request: a GET
// (or HEAD, or another request without a body) over HTTP/1.1 keep-alive.
// For those, net/http's server costs more than the proxying itself: a
// background read goroutine per request to notice a client that hangs up,
// a context per request, deadlines reset three times per request. This
// package serves such requests on the connection's goroutine, notices a
// client that hangs up only when a handler runs long enough for it to
// matter, and writes responses exactly as net/http does (the same status
// line, header order, Content-Length and Content-Type rules, chunking and
// trailers; a differential test holds it to that byte for byte).
//
// HTTP/2 connections go, as soon as ALPN picks h2, to the HTTP2 server if
// one is set (serve sets internal/h2server's). Everything else goes to the
// Fallback http.Server, which then owns the connection: HTTP/2 connections
// when no HTTP2 server is set, and an HTTP/1.1 connection from the first
// request this package does not serve itself (a request with a body, an
// upgrade, Expect, HTTP/1.0, an absolute or asterisk target, an oversized
// or unusual head, anything that does not parse), together with every byte
// already read from it. The fallback
// therefore sees the request exactly as the client sent it, and answers it
// (or refuses it) exactly as it would have without this package.
package h1server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTPS on the listeners passed to Serve. Set its fields
// before the first call to Serve, and do not change them afterwards.
type Server struct {
	// Handler serves the requests the server answers itself.
	Handler http.Handler

	// Fallback serves the HTTP/1.1 connections handed to it, and HTTP/2
	// connections unless HTTP2 is set. Its Handler is normally the same as Handler. Serve
	// runs it on a listener of handed-over connections; Shutdown and
	// Close shut it down too. Unless HTTP2 is set, its TLSConfig must
	// offer "h2" in NextProtos for net/http to configure HTTP/2 on it.
	Fallback *http.Server

	// HTTP2, if not nil, serves the connections that negotiate HTTP/2,
	// in place of Fallback (see internal/h2server); Shutdown and Close
	// shut it down too.
	HTTP2 HTTP2Server

	// TLSConfig is the configuration of every connection's handshake.
	TLSConfig *tls.Config

	// ReadHeaderTimeout bounds the TLS handshake and the first request's
	// head, and a later request's head from its first bytes; zero means
	// no limit.
	ReadHeaderTimeout time.Duration

	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection; zero means no limit.
	IdleTimeout time.Duration

	// ErrorLog receives the same messages net/http logs (TLS handshake
	// errors, panics, misused ResponseWriters), in the same words, so
	// that one log filter serves both. Nil means the log package's
	// standard logger.
	ErrorLog *log.Logger

	// BaseContext, if not nil, returns the base context of the requests
	// on a listener, as http.Server.BaseContext does.
	BaseContext func(net.Listener) context.Context

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*conn]struct{}
	started   bool
	handoff   *handoffListener
	fallbackC chan error    // what Fallback.Serve returned
	connGone  chan struct{} // a token when a connection ends during a shutdown

	shuttingDown atomic.Bool
}

// HTTP2Server serves HTTP/2 connections once their TLS handshake is done.
type HTTP2Server interface {
	// ServeConn serves c until it ends, then closes it; ctx is the
	// base context of its requests.
	ServeConn(ctx context.Context, c net.Conn)
	Shutdown(ctx context.Context) error
	Close() error
}

// ErrServerClosed is what Serve returns after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// Serve accepts connections on ln and serves each on its own goroutine
// until ln fails or the server is shut down. It always returns a non-nil
// error: ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(&ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(&ln)
	base := context.Background()
	if s.BaseContext != nil {
		if base = s.BaseContext(ln); base == nil {
			panic("h1server: BaseContext returned a nil context")
		}
	}
	var delay time.Duration // how long to sleep on accept failure
	for {
		rw, err := ln.Accept()
		if err != nil {
			if s.shuttingDown.Load() {
				return ErrServerClosed
			}
			// Out of file descriptors and the like: back off and retry,
			// as net/http does, rather than stop serving. (Temporary is
			// deprecated for its vague meaning, but accept's EMFILE and
			// ENFILE are what it still means.)
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logf("http: Accept error: %v; retrying in %v", err, delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := &conn{srv: s, raw: rw, base: base}
		if !s.trackConn(c) {
			rw.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

// track registers a listener and, on the first call, starts the fallback;
// it reports false once the server is shutting down.
func (s *Server) track(ln *net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shuttingDown.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[*net.Listener]struct{})
		s.conns = make(map[*conn]struct{})
	}
	s.listeners[ln] = struct{}{}
	if !s.started {
		s.started = true
		s.handoff = newHandoffListener((*ln).Addr())
		s.fallbackC = make(chan error, 1)
		go func() { s.fallbackC <- s.Fallback.Serve(s.handoff) }()
	}
	return true
}

func (s *Server) untrack(ln *net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
}

func (s *Server) trackConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shuttingDown.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrackConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	gone := s.connGone
	s.mu.Unlock()
	if gone != nil {
		select {
		case gone <- struct{}{}:
		default:
		}
	}
}

// handOver gives a connection to the fallback; the caller must no longer
// use it.
func (s *Server) handOver(c net.Conn) {
	if !s.handoff.push(c) {
		c.Close() // the fallback has been shut down
	}
}

// shutdownPoll is how often Shutdown looks again for idle connections
// besides when a connection ends; every connection ends by itself once it
// sees the shutdown, so this is only a safety net.
const shutdownPoll = 50 * time.Millisecond

// Shutdown shuts the server and its Fallback down gracefully: it closes the
// listeners, then the idle connections, lets the requests in flight finish
// (their responses say "Connection: close"), and returns when every
// connection is closed or ctx ends, with ctx's error in that case. The
// connections still open then stay open; call Close to end them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.connGone == nil {
		s.connGone = make(chan struct{}, 1)
	}
	gone := s.connGone
	s.mu.Unlock()
	// Set after connGone exists, so that a connection that sees it will
	// also report its end.
	s.shuttingDown.Store(true)
	s.closeListeners()
	fallbackDone := make(chan error, 1)
	go func() { fallbackDone <- s.shutdownFallback(ctx) }()
	h2Done := make(chan error, 1)
	if s.HTTP2 != nil {
		go func() { h2Done <- s.HTTP2.Shutdown(ctx) }()
	} else {
		h2Done <- nil
	}
	t := time.NewTicker(shutdownPoll)
	defer t.Stop()
	for !s.closeIdle() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-gone:
		case <-t.C:
		}
	}
	return errors.Join(<-fallbackDone, <-h2Done)
}

func (s *Server) shutdownFallback(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	err := s.Fallback.Shutdown(ctx)
	if err == nil {
		if ferr := <-s.fallbackC; ferr != nil && !errors.Is(ferr, http.ErrServerClosed) {
			return fmt.Errorf("fallback server: %w", ferr)
		}
	}
	return err
}

// Close closes the listeners and every connection at once, the fallback's
// included.
func (s *Server) Close() error {
	s.shuttingDown.Store(true)
	err := s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		c.raw.Close()
	}
	started := s.started
	s.mu.Unlock()
	if started {
		if ferr := s.Fallback.Close(); err == nil {
			err = ferr
		}
	}
	if s.HTTP2 != nil {
		if herr := s.HTTP2.Close(); err == nil {
			err = herr
		}
	}
	return err
}

func (s *Server) closeListeners() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for ln := range s.listeners {
		if cerr := (*ln).Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	// The handoff listener is the fallback's: its Shutdown or Close
	// closes it, and knows then that its Serve ended for that reason.
	return err
}

// closeIdle closes the connections that wait for a request or are still in
// their handshake, and reports whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.Load() != stateActive {
			c.raw.Close()
		}
	}
	return len(s.conns) == 0
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// handoffListener is the fallback's listener: its connections are the ones
// handed over.
type handoffListener struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *handoffListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// handedOver is an HTTP/1.1 connection given to the fallback: the bytes
// already read from it come first. It is not a *tls.Conn, so net/http
// serves it as HTTP/1.1 without a second handshake, and it has the
// ConnectionState method by which net/http fills in Request.TLS.
type handedOver struct {
	*tls.Conn
	r io.Reader
}

func (h *handedOver) Read(p []byte) (int, error) { return h.r.Read(p) }
