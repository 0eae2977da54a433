package h1server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Connection states, as Shutdown sees them.
const (
	stateNew    int32 = iota // in the handshake
	stateIdle                // waiting for a request
	stateActive              // reading a request head or serving it
)

// headBufSize is the read buffer, and so the largest request head served
// here; a larger head (net/http allows 1 MB) goes to the fallback.
const headBufSize = 8 << 10

// watchDelay is how long a handler runs before the connection starts
// watching for the client to hang up, which costs a goroutine and two
// deadline changes: most requests are over long before, and for the rest
// (event streams, long polls, a slow app) a cancellation this much later
// makes no difference.
const watchDelay = 100 * time.Millisecond

// aLongTimeAgo is a deadline that has passed, to interrupt a read.
var aLongTimeAgo = time.Unix(1, 0)

type conn struct {
	srv   *Server
	raw   net.Conn
	base  context.Context
	state atomic.Int32

	tc         *tls.Conn
	tlsState   *tls.ConnectionState
	remoteAddr string
	ctx        context.Context
	cancel     context.CancelFunc

	cr connReader
	br *bufio.Reader // over cr
	bw *bufio.Writer // over the connection, through errWriter
	rw *bufio.Writer // a response's body buffer, reset for each one

	parse   *bufio.Reader // over head, for http.ReadRequest
	head    bytes.Reader
	werr    error // the first error writing to the connection
	watcher *time.Timer

	// The watch for a client that hangs up while a handler runs.
	mu       sync.Mutex
	handling bool          // a handler runs
	aborting bool          // the background read is being interrupted
	watched  chan struct{} // while the background read runs; closed when it returns
}

// connReader reads the connection, first returning the byte the background
// read got, if any.
type connReader struct {
	c       *conn
	hasByte bool
	b       [1]byte
}

func (cr *connReader) Read(p []byte) (int, error) {
	if cr.hasByte && len(p) > 0 {
		p[0] = cr.b[0]
		cr.hasByte = false
		return 1, nil
	}
	return cr.c.tc.Read(p)
}

// errWriter notes the first write error, which means the client is gone.
type errWriter struct{ c *conn }

func (w errWriter) Write(p []byte) (int, error) {
	n, err := w.c.tc.Write(p)
	if err != nil && w.c.werr == nil {
		w.c.werr = err
		w.c.cancel()
	}
	return n, err
}

func (c *conn) serve() {
	s := c.srv
	handedOver := false
	defer func() {
		switch {
		case handedOver:
		case c.tc != nil:
			c.tc.Close() // with a close_notify alert, as net/http
		default:
			c.raw.Close()
		}
		s.untrackConn(c)
	}()
	if d := s.ReadHeaderTimeout; d > 0 {
		c.raw.SetDeadline(time.Now().Add(d))
	}
	tc := tls.Server(c.raw, s.TLSConfig)
	if err := tc.HandshakeContext(c.base); err != nil {
		// The same reply and log line as net/http's, for a client that
		// speaks plain HTTP to the HTTPS port and for every other
		// failure.
		var reason string
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
			reason = "client sent an HTTP request to an HTTPS server"
		} else {
			reason = err.Error()
		}
		s.logf("http: TLS handshake error from %s: %v", c.raw.RemoteAddr(), reason)
		return
	}
	state := tc.ConnectionState()
	if state.NegotiatedProtocol == "h2" {
		c.raw.SetDeadline(time.Time{})
		handedOver = true
		s.untrackConn(c)
		if s.HTTP2 != nil {
			ctx := context.WithValue(c.base, http.ServerContextKey, s.Fallback)
			s.HTTP2.ServeConn(ctx, tc)
			return
		}
		s.handOver(tc)
		return
	}
	// The handshake deadline stays as the first request's head deadline;
	// only the write side is cleared.
	c.raw.SetWriteDeadline(time.Time{})
	c.tc, c.tlsState = tc, &state
	if ra := c.raw.RemoteAddr(); ra != nil {
		c.remoteAddr = ra.String()
	}
	ctx := context.WithValue(c.base, http.ServerContextKey, s.Fallback)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.raw.LocalAddr())
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	c.cr.c = c
	c.br = bufio.NewReaderSize(&c.cr, headBufSize)
	c.bw = bufio.NewWriterSize(errWriter{c}, 4<<10)
	c.rw = bufio.NewWriterSize(nil, bufferBeforeChunkingSize)
	c.parse = bufio.NewReaderSize(&c.head, 4<<10)
	c.watcher = time.AfterFunc(time.Hour, c.watch)
	c.watcher.Stop()
	defer c.watcher.Stop()
	handedOver = c.loop()
}

// loop serves requests until the connection ends or is handed over, and
// reports which.
func (c *conn) loop() (handedOver bool) {
	s := c.srv
	// Before a request after the first, net/http waits for four bytes
	// and closes without a word if the client ends before them; before
	// the first, one byte will do, and a head cut short after it gets
	// net/http's answer (see readHead's caller below).
	wait := 1
	for ; ; wait = 4 {
		c.state.Store(stateIdle)
		if s.shuttingDown.Load() {
			return false
		}
		if _, err := c.br.Peek(wait); err != nil {
			return false
		}
		c.state.Store(stateActive)
		if s.shuttingDown.Load() {
			return false
		}
		if d := s.ReadHeaderTimeout; d > 0 && wait == 4 {
			// The idle timeout bounded the wait for this request; the
			// rest of its head gets ReadHeaderTimeout from its first
			// bytes, as with net/http. A head that came whole in one
			// read, nearly all of them, needs no second deadline.
			if buf, _ := c.br.Peek(c.br.Buffered()); headEnd(buf) == 0 {
				c.tc.SetReadDeadline(time.Now().Add(d))
			}
		}
		head, err := c.readHead()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return false
			}
			// A head cut short: net/http answers some of those (400
			// for a partial line), so it reads what came and the same
			// error after it.
			c.handOver()
			return true
		}
		var req *http.Request
		if head != nil {
			req = c.request(head)
		}
		if req == nil {
			c.handOver()
			return true
		}
		c.br.Discard(len(head))
		if !c.serveRequest(req) {
			c.bw.Flush()
			return false
		}
		// One deadline per request, where net/http sets three: the idle
		// timeout bounds the wait for the next request (and the rest of
		// its head, unless that comes in later reads; see above).
		var deadline time.Time
		if d := s.IdleTimeout; d > 0 {
			deadline = time.Now().Add(d)
		}
		c.tc.SetReadDeadline(deadline)
	}
}

// readHead returns the request head (up to and including the empty line)
// from the read buffer without consuming it, or nil if it does not fit.
func (c *conn) readHead() ([]byte, error) {
	for {
		n := c.br.Buffered()
		buf, _ := c.br.Peek(n)
		if end := headEnd(buf); end > 0 {
			return buf[:end], nil
		}
		if n >= headBufSize {
			return nil, nil
		}
		// At least one more byte, in as few reads as it takes.
		if _, err := c.br.Peek(n + 1); err != nil {
			return nil, err
		}
	}
}

// headEnd returns the length of the head in b, ending with its empty line
// (CRLF CRLF, or LF LF as net/http also accepts), or 0 if b holds no whole
// head.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// request parses head and returns the request if this package serves it,
// or nil if the fallback must.
func (c *conn) request(head []byte) *http.Request {
	// A head that net/http reads in ways of its own goes to the fallback:
	// leading empty lines (skipped after a POST), folded header lines.
	if head[0] < 'A' || head[0] > 'Z' || bytes.Contains(head, []byte("\n ")) || bytes.Contains(head, []byte("\n\t")) {
		return nil
	}
	c.head.Reset(head)
	c.parse.Reset(&c.head)
	req, err := http.ReadRequest(c.parse)
	if err != nil || c.head.Len() != 0 || c.parse.Buffered() != 0 {
		return nil
	}
	switch {
	case req.ProtoMajor != 1 || req.ProtoMinor != 1,
		req.Method == http.MethodConnect,
		!strings.HasPrefix(req.RequestURI, "/"),
		req.ContentLength != 0, len(req.TransferEncoding) > 0, req.Body != http.NoBody,
		req.Header["Expect"] != nil, req.Header["Upgrade"] != nil,
		// net/http logs a warning for these; let it.
		strings.Contains(req.URL.RawQuery, ";"),
		// ReadRequest drops Host; net/http's server needs exactly one.
		hostLines(head) != 1 || req.Host == "" || !httpguts.ValidHostHeader(req.Host):
		return nil
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil
			}
		}
	}
	req.RemoteAddr = c.remoteAddr
	req.TLS = c.tlsState
	return req
}

// hostLines counts the header lines named Host in head.
func hostLines(head []byte) int {
	n := 0
	for i := bytes.IndexByte(head, '\n'); i >= 0 && i+5 < len(head); {
		line := head[i+1:]
		if len(line) >= 5 && (line[0]|0x20) == 'h' && (line[1]|0x20) == 'o' && (line[2]|0x20) == 's' && (line[3]|0x20) == 't' && line[4] == ':' {
			n++
		}
		j := bytes.IndexByte(line, '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return n
}

// handOver gives the connection, with what has been read of it, to the
// fallback.
func (c *conn) handOver() {
	buffered, _ := c.br.Peek(c.br.Buffered())
	pending := bytes.Clone(buffered)
	// Whatever deadline is set is the fallback's to replace.
	c.srv.untrackConn(c)
	c.srv.handOver(&handedOver{Conn: c.tc, r: io.MultiReader(bytes.NewReader(pending), &c.cr)})
}

// serveRequest runs the handler and finishes the response, and reports
// whether the connection can serve another request.
func (c *conn) serveRequest(req *http.Request) (reuse bool) {
	// A context per request, ended when the handler returns, as net/http
	// does: code that waits on it to clean up must not wait for the
	// connection to end. The connection's context, its parent, ends when
	// the client is gone.
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	req = req.WithContext(ctx)
	w := newResponse(c, req)
	c.mu.Lock()
	c.handling = true
	c.mu.Unlock()
	c.watcher.Reset(watchDelay)
	defer func() {
		if err := recover(); err != nil {
			c.endWatch()
			if err != http.ErrAbortHandler {
				const size = 64 << 10
				buf := make([]byte, size)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logf("http: panic serving %v: %v\n%s", c.remoteAddr, err, buf)
			}
			// As net/http: what has reached the connection's buffer is
			// sent, the rest of the response is not, and the connection
			// is closed, so the client sees a response cut short.
			reuse = false
		}
	}()
	c.srv.Handler.ServeHTTP(w, req)
	if !c.endWatch() {
		return false
	}
	w.finish()
	return w.reusable()
}

// watch runs watchDelay into a handler: from then on, a background read
// notices a client that hangs up and cancels the request's context.
func (c *conn) watch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.handling || c.watched != nil || c.cr.hasByte {
		return
	}
	c.aborting = false
	c.watched = make(chan struct{})
	c.tc.SetReadDeadline(time.Time{})
	go c.backgroundRead(c.watched)
}

func (c *conn) backgroundRead(done chan struct{}) {
	n, err := c.tc.Read(c.cr.b[:])
	c.mu.Lock()
	if n == 1 {
		// The start of a pipelined request: keep it for the next read.
		c.cr.hasByte = true
	}
	var ne net.Error
	if err != nil && !(c.aborting && errors.As(err, &ne) && ne.Timeout()) {
		// The client hung up (or sent something that breaks TLS): the
		// handler's work is for nobody.
		c.cancel()
	}
	close(done)
	c.mu.Unlock()
}

// endWatch stops the watch when the handler returns and reports whether the
// client is still there.
func (c *conn) endWatch() bool {
	c.watcher.Stop()
	c.mu.Lock()
	c.handling = false // no watch starts from here on
	done := c.watched
	c.watched = nil
	if done != nil {
		c.aborting = true
		c.tc.SetReadDeadline(aLongTimeAgo)
	}
	c.mu.Unlock()
	if done != nil {
		<-done
	}
	return c.ctx.Err() == nil
}

// looksLikeHTTP reports whether a TLS record header looks like the start of
// an HTTP request, as net/http judges it.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}
