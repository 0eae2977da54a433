package localca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"time"
)

// Leaf lifetimes.
const (
	// MaxLeafLifetime is the longest validity a leaf may have: Apple's
	// platforms reject TLS server certificates valid for more than 825 days,
	// even under a user-installed root.
	MaxLeafLifetime = 825 * 24 * time.Hour
	// DefaultLeafLifetime is the validity of certificate files when none is
	// asked for: about two years and three months, as mkcert does, so a
	// project's certificate outlives most projects yet stays under
	// MaxLeafLifetime.
	DefaultLeafLifetime = 820 * 24 * time.Hour
	// leafBackdate moves NotBefore into the past so that a client whose
	// clock is a little behind (a VM, a container, a phone on the LAN)
	// accepts a certificate issued a moment ago.
	leafBackdate = 5 * time.Minute
)

// KeyType selects the leaf's key algorithm.
type KeyType int

// Key types for leaves. ECDSA P-256 is the default: small, fast and accepted
// everywhere; RSA is for clients that still need it and for tests that want
// one.
const (
	KeyECDSAP256 KeyType = iota
	KeyECDSAP384
	KeyRSA2048
	KeyRSA3072
	KeyRSA4096
)

// String returns the name used on the command line ("ecdsa-p256", ...).
func (k KeyType) String() string {
	switch k {
	case KeyECDSAP256:
		return "ecdsa-p256"
	case KeyECDSAP384:
		return "ecdsa-p384"
	case KeyRSA2048:
		return "rsa-2048"
	case KeyRSA3072:
		return "rsa-3072"
	case KeyRSA4096:
		return "rsa-4096"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// ParseKeyType parses a key type name as printed by KeyType.String; "ecdsa"
// and "rsa" alone mean P-256 and RSA-2048.
func ParseKeyType(s string) (KeyType, error) {
	switch s {
	case "ecdsa-p256", "ecdsa", "p256", "p-256":
		return KeyECDSAP256, nil
	case "ecdsa-p384", "p384", "p-384":
		return KeyECDSAP384, nil
	case "rsa-2048", "rsa", "rsa2048":
		return KeyRSA2048, nil
	case "rsa-3072", "rsa3072":
		return KeyRSA3072, nil
	case "rsa-4096", "rsa4096":
		return KeyRSA4096, nil
	}
	return 0, fmt.Errorf("unknown key type %q: want ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096", s)
}

func (k KeyType) generate() (crypto.Signer, error) {
	switch k {
	case KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case KeyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("unknown key type %v", k)
}

// LeafOptions describes a leaf certificate to issue.
type LeafOptions struct {
	// Names are the DNS names, IP addresses, wildcards and IDNs the
	// certificate is for, as accepted by ParseName. At least one is
	// required; every one becomes a subjectAltName.
	Names []string
	// NotBefore is the start of validity. The zero value means a few
	// minutes ago, to tolerate clock skew. Tests set it in the past to
	// make expired or soon-expiring certificates.
	NotBefore time.Time
	// Lifetime is the validity period from NotBefore. Zero means
	// DefaultLeafLifetime; more than MaxLeafLifetime is an error. The end
	// is moved earlier if the root expires first.
	Lifetime time.Duration
	// KeyType is the leaf key's algorithm; the zero value is ECDSA P-256.
	KeyType KeyType
	// ClientAuth adds the TLS client authentication extended key usage,
	// for certificates used by clients in mutual TLS.
	ClientAuth bool
}

// Issue returns a new leaf certificate for names with the default lifetime
// and an ECDSA P-256 key. The result's Leaf field is set, and its chain holds
// only the leaf: clients that trust the root need nothing else.
func (ca *CA) Issue(names ...string) (*tls.Certificate, error) {
	return ca.IssueLeaf(LeafOptions{Names: names})
}

// IssueLeaf returns a new leaf certificate described by opts.
func (ca *CA) IssueLeaf(opts LeafOptions) (*tls.Certificate, error) {
	names, err := ParseNames(opts.Names...)
	if err != nil {
		return nil, err
	}
	lifetime := opts.Lifetime
	switch {
	case lifetime == 0:
		lifetime = DefaultLeafLifetime
	case lifetime < 0:
		return nil, fmt.Errorf("certificate lifetime %v is negative", lifetime)
	case lifetime > MaxLeafLifetime:
		return nil, fmt.Errorf("certificate lifetime %v is longer than the %d days browsers accept", lifetime, int(MaxLeafLifetime/(24*time.Hour)))
	}
	notBefore := opts.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-leafBackdate)
	}
	notAfter := notBefore.Add(lifetime)
	if notAfter.After(ca.root.NotAfter) {
		notAfter = ca.root.NotAfter
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("certificate would not be valid at any time: the local CA expired on %s; remove %s to create a new one", ca.root.NotAfter.Format(time.DateOnly), ca.dir)
	}

	key, err := opts.KeyType.generate()
	if err != nil {
		return nil, fmt.Errorf("generating certificate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{"httpsguard development certificate"},
			OrganizationalUnit: []string{userAndHost()},
		},
		NotBefore:             notBefore.UTC(),
		NotAfter:              notAfter.UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		// TLS 1.2 RSA key exchange encrypts with the certificate's key.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if opts.ClientAuth {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	for _, n := range names {
		if n.IsIP() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(n.IP.AsSlice()))
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n.DNS)
		}
	}
	// The subjectAltName entries above are what clients match; the common
	// name is only for people reading the certificate, and for the few old
	// tools that still display it.
	if first := names[0].String(); len(first) <= 64 {
		tmpl.Subject.CommonName = first
	}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing new certificate: %w", err)
	}
	return &tls.Certificate{
		Certificate: [][]byte{der},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// Verify checks that cert chains to this CA's root for use as a TLS server
// certificate for host at time now (the zero time means the current time).
func (ca *CA) Verify(cert *x509.Certificate, host string, now time.Time) error {
	if cert == nil {
		return errors.New("no certificate")
	}
	_, err := cert.Verify(x509.VerifyOptions{
		DNSName:     host,
		Roots:       ca.pool,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}
