package scan_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/internal/tlspeers"
	"github.com/httpsguard/httpsguard/scan"
)

// BenchmarkScanTLSPeers measures a whole scan of nginx peers, from the
// modern to the one that accepts every suite OpenSSL has, on loopback and
// behind a proxy that delays every chunk by 25 ms each way (a 50 ms round
// trip; the TCP connect itself is not delayed). It uses only API that
// predates the TLS facts, so bench/tlsfacts/run.sh runs it on the commit
// before them too and compares.
func BenchmarkScanTLSPeers(b *testing.B) {
	httpPort, err := testnet.ClosedPort()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"tls13", "aead", "legacy", "everything"} {
		p := tlspeers.Start(b, name)
		sc, err := scan.New(scan.Options{CAFiles: []string{p.RootFile}, HTTPPort: httpPort, Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		for _, delay := range []time.Duration{0, 25 * time.Millisecond} {
			b.Run(fmt.Sprintf("%s/delay=%s", name, delay), func(b *testing.B) {
				addr := p.Addr
				if delay > 0 {
					addr = delayProxy(b, p.Addr, delay)
				}
				for b.Loop() {
					if res := sc.Scan(context.Background(), "https://"+addr+"/"); res.TLS == nil || res.Error != nil {
						b.Fatalf("scan: %v", res.Error)
					}
				}
			})
		}
	}
}

// delayProxy forwards loopback connections to target, holding every chunk
// for delay in each direction, until the benchmark ends.
func delayProxy(b *testing.B, target string, delay time.Duration) string {
	b.Helper()
	port := testnet.ServeConns(b, nil, func(c net.Conn) {
		u, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer u.Close()
		done := make(chan struct{}, 2)
		go func() { pump(u, c, delay); done <- struct{}{} }()
		go func() { pump(c, u, delay); done <- struct{}{} }()
		<-done
	})
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// pump copies src to dst, each chunk delay after it was read, keeping
// chunks in flight so that the delay is latency, not a throughput cap.
func pump(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	for range q {
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		_ = dst.Close()
	}
	_, _ = io.Copy(io.Discard, src)
}
