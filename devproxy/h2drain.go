package devproxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// h2Settle is how long h2Drain waits, once no HTTP/2 request is being
// handled, before it closes the HTTP/2 connections: time for the last
// responses' final frames, which the connection's own goroutine writes
// after the handler returns, to reach the socket. On loopback that takes
// microseconds.
const h2Settle = 50 * time.Millisecond

// h2Drain lets a shutdown close idle HTTP/2 connections at once.
//
// http.Server.Shutdown sends GOAWAY on each HTTP/2 connection and, once its
// streams are done, leaves it open for another second so that the client
// can close it first (golang.org/issue/18701: closing with unread data
// makes the kernel send RST). That second is right for a public server and
// wrong for a development one, where every Ctrl-C with a browser tab open
// paid it. h2Drain counts the HTTP/2 requests being handled and, once there
// are none, closes the HTTP/2 connections itself; HTTP/1.1 connections are
// left to Shutdown, which closes them as soon as they are idle.
type h2Drain struct {
	active atomic.Int64  // HTTP/2 requests being handled
	idle   chan struct{} // gets a token when active drops to zero

	mu    sync.Mutex
	conns map[net.Conn]struct{} // connections accepted and not yet closed

	closed atomic.Int64 // HTTP/2 connections closed by drain, for tests
}

func newH2Drain() *h2Drain {
	return &h2Drain{idle: make(chan struct{}, 1), conns: make(map[net.Conn]struct{})}
}

// wrap counts the HTTP/2 requests h handles.
func (d *h2Drain) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			h.ServeHTTP(w, r)
			return
		}
		d.active.Add(1)
		defer d.done()
		h.ServeHTTP(w, r)
	})
}

func (d *h2Drain) done() {
	if d.active.Add(-1) == 0 {
		select {
		case d.idle <- struct{}{}:
		default:
		}
	}
}

// connState is the http.Server.ConnState hook that keeps the set of open
// connections. net/http reports no state change when a connection turns
// out to be HTTP/2, so the set holds every connection, and drain picks the
// HTTP/2 ones by their negotiated protocol.
func (d *h2Drain) connState(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		d.mu.Lock()
		d.conns[c] = struct{}{}
		d.mu.Unlock()
	case http.StateHijacked, http.StateClosed:
		d.mu.Lock()
		delete(d.conns, c)
		d.mu.Unlock()
	}
}

// drain waits until no HTTP/2 request is being handled and then closes the
// HTTP/2 connections, repeating while requests that raced the GOAWAY keep
// arriving, until ctx ends. Call it after Shutdown has begun, so that no
// new connection is accepted.
func (d *h2Drain) drain(ctx context.Context) {
	settle := time.NewTimer(h2Settle)
	defer settle.Stop()
	for {
		for d.active.Load() > 0 {
			select {
			case <-d.idle:
			case <-ctx.Done():
				return
			}
		}
		settle.Reset(h2Settle)
		select {
		case <-settle.C:
		case <-ctx.Done():
			return
		}
		if d.active.Load() > 0 {
			continue
		}
		d.closeH2()
		return
	}
}

func (d *h2Drain) closeH2() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		tc, ok := c.(*tls.Conn)
		if !ok {
			continue
		}
		// ConnectionState waits for a handshake in progress, which a slow
		// client can hold for as long as the handshake timeout; a
		// goroutine per connection keeps that from holding up the others
		// or the shutdown, which closes every connection at its end.
		go func() {
			if tc.ConnectionState().NegotiatedProtocol == "h2" {
				d.closed.Add(1)
				tc.Close()
			}
		}()
	}
}
