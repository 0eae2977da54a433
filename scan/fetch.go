package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

// errRequestLimit is returned when a target has used its request budget.
var errRequestLimit = errors.New("request limit for this target reached")

// fetched is one HTTP exchange: the response head, a capped body and what
// the TLS layer saw.
type fetched struct {
	url       *url.URL
	method    string
	status    int
	proto     string
	header    http.Header
	body      []byte
	truncated bool  // the body was longer than MaxBodyBytes
	bodyErr   error // reading the body failed part-way; body holds what arrived
	tls       *tls.ConnectionState
	verified  bool   // the TLS chain verified for the URL's host
	verifyErr string // why it did not
	trustedBy string
}

// isRedirectStatus reports whether f has a status the Observatory follows
// as a redirect.
func (f *fetched) isRedirectStatus() bool {
	switch f.status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// chain is a redirect chain followed by hand: every hop, the last response
// and why it stopped early, if it did.
type chain struct {
	start string
	hops  []*fetched // every response, the final one included
	final *fetched   // last response received; nil if the first request failed
	err   error      // the request that failed, a loop, or too many redirects
	loop  bool
	// failed is set when a request of the chain failed (the Observatory's
	// failed session); reaching the redirect limit is not a failure.
	failed bool
	// next is the URL the last hop pointed to when following stopped early.
	next string
}

// fetcher makes every request of one target through one keep-alive
// transport, bounded by the Scanner's limits.
type fetcher struct {
	opts      *Options
	log       *slog.Logger
	anchors   []trustAnchor
	transport *http.Transport
	// obsTransport carries the Observatory's requests (page sessions,
	// robots.txt, CORS preflight): transport itself, except in
	// Observatory scoring, where it speaks HTTP/1.1 only, without ALPN,
	// as the Observatory's Node client does. A server may answer HTTP/2
	// differently (Go's drops the Content-Type of a 304 over HTTP/1.1
	// only).
	obsTransport *http.Transport
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	requests     atomic.Int64

	mu      sync.Mutex
	verify  map[string]verifyResult // by host + leaf fingerprint
	pending []*fetched              // TLS responses not verified yet

	// warm is closed once the page session's first TLS handshake is done
	// (or failed): the other HTTPS requests wait for it so that they share
	// that connection (HTTP/2) instead of each dialling its own, and the
	// protocol probes learn from it which versions need probing.
	warm      chan struct{}
	warmOnce  sync.Once
	mainState *tls.ConnectionState
}

// markWarm records the first handshake's state (nil if there was none) and
// releases the requests waiting for it.
func (f *fetcher) markWarm(cs *tls.ConnectionState) {
	f.warmOnce.Do(func() {
		f.mu.Lock()
		f.mainState = cs
		f.mu.Unlock()
		close(f.warm)
	})
}

// waitWarm waits for markWarm, or ctx, and returns the first handshake's
// state.
func (f *fetcher) waitWarm(ctx context.Context) *tls.ConnectionState {
	select {
	case <-f.warm:
	case <-ctx.Done():
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mainState
}

type verifyResult struct {
	ok        bool
	trustedBy string
	err       string
}

func newFetcher(opts *Options, anchors []trustAnchor) *fetcher {
	f := &fetcher{opts: opts, anchors: anchors, verify: map[string]verifyResult{}, warm: make(chan struct{}), log: opts.Logger}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	d := &net.Dialer{Timeout: opts.ConnectTimeout, Resolver: opts.Resolver}
	if opts.DenyPrivate {
		d.Control = denyPrivateControl
	}
	f.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if o := opts.resolveOverride(addr); o != "" {
			addr = o
		}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c}, nil
	}
	f.transport = &http.Transport{
		Proxy:       nil, // never: a proxy would dial on our behalf, past DenyPrivate
		DialContext: f.dial,
		// Verification is done per response by verifyState, against
		// the trust anchors, so that a chain that does not verify is
		// still scanned and marked, as the Observatory does, without a
		// second connection.
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // verified by hand in verifyState
			ClientSessionCache: tls.NewLRUClientSessionCache(8),
			CurvePreferences:   fastCurves,
		},
		TLSHandshakeTimeout:    opts.HandshakeTimeout,
		ResponseHeaderTimeout:  opts.RequestTimeout,
		MaxResponseHeaderBytes: opts.MaxHeaderBytes,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	f.obsTransport = f.transport
	if opts.Scoring == ScoringObservatory {
		f.obsTransport = f.transport.Clone()
		f.obsTransport.ForceAttemptHTTP2 = false
		f.obsTransport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		f.obsTransport.TLSClientConfig.NextProtos = nil
	}
	return f
}

func (f *fetcher) close() {
	f.transport.CloseIdleConnections()
	f.obsTransport.CloseIdleConnections()
}

// do performs one request without following redirects.
func (f *fetcher) do(ctx context.Context, method, rawURL string, hdr http.Header) (*fetched, error) {
	return f.doVia(ctx, f.transport, method, rawURL, hdr, nil)
}

// doObservatory is do for one of the Observatory's requests: through
// obsTransport and, when jar is not nil, with the cookie jar of an
// Observatory page session: the cookies the Observatory would send are
// sent, and the response's cookies stored in it.
func (f *fetcher) doObservatory(ctx context.Context, method, rawURL string, hdr http.Header, jar *observatory.Jar) (*fetched, error) {
	return f.doVia(ctx, f.obsTransport, method, rawURL, hdr, jar)
}

// doVia performs one request through the transport rt. A request that
// fails returns an *Error naming the cause; a body that fails part-way is
// recorded in the response's bodyErr.
func (f *fetcher) doVia(ctx context.Context, rt http.RoundTripper, method, rawURL string, hdr http.Header, jar *observatory.Jar) (*fetched, error) {
	if n := f.requests.Add(1); n > int64(f.opts.MaxRequests) {
		return nil, classify(errRequestLimit, method, rawURL, step{}, f.opts, false)
	}
	scanCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, f.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, &Error{Kind: KindBadRedirect, Message: fmt.Sprintf("%s %s: %v", method, rawURL, err),
			Fix: "Make every redirect target a valid http(s) URL.", cause: err}
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", observatory.Accept)
	for k, v := range hdr {
		req.Header[k] = v
	}
	if jar != nil {
		// Where the Observatory's cookie agent would fail the request
		// (see observatory.Jar), the request is sent without cookies;
		// Analyze fails the session itself.
		if c, _ := jar.Request(req.URL.String(), time.Now()); c != "" {
			req.Header.Set("Cookie", c)
		}
	}
	tr := &requestTrace{}
	req = req.WithContext(httptrace.WithClientTrace(ctx, tr.hooks()))
	start := time.Now()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		f.log.Debug("request failed", "method", method, "url", rawURL, "duration", time.Since(start), "err", err)
		return nil, classify(err, method, rawURL, tr.step(), f.opts, scanCtx.Err() != nil)
	}
	defer resp.Body.Close()
	if jar != nil {
		jar.Response(req.URL.String(), resp.Header.Values("Set-Cookie"))
	}
	out := &fetched{
		url: req.URL, method: method, status: resp.StatusCode, proto: resp.Proto,
		header: resp.Header, tls: resp.TLS,
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, f.opts.MaxBodyBytes+1))
	if n > f.opts.MaxBodyBytes {
		out.truncated = true
		buf.Truncate(int(f.opts.MaxBodyBytes))
	} else if err != nil {
		out.bodyErr = bodyError(err, rawURL, n, f.opts, scanCtx.Err() != nil)
	}
	out.body = buf.Bytes()
	f.log.Debug("request", "method", method, "url", rawURL, "status", resp.StatusCode, "proto", resp.Proto,
		"bytes", len(out.body), "truncated", out.truncated, "duration", time.Since(start))
	if resp.TLS != nil {
		// Verified after the fetches (verifyPending), off the
		// request path: the first verification waits for the system
		// roots to load.
		f.mu.Lock()
		f.pending = append(f.pending, out)
		f.mu.Unlock()
	}
	return out, nil
}

// bodyError classifies a failure to read a body after n bytes.
func bodyError(err error, rawURL string, n int64, o *Options, scanExpired bool) *Error {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		detail, limit := "body", o.RequestTimeout
		if scanExpired {
			detail, limit = "scan", o.Timeout
		}
		return &Error{Kind: KindTimeout, Detail: detail, cause: err,
			Message: fmt.Sprintf("%s: the body did not arrive completely within %s (%d bytes read)", rawURL, limit, n),
			Fix:     timeoutFix("body", "", "")}
	case closedConn(err):
		return &Error{Kind: KindClosed, Detail: "body", cause: err,
			Message: fmt.Sprintf("%s: the server closed the connection in the middle of the body (%d bytes read)", rawURL, n),
			Fix:     "The server cuts its responses short: check its error log and any proxy in front of it."}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindCancelled, Detail: "body", Message: rawURL + ": the scan was cancelled", Fix: "Run the scan again.", cause: err}
	}
	return &Error{Kind: KindNotHTTP, Detail: "body", cause: err,
		Message: fmt.Sprintf("%s: the body is not valid HTTP framing (%v, %d bytes read)", rawURL, cleanNetErr(err), n),
		Fix:     "The server sends a malformed body (bad chunked encoding or a wrong Content-Length): check the application and any proxy in front of it."}
}

// requestTrace records how far one request got, for classify.
type requestTrace struct {
	mu sync.Mutex
	st step
	cc *countingConn // the connection the request went on
	at int64         // bytes it had read when the request got it
}

func (t *requestTrace) hooks() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.mu.Lock()
				t.st.connectDone = true
				t.mu.Unlock()
			}
		},
		TLSHandshakeStart: func() {
			t.mu.Lock()
			t.st.handshakeSeen = true
			t.mu.Unlock()
		},
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				t.mu.Lock()
				t.st.handshakeDone = true
				t.mu.Unlock()
			}
		},
		GotFirstResponseByte: func() {
			t.mu.Lock()
			t.st.firstByte = true
			t.mu.Unlock()
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.st.gotConn = true
			t.st.connectDone = true
			if t.st.handshakeSeen || info.Reused {
				t.st.handshakeDone = true
			}
			c := info.Conn
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn()
			}
			if cc, ok := c.(*countingConn); ok {
				t.cc, t.at = cc, cc.read.Load()
			}
		},
	}
}

// step returns what the trace saw, with the bytes read for the head so far.
func (t *requestTrace) step() step {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.st
	if t.cc != nil {
		st.headBytes = t.cc.read.Load() - t.at
	}
	return st
}

// countingConn counts the bytes read from a connection, so that a request
// that failed after reading more than the head's limit is known to have
// had too large a head.
type countingConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// follow requests start and follows redirects by hand, as the
// Observatory's retriever does: a GET for every hop, the session's cookies
// sent along, at most MaxRedirects redirects, every response recorded. A
// URL seen twice marks a loop; the chain still runs to the limit so that it
// is the chain the Observatory sees.
func (f *fetcher) follow(ctx context.Context, start string, jar *observatory.Jar, maxRedirects int) *chain {
	c := &chain{start: start}
	seen := map[string]bool{}
	next := start
	for redirects := 0; ; redirects++ {
		if seen[next] {
			c.loop = true
		}
		seen[next] = true
		var r *fetched
		var err error
		if jar != nil { // a page session
			r, err = f.doObservatory(ctx, http.MethodGet, next, nil, jar)
		} else {
			r, err = f.do(ctx, http.MethodGet, next, nil)
		}
		if err != nil {
			c.err = err
			c.failed = true
			c.next = next
			return c
		}
		c.hops = append(c.hops, r)
		c.final = r
		if !r.isRedirectStatus() {
			return c
		}
		u, follow, err := observatory.NextURL(r.url.String(), &observatory.Response{Status: r.status, Header: r.header}, redirects)
		if err != nil {
			c.err = badRedirect(fmt.Sprintf("redirect from %s", r.url), err)
			c.failed = true
			return c
		}
		if !follow {
			c.next = u
			if loc, err := resolveLocation(r.url, r.header.Get("Location")); err == nil {
				c.next = loc.String()
				c.loop = c.loop || seen[c.next]
			}
			c.err = tooManyRedirects(start, maxRedirects, c.loop)
			return c
		}
		if redirects+1 > maxRedirects {
			c.next = u
			c.loop = c.loop || seen[u]
			c.err = tooManyRedirects(start, maxRedirects, c.loop)
			return c
		}
		next = u
	}
}

// tooManyRedirects is the error of a chain that did not end.
// badRedirect is the error for a redirect whose Location is no URL to
// follow; at says where it was met.
func badRedirect(at string, err error) *Error {
	return &Error{Kind: KindBadRedirect, Message: fmt.Sprintf("%s: %v", at, err),
		Fix: "Make every redirect's Location a valid http:// or https:// URL.", cause: err}
}

func tooManyRedirects(start string, limit int, loop bool) *Error {
	e := &Error{Kind: KindRedirectLoop, Detail: "too_many",
		Message: fmt.Sprintf("more than %d redirects from %s", limit, start),
		Fix:     "Make the redirects end on a page: browsers give up after about 20 (ERR_TOO_MANY_REDIRECTS)."}
	if loop {
		e.Detail = "loop"
		e.Message = fmt.Sprintf("redirect loop: more than %d redirects from %s, through the same URL again", limit, start)
		e.Fix = "Fix the redirect rules: a loop usually means the app does not see that the proxy in front of it spoke HTTPS (trust the proxy's X-Forwarded-Proto)."
	}
	return e
}

// verifyPending verifies the chain of every TLS response fetched so far,
// once per host and certificate.
func (f *fetcher) verifyPending() {
	f.mu.Lock()
	todo := f.pending
	f.pending = nil
	f.mu.Unlock()
	for _, r := range todo {
		v := f.verifyState(r.url.Hostname(), r.tls)
		r.verified, r.trustedBy, r.verifyErr = v.ok, v.trustedBy, v.err
	}
}

// verifyState verifies the peer chain of cs for host against each trust
// anchor in turn; results are cached per host and leaf certificate.
func (f *fetcher) verifyState(host string, cs *tls.ConnectionState) verifyResult {
	if len(cs.PeerCertificates) == 0 {
		return verifyResult{err: "server sent no certificate"}
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
	key := host + "|" + string(sum[:])
	f.mu.Lock()
	v, ok := f.verify[key]
	f.mu.Unlock()
	if ok {
		return v
	}
	v = verifyChain(f.anchors, host, cs.PeerCertificates, f.opts.now())
	f.log.Debug("chain verified", "host", host, "ok", v.ok, "trusted_by", v.trustedBy)
	f.mu.Lock()
	f.verify[key] = v
	f.mu.Unlock()
	return v
}

func verifyChain(anchors []trustAnchor, host string, certs []*x509.Certificate, now time.Time) verifyResult {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	var firstErr error
	for _, a := range anchors {
		pool := a.pool()
		if pool == nil {
			continue
		}
		_, err := certs[0].Verify(x509.VerifyOptions{
			DNSName: host, Roots: pool, Intermediates: inter, CurrentTime: now,
		})
		if err == nil {
			return verifyResult{ok: true, trustedBy: a.name}
		}
		// A name mismatch or an expired leaf is the same whatever the
		// roots: report it rather than a later "unknown authority".
		var hn x509.HostnameError
		var inv x509.CertificateInvalidError
		if firstErr == nil || errors.As(err, &hn) || errors.As(err, &inv) {
			if !errors.As(firstErr, &hn) && !errors.As(firstErr, &inv) {
				firstErr = err
			}
		}
	}
	if firstErr == nil {
		firstErr = errors.New("no trusted roots available")
	}
	return verifyResult{err: firstErr.Error()}
}

// resolveLocation resolves a Location header against the URL that sent it,
// accepting only http and https results with a host.
func resolveLocation(base *url.URL, loc string) (*url.URL, error) {
	loc = strings.TrimSpace(loc)
	if loc == "" {
		return nil, errors.New("empty Location header")
	}
	if strings.ContainsAny(loc, "\x00\r\n") {
		return nil, fmt.Errorf("location %q contains control characters", loc)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("bad Location %q: %w", loc, err)
	}
	u := base.ResolveReference(ref)
	u.Fragment = ""
	u.RawFragment = ""
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("location %q: scheme %q is not http or https", loc, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("location %q has no host", loc)
	}
	if u.User != nil {
		u.User = nil
	}
	return u, nil
}

// cleanNetErr strips the *url.Error layer the transport adds, keeping the
// cause readable.
func cleanNetErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// verifiedNow reports whether the certificate chain of r, a TLS response,
// verifies, verifying it on the spot; verifyPending reuses the cached
// verdict.
func (f *fetcher) verifiedNow(r *fetched) bool {
	return f.verifyState(r.url.Hostname(), r.tls).ok
}
