package scan

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testpki"
)

func TestChainFacts(t *testing.T) {
	root := testpki.NewRoot(t, "Facts Root")
	inter := root.NewIntermediate(t, "Facts Intermediate")
	other := testpki.NewRoot(t, "Other Root")
	leaf := inter.Issue(t, testpki.LeafOptions{IssuingCertificateURL: "http://127.0.0.1:9/int.cer"})
	sha1Leaf := inter.Issue(t, testpki.LeafOptions{SignatureAlgorithm: x509.SHA1WithRSA})
	expired := inter.Issue(t, testpki.LeafOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	future := inter.Issue(t, testpki.LeafOptions{NotBefore: time.Now().Add(time.Hour)})
	selfSigned := testpki.NewRoot(t, "localhost")
	// An intermediate signed with SHA-1 by the root: only a pool anchor
	// must take Go's word for it.
	sha1Inter := &testpki.Authority{Key: inter.Key, Cert: reissue(t, inter.Cert, root, x509.SHA1WithRSA)}
	sha1InterLeaf := sha1Inter.Issue(t, testpki.LeafOptions{})

	file := []trustAnchor{{name: "root.pem", certs: []*x509.Certificate{root.Cert}, pool: poolOf(root.Cert)}}
	pool := []trustAnchor{{name: "custom pool", pool: poolOf(root.Cert)}}
	otherFile := []trustAnchor{{name: "other.pem", certs: []*x509.Certificate{other.Cert}, pool: poolOf(other.Cert)}}
	now := time.Now()

	tests := []struct {
		name    string
		served  []*x509.Certificate
		host    string
		anchors []trustAnchor
		want    ChainFacts
	}{
		{"complete", []*x509.Certificate{leaf.Cert, inter.Cert}, "localhost", file, ChainFacts{Status: chainComplete, Anchor: "root.pem", NameMatch: true}},
		{"complete through a pool", []*x509.Certificate{leaf.Cert, inter.Cert}, "127.0.0.1", pool, ChainFacts{Status: chainComplete, Anchor: "custom pool", NameMatch: true}},
		{"root served too", []*x509.Certificate{leaf.Cert, inter.Cert, root.Cert}, "localhost", file, ChainFacts{Status: chainComplete, Anchor: "root.pem", NameMatch: true}},
		{"out of order, with a stranger", []*x509.Certificate{leaf.Cert, other.Cert, inter.Cert}, "localhost", file, ChainFacts{Status: chainComplete, Anchor: "root.pem", NameMatch: true}},
		{"intermediate missing", []*x509.Certificate{leaf.Cert}, "localhost", file,
			ChainFacts{Status: chainIncomplete, MissingIssuer: "CN=Facts Intermediate,O=httpsguard tests", MissingIssuerURL: "http://127.0.0.1:9/int.cer", NameMatch: true}},
		{"intermediate missing, pool", []*x509.Certificate{leaf.Cert}, "localhost", pool,
			ChainFacts{Status: chainIncomplete, MissingIssuer: "CN=Facts Intermediate,O=httpsguard tests", MissingIssuerURL: "http://127.0.0.1:9/int.cer", NameMatch: true}},
		{"unknown root", []*x509.Certificate{leaf.Cert, inter.Cert}, "localhost", otherFile,
			ChainFacts{Status: chainIncomplete, MissingIssuer: "CN=Facts Root,O=httpsguard tests", NameMatch: true}},
		{"root served, not trusted", []*x509.Certificate{leaf.Cert, inter.Cert, root.Cert}, "localhost", otherFile, ChainFacts{Status: chainUntrustedRoot, NameMatch: true}},
		{"self-signed", []*x509.Certificate{selfSigned.Cert}, "localhost", file, ChainFacts{Status: chainSelfSigned}},
		{"SHA-1 leaf", []*x509.Certificate{sha1Leaf.Cert, inter.Cert}, "localhost", file,
			ChainFacts{Status: chainComplete, Anchor: "root.pem", NameMatch: true, WeakSignatures: []string{"CN=localhost: SHA1-RSA"}}},
		{"SHA-1 leaf, pool", []*x509.Certificate{sha1Leaf.Cert, inter.Cert}, "localhost", pool,
			ChainFacts{Status: chainComplete, Anchor: "custom pool", NameMatch: true, WeakSignatures: []string{"CN=localhost: SHA1-RSA"}}},
		{"SHA-1 intermediate", []*x509.Certificate{sha1InterLeaf.Cert, sha1Inter.Cert}, "localhost", file,
			ChainFacts{Status: chainComplete, Anchor: "root.pem", NameMatch: true, WeakSignatures: []string{"CN=Facts Intermediate,O=httpsguard tests: SHA1-RSA"}}},
		{"SHA-1 intermediate, pool", []*x509.Certificate{sha1InterLeaf.Cert, sha1Inter.Cert}, "localhost", pool,
			ChainFacts{Status: chainComplete, Anchor: "custom pool", NameMatch: true, WeakSignatures: []string{"CN=Facts Intermediate,O=httpsguard tests: SHA1-RSA"}}},
		{"expired", []*x509.Certificate{expired.Cert, inter.Cert}, "localhost", file, ChainFacts{Status: chainComplete, Anchor: "root.pem", NameMatch: true, Expired: true}},
		{"not yet valid", []*x509.Certificate{future.Cert, inter.Cert}, "localhost", file, ChainFacts{Status: chainComplete, Anchor: "root.pem", NameMatch: true, NotYetValid: true}},
		{"other name", []*x509.Certificate{leaf.Cert, inter.Cert}, "other.test", file, ChainFacts{Status: chainComplete, Anchor: "root.pem"}},
		{"no anchors", []*x509.Certificate{leaf.Cert, inter.Cert}, "localhost", nil, ChainFacts{Status: chainIncomplete, MissingIssuer: "CN=Facts Root,O=httpsguard tests", NameMatch: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chainFacts(tt.served, tt.host, tt.anchors, now)
			if got == nil {
				t.Fatal("nil")
			}
			if got.Status != tt.want.Status || got.Anchor != tt.want.Anchor || got.MissingIssuer != tt.want.MissingIssuer ||
				got.MissingIssuerURL != tt.want.MissingIssuerURL || got.NameMatch != tt.want.NameMatch ||
				got.Expired != tt.want.Expired || got.NotYetValid != tt.want.NotYetValid ||
				strings.Join(got.WeakSignatures, "|") != strings.Join(tt.want.WeakSignatures, "|") {
				t.Fatalf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
	if chainFacts(nil, "localhost", file, now) != nil {
		t.Error("facts for no chain")
	}
}

func poolOf(certs ...*x509.Certificate) func() *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return func() *x509.CertPool { return p }
}

// reissue signs a copy of c by a with alg.
func reissue(t *testing.T, c *x509.Certificate, a *testpki.Authority, alg x509.SignatureAlgorithm) *x509.Certificate {
	t.Helper()
	tmpl := *c
	tmpl.SignatureAlgorithm = alg
	der, err := x509.CreateCertificate(nil, &tmpl, a.Cert, c.PublicKey, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	out, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
