package localca

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// BundleFile is the name of the combined bundle inside the CA directory.
const BundleFile = "ca-bundle.pem"

// systemBundles are the PEM bundles Linux distributions and others keep, in
// the order Go's crypto/x509 tries them.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine, macOS, BSDs
	"/usr/local/etc/ssl/cert.pem",                       // FreeBSD
}

// SystemBundle returns the path of the operating system's PEM bundle of
// trusted roots, the file that SSL_CERT_FILE replaces. It fails on systems
// without one (Windows keeps its roots in the registry).
func SystemBundle() (string, error) {
	if runtime.GOOS == "windows" {
		return "", errors.New("windows keeps its trusted roots in the certificate store, not in a PEM file")
	}
	for _, p := range systemBundles {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no system CA bundle found (looked in %d known places): %w", len(systemBundles), fs.ErrNotExist)
}

// Bundle returns the system bundle followed by this CA's root: a file for
// the variables that replace the trusted roots instead of adding to them
// (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), so that public sites
// keep working next to local ones. When the system bundle already holds the
// root (after Install) it is returned unchanged. Without a system bundle
// (Windows) the result is the root alone.
func (ca *CA) Bundle() ([]byte, error) {
	path, err := SystemBundle()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || runtime.GOOS == "windows" {
			return ca.RootPEM(), nil
		}
		return nil, err
	}
	sys, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading system CA bundle: %w", err)
	}
	if bytes.Contains(sys, bytes.TrimSpace(ca.rootPEM)) {
		return sys, nil
	}
	var b bytes.Buffer
	b.Grow(len(sys) + len(ca.rootPEM) + 128)
	b.Write(sys)
	if len(sys) > 0 && sys[len(sys)-1] != '\n' {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\n# %s\n", ca.root.Subject.CommonName)
	b.Write(ca.rootPEM)
	return b.Bytes(), nil
}

// WriteBundle writes Bundle to path (mode 0644), replacing it atomically.
// Rerun it after the system's roots are updated, as the copy does not
// follow them.
func (ca *CA) WriteBundle(path string) error {
	data, err := ca.Bundle()
	if err != nil {
		return err
	}
	if err := writeFileReplace(path, data, 0o644); err != nil {
		return fmt.Errorf("writing CA bundle: %w", err)
	}
	return nil
}

// BundlePath returns the path of a PEM bundle holding the system's roots and
// this CA's root, for the variables that replace the roots. After Install
// into the system store that is the system bundle itself, which stays
// current as the system updates it; otherwise the combined copy is written
// to BundleFile in the CA directory.
func (ca *CA) BundlePath() (string, error) {
	if sys, err := SystemBundle(); err == nil {
		if data, err := os.ReadFile(sys); err == nil && bytes.Contains(data, bytes.TrimSpace(ca.rootPEM)) {
			return sys, nil
		}
	}
	path := filepath.Join(ca.dir, BundleFile)
	if err := ca.WriteBundle(path); err != nil {
		return "", err
	}
	return path, nil
}

// EnvVar is an environment variable that makes a runtime which ignores the
// system store trust the local CA.
type EnvVar struct {
	Name  string
	Value string
	// For names the programs that read it.
	For string
	// Replaces is true when the variable replaces the runtime's trusted
	// roots instead of adding to them: pointing it at the root alone would
	// break every public HTTPS site, so Value is a combined bundle.
	Replaces bool
}

// EnvVars returns the variables to set for runtimes that do not read the
// system trust store, given the path of a combined bundle (see Bundle) for
// the variables that replace the roots. Node.js and Deno add the file to
// their own roots, so they get the root alone.
func (ca *CA) EnvVars(bundlePath string) []EnvVar {
	return []EnvVar{
		{Name: "NODE_EXTRA_CA_CERTS", Value: ca.RootFile(), For: "Node.js, Bun, Electron (read once at start-up)"},
		{Name: "DENO_CERT", Value: ca.RootFile(), For: "Deno"},
		{Name: "REQUESTS_CA_BUNDLE", Value: bundlePath, For: "Python requests (it ships its own roots in certifi)", Replaces: true},
		{Name: "SSL_CERT_FILE", Value: bundlePath, For: "OpenSSL-based clients: Python's ssl and httpx, Ruby, PHP, curl, Go on Linux", Replaces: true},
	}
}
