package tlsprobe

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Version is a protocol version as it appears on the wire: 0x0002 for
// SSL 2.0, 0x0300 for SSL 3.0, 0x0301 to 0x0304 for TLS 1.0 to 1.3.
type Version uint16

// The protocol versions Probe knows.
const (
	SSL20 Version = 0x0002
	SSL30 Version = 0x0300
	TLS10 Version = 0x0301
	TLS11 Version = 0x0302
	TLS12 Version = 0x0303
	TLS13 Version = 0x0304
)

// Versions are every version Probe asks about, oldest first.
var Versions = []Version{SSL20, SSL30, TLS10, TLS11, TLS12, TLS13}

// String names the version as reports show it: "SSL 3.0", "TLS 1.2".
func (v Version) String() string {
	switch v {
	case SSL20:
		return "SSL 2.0"
	case SSL30:
		return "SSL 3.0"
	case TLS10:
		return "TLS 1.0"
	case TLS11:
		return "TLS 1.1"
	case TLS12:
		return "TLS 1.2"
	case TLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", uint16(v))
}

// Strength is how a cipher suite is judged.
type Strength int

// The strengths, best first.
const (
	// Strong suites have forward secrecy and authenticated encryption
	// (every TLS 1.3 suite but the integrity-only ones, and the TLS 1.2
	// ECDHE and DHE suites with GCM, CCM or ChaCha20-Poly1305).
	Strong Strength = iota
	// Weak suites have forward secrecy and a strong cipher, but not
	// authenticated encryption: CBC with HMAC (Lucky Thirteen, and the
	// padding-oracle family), or CCM with an 8-byte tag.
	Weak
	// Insecure suites lack something a connection needs: encryption
	// (NULL), authentication (anonymous), forward secrecy (RSA, static
	// DH and ECDH, PSK and Kerberos key exchange), a 128-bit block
	// (3DES, IDEA, DES, RC2: Sweet32), a sound cipher (RC4) or MAC
	// (MD5), or more than export-grade keys.
	Insecure
)

// String is "strong", "weak" or "insecure".
func (s Strength) String() string {
	switch s {
	case Strong:
		return "strong"
	case Weak:
		return "weak"
	case Insecure:
		return "insecure"
	}
	return "unknown"
}

// Suite describes one cipher suite. Its properties are read from its
// registered name.
type Suite struct {
	// ID is the suite's code: 0x0000 to 0xFFFF for SSL 3.0 to TLS 1.3,
	// the three-byte cipher kind (0x010080 ...) for SSL 2.0.
	ID uint32
	// Name is the IANA name ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
	// or the name the SSL 2.0 specification gives.
	Name string
	// KeyExchange is "RSA", "DH" and "ECDH" (static), "DHE" and
	// "ECDHE" (ephemeral, anonymous ones included), "PSK", "DHE-PSK",
	// "ECDHE-PSK", "RSA-PSK", "SRP", "KRB5", "GOST", "ECCPWD", or "any"
	// for TLS 1.3.
	KeyExchange string
	// Auth is "RSA", "DSS", "ECDSA", "PSK", "KRB5", "SRP", "GOST",
	// "ECCPWD", "anon" (none), or "any" for TLS 1.3.
	Auth string
	// Cipher is the bulk cipher: "AES", "CHACHA20", "CAMELLIA", "ARIA",
	// "SEED", "3DES", "DES", "IDEA", "RC2", "RC4", "GOST28147",
	// "KUZNYECHIK", "MAGMA", "SM4" or "NULL".
	Cipher string
	// Mode is "CBC", "GCM", "CCM", "CCM8", "POLY1305", "MGM", "CTR",
	// "CNT", "stream" (RC4) or "" (NULL).
	Mode string
	// Bits is the key length of the bulk cipher (168 for 3DES, as
	// OpenSSL counts it).
	Bits int
	// MAC is "MD5", "SHA1", "SHA256", "SHA384", "GOST", "SM3" or "AEAD".
	MAC string
	// Export is set for the export-grade suites.
	Export bool
	// TLS13 is set for the suites only TLS 1.3 negotiates.
	TLS13 bool
}

// ForwardSecret reports whether the suite's key exchange is ephemeral and
// authenticated: the key of a recorded session is gone once it ends.
func (s Suite) ForwardSecret() bool {
	if s.TLS13 {
		return true
	}
	switch s.KeyExchange {
	case "DHE", "ECDHE", "DHE-PSK", "ECDHE-PSK":
		return s.Auth != "anon"
	}
	return false
}

// AEAD reports whether the suite encrypts with an authenticated mode.
func (s Suite) AEAD() bool {
	switch s.Mode {
	case "GCM", "CCM", "CCM8", "POLY1305", "MGM":
		return true
	}
	return false
}

// Strength judges the suite by its worst flaw; see the Strength constants.
func (s Suite) Strength() Strength {
	switch s.Flaw() {
	case "":
		return Strong
	case flawCCM8, flawCBC:
		return Weak
	}
	return Insecure
}

// The flaws that make a suite weak rather than insecure.
const (
	flawCCM8 = "CCM with an 8-byte tag"
	flawCBC  = "CBC"
)

// Flaw says what is wrong with the suite, its worst flaw when it has
// several: "no encryption", "RC4", "64-bit block: Sweet32", "no forward
// secrecy", "CBC"...; "" for a strong suite.
func (s Suite) Flaw() string {
	switch {
	case s.Cipher == "NULL":
		return "no encryption"
	case s.Auth == "anon":
		return "anonymous: no authentication"
	case s.Export:
		return "export-grade"
	case s.Cipher == "RC4": // a stream cipher with known biases
		return "RC4"
	case s.Cipher == "3DES", s.Cipher == "DES", s.Cipher == "IDEA", s.Cipher == "RC2", s.Cipher == "GOST28147", s.Cipher == "MAGMA":
		return "64-bit block: Sweet32"
	case s.Bits < 128:
		return strconv.Itoa(s.Bits) + "-bit key"
	case s.MAC == "MD5":
		return "MD5"
	case !s.ForwardSecret():
		return "no forward secrecy"
	case s.Mode == "CCM8":
		return flawCCM8
	case !s.AEAD():
		return flawCBC
	}
	return ""
}

// HexID is the suite's code as testssl.sh and Wireshark print it:
// "0xc02f", "0x0a", "0x0700c0".
func (s Suite) HexID() string {
	if s.ID > 0xFFFF {
		return fmt.Sprintf("0x%06x", s.ID)
	}
	return fmt.Sprintf("0x%04x", s.ID)
}

// sslv2Kinds are the SSL 2.0 cipher kinds, offered by the SSL 2.0 probe.
var sslv2Kinds = []Suite{
	{ID: 0x010080, Name: "SSL_CK_RC4_128_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "RC4", Mode: "stream", Bits: 128, MAC: "MD5"},
	{ID: 0x020080, Name: "SSL_CK_RC4_128_EXPORT40_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "RC4", Mode: "stream", Bits: 40, MAC: "MD5", Export: true},
	{ID: 0x030080, Name: "SSL_CK_RC2_128_CBC_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "RC2", Mode: "CBC", Bits: 128, MAC: "MD5"},
	{ID: 0x040080, Name: "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "RC2", Mode: "CBC", Bits: 40, MAC: "MD5", Export: true},
	{ID: 0x050080, Name: "SSL_CK_IDEA_128_CBC_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "IDEA", Mode: "CBC", Bits: 128, MAC: "MD5"},
	{ID: 0x060040, Name: "SSL_CK_DES_64_CBC_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "DES", Mode: "CBC", Bits: 56, MAC: "MD5"},
	{ID: 0x0700C0, Name: "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "3DES", Mode: "CBC", Bits: 168, MAC: "MD5"},
	{ID: 0x080080, Name: "SSL_CK_RC4_64_WITH_MD5", KeyExchange: "RSA", Auth: "RSA", Cipher: "RC4", Mode: "stream", Bits: 64, MAC: "MD5"},
}

// suites is suiteTable parsed, by ID; tls12Offer and tls13Offer are the
// IDs each kind of ClientHello offers.
var (
	suites     = map[uint32]Suite{}
	tls12Offer []uint16
	tls13Offer []uint16
)

func init() {
	for _, e := range suiteTable {
		s, err := parseSuite(e.id, e.name)
		if err != nil {
			panic(err) // the table is static: TestSuiteTable catches this
		}
		suites[s.ID] = s
		if s.TLS13 {
			tls13Offer = append(tls13Offer, e.id)
		} else {
			tls12Offer = append(tls12Offer, e.id)
		}
	}
	for _, s := range sslv2Kinds {
		suites[s.ID] = s
	}
	// Offer as a client would: strong suites first, anonymous and NULL
	// ones last, so that a server that follows the client's order
	// answers the first hello with an authenticated suite and its
	// certificate.
	rank := func(id uint16) int {
		s := suites[uint32(id)]
		if s.Auth == "anon" || s.Cipher == "NULL" {
			return 3
		}
		return int(s.Strength())
	}
	slices.SortStableFunc(tls12Offer, func(a, b uint16) int { return rank(a) - rank(b) })
}

// Lookup returns what is known of the suite with this ID; ok is false for
// a code not in the registry (the Suite then carries only the ID and a
// hex name, and is judged insecure).
func Lookup(id uint32) (s Suite, ok bool) {
	s, ok = suites[id]
	if !ok {
		s = Suite{ID: id, Name: fmt.Sprintf("0x%04X", id), Cipher: "unknown", KeyExchange: "unknown", Auth: "unknown", MAC: "unknown"}
	}
	return s, ok
}

// SuiteName is the IANA name of the suite with this ID, or its code in hex.
func SuiteName(id uint32) string {
	s, _ := Lookup(id)
	return s.Name
}

// tls13IDs are the suites negotiated only by TLS 1.3; their names do not
// say so in every case (the GOST ones follow the TLS 1.2 pattern).
func isTLS13ID(id uint16) bool {
	switch {
	case id>>8 == 0x13, id == 0x00C6, id == 0x00C7, id == 0xC0B4, id == 0xC0B5, id >= 0xC103 && id <= 0xC106:
		return true
	}
	return false
}

// keyExchanges maps the part of a name before _WITH_ (less _EXPORT and
// _EXPORT1024) to key exchange and authentication.
var keyExchanges = map[string][2]string{
	"NULL":            {"NULL", "anon"},
	"RSA":             {"RSA", "RSA"},
	"RSA_FIPS":        {"RSA", "RSA"},
	"DH_DSS":          {"DH", "DSS"},
	"DH_RSA":          {"DH", "RSA"},
	"DHE_DSS":         {"DHE", "DSS"},
	"DHE_RSA":         {"DHE", "RSA"},
	"DH_anon":         {"DHE", "anon"},
	"KRB5":            {"KRB5", "KRB5"},
	"PSK":             {"PSK", "PSK"},
	"DHE_PSK":         {"DHE-PSK", "PSK"},
	"PSK_DHE":         {"DHE-PSK", "PSK"},
	"RSA_PSK":         {"RSA-PSK", "RSA"},
	"ECDHE_PSK":       {"ECDHE-PSK", "PSK"},
	"ECDH_ECDSA":      {"ECDH", "ECDSA"},
	"ECDH_RSA":        {"ECDH", "RSA"},
	"ECDHE_ECDSA":     {"ECDHE", "ECDSA"},
	"ECDHE_RSA":       {"ECDHE", "RSA"},
	"ECDH_anon":       {"ECDHE", "anon"},
	"SRP_SHA":         {"SRP", "SRP"},
	"SRP_SHA_RSA":     {"SRP", "RSA"},
	"SRP_SHA_DSS":     {"SRP", "DSS"},
	"ECCPWD":          {"ECCPWD", "ECCPWD"},
	"GOSTR341094":     {"GOST", "GOST"},
	"GOSTR341001":     {"GOST", "GOST"},
	"GOSTR341112_256": {"GOST", "GOST"},
}

// macs are the name endings that give the MAC (or, for AEAD suites, the
// PRF hash), longest first.
var macs = []struct{ suffix, mac string }{
	{"_GOSTR3411", "GOST"},
	{"_SHA256", "SHA256"},
	{"_SHA384", "SHA384"},
	{"_IMIT", "GOST"},
	{"_OMAC", "GOST"},
	{"_SHA", "SHA1"},
	{"_MD5", "MD5"},
	{"_SM3", "SM3"},
}

// ciphers maps the bulk-cipher part of a name that the generic
// ALG_BITS_MODE form does not cover.
var ciphers = map[string]struct {
	cipher, mode string
	bits         int
}{
	"NULL":              {"NULL", "", 0},
	"RC4_40":            {"RC4", "stream", 40},
	"RC4_56":            {"RC4", "stream", 56},
	"RC4_128":           {"RC4", "stream", 128},
	"RC2_CBC_40":        {"RC2", "CBC", 40},
	"RC2_CBC_56":        {"RC2", "CBC", 56},
	"IDEA_CBC":          {"IDEA", "CBC", 128},
	"DES40_CBC":         {"DES", "CBC", 40},
	"DES_CBC_40":        {"DES", "CBC", 40},
	"DES_CBC":           {"DES", "CBC", 56},
	"3DES_EDE_CBC":      {"3DES", "CBC", 168},
	"SEED_CBC":          {"SEED", "CBC", 128},
	"CHACHA20_POLY1305": {"CHACHA20", "POLY1305", 256},
	"28147_CNT":         {"GOST28147", "CNT", 256},
	"KUZNYECHIK_CTR":    {"KUZNYECHIK", "CTR", 256},
	"MAGMA_CTR":         {"MAGMA", "CTR", 256},
	"KUZNYECHIK_MGM_L":  {"KUZNYECHIK", "MGM", 256},
	"KUZNYECHIK_MGM_S":  {"KUZNYECHIK", "MGM", 256},
	"MAGMA_MGM_L":       {"MAGMA", "MGM", 256},
	"MAGMA_MGM_S":       {"MAGMA", "MGM", 256},
	"SM4_GCM":           {"SM4", "GCM", 128},
	"SM4_CCM":           {"SM4", "CCM", 128},
}

// parseSuite reads a suite's properties from its registered name.
func parseSuite(id uint16, name string) (Suite, error) {
	s := Suite{ID: uint32(id), Name: name, TLS13: isTLS13ID(id)}
	rest, ok := strings.CutPrefix(name, "TLS_")
	if !ok {
		if rest, ok = strings.CutPrefix(name, "SSL_"); !ok {
			return s, fmt.Errorf("suite 0x%04X %q: no TLS_ or SSL_ prefix", id, name)
		}
	}
	rest = strings.TrimSuffix(rest, "_OLD")
	kx, enc, with := strings.Cut(rest, "_WITH_")
	switch {
	case with:
		if k, ok := strings.CutSuffix(kx, "_EXPORT1024"); ok {
			kx, s.Export = k, true
		} else if k, ok := strings.CutSuffix(kx, "_EXPORT"); ok {
			kx, s.Export = k, true
		}
		ka, ok := keyExchanges[kx]
		if !ok {
			return s, fmt.Errorf("suite 0x%04X %q: unknown key exchange %q", id, name, kx)
		}
		s.KeyExchange, s.Auth = ka[0], ka[1]
		if s.TLS13 {
			s.KeyExchange, s.Auth = "any", "any"
		}
	case s.TLS13:
		s.KeyExchange, s.Auth, enc = "any", "any", kx
	default:
		return s, fmt.Errorf("suite 0x%04X %q: no _WITH_", id, name)
	}
	s.MAC = "AEAD"
	for _, m := range macs {
		if e, ok := strings.CutSuffix(enc, m.suffix); ok && e != "" {
			enc, s.MAC = e, m.mac
			break
		}
	}
	if s.TLS13 && (enc == "SHA256" || enc == "SHA384") {
		// The integrity-only suites of RFC 9150.
		s.Cipher, s.MAC = "NULL", enc
		return s, nil
	}
	if c, ok := ciphers[enc]; ok {
		s.Cipher, s.Mode, s.Bits = c.cipher, c.mode, c.bits
	} else {
		f := strings.Split(enc, "_")
		if len(f) < 3 || len(f) > 4 {
			return s, fmt.Errorf("suite 0x%04X %q: unknown cipher %q", id, name, enc)
		}
		bits, err := strconv.Atoi(f[1])
		if err != nil {
			return s, fmt.Errorf("suite 0x%04X %q: unknown cipher %q", id, name, enc)
		}
		s.Cipher, s.Bits, s.Mode = f[0], bits, f[2]
		if len(f) == 4 {
			if f[2] != "CCM" || f[3] != "8" {
				return s, fmt.Errorf("suite 0x%04X %q: unknown cipher %q", id, name, enc)
			}
			s.Mode = "CCM8"
		}
	}
	if s.AEAD() {
		s.MAC = "AEAD"
	}
	return s, nil
}
