package tlsprobe

import (
	"bytes"
	"testing"
)

// FuzzReadReply feeds arbitrary server answers to the reply reader: it
// must never panic, never read past its limit, and return only replies
// whose parts agree with their kind.
func FuzzReadReply(f *testing.F) {
	sh12 := handshake(msgServerHello, serverHello(0x0303, nil, 0xC02F, ext(0xFF01, []byte{0})))
	sh13 := handshake(msgServerHello, serverHello(0x0303, nil, 0x1302, ext(extSupportedVersions, []byte{3, 4})))
	cert := handshake(msgCertificate, certMsg([]byte("leaf"), []byte("intermediate")))
	for _, seed := range [][]byte{
		record(22, sh12),
		record(22, sh13),
		record(22, append(append([]byte{}, sh12...), cert...)),
		append(record(22, sh12[:9]), record(22, sh12[9:])...),
		record(21, []byte{2, 40}),
		{0x80, 0x0F, 4, 0, 1, 0, 2, 0, 1, 0, 3, 0, 0, 'c', 1, 0, 0x80},
		[]byte("HTTP/1.1 200 OK\r\n\r\n"),
		{},
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, wantCerts bool) {
		r := bytes.NewReader(data)
		rep, err := readReply(r, wantCerts)
		if read := len(data) - r.Len(); read > maxReplyBytes {
			t.Fatalf("read %d bytes", read)
		}
		if err != nil {
			if rep.kind != 0 {
				t.Fatalf("error %v with a reply %+v", err, rep)
			}
			return
		}
		switch rep.kind {
		case replyHello, replyRetry:
			if rep.ssl2Kinds != nil {
				t.Fatal("SSL 2.0 kinds in a TLS hello")
			}
			if len(rep.certs) > 0 && (!wantCerts || rep.version >= TLS13 || rep.kind == replyRetry) {
				t.Fatalf("certificates read unasked: %+v", rep)
			}
		case replyAlert, replyClosed, replySSL2Error:
			if rep.suite != 0 || rep.certs != nil || rep.ssl2Kinds != nil {
				t.Fatalf("refusal with hello parts: %+v", rep)
			}
		case replySSL2Hello:
			if rep.suite != 0 {
				t.Fatal("TLS suite in an SSL 2.0 hello")
			}
		default:
			t.Fatalf("no kind: %+v", rep)
		}
		if len(rep.certs) > maxCerts {
			t.Fatalf("%d certificates", len(rep.certs))
		}
		for _, c := range rep.certs {
			if len(c) == 0 {
				t.Fatal("empty certificate")
			}
		}
	})
}
