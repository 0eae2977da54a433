package localca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// File names inside the CA directory. They match mkcert's so that people who
// know one tool find their way in the other.
const (
	RootCertFile = "rootCA.pem"
	RootKeyFile  = "rootCA-key.pem"
)

// RootLifetime is how long a newly created root is valid: ten years, as
// mkcert and Caddy do, so a developer sets up trust once per machine.
const RootLifetime = 10 * 365 * 24 * time.Hour

// rootOrganization is the Organization of every root and the start of its
// common name, so the certificate is recognisable in trust-store listings.
const rootOrganization = "httpsguard development CA"

// CA is a loaded local certificate authority: the root certificate and the
// key that signs leaves.
type CA struct {
	dir     string
	root    *x509.Certificate
	rootPEM []byte
	key     crypto.Signer
	pool    *x509.CertPool
}

// Dir returns the directory the CA was loaded from.
func (ca *CA) Dir() string { return ca.dir }

// Root returns the root certificate. Callers must not modify it.
func (ca *CA) Root() *x509.Certificate { return ca.root }

// RootPEM returns the root certificate in PEM form.
func (ca *CA) RootPEM() []byte { return bytes.Clone(ca.rootPEM) }

// RootFile returns the path of the root certificate's PEM file, the file to
// hand to NODE_EXTRA_CA_CERTS or a --ca-file flag.
func (ca *CA) RootFile() string { return filepath.Join(ca.dir, RootCertFile) }

// KeyFile returns the path of the root's private key file.
func (ca *CA) KeyFile() string { return filepath.Join(ca.dir, RootKeyFile) }

// Pool returns a new certificate pool holding only this CA's root. Go reads
// the system roots once per process, so a root installed while a program runs
// is not seen by it; clients that must trust the CA build their pool from
// this one (or add the root to a copy of the system pool).
func (ca *CA) Pool() *x509.CertPool { return ca.pool.Clone() }

// dirLocks serialises creation of a CA per directory inside one process;
// the no-replace file operations in create handle other processes.
var dirLocks sync.Map // cleaned directory -> *sync.Mutex

func lockDir(dir string) func() {
	m, _ := dirLocks.LoadOrStore(filepath.Clean(dir), new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Load reads the CA stored in dir. When dir holds no CA, the error wraps
// fs.ErrNotExist. Files that exist but cannot be used (unreadable, corrupt,
// not a CA, or a key that does not match the certificate) give an error
// naming the file and the problem.
func Load(dir string) (*CA, error) {
	certPath := filepath.Join(dir, RootCertFile)
	keyPath := filepath.Join(dir, RootKeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return nil, fmt.Errorf("no local CA in %s: %w", dir, fs.ErrNotExist)
	case errors.Is(certErr, fs.ErrNotExist):
		return nil, &incompleteError{fmt.Sprintf("local CA in %s is incomplete: %s exists but %s is missing; restore it, or remove %s to create a new CA (then install it again)",
			dir, RootKeyFile, RootCertFile, keyPath)}
	case errors.Is(keyErr, fs.ErrNotExist):
		return nil, fmt.Errorf("local CA in %s has no private key (%s is missing), so it cannot issue certificates; restore the key, or remove %s to create a new CA (then install it again)",
			dir, RootKeyFile, certPath)
	case certErr != nil:
		return nil, fmt.Errorf("reading local CA certificate: %w", certErr)
	case keyErr != nil:
		return nil, fmt.Errorf("reading local CA key: %w", keyErr)
	}
	root, err := parseRootPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("local CA certificate %s: %w", certPath, err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("local CA key %s: %w", keyPath, err)
	}
	if !publicKeysEqual(root.PublicKey, key.Public()) {
		return nil, fmt.Errorf("local CA key %s does not belong to certificate %s; the files come from different CAs", keyPath, certPath)
	}
	return newCA(dir, root, key), nil
}

// LoadOrCreate loads the CA in dir, creating it (and dir, mode 0700) when
// there is none. created reports whether a new CA was made, which callers
// use to tell the user to run "httpsguard ca install". Concurrent calls,
// from goroutines or processes, agree on a single CA.
func LoadOrCreate(dir string) (ca *CA, created bool, err error) {
	ca, err = Load(dir)
	var incomplete *incompleteError
	if errors.As(err, &incomplete) {
		// Another process may be between writing the key and the
		// certificate.
		ca, err = loadWhenComplete(dir)
		return ca, false, err
	}
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return ca, false, err
	}
	unlock := lockDir(dir)
	defer unlock()
	// Another goroutine may have created it while we waited.
	if ca, err = Load(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return ca, false, err
	}
	ca, err = create(dir)
	if errors.Is(err, fs.ErrExist) {
		// Another process won the race; use its CA once its files are complete.
		ca, err = loadWhenComplete(dir)
		return ca, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

// incompleteError reports a CA directory with a key but no certificate:
// either another process is creating the CA right now, or a creation was
// interrupted.
type incompleteError struct{ msg string }

func (e *incompleteError) Error() string { return e.msg }

// creationWindow is how long after its key was written a CA without a
// certificate is taken to be still in creation rather than broken.
const creationWindow = 10 * time.Second

// loadWhenComplete loads a CA that another process is creating: its key
// appears first and its certificate a moment later. It waits while the key
// is younger than creationWindow, then reports the directory as it is.
func loadWhenComplete(dir string) (*CA, error) {
	for {
		ca, err := Load(dir)
		var incomplete *incompleteError
		if !errors.As(err, &incomplete) {
			return ca, err
		}
		fi, statErr := os.Stat(filepath.Join(dir, RootKeyFile))
		if statErr != nil || time.Since(fi.ModTime()) > creationWindow {
			return nil, err // an interrupted creation, not one in progress
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// create makes a new CA in dir. The key is written first and published with
// a no-replace link, which decides races between processes; the certificate
// follows with a no-replace link too. It returns an error wrapping
// fs.ErrExist if another CA appeared meanwhile.
func create(dir string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating CA directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	who := userAndHost()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{rootOrganization},
			OrganizationalUnit: []string{who},
			CommonName:         truncate(rootOrganization+" "+who, 64),
		},
		// Back-dated slightly so that a machine whose clock lags (a VM, a
		// container) still accepts certificates issued right away.
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(RootLifetime).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // leaves only: no intermediate can chain from it
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing new CA certificate: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeFileNew(filepath.Join(dir, RootKeyFile), keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("writing CA key: %w", err)
	}
	if err := writeFileNew(filepath.Join(dir, RootCertFile), certPEM, 0o644); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			// Leave no key without a certificate behind (a full disk, say),
			// so the next attempt starts clean.
			os.Remove(filepath.Join(dir, RootKeyFile))
		}
		return nil, fmt.Errorf("writing CA certificate: %w", err)
	}
	return newCA(dir, root, key), nil
}

func newCA(dir string, root *x509.Certificate, key crypto.Signer) *CA {
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &CA{
		dir:     dir,
		root:    root,
		rootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}),
		key:     key,
		pool:    pool,
	}
}

// parseRootPEM parses the root file: exactly one CERTIFICATE block holding a
// CA certificate.
func parseRootPEM(data []byte) (*x509.Certificate, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data found; the file is corrupt")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("PEM block is %q, want CERTIFICATE", block.Type)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("unexpected data after the certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("corrupt certificate: %w", err)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, errors.New("not a CA certificate")
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("certificate may not sign certificates (no certSign key usage)")
	}
	return cert, nil
}

// parseKeyPEM parses the key file: a PKCS #8 key, or the SEC 1 ("EC PRIVATE
// KEY") and PKCS #1 ("RSA PRIVATE KEY") forms other tools write, so a root
// made by mkcert or openssl can be used by pointing HTTPSGUARD_CAROOT at it.
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data found; the file is corrupt")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block is %q, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("corrupt private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return signer, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// randomSerial returns a positive random 128-bit serial number, as RFC 5280
// and the CA/Browser Forum require (at least 64 bits of entropy).
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// userAndHost names the person and machine a CA belongs to, so a root seen
// in a trust store can be traced back ("alice@laptop"). It is computed once:
// looking up the user reads /etc/passwd or asks the OS, which a server
// renewing certificates should not repeat.
var userAndHost = sync.OnceValue(func() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
})

// truncate shortens s to at most n bytes without splitting a UTF-8 sequence;
// X.509 limits the common name to 64 characters.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.TrimSpace(s)
}
