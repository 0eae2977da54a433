package scan

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/internal/tlsprobe"
)

// The chain statuses of ChainFacts.Status.
const (
	chainComplete      = "complete"
	chainIncomplete    = "incomplete"
	chainSelfSigned    = "self-signed"
	chainUntrustedRoot = "untrusted-root"
)

// probeFacts runs the raw ClientHello probes (package tlsprobe) through
// the scanner's dialer, so --resolve and --deny-private hold for every
// one of them.
func (f *fetcher) probeFacts(ctx context.Context, addr, sni string) *tlsprobe.Facts {
	facts, err := tlsprobe.Probe(ctx, tlsprobe.Config{
		Addr:       addr,
		ServerName: sni,
		Dial:       f.dial,
		Timeout:    f.opts.ConnectTimeout + f.opts.HandshakeTimeout,
	})
	if err != nil {
		// Only a bad address gets here, and the Go probes report it.
		f.log.Debug("TLS facts not probed", "addr", addr, "err", err)
		return nil
	}
	f.log.Debug("TLS facts probed", "addr", addr, "handshakes", facts.Handshakes, "elapsed", facts.Elapsed, "complete", facts.Complete())
	return facts
}

func cipherSuite(s tlsprobe.Suite) CipherSuite {
	enc := s.Cipher
	if s.Bits > 0 {
		enc += fmt.Sprintf("-%d", s.Bits)
	}
	if s.Mode != "" && s.Mode != "stream" {
		enc += "-" + s.Mode
	}
	return CipherSuite{
		ID: s.HexID(), Name: s.Name, KeyExchange: s.KeyExchange, Encryption: enc,
		ForwardSecrecy: s.ForwardSecret(), Strength: s.Strength().String(),
	}
}

// weakSignature reports whether alg is a signature browsers no longer
// accept on a certificate below the root.
func weakSignature(alg x509.SignatureAlgorithm) bool {
	switch alg {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

// issued reports whether parent issued child: the names chain and the
// signature verifies. A signature Go refuses to check because its
// algorithm is broken (MD5) counts as verifying here; WeakSignatures
// reports it. SHA-1 signatures are checked (CheckSignature allows them).
func issued(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

// selfSigned reports whether c is its own issuer.
func selfSigned(c *x509.Certificate) bool { return issued(c, c) }

// chainFacts judges a served chain, leaf first, for host at now. It does
// what testssl.sh's chain-of-trust check does (a path from the leaf
// through the served certificates to a trusted root), judging every other
// defect (expiry, the name, a SHA-1 signature) separately, so that each
// can be named as what it is.
func chainFacts(served []*x509.Certificate, host string, anchors []trustAnchor, now time.Time) *ChainFacts {
	if len(served) == 0 {
		return nil
	}
	leaf := served[0]
	cf := &ChainFacts{
		NameMatch:   leaf.VerifyHostname(host) == nil,
		Expired:     now.After(leaf.NotAfter),
		NotYetValid: now.Before(leaf.NotBefore),
	}
	// The path through what was served, in any order.
	path := []*x509.Certificate{leaf}
	used := make([]bool, len(served))
	used[0] = true
	for top := leaf; !selfSigned(top); {
		next := -1
		for i, c := range served {
			if !used[i] && issued(top, c) {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		top = served[next]
		path = append(path, top)
	}
	for _, c := range path {
		if weakSignature(c.SignatureAlgorithm) && !selfSigned(c) {
			cf.WeakSignatures = append(cf.WeakSignatures, fmt.Sprintf("%s: %s", c.Subject, c.SignatureAlgorithm))
		}
	}
	top := path[len(path)-1]
	if name, ok := anchorFor(top, anchors); ok {
		cf.Status, cf.Anchor = chainComplete, name
		return cf
	}
	switch {
	case selfSigned(top) && len(path) == 1:
		cf.Status = chainSelfSigned
	case selfSigned(top):
		cf.Status = chainUntrustedRoot
	default:
		cf.Status = chainIncomplete
		cf.MissingIssuer = top.Issuer.String()
		if len(top.IssuingCertificateURL) > 0 {
			cf.MissingIssuerURL = top.IssuingCertificateURL[0]
		}
	}
	return cf
}

// anchorFor finds the trust anchor that issued top, or is top.
func anchorFor(top *x509.Certificate, anchors []trustAnchor) (string, bool) {
	for _, a := range anchors {
		if a.certs != nil {
			for _, r := range a.certs {
				if bytes.Equal(r.Raw, top.Raw) || issued(top, r) {
					return a.name, true
				}
			}
			continue
		}
		pool := a.pool()
		if pool == nil {
			continue
		}
		// Asked at the middle of top's validity: expiry is judged apart.
		mid := top.NotBefore.Add(top.NotAfter.Sub(top.NotBefore) / 2)
		_, err := top.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: mid, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil {
			return a.name, true
		}
		// A pool cannot be searched by hand; when Go found a root by
		// name but refused its SHA-1 signature, the root is there.
		if strings.Contains(err.Error(), "insecure algorithm") && weakSignature(top.SignatureAlgorithm) {
			return a.name, true
		}
	}
	return "", false
}

// versionFacts is what the scan learned about one protocol version from
// Go's handshakes and the raw probes together. Exactly one of offered,
// refused and unknown holds.
type versionFacts struct {
	version uint16
	offered bool
	// refused says how the server turned the version down: "alert
	// protocol_version", "connection closed", "chose TLS 1.2".
	refused string
	// unknown says why it could not be told whether the version is
	// offered.
	unknown *Error
	// suites are every suite accepted with the version, when offered;
	// suitesErr says why the list may be incomplete.
	suites    []tlsprobe.Suite
	suitesErr *Error
}

// decided reports whether the version's offer is known, either way.
func (v *versionFacts) decided() bool { return v.unknown == nil }

// mergeFacts decides every version, SSL 2.0 to TLS 1.3, from the Go
// handshakes (p.versions) and the raw probes (p.facts). A version is
// offered when either saw the server choose it: the raw probes see the
// versions whose suites Go cannot speak (DHE, CAMELLIA, ARIA, CCM only),
// and they alone ask about SSL 2.0 and 3.0. It is refused when the server
// turned one of them down and neither saw it chosen. Anything else is
// unknown, with the classified cause.
func (f *fetcher) mergeFacts(ctx context.Context, addr string, p *tlsProbe) {
	facts := p.facts
	p.table = make([]versionFacts, 0, len(tlsVersions))
	for _, v := range tlsVersions {
		vf := versionFacts{version: v}
		goErr, goProbed := p.versions[v]
		var pf *tlsprobe.ProtocolFacts
		if facts != nil && facts.NoTLS == nil {
			pf = facts.Protocol(tlsprobe.Version(v))
		}
		rawDecided := pf != nil && pf.Err == nil
		switch {
		case goProbed && goErr == nil, rawDecided && pf.Offered:
			vf.offered = true
		case goProbed && probeRefused(goErr):
			vf.refused = refusalText(asError(goErr))
		case rawDecided:
			vf.refused = pf.Refusal
		case goProbed:
			vf.unknown = asError(goErr)
		default:
			vf.unknown = f.rawProbeError(ctx, addr, versionName(v), facts, pf)
		}
		if vf.offered {
			switch {
			case rawDecided && pf.Offered:
				vf.suites = pf.Suites
				if pf.SuitesErr != nil {
					vf.suitesErr = f.probeErr(ctx, addr, pf.SuitesErr)
				}
			case rawDecided:
				// Go completed a handshake the raw hello was refused
				// for: the probe lacks something this server needs.
				vf.suitesErr = &Error{Kind: KindInternal, Fix: fixInternal,
					Message: fmt.Sprintf("%s: %s accepted by a Go handshake but refused to the cipher suite probe (%s), so its cipher suites could not be listed", addr, versionName(v), pf.Refusal)}
			default:
				vf.suitesErr = f.rawProbeError(ctx, addr, versionName(v), facts, pf)
			}
		}
		p.table = append(p.table, vf)
	}
}

// rawProbeError is why the raw probes could not decide a version (pf nil
// when they did not ask about it).
func (f *fetcher) rawProbeError(ctx context.Context, addr, version string, facts *tlsprobe.Facts, pf *tlsprobe.ProtocolFacts) *Error {
	switch {
	case facts == nil:
		return &Error{Kind: KindInternal, Message: addr + ": the cipher suite probes did not run", Fix: fixInternal}
	case facts.NoTLS != nil:
		return f.probeErr(ctx, addr, facts.NoTLS)
	case pf == nil:
		return &Error{Kind: KindInternal, Message: addr + ": " + version + " was not probed", Fix: fixInternal}
	}
	return f.probeErr(ctx, addr, pf.Err)
}

// probeErr classifies an error of the raw ClientHello probes as classify
// does the Go handshakes'.
func (f *fetcher) probeErr(ctx context.Context, addr string, err error) *Error {
	host, port := hostPortOf(addr)
	switch {
	case errors.Is(err, tlsprobe.ErrNotTLS):
		return &Error{Kind: KindNotTLS, cause: err,
			Message: fmt.Sprintf("%s: %s port %s does not speak TLS (the answer to a ClientHello is no TLS record)", addr, host, port),
			Fix:     fmt.Sprintf("Serve HTTPS on port %s: it answers with another protocol (plain HTTP, SSH...). Give the right port with --https-port if HTTPS is elsewhere.", port)}
	case errors.Is(err, tlsprobe.ErrMalformed):
		return &Error{Kind: KindTLS, Detail: "malformed", cause: err,
			Message: fmt.Sprintf("%s: the answer to a ClientHello breaks the TLS framing (%v)", addr, err),
			Fix:     tlsFix("")}
	case errors.Is(err, tlsprobe.ErrHandshakeLimit):
		return &Error{Kind: KindRequestLimit, Detail: "tls_probes", cause: err,
			Message: fmt.Sprintf("%s: the cipher suite probes stopped at their limit of %d ClientHellos", addr, tlsprobe.DefaultMaxHandshakes),
			Fix:     "The server accepts more cipher suites than the probes list; this is a limit of httpsguard, not a fault of the server: please report it with the output of --debug."}
	}
	// A dial error is the connection's; anything later happened once
	// the ClientHello was on its way.
	var op *net.OpError
	sent := !errors.As(err, &op) || op.Op != "dial"
	return classify(err, "", addr, step{connectDone: sent, handshakeSeen: sent}, f.opts, ctx.Err() != nil)
}

// version returns the facts of version v.
func (p *tlsProbe) version(v uint16) *versionFacts {
	for i := range p.table {
		if p.table[i].version == v {
			return &p.table[i]
		}
	}
	return nil
}

// offeredSuites is every suite accepted on any version, with its version;
// complete is false when a version is unknown or a list may miss some.
func (p *tlsProbe) offeredSuites() (suites []versionSuite, complete bool) {
	complete = len(p.table) > 0
	for _, vf := range p.table {
		if !vf.decided() || vf.suitesErr != nil {
			complete = false
		}
		for _, s := range vf.suites {
			suites = append(suites, versionSuite{vf.version, s})
		}
	}
	return suites, complete
}

// versionSuite is a suite accepted with a version.
type versionSuite struct {
	version uint16
	suite   tlsprobe.Suite
}

func (vs versionSuite) String() string { return versionName(vs.version) + ": " + vs.suite.Name }

// weakTLS12 lists the TLS 1.2 suites accepted that are not strong (TLSInfo's
// WeakCiphers).
func (p *tlsProbe) weakTLS12() []uint16 {
	var ids []uint16
	if vf := p.version(tls.VersionTLS12); vf != nil {
		for _, s := range vf.suites {
			if s.Strength() != tlsprobe.Strong {
				ids = append(ids, uint16(s.ID))
			}
		}
	}
	return ids
}

// forwardSecrecy is TLSInfo.ForwardSecrecy: "all", "some" or "none" of the
// accepted suites have it; "" when the lists are incomplete and what they
// hold does not settle it.
func (p *tlsProbe) forwardSecrecy() string {
	offered, complete := p.offeredSuites()
	suites := make([]tlsprobe.Suite, len(offered))
	for i, vs := range offered {
		suites[i] = vs.suite
	}
	fs := tlsprobe.JudgeForwardSecrecy(suites, complete)
	if fs == tlsprobe.FSUnknown {
		return ""
	}
	return fs.String()
}

// protocolSupport turns the table into report data.
func (p *tlsProbe) protocolSupport() []ProtocolSupport {
	out := make([]ProtocolSupport, 0, len(p.table))
	for _, vf := range p.table {
		ps := ProtocolSupport{Version: versionName(vf.version), Offered: vf.offered}
		switch {
		case vf.unknown != nil:
			ps.Error = vf.unknown.Message
		case vf.refused != "":
			ps.Refusal = vf.refused
		}
		if vf.suitesErr != nil {
			ps.Incomplete = vf.suitesErr.Message
		}
		for _, s := range vf.suites {
			ps.CipherSuites = append(ps.CipherSuites, cipherSuite(s))
		}
		out = append(out, ps)
	}
	return out
}

// refusalText says how a Go handshake was turned down: "alert
// protocol_version", "connection closed", or the error's words.
func refusalText(e *Error) string {
	switch e.Detail {
	case "closed":
		return "connection closed"
	case "version_not_chosen", "", "handshake":
		return e.Message
	}
	return "alert " + e.Detail
}

// servedChain parses the chain of the newest Go handshake, or, when none
// completed, the one the raw probes read from a TLS 1.2-or-older
// Certificate message (TLS 1.3 encrypts it).
func (f *fetcher) servedChain(st *tls.ConnectionState, facts *tlsprobe.Facts) []*x509.Certificate {
	if st != nil {
		return st.PeerCertificates
	}
	if facts == nil {
		return nil
	}
	var served []*x509.Certificate
	for _, der := range facts.Certificates {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			f.log.Debug("served certificate does not parse", "err", err)
			return nil
		}
		served = append(served, c)
	}
	return served
}

// addTLSFacts puts the merged versions and suites, forward secrecy and the
// chain facts into info.
func addTLSFacts(info *TLSInfo, o *observations) {
	if o.tls == nil {
		return
	}
	info.Protocols = o.tls.protocolSupport()
	info.ForwardSecrecy = o.tls.forwardSecrecy()
	info.ChainFacts = o.tls.chain
}

// browserSuite reports whether browsers, and the scanner's page requests
// (Go's client defaults, which follow them), offer suite s with version v:
// the three TLS 1.3 AEAD suites, and ECDHE with AES-GCM, ChaCha20-Poly1305
// or AES-CBC below. DHE, static RSA, 3DES, RC4, CAMELLIA, ARIA and CCM are
// not among them.
func browserSuite(v uint16, s tlsprobe.Suite) bool {
	if s.ID > 0xFFFF {
		return false
	}
	for _, c := range tls.CipherSuites() {
		if uint32(c.ID) == s.ID {
			return slices.Contains(c.SupportedVersions, v)
		}
	}
	return false
}

// noSharedSuite names why the page's TLS handshake failed when the raw
// probes explain it: the versions the server offers are all ones browsers
// refuse, or every suite it accepts is one they do not offer. It returns
// nil when the facts do not explain the failure.
func (o *observations) noSharedSuite(failed *Error) *Error {
	if o.tls == nil || failed == nil || failed.Kind != KindTLS || failed.Detail == "no_shared_cipher_suite" {
		return nil
	}
	var offered []uint16
	for _, vf := range o.tls.table {
		if vf.offered {
			offered = append(offered, vf.version)
		}
	}
	suites, _ := o.tls.offeredSuites() // only offered versions have suites
	if len(offered) == 0 {
		return nil
	}
	if offered[len(offered)-1] < tls.VersionTLS12 {
		names := make([]string, len(offered))
		for i, v := range offered {
			names[i] = versionName(v)
		}
		return &Error{Kind: KindTLS, Detail: failed.Detail, cause: failed,
			Message: fmt.Sprintf("%s; the server offers only %s, which browsers no longer support", strings.TrimSuffix(failed.Message, "."), joinAnd(names)),
			Fix:     tlsFix("protocol_version")}
	}
	var modern []string
	for _, vs := range suites {
		if vs.version < tls.VersionTLS12 {
			continue // browsers refuse the version anyway
		}
		if browserSuite(vs.version, vs.suite) {
			return nil
		}
		modern = append(modern, vs.suite.Name)
	}
	if len(modern) == 0 {
		return nil
	}
	slices.Sort(modern)
	modern = slices.Compact(modern)
	return &Error{Kind: KindTLS, Detail: "no_shared_cipher_suite", cause: failed,
		Message: fmt.Sprintf("%s: the server offers only cipher suites browsers no longer support: %s", o.t.httpsURL(), strings.Join(modern, ", ")),
		Fix:     "Enable ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 for TLS 1.2, and TLS 1.3: browsers dropped DHE, static RSA, 3DES, RC4, CAMELLIA, ARIA and CCM suites, so no browser can connect."}
}

// joinAnd joins "a", "a and b", "a, b and c".
func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
