package tlsdefaults

import (
	"crypto/tls"
	"slices"
	"testing"
)

func TestCipherSuitesAreModern(t *testing.T) {
	insecure := tls.InsecureCipherSuites()
	for _, id := range CipherSuites() {
		name := tls.CipherSuiteName(id)
		for _, s := range insecure {
			if s.ID == id {
				t.Errorf("%s is one of Go's insecure suites", name)
			}
		}
		i := slices.IndexFunc(tls.CipherSuites(), func(s *tls.CipherSuite) bool { return s.ID == id })
		if i < 0 {
			t.Fatalf("%s is not a suite Go supports", name)
		}
		if s := tls.CipherSuites()[i]; !slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
			t.Errorf("%s is not a TLS 1.2 suite", name)
		}
	}
	if c := Server(); c.MinVersion != tls.VersionTLS12 || len(c.CipherSuites) == 0 {
		t.Errorf("Server() = MinVersion %x, %d suites", c.MinVersion, len(c.CipherSuites))
	}
}
