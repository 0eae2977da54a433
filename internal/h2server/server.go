// Package h2server serves HTTP/2 connections to an http.Handler.
package h2server

import (
	"context"
	"log"
	"net"
	"net/http"
	"time"
)

// Server serves HTTP/2 on connections whose TLS handshake (with ALPN "h2")
// is done. Set its fields before the first call to ServeConn and do not
// change them afterwards.
type Server struct {
	// Handler serves every request.
	Handler http.Handler

	// MaxConcurrentStreams is the number of streams a client may have
	// open at once; zero means 250, as net/http.
	MaxConcurrentStreams uint32

	// MaxHeaderBytes bounds a request's header list; zero means
	// http.DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	// IdleTimeout closes a connection without open streams after this
	// long; zero means never.
	IdleTimeout time.Duration

	// ErrorLog receives what net/http would log; nil means the log
	// package's standard logger.
	ErrorLog *log.Logger
}

// ServeConn serves HTTP/2 on c until the connection ends or the server is
// shut down, then closes c. ctx is the base context of its requests.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) {
	panic("h2server: not implemented yet")
}

// Shutdown sends GOAWAY on every connection, waits for their streams to
// finish and closes them, or returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	panic("h2server: not implemented yet")
}

// Close closes every connection at once.
func (s *Server) Close() error {
	panic("h2server: not implemented yet")
}
