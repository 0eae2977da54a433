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
	d := &net.Dialer{Timeout: opts.ConnectTimeout}
	if opts.DenyPrivate {
		d.Control = denyPrivateControl
	}
	f.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if o := opts.resolveOverride(addr); o != "" {
			addr = o
		}
		return d.DialContext(ctx, network, addr)
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

// doVia performs one request through the transport rt.
func (f *fetcher) doVia(ctx context.Context, rt http.RoundTripper, method, rawURL string, hdr http.Header, jar *observatory.Jar) (*fetched, error) {
	if n := f.requests.Add(1); n > int64(f.opts.MaxRequests) {
		return nil, fmt.Errorf("%s %s: %w (%d)", method, rawURL, errRequestLimit, f.opts.MaxRequests)
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
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
	start := time.Now()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		f.log.Debug("request failed", "method", method, "url", rawURL, "duration", time.Since(start), "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s %s: no complete response head within %s (connect, TLS handshake or headers too slow): %w", method, rawURL, f.opts.RequestTimeout, cleanNetErr(err))
		}
		return nil, fmt.Errorf("%s %s: %w", method, rawURL, cleanNetErr(err))
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
		if errors.Is(err, context.DeadlineExceeded) {
			out.bodyErr = fmt.Errorf("reading body of %s: incomplete after %s (%d bytes): %w", rawURL, f.opts.RequestTimeout, n, err)
		} else {
			out.bodyErr = fmt.Errorf("reading body of %s: %w", rawURL, cleanNetErr(err))
		}
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
			c.err = fmt.Errorf("redirect from %s: %w", r.url, err)
			c.failed = true
			return c
		}
		if !follow {
			c.next = u
			if c.loop {
				c.err = fmt.Errorf("redirect loop: more than %d redirects from %s", maxRedirects, start)
			} else {
				c.err = fmt.Errorf("more than %d redirects from %s", maxRedirects, start)
			}
			if loc, err := resolveLocation(r.url, r.header.Get("Location")); err == nil {
				c.next = loc.String()
				c.loop = c.loop || seen[c.next]
			}
			return c
		}
		if redirects+1 > maxRedirects {
			c.next = u
			c.loop = c.loop || seen[u]
			c.err = fmt.Errorf("more than %d redirects from %s", maxRedirects, start)
			return c
		}
		next = u
	}
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
