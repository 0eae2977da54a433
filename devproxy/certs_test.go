package devproxy

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCertificateNamesAndLifetime(t *testing.T) {
	ts := start(t, Config{
		Upstream: upstream(t, http.NotFoundHandler()),
		Hosts:    []string{"myapp.test", "Bücher.test", "*.myapp.test"},
	})
	for _, tc := range []struct{ dial, serverName string }{
		{"127.0.0.1", "localhost"},
		{"127.0.0.1", "myapp.test"},
		{"127.0.0.1", "api.myapp.test"},
		{"127.0.0.1", "xn--bcher-kva.test"},
		{"127.0.0.1", "127.0.0.1"},
		{"[::1]", "::1"},
	} {
		if tc.dial == "[::1]" && !ts.boundIPv6Loopback() {
			continue
		}
		// Full verification against the CA pool: the name must be in the
		// certificate and the chain must lead to the local root.
		conn, err := tls.Dial("tcp", tc.dial+":"+ts.httpsPort(), &tls.Config{RootCAs: ts.ca.Pool(), ServerName: tc.serverName})
		if err != nil {
			t.Errorf("TLS to %s as %s: %v", tc.dial, tc.serverName, err)
			continue
		}
		leaf := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		if life := leaf.NotAfter.Sub(leaf.NotBefore); life != DefaultLeafLifetime {
			t.Errorf("certificate lifetime %v, want %v", life, DefaultLeafLifetime)
		}
		if leaf.NotBefore.After(time.Now()) {
			t.Errorf("certificate not yet valid: NotBefore %v", leaf.NotBefore)
		}
		if leaf.PublicKeyAlgorithm != x509.ECDSA {
			t.Errorf("key algorithm %v, want ECDSA (fast handshakes)", leaf.PublicKeyAlgorithm)
		}
		wantDNS := []string{"localhost", "myapp.test", "xn--bcher-kva.test", "*.myapp.test"}
		if !slices.Equal(leaf.DNSNames, wantDNS) {
			t.Errorf("DNS names %v, want %v", leaf.DNSNames, wantDNS)
		}
		var ips []string
		for _, ip := range leaf.IPAddresses {
			ips = append(ips, ip.String())
		}
		if !slices.Equal(ips, []string{"127.0.0.1", "::1"}) {
			t.Errorf("IP addresses %v, want 127.0.0.1 and ::1", ips)
		}
	}

	// A name the certificate does not cover fails verification, and the
	// server says which --host to add, once.
	for range 2 {
		_, err := tls.Dial("tcp", "127.0.0.1:"+ts.httpsPort(), &tls.Config{RootCAs: ts.ca.Pool(), ServerName: "other.test"})
		if err == nil {
			t.Fatal("certificate accepted for other.test")
		}
	}
	if got := ts.logs.matching(slog.LevelWarn, "--host other.test"); len(got) != 1 {
		t.Errorf("want one hint to add --host other.test, got:\n%s", ts.logs.dump())
	}
}

func TestCertificateRenewal(t *testing.T) {
	ca := startCA(t)
	now := time.Now()
	c := newCertSource(ca, []string{"localhost"}, time.Hour, slog.New(slog.DiscardHandler))
	c.now = func() time.Time { return now }
	renewed := make(chan struct{}, 1)
	c.renewed = func() { renewed <- struct{}{} }

	first, err := c.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Leaf.NotAfter.Sub(first.Leaf.NotBefore); got != time.Hour {
		t.Fatalf("lifetime %v, want 1h", got)
	}
	if again, _ := c.Certificate(); again != first {
		t.Fatal("certificate reissued while fresh")
	}

	// Past two thirds of its life, the current certificate is still served
	// while a new one is issued in the background.
	now = renewAt(first.Leaf).Add(time.Second)
	if got, _ := c.Certificate(); got != first {
		t.Fatal("handshake waited for the renewal instead of using the valid certificate")
	}
	<-renewed
	second, _ := c.Certificate()
	if second == first || !second.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Fatalf("not renewed: NotAfter %v then %v", first.Leaf.NotAfter, second.Leaf.NotAfter)
	}

	// Expired (a laptop that slept for a week): renewed before answering.
	now = second.Leaf.NotAfter.Add(time.Minute)
	third, err := c.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if !now.Before(third.Leaf.NotAfter) || !now.After(third.Leaf.NotBefore) {
		t.Fatalf("certificate valid %v to %v, not at %v", third.Leaf.NotBefore, third.Leaf.NotAfter, now)
	}
	if err := ca.Verify(third.Leaf, "localhost", now); err != nil {
		t.Fatalf("renewed certificate does not verify: %v", err)
	}
}

func TestCertificateIncludesBoundIP(t *testing.T) {
	// Binding a specific non-loopback address adds it to the certificate
	// (the server is not started, so no traffic leaves loopback).
	s, err := New(Config{Upstream: mustUpstream(t, "8000"), CA: startCA(t), HTTPSAddr: "192.0.2.10:8443", HTTPAddr: Off})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.Names(), "192.0.2.10") {
		t.Errorf("names %v lack the bound address", s.Names())
	}
}

func TestUntrustedClientWarning(t *testing.T) {
	ts := start(t, Config{Upstream: upstream(t, http.NotFoundHandler())})
	// A client with the system roots only, as a browser before "httpsguard
	// ca install": the handshake fails, and the server says why, once.
	for range 3 {
		c := newClient(t, startCA(t), true) // trusts some other CA
		if _, err := c.Get(ts.url("127.0.0.1", "/")); err == nil {
			t.Fatal("a client that does not trust the CA connected")
		}
	}
	ts.logs.wait(t, 2, slog.LevelDebug, "rejected the certificate again")
	got := ts.logs.matching(slog.LevelWarn, "does not trust the local CA")
	if len(got) != 1 || !strings.Contains(got[0].msg, "httpsguard ca install") || !strings.Contains(got[0].msg, ts.ca.RootFile()) {
		t.Errorf("want one warning naming the fix, got:\n%s", ts.logs.dump())
	}
}
