package scan

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
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

// protocolSupport turns the probe's facts into report data.
func protocolSupport(facts *tlsprobe.Facts) []ProtocolSupport {
	if facts == nil {
		return nil
	}
	out := make([]ProtocolSupport, 0, len(facts.Protocols))
	for _, p := range facts.Protocols {
		ps := ProtocolSupport{Version: p.Version.String(), Offered: p.Offered, Refusal: p.Refusal}
		if p.Err != nil {
			ps.Error = p.Err.Error()
		}
		if p.SuitesErr != nil {
			ps.Incomplete = p.SuitesErr.Error()
		}
		for _, s := range p.Suites {
			ps.CipherSuites = append(ps.CipherSuites, cipherSuite(s))
		}
		out = append(out, ps)
	}
	if facts.NoTLS != nil {
		// Nothing answered in TLS: the refusals above mean nothing.
		for i := range out {
			if out[i].Error == "" {
				out[i].Error = facts.NoTLS.Error()
			}
		}
	}
	return out
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

// forwardSecrecy is TLSInfo.ForwardSecrecy: "" when it is not settled.
func forwardSecrecy(facts *tlsprobe.Facts) string {
	if facts == nil {
		return ""
	}
	if fs := facts.ForwardSecrecy(); fs != tlsprobe.FSUnknown {
		return fs.String()
	}
	return ""
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

// mergeVersions lets the raw probes correct the Go handshakes' view of the
// versions: a version the server chose in a ServerHello is offered even
// when Go cannot complete a handshake in it (DHE, CAMELLIA, ARIA, CCM
// only), and SSL 2.0 and 3.0, which Go cannot speak at all, are added when
// the probes decided them. A version the probes could not decide keeps
// the Go handshake's answer.
func (p *tlsProbe) mergeVersions(facts *tlsprobe.Facts) {
	if facts == nil || facts.NoTLS != nil {
		return
	}
	for _, pf := range facts.Protocols {
		v := uint16(pf.Version)
		switch {
		case pf.Err != nil:
		case pf.Offered:
			p.versions[v] = nil
		case v == uint16(tlsprobe.SSL20) || v == uint16(tlsprobe.SSL30):
			p.versions[v] = &Error{Kind: KindTLS, Detail: "refused", Message: pf.Version.String() + " refused: " + pf.Refusal}
		}
	}
}

// weakTLS12 lists the TLS 1.2 suites the raw probes found that are not
// strong, for HGS-TLS-006; err says why the list may be incomplete.
func weakTLS12(facts *tlsprobe.Facts) (ids []uint16, err error) {
	if facts == nil {
		return nil, errors.New("the cipher suite probes did not run")
	}
	p := facts.Protocol(tlsprobe.TLS12)
	switch {
	case facts.NoTLS != nil:
		return nil, facts.NoTLS
	case p == nil:
		return nil, errors.New("TLS 1.2 was not probed")
	case p.Err != nil:
		return nil, p.Err
	}
	for _, s := range p.Suites {
		if s.Strength() != tlsprobe.Strong && !slices.Contains(modernSuites, uint16(s.ID)) {
			ids = append(ids, uint16(s.ID))
		}
	}
	return ids, p.SuitesErr
}

// servedChainFacts judges the chain of the newest Go handshake, or, when
// none completed, the one the raw probes read from a TLS 1.2-or-older
// Certificate message.
func (f *fetcher) servedChainFacts(host string, st *tls.ConnectionState, facts *tlsprobe.Facts) *ChainFacts {
	var served []*x509.Certificate
	if st != nil {
		served = st.PeerCertificates
	} else if facts != nil {
		for _, der := range facts.Certificates {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				f.log.Debug("served certificate does not parse", "err", err)
				return nil
			}
			served = append(served, c)
		}
	}
	return chainFacts(served, host, f.anchors, f.opts.now())
}

// addTLSFacts puts the raw probes' facts and the chain facts into info.
func addTLSFacts(info *TLSInfo, o *observations) {
	if o.tls == nil {
		return
	}
	info.Protocols = protocolSupport(o.tls.facts)
	info.ForwardSecrecy = forwardSecrecy(o.tls.facts)
	info.ChainFacts = o.tls.chain
}
