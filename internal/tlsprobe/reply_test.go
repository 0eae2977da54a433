package tlsprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// record wraps payload in a TLS record of type typ.
func record(typ byte, payload []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// handshake wraps body in a handshake message of type typ.
func handshake(typ byte, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// serverHello builds a ServerHello body; exts are whole extensions.
func serverHello(version uint16, random []byte, suite uint16, exts ...[]byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, version)
	if random == nil {
		random = bytes.Repeat([]byte{7}, 32)
	}
	b = append(b, random...)
	b = append(b, 32)
	b = append(b, bytes.Repeat([]byte{1}, 32)...)
	b = binary.BigEndian.AppendUint16(b, suite)
	b = append(b, 0)
	if exts != nil {
		all := bytes.Join(exts, nil)
		b = binary.BigEndian.AppendUint16(b, uint16(len(all)))
		b = append(b, all...)
	}
	return b
}

func ext(typ uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func certMsg(certs ...[]byte) []byte {
	var list []byte
	for _, c := range certs {
		list = append(list, byte(len(c)>>16), byte(len(c)>>8), byte(len(c)))
		list = append(list, c...)
	}
	return append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
}

func TestReadReply(t *testing.T) {
	sh12 := handshake(msgServerHello, serverHello(0x0303, nil, 0xC02F, ext(0xFF01, []byte{0})))
	sh13 := handshake(msgServerHello, serverHello(0x0303, nil, 0x1302, ext(extSupportedVersions, []byte{3, 4}), ext(extKeyShare, make([]byte, 36))))
	hrr := handshake(msgServerHello, serverHello(0x0303, helloRetryRandom, 0x1301, ext(extSupportedVersions, []byte{3, 4}), ext(extKeyShare, []byte{0, 0x17})))
	cert := handshake(msgCertificate, certMsg([]byte("leaf"), []byte("intermediate")))
	ske := handshake(12, []byte("server key exchange"))
	ssl2 := func(body []byte) []byte { return append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...) }
	ssl2Hello := ssl2(append([]byte{4, 0, 1, 0, 2, 0, 4, 0, 6, 0, 0, 'c', 'e', 'r', 't'}, 0x01, 0x00, 0x80, 0x07, 0x00, 0xC0))

	tests := []struct {
		name      string
		in        []byte
		wantCerts bool
		want      serverReply
		wantErr   string
	}{
		{name: "TLS 1.2 hello", in: record(22, sh12), want: serverReply{kind: replyHello, version: TLS12, suite: 0xC02F}},
		{name: "SSL 3.0 hello without extensions", in: record(22, handshake(msgServerHello, serverHello(0x0300, nil, 0x000A))), want: serverReply{kind: replyHello, version: SSL30, suite: 0x000A}},
		{name: "TLS 1.3 hello", in: record(22, sh13), want: serverReply{kind: replyHello, version: TLS13, suite: 0x1302}},
		{name: "HelloRetryRequest", in: record(22, hrr), want: serverReply{kind: replyRetry, version: TLS13, suite: 0x1301}},
		{name: "TLS 1.3 hello does not wait for certificates", in: record(22, sh13), wantCerts: true, want: serverReply{kind: replyHello, version: TLS13, suite: 0x1302}},
		{name: "alert", in: record(21, []byte{2, 40}), want: serverReply{kind: replyAlert, alert: 40}},
		{name: "alert in two records", in: append(record(21, []byte{2}), record(21, []byte{70})...), want: serverReply{kind: replyAlert, alert: 70}},
		{name: "closed at once", in: nil, want: serverReply{kind: replyClosed}},
		{name: "closed after a record header", in: []byte{22, 3, 3}, want: serverReply{kind: replyClosed}},
		{name: "certificates after the key exchange", in: record(22, append(append(append([]byte{}, sh12...), cert...), ske...)), wantCerts: true,
			want: serverReply{kind: replyHello, version: TLS12, suite: 0xC02F, certs: [][]byte{[]byte("leaf"), []byte("intermediate")}}},
		{name: "hello split across records", in: append(record(22, sh12[:10]), record(22, sh12[10:])...), want: serverReply{kind: replyHello, version: TLS12, suite: 0xC02F}},
		{name: "certificate split across records", in: append(append(record(22, sh12), record(22, cert[:7])...), record(22, cert[7:])...), wantCerts: true,
			want: serverReply{kind: replyHello, version: TLS12, suite: 0xC02F, certs: [][]byte{[]byte("leaf"), []byte("intermediate")}}},
		{name: "middlebox change cipher spec", in: append(record(20, []byte{1}), record(22, sh13)...), want: serverReply{kind: replyHello, version: TLS13, suite: 0x1302}},
		{name: "SSL 2.0 server hello", in: ssl2Hello, want: serverReply{kind: replySSL2Hello, version: SSL20, ssl2Kinds: []uint32{0x010080, 0x0700C0}, certs: [][]byte{[]byte("cert")}}},
		{name: "SSL 2.0 error", in: ssl2([]byte{0, 0, 1}), want: serverReply{kind: replySSL2Error, alert: 1}},

		{name: "HTTP", in: []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), wantErr: "not TLS"},
		{name: "SSH banner", in: []byte("SSH-2.0-OpenSSH_9.2\r\n"), wantErr: "not TLS"},
		{name: "record too long", in: []byte{22, 3, 3, 0xFF, 0xFF}, wantErr: "record of 65535 bytes"},
		{name: "empty record", in: []byte{22, 3, 3, 0, 0}, wantErr: "record of 0 bytes"},
		{name: "record version 2", in: []byte{22, 2, 0, 0, 1, 0}, wantErr: "record version"},
		{name: "record cut short", in: []byte{22, 3, 3, 0, 10, 2}, wantErr: "cut short"},
		{name: "message before the hello", in: record(22, cert), wantErr: "before the ServerHello"},
		{name: "hello too long", in: record(22, []byte{2, 1, 0, 1}), wantErr: "of 65537 bytes"},
		{name: "hello too short", in: record(22, handshake(2, []byte{3, 3})), wantErr: "ServerHello of 2 bytes"},
		{name: "session ID too long", in: record(22, handshake(2, append(append([]byte{3, 3}, make([]byte, 32)...), 33))), wantErr: "session ID of 33"},
		{name: "extensions length wrong", in: record(22, handshake(2, append(serverHello(0x0303, nil, 0xC02F), 0, 9, 0))), wantErr: "extensions length"},
		{name: "extension repeated", in: record(22, handshake(2, serverHello(0x0303, nil, 0x1301, ext(43, []byte{3, 4}), ext(43, []byte{3, 4})))), wantErr: "repeated"},
		{name: "supported_versions too long", in: record(22, handshake(2, serverHello(0x0303, nil, 0x1301, ext(43, []byte{3, 4, 0})))), wantErr: "supported_versions of 3"},
		{name: "retry without supported_versions", in: record(22, handshake(2, serverHello(0x0303, helloRetryRandom, 0x1301, ext(51, []byte{0, 0x17})))), wantErr: "without supported_versions"},
		{name: "alert of three bytes", in: record(21, []byte{2, 40, 0}), wantErr: "alert record of 3 bytes"},
		{name: "application data first", in: record(23, []byte{1, 2, 3}), wantErr: "record type 23"},
		{name: "alert inside a message", in: append(record(22, sh12[:10]), record(21, []byte{2, 40})...), wantErr: "alert inside"},
		{name: "closed inside a message", in: record(22, sh12[:10]), wantErr: "closed inside"},
		{name: "SSL 2.0 lengths", in: ssl2([]byte{4, 0, 1, 0, 2, 0, 9, 0, 0, 0, 0}), wantErr: "do not add up"},
		{name: "SSL 2.0 odd cipher specs", in: ssl2([]byte{4, 0, 1, 0, 2, 0, 0, 0, 2, 0, 0, 1, 2}), wantErr: "do not add up"},
		{name: "SSL 2.0 other message", in: ssl2([]byte{7, 1}), wantErr: "message type 7"},
		{name: "SSL 2.0 empty", in: []byte{0x80, 0}, wantErr: "SSL 2.0 record of 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readReply(bytes.NewReader(tt.in), tt.wantCerts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q (reply %+v)", err, tt.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.certErr != nil && tt.want.certs != nil {
				t.Fatalf("certErr: %v", got.certErr)
			}
			got.certErr = nil
			if !equalReply(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalReply(a, b serverReply) bool {
	return a.kind == b.kind && a.version == b.version && a.suite == b.suite && a.alert == b.alert &&
		slices.EqualFunc(a.certs, b.certs, bytes.Equal) && slices.Equal(a.ssl2Kinds, b.ssl2Kinds)
}

// TestReadReplyCertErrors checks that what goes wrong after the ServerHello
// keeps the hello (the version and suite are known) and says why there are
// no certificates.
func TestReadReplyCertErrors(t *testing.T) {
	sh12 := handshake(msgServerHello, serverHello(0x0303, nil, 0x0034))
	tests := []struct {
		name, in, want string
	}{
		{"anonymous suite", string(record(22, append(append([]byte{}, sh12...), handshake(msgServerHelloDone, nil)...))), "no certificate"},
		{"closed", string(record(22, sh12)), "closed before the Certificate"},
		{"alert", string(append(record(22, sh12), record(21, []byte{2, 80})...)), "internal_error after the ServerHello"},
		{"empty list", string(record(22, append(append([]byte{}, sh12...), handshake(msgCertificate, []byte{0, 0, 0})...))), "empty certificate list"},
		{"list length", string(record(22, append(append([]byte{}, sh12...), handshake(msgCertificate, []byte{0, 0, 9, 0, 0, 1, 1})...))), "list length 9"},
		{"certificate length", string(record(22, append(append([]byte{}, sh12...), handshake(msgCertificate, []byte{0, 0, 4, 0, 0, 9, 1})...))), "certificate of 9 bytes"},
		{"zero-length certificate", string(record(22, append(append([]byte{}, sh12...), handshake(msgCertificate, []byte{0, 0, 3, 0, 0, 0})...))), "certificate of 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readReply(strings.NewReader(tt.in), true)
			if err != nil {
				t.Fatal(err)
			}
			if got.kind != replyHello || got.suite != 0x0034 {
				t.Fatalf("hello lost: %+v", got)
			}
			if got.certErr == nil || !strings.Contains(got.certErr.Error(), tt.want) {
				t.Fatalf("certErr = %v, want %q", got.certErr, tt.want)
			}
		})
	}
}

// TestReadReplyBounded makes sure a server that sends without end is read
// only up to maxReplyBytes.
func TestReadReplyBounded(t *testing.T) {
	sh := handshake(msgServerHello, serverHello(0x0303, nil, 0xC02F))
	// A Certificate message announced at the limit and never finished:
	// records of padding forever.
	l := maxCertMsgLen
	in := record(22, append(sh, msgCertificate, byte(l>>16), byte(l>>8), byte(l)))
	r := &countingReader{r: bytes.NewReader(in), tail: record(22, make([]byte, maxRecordLen))}
	got, err := readReply(r, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.certErr == nil {
		t.Fatal("no error for an endless Certificate message")
	}
	if r.n > maxReplyBytes {
		t.Fatalf("read %d bytes, limit %d", r.n, maxReplyBytes)
	}
}

// countingReader reads r, then tail over and over, counting bytes.
type countingReader struct {
	r    *bytes.Reader
	tail []byte
	off  int
	n    int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil {
		n = copy(p, c.tail[c.off:])
		c.off = (c.off + n) % len(c.tail)
	}
	c.n += n
	return n, nil
}

func TestIsClosed(t *testing.T) {
	if isClosed(errors.New("i/o timeout")) {
		t.Fatal("a timeout is not a close")
	}
}
