package devproxy

import (
	"crypto/tls"
	"net/http"
	"testing"
)

// TestWeakTLS12SuitesRefused keeps serve passing its own checker: a client
// that offers only CBC-mode TLS 1.2 suites (which Go's default server would
// accept) gets no handshake, and a modern client still does.
func TestWeakTLS12SuitesRefused(t *testing.T) {
	ts := start(t, Config{Upstream: upstream(t, http.NotFoundHandler())})
	addr := "127.0.0.1:" + ts.httpsPort()
	cbc := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	}
	for _, tc := range []struct {
		name   string
		suites []uint16
		ok     bool
	}{
		{"CBC only", cbc, false},
		{"default", nil, true},
	} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{
			RootCAs: ts.ca.Pool(), ServerName: "localhost",
			MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: tc.suites,
		})
		if err == nil {
			conn.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("%s: handshake error %v, want success %v", tc.name, err, tc.ok)
		}
	}
}
