package tlsoracle

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/peertest"
	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/internal/tlspeers"
	"github.com/httpsguard/httpsguard/internal/tlsprobe"
	"github.com/httpsguard/httpsguard/scan"
)

// testsslTimeout bounds one testssl.sh run; on a quiet machine the
// slowest configuration takes about three minutes.
const testsslTimeout = 15 * time.Minute

// testsslArgs are, for each configuration, the parts of "testssl -p -s -f
// -E -S" it is asked: -p (protocols) and -E (every cipher per protocol)
// everywhere the cipher configuration is its own; -f (forward secrecy)
// where some suites lack it; -s (cipher categories) where there is more
// than AEAD and CBC to tell apart; -S (the certificate) where the
// certificate is what the configuration is about. A full run costs two
// to three CPU-minutes of bash and openssl processes, seven of them more
// than go test's ten minutes on two cores; asked this way, the seven take
// about eight CPU-minutes and five minutes on two cores, two at a time
// (go test's -parallel, GOMAXPROCS by default, bounds the runs at once;
// the longest start first).
var testsslArgs = map[string][]string{
	"tls13":          {"-p", "-E", "-S"},
	"aead":           {"-p", "-E", "-f"},
	"legacy":         {"-p", "-E", "-f"},
	"go-cbc":         {"-p", "-s", "-E", "-f"}, // RC4 (LOW), 3DES, CBC; no AEAD
	"weakcert":       {"-p", "-S"},
	"nointermediate": {"-p", "-E", "-S"}, // nginx's default suites: CAMELLIA, ARIA, CCM
	"expired":        {"-p", "-S"},
	"everything":     {"-p", "-s", "-E", "-f"}, // only with -tlsoracle.all
}

// all adds the peers beyond issue #12's seven configurations (nginx with
// ALL:@SECLEVEL=0, whose testssl.sh run alone takes longer than go
// test's default -timeout on a busy machine):
//
//	go test -timeout 60m ./scan/tlsoracle -tlsoracle.all
var all = flag.Bool("tlsoracle.all", false, "also check the peers beyond issue #12's configurations")

// extraPeers are the peers only -tlsoracle.all checks.
var extraPeers = []string{"everything"}

// oracleOrder is tlspeers.Names, the slowest testssl.sh runs first.
var oracleOrder = []string{"everything", "go-cbc", "nointermediate", "legacy", "aead", "tls13", "weakcert", "expired"}

// TestOracleCoversPeers keeps the oracle's lists in step with tlspeers: a
// new peer is checked, not skipped.
func TestOracleCoversPeers(t *testing.T) {
	for _, name := range tlspeers.Names {
		if !slices.Contains(oracleOrder, name) || testsslArgs[name] == nil {
			t.Errorf("peer %s has no place in oracleOrder or no testssl flags", name)
		}
	}
	if len(oracleOrder) != len(tlspeers.Names) {
		t.Errorf("oracleOrder has %d peers, tlspeers %d", len(oracleOrder), len(tlspeers.Names))
	}
}

func TestAgainstTestssl(t *testing.T) {
	if testing.Short() {
		t.Skip("testssl.sh takes minutes per server; run without -short")
	}
	peertest.Need(t, "testssl", testpeer.Testssl)
	names := mappingNames(t)
	for _, name := range oracleOrder {
		if slices.Contains(extraPeers, name) && !*all {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := tlspeers.Start(t, name)
			res := scanPeer(t, p)

			deadline := time.Now().Add(testsslTimeout)
			if d, ok := t.Deadline(); ok && d.Add(-20*time.Second).Before(deadline) {
				// End testssl.sh before go test's -timeout panics, so the
				// failure says what ran out of time.
				deadline = d.Add(-20 * time.Second)
			}
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			start := time.Now()
			args, ok := testsslArgs[name]
			if !ok {
				t.Fatalf("no testssl flags for %s", name)
			}
			findings, err := peertest.Testssl(ctx, t, "https://"+p.Addr, append(slices.Clone(args), "--add-ca", p.RootFile)...)
			cancel()
			if err != nil {
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					t.Fatalf("testssl.sh did not finish in the time go test's -timeout left (%s on this machine so far); run with -timeout 30m: %v", time.Since(start).Round(time.Second), err)
				}
				t.Fatal(err)
			}
			t.Logf("testssl.sh took %s; the scan %d ms", time.Since(start).Round(time.Second), res.DurationMS)
			o := oracle{t: t, byID: map[string]peertest.Finding{}, names: names}
			for _, f := range findings {
				o.byID[f.ID] = f
			}
			o.summary()
			o.protocols(res.TLS, slices.Contains(args, "-E"))
			if slices.Contains(args, "-s") {
				o.categories(res.TLS)
			}
			if slices.Contains(args, "-f") {
				o.forwardSecrecy(res.TLS)
			}
			if slices.Contains(args, "-S") {
				o.certificate(p, res.TLS)
			}
		})
	}
}

// scanPeer scans p as the CLI would with --ca-file ROOT.
func scanPeer(t *testing.T, p *tlspeers.Peer) *scan.Result {
	t.Helper()
	httpPort, err := testnet.ClosedPort()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scan.New(scan.Options{CAFiles: []string{p.RootFile}, HTTPPort: httpPort, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	res := sc.Scan(context.Background(), "https://"+p.Addr+"/")
	if res.Error != nil {
		t.Fatalf("scan: %v", res.Error)
	}
	if res.TLS == nil {
		t.Fatal("no TLS facts in the result")
	}
	return res
}

type oracle struct {
	t     *testing.T
	byID  map[string]peertest.Finding
	names map[string]uint32 // testssl's OpenSSL and IANA names to codes
}

// finding returns testssl's finding with this id, failing the test when
// there is none.
func (o *oracle) finding(id string) string {
	o.t.Helper()
	f, ok := o.byID[id]
	if !ok {
		o.t.Errorf("testssl reported no %s", id)
	}
	return f.Finding
}

// summary logs what testssl.sh said, for the record.
func (o *oracle) summary() {
	var b strings.Builder
	ciphers := 0
	for id := range o.byID {
		if strings.HasPrefix(id, "cipher-") {
			ciphers++
		}
	}
	for _, id := range []string{"SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "PFS", "cert_keySize", "cert_signatureAlgorithm", "cert_chain_of_trust", "cert_expirationStatus", "cert_trust"} {
		if f, ok := o.byID[id]; ok {
			fmt.Fprintf(&b, "\n\t%s: %s (%s)", id, f.Finding, f.Severity)
		}
	}
	o.t.Logf("testssl.sh: %d cipher findings%s", ciphers, b.String())
}

// testsslVersions maps testssl's protocol ids and cipher id prefixes to
// version names.
var testsslVersions = []struct{ id, cipherPrefix, version string }{
	{"SSLv2", "cipher-ssl2", "SSL 2.0"},
	{"SSLv3", "cipher-ssl3", "SSL 3.0"},
	{"TLS1", "cipher-tls1", "TLS 1.0"},
	{"TLS1_1", "cipher-tls1_1", "TLS 1.1"},
	{"TLS1_2", "cipher-tls1_2", "TLS 1.2"},
	{"TLS1_3", "cipher-tls1_3", "TLS 1.3"},
}

// protocols compares the versions offered and, with -E, the suites of
// each.
func (o *oracle) protocols(info *scan.TLSInfo, ciphers bool) {
	t := o.t
	protos := map[string]scan.ProtocolSupport{}
	for _, ps := range info.Protocols {
		protos[ps.Version] = ps
		if ps.Error != "" || ps.Incomplete != "" {
			t.Errorf("%s: facts incomplete: %s %s", ps.Version, ps.Error, ps.Incomplete)
		}
	}

	// Protocols offered, and the suites of each.
	suitesByVersion := map[string][]uint32{}
	for id, f := range o.byID {
		if !strings.HasPrefix(id, "cipher-") {
			continue
		}
		prefix, hex, ok := cutLast(id, "_x")
		code, err := strconv.ParseUint(hex, 16, 32)
		if !ok || err != nil {
			t.Errorf("testssl cipher id %q (%s) not understood", id, f.Finding)
			continue
		}
		for _, v := range testsslVersions {
			if v.cipherPrefix == prefix {
				suitesByVersion[v.version] = append(suitesByVersion[v.version], uint32(code))
			}
		}
	}
	for _, v := range testsslVersions {
		f := o.finding(v.id)
		var want bool
		switch {
		case strings.HasPrefix(f, "offered"):
			want = true
		case strings.HasPrefix(f, "not offered"):
		default:
			t.Errorf("%s: testssl says %q", v.version, f)
			continue
		}
		got, ok := protos[v.version]
		if !ok || got.Offered != want {
			t.Errorf("%s: offered = %v, testssl says %q", v.version, got.Offered, f)
		}
		if !ciphers {
			continue
		}
		wantSuites := suitesByVersion[v.version]
		slices.Sort(wantSuites)
		var gotSuites []uint32
		for _, s := range got.CipherSuites {
			code, _ := strconv.ParseUint(strings.TrimPrefix(s.ID, "0x"), 16, 32)
			gotSuites = append(gotSuites, uint32(code))
		}
		if !slices.Equal(gotSuites, wantSuites) {
			t.Errorf("%s suites:\n ours    %s\n testssl %s", v.version, suiteNames(gotSuites), suiteNames(wantSuites))
		}
	}

}

// accepted is every suite accepted on any version.
func accepted(info *scan.TLSInfo) []tlsprobe.Suite {
	var all []tlsprobe.Suite
	for _, ps := range info.Protocols {
		for _, s := range ps.CipherSuites {
			code, _ := strconv.ParseUint(strings.TrimPrefix(s.ID, "0x"), 16, 32)
			su, _ := tlsprobe.Lookup(uint32(code))
			all = append(all, su)
		}
	}
	return all
}

// categories compares testssl's cipher categories (-s) with the suites
// accepted.
func (o *oracle) categories(info *scan.TLSInfo) {
	t := o.t
	all := accepted(info)
	for _, c := range categories {
		f := o.finding("cipherlist_" + c.name)
		want := strings.HasPrefix(f, "offered")
		if !want && !strings.HasPrefix(f, "not offered") {
			t.Errorf("cipherlist_%s: testssl says %q", c.name, f)
			continue
		}
		got := slices.ContainsFunc(all, c.in)
		if got != want {
			t.Errorf("category %s: offered = %v, testssl says %q", c.name, got, f)
		}
	}

}

// forwardSecrecy compares testssl's forward secrecy (-f): whether it is
// offered, and the suites with it, which testssl lists from every version
// leaving out NULL, DES, 3DES, RC4 and PSK ones.
func (o *oracle) forwardSecrecy(info *scan.TLSInfo) {
	t := o.t
	all := accepted(info)
	var fs []uint32
	for _, s := range all {
		if s.ForwardSecret() && !strings.Contains(s.Name, "NULL") && !strings.Contains(s.Name, "DES") &&
			!strings.Contains(s.Name, "RC4") && !strings.Contains(s.Name, "PSK") && !slices.Contains(fs, s.ID) {
			fs = append(fs, s.ID)
		}
	}
	slices.Sort(fs)
	pfs := o.finding("PFS")
	if wantFS := strings.HasPrefix(pfs, "offered"); wantFS != (len(fs) > 0) {
		t.Errorf("forward secrecy: %d suites with it, testssl says %q", len(fs), pfs)
	}
	if len(fs) > 0 {
		var want []uint32
		for _, n := range strings.Fields(o.finding("PFS_ciphers")) {
			code, ok := o.names[n]
			if !ok {
				t.Errorf("PFS_ciphers: %q not in testssl's mapping", n)
			}
			want = append(want, code)
		}
		slices.Sort(want)
		if !slices.Equal(fs, want) {
			t.Errorf("forward-secret suites:\n ours    %s\n testssl %s", suiteNames(fs), suiteNames(want))
		}
	}
	if info.ForwardSecrecy == "" {
		t.Error("forward secrecy not settled")
	}
}

// certificate compares the certificate facts (-S): the leaf's key and
// signature algorithm, the chain of trust, expiry and the name.
func (o *oracle) certificate(p *tlspeers.Peer, info *scan.TLSInfo) {
	t := o.t
	if len(info.Chain) == 0 || info.ChainFacts == nil {
		t.Fatal("no chain facts")
	}
	leaf := info.Chain[0]
	kt := leaf.KeyType
	if kt == "ECDSA" {
		kt = "EC"
	}
	if f := o.finding("cert_keySize"); !strings.HasPrefix(f, fmt.Sprintf("%s %d bits", kt, leaf.KeyBits)) {
		t.Errorf("key: %s %d bits, testssl says %q", leaf.KeyType, leaf.KeyBits, f)
	}
	if _, isEC := p.Leaf.PublicKey.(*ecdsa.PublicKey); isEC != (leaf.KeyType == "ECDSA") {
		t.Errorf("key type %s for a leaf issued with %T", leaf.KeyType, p.Leaf.PublicKey)
	}
	sig := o.byID["cert_signatureAlgorithm"]
	if want := testsslSigName(leaf.SignatureAlgorithm); sig.Finding != want {
		t.Errorf("signature algorithm: %s (%q for testssl), testssl says %q", leaf.SignatureAlgorithm, want, sig.Finding)
	}
	weakSig := len(info.ChainFacts.WeakSignatures) > 0
	if testsslWeak := sig.Severity != "OK" && sig.Severity != "INFO"; weakSig != testsslWeak {
		t.Errorf("weak signature: %v (%v), testssl rates %q %s", weakSig, info.ChainFacts.WeakSignatures, sig.Finding, sig.Severity)
	}

	// The chain of trust, expiry, name.
	cf := info.ChainFacts
	var wantChain string
	switch {
	case cf.Status == "complete" && cf.Expired:
		wantChain = "failed (expired)."
	case cf.Status == "complete" && cf.NotYetValid:
		wantChain = "failed (not yet valid)."
	case cf.Status == "complete":
		wantChain = "passed."
	case cf.Status == "incomplete" && len(info.Chain) == 1:
		// openssl verify says "unable to get local issuer certificate"
		// (20) whether one certificate or more was served.
		wantChain = "failed (chain incomplete)."
	case cf.Status == "incomplete":
		wantChain = "failed (chain incomplete)."
	case cf.Status == "self-signed":
		wantChain = "failed (self signed)."
	case cf.Status == "untrusted-root":
		wantChain = "failed (self signed CA in chain)."
	}
	if f := o.finding("cert_chain_of_trust"); strings.TrimSpace(f) != wantChain {
		t.Errorf("chain: %+v (testssl would say %q), testssl says %q", *cf, wantChain, f)
	}
	exp := o.finding("cert_expirationStatus")
	if (exp == "expired") != cf.Expired {
		t.Errorf("expired = %v, testssl says %q", cf.Expired, exp)
	}
	trust := o.finding("cert_trust")
	if testsslMatch := strings.HasPrefix(trust, "Ok via"); testsslMatch != cf.NameMatch {
		t.Errorf("name match = %v, testssl says %q", cf.NameMatch, trust)
	}
	if cf.Status == "incomplete" && !strings.Contains(cf.MissingIssuer, p.Intermediate.Subject.CommonName) {
		t.Errorf("missing issuer %q, the intermediate not served is %s", cf.MissingIssuer, p.Intermediate.Subject)
	}
}

// categories are testssl's -s cipher categories, as predicates on a suite
// (run_cipherlists in testssl.sh: each excludes anonymous suites but the
// aNULL one, and export suites from LOW).
var categories = []struct {
	name string
	in   func(tlsprobe.Suite) bool
}{
	{"NULL", func(s tlsprobe.Suite) bool { return s.Cipher == "NULL" }},
	{"aNULL", func(s tlsprobe.Suite) bool { return s.Auth == "anon" }},
	{"EXPORT", func(s tlsprobe.Suite) bool { return s.Export && s.Auth != "anon" && s.Cipher != "NULL" }},
	{"LOW", func(s tlsprobe.Suite) bool {
		return (s.Cipher == "DES" || s.Cipher == "RC4" || s.Cipher == "RC2") && !s.Export && s.Auth != "anon"
	}},
	{"3DES_IDEA", func(s tlsprobe.Suite) bool { return (s.Cipher == "3DES" || s.Cipher == "IDEA") && s.Auth != "anon" }},
	{"AVERAGE", func(s tlsprobe.Suite) bool {
		return s.Mode == "CBC" && !s.Export && s.Auth != "anon" && slices.Contains([]string{"AES", "CAMELLIA", "ARIA", "SEED"}, s.Cipher)
	}},
	{"STRONG", func(s tlsprobe.Suite) bool { return s.AEAD() && s.Auth != "anon" }},
}

// testsslSigName is how testssl.sh names a signature algorithm that Go
// names alg.
func testsslSigName(alg string) string {
	switch alg {
	case "SHA1-RSA":
		return "SHA1 with RSA"
	case "SHA256-RSA":
		return "SHA256 with RSA"
	case "SHA384-RSA":
		return "SHA384 with RSA"
	case "SHA512-RSA":
		return "SHA512 with RSA"
	case "ECDSA-SHA1":
		return "ECDSA with SHA1"
	case "ECDSA-SHA256":
		return "ECDSA with SHA256"
	case "ECDSA-SHA384":
		return "ECDSA with SHA384"
	case "ECDSA-SHA512":
		return "ECDSA with SHA512"
	}
	return alg
}

// mappingNames reads testssl.sh's cipher mapping: the OpenSSL and IANA
// names of every code, so that its lists of names compare with codes.
func mappingNames(t *testing.T) map[string]uint32 {
	t.Helper()
	f, err := os.Open("/etc/testssl/cipher-mapping.txt")
	if err != nil {
		t.Fatalf("testssl.sh's cipher mapping: %v", err)
	}
	defer f.Close()
	out := map[string]uint32{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		var code uint32
		for _, b := range strings.Split(fields[0], ",") {
			v, err := strconv.ParseUint(strings.TrimPrefix(b, "0x"), 16, 8)
			if err != nil {
				t.Fatalf("cipher mapping line %q", sc.Text())
			}
			code = code<<8 | uint32(v)
		}
		for _, n := range fields[2:4] {
			if n != "-" {
				out[n] = code
			}
		}
	}
	if len(out) < 300 {
		t.Fatalf("only %d names in testssl's cipher mapping", len(out))
	}
	return out
}

func suiteNames(ids []uint32) string {
	var out []string
	for _, id := range ids {
		out = append(out, tlsprobe.SuiteName(id))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
