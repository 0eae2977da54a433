package localca

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/internal/testpeer"
)

// These tests never touch the system store or the real user's NSS
// databases and keystores: the NSS test runs in a child process whose HOME
// is a temporary directory (truststore reads HOME when it starts), and the
// Java test points JAVA_HOME at a copy of the JDK's cacerts.

func needProgram(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		peer := testpeer.Peer{Name: name, Install: "install " + name}
		switch name {
		case "certutil":
			peer = testpeer.Certutil
		case "keytool":
			peer = testpeer.Keytool
		}
		testpeer.Missing(t, peer, err.Error())
	}
	return path
}

func TestParseStores(t *testing.T) {
	tests := []struct {
		in      string
		want    []Store
		wantErr bool
	}{
		{"", AllStores, false},
		{"all", AllStores, false},
		{"system", []Store{StoreSystem}, false},
		{"nss, Java", []Store{StoreNSS, StoreJava}, false},
		{"firefox", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseStores(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseStores(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

const childEnv = "HTTPSGUARD_LOCALCA_TRUST_CHILD"

// TestTrustChild is the child process of TestNSSInstallUninstall. It does
// nothing when run normally.
func TestTrustChild(t *testing.T) {
	action := os.Getenv(childEnv)
	if action == "" {
		t.Skip("helper process for TestNSSInstallUninstall")
	}
	ca, err := Load(os.Getenv(EnvCARoot))
	if err != nil {
		t.Fatal(err)
	}
	var results []StoreResult
	if action == "install" {
		results = ca.Install(context.Background(), StoreNSS)
	} else {
		results = ca.Uninstall(context.Background(), StoreNSS)
	}
	for i := range results {
		results[i].Err = nil // not JSON-friendly; Detail carries it
	}
	json.NewEncoder(os.Stdout).Encode(results)
}

func runTrustChild(t *testing.T, home, caDir, action string, env ...string) StoreResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrustChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HOME="+home, childEnv+"="+action, EnvCARoot+"="+caDir)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", action, err, out)
	}
	var results []StoreResult
	for line := range bytes.SplitSeq(out, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("[")) {
			if err := json.Unmarshal(line, &results); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(results) != 1 || results[0].Store != StoreNSS {
		t.Fatalf("child %s printed %v, want one NSS result\n%s", action, results, out)
	}
	return results[0]
}

func TestNSSInstallUninstall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the NSS test builds Linux profile locations")
	}
	certutil := needProgram(t, "certutil")
	home := t.TempDir()
	dbs := []string{
		filepath.Join(home, ".pki", "nssdb"),                                             // Chromium
		filepath.Join(home, ".mozilla", "firefox", "abcd.default-release"),               // Firefox
		filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox", "x.dev"), // Firefox snap
	}
	for _, db := range dbs {
		if err := os.MkdirAll(db, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(certutil, "-N", "-d", "sql:"+db, "--empty-password").CombinedOutput(); err != nil {
			t.Fatalf("certutil -N: %v\n%s", err, out)
		}
	}
	ca := newTestCA(t)
	inDB := func(db string) bool {
		out, err := exec.Command(certutil, "-L", "-d", "sql:"+db).CombinedOutput()
		if err != nil {
			t.Fatalf("certutil -L: %v\n%s", err, out)
		}
		return strings.Contains(string(out), ca.Root().Subject.CommonName)
	}

	r := runTrustChild(t, home, ca.Dir(), "install")
	if r.Outcome != Changed || !strings.Contains(r.Detail, "3 NSS database(s)") {
		t.Errorf("install: %+v, want Changed in 3 databases", r)
	}
	for _, db := range dbs {
		if !inDB(db) {
			t.Errorf("root not in %s after install", db)
		}
	}
	if r := runTrustChild(t, home, ca.Dir(), "install"); r.Outcome != Unchanged {
		t.Errorf("second install: %+v, want Unchanged", r)
	}
	if r := runTrustChild(t, home, ca.Dir(), "uninstall"); r.Outcome != Changed {
		t.Errorf("uninstall: %+v, want Changed", r)
	}
	for _, db := range dbs {
		if inDB(db) {
			t.Errorf("root still in %s after uninstall", db)
		}
	}
}

func TestNSSWithoutDatabasesIsSkipped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux profile locations")
	}
	needProgram(t, "certutil")
	ca := newTestCA(t)
	r := runTrustChild(t, t.TempDir(), ca.Dir(), "install")
	if r.Outcome != Skipped || !strings.Contains(r.Detail, "no NSS databases") {
		t.Errorf("install with an empty HOME: %+v, want Skipped explaining there are no databases", r)
	}
}

func TestNSSWithoutCertutilSaysHowToInstallIt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux profile locations")
	}
	home := t.TempDir()
	// A database is present, so only the missing program stops us.
	db := filepath.Join(home, ".pki", "nssdb")
	os.MkdirAll(db, 0o700)
	write(t, filepath.Join(db, "cert9.db"), "")
	ca := newTestCA(t)
	r := runTrustChild(t, home, ca.Dir(), "install", "PATH="+t.TempDir())
	if r.Outcome != Skipped || !strings.Contains(r.Detail, "certutil") || !strings.Contains(r.Detail, "libnss3-tools") {
		t.Errorf("install without certutil: %+v, want Skipped naming libnss3-tools", r)
	}
}

func TestJavaInstallUninstall(t *testing.T) {
	// Each keytool run starts a JVM; keep their number small.
	keytool := needProgram(t, "keytool")
	real, err := filepath.EvalSymlinks(keytool)
	if err != nil {
		t.Fatal(err)
	}
	jdk := filepath.Dir(filepath.Dir(real))
	cacerts := filepath.Join(jdk, "lib", "security", "cacerts")
	src, err := os.Open(cacerts)
	if err != nil {
		t.Skipf("no cacerts next to %s: %v", real, err)
	}
	defer src.Close()

	// A JAVA_HOME of our own: the real keytool, a copy of cacerts.
	javaHome := t.TempDir()
	os.MkdirAll(filepath.Join(javaHome, "bin"), 0o755)
	os.MkdirAll(filepath.Join(javaHome, "lib", "security"), 0o755)
	if err := os.Symlink(real, filepath.Join(javaHome, "bin", "keytool")); err != nil {
		t.Fatal(err)
	}
	dst, err := os.Create(filepath.Join(javaHome, "lib", "security", "cacerts"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	t.Setenv("JAVA_HOME", javaHome)
	// keytool is a JVM start each time; the quick-start JIT and GC settings
	// roughly halve it.
	t.Setenv("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

	ca := newTestCA(t)
	listed := func() bool {
		out, err := exec.Command(keytool, "-list", "-keystore", filepath.Join(javaHome, "lib", "security", "cacerts"),
			"-storepass", "changeit", "-alias", ca.Root().Subject.CommonName+" "+ca.Root().SerialNumber.String()).CombinedOutput()
		return err == nil && bytes.Contains(out, []byte("trustedCertEntry"))
	}
	ctx := context.Background()
	if r := ca.Install(ctx, StoreJava)[0]; r.Outcome != Changed {
		t.Fatalf("install: %+v", r)
	}
	if !listed() {
		t.Error("root not in the keystore after install")
	}
	if r := ca.Uninstall(ctx, StoreJava)[0]; r.Outcome != Changed {
		t.Errorf("uninstall: %+v", r)
	}
	if listed() {
		t.Error("root still in the keystore after uninstall")
	}
}

func TestJavaWithoutJavaHomeIsSkipped(t *testing.T) {
	t.Setenv("JAVA_HOME", "")
	ca := newTestCA(t)
	r := ca.Install(context.Background(), StoreJava)[0]
	if r.Outcome != Skipped || !strings.Contains(r.Detail, "JAVA_HOME") {
		t.Errorf("install without JAVA_HOME: %+v, want Skipped mentioning JAVA_HOME", r)
	}
}

func TestTrustStopsOnCancelledContext(t *testing.T) {
	ca := newTestCA(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Cancelled before the first store: nothing runs, not even sudo.
	for _, r := range ca.Install(ctx, StoreSystem, StoreJava) {
		if r.Outcome != Failed || r.Err == nil {
			t.Errorf("%s: %+v, want Failed with the context error", r.Store, r)
		}
	}
}

// TestSkippedStoreWording pins the words of a store left alone, which
// "httpsguard ca" prints as they are: advice on how to include the store
// only when installing (a store that is not there has nothing to remove),
// and no sudo for an administrator.
func TestSkippedStoreWording(t *testing.T) {
	t.Setenv("JAVA_HOME", "")
	t.Setenv("HOME", t.TempDir()) // no NSS database; truststore is not reached
	ca := newTestCA(t)
	ctx := context.Background()
	stores := []Store{StoreJava}
	if runtime.GOOS == "linux" {
		stores = append(stores, StoreNSS)
	}
	installed, removed := ca.Install(ctx, stores...), ca.Uninstall(ctx, stores...)
	for i, s := range stores {
		in, un := installed[i], removed[i]
		if in.Outcome != Skipped || un.Outcome != Skipped {
			t.Fatalf("%s: outcomes %v and %v, want both skipped", s, in.Outcome, un.Outcome)
		}
		if !strings.Contains(in.Detail, "run this again") {
			t.Errorf("%s install: %q lacks the advice to run it again", s, in.Detail)
		}
		if strings.Contains(un.Detail, "run this again") || strings.Contains(un.Detail, "start Firefox") || strings.Contains(un.Detail, "set JAVA_HOME and") {
			t.Errorf("%s uninstall: %q gives install advice", s, un.Detail)
		}
		if !strings.HasPrefix(in.Detail, un.Detail+"; ") {
			t.Errorf("%s: uninstall says %q, want the fact install starts with (%q)", s, un.Detail, in.Detail)
		}
	}

	saved := isAdmin
	defer func() { isAdmin = saved }()
	for _, admin := range []bool{false, true} {
		isAdmin = func() bool { return admin }
		help := certutilInstallHelp("linux")
		if got := strings.Contains(help, "sudo"); got == admin || !strings.Contains(help, "apt install libnss3-tools") {
			t.Errorf("admin %v: certutil advice %q (sudo mentioned: %v)", admin, help, got)
		}
		if got := MayAskForPassword(StoreSystem, StoreNSS); got == admin {
			t.Errorf("admin %v: MayAskForPassword(system, nss) = %v", admin, got)
		}
		if MayAskForPassword(StoreNSS, StoreJava) {
			t.Errorf("admin %v: MayAskForPassword without the system store = true", admin)
		}
	}
}
