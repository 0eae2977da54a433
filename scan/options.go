package scan

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

// Scoring models.
const (
	// ScoringHTTPSGuard is httpsguard's own 0–100 score: every deduction
	// is the ScoreImpact of one check.
	ScoringHTTPSGuard = "httpsguard"
	// ScoringObservatory reproduces the MDN HTTP Observatory 1.4.8 score
	// and grade exactly.
	ScoringObservatory = "observatory"
)

// Default limits; every one can be changed in Options.
const (
	DefaultTimeout          = 20 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultMaxRedirects     = 10
	DefaultMaxBodyBytes     = 2 << 20 // 2 MiB
	// DefaultMaxHeaderBytes is the largest response head browsers
	// accept: Chromium fails a response whose head grows past
	// kMaxHeaderBufSize, 256 KiB (net/http/http_stream_parser.h), with
	// ERR_RESPONSE_HEADERS_TOO_BIG. A larger head makes the page
	// unfetchable, as it is for a visitor.
	DefaultMaxHeaderBytes = 256 << 10
	DefaultMaxRequests    = 64
	DefaultConcurrency    = 8
	DefaultUserAgent      = "httpsguard-check/1 (+https://github.com/httpsguard/httpsguard)"
)

// Options configures a Scanner. The zero value scans ports 80 and 443 with
// the system roots and the default limits.
type Options struct {
	// HTTPPort and HTTPSPort are the ports scanned for a bare host name
	// (default 80 and 443). A port in a target URL wins for its scheme.
	HTTPPort  int
	HTTPSPort int

	// Timeout bounds the whole scan of one target (default 20s).
	Timeout time.Duration
	// RequestTimeout bounds one HTTP exchange, body included (default half
	// of Timeout), so that one slow response cannot starve every other
	// check of the same target.
	RequestTimeout time.Duration
	// ConnectTimeout bounds a TCP connect (default 5s) and
	// HandshakeTimeout a TLS handshake (default 5s).
	ConnectTimeout   time.Duration
	HandshakeTimeout time.Duration

	// RootCAs, when set, is the only pool certificates are verified
	// against (reported as TrustedBy "custom pool"). Otherwise each of
	// CAFiles is tried in turn, then the system pool.
	RootCAs *x509.CertPool
	// CAFiles are PEM files of extra roots trusted in addition to the
	// system pool; TLSInfo.TrustedBy names the file that verified a chain
	// ("system" when only the system pool did).
	CAFiles []string

	// DenyPrivate refuses to connect to loopback, private, link-local,
	// CGNAT, unique-local, metadata, multicast and unspecified addresses.
	// The check runs on the address actually dialled, for every
	// connection of every redirect hop.
	DenyPrivate bool

	// Resolver, when set, resolves host names instead of the system's
	// resolver (tests point it at a DNS server of their own on loopback).
	Resolver *net.Resolver

	// Resolve maps "host:port" to the address to dial instead, like curl's
	// --resolve: "example.com:443" → "127.0.0.1" or "127.0.0.1:8443". A
	// host of "*" matches every name on that port.
	Resolve map[string]string

	// Scoring is ScoringHTTPSGuard (default) or ScoringObservatory.
	Scoring string

	// Limits (0 means the default).
	MaxRedirects   int   // redirects followed per chain (default 10)
	MaxBodyBytes   int64 // bytes of a body read (default 2 MiB)
	MaxHeaderBytes int64 // bytes of a response head accepted (default 256 KiB, Chromium's limit)
	MaxRequests    int   // HTTP requests per target (default 64)

	// UserAgent is sent with every request (default DefaultUserAgent, or
	// the Observatory's with ScoringObservatory).
	UserAgent string

	// Concurrency is how many targets ScanAll scans at once (default 8).
	Concurrency int

	// Logger receives debug logs about fetches; nil discards them.
	Logger *slog.Logger

	// now is the clock used for certificate expiry; tests may set it.
	now func() time.Time
}

// trustAnchor is one root pool a chain may be verified against. pool may
// be loaded lazily; it returns nil when the pool is unavailable.
type trustAnchor struct {
	name string
	pool func() *x509.CertPool
	// certs are the roots of a CA file, parsed: the chain facts look
	// an issuer up among them by name and check its signature
	// themselves, SHA-1 included, which a pool cannot do.
	certs []*x509.Certificate
}

// systemPool loads the system roots once per process, in the background
// from the first New on, so that the time it takes overlaps the first
// scan's network work instead of delaying it.
var systemPool = sync.OnceValue(func() *x509.CertPool {
	p, err := x509.SystemCertPool()
	if err != nil {
		return nil
	}
	return p
})

// ParseResolve parses curl-style --resolve entries "host:port:addr" (addr may
// be an IPv6 literal in brackets, and may carry its own ":port") into the
// map Options.Resolve expects.
func ParseResolve(entries []string) (map[string]string, error) {
	m := make(map[string]string, len(entries))
	for _, e := range entries {
		host, rest, ok := strings.Cut(e, ":")
		if !ok || host == "" {
			return nil, fmt.Errorf("resolve entry %q: want host:port:address", e)
		}
		port, addr, ok := strings.Cut(rest, ":")
		if !ok || addr == "" {
			return nil, fmt.Errorf("resolve entry %q: want host:port:address", e)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("resolve entry %q: bad port %q", e, port)
		}
		if err := checkResolveAddr(addr); err != nil {
			return nil, fmt.Errorf("resolve entry %q: %w", e, err)
		}
		m[strings.ToLower(host)+":"+port] = addr
	}
	return m, nil
}

func checkResolveAddr(addr string) error {
	if _, err := netip.ParseAddrPort(addr); err == nil {
		return nil
	}
	a := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	if _, err := netip.ParseAddr(a); err != nil {
		return fmt.Errorf("address %q is neither an IP nor IP:port", addr)
	}
	return nil
}

// resolveOverride returns the address to dial for hostport, or "" when no
// override applies.
func (o *Options) resolveOverride(hostport string) string {
	if len(o.Resolve) == 0 {
		return ""
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return ""
	}
	addr, ok := o.Resolve[strings.ToLower(host)+":"+port]
	if !ok {
		addr, ok = o.Resolve["*:"+port]
	}
	if !ok {
		return ""
	}
	if _, err := netip.ParseAddrPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), port)
}

// withDefaults returns a copy of o with every zero limit replaced by its
// default, and validates what cannot be defaulted.
func (o Options) withDefaults() (Options, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = o.Timeout / 2
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = min(DefaultConnectTimeout, o.Timeout)
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = min(DefaultHandshakeTimeout, o.Timeout)
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = DefaultMaxRequests
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
		if o.Scoring == ScoringObservatory {
			// Servers may answer the Observatory differently; send its
			// User-Agent so the score compares like with like.
			o.UserAgent = observatory.UserAgent
		}
	}
	switch o.Scoring {
	case "":
		o.Scoring = ScoringHTTPSGuard
	case ScoringHTTPSGuard, ScoringObservatory:
	default:
		return o, fmt.Errorf("unknown scoring model %q (want %q or %q)", o.Scoring, ScoringHTTPSGuard, ScoringObservatory)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"http port", o.HTTPPort}, {"https port", o.HTTPSPort}} {
		if p.v < 0 || p.v > 65535 {
			return o, fmt.Errorf("%s %d out of range", p.name, p.v)
		}
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = 80
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 443
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o, nil
}

// loadAnchors builds the trust anchors: the custom pool alone, or one pool
// per CA file followed by the system pool.
func (o *Options) loadAnchors() ([]trustAnchor, error) {
	fixed := func(p *x509.CertPool) func() *x509.CertPool { return func() *x509.CertPool { return p } }
	if o.RootCAs != nil {
		return []trustAnchor{{name: "custom pool", pool: fixed(o.RootCAs)}}, nil
	}
	go systemPool()
	// The CA files come first: they are small, so a chain they verify is
	// judged without waiting for the system roots to load, and naming the
	// file the user gave is the more useful answer.
	var anchors []trustAnchor
	for _, f := range o.CAFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: %w", f, errNoCertificates)
		}
		anchors = append(anchors, trustAnchor{name: f, pool: fixed(pool), certs: parsePEMCerts(pem)})
	}
	return append(anchors, trustAnchor{name: "system", pool: systemPool}), nil
}

var errNoCertificates = errors.New("no PEM certificates found")

// parsePEMCerts returns the certificates of a PEM file that parse, as
// AppendCertsFromPEM reads them.
func parsePEMCerts(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			continue
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, c)
		}
	}
}
