package devproxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpsguard/httpsguard/localca"
)

// DefaultLeafLifetime is how long the server's in-memory certificate is
// valid. Short-lived like Caddy's (12 hours) rather than mkcert's two years:
// the certificate never touches the disk and is renewed in process, so a
// short life costs nothing and limits what a leaked key could do.
const DefaultLeafLifetime = 7 * 24 * time.Hour

// leafBackdate tolerates clients whose clocks lag a little.
const leafBackdate = 5 * time.Minute

// certSource hands out the server certificate from tls.Config.GetCertificate.
// The certificate is issued in memory on first use, covers every served
// name, and is replaced once two thirds of its life has passed; the old one
// keeps serving while the new one is signed, so no handshake waits for a
// renewal.
type certSource struct {
	ca       *localca.CA
	names    []string // as they go into the certificate
	lifetime time.Duration
	log      *slog.Logger
	now      func() time.Time

	cur      atomic.Pointer[tls.Certificate]
	mu       sync.Mutex // serialises issuance
	renewing atomic.Bool
	renewed  func() // test hook, called after a background renewal

	warned *onceSet // SNI names not covered, already reported
}

func newCertSource(ca *localca.CA, names []string, lifetime time.Duration, log *slog.Logger) *certSource {
	if lifetime <= 0 {
		lifetime = DefaultLeafLifetime
	}
	return &certSource{ca: ca, names: names, lifetime: lifetime, log: log, now: time.Now, warned: newOnceSet(256)}
}

// GetCertificate implements tls.Config.GetCertificate.
func (c *certSource) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	cert := c.cur.Load()
	now := c.now()
	switch {
	case cert == nil || !now.Before(cert.Leaf.NotAfter):
		var err error
		if cert, err = c.issue(false); err != nil {
			return nil, err
		}
	case !now.Before(renewAt(cert.Leaf)):
		c.renewInBackground()
	}
	if hello != nil && hello.ServerName != "" && !covers(cert.Leaf, hello.ServerName) {
		name := strings.ToLower(hello.ServerName)
		if c.warned.first(name) {
			c.log.Warn(fmt.Sprintf("a client asked for %s, which the certificate does not cover (it has %s); restart with --host %s", name, strings.Join(c.names, ", "), name),
				"sni", name)
		}
	}
	return cert, nil
}

// Certificate returns the current certificate, issuing it if needed.
func (c *certSource) Certificate() (*tls.Certificate, error) { return c.GetCertificate(nil) }

// issue signs a new certificate unless another goroutine already replaced an
// expired one meanwhile (force renews regardless).
func (c *certSource) issue(force bool) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if cur := c.cur.Load(); cur != nil && !force && now.Before(cur.Leaf.NotAfter) {
		return cur, nil
	}
	cert, err := c.ca.IssueLeaf(localca.LeafOptions{
		Names:     c.names,
		NotBefore: now.Add(-leafBackdate),
		Lifetime:  c.lifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("issuing the server certificate from the local CA: %w", err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parsing the server certificate: %w", err)
		}
	}
	c.cur.Store(cert)
	c.log.Debug("issued server certificate", "names", c.names, "not_after", cert.Leaf.NotAfter)
	return cert, nil
}

func (c *certSource) renewInBackground() {
	if !c.renewing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer c.renewing.Store(false)
		if _, err := c.issue(true); err != nil {
			c.log.Error("renewing the server certificate failed; the current one is used until it expires", "err", err)
		} else {
			c.log.Info("renewed the server certificate")
		}
		if c.renewed != nil {
			c.renewed()
		}
	}()
}

// renewAt is when a certificate should be replaced: after two thirds of its
// lifetime, the point Caddy and ACME clients use.
func renewAt(leaf *x509.Certificate) time.Time {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	return leaf.NotBefore.Add(life / 3 * 2)
}

// covers reports whether leaf is valid for the server name a client sent.
func covers(leaf *x509.Certificate, name string) bool {
	if ip := net.ParseIP(name); ip != nil {
		for _, a := range leaf.IPAddresses {
			if a.Equal(ip) {
				return true
			}
		}
		return false
	}
	return leaf.VerifyHostname(name) == nil
}

// onceSet remembers keys so that a warning is printed once per key, up to a
// bound, so a client cycling through names cannot grow memory without end.
type onceSet struct {
	mu   sync.Mutex
	seen map[string]struct{}
	max  int
}

func newOnceSet(max int) *onceSet { return &onceSet{seen: map[string]struct{}{}, max: max} }

// first reports whether key is new, remembering it. Past the bound, every
// key is reported as already seen.
func (s *onceSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[key]; ok || len(s.seen) >= s.max {
		return false
	}
	s.seen[key] = struct{}{}
	return true
}
