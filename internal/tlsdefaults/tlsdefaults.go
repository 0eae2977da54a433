// Package tlsdefaults holds the TLS server settings httpsguard's own servers
// use, so "httpsguard serve" and "httpsguard web" pass the checks that
// "httpsguard check" applies to everyone else.
package tlsdefaults

import "crypto/tls"

// CipherSuites are the TLS 1.2 suites the servers accept: ECDHE key exchange
// with an AEAD cipher only (Mozilla's "intermediate" set, as Go names it).
// Go's own default also accepts CBC-mode suites, which the checker reports as
// weak. TLS 1.3 suites are not configurable and are all strong.
func CipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// Server returns a server configuration with TLS 1.2 as the minimum and
// CipherSuites for TLS 1.2. Callers add certificates and NextProtos.
func Server() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: CipherSuites()}
}
