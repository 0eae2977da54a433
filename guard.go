package httpsguard

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Guard is a compiled Policy. It is safe for concurrent use; one Guard can
// wrap any number of handlers.
type Guard struct {
	policy Policy

	hosts         *hostMatcher // nil when AllowedHosts is empty
	proxy         proxyTrust
	forwardedHost bool // UseXForwardedHost
	redirect      bool
	sslHost       string
	exempt        []*regexp.Regexp

	hsts    []string // nil when off
	headers []fixedHeader
	// csp and cspRO are the Content-Security-Policy and its Report-Only
	// twin split around "{nonce}": len 1 without a placeholder (then the
	// header is also in headers), 0 when off.
	csp   []string
	cspRO []string
	// nonce is set when either CSP has a placeholder, so each request
	// needs a fresh nonce.
	nonce   bool
	cookies cookieRules
}

// fixedHeader is a header whose value is the same on every response. The
// value slice is shared by all responses with a capacity of one, so a
// handler appending to it gets a copy.
type fixedHeader struct {
	name string // canonical
	bit  uint16 // headerBit(name)
	vals []string
}

// The headers the Guard writes, in canonical form so map lookups need no
// conversion.
const (
	hdrHSTS              = "Strict-Transport-Security"
	hdrNosniff           = "X-Content-Type-Options"
	hdrFrameOptions      = "X-Frame-Options"
	hdrReferrerPolicy    = "Referrer-Policy"
	hdrCOOP              = "Cross-Origin-Opener-Policy"
	hdrCSP               = "Content-Security-Policy"
	hdrCSPReportOnly     = "Content-Security-Policy-Report-Only"
	hdrPermissionsPolicy = "Permissions-Policy"
	hdrForwardedHost     = "X-Forwarded-Host"
)

// NoncePlaceholder is replaced, in Policy.ContentSecurityPolicy and
// Policy.ContentSecurityPolicyReportOnly, by the request's nonce: write
// "script-src 'nonce-{nonce}'".
const NoncePlaceholder = "{nonce}"

// New validates p and compiles it into a Guard. Every invalid value is an
// error naming the Policy field and the value; several are joined.
func New(p Policy) (*Guard, error) {
	if errs := p.validate(); len(errs) > 0 {
		return nil, joinFieldErrors("httpsguard: invalid policy", errs)
	}
	g := &Guard{policy: p.clone()}
	if len(p.AllowedHosts) > 0 {
		g.hosts, _ = compileHosts(p.AllowedHosts) // validate checked every pattern
	}
	if name, value := strings.TrimSpace(p.ProxySSLHeader), strings.TrimSpace(p.ProxySSLValue); name != "" {
		g.proxy.header = http.CanonicalHeaderKey(name)
		g.proxy.value = value
		g.proxy.forwardedOnly = g.proxy.header == "Forwarded"
	}
	if len(p.TrustedProxies) > 0 {
		g.proxy.restricted = true
		g.proxy.prefixes, g.proxy.unix, _ = compileTrustedProxies(p.TrustedProxies)
	}
	g.forwardedHost = p.UseXForwardedHost
	for _, e := range p.RedirectExempt {
		g.exempt = append(g.exempt, regexp.MustCompile(e)) // validated
	}
	g.redirect = p.SSLRedirect && !p.Development
	g.sslHost = strings.TrimSpace(p.SSLHost)

	if p.HSTSSeconds > 0 && !p.Development {
		g.hsts = one(hstsValue(p))
	}
	if p.ContentTypeNosniff {
		g.headers = append(g.headers, fixedHeader{hdrNosniff, headerBit(hdrNosniff), one("nosniff")})
	}
	if v := canonicalFrameOptions(p.FrameOptions); v != "" {
		g.headers = append(g.headers, fixedHeader{hdrFrameOptions, headerBit(hdrFrameOptions), one(v)})
	}
	if v := normalizeReferrerPolicy(p.ReferrerPolicy); v != "" {
		g.headers = append(g.headers, fixedHeader{hdrReferrerPolicy, headerBit(hdrReferrerPolicy), one(v)})
	}
	if v := strings.TrimSpace(p.CrossOriginOpenerPolicy); v != "" {
		g.headers = append(g.headers, fixedHeader{hdrCOOP, headerBit(hdrCOOP), one(v)})
	}
	if v := strings.TrimSpace(p.PermissionsPolicy); v != "" {
		g.headers = append(g.headers, fixedHeader{hdrPermissionsPolicy, headerBit(hdrPermissionsPolicy), one(v)})
	}
	if v := strings.TrimSpace(p.ContentSecurityPolicy); v != "" {
		g.csp = strings.Split(v, NoncePlaceholder)
		if len(g.csp) == 1 {
			g.headers = append(g.headers, fixedHeader{hdrCSP, headerBit(hdrCSP), one(v)})
		}
	}
	if v := strings.TrimSpace(p.ContentSecurityPolicyReportOnly); v != "" {
		g.cspRO = strings.Split(v, NoncePlaceholder)
		if len(g.cspRO) == 1 {
			g.headers = append(g.headers, fixedHeader{hdrCSPReportOnly, headerBit(hdrCSPReportOnly), one(v)})
		}
	}
	g.nonce = len(g.csp) > 1 || len(g.cspRO) > 1
	if !p.Development {
		g.cookies = cookieRulesFor(p)
	}
	return g, nil
}

func one(v string) []string { return []string{v} }

func hstsValue(p Policy) string {
	v := "max-age=" + strconv.Itoa(p.HSTSSeconds)
	if p.HSTSIncludeSubdomains {
		v += "; includeSubDomains"
	}
	if p.HSTSPreload {
		v += "; preload"
	}
	return v
}

// Policy returns the policy g was built from.
func (g *Guard) Policy() Policy { return g.policy.clone() }

// Handler returns next wrapped in the policy: requests for a Host outside
// AllowedHosts get 400, insecure requests are redirected to HTTPS, and every
// response gets the policy's headers and cookie attributes. With
// UseXForwardedHost, the host a trusted proxy forwards stands for Host in
// both checks; r.Host itself is passed on unchanged, and handlers read the
// client's host with Guard.Host.
//
// The headers are added when the response header is written, so next can
// still set its own, which win. Set-Cookie values are rewritten in place in
// the response's header map; http.SetCookie and Header.Add give every
// response its own values, but a handler that assigns one []string to
// several responses' headers must not do so concurrently.
func (g *Guard) Handler(next http.Handler) http.Handler {
	if next == nil {
		// A programming error, reported where it is made rather than on
		// the first request, as http.ServeMux.Handle does.
		panic("httpsguard: Guard.Handler called with a nil handler")
	}
	return &handler{g: g, next: next}
}

type handler struct {
	g    *Guard
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := h.g
	host, forwarded := r.Host, false
	if g.forwardedHost {
		host, forwarded = g.host(r)
		if _, ok := splitHost(host); forwarded && !ok {
			// net/http vets Host, but nothing has vetted this header, and
			// the application may put it into links.
			g.badRequest(w, r, "400 Bad Request: invalid X-Forwarded-Host header")
			return
		}
	}
	if g.hosts != nil && !g.hosts.match(host) {
		msg := "400 Bad Request: the Host header names a host this server does not serve"
		if forwarded {
			msg = "400 Bad Request: the X-Forwarded-Host header names a host this server does not serve"
		}
		g.badRequest(w, r, msg)
		return
	}
	secure := g.IsSecure(r)
	if g.redirect && !secure && !g.isExempt(r.URL.Path) {
		g.redirectToHTTPS(w, r, host)
		return
	}
	rw := getWriter(w, g, secure)
	if g.nonce {
		nonce, csp, cspRO := newNonceCSP(g.csp, g.cspRO)
		rw.csp, rw.cspRO = csp, cspRO
		r = r.WithContext(&nonceContext{Context: r.Context(), nonce: nonce})
	}
	h.next.ServeHTTP(rw, r)
	if !rw.wroteHeader && !rw.hijacked {
		// The handler wrote nothing; net/http will send a 200 with this
		// header map when we return.
		rw.wroteHeader = true
		g.finish(rw)
	}
	putWriter(rw)
}

// badRequest answers 400 with msg, and with the policy's headers.
func (g *Guard) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	rw := getWriter(w, g, g.IsSecure(r))
	http.Error(rw, msg, http.StatusBadRequest)
	putWriter(rw)
}

// Host returns the host, with its port if any, that the client of r asked
// for, as the Guard sees it: with UseXForwardedHost, the X-Forwarded-Host a
// trusted proxy set (its last element), otherwise r.Host. Handlers that
// build absolute URLs use it with IsSecure instead of r.Host, which still
// holds the name the proxy used. Inside a handler the Guard wraps, a host
// from X-Forwarded-Host is a valid host[:port] (the Guard answers 400 to
// anything else, as it does to a bad Host when it redirects), and with
// AllowedHosts set, either kind is an allowed host.
func (g *Guard) Host(r *http.Request) string {
	host, _ := g.host(r)
	return host
}

// host returns the client's host and whether it came from X-Forwarded-Host.
// The header counts only with UseXForwardedHost, from a peer allowed to
// speak for the client (the same TrustedProxies test as the scheme header),
// and when it holds a non-empty element. Its last element is the one the
// nearest proxy wrote: a proxy that appends (Apache's mod_proxy) leaves
// whatever the client sent before it, and a proxy that sets the header
// leaves only its own. Django 3.2 takes the whole value, so a list fails
// its host validation; taking the last element serves proxies that append
// without ever believing the client's part.
func (g *Guard) host(r *http.Request) (host string, forwarded bool) {
	if g.forwardedHost && g.proxy.peerTrusted(r.RemoteAddr) {
		if vals, ok := r.Header[hdrForwardedHost]; ok {
			if last, ok := lastListElement(vals); ok {
				return last, true
			}
		}
	}
	return r.Host, false
}

// IsSecure reports whether r reached the site over HTTPS: a trusted proxy's
// header says the client used HTTPS or, when no such header says anything,
// it arrived over TLS. Handlers that build absolute URLs can use it instead
// of r.TLS.
func (g *Guard) IsSecure(r *http.Request) bool {
	if secure, known := g.proxy.scheme(r); known {
		return secure
	}
	return r.TLS != nil
}

func (g *Guard) isExempt(path string) bool {
	if len(g.exempt) == 0 {
		return false
	}
	p := strings.TrimLeft(path, "/")
	for _, re := range g.exempt {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// redirectToHTTPS sends r to the same URL over HTTPS, on SSLHost or else
// on host, the client's. GET and HEAD get 301, as Django does; other methods
// get 308, which keeps the method and body where a 301 lets browsers turn a
// POST into a GET.
func (g *Guard) redirectToHTTPS(w http.ResponseWriter, r *http.Request, host string) {
	if g.sslHost != "" {
		host = g.sslHost
	} else if _, ok := splitHost(host); !ok {
		// Never echo a Host that could carry a path, userinfo or header
		// injection into Location.
		rw := getWriter(w, g, false)
		http.Error(rw, "400 Bad Request: invalid Host header", http.StatusBadRequest)
		putWriter(rw)
		return
	}
	code := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	uri := r.URL.RequestURI()
	if !strings.HasPrefix(uri, "/") {
		uri = "/" // "OPTIONS *" and absolute-form oddities
	}
	rw := getWriter(w, g, false)
	http.Redirect(rw, r, "https://"+host+uri, code)
	putWriter(rw)
}

// finish applies the policy to the response header just before it is sent.
func (g *Guard) finish(rw *responseWriter) {
	h := rw.w.Header()
	set, known := setHeaders(h)
	if rw.secure && g.hsts != nil && !isSet(h, set, known, bitHSTS, hdrHSTS) {
		h[hdrHSTS] = g.hsts
	}
	for _, fh := range g.headers {
		if fh.bit == bitFrameOptions && rw.frameExempt || isSet(h, set, known, fh.bit, fh.name) {
			continue
		}
		h[fh.name] = fh.vals
	}
	if rw.csp != nil && !isSet(h, set, known, bitCSP, hdrCSP) {
		h[hdrCSP] = rw.csp
	}
	if rw.cspRO != nil && !isSet(h, set, known, bitCSPReportOnly, hdrCSPReportOnly) {
		h[hdrCSPReportOnly] = rw.cspRO
	}
	if g.cookies.enabled() && (!known || set&bitSetCookie != 0) {
		g.cookies.rewrite(h)
	}
}

// Bits for the headers finish looks for.
const (
	bitHSTS uint16 = 1 << iota
	bitNosniff
	bitFrameOptions
	bitReferrerPolicy
	bitCOOP
	bitCSP
	bitCSPReportOnly
	bitPermissionsPolicy
	bitSetCookie
)

func headerBit(name string) uint16 {
	switch name {
	case hdrHSTS:
		return bitHSTS
	case hdrNosniff:
		return bitNosniff
	case hdrFrameOptions:
		return bitFrameOptions
	case hdrReferrerPolicy:
		return bitReferrerPolicy
	case hdrCOOP:
		return bitCOOP
	case hdrCSP:
		return bitCSP
	case hdrCSPReportOnly:
		return bitCSPReportOnly
	case hdrPermissionsPolicy:
		return bitPermissionsPolicy
	case "Set-Cookie":
		return bitSetCookie
	}
	return 0
}

// setHeaders returns a bit for each header of interest the handler set,
// even to nil. A response has few headers, and one pass over them costs less
// than a map lookup per guard header; for a large header map, known is
// false and isSet looks each one up instead.
func setHeaders(h http.Header) (set uint16, known bool) {
	if len(h) > 8 {
		return 0, false
	}
	for k := range h {
		set |= headerBit(k)
	}
	return set, true
}

// isSet reports whether the handler set the header name (with bit bit).
func isSet(h http.Header, set uint16, known bool, bit uint16, name string) bool {
	if known {
		return set&bit != 0
	}
	_, ok := h[name]
	return ok
}

// newNonceCSP returns a fresh nonce and the values of the
// Content-Security-Policy and its Report-Only twin with every placeholder
// replaced by it, nil for a header without placeholder (its fixed value is
// in Guard.headers). Both values are substrings of one string, and the nonce
// is a substring of them, so the three cost one allocation, plus one for the
// slice that holds the header values.
func newNonceCSP(csp, cspRO []string) (nonce string, cspVals, cspROVals []string) {
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24+).
	// URL-safe base64 without padding is a valid CSP nonce (base64-value
	// allows "-" and "_"), and unlike "+", "/" and "=" it needs no escaping
	// where templates put it: html/template writes "+" in an attribute as
	// "&#43;", which would make the page's nonce differ from the header's
	// for anything that compares them as text.
	var enc [22]byte
	base64.RawURLEncoding.Encode(enc[:], raw[:])

	parts := [2][]string{csp, cspRO}
	n, headers := 0, 0
	for _, ps := range parts {
		if len(ps) < 2 {
			continue
		}
		headers++
		n += len(enc) * (len(ps) - 1)
		for _, p := range ps {
			n += len(p)
		}
	}
	var b strings.Builder
	b.Grow(n)
	var ends [2]int
	nonceAt := -1
	for i, ps := range parts {
		if len(ps) < 2 {
			continue
		}
		if nonceAt < 0 {
			nonceAt = b.Len() + len(ps[0])
		}
		b.WriteString(ps[0])
		for _, p := range ps[1:] {
			b.Write(enc[:])
			b.WriteString(p)
		}
		ends[i] = b.Len()
	}
	v := b.String()
	vals := make([]string, 0, headers)
	start := 0
	for i, ps := range parts {
		if len(ps) < 2 {
			continue
		}
		vals = append(vals, v[start:ends[i]])
		start = ends[i]
		// A capacity of one, so a handler appending to one header's
		// values gets a copy instead of overwriting the other's.
		one := vals[len(vals)-1 : len(vals) : len(vals)]
		if i == 0 {
			cspVals = one
		} else {
			cspROVals = one
		}
	}
	return v[nonceAt : nonceAt+len(enc)], cspVals, cspROVals
}

// nonceContext carries the request's CSP nonce. It is its own type, rather
// than context.WithValue, so the nonce needs no separate allocation.
type nonceContext struct {
	context.Context
	nonce string
}

type nonceKey struct{}

func (c *nonceContext) Value(key any) any {
	if key == (nonceKey{}) {
		return c.nonce
	}
	return c.Context.Value(key)
}

// Nonce returns the Content-Security-Policy nonce of the request whose
// context is ctx, for use in <script nonce="..."> and <style nonce="...">.
// The enforced and the report-only policy share it. It is "" when neither
// of the Guard's policies has a "{nonce}" placeholder or the request did not
// pass through a Guard. Every request gets a new 128-bit
// nonce.
func Nonce(ctx context.Context) string {
	s, _ := ctx.Value(nonceKey{}).(string)
	return s
}
