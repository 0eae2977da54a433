package autotls_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/httpsguard/httpsguard/internal/testnet"
)

// The end-to-end tests run Let's Encrypt's test CA, Pebble (the version
// pinned in go.mod as a tool), on loopback, with its challenge ports
// pointed at the server under test and its DNS lookups answered by a
// resolver of the test's own: every challenge is really validated.

var pebbleBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pebbleBuild.dir != "" {
		os.RemoveAll(pebbleBuild.dir)
	}
	os.Exit(code)
}

// pebbleBinary builds Pebble once per test binary, from the module cache.
func pebbleBinary(t *testing.T) string {
	t.Helper()
	pebbleBuild.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			pebbleBuild.err = fmt.Errorf("the go command is needed to build Pebble: %w", err)
			return
		}
		if pebbleBuild.dir, pebbleBuild.err = os.MkdirTemp("", "autotls-pebble-"); pebbleBuild.err != nil {
			return
		}
		pebbleBuild.path = filepath.Join(pebbleBuild.dir, "pebble")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", pebbleBuild.path, "github.com/letsencrypt/pebble/v2/cmd/pebble")
		if out, err := cmd.CombinedOutput(); err != nil {
			pebbleBuild.err = fmt.Errorf("building Pebble: %v\n%s", err, out)
		}
	})
	if pebbleBuild.err != nil {
		t.Fatal(pebbleBuild.err)
	}
	return pebbleBuild.path
}

// testDNS answers Pebble's A queries: names in a map, and 127.0.0.1 for
// every other name (AAAA queries get no answer, so Pebble dials IPv4).
type testDNS struct {
	addr string
	mu   sync.Mutex
	a    map[string]string // fully qualified name → IPv4 address
}

func startDNS(t *testing.T) *testDNS {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &testDNS{addr: ln.Addr().String(), a: map[string]string{}}
	srv := &dns.Server{Listener: ln, Handler: d}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return d
}

func (d *testDNS) set(name, ip string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[dns.Fqdn(name)] = ip
}

func (d *testDNS) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	for _, question := range q.Question {
		if question.Qtype != dns.TypeA {
			continue
		}
		d.mu.Lock()
		ip, ok := d.a[strings.ToLower(question.Name)]
		d.mu.Unlock()
		if !ok {
			ip = "127.0.0.1"
		}
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
			A:   net.ParseIP(ip),
		})
	}
	_ = w.WriteMsg(m)
}

// pebble is a running Pebble.
type pebble struct {
	directory string         // the ACME directory URL
	apiRoots  *x509.CertPool // trust for Pebble's own HTTPS endpoints
	mgmt      string         // the management interface's base URL
	root      *x509.Certificate
	rootFile  string // the root of the certificates it issues, as PEM
	logs      *syncBuffer
	stop      func() // kills it: the CA goes down
}

type pebbleConfig struct {
	httpPort, tlsPort int           // where its validation authority connects
	dns               string        // its resolver
	validity          time.Duration // of the certificates it issues
}

// startPebble runs Pebble on free loopback ports, with a certificate of the
// test's own for its API, and waits until its directory answers.
func startPebble(t *testing.T, pc pebbleConfig) *pebble {
	t.Helper()
	bin := pebbleBinary(t)
	dir := t.TempDir()
	apiRoots, certFile, keyFile := apiCertificate(t, dir)

	for attempt := 0; ; attempt++ {
		apiPort, err1 := testnet.ClosedPort()
		mgmtPort, err2 := testnet.ClosedPort()
		if err1 != nil || err2 != nil || apiPort == mgmtPort {
			t.Fatal(err1, err2)
		}
		cfg := map[string]any{"pebble": map[string]any{
			"listenAddress":                  "127.0.0.1:" + strconv.Itoa(apiPort),
			"managementListenAddress":        "127.0.0.1:" + strconv.Itoa(mgmtPort),
			"certificate":                    certFile,
			"privateKey":                     keyFile,
			"httpPort":                       pc.httpPort,
			"tlsPort":                        pc.tlsPort,
			"ocspResponderURL":               "",
			"externalAccountBindingRequired": false,
			"domainBlocklist":                []string{"blocked.test"},
			"retryAfter":                     map[string]int{"authz": 1, "order": 1},
			"keyAlgorithm":                   "ecdsa",
			"profiles": map[string]any{"default": map[string]any{
				"description":    "the test's",
				"validityPeriod": int(pc.validity / time.Second),
			}},
		}}
		js, _ := json.Marshal(cfg)
		cfgFile := filepath.Join(dir, "pebble-config.json")
		if err := os.WriteFile(cfgFile, js, 0o600); err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", pc.dns)
		cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		var once sync.Once
		stop := func() {
			once.Do(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
		}
		p := &pebble{
			directory: fmt.Sprintf("https://127.0.0.1:%d/dir", apiPort),
			mgmt:      fmt.Sprintf("https://127.0.0.1:%d", mgmtPort),
			apiRoots:  apiRoots,
			logs:      logs,
			stop:      stop,
		}
		if err := p.waitReady(exited); err != nil {
			stop()
			if attempt < 3 {
				t.Logf("Pebble did not start (%v), retrying on other ports:\n%s", err, logs.String())
				continue
			}
			t.Fatalf("Pebble did not start: %v\n%s", err, logs.String())
		}
		t.Cleanup(func() {
			stop()
			if t.Failed() {
				t.Logf("Pebble's log:\n%s", logs.String())
			}
		})
		p.fetchRoot(t, dir)
		return p
	}
}

func (p *pebble) client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.apiRoots}}}
}

func (p *pebble) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := p.client().Get(p.directory)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("it exited (%v)", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no directory after two minutes: %v", err)
		}
	}
}

// fetchRoot reads the root Pebble issues under from its management
// interface; Pebble makes a new one at every start.
func (p *pebble) fetchRoot(t *testing.T, dir string) {
	t.Helper()
	resp, err := p.client().Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("roots/0: %d %v", resp.StatusCode, err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("roots/0 is not PEM: %q", b)
	}
	if p.root, err = x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	p.rootFile = filepath.Join(dir, "pebble-root.pem")
	if err := os.WriteFile(p.rootFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *pebble) rootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

// apiCertificate makes a CA and a certificate for 127.0.0.1 signed by it,
// for Pebble's API and management endpoints.
func apiCertificate(t *testing.T, dir string) (*x509.CertPool, string, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "autotls test API CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "api-cert.pem"), filepath.Join(dir, "api-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, certFile, keyFile
}

// syncBuffer is a bytes.Buffer for several writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds, with a generous deadline: the machines
// the tests run on are shared and slow, and nothing here is timed.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting until %s", deadline, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
