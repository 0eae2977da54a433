// Package h2server serves HTTP/2 connections to an http.Handler, as
// net/http's own HTTP/2 server does, at about half its cost per request.
//
// net/http's HTTP/2 server reads frames on one goroutine, handles them on
// another, runs each handler on a third and writes frames from a fourth
// when they do not fit its buffer: every request crosses goroutines
// several times, and a handler waits for its response headers to be
// written before it may send the body, so a short response leaves in two
// TLS records. This package reads and handles frames on the connection's
// goroutine and lets the goroutine that produces frames write them: a
// handler encodes its response headers and body into the connection's
// buffer and writes the buffer itself unless another goroutine already
// is, in which case that goroutine writes everything queued before it
// stops. A short response is one TLS record, and responses produced at
// the same time share records.
//
// What handlers and clients see follows net/http (its h2_bundle.go): the
// same requests (pseudo-header rules, Cookie joining, trailers, Expect:
// 100-continue, a 400 for connection-specific header fields and a 431 for
// an oversized header list), the same response rules (header snapshot at
// WriteHeader, 1xx, Content-Length and Content-Type, trailers, the 4 KiB
// per-stream buffer, Connection: close as GOAWAY), the same flow control
// windows, limits and settings, and the same protections: at most
// MaxConcurrentStreams handlers per connection however fast streams are
// reset (the rapid-reset attack), a bounded header list (x/net's Framer
// stops reading CONTINUATION frames past it), and a connection that is
// closed when its peer stops reading while making it answer. Frames are
// read and written with golang.org/x/net/http2's Framer and hpack.
//
// Not supported: server push (browsers dropped it; Push reports
// http.ErrNotSupported, as net/http's does to them), the extended CONNECT
// protocol (WebSockets over HTTP/2; net/http leaves it off by default too)
// and h2c.
package h2server

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/2 on connections whose TLS handshake (with ALPN "h2")
// is done. Set its fields before the first call to ServeConn and do not
// change them afterwards.
type Server struct {
	// Handler serves every request.
	Handler http.Handler

	// MaxConcurrentStreams is the number of streams a client may have
	// open at once, and of handlers that may run at once on one
	// connection; zero means 250, as net/http.
	MaxConcurrentStreams uint32

	// MaxHeaderBytes bounds a request's header list; zero means
	// http.DefaultMaxHeaderBytes. A longer one gets a 431 response.
	MaxHeaderBytes int

	// IdleTimeout closes a connection without open streams after this
	// long; zero means never.
	IdleTimeout time.Duration

	// ErrorLog receives what net/http would log, in its words; nil means
	// the log package's standard logger.
	ErrorLog *log.Logger

	mu       sync.Mutex
	conns    map[*serverConn]struct{}
	connGone chan struct{} // a token when a connection ends during a shutdown

	shuttingDown atomic.Bool
}

// ServeConn serves HTTP/2 on c until the connection ends or the server is
// shut down, then closes c. ctx is the base context of its requests; the
// requests' TLS field is c's connection state if c is a *tls.Conn (or has
// a ConnectionState method).
func (s *Server) ServeConn(ctx context.Context, c net.Conn) {
	sc := newServerConn(s, ctx, c)
	if !s.track(sc) {
		c.Close()
		return
	}
	defer s.untrack(sc)
	sc.serve()
}

func (s *Server) track(sc *serverConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shuttingDown.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[*serverConn]struct{})
	}
	s.conns[sc] = struct{}{}
	return true
}

func (s *Server) untrack(sc *serverConn) {
	s.mu.Lock()
	delete(s.conns, sc)
	gone := s.connGone
	s.mu.Unlock()
	if gone != nil {
		select {
		case gone <- struct{}{}:
		default:
		}
	}
}

// Shutdown sends GOAWAY on every connection, lets the streams already
// open finish, and closes each connection once it has none; it returns
// when all are closed, or with ctx's error (leaving the rest open: call
// Close then). Connections passed to ServeConn afterwards are closed at
// once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shuttingDown.Store(true)
	if s.connGone == nil {
		s.connGone = make(chan struct{}, 1)
	}
	gone := s.connGone
	for sc := range s.conns {
		go sc.shutdown()
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-gone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close closes every connection at once; their handlers see their
// requests' contexts end.
func (s *Server) Close() error {
	s.mu.Lock()
	s.shuttingDown.Store(true)
	var err error
	for sc := range s.conns {
		if cerr := sc.conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = cerr
		}
	}
	s.mu.Unlock()
	return err
}

func (s *Server) maxStreams() uint32 {
	if s.MaxConcurrentStreams > 0 {
		return s.MaxConcurrentStreams
	}
	return defaultMaxStreams
}

// maxHeaderListSize is the SETTINGS_MAX_HEADER_LIST_SIZE advertised and
// enforced: as net/http, MaxHeaderBytes plus the per-field overhead the
// setting counts (32 bytes) for a typical ten fields.
func (s *Server) maxHeaderListSize() uint32 {
	n := s.MaxHeaderBytes
	if n <= 0 {
		n = http.DefaultMaxHeaderBytes
	}
	const perFieldOverhead, typicalFields = 32, 10
	return uint32(n + perFieldOverhead*typicalFields)
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}
