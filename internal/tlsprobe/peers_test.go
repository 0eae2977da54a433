package tlsprobe

import (
	"bytes"
	"context"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/tlspeers"
)

// TestPeers probes every peer configuration and checks each fact against
// what the server was configured with: the versions of its ssl_protocols,
// for each version exactly the suites the openssl command lists for its
// ssl_ciphers (for the Go peer, its configured suites), and the chain it
// serves. testssl.sh checks the same facts in scan/tlsoracle.
func TestPeers(t *testing.T) {
	for _, name := range tlspeers.Names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := tlspeers.Start(t, name)
			want := tlspeers.Expected(t, p)
			var dials atomic.Int64
			d := &net.Dialer{}
			f, err := Probe(context.Background(), Config{
				Addr: p.Addr,
				Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
					dials.Add(1)
					return d.DialContext(ctx, network, addr)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Complete(); err != nil {
				t.Fatalf("incomplete facts: %v", err)
			}
			if int(dials.Load()) != f.Handshakes {
				t.Errorf("%d dials through Config.Dial for %d handshakes", dials.Load(), f.Handshakes)
			}
			for _, pf := range f.Protocols {
				ids, offered := want[uint16(pf.Version)]
				if pf.Offered != offered {
					t.Errorf("%s offered = %v (%s), want %v", pf.Version, pf.Offered, pf.Refusal, offered)
					continue
				}
				var got []uint16
				for _, s := range pf.Suites {
					got = append(got, uint16(s.ID))
				}
				if !slices.Equal(got, ids) {
					t.Errorf("%s suites:\n got %s\nwant %s", pf.Version, names(got), names(ids))
				}
			}
			if p.Protocols == nil || slices.ContainsFunc(p.Protocols, func(v string) bool { return v != "TLSv1.3" }) {
				if len(f.Certificates) != len(p.Served) {
					t.Fatalf("got %d certificates from %s, served %d", len(f.Certificates), f.CertificatesVersion, len(p.Served))
				}
				for i, c := range p.Served {
					if !bytes.Equal(f.Certificates[i], c.Raw) {
						t.Errorf("certificate %d differs from the one served", i)
					}
				}
			} else if f.Certificates != nil {
				t.Errorf("certificates read from a TLS 1.3-only server")
			}
			t.Logf("%d handshakes in %s, forward secrecy: %s", f.Handshakes, f.Elapsed.Round(time.Millisecond), f.ForwardSecrecy())
		})
	}
}

func names(ids []uint16) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, SuiteName(uint32(id)))
	}
	return out
}
