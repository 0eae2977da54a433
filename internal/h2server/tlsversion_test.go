package h2server

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestRefusesOldTLS checks that a connection whose TLS is older than 1.2
// gets GOAWAY INADEQUATE_SECURITY before any request is served (RFC 9113,
// section 9.2), as with net/http.
func TestRefusesOldTLS(t *testing.T) {
	ca, cfg := testTLS(t)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := &Server{Handler: http.NotFoundHandler(), ErrorLog: quietLog}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			c.Close()
			return
		}
		srv.ServeConn(context.Background(), tc)
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		RootCAs: ca.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"h2"},
		MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11,
	})
	if err != nil {
		t.Skipf("this Go does not speak TLS 1.1 here: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("connection ended without GOAWAY: %v", err)
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			if ga.ErrCode != http2.ErrCodeInadequateSecurity {
				t.Errorf("GOAWAY %v, want INADEQUATE_SECURITY", ga.ErrCode)
			}
			break
		}
	}
	if _, err := fr.ReadFrame(); err == nil {
		t.Errorf("the connection stayed open after GOAWAY: %v", err)
	}
	<-done
}
