package h1server

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"testing"

	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/localca/localcatest"
)

// quietLog drops what a server logs.
var quietLog = log.New(io.Discard, "", 0)

// testTLS returns a new CA and a server configuration that offers h2 and
// HTTP/1.1 with a certificate from it for example.test and 127.0.0.1.
func testTLS(tb testing.TB) (*localca.CA, *tls.Config) {
	ca := localcatest.New(tb)
	cert := localcatest.Issue(tb, ca, "example.test", "127.0.0.1")
	return ca, &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"h2", "http/1.1"}}
}

// newServer returns an h1server whose fallback serves with the same handler
// and configuration.
func newServer(h http.Handler, cfg *tls.Config, errLog *log.Logger) *Server {
	return &Server{
		Handler:   h,
		Fallback:  &http.Server{Handler: h, TLSConfig: cfg.Clone(), ErrorLog: errLog},
		TLSConfig: cfg,
		ErrorLog:  errLog,
	}
}

// serveBoth starts net/http's server with stdHandler and h1server with
// ourHandler, each on a loopback listener, both closed at cleanup, and
// returns their addresses.
func serveBoth(tb testing.TB, cfg *tls.Config, stdHandler, ourHandler http.Handler) (std, ours string) {
	stdSrv := &http.Server{Handler: stdHandler, TLSConfig: cfg.Clone(), ErrorLog: quietLog}
	ourSrv := newServer(ourHandler, cfg, quietLog)
	tb.Cleanup(func() { stdSrv.Close(); ourSrv.Close() })
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		return ln
	}
	stdLn, ourLn := listen(), listen()
	go stdSrv.ServeTLS(stdLn, "", "")
	go ourSrv.Serve(ourLn)
	return stdLn.Addr().String(), ourLn.Addr().String()
}
