package scan

import (
	"strings"
	"testing"
)

func TestDecideChainComplete(t *testing.T) {
	tests := []struct {
		name   string
		cf     *ChainFacts
		status Status
		result string
		msg    string
	}{
		{"no chain", nil, StatusError, "", "no certificate"},
		{"complete", &ChainFacts{Status: chainComplete, Anchor: "ca.pem"}, StatusPass, "certificate-chain-complete", "every certificate"},
		{"missing intermediate with AIA", &ChainFacts{Status: chainIncomplete, MissingIssuer: "CN=R11,O=Let's Encrypt", MissingIssuerURL: "http://r11.i.lencr.org/"}, StatusFail, "certificate-chain-incomplete",
			"The server does not send the intermediate certificate CN=R11,O=Let's Encrypt."},
		{"missing issuer without AIA", &ChainFacts{Status: chainIncomplete, MissingIssuer: "CN=Corp CA"}, StatusFail, "certificate-chain-incomplete", "does not send the intermediate certificate CN=Corp CA, and no trusted root"},
		{"self-signed", &ChainFacts{Status: chainSelfSigned}, StatusFail, "certificate-self-signed", "self-signed"},
		{"untrusted root", &ChainFacts{Status: chainUntrustedRoot}, StatusFail, "certificate-root-untrusted", "root"},
		{"unknown status", &ChainFacts{Status: "odd"}, StatusError, "", "odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := decideChainComplete(tt.cf)
			if v.Status != tt.status || v.Result != tt.result || !strings.Contains(v.Message, tt.msg) {
				t.Fatalf("%+v", v)
			}
		})
	}
}

func TestDecideSignature(t *testing.T) {
	tests := []struct {
		cf     *ChainFacts
		status Status
		msg    string
	}{
		{nil, StatusError, "no certificate"},
		{&ChainFacts{}, StatusPass, "No certificate"},
		{&ChainFacts{WeakSignatures: []string{"CN=localhost: SHA1-RSA"}}, StatusFail, "The certificate CN=localhost is signed with SHA-1 (SHA1-RSA), which browsers reject."},
		{&ChainFacts{WeakSignatures: []string{"CN=a: MD5-RSA"}}, StatusFail, "signed with MD5 (MD5-RSA)"},
		{&ChainFacts{WeakSignatures: []string{"CN=a: SHA1-RSA", "CN=b: ECDSA-SHA1"}}, StatusFail, "2 certificates of the chain are signed with SHA-1 or MD5, CN=a among them (SHA1-RSA)"},
	}
	for _, tt := range tests {
		v := decideSignature(tt.cf)
		if v.Status != tt.status || !strings.Contains(v.Message, tt.msg) {
			t.Errorf("%+v: %+v", tt.cf, v)
		}
	}
}

func TestDecideNameMatch(t *testing.T) {
	if v := decideNameMatch(&ChainFacts{NameMatch: true}, "a.test"); v.Status != StatusPass {
		t.Error(v)
	}
	if v := decideNameMatch(&ChainFacts{}, "a.test"); v.Status != StatusFail || !strings.Contains(v.Message, "a.test") {
		t.Error(v)
	}
	if v := decideNameMatch(nil, "a.test"); v.Status != StatusError {
		t.Error(v)
	}
}

func proto(version string, offered bool, suites ...CipherSuite) ProtocolSupport {
	return ProtocolSupport{Version: version, Offered: offered, CipherSuites: suites}
}

var (
	strongSuite   = CipherSuite{Name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ForwardSecrecy: true, Strength: "strong"}
	cbcSuite      = CipherSuite{Name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", ForwardSecrecy: true, Strength: "weak"}
	rsaSuite      = CipherSuite{Name: "TLS_RSA_WITH_AES_128_GCM_SHA256", Strength: "insecure"}
	tls13Suite    = CipherSuite{Name: "TLS_AES_128_GCM_SHA256", ForwardSecrecy: true, Strength: "strong"}
	modernServer  = []ProtocolSupport{proto("SSL 2.0", false), proto("SSL 3.0", false), proto("TLS 1.0", false), proto("TLS 1.1", false), proto("TLS 1.2", true, strongSuite), proto("TLS 1.3", true, tls13Suite)}
	unknownServer = []ProtocolSupport{{Version: "SSL 3.0", Error: "no answer within 10s"}, proto("TLS 1.2", true, strongSuite)}
)

func TestDecideObsoleteVersions(t *testing.T) {
	tests := []struct {
		name   string
		ps     []ProtocolSupport
		status Status
		msg    string
	}{
		{"not probed", nil, StatusError, "not probed"},
		{"modern", modernServer, StatusPass, "refuses"},
		{"ssl3 and tls1.0", []ProtocolSupport{proto("SSL 3.0", true, rsaSuite), proto("TLS 1.0", true, rsaSuite), proto("TLS 1.2", true, strongSuite)}, StatusFail, "accepts obsolete SSL 3.0 and TLS 1.0."},
		{"unknown", unknownServer, StatusError, "could not be told"},
		{"unknown but failing anyway", append([]ProtocolSupport{proto("TLS 1.0", true, cbcSuite)}, unknownServer...), StatusFail, "obsolete TLS 1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := decideObsoleteVersions(tt.ps)
			if v.Status != tt.status || !strings.Contains(v.Message, tt.msg) {
				t.Fatalf("%+v", v)
			}
		})
	}
}

func TestDecideCipherSuites(t *testing.T) {
	incomplete := proto("TLS 1.2", true, strongSuite)
	incomplete.Incomplete = "handshake limit reached"
	tests := []struct {
		name   string
		ps     []ProtocolSupport
		status Status
		msg    string
		ev     string
	}{
		{"not probed", nil, StatusError, "not probed", ""},
		{"modern", modernServer, StatusPass, "Every cipher suite", ""},
		{"cbc on tls 1.0 only", []ProtocolSupport{proto("TLS 1.0", true, cbcSuite), proto("TLS 1.2", true, strongSuite)}, StatusWarn, "1 cipher suite(s) without authenticated", "TLS 1.0: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
		{"static rsa", []ProtocolSupport{proto("TLS 1.2", true, strongSuite, rsaSuite, cbcSuite)}, StatusFail, "1 insecure", "TLS 1.2: TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{"incomplete", []ProtocolSupport{incomplete}, StatusError, "could not all be listed", "handshake limit"},
		{"incomplete but insecure found", []ProtocolSupport{incomplete, proto("TLS 1.0", true, rsaSuite)}, StatusFail, "insecure", ""},
		{"version unknown", unknownServer, StatusError, "could not all be listed", "SSL 3.0: no answer"},
		{"nothing accepted", []ProtocolSupport{proto("TLS 1.2", false)}, StatusError, "no cipher suite", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := decideCipherSuites(tt.ps)
			if v.Status != tt.status || !strings.Contains(v.Message, tt.msg) || !strings.Contains(strings.Join(v.Evidence, "\n"), tt.ev) {
				t.Fatalf("%+v", v)
			}
		})
	}
}

func TestDecideForwardSecrecy(t *testing.T) {
	mixed := []ProtocolSupport{proto("TLS 1.2", true, strongSuite, rsaSuite)}
	tests := []struct {
		fs     string
		status Status
		ev     string
	}{
		{"all", StatusPass, ""},
		{"some", StatusWarn, "TLS 1.2: TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{"none", StatusFail, "TLS_RSA"},
		{"", StatusError, ""},
	}
	for _, tt := range tests {
		v := decideForwardSecrecy(tt.fs, mixed)
		if v.Status != tt.status || !strings.Contains(strings.Join(v.Evidence, "\n"), tt.ev) {
			t.Errorf("%q: %+v", tt.fs, v)
		}
	}
}

func TestJoinAnd(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "a,b": "a and b", "a,b,c": "a, b and c"} {
		var s []string
		if in != "" {
			s = strings.Split(in, ",")
		}
		if got := joinAnd(s); got != want {
			t.Errorf("joinAnd(%q) = %q", in, got)
		}
	}
}
