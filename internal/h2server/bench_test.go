package h2server

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkServe compares this package's server with net/http's HTTP/2
// server, the same handler (a 1 KiB response with its length) behind each,
// over TLS on loopback, with net/http's HTTP/2 client in the same process
// on four connections (so the numbers include the client's cost, the same
// for both):
//
//	go test -run '^$' -bench Serve -benchmem ./internal/h2server
func BenchmarkServe(b *testing.B) {
	body := strings.Repeat("x", 1024)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "1024")
		io.WriteString(w, body)
	})
	ca, cfg := testTLS(b)
	servers := []struct {
		name  string
		serve func(b *testing.B, ln net.Listener)
	}{
		{"net-http", func(b *testing.B, ln net.Listener) {
			s := &http.Server{Handler: h, TLSConfig: cfg.Clone(), ErrorLog: quietLog}
			b.Cleanup(func() { s.Close() })
			go s.ServeTLS(ln, "", "")
		}},
		{"h2server", func(b *testing.B, ln net.Listener) {
			s := &Server{Handler: h, ErrorLog: quietLog}
			b.Cleanup(func() { ln.Close(); s.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						tc := tls.Server(c, cfg)
						if err := tc.Handshake(); err != nil {
							c.Close()
							return
						}
						s.ServeConn(context.Background(), tc)
					}()
				}
			}()
		}},
	}
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv.serve(b, ln)
			url := "https://" + ln.Addr().String() + "/"
			const conns = 4
			var clients [conns]*http.Client
			for i := range clients {
				tr := &http.Transport{
					TLSClientConfig:   &tls.Config{RootCAs: ca.Pool(), ServerName: "example.test"},
					ForceAttemptHTTP2: true,
				}
				b.Cleanup(tr.CloseIdleConnections)
				clients[i] = &http.Client{Transport: tr}
			}
			var next atomic.Int32
			b.ReportAllocs()
			b.SetParallelism(16) // 32 goroutines on 2 cores, like h2load's 320 streams on the proxy
			b.RunParallel(func(pb *testing.PB) {
				c := clients[int(next.Add(1))%conns]
				for pb.Next() {
					resp, err := c.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.ProtoMajor != 2 {
						b.Errorf("got %s, want HTTP/2", resp.Proto)
						return
					}
				}
			})
		})
	}
}
