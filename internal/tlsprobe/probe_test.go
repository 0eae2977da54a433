package tlsprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/internal/testpki"
)

// goServer serves TLS with cfg on loopback, completing handshakes and
// closing, until the test ends.
func goServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	if cfg.Certificates == nil {
		leaf := testpki.NewRoot(t, "tlsprobe test root").Issue(t, testpki.LeafOptions{Key: testpki.ECDSAP256})
		cfg.Certificates = []tls.Certificate{leaf.TLSCertificate()}
	}
	return rawServerTLS(t, cfg, func(net.Conn) {})
}

// rawServer answers every connection with handle, on loopback.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	return rawServerTLS(t, nil, handle)
}

func rawServerTLS(t *testing.T, cfg *tls.Config, handle func(net.Conn)) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testnet.ServeConns(t, cfg, handle)))
}

func ids(ss []Suite) []uint16 {
	var out []uint16
	for _, s := range ss {
		out = append(out, uint16(s.ID))
	}
	return out
}

// TestGoServerTLS13 checks the TLS 1.3 hello against Go's server, and the
// HelloRetryRequest path: a server that wants a group the hello has no key
// share for still names its suite.
func TestGoServerTLS13(t *testing.T) {
	for _, curves := range [][]tls.CurveID{nil, {tls.CurveP384}} {
		addr := goServer(t, &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: curves})
		f, err := Probe(context.Background(), Config{Addr: addr, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Complete(); err != nil {
			t.Fatal(err)
		}
		p13 := f.Protocol(TLS13)
		if !p13.Offered || !slices.Equal(ids(p13.Suites), []uint16{0x1301, 0x1302, 0x1303}) {
			t.Errorf("curves %v: TLS 1.3 %+v", curves, p13)
		}
		for _, v := range []Version{SSL20, SSL30, TLS10, TLS11, TLS12} {
			if p := f.Protocol(v); p.Offered || p.Refusal == "" {
				t.Errorf("curves %v: %s offered=%v refusal=%q", curves, v, p.Offered, p.Refusal)
			}
		}
		if f.ForwardSecrecy() != FSAll {
			t.Errorf("forward secrecy %s", f.ForwardSecrecy())
		}
	}
}

func TestProbeFailures(t *testing.T) {
	closed, err := testnet.ClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	silent := rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	httpSrv := rawServer(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 1024))
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
	})
	hangup := rawServer(t, func(c net.Conn) {})
	tests := []struct {
		name, addr, want string
		timeout          time.Duration
	}{
		{"refused", closed, "connection refused", 0},
		{"silent", silent, "no answer within 300ms", 300 * time.Millisecond},
		{"not TLS", httpSrv, "not TLS", 0},
		{"hangs up", hangup, "no TLS answer", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Probe(context.Background(), Config{Addr: tt.addr, Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			if f.NoTLS == nil || !strings.Contains(f.NoTLS.Error(), tt.want) {
				t.Fatalf("NoTLS = %v, want %q", f.NoTLS, tt.want)
			}
			if f.Complete() == nil {
				t.Fatal("Complete() = nil")
			}
			if f.ForwardSecrecy() != FSUnknown {
				t.Fatalf("forward secrecy %s from nothing", f.ForwardSecrecy())
			}
			for _, p := range f.Protocols {
				if p.Offered {
					t.Errorf("%s offered by %s", p.Version, tt.name)
				}
			}
		})
	}
}

// TestProbeLimits checks that the handshake budget and the caller's
// context bound a probe, and that what they cut short is marked as such.
func TestProbeLimits(t *testing.T) {
	addr := goServer(t, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,
	}})
	f, err := Probe(context.Background(), Config{Addr: addr, MaxHandshakes: 8, Versions: []Version{TLS12}})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Protocol(TLS12)
	if !p.Offered || !errors.Is(p.SuitesErr, ErrHandshakeLimit) {
		t.Fatalf("TLS 1.2 %+v", p)
	}
	if f.Handshakes > 8 {
		t.Fatalf("%d handshakes, limit 8", f.Handshakes)
	}
	if !errors.Is(f.Complete(), ErrHandshakeLimit) {
		t.Fatalf("Complete() = %v", f.Complete())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f, err = Probe(ctx, Config{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	if f.Handshakes != 0 || !errors.Is(f.Complete(), context.Canceled) {
		t.Fatalf("cancelled probe: %d handshakes, %v", f.Handshakes, f.Complete())
	}
}

// TestProbeChoosesUnoffered checks a server that names a suite the hello
// did not offer: the version is offered, the list is marked unreliable.
func TestProbeChoosesUnoffered(t *testing.T) {
	addr := rawServer(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 4096))
		_, _ = c.Write(record(22, handshake(msgServerHello, serverHello(0x0303, nil, 0x00FE))))
	})
	f, err := Probe(context.Background(), Config{Addr: addr, Versions: []Version{TLS12}})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Protocol(TLS12)
	if !p.Offered || p.SuitesErr == nil || !strings.Contains(p.SuitesErr.Error(), "not offered") {
		t.Fatalf("%+v", p)
	}
}

func TestProbeConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Addr: "no port"},
		{Addr: "127.0.0.1:1", Versions: []Version{0x0305}},
		{Addr: "127.0.0.1:1", ServerName: strings.Repeat("a", 256)},
	} {
		if _, err := Probe(context.Background(), cfg); err == nil {
			t.Errorf("Probe(%+v) accepted", cfg)
		}
	}
}
