// Package tlspeers starts the TLS servers that httpsguard's TLS facts are
// tested against: Debian's nginx in the configurations issue #12 names
// (TLS 1.3 only; TLS 1.2 and 1.3 with AEAD suites only; TLS 1.0 to 1.2
// with OpenSSL's DEFAULT list at security level 0; a 1024-bit RSA leaf
// signed with SHA-1; a leaf served without its intermediate; an expired
// leaf), one that accepts everything OpenSSL has (CAMELLIA, ARIA, CCM,
// anonymous DH), and a Go server for what Debian's OpenSSL 3 cannot
// offer: 3DES, RC4 and CBC suites with static RSA on TLS 1.0 to 1.2.
// Two more (Unreachable) accept only suites browsers no longer offer.
//
// Every certificate is issued in the test by a root of its own; the
// root's PEM file is what a checker (or testssl.sh's --add-ca) trusts.
package tlspeers

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/peertest"
	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/internal/testpki"
)

// Peer is one running server and what the test knows about it.
type Peer struct {
	// Name is the configuration's name (see Names).
	Name string
	// Addr is "127.0.0.1:PORT".
	Addr string
	// Root is the root CA; RootFile its PEM file.
	Root     *x509.Certificate
	RootFile string
	// Leaf and Intermediate are the certificates issued; Served is the
	// chain the server sends, leaf first.
	Leaf, Intermediate *x509.Certificate
	Served             []*x509.Certificate

	// Nginx is set for nginx peers: Protocols and Ciphers are its
	// ssl_protocols and ssl_ciphers, DHParams whether it has
	// ssl_dhparam (without which OpenSSL offers no DHE suite).
	Nginx     bool
	Protocols []string
	Ciphers   string
	DHParams  bool
	// GoSuites are the suites a Go peer is configured with, and
	// GoVersions its versions.
	GoSuites   []uint16
	GoVersions []uint16
}

// Names are the configurations, in the order reports list them.
var Names = []string{"tls13", "aead", "legacy", "weakcert", "nointermediate", "expired", "everything", "go-cbc"}

// Unreachable are configurations no browser can connect to, for the
// scanner's tests of how it names the cause: nginx on TLS 1.2 with one DHE
// suite ("dhe-only"), and a Go server on TLS 1.2 with 3DES alone
// ("go-3des"). They are not among Names: testssl.sh has nothing to add on
// them that the others do not check.
var Unreachable = []string{"dhe-only", "go-3des"}

// aeadCiphers is an AEAD-only, forward-secret list that also holds suites
// Go's crypto/tls cannot speak: DHE, CCM and ARIA.
const aeadCiphers = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:DHE+AESCCM:ECDHE+ARIAGCM:DHE+ARIAGCM"

// goCBCSuites are the Go peer's suites: 3DES, RC4 and CBC, with static
// RSA and ECDHE key exchange, and no AEAD suite at all.
var goCBCSuites = []uint16{
	tls.TLS_RSA_WITH_RC4_128_SHA,
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA,
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
}

// Start starts the peer called name and stops it when the test ends. A
// missing nginx or openssl skips the test (fails it under
// HTTPSGUARD_TEST_STRICT=1).
func Start(tb testing.TB, name string) *Peer {
	tb.Helper()
	dir := tb.TempDir()
	root := testpki.NewRoot(tb, "httpsguard test root "+name)
	inter := root.NewIntermediate(tb, "httpsguard test intermediate "+name)
	p := &Peer{Name: name, Root: root.Cert, Intermediate: inter.Cert, RootFile: filepath.Join(dir, "root.pem")}
	if err := os.WriteFile(p.RootFile, testpki.CertPEM(root.Cert), 0o600); err != nil {
		tb.Fatal(err)
	}
	leafOpts := testpki.LeafOptions{}
	withIntermediate := true
	p.Nginx, p.Protocols, p.Ciphers = true, []string{"TLSv1.2", "TLSv1.3"}, ""
	switch name {
	case "tls13":
		p.Protocols = []string{"TLSv1.3"}
		leafOpts.Key = testpki.ECDSAP256
	case "aead":
		p.Ciphers, p.DHParams = aeadCiphers, true
	case "legacy":
		p.Protocols = []string{"TLSv1", "TLSv1.1", "TLSv1.2"}
		p.Ciphers, p.DHParams = "DEFAULT:@SECLEVEL=0", true
	case "weakcert":
		// OpenSSL refuses to load a 1024-bit key or a SHA-1 signature
		// above security level 0.
		p.Ciphers = "DEFAULT:@SECLEVEL=0"
		leafOpts.Key, leafOpts.SignatureAlgorithm = testpki.RSA1024, x509.SHA1WithRSA
	case "nointermediate":
		withIntermediate = false
		// Where a client could fetch the missing certificate; a closed
		// loopback port, for nothing here may fetch it.
		leafOpts.IssuingCertificateURL = "http://127.0.0.1:9/intermediate.cer"
	case "expired":
		leafOpts.NotBefore, leafOpts.NotAfter = time.Now().Add(-90*24*time.Hour), time.Now().Add(-24*time.Hour)
		// Issued for another name as well: the name check is asked of
		// 127.0.0.1, which this certificate does not cover.
		leafOpts.Names = []string{"expired.test"}
	case "everything":
		p.Protocols = []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
		p.Ciphers, p.DHParams = "ALL:@SECLEVEL=0", true
	case "go-cbc":
		p.Nginx, p.Protocols = false, nil
		p.GoSuites = goCBCSuites
		p.GoVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12}
	case "dhe-only":
		p.Protocols = []string{"TLSv1.2"}
		p.Ciphers, p.DHParams = "DHE-RSA-AES128-GCM-SHA256", true
	case "go-3des":
		p.Nginx, p.Protocols = false, nil
		p.GoSuites = []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}
		p.GoVersions = []uint16{tls.VersionTLS12}
	default:
		tb.Fatalf("tlspeers: unknown configuration %q", name)
	}
	leaf := inter.Issue(tb, leafOpts)
	p.Leaf = leaf.Cert
	p.Served = []*x509.Certificate{leaf.Cert}
	if withIntermediate {
		p.Served = append(p.Served, inter.Cert)
	}
	if !p.Nginx {
		p.Addr = startGo(tb, leaf.TLSCertificate(p.Served[1:]...), p)
		return p
	}
	files := map[string][]byte{
		"cert.pem": testpki.CertPEM(p.Served...),
		"key.pem":  testpki.KeyPEM(tb, leaf.Key),
	}
	server := "ssl_certificate cert.pem;\n\t\tssl_certificate_key key.pem;\n\t\tssl_protocols"
	for _, v := range p.Protocols {
		server += " " + v
	}
	server += ";\n"
	if p.Ciphers != "" {
		server += "\t\tssl_ciphers " + p.Ciphers + ";\n"
	}
	if p.DHParams {
		files["dh.pem"] = dhParams(tb)
		server += "\t\tssl_dhparam dh.pem;\n"
	}
	p.Addr = peertest.StartNginx(tb, peertest.NginxConfig{Server: server, Files: files}).Addr
	return p
}

// dhParams returns RFC 7919's ffdhe2048 group as PEM DH parameters, from
// the openssl command (package openssl).
func dhParams(tb testing.TB) []byte {
	tb.Helper()
	bin := peertest.Need(tb, "openssl", testpeer.OpenSSL)
	out, err := exec.Command(bin, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048").Output()
	if err != nil {
		tb.Fatalf("openssl genpkey: %v", err)
	}
	return out
}

// startGo serves "ok" over HTTPS with Go's crypto/tls configured as p
// says, on a loopback port, until the test ends.
func startGo(tb testing.TB, cert tls.Certificate, p *Peer) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   p.GoVersions[0],
			MaxVersion:   p.GoVersions[len(p.GoVersions)-1],
			CipherSuites: p.GoSuites,
		},
		ReadHeaderTimeout: 10 * time.Second,
		// Every refused probe is a handshake error; they are expected.
		ErrorLog: log.New(io.Discard, "", 0),
		// HTTP/1.1 only: net/http refuses HTTP/2 without an AEAD suite.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && err != http.ErrServerClosed {
			tb.Errorf("go peer: %v", err)
		}
	}()
	tb.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// Wire versions, as Expected keys them.
const (
	VersionTLS10 = tls.VersionTLS10
	VersionTLS11 = tls.VersionTLS11
	VersionTLS12 = tls.VersionTLS12
	VersionTLS13 = tls.VersionTLS13
)

var nginxVersions = map[string]struct {
	wire uint16
	flag string
}{
	"TLSv1":   {VersionTLS10, "-tls1"},
	"TLSv1.1": {VersionTLS11, "-tls1_1"},
	"TLSv1.2": {VersionTLS12, "-tls1_2"},
	"TLSv1.3": {VersionTLS13, "-tls1_3"},
}

// nginxDefaultCiphers is nginx's ssl_ciphers when none is given.
const nginxDefaultCiphers = "HIGH:!aNULL:!MD5"

// Expected returns, for each version the peer offers, the suites it must
// accept, sorted: for an nginx peer what the openssl command (package
// openssl, the same library nginx runs on) lists for its ssl_ciphers and
// that version, less the suites its certificate and configuration cannot
// serve (another signature algorithm's, PSK and SRP ones, which need
// callbacks nginx does not set, and DHE ones without ssl_dhparam); for
// the Go peer its configured suites that crypto/tls allows for the
// version.
func Expected(tb testing.TB, p *Peer) map[uint16][]uint16 {
	tb.Helper()
	out := map[uint16][]uint16{}
	if !p.Nginx {
		info := map[uint16]*tls.CipherSuite{}
		for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			info[c.ID] = c
		}
		for _, v := range p.GoVersions {
			for _, id := range p.GoSuites {
				if slices.Contains(info[id].SupportedVersions, v) {
					out[v] = append(out[v], id)
				}
			}
			slices.Sort(out[v])
		}
		return out
	}
	bin := peertest.Need(tb, "openssl", testpeer.OpenSSL)
	ciphers := p.Ciphers
	if ciphers == "" {
		ciphers = nginxDefaultCiphers
	}
	auth := "Au=RSA"
	if _, ok := p.Leaf.PublicKey.(*ecdsa.PublicKey); ok {
		auth = "Au=ECDSA"
	}
	for _, name := range p.Protocols {
		v := nginxVersions[name]
		b, err := exec.Command(bin, "ciphers", "-V", "-s", v.flag, ciphers).Output()
		if err != nil {
			tb.Fatalf("openssl ciphers %s %s: %v", v.flag, ciphers, err)
		}
		ids := []uint16{}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 7 {
				continue
			}
			kx, au := f[4], f[5]
			switch {
			case v.wire == VersionTLS13:
			case strings.Contains(kx, "PSK"), kx == "Kx=SRP":
				continue
			case kx == "Kx=DH" && !p.DHParams:
				continue
			case au != auth && au != "Au=None":
				continue
			}
			hi, lo, ok := strings.Cut(f[0], ",")
			h, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
			l, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
			if !ok || err1 != nil || err2 != nil {
				tb.Fatalf("openssl ciphers: cannot read %q", line)
			}
			ids = append(ids, uint16(h)<<8|uint16(l))
		}
		slices.Sort(ids)
		out[v.wire] = ids
	}
	return out
}
