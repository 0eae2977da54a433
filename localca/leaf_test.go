package localca_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/localca/localcatest"
)

func TestIssueCoversEveryNameAsSAN(t *testing.T) {
	ca := localcatest.New(t)
	cert, err := ca.Issue("localhost", "127.0.0.1", "::1", "bücher.test", "*.myapp.test", "LOCALHOST")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		t.Fatal("Leaf is not set")
	}
	if want := []string{"localhost", "xn--bcher-kva.test", "*.myapp.test"}; !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNSNames = %q, want %q", leaf.DNSNames, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"127.0.0.1", "::1"}; !slices.Equal(ips, want) {
		t.Errorf("IPAddresses = %q, want %q", ips, want)
	}
	if leaf.Subject.CommonName != "localhost" {
		t.Errorf("CommonName = %q, want the first name", leaf.Subject.CommonName)
	}
	if leaf.IsCA {
		t.Error("leaf is a CA")
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("ExtKeyUsage = %v, want serverAuth only", leaf.ExtKeyUsage)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("KeyUsage = %v, want digitalSignature", leaf.KeyUsage)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("leaf key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if !slices.Equal(leaf.AuthorityKeyId, ca.Root().SubjectKeyId) {
		t.Error("AuthorityKeyId does not match the root's SubjectKeyId")
	}
	if len(cert.Certificate) != 1 {
		t.Errorf("chain has %d certificates, want the leaf only", len(cert.Certificate))
	}

	for _, host := range []string{"localhost", "127.0.0.1", "::1", "xn--bcher-kva.test", "api.myapp.test", "www.myapp.test"} {
		if err := ca.Verify(leaf, host, time.Time{}); err != nil {
			t.Errorf("Verify(%q): %v", host, err)
		}
	}
	// One-level wildcards match one label: not the apex, not deeper names.
	for _, host := range []string{"myapp.test", "a.b.myapp.test", "example.test", "127.0.0.2", "bücher.test"} {
		if err := ca.Verify(leaf, host, time.Time{}); err == nil {
			t.Errorf("Verify(%q) succeeded; the certificate does not cover it", host)
		}
	}
	// Another CA's pool does not trust it.
	other := localcatest.New(t)
	if err := other.Verify(leaf, "localhost", time.Time{}); err == nil {
		t.Error("leaf verifies against an unrelated CA")
	}
}

func TestIssueLifetimes(t *testing.T) {
	ca := localcatest.New(t)
	day := 24 * time.Hour
	before := time.Now()
	tests := []struct {
		name    string
		opts    localca.LeafOptions
		want    time.Duration // NotAfter - NotBefore
		wantErr string
	}{
		{name: "default", opts: localca.LeafOptions{}, want: localca.DefaultLeafLifetime},
		{name: "short in-memory", opts: localca.LeafOptions{Lifetime: 12 * time.Hour}, want: 12 * time.Hour},
		{name: "exactly the maximum", opts: localca.LeafOptions{Lifetime: 825 * day}, want: 825 * day},
		{name: "over the maximum", opts: localca.LeafOptions{Lifetime: 826 * day}, wantErr: "825 days"},
		{name: "negative", opts: localca.LeafOptions{Lifetime: -time.Hour}, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Names = []string{"localhost"}
			cert, err := ca.IssueLeaf(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			leaf := cert.Leaf
			if got := leaf.NotAfter.Sub(leaf.NotBefore); got != tt.want {
				t.Errorf("validity = %v, want %v", got, tt.want)
			}
			if got := leaf.NotAfter.Sub(leaf.NotBefore); got > localca.MaxLeafLifetime {
				t.Errorf("validity %v exceeds 825 days", got)
			}
			// Back-dated for clock skew, but only a little.
			if skew := before.Sub(leaf.NotBefore); skew < 0 || skew > 10*time.Minute {
				t.Errorf("NotBefore is %v before issuance, want a few minutes", skew)
			}
		})
	}
}

func TestIssueLeafKeyTypesAndUsages(t *testing.T) {
	ca := localcatest.New(t)
	tests := []struct {
		kt       localca.KeyType
		check    func(any) bool
		usage    x509.KeyUsage
		client   bool
		wantEKUs []x509.ExtKeyUsage
	}{
		{localca.KeyECDSAP256, func(k any) bool { p, ok := k.(*ecdsa.PublicKey); return ok && p.Curve == elliptic.P256() },
			x509.KeyUsageDigitalSignature, false, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		{localca.KeyECDSAP384, func(k any) bool { p, ok := k.(*ecdsa.PublicKey); return ok && p.Curve == elliptic.P384() },
			x509.KeyUsageDigitalSignature, true, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{localca.KeyRSA2048, func(k any) bool { p, ok := k.(*rsa.PublicKey); return ok && p.N.BitLen() == 2048 },
			x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, false, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
	}
	for _, tt := range tests {
		t.Run(tt.kt.String(), func(t *testing.T) {
			cert, err := ca.IssueLeaf(localca.LeafOptions{Names: []string{"localhost"}, KeyType: tt.kt, ClientAuth: tt.client})
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cert.Leaf.PublicKey) {
				t.Errorf("public key %T does not match %v", cert.Leaf.PublicKey, tt.kt)
			}
			if cert.Leaf.KeyUsage != tt.usage {
				t.Errorf("KeyUsage = %v, want %v", cert.Leaf.KeyUsage, tt.usage)
			}
			if !slices.Equal(cert.Leaf.ExtKeyUsage, tt.wantEKUs) {
				t.Errorf("ExtKeyUsage = %v, want %v", cert.Leaf.ExtKeyUsage, tt.wantEKUs)
			}
			kt, err := localca.ParseKeyType(tt.kt.String())
			if err != nil || kt != tt.kt {
				t.Errorf("ParseKeyType(%q) = %v, %v", tt.kt.String(), kt, err)
			}
		})
	}
	if _, err := localca.ParseKeyType("dsa"); err == nil {
		t.Error("ParseKeyType(dsa) succeeded")
	}
	if _, err := ca.IssueLeaf(localca.LeafOptions{Names: []string{"localhost"}, KeyType: 99}); err == nil {
		t.Error("IssueLeaf with an unknown key type succeeded")
	}
}

func TestIssueRejectsInvalidNames(t *testing.T) {
	ca := localcatest.New(t)
	for _, names := range [][]string{nil, {"*"}, {"localhost", "a.*.b"}, {"*.test"}, {"bad..name"}} {
		_, err := ca.Issue(names...)
		if err == nil {
			t.Errorf("Issue(%q) succeeded", names)
			continue
		}
		var ne *localca.NameError
		if len(names) > 0 && !errors.As(err, &ne) {
			t.Errorf("Issue(%q) error %v is not a *NameError", names, err)
		}
	}
}

func TestIssueIsSafeForConcurrentUse(t *testing.T) {
	ca := localcatest.New(t)
	const n = 16
	serials := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cert, err := ca.Issue("localhost")
			if err != nil {
				t.Error(err)
				return
			}
			if err := ca.Verify(cert.Leaf, "localhost", time.Time{}); err != nil {
				t.Error(err)
			}
			serials[i] = cert.Leaf.SerialNumber.String()
		})
	}
	wg.Wait()
	slices.Sort(serials)
	if len(slices.Compact(serials)) != n {
		t.Error("serial numbers repeat")
	}
}

// TestHandshake serves real TLS on loopback with leaves from the CA and
// connects with clients that trust only the CA's pool, for every kind of
// name. Names other than localhost and IPs are reached by dialling
// loopback while sending the name in SNI and Host, as a browser would after
// an /etc/hosts entry.
func TestHandshake(t *testing.T) {
	ca := localcatest.New(t)
	names := []string{"localhost", "127.0.0.1", "::1", "bücher.test", "*.myapp.test"}
	srv := localcatest.NewTLSServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host)
	}), names...)
	port := mustPort(t, srv.URL)

	client := localcatest.ClientTo(t, ca, srv.Listener.Addr().String())

	for _, host := range []string{"localhost", "127.0.0.1", "xn--bcher-kva.test", "api.myapp.test"} {
		t.Run(host, func(t *testing.T) {
			resp, err := client.Get("https://" + net.JoinHostPort(host, port) + "/")
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			defer resp.Body.Close()
			if resp.TLS == nil || len(resp.TLS.VerifiedChains) == 0 {
				t.Fatal("connection has no verified chain")
			}
			if chain := resp.TLS.VerifiedChains[0]; !chain[len(chain)-1].Equal(ca.Root()) {
				t.Error("verified chain does not end at the CA root")
			}
		})
	}

	t.Run("::1", func(t *testing.T) {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skip("no IPv6 loopback:", err)
		}
		ln.Close()
		// Plain TLS to an IPv6 listener using the same leaf.
		cert, _ := ca.Issue(names...)
		l, err := tls.Listen("tcp", "[::1]:0", &tls.Config{Certificates: []tls.Certificate{*cert}})
		if err != nil {
			t.Skip(err)
		}
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "::1"})
		if err != nil {
			t.Fatalf("TLS to [::1]: %v", err)
		}
		conn.Close()
	})

	t.Run("name not covered", func(t *testing.T) {
		_, err := client.Get("https://" + net.JoinHostPort("deep.api.myapp.test", port) + "/")
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Fatalf("err = %v, want a hostname mismatch", err)
		}
	})
}

func TestHandshakeRejectsExpiredLeaf(t *testing.T) {
	ca := localcatest.New(t)
	tests := []struct {
		name      string
		notBefore time.Time
		lifetime  time.Duration
		wantOK    bool
	}{
		{"expired an hour ago", time.Now().Add(-2 * time.Hour), time.Hour, false},
		{"not yet valid", time.Now().Add(time.Hour), time.Hour, false},
		{"expires in a minute", time.Now().Add(-825*24*time.Hour + time.Minute), 825 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := ca.IssueLeaf(localca.LeafOptions{Names: []string{"127.0.0.1"}, NotBefore: tt.notBefore, Lifetime: tt.lifetime})
			if err != nil {
				t.Fatal(err)
			}
			srv := localcatest.NewUnstartedTLSServer(t, ca, http.NotFoundHandler())
			srv.TLS.Certificates = []tls.Certificate{*cert}
			srv.StartTLS()
			localcatest.TrustCA(srv.Client(), ca)
			resp, err := srv.Client().Get(srv.URL)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
				resp.Body.Close()
				return
			}
			var invalid x509.CertificateInvalidError
			if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
				t.Fatalf("err = %v, want an expired-certificate error", err)
			}
		})
	}
}

func mustPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}
