package main

import (
	"crypto/rsa"
	"crypto/tls"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca"
)

func TestCertWritesTrustedFiles(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	outDir := filepath.Join(t.TempDir(), "certs")
	env := map[string]string{"HTTPSGUARD_CAROOT": caDir}

	code, out, errOut := runLocalCA(t, env, "cert", "--dir", outDir, "localhost", "127.0.0.1", "::1", "bücher.test", "*.myapp.test")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	certFile := filepath.Join(outDir, "localhost+4.pem")
	keyFile := filepath.Join(outDir, "localhost+4-key.pem")
	for _, want := range []string{"5 name(s)", "xn--bcher-kva.test  (bücher.test)", "*.myapp.test", "::1", certFile, keyFile, "0600"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "httpsguard ca install") {
		t.Errorf("stderr does not say how to trust the new CA:\n%s", errOut)
	}

	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := localca.Load(caDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "xn--bcher-kva.test", "api.myapp.test"} {
		if err := ca.Verify(pair.Leaf, host, time.Time{}); err != nil {
			t.Errorf("written certificate does not verify for %s: %v", host, err)
		}
	}
	if got := pair.Leaf.NotAfter.Sub(pair.Leaf.NotBefore); got != localca.DefaultLeafLifetime {
		t.Errorf("lifetime = %v, want %v", got, localca.DefaultLeafLifetime)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
			t.Errorf("key mode = %v, want 0600", fi.Mode().Perm())
		}
	}

	// Running again refuses to replace the files...
	before, _ := os.ReadFile(keyFile)
	code, _, errOut = runLocalCA(t, env, "cert", "--dir", outDir, "localhost", "127.0.0.1", "::1", "bücher.test", "*.myapp.test")
	if code != exitError || !strings.Contains(errOut, "--force") {
		t.Errorf("second run: exit %d, stderr %q; want a refusal mentioning --force", code, errOut)
	}
	if after, _ := os.ReadFile(keyFile); string(after) != string(before) {
		t.Error("refused run changed the key")
	}
	// ...unless forced.
	code, _, errOut = runLocalCA(t, env, "cert", "--force", "--dir", outDir, "localhost", "127.0.0.1", "::1", "bücher.test", "*.myapp.test")
	if code != exitOK {
		t.Errorf("--force: exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(keyFile); string(after) == string(before) {
		t.Error("--force did not replace the key")
	}
}

func TestCertOptions(t *testing.T) {
	caDir := t.TempDir()
	outDir := t.TempDir()
	env := map[string]string{"HTTPSGUARD_CAROOT": caDir}
	code, _, errOut := runLocalCA(t, env, "cert", "legacy.test", "--dir", outDir, "--cert-file", "tls.crt", "--key-file", "tls.key",
		"--key-type", "rsa-2048", "--valid-for", "30d", "--client")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(outDir, "tls.crt"), filepath.Join(outDir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pair.PrivateKey.(*rsa.PrivateKey); !ok {
		t.Errorf("key is %T, want RSA", pair.PrivateKey)
	}
	if got := pair.Leaf.NotAfter.Sub(pair.Leaf.NotBefore); got != 30*24*time.Hour {
		t.Errorf("lifetime = %v, want 30 days", got)
	}
	if len(pair.Leaf.ExtKeyUsage) != 2 {
		t.Errorf("ExtKeyUsage = %v, want server and client auth", pair.Leaf.ExtKeyUsage)
	}
	if !slices.Equal(pair.Leaf.DNSNames, []string{"legacy.test"}) {
		t.Errorf("DNSNames = %q", pair.Leaf.DNSNames)
	}
}

func TestCertErrors(t *testing.T) {
	outDir := t.TempDir()
	caDir := filepath.Join(t.TempDir(), "ca")
	env := map[string]string{"HTTPSGUARD_CAROOT": caDir}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"cert"}, "no names"},
		{[]string{"cert", "a.*.example.test"}, `invalid certificate name "a.*.example.test"`},
		{[]string{"cert", "localhost", "*"}, `invalid certificate name "*"`},
		{[]string{"cert", "*.*.example.test"}, "one wildcard level"},
		{[]string{"cert", "example.test:8443"}, "host:port"},
		{[]string{"cert", "--valid-for", "826d", "localhost"}, "at most 825d"},
		{[]string{"cert", "--valid-for", "0", "localhost"}, "more than 0"},
		{[]string{"cert", "--valid-for", "30", "localhost"}, "want a duration"},
		{[]string{"cert", "--days", "826", "localhost"}, "at most 825d"},
		{[]string{"cert", "--key-type", "dsa", "localhost"}, "unknown key type"},
		{[]string{"cert", "--cert-file", "same.pem", "--key-file", "same.pem", "localhost"}, "two different files"},
	}
	for _, tt := range tests {
		args := append(tt.args, "--dir", outDir)
		code, _, errOut := runLocalCA(t, env, args...)
		if code != exitError || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 mentioning %q", tt.args, code, errOut, tt.want)
		}
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 0 {
		t.Errorf("failed runs wrote files: %v", entries)
	}
}
