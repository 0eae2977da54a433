package devproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// spoofable lists the request headers through which a client could claim
// to have come through a proxy, over HTTPS, or from another address. They
// are removed from every request before the Policy and the application see
// it; the proxy then sets X-Forwarded-For, -Host, -Proto and Forwarded
// itself. Frameworks read several of the rarer ones too (X-Forwarded-Ssl by
// Rack, Front-End-Https by IIS-era stacks, X-Url-Scheme by Werkzeug's
// older releases), so leaving any of them through would let a page fake
// HTTPS.
var spoofable = []string{
	"Forwarded",
	"X-Forwarded-For",
	"X-Forwarded-Host",
	"X-Forwarded-Proto",
	"X-Forwarded-Port",
	"X-Forwarded-Prefix",
	"X-Forwarded-Ssl",
	"X-Forwarded-Scheme",
	"X-Forwarded-Server",
	"X-Real-Ip",
	"X-Client-Ip",
	"True-Client-Ip",
	"X-Url-Scheme",
	"Front-End-Https",
}

// stripSpoofable removes the spoofable headers.
func stripSpoofable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range spoofable {
			delete(r.Header, h)
		}
		next.ServeHTTP(w, r)
	})
}

// proxy forwards requests to the upstream application and watches its
// answers.
type proxy struct {
	s         *Server
	upstream  *url.URL
	rp        *httputil.ReverseProxy
	transport *http.Transport
	diag      *diagnoser
	down      atomic.Bool // the last attempt found nothing listening
	streams   streamSet   // open server-sent event streams
	dialer    *net.Dialer
	preferV6  atomic.Bool // localhost last answered on ::1
}

// Upstream connection pool. A browser's HTTP/2 connection carries up to
// 250 requests at once (net/http's MaxConcurrentStreams), and each needs an
// HTTP/1.1 connection to the application: the pool keeps as many, so that
// the next page load reuses them rather than dial again and leave a
// TIME_WAIT socket behind for each. The Transport reads on every idle
// connection, so one the application closes (a restart, its keep-alive
// timeout) is closed on the proxy's side at once, never left in
// CLOSE-WAIT. The idle timeout is shorter than the keep-alive timeouts of
// the common development servers (Node.js and Vite, uvicorn: 5 s), so that
// the proxy, not the application, ends an idle connection, and a request
// does not race the application's close; on loopback a new connection
// costs a few tens of microseconds.
const (
	maxIdleUpstream     = 256
	upstreamIdleTimeout = 4 * time.Second
	// maxResponseHead bounds a response head (status line and header
	// fields), as net/http's server bounds a request's
	// (DefaultMaxHeaderBytes): an application that sends headers without
	// end gets a 502, not the proxy's memory.
	maxResponseHead = 1 << 20
)

func newProxy(s *Server) *proxy {
	p := &proxy{s: s, upstream: s.cfg.Upstream, diag: newDiagnoser(s.log)}
	p.dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	p.transport = &http.Transport{
		// Never through an HTTP proxy from the environment: the upstream is
		// local, and a corporate proxy would only see "localhost".
		Proxy:       nil,
		DialContext: p.dial,
		// HTTP/1.1 to the upstream: every development server speaks it, and
		// WebSocket upgrades need it.
		ForceAttemptHTTP2:   false,
		MaxIdleConns:        maxIdleUpstream,
		MaxIdleConnsPerHost: maxIdleUpstream,
		IdleConnTimeout:     upstreamIdleTimeout,
		// Pass compressed bodies through untouched.
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxResponseHead,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: p.transport,
		// Streams are flushed write by write: ReverseProxy itself uses an
		// interval of -1 (flush every write at once) for text/event-stream
		// and for every response without a Content-Length (chunked
		// progress output, long polls), whatever FlushInterval says. For
		// responses of known length, flushing each write would only add a
		// TLS record and an HTTP/2 frame per response, so they go through
		// the server's buffers. Bodies of any size are copied through a
		// fixed buffer, never held whole in memory.
		FlushInterval:  0,
		BufferPool:     bufferPool{},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return p
}

// dial connects to the upstream. "localhost" is dialled as 127.0.0.1 and
// then ::1 (RFC 6761: it is the loopback, whatever /etc/hosts says), so an
// application is found on either, as development servers disagree on which
// one to bind; the address that answered last is tried first next time.
func (p *proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !strings.EqualFold(host, "localhost") {
		return p.dialer.DialContext(ctx, network, addr)
	}
	order := [2]string{"127.0.0.1", "::1"}
	if p.preferV6.Load() {
		order[0], order[1] = order[1], order[0]
	}
	var firstErr error
	for _, ip := range order {
		c, err := p.dialer.DialContext(ctx, network, net.JoinHostPort(ip, port))
		if err == nil {
			p.preferV6.Store(ip == "::1")
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		// A client mistaking this for a forward proxy (HTTP/2's
		// extended CONNECT is not offered).
		http.Error(w, "CONNECT is not supported by httpsguard serve", http.StatusMethodNotAllowed)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// rewrite builds the upstream request: same path and query, the browser's
// Host (unless ChangeHost), and forwarded headers that say how the browser
// reached the proxy. httputil.ReverseProxy has already removed hop-by-hop
// headers and any X-Forwarded-For/-Host/-Proto from the outbound request.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.Out.URL.Scheme = p.upstream.Scheme
	pr.Out.URL.Host = p.upstream.Host
	if p.s.cfg.ChangeHost {
		pr.Out.Host = p.upstream.Host
	} else {
		pr.Out.Host = pr.In.Host
	}
	pr.SetXForwarded()
	proto := "http"
	if pr.In.TLS != nil {
		proto = "https"
	}
	pr.Out.Header["Forwarded"] = []string{forwardedHeader(pr.In.RemoteAddr, pr.In.Host, proto)}
}

// forwardedHeader formats an RFC 7239 Forwarded element. Values that are not
// tokens (an IPv6 address, a host with a port) are quoted, as section 6
// requires.
func forwardedHeader(remoteAddr, host, proto string) string {
	// Built in one allocation: this runs for every request.
	var b strings.Builder
	b.Grow(len(`for="[];host="";proto=`) + len(remoteAddr) + len(host) + len(proto))
	if ip, _, err := net.SplitHostPort(remoteAddr); err == nil {
		if strings.Contains(ip, ":") {
			b.WriteString(`for="[`)
			b.WriteString(ip)
			b.WriteString(`]";`)
		} else {
			b.WriteString("for=")
			b.WriteString(ip)
			b.WriteByte(';')
		}
	}
	if host != "" && isForwardedSafe(host) {
		if strings.ContainsAny(host, ":[]") {
			b.WriteString(`host="`)
			b.WriteString(host)
			b.WriteString(`";`)
		} else {
			b.WriteString("host=")
			b.WriteString(host)
			b.WriteByte(';')
		}
	}
	b.WriteString("proto=")
	b.WriteString(proto)
	return b.String()
}

// isForwardedSafe rejects Host values that would need escaping inside a
// quoted string; net/http has already refused most of them.
func isForwardedSafe(s string) bool {
	return !strings.ContainsAny(s, "\"\\;, \t")
}

// modifyResponse inspects every upstream answer: it refuses a status
// net/http cannot send, stops redirect loops, removes HSTS (unless asked to
// keep it) and warns about insecure cookies and redirects. resp.Request is
// the request sent upstream, whose forwarded headers say how the browser
// reached the proxy.
func (p *proxy) modifyResponse(resp *http.Response) error {
	if p.down.CompareAndSwap(true, false) {
		p.s.log.Info(fmt.Sprintf("the application at %s is answering again", p.upstream.Host), "upstream", p.upstream.Host)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 999 {
		// net/http's Transport reads "HTTP/1.1 099" as status 99, and its
		// server panics on WriteHeader(99): say what went wrong instead.
		return &badStatusError{status: resp.Status}
	}
	if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		// These have no content, whatever Content-Length says (for a 304,
		// it is the length of the cached representation). net/http's
		// HTTP/2 server sends the field as it is, and some clients, Go's
		// own among them, then wait for that many bytes and report the
		// response cut off.
		resp.Header.Del("Content-Length")
	}
	resp.Header.Set(MarkHeader, p.s.mark)
	proto, host := resp.Request.Header.Get("X-Forwarded-Proto"), resp.Request.Header.Get("X-Forwarded-Host")
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc := resp.Header.Get("Location"); loc != "" {
			if err := p.diag.redirect(resp, proto, host, p.upstream.Host, loc); err != nil {
				return err
			}
		}
	}
	if isEventStream(resp.Header) {
		resp.Body = p.streams.track(resp.Body)
	}
	if !p.s.cfg.HSTS {
		if v := resp.Header.Get("Strict-Transport-Security"); v != "" {
			resp.Header.Del("Strict-Transport-Security")
			if p.diag.once.first("hsts") {
				p.s.log.Warn(fmt.Sprintf("removed Strict-Transport-Security: %s from the application's responses: browsers other than Chromium would remember it for %s and refuse plain HTTP there for every project; restart with --hsts to keep it", v, hostname(host)),
					"header", v)
			}
		}
	}
	if proto == "https" {
		if cookies := resp.Header.Values("Set-Cookie"); len(cookies) > 0 {
			p.diag.cookies(cookies, resp.Header)
		}
	}
	// Trailers come only with chunked bodies. A 101's body must stay the
	// connection itself, which ReverseProxy hijacks.
	if resp.StatusCode != http.StatusSwitchingProtocols && (resp.Trailer != nil || resp.ContentLength == -1) {
		resp.Body = &trailerFilter{ReadCloser: resp.Body, resp: resp}
	}
	return nil
}

// badStatusError is a response whose status code net/http cannot send.
type badStatusError struct{ status string }

func (e *badStatusError) Error() string {
	return fmt.Sprintf("the application answered with the invalid status %q", e.status)
}

// trailerFilter removes, once the body is closed, the trailers that cannot
// be sent (see validTrailerValues): ReverseProxy copies resp.Trailer after
// closing the body, and an HTTP/2 response whose trailers all fail to encode
// never ends.
type trailerFilter struct {
	io.ReadCloser
	resp *http.Response
}

func (f *trailerFilter) Close() error {
	err := f.ReadCloser.Close()
	for k, vv := range f.resp.Trailer {
		if vv = validTrailerValues(k, vv); len(vv) > 0 {
			f.resp.Trailer[k] = vv
		} else {
			delete(f.resp.Trailer, k)
		}
	}
	return err
}

// errorHandler answers when the upstream could not: a redirect loop was
// stopped, nothing listens on the upstream port, or the connection failed.
// Every error page is marked no-store, so that a browser does not keep
// showing an error once the application is back.
func (p *proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set(MarkHeader, p.s.mark)
	var loop *loopError
	switch {
	case errors.As(err, &loop):
		p.diag.reportLoop(loop)
		writeErrorPage(w, r, loopPage(loop))
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The browser went away; there is nobody to show a page to.
		w.WriteHeader(http.StatusBadGateway)
	case isConnRefused(err):
		if p.down.CompareAndSwap(false, true) {
			p.s.log.Warn(fmt.Sprintf("the application is not running: nothing listens on %s; start it there (the browser shows a page that reloads until it answers)", p.upstream.Host),
				"upstream", p.upstream.Host)
		}
		writeErrorPage(w, r, downPage(p.upstream.Host, r))
	default:
		p.s.log.Warn(fmt.Sprintf("the application at %s failed to answer %s %s: %v", p.upstream.Host, r.Method, r.URL.Path, err),
			"upstream", p.upstream.Host, "err", err)
		writeErrorPage(w, r, failedPage(p.upstream.Host, r, err))
	}
}

func isConnRefused(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	// "localhost" resolved to no address that answers: every dial failed.
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// bufferPool recycles the 32 KiB copy buffers of httputil.ReverseProxy so
// that streaming large bodies allocates nothing per request. A bounded
// channel rather than a sync.Pool: httputil.BufferPool hands buffers back as
// []byte, and storing a slice in a sync.Pool allocates its header on every
// Put.
type bufferPool struct{}

var buffers = make(chan []byte, 256)

func (bufferPool) Get() []byte {
	select {
	case b := <-buffers:
		return b
	default:
		return make([]byte, 32<<10)
	}
}

func (bufferPool) Put(b []byte) {
	if cap(b) < 32<<10 {
		return
	}
	select {
	case buffers <- b[:32<<10]:
	default: // enough are kept; let this one go
	}
}

// streamSet tracks open event-stream bodies so that shutdown can end them:
// closing the upstream body ends httputil.ReverseProxy's copy, and with it
// the request, which http.Server.Shutdown is waiting for.
type streamSet struct {
	mu   sync.Mutex
	open map[*trackedBody]struct{}
}

type trackedBody struct {
	io.ReadCloser
	set  *streamSet
	once sync.Once
}

func (s *streamSet) track(body io.ReadCloser) io.ReadCloser {
	b := &trackedBody{ReadCloser: body, set: s}
	s.mu.Lock()
	if s.open == nil {
		s.open = map[*trackedBody]struct{}{}
	}
	s.open[b] = struct{}{}
	s.mu.Unlock()
	return b
}

func (b *trackedBody) Close() error {
	b.set.mu.Lock()
	delete(b.set.open, b)
	b.set.mu.Unlock()
	var err error
	b.once.Do(func() { err = b.ReadCloser.Close() })
	return err
}

func (s *streamSet) closeAll() {
	s.mu.Lock()
	open := s.open
	s.open = nil
	s.mu.Unlock()
	for b := range open {
		b.once.Do(func() { b.ReadCloser.Close() })
	}
}

// validTrailerValues returns the values of the trailer field name that can
// be sent, none if the name cannot. An announced trailer that did not come
// stays in resp.Trailer with no value, and the trailer parser lets through
// names with spaces ("X Late: 1"). net/http's HTTP/2 server leaves out what
// it cannot encode, and when that is every trailer it writes no frame at
// all: the stream never ends and the browser waits for the response
// forever.
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

// isEventStream reports whether the response is a server-sent event stream.
func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= len("text/event-stream") && strings.EqualFold(ct[:len("text/event-stream")], "text/event-stream")
}
