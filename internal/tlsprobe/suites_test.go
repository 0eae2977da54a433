package tlsprobe

import (
	"bufio"
	"crypto/tls"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/internal/peertest"
	"github.com/httpsguard/httpsguard/internal/testpeer"
)

func TestSuiteTable(t *testing.T) {
	seen := map[uint16]bool{}
	for _, e := range suiteTable {
		if seen[e.id] {
			t.Errorf("0x%04X listed twice", e.id)
		}
		seen[e.id] = true
		if _, err := parseSuite(e.id, e.name); err != nil {
			t.Error(err)
		}
	}
	if len(tls12Offer)+len(tls13Offer) != len(suiteTable) {
		t.Fatal("offers do not cover the table")
	}
	// Go's names are IANA's; every suite Go knows is in the table.
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if got := SuiteName(uint32(c.ID)); got != c.Name {
			t.Errorf("0x%04X: %s, Go says %s", c.ID, got, c.Name)
		}
	}
}

// TestSuiteTableAgainstTestssl compares the table with the mapping
// testssl.sh ships: the same name for every code both know, and every
// TLS code it knows is in the table but for the few left out on purpose.
func TestSuiteTableAgainstTestssl(t *testing.T) {
	peertest.Need(t, "testssl", testpeer.Testssl)
	f, err := os.Open("/etc/testssl/cipher-mapping.txt")
	if err != nil {
		testpeer.Missing(t, testpeer.Testssl, "its cipher mapping is not readable: "+err.Error())
	}
	defer f.Close()
	// Left out: TLS_NULL_WITH_NULL_NULL, the state before any
	// handshake, which no server may choose; the experimental CECPQ1 suites (a Google test in 2016)
	// and the pre-standard GOST codes, which no released server offers.
	omitted := map[uint16]bool{0x0000: true, 0x16B7: true, 0x16B8: true, 0x16B9: true, 0x16BA: true,
		0xFF00: true, 0xFF01: true, 0xFF02: true, 0xFF03: true, 0xFF85: true, 0xFF87: true}
	// The one name that differs is a pre-standard code the drafts named
	// both ways.
	aliases := map[string]string{"TLS_RSA_EXPORT1024_WITH_RC2_56_MD5": "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5"}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		hex := strings.Split(fields[0], ",")
		if len(hex) != 2 {
			continue // SSL 2.0
		}
		hi, _ := strconv.ParseUint(strings.TrimPrefix(hex[0], "0x"), 16, 8)
		lo, _ := strconv.ParseUint(strings.TrimPrefix(hex[1], "0x"), 16, 8)
		id := uint16(hi)<<8 | uint16(lo)
		rfc := fields[3]
		if a, ok := aliases[rfc]; ok {
			rfc = a
		}
		s, ok := Lookup(uint32(id))
		switch {
		case omitted[id]:
		case !ok:
			t.Errorf("0x%04X %s (testssl) is not in the table", id, rfc)
		case rfc != "-" && rfc != s.Name:
			t.Errorf("0x%04X: %s, testssl says %s", id, s.Name, rfc)
		}
		n++
	}
	if n < 300 {
		t.Fatalf("read only %d codes from testssl's mapping", n)
	}
}

func TestSuiteProperties(t *testing.T) {
	tests := []struct {
		id               uint32
		kx, auth, cipher string
		mode, mac        string
		bits             int
		fs               bool
		strength         Strength
	}{
		{0xC02F, "ECDHE", "RSA", "AES", "GCM", "AEAD", 128, true, Strong},
		{0xCCA9, "ECDHE", "ECDSA", "CHACHA20", "POLY1305", "AEAD", 256, true, Strong},
		{0x009E, "DHE", "RSA", "AES", "GCM", "AEAD", 128, true, Strong},
		{0xC09E, "DHE", "RSA", "AES", "CCM", "AEAD", 128, true, Strong},
		{0xC0A2, "DHE", "RSA", "AES", "CCM8", "AEAD", 128, true, Weak},
		{0xC052, "DHE", "RSA", "ARIA", "GCM", "AEAD", 128, true, Strong},
		{0xC013, "ECDHE", "RSA", "AES", "CBC", "SHA1", 128, true, Weak},
		{0x0045, "DHE", "RSA", "CAMELLIA", "CBC", "SHA1", 128, true, Weak},
		{0x009C, "RSA", "RSA", "AES", "GCM", "AEAD", 128, false, Insecure},
		{0x000A, "RSA", "RSA", "3DES", "CBC", "SHA1", 168, false, Insecure},
		{0xC012, "ECDHE", "RSA", "3DES", "CBC", "SHA1", 168, true, Insecure},
		{0xC011, "ECDHE", "RSA", "RC4", "stream", "SHA1", 128, true, Insecure},
		{0x0034, "DHE", "anon", "AES", "CBC", "SHA1", 128, false, Insecure},
		{0x0003, "RSA", "RSA", "RC4", "stream", "MD5", 40, false, Insecure},
		{0x0002, "RSA", "RSA", "NULL", "", "SHA1", 0, false, Insecure},
		{0x1301, "any", "any", "AES", "GCM", "AEAD", 128, true, Strong},
		{0x1305, "any", "any", "AES", "CCM8", "AEAD", 128, true, Weak},
		{0xC0B4, "any", "any", "NULL", "", "SHA256", 0, true, Insecure},
		{0xCC13, "ECDHE", "RSA", "CHACHA20", "POLY1305", "AEAD", 256, true, Strong},
		{0xC0AA, "DHE-PSK", "PSK", "AES", "CCM8", "AEAD", 128, true, Weak},
		{0x0700C0, "RSA", "RSA", "3DES", "CBC", "MD5", 168, false, Insecure},
	}
	for _, tt := range tests {
		s, ok := Lookup(tt.id)
		if !ok {
			t.Errorf("0x%04X unknown", tt.id)
			continue
		}
		if s.KeyExchange != tt.kx || s.Auth != tt.auth || s.Cipher != tt.cipher || s.Mode != tt.mode || s.MAC != tt.mac ||
			s.Bits != tt.bits || s.ForwardSecret() != tt.fs || s.Strength() != tt.strength {
			t.Errorf("%s: %+v fs=%v %s", s.Name, s, s.ForwardSecret(), s.Strength())
		}
	}
	if s, ok := Lookup(0xFFFF); ok || s.Strength() != Insecure || s.Name != "0xFFFF" {
		t.Errorf("unknown suite: %+v", s)
	}
}
