package tlsprobe

import (
	"encoding/binary"
	"errors"
)

// Extension and message numbers used by the ClientHello writer and the
// ServerHello reader (RFC 8446 section 4.2 and the IANA registry).
const (
	extServerName          = 0
	extSupportedGroups     = 10
	extECPointFormats      = 11
	extSignatureAlgorithms = 13
	extExtendedMasterSec   = 23
	extSupportedVersions   = 43
	extPSKModes            = 45
	extKeyShare            = 51

	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22

	msgClientHello     = 1
	msgServerHello     = 2
	msgCertificate     = 11
	msgServerHelloDone = 14

	suiteRenegotiationSCSV = 0x00FF
)

// Named groups. X25519 and P-256 carry key shares in the TLS 1.3 hello.
const (
	groupP256   = 0x0017
	groupX25519 = 0x001D
)

// groupsTLS12 are the curves offered up to TLS 1.2: every registered curve,
// so that a server with only an unusual one still picks its ECDHE suites.
// No finite-field group is listed: RFC 7919 forbids a server that knows
// none of the listed ones to pick a DHE suite, which would hide them.
var groupsTLS12 = []uint16{
	groupX25519, groupP256, 0x001E, 0x0018, 0x0019, 0x001A, 0x001B, 0x001C,
	0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x0008, 0x0009, 0x000A,
	0x000B, 0x000C, 0x000D, 0x000E, 0x000F, 0x0010, 0x0011, 0x0012, 0x0013, 0x0014,
	0x0015, 0x0016,
}

// groupsTLS13 are the groups a TLS 1.3 server may ask for: when it wants one
// without a key share here, it sends a HelloRetryRequest, which names its
// suite as well as a ServerHello does.
var groupsTLS13 = []uint16{
	groupX25519, groupP256, 0x001E, 0x0018, 0x0019, 0x11EC, 0x001F, 0x0020, 0x0021,
	0x0100, 0x0101, 0x0102, 0x0103, 0x0104,
}

// sigAlgs are every signature scheme, SHA-1 and DSA included, so that no
// server refuses for want of one it can sign with.
var sigAlgs = []uint16{
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x081A, 0x081B, 0x081C,
	0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B,
	0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302,
	0x0203, 0x0201, 0x0202, 0x0402, 0x0502, 0x0602,
}

// helloSpec is one ClientHello.
type helloSpec struct {
	version    Version
	suites     []uint16 // SSL 3.0 to TLS 1.3
	serverName string   // SNI; empty sends none
	random     [32]byte
	sessionID  []byte // TLS 1.3 only: 32 bytes, for middlebox compatibility
	// keyShares are the TLS 1.3 key shares: X25519 then P-256 public keys.
	x25519, p256 []byte
}

// builder appends big-endian fields and length-prefixed blocks.
type builder struct{ b []byte }

func (w *builder) u8(v byte)      { w.b = append(w.b, v) }
func (w *builder) u16(v uint16)   { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *builder) bytes(p []byte) { w.b = append(w.b, p...) }

// block writes a length-prefixed block of n length bytes (1, 2 or 3)
// around what fill appends.
func (w *builder) block(n int, fill func()) {
	start := len(w.b)
	w.b = append(w.b, make([]byte, n)...)
	fill()
	l := len(w.b) - start - n
	for i := n - 1; i >= 0; i-- {
		w.b[start+i] = byte(l)
		l >>= 8
	}
}

func (w *builder) u16s(vs []uint16) {
	w.block(2, func() {
		for _, v := range vs {
			w.u16(v)
		}
	})
}

func (w *builder) ext(typ uint16, fill func()) {
	w.u16(typ)
	w.block(2, fill)
}

var errTooLarge = errors.New("ClientHello too large")

// marshal returns the ClientHello in one TLS record. SSL 2.0 hellos are
// written by marshalSSLv2.
func (h *helloSpec) marshal() ([]byte, error) {
	var body builder
	legacy := h.version
	if legacy > TLS12 {
		legacy = TLS12
	}
	body.u16(uint16(legacy))
	body.bytes(h.random[:])
	body.block(1, func() { body.bytes(h.sessionID) })
	body.block(2, func() {
		for _, s := range h.suites {
			body.u16(s)
		}
		if h.version < TLS13 {
			body.u16(suiteRenegotiationSCSV)
		}
	})
	body.block(1, func() { body.u8(0) }) // null compression only
	if h.version >= TLS10 {
		body.block(2, func() { h.extensions(&body) })
	}

	var rec builder
	rec.u8(recordHandshake)
	if h.version == SSL30 {
		rec.u16(uint16(SSL30))
	} else {
		rec.u16(uint16(TLS10)) // what clients send in the first record, for old servers' sake
	}
	var err error
	rec.block(2, func() {
		rec.u8(msgClientHello)
		rec.block(3, func() { rec.bytes(body.b) })
		if len(rec.b) > 5+1<<14 {
			err = errTooLarge
		}
	})
	return rec.b, err
}

func (h *helloSpec) extensions(w *builder) {
	if h.serverName != "" {
		w.ext(extServerName, func() {
			w.block(2, func() {
				w.u8(0) // host_name
				w.block(2, func() { w.bytes([]byte(h.serverName)) })
			})
		})
	}
	if h.version == TLS13 {
		w.ext(extSupportedVersions, func() {
			w.block(1, func() { w.u16(uint16(TLS13)) })
		})
		w.ext(extSupportedGroups, func() { w.u16s(groupsTLS13) })
		w.ext(extKeyShare, func() {
			w.block(2, func() {
				w.u16(groupX25519)
				w.block(2, func() { w.bytes(h.x25519) })
				w.u16(groupP256)
				w.block(2, func() { w.bytes(h.p256) })
			})
		})
		w.ext(extPSKModes, func() { w.block(1, func() { w.u8(1) }) }) // psk_dhe_ke
	} else {
		w.ext(extSupportedGroups, func() { w.u16s(groupsTLS12) })
		w.ext(extECPointFormats, func() {
			w.block(1, func() { w.bytes([]byte{0, 1, 2}) })
		})
		w.ext(extExtendedMasterSec, func() {})
	}
	if h.version >= TLS12 {
		// Only TLS 1.2 and later define it; older servers may choke on it.
		w.ext(extSignatureAlgorithms, func() { w.u16s(sigAlgs) })
	}
}

// marshalSSLv2 returns an SSL 2.0 CLIENT-HELLO offering every cipher kind,
// with a two-byte record header.
func marshalSSLv2(challenge [16]byte) []byte {
	var w builder
	w.u8(1) // MSG-CLIENT-HELLO
	w.u16(uint16(SSL20))
	w.u16(uint16(3 * len(sslv2Kinds)))
	w.u16(0) // session ID length
	w.u16(uint16(len(challenge)))
	for _, k := range sslv2Kinds {
		w.bytes([]byte{byte(k.ID >> 16), byte(k.ID >> 8), byte(k.ID)})
	}
	w.bytes(challenge[:])
	n := len(w.b)
	return append([]byte{0x80 | byte(n>>8), byte(n)}, w.b...)
}
