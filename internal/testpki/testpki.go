// Package testpki issues certificates for tests: a root, intermediates,
// and leaves with the defects a TLS checker must find (a 1024-bit RSA key,
// a SHA-1 signature, an expired or not-yet-valid leaf, names that do not
// match), in memory and as the PEM files servers such as nginx read.
//
// It is for tests only: keys are generated fresh for every authority and
// leaf, and nothing is stored. Go's x509 still signs with SHA-1 when asked
// to (it only refuses to verify such signatures), so no certificate here
// comes from outside the test that uses it.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// KeyKind is the kind of key a certificate gets.
type KeyKind int

// The key kinds.
const (
	RSA2048 KeyKind = iota
	RSA1024
	ECDSAP256
	ECDSAP384
)

func (k KeyKind) generate(tb testing.TB) crypto.Signer {
	tb.Helper()
	var (
		key crypto.Signer
		err error
	)
	switch k {
	case RSA1024:
		key, err = rsa.GenerateKey(rand.Reader, 1024)
	case ECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		tb.Fatalf("testpki: generating a key: %v", err)
	}
	return key
}

// Authority is a CA that issues certificates: a root or an intermediate.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewRoot returns a self-signed root CA with an RSA-2048 key, valid from an
// hour ago for a year, named CN=name.
func NewRoot(tb testing.TB, name string) *Authority {
	tb.Helper()
	key := RSA2048.generate(tb)
	tmpl := caTemplate(tb, name)
	return &Authority{Cert: sign(tb, tmpl, tmpl, key.Public(), key, 0), Key: key}
}

// NewIntermediate returns an intermediate CA named CN=name, issued by a.
func (a *Authority) NewIntermediate(tb testing.TB, name string) *Authority {
	tb.Helper()
	key := RSA2048.generate(tb)
	return &Authority{Cert: sign(tb, caTemplate(tb, name), a.Cert, key.Public(), a.Key, 0), Key: key}
}

func caTemplate(tb testing.TB, name string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"httpsguard tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// LeafOptions describe a leaf certificate.
type LeafOptions struct {
	// Names are DNS names and IP addresses for the subjectAltName; the
	// first is also the common name. Default "localhost" and 127.0.0.1.
	Names []string
	Key   KeyKind
	// SignatureAlgorithm is the issuer's signature (0: the default for
	// the issuer's key; x509.SHA1WithRSA for a SHA-1 signature).
	SignatureAlgorithm x509.SignatureAlgorithm
	// NotBefore and NotAfter default to an hour ago and 90 days ahead.
	NotBefore, NotAfter time.Time
	// IssuingCertificateURL is the authority information access
	// caIssuers URL, where clients may fetch a missing intermediate.
	IssuingCertificateURL string
}

// Leaf is an issued end-entity certificate and its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Issue returns a server certificate issued by a.
func (a *Authority) Issue(tb testing.TB, o LeafOptions) *Leaf {
	tb.Helper()
	if len(o.Names) == 0 {
		o.Names = []string{"localhost", "127.0.0.1"}
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	key := o.Key.generate(tb)
	tmpl := &x509.Certificate{
		SerialNumber: serial(tb),
		Subject:      pkix.Name{CommonName: o.Names[0]},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment // static RSA key exchange
	}
	for _, n := range o.Names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if o.IssuingCertificateURL != "" {
		tmpl.IssuingCertificateURL = []string{o.IssuingCertificateURL}
	}
	return &Leaf{Cert: sign(tb, tmpl, a.Cert, key.Public(), a.Key, o.SignatureAlgorithm), Key: key}
}

func sign(tb testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer, alg x509.SignatureAlgorithm) *x509.Certificate {
	tb.Helper()
	tmpl.SignatureAlgorithm = alg
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		tb.Fatalf("testpki: signing %s: %v", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testpki: parsing %s: %v", tmpl.Subject.CommonName, err)
	}
	return c
}

func serial(tb testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		tb.Fatalf("testpki: serial: %v", err)
	}
	return n
}

// CertPEM encodes certs as PEM, in order: a leaf then its intermediates
// is the chain file servers read.
func CertPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes key as a PKCS #8 PEM block.
func KeyPEM(tb testing.TB, key crypto.Signer) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("testpki: encoding key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TLSCertificate is l served with the intermediates given, for a Go
// server's tls.Config.
func (l *Leaf) TLSCertificate(intermediates ...*x509.Certificate) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, i := range intermediates {
		c.Certificate = append(c.Certificate, i.Raw)
	}
	return c
}
