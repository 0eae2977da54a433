package scan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/internal/tlspeers"
	"github.com/httpsguard/httpsguard/scan"
)

// tlsVerdict is a TLS check's expected verdict on a peer: its result code
// and words its message or evidence must hold.
type tlsVerdict struct {
	id, result string
	words      []string
}

// TestTLSPeerVerdicts scans the TLS peers of issue #12 (nginx from Debian,
// a Go server) and the two no browser can connect to, and checks that each
// TLS check reaches the verdict the configuration calls for, in the words
// it should use. scan/tlsoracle checks the facts behind them against
// testssl.sh.
func TestTLSPeerVerdicts(t *testing.T) {
	tests := []struct {
		peer string
		// noGrade is the result's error detail when the page cannot be
		// fetched; "" for a graded result.
		noGrade  string
		verdicts []tlsVerdict
	}{
		{peer: "tls13", verdicts: []tlsVerdict{
			{"HGS-TLS-001", "https-reachable", nil},
			{"HGS-TLS-002", "certificate-chain-valid", nil},
			{"HGS-TLS-004", "tls-obsolete-versions-refused", []string{"accepted: TLS 1.3"}},
			{"HGS-TLS-005", "tls13-supported", nil},
			{"HGS-TLS-006", "tls-ciphers-strong", []string{"(3)"}},
			{"HGS-TLS-008", "certificate-signature-strong", nil},
		}},
		{peer: "legacy", verdicts: []tlsVerdict{
			{"HGS-TLS-004", "tls-obsolete-versions-accepted", []string{"TLS 1.0 and TLS 1.1"}},
			{"HGS-TLS-005", "tls13-not-supported", nil},
			{"HGS-TLS-006", "tls-ciphers-insecure", []string{"without forward secrecy", "TLS 1.0: TLS_RSA_WITH_AES_128_CBC_SHA (no forward secrecy)", "TLS 1.2: TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 (CBC)"}},
		}},
		{peer: "weakcert", verdicts: []tlsVerdict{
			{"HGS-TLS-002", "certificate-signature-rejected", []string{"HGS-TLS-008", "complete, trusted"}},
			{"HGS-TLS-007", "certificate-key-rsa-weak", []string{"1024"}},
			{"HGS-TLS-008", "certificate-signature-sha1", []string{"CN=localhost is signed with SHA-1 (SHA1-RSA)"}},
		}},
		{peer: "nointermediate", verdicts: []tlsVerdict{
			{"HGS-TLS-002", "certificate-chain-incomplete", []string{"does not send the intermediate certificate CN=httpsguard test intermediate nointermediate", "http://127.0.0.1:9/intermediate.cer"}},
			{"HGS-TLS-008", "certificate-signature-strong", nil},
		}},
		{peer: "expired", verdicts: []tlsVerdict{
			{"HGS-TLS-002", "certificate-name-mismatch", []string{"not valid for 127.0.0.1", "expired.test"}},
			{"HGS-TLS-003", "certificate-expired", nil},
		}},
		{peer: "go-cbc", verdicts: []tlsVerdict{
			{"HGS-TLS-004", "tls-obsolete-versions-accepted", nil},
			{"HGS-TLS-006", "tls-ciphers-insecure", []string{"TLS_RSA_WITH_3DES_EDE_CBC_SHA (64-bit block: Sweet32)", "TLS 1.2: TLS_ECDHE_RSA_WITH_RC4_128_SHA (RC4)"}},
		}},
		// No browser, and no Go client, can speak DHE or 3DES: the page
		// cannot be fetched and the result has no grade, but the
		// cause is named with the suites, and what the raw probes
		// observed (the versions, the suites, the chain of their
		// Certificate message) is still judged.
		{peer: "dhe-only", noGrade: "no_shared_cipher_suite", verdicts: []tlsVerdict{
			{"HGS-TLS-001", "https-no-shared-cipher-suite", []string{"only cipher suites browsers no longer support: TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS 1.2: TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"}},
			{"HGS-TLS-002", "certificate-chain-valid", nil},
			{"HGS-TLS-004", "tls-obsolete-versions-refused", []string{"accepted: TLS 1.2"}},
			{"HGS-TLS-006", "tls-ciphers-strong", nil},
			{"HGS-TLS-007", "certificate-key-strong", nil},
		}},
		{peer: "go-3des", noGrade: "no_shared_cipher_suite", verdicts: []tlsVerdict{
			{"HGS-TLS-001", "https-no-shared-cipher-suite", []string{"TLS_RSA_WITH_3DES_EDE_CBC_SHA"}},
			{"HGS-TLS-003", "certificate-valid", nil},
			{"HGS-TLS-006", "tls-ciphers-insecure", []string{"TLS 1.2: TLS_RSA_WITH_3DES_EDE_CBC_SHA (64-bit block: Sweet32)"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.peer, func(t *testing.T) {
			t.Parallel()
			p := tlspeers.Start(t, tt.peer)
			httpPort, err := testnet.ClosedPort()
			if err != nil {
				t.Fatal(err)
			}
			sc, err := scan.New(scan.Options{CAFiles: []string{p.RootFile}, HTTPPort: httpPort, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			res := sc.Scan(context.Background(), "https://"+p.Addr+"/")
			switch {
			case tt.noGrade == "" && res.Error != nil:
				t.Fatalf("scan error: %+v", res.Error)
			case tt.noGrade != "":
				if res.Graded() || res.Error == nil || res.Error.Kind != scan.KindTLS || res.Error.Detail != tt.noGrade {
					t.Fatalf("result grade %q error %+v, want no grade, a tls error with detail %s", res.Grade, res.Error, tt.noGrade)
				}
				if res.Error.Fix == "" || !strings.Contains(res.Error.Message, "https://"+p.Addr+"/") {
					t.Errorf("error without the URL or a fix: %+v", res.Error)
				}
			}
			for _, want := range tt.verdicts {
				c := check(t, res, want.id)
				if c.Result != want.result {
					t.Errorf("%s: %s (%s), want %s: %s %v %+v", want.id, c.Result, c.Status, want.result, c.Message, c.Evidence, c.Error)
					continue
				}
				all := c.Message + "\n" + strings.Join(c.Evidence, "\n")
				for _, w := range want.words {
					if !strings.Contains(all, w) {
						t.Errorf("%s: %q not in\n%s", want.id, w, all)
					}
				}
			}
			for _, c := range res.Checks {
				if c.Category == scan.CategoryTLS && c.Status == scan.StatusError {
					t.Errorf("%s could not decide: %s %+v", c.ID, c.Message, c.Error)
				}
			}
		})
	}
}
