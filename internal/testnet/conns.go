package testnet

import (
	"crypto/tls"
	"net"
	"sync"
	"testing"
)

// ServeConns accepts TCP connections on loopback and hands each to handle,
// over TLS when cfg is set (after a completed handshake), for tests of
// servers that misbehave: answer garbage, hang, drip, close at once. It
// returns the port. Every connection is closed when the test ends, so a
// handler may block forever.
func ServeConns(t testing.TB, cfg *tls.Config, handle func(net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				defer c.Close()
				if cfg != nil {
					tc := tls.Server(c, cfg)
					if err := tc.Handshake(); err != nil {
						return
					}
					c = tc
				}
				handle(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}
