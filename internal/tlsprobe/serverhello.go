package tlsprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// replyKind is what a server answered to a ClientHello.
type replyKind int

const (
	replyHello     replyKind = iota + 1 // a ServerHello
	replyRetry                          // a TLS 1.3 HelloRetryRequest
	replyAlert                          // a TLS alert
	replySSL2Hello                      // an SSL 2.0 SERVER-HELLO
	replySSL2Error                      // an SSL 2.0 ERROR message
	replyClosed                         // the connection ended with no answer
)

// serverReply is the part of a server's first flight the probes need.
type serverReply struct {
	kind replyKind
	// version is the version the server chose: supported_versions when
	// present, else the ServerHello's legacy version; 0x0002 for SSL 2.0.
	version Version
	suite   uint16
	// alert is the alert's description (replyAlert), or the SSL 2.0
	// error code (replySSL2Error).
	alert uint16
	// ssl2Kinds are the cipher kinds an SSL 2.0 server accepts.
	ssl2Kinds []uint32
	// certs is the chain of the Certificate message that follows a TLS
	// 1.2 or older ServerHello, when it was asked for.
	certs [][]byte
	// certErr says why certs is empty when it was asked for.
	certErr error
}

// Limits on what is read from a server, so that a hostile one cannot make
// a probe buffer without end.
const (
	maxRecordLen   = 1<<14 + 2048 // TLSCiphertext may exceed TLSPlaintext's 2^14 by 2048
	maxHelloLen    = 1 << 16      // a ServerHello is a few hundred bytes
	maxCertMsgLen  = 1 << 18      // the largest real chains are a few tens of KiB
	maxCerts       = 32
	maxReplyBytes  = maxCertMsgLen + 1<<16 // everything read from one connection
	maxSSL2Payload = 1<<15 - 1
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest
// (RFC 8446 section 4.1.3): SHA-256 of "HelloRetryRequest".
var helloRetryRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// ErrNotTLS is wrapped by the error of a probe whose answer is bytes that
// are no TLS or SSL record: another protocol listens on the port.
var ErrNotTLS = errors.New("the answer is not TLS")

// ErrMalformed is wrapped by the error of a probe whose answer starts as
// TLS but breaks its framing.
var ErrMalformed = errors.New("malformed TLS reply")

// malformed reports a reply that breaks the TLS framing.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// isClosed reports whether err means the peer ended the connection.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// readReply reads a server's answer to one ClientHello from r: up to the
// ServerHello (and, when wantCerts is set and the version is TLS 1.2 or
// older, the Certificate message after it), an alert, or an SSL 2.0
// message. It reads at most maxReplyBytes. A connection closed before any
// answer is replyClosed with a nil error; a read that fails otherwise
// (a timeout) is an error.
func readReply(r io.Reader, wantCerts bool) (serverReply, error) {
	br := &byteReader{r: io.LimitReader(r, maxReplyBytes)}
	first, err := br.peek()
	if err != nil {
		if isClosed(err) {
			return serverReply{kind: replyClosed}, nil
		}
		return serverReply{}, err
	}
	if first&0x80 != 0 {
		return readSSL2(br)
	}
	if first < recordChangeCipherSpec || first > 23 {
		return serverReply{}, ErrNotTLS
	}
	return readTLS(br, wantCerts)
}

// byteReader reads exact amounts, remembering one peeked byte.
type byteReader struct {
	r      io.Reader
	peeked []byte
}

func (b *byteReader) peek() (byte, error) {
	if len(b.peeked) == 0 {
		var p [1]byte
		if _, err := io.ReadFull(b.r, p[:]); err != nil {
			return 0, err
		}
		b.peeked = p[:]
	}
	return b.peeked[0], nil
}

func (b *byteReader) full(n int) ([]byte, error) {
	out := make([]byte, n)
	k := copy(out, b.peeked)
	b.peeked = b.peeked[k:]
	if _, err := io.ReadFull(b.r, out[k:]); err != nil {
		return nil, err
	}
	return out, nil
}

// readSSL2 reads an SSL 2.0 message with a two-byte header.
func readSSL2(br *byteReader) (serverReply, error) {
	hdr, err := br.full(2)
	if err != nil {
		if isClosed(err) {
			return serverReply{kind: replyClosed}, nil
		}
		return serverReply{}, err
	}
	n := int(hdr[0]&0x7F)<<8 | int(hdr[1])
	if n < 1 || n > maxSSL2Payload {
		return serverReply{}, malformed("SSL 2.0 record of %d bytes", n)
	}
	msg, err := br.full(n)
	if err != nil {
		if isClosed(err) {
			return serverReply{}, malformed("SSL 2.0 record cut short")
		}
		return serverReply{}, err
	}
	switch msg[0] {
	case 0: // MSG-ERROR
		if len(msg) != 3 {
			return serverReply{}, malformed("SSL 2.0 error of %d bytes", len(msg))
		}
		return serverReply{kind: replySSL2Error, alert: binary.BigEndian.Uint16(msg[1:])}, nil
	case 4: // MSG-SERVER-HELLO
	default:
		return serverReply{}, malformed("SSL 2.0 message type %d where a SERVER-HELLO belongs", msg[0])
	}
	if len(msg) < 11 {
		return serverReply{}, malformed("SSL 2.0 SERVER-HELLO of %d bytes", len(msg))
	}
	ver := binary.BigEndian.Uint16(msg[3:])
	certLen := int(binary.BigEndian.Uint16(msg[5:]))
	specLen := int(binary.BigEndian.Uint16(msg[7:]))
	idLen := int(binary.BigEndian.Uint16(msg[9:]))
	if 11+certLen+specLen+idLen != len(msg) || specLen%3 != 0 {
		return serverReply{}, malformed("SSL 2.0 SERVER-HELLO lengths do not add up")
	}
	specs := msg[11+certLen : 11+certLen+specLen]
	rep := serverReply{kind: replySSL2Hello, version: Version(ver)}
	for i := 0; i < len(specs); i += 3 {
		rep.ssl2Kinds = append(rep.ssl2Kinds, uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2]))
	}
	if certLen > 0 {
		rep.certs = [][]byte{bytes.Clone(msg[11 : 11+certLen])}
	}
	return rep, nil
}

// readTLS reads TLS records until it has what readReply promises.
func readTLS(br *byteReader, wantCerts bool) (serverReply, error) {
	var (
		hs    []byte // handshake bytes not yet parsed
		rep   serverReply
		hello bool // the ServerHello has been read
		alert []byte
	)
	done := func(err error) (serverReply, error) {
		if !hello {
			return serverReply{}, err
		}
		rep.certErr = err
		return rep, nil
	}
	for {
		hdr, err := br.full(5)
		if err != nil {
			if isClosed(err) {
				if hello {
					return done(errors.New("connection closed before the Certificate message"))
				}
				if len(hs) == 0 && len(alert) == 0 {
					return serverReply{kind: replyClosed}, nil
				}
				return serverReply{}, malformed("connection closed inside a message")
			}
			return done(err)
		}
		typ, major, n := hdr[0], hdr[1], int(binary.BigEndian.Uint16(hdr[3:]))
		if major != 3 {
			return done(malformed("record version %d.%d", hdr[1], hdr[2]))
		}
		if n == 0 || n > maxRecordLen {
			return done(malformed("record of %d bytes", n))
		}
		payload, err := br.full(n)
		if err != nil {
			if isClosed(err) {
				return done(malformed("record cut short"))
			}
			return done(err)
		}
		switch typ {
		case recordAlert:
			if hello {
				return done(fmt.Errorf("alert %s after the ServerHello", AlertName(payload[len(payload)-1])))
			}
			if len(hs) > 0 {
				return serverReply{}, malformed("alert inside a handshake message")
			}
			alert = append(alert, payload...)
			if len(alert) >= 2 {
				if len(alert) != 2 {
					return serverReply{}, malformed("alert record of %d bytes", len(alert))
				}
				return serverReply{kind: replyAlert, alert: uint16(alert[1])}, nil
			}
			continue
		case recordHandshake:
			if len(alert) > 0 {
				return serverReply{}, malformed("handshake record inside an alert")
			}
			hs = append(hs, payload...)
		case recordChangeCipherSpec:
			continue // TLS 1.3 middlebox compatibility; never before a ServerHello that matters
		default:
			return done(malformed("record type %d before the handshake ended", typ))
		}
		for len(hs) >= 4 {
			mt := hs[0]
			ml := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			limit := maxHelloLen
			if hello {
				limit = maxCertMsgLen
			}
			if ml > limit {
				return done(malformed("handshake message type %d of %d bytes", mt, ml))
			}
			if len(hs) < 4+ml {
				break
			}
			body := hs[4 : 4+ml]
			hs = hs[4+ml:]
			switch {
			case !hello && mt == msgServerHello:
				if err := parseServerHello(body, &rep); err != nil {
					return serverReply{}, err
				}
				hello = true
				if !wantCerts || rep.kind == replyRetry || rep.version >= TLS13 {
					return rep, nil
				}
			case !hello:
				return serverReply{}, malformed("handshake message type %d before the ServerHello", mt)
			case mt == msgCertificate:
				certs, err := parseCertificates(body)
				if err != nil {
					return done(err)
				}
				rep.certs = certs
				return rep, nil
			case mt == msgServerHelloDone:
				return done(errors.New("the server sent no certificate"))
			}
			// ServerKeyExchange, CertificateStatus, CertificateRequest
			// may come between; the probe needs none of them.
		}
	}
}

// parseServerHello parses a ServerHello body into rep.
func parseServerHello(b []byte, rep *serverReply) error {
	if len(b) < 2+32+1 {
		return malformed("ServerHello of %d bytes", len(b))
	}
	legacy := binary.BigEndian.Uint16(b)
	random := b[2:34]
	sidLen := int(b[34])
	if sidLen > 32 {
		return malformed("session ID of %d bytes", sidLen)
	}
	b = b[35:]
	if len(b) < sidLen+3 {
		return malformed("ServerHello cut short")
	}
	b = b[sidLen:]
	rep.suite = binary.BigEndian.Uint16(b)
	// b[2] is the compression method: probes offer only null, and a
	// server that picks another is judged by its suite all the same.
	b = b[3:]
	rep.kind = replyHello
	if bytes.Equal(random, helloRetryRandom) {
		rep.kind = replyRetry
	}
	rep.version = Version(legacy)
	if len(b) == 0 {
		return nil // no extensions (SSL 3.0, and servers that have none to send)
	}
	if len(b) < 2 || int(binary.BigEndian.Uint16(b)) != len(b)-2 {
		return malformed("ServerHello extensions length")
	}
	b = b[2:]
	seen := map[uint16]bool{}
	for len(b) > 0 {
		if len(b) < 4 {
			return malformed("extension header cut short")
		}
		typ, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+n {
			return malformed("extension %d cut short", typ)
		}
		if seen[typ] {
			return malformed("extension %d repeated", typ)
		}
		seen[typ] = true
		data := b[4 : 4+n]
		b = b[4+n:]
		if typ == extSupportedVersions {
			if n != 2 {
				return malformed("supported_versions of %d bytes", n)
			}
			rep.version = Version(binary.BigEndian.Uint16(data))
		}
	}
	if rep.kind == replyRetry && !seen[extSupportedVersions] {
		return malformed("HelloRetryRequest without supported_versions")
	}
	return nil
}

// parseCertificates parses a TLS 1.2-and-older Certificate message body.
func parseCertificates(b []byte) ([][]byte, error) {
	if len(b) < 3 {
		return nil, malformed("Certificate message of %d bytes", len(b))
	}
	total := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	b = b[3:]
	if total != len(b) {
		return nil, malformed("Certificate list length %d in %d bytes", total, len(b))
	}
	var out [][]byte
	for len(b) > 0 {
		if len(out) == maxCerts {
			return nil, malformed("more than %d certificates", maxCerts)
		}
		if len(b) < 3 {
			return nil, malformed("certificate length cut short")
		}
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if n == 0 || len(b) < 3+n {
			return nil, malformed("certificate of %d bytes in %d", n, len(b)-3)
		}
		out = append(out, bytes.Clone(b[3:3+n]))
		b = b[3+n:]
	}
	if len(out) == 0 {
		return nil, errors.New("the server sent an empty certificate list")
	}
	return out, nil
}
