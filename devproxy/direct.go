package devproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The direct path forwards the requests that make up nearly all of a page
// load (GET, HEAD and OPTIONS without a body or an upgrade) with the
// proxy's own HTTP/1.1 client, on the handler's goroutine, over pooled
// keep-alive connections. net/http's Transport passes every request between
// the handler and a read and a write goroutine per connection; on two cores
// those hand-offs and the thread wake-ups they cause were a large share of
// the proxy's CPU (see docs/design/devproxy.md and bench/proxy). Everything
// else (request bodies, WebSocket upgrades, CONNECT) still goes through
// httputil.ReverseProxy, whose Transport handles a body racing an early
// response, and upgrades.
//
// The direct path does what ReverseProxy and the Transport did for these
// requests: hop-by-hop headers are removed both ways, the forwarded headers
// are set, 1xx responses are passed on, trailers are announced and copied,
// streams are flushed write by write, a broken upstream body aborts the
// response, and a request the browser abandons closes its upstream
// connection. A pooled connection that the application closed while it was
// idle is replaced and the request sent again, which is safe because every
// request on this path is idempotent and has no body. The differential test
// (FuzzDirectMatchesReverseProxy) holds both paths to the same answers, and
// lists where they differ on purpose.

// directEligible reports whether r can take the direct path.
func directEligible(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	if r.ContentLength != 0 || r.Header["Upgrade"] != nil {
		return false
	}
	// "OPTIONS *" and absolute or opaque forms go the general way.
	return r.URL.Opaque == "" && strings.HasPrefix(r.URL.Path, "/")
}

// directClient is a minimal HTTP/1.1 client for one upstream address.
type directClient struct {
	addr        string
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	idleTimeout time.Duration
	maxIdle     int

	mu   sync.Mutex
	idle []*directConn // the most recently used last
}

// directConn is one upstream connection with its buffers.
type directConn struct {
	conn  net.Conn
	br    *bufio.Reader // reads through limit
	bw    *bufio.Writer
	limit limitedReader
	probe *inputProbe // nil where sockets cannot be peeked at
	// bodiless is set when the last response had no body (HEAD, 204,
	// 304): where applications write one anyway, it arrives late.
	bodiless bool
	lastUsed time.Time
	reused   bool
}

// maxDirectHead bounds a response head (status line and header fields), as
// net/http's server bounds a request's (DefaultMaxHeaderBytes): an
// application that sends headers without end gets a 502, not the proxy's
// memory.
const maxDirectHead = 1 << 20

// limitedReader is io.LimitedReader that can be lifted: the limit holds
// while a response head is read, not its body.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

var errHeadTooLarge = fmt.Errorf("the response head is larger than %d bytes", maxDirectHead)

func (c *directClient) get(ctx context.Context) (*directConn, error) {
	now := time.Now()
	c.mu.Lock()
	for len(c.idle) > 0 {
		dc := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if now.Sub(dc.lastUsed) > c.idleTimeout {
			// Development servers restart often; a connection idle this
			// long most likely leads to a process that is gone.
			c.mu.Unlock()
			dc.conn.Close()
			c.mu.Lock()
			continue
		}
		c.mu.Unlock()
		if dc.bodiless && dc.probe.pending() {
			// Bytes the application sent after a response that has no
			// body (a body written late for a HEAD, 204 or 304 answer)
			// would be read as the answer to the next request. net/http's
			// Transport finds them with the read it keeps pending on every
			// idle connection; a peek costs a system call per request,
			// so it is made only where such bytes come from. A connection the application closed
			// is found when the request is sent (see roundTrip).
			dc.conn.Close()
			c.mu.Lock()
			continue
		}
		dc.reused = true
		return dc, nil
	}
	c.mu.Unlock()
	return c.dialNew(ctx)
}

func (c *directClient) dialNew(ctx context.Context) (*directConn, error) {
	conn, err := c.dial(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	dc := &directConn{conn: conn, bw: bufio.NewWriterSize(conn, 4<<10), probe: newInputProbe(conn)}
	dc.limit = limitedReader{r: conn, n: math.MaxInt64}
	dc.br = bufio.NewReaderSize(&dc.limit, 4<<10)
	return dc, nil
}

// dropIdleSince closes the pooled connections idle since t or longer.
func (c *directClient) dropIdleSince(t time.Time) {
	c.mu.Lock()
	var old []*directConn
	kept := c.idle[:0]
	for _, dc := range c.idle {
		if dc.lastUsed.After(t) {
			kept = append(kept, dc)
		} else {
			old = append(old, dc)
		}
	}
	clear(c.idle[len(kept):])
	c.idle = kept
	c.mu.Unlock()
	for _, dc := range old {
		dc.conn.Close()
	}
}

// put returns a connection whose last response was read completely.
func (c *directClient) put(dc *directConn) {
	if dc.br.Buffered() > 0 {
		// Bytes the application sent beyond its response: the next
		// response could not be told apart from them.
		dc.conn.Close()
		return
	}
	dc.lastUsed = time.Now()
	c.mu.Lock()
	if len(c.idle) < c.maxIdle {
		c.idle = append(c.idle, dc)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	dc.conn.Close()
}

// closeIdle closes the pooled connections, at shutdown.
func (c *directClient) closeIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, dc := range idle {
		dc.conn.Close()
	}
}

// directHead is what the proxy adds to the request it forwards.
type directHead struct {
	host      string // the Host header
	proto     string // X-Forwarded-Proto
	fwdFor    string // X-Forwarded-For, empty when RemoteAddr has no IP
	fwdHost   string // X-Forwarded-Host
	forwarded string // Forwarded
}

// errStaleConn marks a failure on a pooled connection before any byte of a
// response arrived: the application closed it while it was idle.
var errStaleConn = errors.New("pooled connection closed by the application")

// roundTrip sends r and reads the response head. got1xx is called for each
// informational response. On success the caller owns the connection: it
// reads the body, then calls stop, which reports whether the request's
// cancellation left the connection alone (only then may it be reused).
func (c *directClient) roundTrip(r *http.Request, head *directHead, got1xx func(*http.Response)) (resp *http.Response, dc *directConn, stop func() bool, err error) {
	ctx := r.Context()
	for attempt := 0; ; attempt++ {
		if attempt == 0 {
			dc, err = c.get(ctx)
		} else {
			dc, err = c.dialNew(ctx)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		// Cancelling the request (the browser left, or shutdown) unblocks
		// any read or write on the connection, until stop is called.
		conn := dc.conn
		stop = context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
		resp, err = dc.exchange(r, head, got1xx)
		if err == nil {
			return resp, dc, stop, nil
		}
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return nil, nil, nil, fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		if !errors.Is(err, errStaleConn) || !dc.reused || attempt > 0 {
			return nil, nil, nil, err
		}
		// The application closed a connection while it sat in the pool:
		// it has most likely closed every one idle as long (a keep-alive
		// timeout, a restart), so those go too, and the request is sent
		// again on a new connection.
		c.dropIdleSince(dc.lastUsed)
	}
}

func (dc *directConn) exchange(r *http.Request, head *directHead, got1xx func(*http.Response)) (*http.Response, error) {
	if err := writeDirectRequest(dc.bw, r, head); err != nil {
		return nil, err
	}
	if err := dc.bw.Flush(); err != nil {
		return nil, fmt.Errorf("sending the request: %w: %w", errStaleConn, err)
	}
	defer func() { dc.limit.n = math.MaxInt64 }()
	for n := 0; ; n++ {
		// Each head may use maxDirectHead beyond the bytes already
		// buffered (a pooled connection has none): every informational
		// response is passed on as it comes, so, as net/http's Transport
		// does when 1xx responses are delivered (ReverseProxy's case), the
		// bound is per head and their number is not limited. An
		// application may send "102 Processing" every few seconds of a
		// long request.
		dc.limit.n = maxDirectHead
		if _, err := dc.br.Peek(1); err != nil {
			if n == 0 {
				return nil, fmt.Errorf("reading the response: %w: %w", errStaleConn, err)
			}
			return nil, fmt.Errorf("reading the response: %w", err)
		}
		resp, err := http.ReadResponse(dc.br, r)
		if err != nil {
			return nil, fmt.Errorf("reading the response: %w", err)
		}
		switch {
		case resp.StatusCode < 100:
			// ReadResponse takes any three digits; net/http's server
			// panics on a code below 100 (ReverseProxy's answer is an
			// aborted response and a stack trace in the log).
			return nil, fmt.Errorf("invalid status code %03d in the response", resp.StatusCode)
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("the application switched protocols without an Upgrade request")
		case resp.StatusCode < 200:
			got1xx(resp)
		default:
			return resp, nil
		}
	}
}

// aLongTimeAgo is a deadline in the past, which makes blocked I/O return.
var aLongTimeAgo = time.Unix(1, 0)

// hopHeaders are the hop-by-hop headers of RFC 9110 section 7.6.1 and the
// older ones proxies still send; they describe one connection and are never
// forwarded.
var hopHeaders = map[string]bool{
	"Connection":          true,
	"Proxy-Connection":    true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}

// eachConnectionName calls f with each header name a Connection header
// lists, in canonical form, until f returns false. Tokens are trimmed of
// HTTP's whitespace only, as ReverseProxy does: Unicode spaces (U+00A0) and
// case folding (the Kelvin sign K matches k in strings.EqualFold) must not
// make a token that is not a header name remove one.
func eachConnectionName(conn []string, f func(name string) bool) {
	for _, v := range conn {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = textproto.TrimString(tok); tok != "" && !f(textproto.CanonicalMIMEHeaderKey(tok)) {
				return
			}
		}
	}
}

// writeDirectRequest writes the request line and header of r, without the
// hop-by-hop headers, with the proxy's own. Names and values are checked as
// net/http's Transport checks them, so nothing can split the request.
func writeDirectRequest(w *bufio.Writer, r *http.Request, head *directHead) error {
	uri := r.URL.RequestURI()
	// directEligible admits only origin-form targets; checked again here
	// so that nothing else can reach the request line.
	if !strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, " \r\n") || !httpguts.ValidHostHeader(head.host) {
		return fmt.Errorf("invalid request target %q or host %q", uri, head.host)
	}
	w.WriteString(r.Method)
	w.WriteByte(' ')
	w.WriteString(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(head.host)
	w.WriteString("\r\n")
	// The names Connection lists, canonicalised once rather than per field.
	var listed []string
	eachConnectionName(r.Header["Connection"], func(name string) bool {
		listed = append(listed, name)
		return true
	})
	for k, vv := range r.Header {
		// net/http's server canonicalises names; a handler may not have.
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if hopHeaders[ck] || slices.Contains(listed, ck) {
			continue
		}
		switch ck {
		case "Host", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded",
			// A request on this path has no body, whatever it says.
			"Content-Length":
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid value for header %q", k)
			}
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if httpguts.HeaderValuesContainsToken(r.Header["Te"], "trailers") {
		w.WriteString("Te: trailers\r\n")
	}
	if head.fwdFor != "" {
		w.WriteString("X-Forwarded-For: ")
		w.WriteString(head.fwdFor)
		w.WriteString("\r\n")
	}
	w.WriteString("X-Forwarded-Host: ")
	w.WriteString(head.fwdHost)
	w.WriteString("\r\nX-Forwarded-Proto: ")
	w.WriteString(head.proto)
	w.WriteString("\r\nForwarded: ")
	w.WriteString(head.forwarded)
	_, err := w.WriteString("\r\n\r\n")
	return err
}

// removeHopByHop removes the hop-by-hop headers of a response, and those its
// Connection header names.
func removeHopByHop(h http.Header) {
	eachConnectionName(h["Connection"], func(name string) bool {
		delete(h, name)
		return true
	})
	for k := range hopHeaders {
		delete(h, k)
	}
}

// directBody is the upstream body of a direct response. It remembers
// whether the body was read to its end (only then can the connection carry
// another request) and, when closed early, closes the connection rather
// than let net/http drain an endless stream.
type directBody struct {
	rc     io.ReadCloser
	conn   net.Conn
	eof    atomic.Bool
	broken atomic.Bool
}

func (b *directBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *directBody) Close() error {
	if !b.eof.Load() {
		b.broken.Store(true)
		b.conn.Close()
	}
	return b.rc.Close()
}

// serveDirect forwards r over the direct path.
func (p *proxy) serveDirect(w http.ResponseWriter, r *http.Request) {
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	head := directHead{host: r.Host, proto: proto, fwdHost: r.Host}
	if p.s.cfg.ChangeHost {
		head.host = p.upstream.Host
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		head.fwdFor = ip
	}
	head.forwarded = forwardedHeader(r.RemoteAddr, r.Host, proto)

	resp, dc, stop, err := p.direct.roundTrip(r, &head, func(info *http.Response) {
		// WriteHeader sends the header map with a 1xx and keeps it for
		// the final response: set the 1xx's fields only for its write.
		h := w.Header()
		saved := make(http.Header, len(info.Header))
		for k, vv := range info.Header {
			saved[k] = h[k]
			h[k] = vv
		}
		w.WriteHeader(info.StatusCode)
		for k, vv := range saved {
			if vv == nil {
				delete(h, k)
			} else {
				h[k] = vv
			}
		}
	})
	if err != nil {
		p.errorHandler(w, r, err)
		return
	}
	body := &directBody{rc: resp.Body, conn: dc.conn}
	resp.Body = body
	reusable := false
	defer func() {
		if stop() && reusable && !body.broken.Load() && body.eof.Load() && !resp.Close {
			dc.bodiless = r.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified
			p.direct.put(dc)
		} else {
			dc.conn.Close()
		}
	}()

	removeHopByHop(resp.Header)
	if err := p.inspect(resp, proto, r.Host); err != nil {
		resp.Body.Close()
		p.errorHandler(w, r, err)
		return
	}
	h := w.Header()
	for k, vv := range resp.Header {
		if have := h[k]; have != nil {
			h[k] = append(have, vv...)
		} else {
			h[k] = vv
		}
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)

	var flush func() error
	if resp.ContentLength == -1 || isEventStream(resp.Header) {
		// A stream (server-sent events, chunked progress output, a long
		// poll): every write goes out at once, the head first.
		flush = http.NewResponseController(w).Flush
		_ = flush()
	}
	buf := bufferPool{}.Get()
	werr, rerr := copyBody(w, resp.Body, buf, flush)
	bufferPool{}.Put(buf)
	// Closing after the copy fills in resp.Trailer (and ends the tracking
	// of an event stream).
	resp.Body.Close()
	if rerr != nil || werr != nil {
		if rerr != nil {
			p.s.log.Debug("the application's response body broke off", "upstream", p.upstream.Host, "path", r.URL.Path, "err", rerr)
		}
		// The response cannot be completed: abort it, so the browser sees
		// a broken response rather than a short one that looks whole.
		dc.conn.Close()
		panic(http.ErrAbortHandler)
	}
	reusable = true
	if len(resp.Trailer) > 0 {
		// Forces chunking, so that net/http does not compute a
		// Content-Length for a short body and drop the trailers.
		_ = http.NewResponseController(w).Flush()
	}
	prefix := ""
	if len(resp.Trailer) != announced {
		prefix = http.TrailerPrefix
	}
	for k, vv := range resp.Trailer {
		if vv = validTrailerValues(k, vv); len(vv) > 0 {
			h[prefix+k] = append(h[prefix+k], vv...)
		}
	}
}

// validTrailerValues returns the values of the trailer field name that can
// be sent, none if the name cannot. An announced trailer that did not come
// stays in resp.Trailer with no value, and the trailer parser lets through
// names with spaces ("X Late: 1"). net/http's HTTP/2 server leaves out what
// it cannot encode, and when that is every trailer it writes no frame at
// all: the stream never ends and the browser waits for the response
// forever (found by FuzzDirectMatchesReverseProxy; ReverseProxy hangs so
// for the invalid names, and for the missing ones copies no entry).
func validTrailerValues(name string, vv []string) []string {
	if !httpguts.ValidHeaderFieldName(name) {
		return nil
	}
	for _, v := range vv {
		if !httpguts.ValidHeaderFieldValue(v) {
			return slices.DeleteFunc(slices.Clone(vv), func(v string) bool { return !httpguts.ValidHeaderFieldValue(v) })
		}
	}
	return vv
}

// copyBody copies the upstream body to the browser, flushing after each
// write when flush is set, and tells a failed write from a failed read.
func copyBody(w io.Writer, body io.Reader, buf []byte, flush func() error) (werr, rerr error) {
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr = w.Write(buf[:n]); werr != nil {
				return werr, nil
			}
			if flush != nil {
				if werr = flush(); werr != nil {
					return werr, nil
				}
			}
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// isEventStream reports whether the response is a server-sent event stream.
func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= len("text/event-stream") && strings.EqualFold(ct[:len("text/event-stream")], "text/event-stream")
}
