package localca

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteFiles(t *testing.T) {
	ca := newTestCA(t)
	cert, err := ca.Issue("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := WriteFiles(cert, certFile, keyFile, false); err != nil {
		t.Fatal(err)
	}

	// The files load as a key pair any Go server would use.
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pair.Certificate[0], cert.Certificate[0]) {
		t.Error("written certificate differs from the issued one")
	}
	keyPEM, _ := os.ReadFile(keyFile)
	if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("key is not PKCS #8 PEM: %.40q", keyPEM)
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]fs.FileMode{certFile: 0o644, keyFile: 0o600} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s mode = %v (%v), want %v", path, fi.Mode().Perm(), err, want)
			}
		}
	}

	// Existing files are not replaced without overwrite, and a refused write
	// leaves both files as they were.
	other, _ := ca.Issue("other.test")
	for _, existing := range []string{certFile, keyFile} {
		c, k := filepath.Join(dir, "new-c.pem"), filepath.Join(dir, "new-k.pem")
		if existing == certFile {
			c = certFile
		} else {
			k = keyFile
		}
		err := WriteFiles(other, c, k, false)
		if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "--force") {
			t.Errorf("WriteFiles over existing %s: err = %v, want fs.ErrExist mentioning --force", existing, err)
		}
		for _, f := range []string{"new-c.pem", "new-k.pem"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("refused write left %s behind", f)
			}
		}
	}
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(after, keyPEM) {
		t.Error("refused write changed the key")
	}

	// With overwrite they are replaced, keeping the modes.
	if err := WriteFiles(other, certFile, keyFile, true); err != nil {
		t.Fatal(err)
	}
	pair, err = tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil || !bytes.Equal(pair.Certificate[0], other.Certificate[0]) {
		t.Errorf("overwrite did not replace the pair: %v", err)
	}
	if fi, _ := os.Stat(keyFile); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("overwritten key mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want 2 (no temporary files)", len(entries))
	}

	if err := WriteFiles(cert, certFile, certFile, true); err == nil {
		t.Error("WriteFiles with the same file for certificate and key succeeded")
	}
	if err := WriteFiles(cert, filepath.Join(dir, "missing", "c.pem"), filepath.Join(dir, "k2.pem"), false); err == nil {
		t.Error("WriteFiles into a missing directory succeeded")
	} else if _, err := os.Stat(filepath.Join(dir, "k2.pem")); err == nil {
		t.Error("failed write left an orphan key")
	}
}

func TestDefaultFileNames(t *testing.T) {
	tests := []struct {
		names []string
		cert  string
		key   string
	}{
		{[]string{"localhost"}, "localhost.pem", "localhost-key.pem"},
		{[]string{"localhost", "127.0.0.1", "::1"}, "localhost+2.pem", "localhost+2-key.pem"},
		{[]string{"*.myapp.test", "myapp.test"}, "_wildcard.myapp.test+1.pem", "_wildcard.myapp.test+1-key.pem"},
		{[]string{"::1"}, "__1.pem", "__1-key.pem"},
		{[]string{"bücher.test"}, "xn--bcher-kva.test.pem", "xn--bcher-kva.test-key.pem"},
	}
	for _, tt := range tests {
		names, err := ParseNames(tt.names...)
		if err != nil {
			t.Fatal(err)
		}
		c, k := DefaultFileNames(names)
		if c != tt.cert || k != tt.key {
			t.Errorf("DefaultFileNames(%q) = %q, %q; want %q, %q", tt.names, c, k, tt.cert, tt.key)
		}
	}
}

func TestDirFor(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		goos    string
		getenv  func(string) string
		want    string
		wantErr bool
	}{
		{"linux", env("HOME", "/home/a"), "/home/a/.local/share/httpsguard", false},
		{"linux", env("HOME", "/home/a", "XDG_DATA_HOME", "/data"), "/data/httpsguard", false},
		{"linux", env("HOME", "/home/a", "XDG_DATA_HOME", "relative"), "/home/a/.local/share/httpsguard", false},
		{"linux", env("HOME", "/home/a", EnvCARoot, "/srv/ca"), "/srv/ca", false},
		{"darwin", env("HOME", "/Users/a"), "/Users/a/Library/Application Support/httpsguard", false},
		{"windows", env("LocalAppData", "/c/Users/a/AppData/Local"), "/c/Users/a/AppData/Local/httpsguard", false},
		{"windows", env(), "", true},
		{"linux", env(), "", true},
		{"freebsd", env("HOME", "/home/a"), "/home/a/.local/share/httpsguard", false},
	}
	for _, tt := range tests {
		got, err := dirFor(tt.goos, tt.getenv)
		if (err != nil) != tt.wantErr || got != filepath.FromSlash(tt.want) {
			t.Errorf("dirFor(%s) = %q, %v; want %q (error %v)", tt.goos, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), EnvCARoot) {
			t.Errorf("error %q does not suggest %s", err, EnvCARoot)
		}
	}
	// A relative HTTPSGUARD_CAROOT is made absolute, so the path printed
	// for NODE_EXTRA_CA_CERTS works from any directory.
	got, err := dirFor("linux", env(EnvCARoot, "ci-ca"))
	if err != nil || !filepath.IsAbs(got) || filepath.Base(got) != "ci-ca" {
		t.Errorf("relative %s gave %q, %v", EnvCARoot, got, err)
	}
}

func TestBundle(t *testing.T) {
	ca := newTestCA(t)
	data, err := ca.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, bytes.TrimSpace(ca.RootPEM())) {
		t.Error("bundle does not contain the root")
	}
	if sys, err := SystemBundle(); err == nil {
		sysData, _ := os.ReadFile(sys)
		if !bytes.HasPrefix(data, sysData) {
			t.Error("bundle does not start with the system roots")
		}
	}
	if ca.SystemTrusts() {
		t.Error("SystemTrusts is true for a root nobody installed")
	}
	path, err := ca.BundlePath()
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(ca.Dir(), BundleFile) {
		t.Errorf("BundlePath = %s, want the copy in the CA directory (the root is not installed)", path)
	}
	if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, data) {
		t.Error("bundle file differs from Bundle()")
	}
	vars := ca.EnvVars(path)
	byName := map[string]EnvVar{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	if v := byName["NODE_EXTRA_CA_CERTS"]; v.Value != ca.RootFile() || v.Replaces {
		t.Errorf("NODE_EXTRA_CA_CERTS = %+v, want the root file, adding", v)
	}
	for _, name := range []string{"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"} {
		if v := byName[name]; v.Value != path || !v.Replaces {
			t.Errorf("%s = %+v, want the bundle, replacing", name, v)
		}
	}
}
