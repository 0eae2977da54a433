package h2server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/httpsguard/httpsguard/localca"
)

// advTimeout bounds every wait in the adversarial tests: a server that
// hangs makes a test fail rather than stall the suite.
const advTimeout = 20 * time.Second

// advTargetEnv set to "nethttp" makes the adversarial tests attack
// net/http's HTTP/2 server (with the Server's Handler and ErrorLog only)
// instead of ours, to tell our bugs from behaviour we share with it:
//
//	H2ADV_TARGET=nethttp go test -run TestAdvControlFlood ./internal/h2server/
//
// Tests that call the Server's Shutdown or Close, or count its handlers
// against MaxConcurrentStreams, do not apply to it.
const advTargetEnv = "H2ADV_TARGET"

// advServer is a Server behind a loopback TLS listener that offers only
// h2, with a certificate from the test CA.
type advServer struct {
	srv  *Server
	ca   *localca.CA
	addr string
	log  *lockedBuffer
	// accepted counts connections; serving is the number of ServeConn
	// calls that have not returned.
	accepted, serving atomic.Int32
}

// startAdv serves srv (its ErrorLog is set to a buffer unless given) on a
// new listener; the listener and the server are closed at cleanup, which
// waits for every ServeConn to return.
func startAdv(tb testing.TB, srv *Server) *advServer {
	tb.Helper()
	ca, cfg := testTLS(tb)
	s := &advServer{srv: srv, ca: ca, log: &lockedBuffer{}}
	if srv.ErrorLog == nil {
		srv.ErrorLog = log.New(s.log, "", 0)
	}
	opts := tlsServerOpts{handshakeTimeout: advTimeout, stop: func(*tlsServer) { srv.Close() }, stopTimeout: advTimeout}
	s.addr = startTLSServer(tb, cfg, opts, func(tc *tls.Conn) {
		s.accepted.Add(1)
		s.serving.Add(1)
		defer s.serving.Add(-1)
		if os.Getenv(advTargetEnv) == "nethttp" {
			serveNetHTTP(context.Background(), tc, srv.Handler, srv.ErrorLog)
			return
		}
		srv.ServeConn(context.Background(), tc)
	}).addr
	return s
}

// client returns an HTTP/2-only client that trusts the test CA alone.
func (s *advServer) client(tb testing.TB) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.ca.Pool()}}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: advTimeout}
}

func (s *advServer) url(path string) string { return "https://" + s.addr + path }

// rawConn is a hand-driven HTTP/2 client connection.
type rawConn struct {
	tb   testing.TB
	c    *tls.Conn
	fr   *http2.Framer
	wmu  sync.Mutex // writes: fr's write side, henc
	henc *hpack.Encoder
	hbuf bytes.Buffer
	// noAck stops read from acknowledging SETTINGS: a reader that waits
	// for the write side while a writer is blocked on a server that is
	// itself blocked writing to us would deadlock.
	noAck bool
}

// dialRaw connects, completes TLS with ALPN h2, and sends the client
// preface and settings; it does not wait for the server's.
func (s *advServer) dialRaw(tb testing.TB, settings ...http2.Setting) *rawConn {
	tb.Helper()
	d := net.Dialer{Timeout: advTimeout}
	c, err := tls.DialWithDialer(&d, "tcp", s.addr, &tls.Config{
		RootCAs: s.ca.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"h2"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		tb.Fatalf("ALPN: %q", p)
	}
	rc := &rawConn{tb: tb, c: c}
	rc.fr = http2.NewFramer(c, c)
	rc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	rc.fr.SetMaxReadFrameSize(1 << 24)
	rc.henc = hpack.NewEncoder(&rc.hbuf)
	tb.Cleanup(func() { c.Close() })
	_ = c.SetWriteDeadline(time.Now().Add(advTimeout))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		tb.Fatal(err)
	}
	if err := rc.fr.WriteSettings(settings...); err != nil {
		tb.Fatal(err)
	}
	return rc
}

// handshake reads until the server's SETTINGS, and acknowledges it.
func (rc *rawConn) handshake() {
	rc.tb.Helper()
	rc.waitFor(func(f http2.Frame) bool {
		sf, ok := f.(*http2.SettingsFrame)
		return ok && !sf.IsAck()
	})
}

// read reads one frame with the test's deadline. It acknowledges
// SETTINGS frames itself.
func (rc *rawConn) read() (http2.Frame, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(advTimeout))
	f, err := rc.fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() && !rc.noAck {
		rc.wmu.Lock()
		_ = rc.fr.WriteSettingsAck()
		rc.wmu.Unlock()
	}
	return f, nil
}

// waitFor reads frames until pred accepts one, which it returns; a read
// error fails the test.
func (rc *rawConn) waitFor(pred func(http2.Frame) bool) http2.Frame {
	rc.tb.Helper()
	for {
		f, err := rc.read()
		if err != nil {
			rc.tb.Fatalf("reading frames: %v", err)
		}
		if pred(f) {
			return f
		}
	}
}

// readUntilEnd reads frames until the connection ends, returning the
// GOAWAY seen (nil if none) and the error that ended it.
func (rc *rawConn) readUntilEnd() (*http2.GoAwayFrame, error) {
	var ga *http2.GoAwayFrame
	for {
		f, err := rc.read()
		if err != nil {
			return ga, err
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			cp := *g
			ga = &cp
		}
	}
}

// isClosed reports whether err means the peer closed the connection (as
// opposed to our read deadline passing).
func isClosed(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil
}

// encode hpack-encodes fields, given as name, value pairs.
func (rc *rawConn) encode(kv ...string) []byte {
	rc.hbuf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = rc.henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), rc.hbuf.Bytes()...)
}

// request sends a request's HEADERS with the usual pseudo-headers and
// the extra fields given.
func (rc *rawConn) request(id uint32, method, path string, endStream bool, extra ...string) error {
	rc.wmu.Lock()
	defer rc.wmu.Unlock()
	kv := append([]string{":method", method, ":scheme", "https", ":authority", "127.0.0.1", ":path", path}, extra...)
	block := rc.encode(kv...)
	return rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: endStream, EndHeaders: true})
}

// write runs fn with the write side locked and a write deadline.
func (rc *rawConn) write(fn func(fr *http2.Framer) error) error {
	rc.wmu.Lock()
	defer rc.wmu.Unlock()
	_ = rc.c.SetWriteDeadline(time.Now().Add(advTimeout))
	return fn(rc.fr)
}

// response reads a whole response on stream id: its status, body and
// trailers; a RST_STREAM or GOAWAY first is an error.
func (rc *rawConn) response(id uint32) (status string, body []byte, err error) {
	for {
		f, err := rc.read()
		if err != nil {
			return status, body, err
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID != id {
				continue
			}
			if s := f.PseudoValue("status"); s != "" && !strings.HasPrefix(s, "1") {
				status = s
			}
			if f.StreamEnded() {
				return status, body, nil
			}
		case *http2.DataFrame:
			if f.StreamID != id {
				continue
			}
			body = append(body, f.Data()...)
			if n := len(f.Data()); n > 0 {
				_ = rc.write(func(fr *http2.Framer) error {
					if err := fr.WriteWindowUpdate(0, uint32(n)); err != nil {
						return err
					}
					return fr.WriteWindowUpdate(id, uint32(n))
				})
			}
			if f.StreamEnded() {
				return status, body, nil
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return status, body, errors.New("stream reset: " + f.ErrCode.String())
			}
		case *http2.GoAwayFrame:
			return status, body, errors.New("GOAWAY: " + f.ErrCode.String())
		}
	}
}

// goroutineBaseline returns the number of goroutines now, after letting
// exiting ones finish.
func goroutineBaseline() int {
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	return runtime.NumGoroutine()
}

// waitGoroutines polls until the number of goroutines is back near base,
// failing with a dump of the stacks if it is not by the deadline.
func waitGoroutines(tb testing.TB, base int) {
	tb.Helper()
	const slack = 4
	deadline := time.Now().Add(advTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= base+slack {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			tb.Fatalf("goroutines: %d, baseline %d; stacks:\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heapAlloc is HeapAlloc after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// waitServing waits until no ServeConn call is running, failing if one
// still is at the deadline.
func (s *advServer) waitServing(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(advTimeout)
	for s.serving.Load() != 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("the server did not end the connection within %v", advTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
