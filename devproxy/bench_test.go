package devproxy

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxy measures requests through the proxy to a small upstream,
// over HTTP/1.1 keep-alive and HTTP/2, with the access log off (as in
// "httpsguard serve --quiet").
func BenchmarkProxy(b *testing.B) {
	payload := []byte("hello, world\n")
	up := upstream(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(payload)
	}))
	for _, tc := range []struct {
		name string
		h2   bool
	}{{"HTTP1", false}, {"HTTP2", true}} {
		b.Run(tc.name, func(b *testing.B) {
			ts := start(b, Config{Upstream: up, Quiet: true, HTTPAddr: Off})
			c := ts.h1
			if tc.h2 {
				c = ts.h2
			}
			u := ts.url("127.0.0.1", "/")
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := c.Get(u)
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

// BenchmarkStartup measures what "httpsguard serve" does before the first
// browser connection succeeds, with an existing CA: build the server, bind
// its listeners, issue the certificate and complete a verified TLS
// handshake.
func BenchmarkStartup(b *testing.B) {
	ca := startCA(b)
	up := mustUpstream(b, "8000")
	cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := New(Config{Upstream: up, CA: ca, HTTPSAddr: "127.0.0.1:0", HTTPAddr: Off, Quiet: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Listen(ctx); err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		conn, err := tls.Dial("tcp", srv.HTTPSAddrs()[0].String(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
