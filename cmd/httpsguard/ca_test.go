package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/localca"
)

// runLocalCA runs the CLI in-process with an environment holding only env
// (plus NO_COLOR), and returns the exit code and both outputs.
func runLocalCA(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	st := &stdio{
		in:  strings.NewReader(""),
		out: &out,
		err: &errOut,
		getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return env[k]
		},
	}
	code := run(context.Background(), args, st)
	return code, out.String(), errOut.String()
}

func TestCAShowCreatesAndPrintsTheCA(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	env := map[string]string{"HTTPSGUARD_CAROOT": caDir}

	code, out, errOut := runLocalCA(t, env, "ca")
	if code != exitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	if !strings.Contains(errOut, "Created a new local CA") || !strings.Contains(errOut, "httpsguard ca install") {
		t.Errorf("first run does not announce the new CA and how to trust it:\n%s", errOut)
	}
	ca, err := localca.Load(caDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CA directory:  " + caDir, "Root:          " + ca.RootFile(), "SHA-256:", "Valid until:", "System trusts: no"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// The second run loads the same CA quietly.
	code, _, errOut = runLocalCA(t, env, "ca")
	if code != exitOK || strings.Contains(errOut, "Created") {
		t.Errorf("second run: exit %d, stderr %q", code, errOut)
	}

	code, out, _ = runLocalCA(t, env, "ca", "root")
	if code != exitOK || out != ca.RootFile()+"\n" {
		t.Errorf("ca root = %d %q, want %q", code, out, ca.RootFile())
	}
	code, out, _ = runLocalCA(t, env, "ca", "dir")
	if code != exitOK || out != caDir+"\n" {
		t.Errorf("ca dir = %d %q, want %q", code, out, caDir)
	}
}

func TestCAShowWarnsAboutAReadableKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	caDir := t.TempDir()
	ca, _, err := localca.LoadOrCreate(caDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ca.KeyFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runLocalCA(t, map[string]string{"HTTPSGUARD_CAROOT": caDir}, "ca")
	if code != exitOK || !strings.Contains(errOut, "other users can read the CA key") || !strings.Contains(errOut, "chmod 600") {
		t.Errorf("exit %d, stderr %q; want a warning with the chmod fix", code, errOut)
	}
}

func TestCADirWithoutCADoesNotCreateIt(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	code, out, _ := runLocalCA(t, map[string]string{"HTTPSGUARD_CAROOT": caDir}, "ca", "dir")
	if code != exitOK || out != caDir+"\n" {
		t.Errorf("ca dir = %d %q", code, out)
	}
	if _, err := os.Stat(caDir); err == nil {
		t.Error("ca dir created the CA")
	}
	// The default location follows XDG_DATA_HOME.
	data := t.TempDir()
	_, out, _ = runLocalCA(t, map[string]string{"HOME": "/nonexistent", "XDG_DATA_HOME": data}, "ca", "dir")
	if want := filepath.Join(data, "httpsguard") + "\n"; out != want {
		t.Errorf("ca dir with XDG_DATA_HOME = %q, want %q", out, want)
	}
}

func TestCABundleAndEnv(t *testing.T) {
	caDir := t.TempDir()
	env := map[string]string{"HTTPSGUARD_CAROOT": caDir}
	code, out, errOut := runLocalCA(t, env, "ca", "bundle", "--output", filepath.Join(caDir, "b.pem"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ca, err := localca.Load(caDir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(strings.TrimSpace(out))
	if err != nil || !bytes.Contains(data, bytes.TrimSpace(ca.RootPEM())) {
		t.Errorf("bundle file %q lacks the root (%v)", out, err)
	}

	code, out, _ = runLocalCA(t, env, "ca", "bundle", "--output", "-")
	if code != exitOK || !strings.Contains(out, strings.TrimSpace(string(ca.RootPEM()))) {
		t.Errorf("ca bundle --output - did not print the bundle")
	}

	code, out, _ = runLocalCA(t, env, "ca", "env")
	if code != exitOK {
		t.Fatalf("ca env: exit %d", code)
	}
	for _, want := range []string{
		"export NODE_EXTRA_CA_CERTS=" + ca.RootFile(),
		"export SSL_CERT_FILE=",
		"export REQUESTS_CA_BUNDLE=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ca env lacks %q:\n%s", want, out)
		}
	}
}

func TestCAUsageErrors(t *testing.T) {
	env := map[string]string{"HTTPSGUARD_CAROOT": t.TempDir()}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ca", "frobnicate"}, "unknown subcommand"},
		{[]string{"ca", "install", "--store", "firefox"}, "unknown trust store"},
		{[]string{"ca", "install", "extra"}, "unexpected argument"},
		{[]string{"ca", "env", "--output", "x.pem"}, `--output is for "httpsguard ca bundle"`},
		{[]string{"ca", "root", "--store", "nss"}, `--store is for "httpsguard ca install"`},
	}
	for _, tt := range tests {
		code, _, errOut := runLocalCA(t, env, tt.args...)
		if code != exitError || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 mentioning %q", tt.args, code, errOut, tt.want)
		}
	}
	// Neither usage error created a CA.
	if _, err := localca.Load(env["HTTPSGUARD_CAROOT"]); err == nil {
		t.Error("a usage error created a CA")
	}
}

func TestCAUninstallWithoutCA(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "none")
	code, _, errOut := runLocalCA(t, map[string]string{"HTTPSGUARD_CAROOT": caDir}, "ca", "uninstall")
	if code != exitOK || !strings.Contains(errOut, "nothing to uninstall") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(caDir); err == nil {
		t.Error("uninstall created a CA")
	}
}

func TestCAHelp(t *testing.T) {
	code, out, _ := runLocalCA(t, nil, "help", "ca")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"install", "NODE_EXTRA_CA_CERTS", "REPLACE", "--store", "HTTPSGUARD_CAROOT"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestCAShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/home/a/.local/share/httpsguard/rootCA.pem":        "/home/a/.local/share/httpsguard/rootCA.pem",
		"/Users/a/Library/Application Support/httpsguard/x": "'/Users/a/Library/Application Support/httpsguard/x'",
		"it's": `'it'\''s'`,
		"":     "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

const caChildEnv = "HTTPSGUARD_CA_CLI_CHILD"

// TestCAInstallChild runs "httpsguard ca ARGS" for TestCAInstallNSS in a
// child process whose HOME is temporary. It does nothing when run normally.
func TestCAInstallChild(t *testing.T) {
	args := os.Getenv(caChildEnv)
	if args == "" {
		t.Skip("helper process for TestCAInstallNSS")
	}
	st := &stdio{in: strings.NewReader(""), out: os.Stdout, err: os.Stdout, getenv: os.Getenv}
	fmt.Printf("EXIT %d\n", run(context.Background(), strings.Fields(args), st))
}

// TestCAInstallNSS runs "ca install" and "ca uninstall" for the NSS store
// end to end, against databases in a temporary HOME made with certutil.
func TestCAInstallNSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux NSS locations")
	}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		testpeer.Missing(t, testpeer.Certutil, err.Error())
	}
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	os.MkdirAll(db, 0o700)
	if out, err := exec.Command(certutil, "-N", "-d", "sql:"+db, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	caDir := filepath.Join(home, "ca")
	child := func(args string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCAInstallChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "HOME="+home, "HTTPSGUARD_CAROOT="+caDir, "NO_COLOR=1", caChildEnv+"="+args)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", args, err, out)
		}
		return string(out)
	}

	out := child("ca install --store nss")
	ca, err := localca.Load(caDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"EXIT 0",
		"nss     done",
		"~/.pki/nssdb",
		"export NODE_EXTRA_CA_CERTS=" + ca.RootFile(),
		"export REQUESTS_CA_BUNDLE=",
		"REPLACES the default roots",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Run \"httpsguard ca install\"") {
		t.Error("ca install tells the user to run ca install")
	}
	if l, _ := exec.Command(certutil, "-L", "-d", "sql:"+db).CombinedOutput(); !strings.Contains(string(l), ca.Root().Subject.CommonName) {
		t.Errorf("root not in the NSS database after install:\n%s", l)
	}

	if out := child("ca install --store nss"); !strings.Contains(out, "nss     unchanged") {
		t.Errorf("second install is not reported unchanged:\n%s", out)
	}
	if out := child("ca uninstall --store nss"); !strings.Contains(out, "nss     done") || !strings.Contains(out, "EXIT 0") {
		t.Errorf("uninstall output:\n%s", out)
	}
	if l, _ := exec.Command(certutil, "-L", "-d", "sql:"+db).CombinedOutput(); strings.Contains(string(l), ca.Root().Subject.CommonName) {
		t.Error("root still in the NSS database after uninstall")
	}
}

// TestCATrustStoresFromEnv: HTTPSGUARD_TRUST_STORES chooses the stores when
// --store is not given, and a bad value is an error that names its source.
// Only the Java store is used, with JAVA_HOME unset, so nothing is changed.
func TestCATrustStoresFromEnv(t *testing.T) {
	t.Setenv("JAVA_HOME", "")
	env := map[string]string{"HTTPSGUARD_CAROOT": filepath.Join(t.TempDir(), "ca"), localca.EnvTrustStores: "java"}
	code, out, errOut := runLocalCA(t, env, "ca", "install")
	if code != exitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	if !strings.Contains(out, "java    skipped") || strings.Contains(out, "  system  ") || strings.Contains(out, "  nss  ") {
		t.Errorf("install with %s=java changed other stores:\n%s", localca.EnvTrustStores, out)
	}

	env[localca.EnvTrustStores] = "java,floppy"
	if code, _, errOut := runLocalCA(t, env, "ca", "install"); code != exitError || !strings.Contains(errOut, localca.EnvTrustStores+`: unknown trust store "floppy"`) {
		t.Errorf("bad %s: exit %d, stderr %q", localca.EnvTrustStores, code, errOut)
	}
	// The flag wins over the variable, and its errors name the flag.
	if code, _, errOut := runLocalCA(t, env, "ca", "install", "--store", "tape"); code != exitError || !strings.Contains(errOut, `--store: unknown trust store "tape"`) {
		t.Errorf("--store with %s set: exit %d, stderr %q", localca.EnvTrustStores, code, errOut)
	}
}

// TestCATrustMessages checks the words of "ca install" and "ca uninstall"
// around the stores: no sudo for an administrator, and no advice to
// install when uninstalling from a store that is not there.
func TestCATrustMessages(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	env := map[string]string{"HTTPSGUARD_CAROOT": caDir}
	// No NSS database and no JDK: both stores are skipped.
	t.Setenv("HOME", t.TempDir())
	t.Setenv("JAVA_HOME", "")
	if code, _, errOut := runLocalCA(t, env, "ca"); code != exitOK {
		t.Fatalf("creating the CA: %s", errOut)
	}
	// The sudo line, for the system store, as localca says (its wording
	// for an administrator is tested there). Removing a root the system
	// does not trust changes nothing: the store is only read.
	code, out, errOut := runLocalCA(t, env, "ca", "uninstall", "--store", "system")
	if code != exitOK || !strings.Contains(out, "not in the system store") {
		t.Fatalf("uninstall --store system: exit %d:\n%s%s", code, out, errOut)
	}
	if got, want := strings.Contains(errOut, "sudo"), localca.MayAskForPassword(localca.StoreSystem); got != want {
		t.Errorf("sudo mentioned %v, want %v:\n%s", got, want, errOut)
	}

	code, out, errOut = runLocalCA(t, env, "ca", "uninstall", "--store", "nss,java")
	if code != exitOK {
		t.Fatalf("uninstall: exit %d: %s", code, errOut)
	}
	for _, advice := range []string{"run this again", "start Firefox", "set JAVA_HOME", "ca install"} {
		if strings.Contains(out+errOut, advice) {
			t.Errorf("uninstall gives install advice %q:\n%s%s", advice, out, errOut)
		}
	}
	for _, fact := range []string{"no NSS databases found", "JAVA_HOME is not set"} {
		if !strings.Contains(out, fact) {
			t.Errorf("uninstall output lacks %q:\n%s", fact, out)
		}
	}
	code, out, _ = runLocalCA(t, env, "ca", "install", "--store", "nss,java")
	if code != exitOK || !strings.Contains(out, "start Firefox or Chromium once, then run this again") {
		t.Errorf("install lost its advice for a missing NSS database (exit %d):\n%s", code, out)
	}
}
