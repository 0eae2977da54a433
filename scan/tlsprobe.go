package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/httpsguard/httpsguard/internal/tlsprobe"
)

// goVersions are the versions Go's handshakes probe, oldest first.
var goVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// tlsVersions are the versions the checks judge, oldest first: Go's, and
// SSL 2.0 and 3.0, which only the raw probes (package tlsprobe) can ask
// about.
var tlsVersions = append([]uint16{uint16(tlsprobe.SSL20), uint16(tlsprobe.SSL30)}, goVersions...)

// modernSuites are the TLS 1.2 suites with forward secrecy and AEAD that
// Go speaks: hstspreload's line for the suite of the first connection. The
// cipher suite check judges every suite with tlsprobe.Suite.Strength.
var modernSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
}

// suiteName is a cipher suite's IANA name, for Go's suites and the others.
func suiteName(id uint16) string { return tlsprobe.SuiteName(uint32(id)) }

// fastCurves are the key exchanges the scanner offers: classical X25519
// and the NIST curves. The post-quantum hybrid Go prefers by default costs
// several times the CPU per handshake, and which one is used does not
// change any verdict.
var fastCurves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}

// tlsProbe is what the handshake probes learned.
type tlsProbe struct {
	// versions are the Go handshakes' answers for TLS 1.0 to 1.3 (nil:
	// accepted).
	versions map[uint16]error
	state    *tls.ConnectionState // from the newest accepted version

	// facts are the raw ClientHello probes' findings (package tlsprobe);
	// table merges them with versions, SSL 2.0 to TLS 1.3.
	facts *tlsprobe.Facts
	table []versionFacts
	// served is the chain of state, or the one the raw probes read when
	// no Go handshake completed; chain judges it on its own.
	served []*x509.Certificate
	chain  *ChainFacts
}

// handshake dials addr and runs one TLS handshake with cfg, returning the
// connection state. Certificates are not verified here: the probes ask what
// the server accepts, verifyChain judges the chain.
func (f *fetcher) handshake(ctx context.Context, addr, serverName string, cfg *tls.Config) (tls.ConnectionState, error) {
	scanCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, f.opts.ConnectTimeout+f.opts.HandshakeTimeout)
	defer cancel()
	conn, err := f.dial(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, classify(err, "", addr, step{}, f.opts, scanCtx.Err() != nil)
	}
	defer conn.Close()
	hctx, hcancel := context.WithTimeout(ctx, f.opts.HandshakeTimeout)
	defer hcancel()
	c := cfg.Clone()
	c.ServerName = serverName
	if c.CurvePreferences == nil {
		c.CurvePreferences = fastCurves
	}
	c.InsecureSkipVerify = true //nolint:gosec // probe only; the chain is verified by verifyChain
	tc := tls.Client(conn, c)
	if err := tc.HandshakeContext(hctx); err != nil {
		f.log.Debug("TLS probe refused", "addr", addr, "min", versionName(c.MinVersion), "max", versionName(c.MaxVersion), "err", err)
		return tls.ConnectionState{}, classify(err, "", addr, step{connectDone: true, handshakeSeen: true}, f.opts, scanCtx.Err() != nil)
	}
	return tc.ConnectionState(), nil
}

// probeTLS tries each protocol version with Go's handshake and, alongside,
// runs the raw ClientHello probes that list every version and suite the
// server accepts (package tlsprobe), all on fresh connections. main, when
// not nil, is the state of the page session's first connection, which
// offered TLS 1.2 and 1.3: the version it negotiated answers for 1.3 (and
// for 1.2 when the server chose it), saving full handshakes.
func (f *fetcher) probeTLS(ctx context.Context, t target, main *tls.ConnectionState) *tlsProbe {
	addr := net.JoinHostPort(t.host, strconv.Itoa(t.httpsPort))
	sni := t.host
	if net.ParseIP(sni) != nil {
		sni = ""
	}
	p := &tlsProbe{versions: map[uint16]error{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	states := map[uint16]tls.ConnectionState{}
	probe := goVersions
	if main != nil {
		switch main.Version {
		case tls.VersionTLS13:
			p.versions[tls.VersionTLS13] = nil
			states[tls.VersionTLS13] = *main
			probe = goVersions[:3]
		case tls.VersionTLS12:
			p.versions[tls.VersionTLS12] = nil
			states[tls.VersionTLS12] = *main
			p.versions[tls.VersionTLS13] = &Error{Kind: KindTLS, Detail: "version_not_chosen",
				Message: "offered TLS 1.2 and 1.3, the server chose TLS 1.2"}
			probe = goVersions[:2]
		}
	}
	wg.Go(func() { p.facts = f.probeFacts(ctx, addr, sni) })
	for _, v := range probe {
		wg.Go(func() {
			cs, err := f.handshake(ctx, addr, sni, &tls.Config{MinVersion: v, MaxVersion: v, CipherSuites: allSuitesFor(v)})
			mu.Lock()
			defer mu.Unlock()
			p.versions[v] = err
			if err == nil {
				states[v] = cs
			}
		})
	}
	wg.Wait()
	f.mergeFacts(ctx, addr, p)
	for _, v := range slices.Backward(goVersions) {
		if cs, ok := states[v]; ok {
			p.state = &cs
			break
		}
	}
	p.served = f.servedChain(p.state, p.facts)
	p.chain = chainFacts(p.served, t.host, f.anchors, f.opts.now())
	// "Nothing listens" and "TLS fails" are told apart by each handshake's
	// own error: a failed connect is classified as such by handshake.
	return p
}

// allSuitesFor returns the suites offered when probing version v: Go's
// defaults plus, for TLS 1.0 and 1.1, every CBC suite those versions can
// use, so that an old server is found even when it has nothing modern.
func allSuitesFor(v uint16) []uint16 {
	if v == tls.VersionTLS13 {
		return nil // TLS 1.3 suites are not configurable
	}
	var out []uint16
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if slices.Contains(c.SupportedVersions, v) {
			out = append(out, c.ID)
		}
	}
	return out
}

// versionName names a TLS version as reports show it.
func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	case uint16(tlsprobe.SSL30), uint16(tlsprobe.SSL20):
		return tlsprobe.Version(v).String()
	}
	return tls.VersionName(v)
}

// describeChain turns the served chain into report data.
func describeChain(certs []*x509.Certificate, now time.Time) []Certificate {
	out := make([]Certificate, 0, len(certs))
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		kt, bits := keyInfo(c)
		d := Certificate{
			Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			DNSNames: c.DNSNames, NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
			DaysLeft: daysLeft(c.NotAfter, now), KeyType: kt, KeyBits: bits,
			SignatureAlgorithm: c.SignatureAlgorithm.String(), SHA256: hex.EncodeToString(sum[:]),
		}
		for _, ip := range c.IPAddresses {
			d.IPAddresses = append(d.IPAddresses, ip.String())
		}
		out = append(out, d)
	}
	return out
}

// daysLeft is the number of whole days until notAfter, negative once it has
// passed.
func daysLeft(notAfter, now time.Time) int {
	d := notAfter.Sub(now)
	if d < 0 {
		// Minus the whole days since it expired, and -1 on its first
		// day, so that "expired N days ago" reads true.
		return -max(1, int((-d).Hours()/24))
	}
	return int(d.Hours() / 24)
}

func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return c.PublicKeyAlgorithm.String(), 0
}
