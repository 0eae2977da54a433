package h1server

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkServe compares h1server with net/http's server, the same handler
// (a 1 KiB response with its length) behind each, keep-alive HTTP/1.1 over
// TLS on loopback, the clients in the same process:
//
//	go test -run '^$' -bench Serve -benchmem ./internal/h1server
func BenchmarkServe(b *testing.B) {
	body := strings.Repeat("x", 1024)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "1024")
		io.WriteString(w, body)
	})
	ca, cfg := testTLS(b)
	// Each returns a new server's Serve and Close: b.Run calls its
	// function several times, and a closed http.Server stays closed.
	servers := []struct {
		name string
		new  func() (func(net.Listener) error, func() error)
	}{
		{"net-http", func() (func(net.Listener) error, func() error) {
			s := &http.Server{Handler: h, TLSConfig: cfg.Clone(), ErrorLog: quietLog}
			return func(ln net.Listener) error { return s.ServeTLS(ln, "", "") }, s.Close
		}},
		{"h1server", func() (func(net.Listener) error, func() error) {
			s := newServer(h, cfg, quietLog)
			return s.Serve, s.Close
		}},
	}

	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			serve, closeServer := srv.new()
			go serve(ln)
			defer closeServer()
			clientCfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "example.test", NextProtos: []string{"http/1.1"}}
			req := []byte("GET / HTTP/1.1\r\nHost: example.test\r\nUser-Agent: bench\r\n\r\n")
			b.ReportAllocs()
			b.SetParallelism(16) // 32 connections on 2 cores, like wrk's 64 on the proxy
			b.RunParallel(func(pb *testing.PB) {
				c, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for pb.Next() {
					if _, err := c.Write(req); err != nil {
						b.Error(err)
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
