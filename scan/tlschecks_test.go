package scan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/internal/testpki"
	"github.com/httpsguard/httpsguard/internal/tlsprobe"
)

// The TLS checks decided on facts built by hand: the cases no loopback
// peer can show (SSL 3.0, a probe that got no answer, an MD5 signature),
// and the words of each verdict. TestTLSPeerVerdicts scans real servers.

func suiteOf(id uint16) tlsprobe.Suite {
	s, _ := tlsprobe.Lookup(uint32(id))
	return s
}

func offeredV(v uint16, ids ...uint16) versionFacts {
	vf := versionFacts{version: v, offered: true}
	for _, id := range ids {
		vf.suites = append(vf.suites, suiteOf(id))
	}
	return vf
}

func refusedV(v uint16) versionFacts {
	return versionFacts{version: v, refused: "alert protocol_version"}
}

func unknownV(v uint16) versionFacts {
	return versionFacts{version: v, unknown: &Error{Kind: KindTimeout, Detail: "handshake", Message: "127.0.0.1:443: no completed TLS handshake within 5s"}}
}

const (
	ecdheGCM  = tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	ecdheCBC  = tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
	rsaGCM    = tls.TLS_RSA_WITH_AES_128_GCM_SHA256
	aes128    = tls.TLS_AES_128_GCM_SHA256
	dheGCM    = 0x009E // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
	rsa3DES   = tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA
	ssl3RC4   = 0x0005 // TLS_RSA_WITH_RC4_128_SHA
	ccm8Suite = 0xC0A0 // TLS_RSA_WITH_AES_128_CCM_8 (no forward secrecy either)
)

// modern is a server with TLS 1.2 (ECDHE-GCM) and TLS 1.3 only.
func modern() []versionFacts {
	return []versionFacts{refusedV(0x0002), refusedV(0x0300), refusedV(tls.VersionTLS10), refusedV(tls.VersionTLS11),
		offeredV(tls.VersionTLS12, ecdheGCM), offeredV(tls.VersionTLS13, aes128)}
}

// with returns table with the facts of vf's version replaced by vf.
func with(table []versionFacts, vfs ...versionFacts) []versionFacts {
	out := append([]versionFacts(nil), table...)
	for _, vf := range vfs {
		for i := range out {
			if out[i].version == vf.version {
				out[i] = vf
			}
		}
	}
	return out
}

func obsWith(table []versionFacts) *observations {
	return &observations{t: target{host: "a.test", httpsPort: 443, path: "/"}, now: time.Now(), tls: &tlsProbe{table: table}}
}

// runCheck decides the check id on o as a scan does.
func runCheck(t *testing.T, id string, o *observations) Check {
	t.Helper()
	spec := specByID(id)
	if spec.ID == "" {
		t.Fatalf("no check %s", id)
	}
	return spec.run(o)
}

func TestVersionAndSuiteChecks(t *testing.T) {
	cut := offeredV(tls.VersionTLS12, ecdheGCM)
	cut.suitesErr = &Error{Kind: KindRequestLimit, Detail: "tls_probes", Message: "the cipher suite probes stopped at their limit"}
	tests := []struct {
		name   string
		id     string
		table  []versionFacts
		status Status
		result string
		kind   ErrorKind // of the error, for StatusError
		words  string
	}{
		{"modern refuses the old", "HGS-TLS-004", modern(), StatusPass, "tls-obsolete-versions-refused", "", "refuses SSL 2.0, SSL 3.0, TLS 1.0 and TLS 1.1"},
		{"ssl 3.0", "HGS-TLS-004", with(modern(), offeredV(0x0300, ssl3RC4), offeredV(tls.VersionTLS10, ecdheCBC)), StatusFail, "ssl-versions-accepted", "", "accepts SSL 3.0 and TLS 1.0"},
		{"tls 1.1", "HGS-TLS-004", with(modern(), offeredV(tls.VersionTLS11, ecdheCBC)), StatusFail, "tls-obsolete-versions-accepted", "", "obsolete TLS 1.1"},
		{"ssl 2.0 unanswered", "HGS-TLS-004", with(modern(), unknownV(0x0002)), StatusError, "", KindTimeout, "SSL 2.0 could not be told"},
		{"unanswered, but tls 1.0 decides", "HGS-TLS-004", with(modern(), unknownV(0x0002), offeredV(tls.VersionTLS10, ecdheCBC)), StatusFail, "tls-obsolete-versions-accepted", "", "TLS 1.0"},
		{"nothing accepted", "HGS-TLS-004", []versionFacts{refusedV(tls.VersionTLS12)}, StatusError, "", KindInternal, "accepted no protocol version"},
		{"tls 1.3", "HGS-TLS-005", modern(), StatusPass, "tls13-supported", "", ""},
		{"no tls 1.3", "HGS-TLS-005", with(modern(), refusedV(tls.VersionTLS13)), StatusWarn, "tls13-not-supported", "", "protocol_version"},
		{"tls 1.3 unanswered", "HGS-TLS-005", with(modern(), unknownV(tls.VersionTLS13)), StatusError, "", KindTimeout, ""},
		{"strong suites", "HGS-TLS-006", modern(), StatusPass, "tls-ciphers-strong", "", "(2)"},
		{"cbc on tls 1.0 only", "HGS-TLS-006", with(modern(), offeredV(tls.VersionTLS10, ecdheCBC)), StatusWarn, "tls-ciphers-cbc", "", "TLS 1.0: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (CBC)"},
		{"static rsa", "HGS-TLS-006", with(modern(), offeredV(tls.VersionTLS12, ecdheGCM, rsaGCM, ecdheCBC)), StatusFail, "tls-ciphers-insecure", "", "1 of them without forward secrecy"},
		{"3des and ccm8", "HGS-TLS-006", with(modern(), offeredV(tls.VersionTLS12, rsa3DES, ccm8Suite)), StatusFail, "tls-ciphers-insecure", "", "TLS_RSA_WITH_3DES_EDE_CBC_SHA (64-bit block: Sweet32)"},
		{"ssl 3.0 rc4", "HGS-TLS-006", with(modern(), offeredV(0x0300, ssl3RC4)), StatusFail, "tls-ciphers-insecure", "", "SSL 3.0: TLS_RSA_WITH_RC4_128_SHA (RC4)"},
		{"list cut short", "HGS-TLS-006", with(modern(), cut), StatusError, "", KindRequestLimit, "could not all be listed"},
		{"list cut short, insecure found", "HGS-TLS-006", with(modern(), cut, offeredV(tls.VersionTLS10, rsaGCM)), StatusFail, "tls-ciphers-insecure", "", ""},
		{"version unanswered", "HGS-TLS-006", with(modern(), unknownV(0x0300)), StatusError, "", KindTimeout, ""},
		{"dhe is strong", "HGS-TLS-006", with(modern(), offeredV(tls.VersionTLS12, dheGCM)), StatusPass, "tls-ciphers-strong", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := runCheck(t, tt.id, obsWith(tt.table))
			if c.Status != tt.status || c.Result != tt.result {
				t.Fatalf("%s: %s %q, want %s %q: %s %v %+v", tt.id, c.Status, c.Result, tt.status, tt.result, c.Message, c.Evidence, c.Error)
			}
			if tt.status == StatusError && (c.Error == nil || c.Error.Kind != tt.kind) {
				t.Errorf("error %+v, want kind %s", c.Error, tt.kind)
			}
			if all := c.Message + "\n" + strings.Join(c.Evidence, "\n"); !strings.Contains(all, tt.words) {
				t.Errorf("%q not in\n%s", tt.words, all)
			}
		})
	}
}

func TestChainChecks(t *testing.T) {
	root := testpki.NewRoot(t, "Checks Root")
	inter := root.NewIntermediate(t, "Checks Intermediate")
	leaf := inter.Issue(t, testpki.LeafOptions{Names: []string{"a.test"}, IssuingCertificateURL: "http://ca.test/int.cer"})
	other := inter.Issue(t, testpki.LeafOptions{Names: []string{"b.test", "10.0.0.1"}})
	sha1 := inter.Issue(t, testpki.LeafOptions{Names: []string{"a.test"}, SignatureAlgorithm: x509.SHA1WithRSA})
	anchors := []trustAnchor{{name: "root.pem", certs: []*x509.Certificate{root.Cert}, pool: poolOf(root.Cert)}}
	md5 := *leaf.Cert
	md5.SignatureAlgorithm = x509.MD5WithRSA

	tests := []struct {
		name   string
		served []*x509.Certificate
		id     string
		result string
		words  string
	}{
		{"complete", []*x509.Certificate{leaf.Cert, inter.Cert}, "HGS-TLS-002", "certificate-chain-valid", "trusted by a root from the CA file root.pem"},
		{"missing intermediate", []*x509.Certificate{leaf.Cert}, "HGS-TLS-002", "certificate-chain-incomplete",
			"The server does not send the intermediate certificate CN=Checks Intermediate,O=httpsguard tests; the certificate below it names it at http://ca.test/int.cer."},
		{"unknown CA", []*x509.Certificate{other.Cert, inter.Cert}, "HGS-TLS-002", "certificate-name-mismatch", "not valid for a.test: it covers b.test and 10.0.0.1."},
		{"root served, not trusted", []*x509.Certificate{leaf.Cert, inter.Cert, testpki.NewRoot(t, "Stranger").Cert}, "HGS-TLS-002", "certificate-chain-valid", ""},
		{"self-signed", []*x509.Certificate{testpki.NewRoot(t, "a.test").Cert}, "HGS-TLS-002", "certificate-self-signed", "self-signed"},
		{"sha-1", []*x509.Certificate{sha1.Cert, inter.Cert}, "HGS-TLS-002", "certificate-signature-rejected", "Browsers refuse the certificate chain of a.test for a SHA-1 or MD5 signature (HGS-TLS-008); it is otherwise complete, trusted and valid for the host."},
		{"sha-1 check", []*x509.Certificate{sha1.Cert, inter.Cert}, "HGS-TLS-008", "certificate-signature-sha1", "The certificate CN=a.test is signed with SHA-1 (SHA1-RSA), which browsers reject."},
		{"md5 check", []*x509.Certificate{&md5, inter.Cert}, "HGS-TLS-008", "certificate-signature-md5", "MD5"},
		{"strong signatures", []*x509.Certificate{leaf.Cert, inter.Cert}, "HGS-TLS-008", "certificate-signature-strong", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obsWith(modern())
			o.tls.served = tt.served
			o.tls.chain = chainFacts(tt.served, "a.test", anchors, o.now)
			o.tlsVerify = verifyChain(anchors, "a.test", tt.served, o.now)
			c := runCheck(t, tt.id, o)
			if c.Result != tt.result {
				t.Fatalf("%s: %s %q, want %q: %s %v %+v", tt.id, c.Status, c.Result, tt.result, c.Message, c.Evidence, c.Error)
			}
			if !strings.Contains(c.Message, tt.words) {
				t.Errorf("%q not in %q", tt.words, c.Message)
			}
		})
	}

	// Each chain verdict gives the fix for its cause, not a new CA for a
	// chain that only needs a new signature or a renewal.
	expired := inter.Issue(t, testpki.LeafOptions{Names: []string{"a.test"}, NotBefore: time.Now().Add(-90 * 24 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	for _, tc := range []struct {
		name, result, fix string
		served            []*x509.Certificate
	}{
		{"missing intermediate", "certificate-chain-incomplete", "fullchain", []*x509.Certificate{leaf.Cert}},
		{"name mismatch", "certificate-name-mismatch", "subjectAltName", []*x509.Certificate{other.Cert, inter.Cert}},
		{"sha-1", "certificate-signature-rejected", "SHA-256", []*x509.Certificate{sha1.Cert, inter.Cert}},
		{"expired", "certificate-chain-expired", "Renew", []*x509.Certificate{expired.Cert, inter.Cert}},
	} {
		o := obsWith(modern())
		o.tls.served = tc.served
		o.tls.chain = chainFacts(tc.served, "a.test", anchors, o.now)
		o.tlsVerify = verifyChain(anchors, "a.test", tc.served, o.now)
		if c := runCheck(t, "HGS-TLS-002", o); c.Result != tc.result || !strings.Contains(c.Fix, tc.fix) {
			t.Errorf("%s: %s, fix %q; want %s with a fix saying %q", tc.name, c.Result, c.Fix, tc.result, tc.fix)
		}
	}

	// An untrusted CA: nothing served leads to a trusted root.
	o := obsWith(modern())
	o.tls.served = []*x509.Certificate{leaf.Cert, inter.Cert}
	o.tls.chain = chainFacts(o.tls.served, "a.test", nil, o.now)
	o.tlsVerify = verifyChain(nil, "a.test", o.tls.served, o.now)
	if c := runCheck(t, "HGS-TLS-002", o); c.Result != "certificate-chain-incomplete" || !strings.Contains(c.Message, "CN=Checks Root,O=httpsguard tests, and no trusted root has that name") {
		t.Errorf("untrusted CA: %s %s", c.Result, c.Message)
	}

	// No chain at all: an error with the handshake's cause.
	o = obsWith(modern())
	o.https = &chain{err: &Error{Kind: KindTimeout, Detail: "handshake", Message: "no completed TLS handshake"}}
	for _, id := range []string{"HGS-TLS-002", "HGS-TLS-003", "HGS-TLS-007", "HGS-TLS-008"} {
		if c := runCheck(t, id, o); c.Status != StatusError || c.Error == nil || c.Error.Kind != KindTimeout {
			t.Errorf("%s without a chain: %s %+v", id, c.Status, c.Error)
		}
	}
}

// TestNoSharedSuite: a page handshake turned down is explained by the
// versions and suites the probes saw accepted, or left as it was.
func TestNoSharedSuite(t *testing.T) {
	failure := &Error{Kind: KindTLS, Detail: "handshake_failure", Message: `https://a.test/: the TLS handshake failed: the server sent the alert "handshake_failure"`}
	versionFailure := &Error{Kind: KindTLS, Detail: "protocol_version", Message: `https://a.test/: the TLS handshake failed: the server sent the alert "protocol_version"`}
	tests := []struct {
		name   string
		table  []versionFacts
		failed *Error
		detail string // "" for no explanation
		words  string
	}{
		{"dhe only", []versionFacts{refusedV(tls.VersionTLS11), offeredV(tls.VersionTLS12, dheGCM), refusedV(tls.VersionTLS13)}, failure,
			"no_shared_cipher_suite", "https://a.test/: the server offers only cipher suites browsers no longer support: TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
		{"3des and static rsa", []versionFacts{offeredV(tls.VersionTLS12, rsa3DES, rsaGCM)}, failure,
			"no_shared_cipher_suite", "TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{"a browser suite is there", []versionFacts{offeredV(tls.VersionTLS12, dheGCM, ecdheCBC)}, failure, "", ""},
		{"tls 1.0 only", []versionFacts{offeredV(tls.VersionTLS10, ecdheCBC), refusedV(tls.VersionTLS12)}, versionFailure,
			"protocol_version", "the server offers only TLS 1.0, which browsers no longer support"},
		{"nothing offered", []versionFacts{refusedV(tls.VersionTLS12)}, failure, "", ""},
		{"not a tls failure", []versionFacts{offeredV(tls.VersionTLS12, dheGCM)}, &Error{Kind: KindTimeout, Message: "slow"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := obsWith(tt.table).noSharedSuite(tt.failed)
			if tt.detail == "" {
				if e != nil {
					t.Fatalf("explained as %+v", e)
				}
				return
			}
			if e == nil || e.Kind != KindTLS || e.Detail != tt.detail || !strings.Contains(e.Message, tt.words) || e.Fix == "" {
				t.Fatalf("got %+v, want detail %s with %q", e, tt.detail, tt.words)
			}
			if !errors.Is(e, tt.failed) {
				t.Error("the handshake's own error is not the cause")
			}
		})
	}
}

// TestProbeErrClassified: what the raw probes could not learn is classified
// as the Go handshakes' failures are.
func TestProbeErrClassified(t *testing.T) {
	opts, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	f := newFetcher(&opts, nil)
	port, err := testnet.ClosedPort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	_, dialErr := net.Dial("tcp", addr)
	if dialErr == nil {
		t.Fatal("the closed port accepted a connection")
	}
	tests := []struct {
		err    error
		kind   ErrorKind
		detail string
	}{
		{fmt.Errorf("connect %s: %w", addr, dialErr), KindRefused, ""},
		{fmt.Errorf("no answer within 5s: %w", os.ErrDeadlineExceeded), KindTimeout, "handshake"},
		{fmt.Errorf("bad: %w", tlsprobe.ErrNotTLS), KindNotTLS, ""},
		{fmt.Errorf("x: %w", tlsprobe.ErrMalformed), KindTLS, "malformed"},
		{fmt.Errorf("not probed: %w", tlsprobe.ErrHandshakeLimit), KindRequestLimit, "tls_probes"},
	}
	for _, tt := range tests {
		e := f.probeErr(context.Background(), addr, tt.err)
		if e.Kind != tt.kind || e.Detail != tt.detail || e.Fix == "" {
			t.Errorf("%v: %+v, want %s/%s", tt.err, e, tt.kind, tt.detail)
		}
	}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		notAfter time.Duration
		want     int
	}{
		{90*24*time.Hour + time.Minute, 90},
		{23 * time.Hour, 0},
		{-time.Hour, -1},
		{-24*time.Hour - 2*time.Minute, -1}, // expired one day ago, not two
		{-49 * time.Hour, -2},
	} {
		if got := daysLeft(now.Add(tc.notAfter), now); got != tc.want {
			t.Errorf("daysLeft(now%+v) = %d, want %d", tc.notAfter, got, tc.want)
		}
	}
}
