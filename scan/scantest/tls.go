package scantest

import (
	"crypto/tls"
	"io"
	"log"
)

// tlsConfig serves cert with HTTP/2 and Mozilla's "intermediate" TLS 1.2
// suites (forward secrecy and AEAD only), as a production front end should;
// Go's defaults also accept ECDHE with CBC, which the scanner warns about.
func tlsConfig(cert *tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{*cert},
		NextProtos:   []string{"h2", "http/1.1"},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
		},
	}
}

// quietLogger drops the servers' own logs (TLS handshake errors from the
// scanner's protocol probes are expected).
func quietLogger() *log.Logger { return log.New(io.Discard, "", 0) }
