package localca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestCA(t *testing.T) *CA {
	t.Helper()
	ca, created, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("LoadOrCreate in an empty directory reported created = false")
	}
	return ca
}

func TestLoadOrCreateMakesARootLikeTheBestLocalCAs(t *testing.T) {
	before := time.Now()
	ca := newTestCA(t)
	root := ca.Root()

	pub, ok := root.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("root key is %T, want ECDSA P-256", root.PublicKey)
	}
	if root.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("signature algorithm = %v, want ECDSA-SHA256", root.SignatureAlgorithm)
	}
	if !root.IsCA || !root.BasicConstraintsValid || root.MaxPathLen != 0 || !root.MaxPathLenZero {
		t.Errorf("basic constraints: IsCA=%v valid=%v MaxPathLen=%d zero=%v, want a CA limited to leaves",
			root.IsCA, root.BasicConstraintsValid, root.MaxPathLen, root.MaxPathLenZero)
	}
	if root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("key usage = %v, want certSign|cRLSign", root.KeyUsage)
	}
	if len(root.SubjectKeyId) == 0 {
		t.Error("root has no subject key identifier")
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Errorf("root is not self-signed: %v", err)
	}
	if !strings.HasPrefix(root.Subject.CommonName, "httpsguard development CA ") || !strings.Contains(root.Subject.CommonName, "@") {
		t.Errorf("common name = %q, want \"httpsguard development CA user@host\"", root.Subject.CommonName)
	}
	if len(root.Subject.Organization) != 1 || root.Subject.Organization[0] != "httpsguard development CA" {
		t.Errorf("organization = %q", root.Subject.Organization)
	}
	if life := root.NotAfter.Sub(root.NotBefore); life < RootLifetime || life > RootLifetime+2*time.Hour {
		t.Errorf("root lifetime = %v, want about ten years", life)
	}
	if root.NotBefore.After(before) {
		t.Errorf("NotBefore %v is after creation time %v; it should be back-dated for clock skew", root.NotBefore, before)
	}
	if got, want := ca.RootFile(), filepath.Join(ca.Dir(), "rootCA.pem"); got != want {
		t.Errorf("RootFile = %q, want %q", got, want)
	}
	if !ca.Pool().Equal(ca.Pool()) {
		t.Error("Pool is not stable")
	}
	if _, err := root.Verify(x509.VerifyOptions{Roots: ca.Pool()}); err != nil {
		t.Errorf("root does not verify against its own pool: %v", err)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "nested", "ca")
	ca, _, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		dir:               0o700 | fs.ModeDir,
		ca.KeyFile():      0o600,
		ca.RootFile():     0o644,
		filepath.Dir(dir): 0o700 | fs.ModeDir, // parents made by MkdirAll get the same mode
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode = %v, want %v", path, fi.Mode(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("CA directory holds %d entries, want 2 (no temporary files left): %v", len(entries), entries)
	}
}

func TestLoadReturnsTheCreatedCA(t *testing.T) {
	ca := newTestCA(t)
	again, err := Load(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if !again.Root().Equal(ca.Root()) {
		t.Error("reloaded root differs from the created one")
	}
	if !publicKeysEqual(again.key.Public(), ca.key.Public()) {
		t.Error("reloaded key differs from the created one")
	}
	// A leaf from the reloaded CA verifies against the original pool.
	leaf, err := again.Issue("localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(leaf.Leaf, "localhost", time.Time{}); err != nil {
		t.Errorf("leaf from the reloaded CA does not verify against the created one: %v", err)
	}
	ca2, created, err := LoadOrCreate(ca.Dir())
	if err != nil || created || !ca2.Root().Equal(ca.Root()) {
		t.Errorf("LoadOrCreate on an existing CA: created=%v err=%v, want the same CA", created, err)
	}
}

func TestLoadWithoutCAWrapsErrNotExist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := Load(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing dir) = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Load created the directory")
	}
}

func TestLoadRejectsDamagedCAs(t *testing.T) {
	other := newTestCA(t)
	otherKey, _ := os.ReadFile(other.KeyFile())
	leaf, err := other.Issue("localhost")
	if err != nil {
		t.Fatal(err)
	}
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]})

	tests := []struct {
		name   string
		damage func(ca *CA)
		want   string
	}{
		{"corrupt certificate", func(ca *CA) { write(t, ca.RootFile(), "not a certificate") }, "corrupt"},
		{"truncated certificate", func(ca *CA) { truncateFile(t, ca.RootFile(), 200) }, "rootCA.pem"},
		{"certificate with bad DER", func(ca *CA) {
			write(t, ca.RootFile(), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})))
		}, "corrupt certificate"},
		{"key PEM in the certificate file", func(ca *CA) { write(t, ca.RootFile(), string(otherKey)) }, "want CERTIFICATE"},
		{"leaf instead of root", func(ca *CA) { write(t, ca.RootFile(), string(leafPEM)) }, "not a CA"},
		{"two certificates", func(ca *CA) { write(t, ca.RootFile(), string(ca.RootPEM())+string(leafPEM)) }, "unexpected data"},
		{"corrupt key", func(ca *CA) { write(t, ca.KeyFile(), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }, "corrupt private key"},
		{"empty key", func(ca *CA) { write(t, ca.KeyFile(), "") }, "no PEM data"},
		{"key of another CA", func(ca *CA) { write(t, ca.KeyFile(), string(otherKey)) }, "does not belong"},
		{"certificate missing", func(ca *CA) {
			os.Remove(ca.RootFile())
			// An old key: an interrupted creation, not one in progress.
			old := time.Now().Add(-time.Hour)
			os.Chtimes(ca.KeyFile(), old, old)
		}, "rootCA.pem is missing"},
		{"key missing", func(ca *CA) { os.Remove(ca.KeyFile()) }, "no private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newTestCA(t)
			tt.damage(ca)
			_, err := Load(ca.Dir())
			if err == nil {
				t.Fatal("Load succeeded on a damaged CA")
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v wraps fs.ErrNotExist, so callers would create a new CA over the damaged one", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			// LoadOrCreate must not paper over damage with a new CA.
			if _, _, err := LoadOrCreate(ca.Dir()); err == nil {
				t.Error("LoadOrCreate succeeded on a damaged CA")
			}
		})
	}
}

const createChildEnv = "HTTPSGUARD_LOCALCA_CREATE_CHILD"

// TestCreateChild is the child process of
// TestLoadOrCreateAcrossProcesses. It does nothing when run normally.
func TestCreateChild(t *testing.T) {
	dir := os.Getenv(createChildEnv)
	if dir == "" {
		t.Skip("helper process for TestLoadOrCreateAcrossProcesses")
	}
	ca, created, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RESULT %v %x\n", created, sha256.Sum256(ca.Root().Raw))
}

func TestLoadOrCreateAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := filepath.Join(t.TempDir(), "ca")
	const n = 4
	cmds := make([]*exec.Cmd, n)
	outs := make([]bytes.Buffer, n)
	for i := range n {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestCreateChild$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), createChildEnv+"="+dir)
		cmds[i].Stdout = &outs[i]
		cmds[i].Stderr = &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	created, fingerprints := 0, map[string]bool{}
	for i := range n {
		if err := cmds[i].Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i].String())
		}
		var wasCreated bool
		var fp string
		line := outs[i].String()
		j := strings.Index(line, "RESULT ")
		if j < 0 {
			t.Fatalf("child %d printed no result:\n%s", i, line)
		}
		if _, err := fmt.Sscanf(line[j:], "RESULT %t %s", &wasCreated, &fp); err != nil {
			t.Fatal(err)
		}
		if wasCreated {
			created++
		}
		fingerprints[fp] = true
	}
	if created != 1 || len(fingerprints) != 1 {
		t.Errorf("%d processes created a CA and they saw %d different roots; want 1 and 1", created, len(fingerprints))
	}
	ca, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fingerprints[fmt.Sprintf("%x", sha256.Sum256(ca.Root().Raw))] {
		t.Error("the CA on disk is not the one the processes used")
	}
}

// A process that finds a fresh key without its certificate waits for the
// process creating the CA instead of failing or making another one.
func TestLoadOrCreateWaitsForCreationInProgress(t *testing.T) {
	src := newTestCA(t)
	dir := t.TempDir()
	keyPEM, _ := os.ReadFile(src.KeyFile())
	write(t, filepath.Join(dir, RootKeyFile), string(keyPEM))
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(100 * time.Millisecond)
		writeFileNew(filepath.Join(dir, RootCertFile), src.RootPEM(), 0o644)
	}()
	ca, created, err := LoadOrCreate(dir)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if created || !ca.Root().Equal(src.Root()) {
		t.Errorf("created = %v, same root = %v; want the CA the other process made", created, ca.Root().Equal(src.Root()))
	}
}

func TestLoadOrCreateConcurrentCallsAgree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	const n = 8
	var (
		wg      sync.WaitGroup
		cas     [n]*CA
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() { cas[i], created[i], errs[i] = LoadOrCreate(dir) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if created[i] {
			creators++
		}
		if !cas[i].Root().Equal(cas[0].Root()) {
			t.Errorf("call %d got a different root", i)
		}
	}
	if creators != 1 {
		t.Errorf("%d calls reported creating the CA, want 1", creators)
	}
}

// A CA made by another tool (mkcert writes SEC 1 or PKCS #1 keys; an
// openssl root may be RSA and expire soon) works when HTTPSGUARD_CAROOT
// points at it.
func TestLoadForeignCA(t *testing.T) {
	tests := []struct {
		name    string
		key     func() (any, []byte, string)
		expires time.Duration
	}{
		{"EC PRIVATE KEY", func() (any, []byte, string) {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			der, _ := x509.MarshalECPrivateKey(k)
			return k, der, "EC PRIVATE KEY"
		}, 10 * 365 * 24 * time.Hour},
		{"RSA PRIVATE KEY", func() (any, []byte, string) {
			k, _ := rsa.GenerateKey(rand.Reader, 2048)
			return k, x509.MarshalPKCS1PrivateKey(k), "RSA PRIVATE KEY"
		}, 30 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			key, keyDER, keyType := tt.key()
			root := writeRoot(t, dir, key, time.Now().Add(tt.expires))
			write(t, filepath.Join(dir, RootKeyFile), string(pem.EncodeToMemory(&pem.Block{Type: keyType, Bytes: keyDER})))
			ca, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := ca.Issue("localhost")
			if err != nil {
				t.Fatal(err)
			}
			if err := ca.Verify(leaf.Leaf, "localhost", time.Time{}); err != nil {
				t.Error(err)
			}
			// A leaf never outlives its root.
			if leaf.Leaf.NotAfter.After(root.NotAfter) {
				t.Errorf("leaf NotAfter %v is after the root's %v", leaf.Leaf.NotAfter, root.NotAfter)
			}
		})
	}
}

func TestIssueFromExpiredRootFails(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeRoot(t, dir, key, time.Now().Add(-time.Hour))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	write(t, filepath.Join(dir, RootKeyFile), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	ca, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue("localhost"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("Issue from an expired root: err = %v, want it to say the CA expired", err)
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 64, "short"},
		{"abcdef", 3, "abc"},
		{"abé", 3, "ab"}, // é is two bytes; never split it
		{"ab cd", 3, "ab"},
	} {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func writeRoot(t *testing.T, dir string, key any, notAfter time.Time) *x509.Certificate {
	t.Helper()
	pub := key.(crypto.Signer).Public()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: "foreign test root"},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, RootCertFile), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncateFile(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseCAFiles feeds arbitrary file contents to the parsers Load uses:
// a damaged CA directory must give an error, never a panic.
func FuzzParseCAFiles(f *testing.F) {
	dir := f.TempDir()
	ca, _, err := LoadOrCreate(dir)
	if err != nil {
		f.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(ca.KeyFile())
	f.Add(ca.RootPEM(), keyPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte(""), []byte("-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, certData, keyData []byte) {
		root, certErr := parseRootPEM(certData)
		key, keyErr := parseKeyPEM(keyData)
		if certErr == nil && (root == nil || !root.IsCA) {
			t.Fatal("parseRootPEM accepted a non-CA certificate")
		}
		if keyErr == nil && key == nil {
			t.Fatal("parseKeyPEM returned no key and no error")
		}
		if certErr == nil && keyErr == nil {
			publicKeysEqual(root.PublicKey, key.Public())
		}
	})
}

func TestRootFileFromEnv(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	getenv := func(k string) string {
		if k == EnvCARoot {
			return dir
		}
		return ""
	}
	// No CA: an error that says so, and nothing created.
	if _, err := RootFileFromEnv(getenv); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Errorf("without a CA: %v, want fs.ErrNotExist naming %s", err, dir)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("RootFileFromEnv created the CA directory")
	}
	ca, _, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := RootFileFromEnv(getenv); err != nil || got != ca.RootFile() {
		t.Errorf("RootFileFromEnv = %q, %v; want %q", got, err, ca.RootFile())
	}
	// A damaged root is an error, not a pool that trusts nothing.
	if err := os.WriteFile(ca.RootFile(), []byte("not PEM"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := RootFileFromEnv(getenv); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("damaged root: %v, want an error other than not-exist", err)
	}
}
