package localca

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/smallstep/truststore"
)

// Store names a trust store the root can be installed into.
type Store string

// The trust stores httpsguard manages, through github.com/smallstep/truststore
// (the library form of mkcert's trust code, also used by Caddy).
const (
	// StoreSystem is the operating system's store: the anchors directory
	// and update command of the Linux distribution, the macOS System
	// keychain, or the Windows ROOT store. Changing it needs administrator
	// rights, so installing may ask for a sudo password.
	StoreSystem Store = "system"
	// StoreNSS is every NSS database of the user: Firefox profiles
	// (including snap and Flatpak installs on Linux) and ~/.pki/nssdb, which
	// Chromium and Chrome use on Linux. It needs the certutil program.
	StoreNSS Store = "nss"
	// StoreJava is the cacerts keystore of the Java runtime at $JAVA_HOME.
	StoreJava Store = "java"
)

// AllStores lists every store in the order they are processed.
var AllStores = []Store{StoreSystem, StoreNSS, StoreJava}

// EnvTrustStores names the environment variable that chooses the stores
// "httpsguard ca install" and "uninstall" change when --store is not given,
// as mkcert's TRUST_STORES does: a list for ParseStores, such as "nss,java"
// on a machine where the system store must not be touched.
const EnvTrustStores = "HTTPSGUARD_TRUST_STORES"

// ParseStores parses a comma-separated list of store names ("system,nss");
// "all" or an empty string means AllStores.
func ParseStores(s string) ([]Store, error) {
	if s == "" || s == "all" {
		return AllStores, nil
	}
	var out []Store
	for name := range strings.SplitSeq(s, ",") {
		st := Store(strings.TrimSpace(strings.ToLower(name)))
		switch st {
		case StoreSystem, StoreNSS, StoreJava:
			out = append(out, st)
		default:
			return nil, fmt.Errorf("unknown trust store %q: want system, nss, java or all", name)
		}
	}
	return out, nil
}

// Outcome is what happened to one store.
type Outcome int

// Outcomes of installing into or uninstalling from a store.
const (
	// Changed: the root was installed, or removed.
	Changed Outcome = iota
	// Unchanged: the store already was in the requested state.
	Unchanged
	// Skipped: the store is not present or its tool is missing; Detail
	// says what to do about it.
	Skipped
	// Failed: the change was attempted and failed; Err says why.
	Failed
)

// StoreResult reports the outcome for one store.
type StoreResult struct {
	Store   Store
	Outcome Outcome
	// Detail is a human sentence: what was done, where, or why not and
	// how to fix it.
	Detail string
	// Err is set when Outcome is Failed.
	Err error
}

// isAdmin reports whether this process has administrator rights (root), so
// that changing the system store asks for no password and advice need not
// say sudo. On Windows, where os.Geteuid is -1, it is false. A variable for
// tests.
var isAdmin = func() bool { return os.Geteuid() == 0 }

// MayAskForPassword reports whether changing these stores may ask the user
// for a password: the system store is among them and this process is not
// already running as an administrator (sudo on Linux and macOS).
func MayAskForPassword(stores ...Store) bool {
	if len(stores) == 0 {
		stores = AllStores
	}
	for _, s := range stores {
		if s == StoreSystem {
			return !isAdmin()
		}
	}
	return false
}

// skipped is the result for a store that was left alone: the fact, and,
// when installing, the advice on how to include the store next time.
// Uninstalling, a store that is not there has nothing to remove, so the
// advice (start Firefox, set JAVA_HOME) would be wrong and is left out.
func skipped(install bool, fact, advice string) StoreResult {
	if install && advice != "" {
		fact += "; " + advice
	}
	return StoreResult{Outcome: Skipped, Detail: fact}
}

// trustMu serialises trust-store changes in this process: truststore keeps
// the Firefox profile location in a package variable that we point at each
// profile family in turn.
var trustMu sync.Mutex

// Install adds the root to the given stores (AllStores when none are given)
// and reports the outcome for each, in order. A store that is missing or
// fails does not stop the others. The context is checked between stores;
// the external programs truststore runs cannot be interrupted.
func (ca *CA) Install(ctx context.Context, stores ...Store) []StoreResult {
	return ca.changeTrust(ctx, true, stores)
}

// Uninstall removes the root from the given stores (AllStores when none are
// given) and reports the outcome for each.
func (ca *CA) Uninstall(ctx context.Context, stores ...Store) []StoreResult {
	return ca.changeTrust(ctx, false, stores)
}

func (ca *CA) changeTrust(ctx context.Context, install bool, stores []Store) []StoreResult {
	trustMu.Lock()
	defer trustMu.Unlock()
	if len(stores) == 0 {
		stores = AllStores
	}
	results := make([]StoreResult, 0, len(stores))
	for _, st := range stores {
		if err := ctx.Err(); err != nil {
			results = append(results, StoreResult{Store: st, Outcome: Failed, Detail: "not attempted", Err: err})
			continue
		}
		var r StoreResult
		switch st {
		case StoreSystem:
			r = ca.trustSystem(install)
		case StoreNSS:
			r = ca.trustNSS(install)
		case StoreJava:
			r = ca.trustJava(install)
		default:
			r = StoreResult{Outcome: Failed, Err: fmt.Errorf("unknown trust store %q", st)}
		}
		r.Store = st
		if r.Err != nil && r.Detail == "" {
			r.Detail = r.Err.Error()
		}
		results = append(results, r)
	}
	return results
}

// SystemTrusts reports whether the operating system trusts the root: on
// Linux and BSD whether the system's PEM bundle holds it (read afresh each
// time), on macOS and Windows whether the platform verifier accepts it,
// which a process reads once, so there the answer does not change after
// Install in the same process.
func (ca *CA) SystemTrusts() bool {
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && runtime.GOOS != "ios" {
		// Go's pool follows SSL_CERT_FILE, which "httpsguard ca env"
		// points at a bundle holding the root: ask the system's own
		// bundle instead.
		if path, err := SystemBundle(); err == nil {
			data, err := os.ReadFile(path)
			return err == nil && bytes.Contains(data, bytes.TrimSpace(ca.rootPEM))
		}
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		return false
	}
	_, err = ca.root.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

func (ca *CA) trustSystem(install bool) StoreResult {
	trusted := ca.SystemTrusts()
	switch {
	case install && trusted:
		return StoreResult{Outcome: Unchanged, Detail: "already trusted by the system store"}
	case !install && !trusted:
		return StoreResult{Outcome: Unchanged, Detail: "not in the system store"}
	}
	var err error
	if install {
		err = truststore.Install(ca.root)
	} else {
		err = truststore.Uninstall(ca.root)
	}
	if err != nil {
		return StoreResult{Outcome: Failed, Err: describeTrustError("system store", err)}
	}
	if install {
		return StoreResult{Outcome: Changed, Detail: "installed in the system store" + systemStoreNote()}
	}
	return StoreResult{Outcome: Changed, Detail: "removed from the system store"}
}

// nssProfileGlobs returns where Firefox keeps its profiles on this system.
// truststore knows the classic location; snap and Flatpak installs (the
// default Firefox on Ubuntu is a snap) keep them elsewhere.
func nssProfileGlobs(home string) []string {
	switch runtime.GOOS {
	case "linux", "freebsd":
		return []string{
			filepath.Join(home, ".mozilla", "firefox", "*"),
			filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox", "*"),
			filepath.Join(home, ".var", "app", "org.mozilla.firefox", ".mozilla", "firefox", "*"),
		}
	case "darwin":
		return []string{filepath.Join(home, "Library", "Application Support", "Firefox", "Profiles", "*")}
	}
	return nil
}

// nssDatabases lists the NSS databases certutil would be run on, for the
// report: ~/.pki/nssdb and Firefox profiles with a cert9.db or cert8.db.
func nssDatabases(home string) []string {
	var dbs []string
	candidates := []string{filepath.Join(home, ".pki", "nssdb")}
	for _, g := range nssProfileGlobs(home) {
		m, _ := filepath.Glob(g)
		candidates = append(candidates, m...)
	}
	for _, dir := range candidates {
		for _, f := range []string{"cert9.db", "cert8.db"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				dbs = append(dbs, dir)
				break
			}
		}
	}
	return dbs
}

func (ca *CA) trustNSS(install bool) StoreResult {
	switch runtime.GOOS {
	case "windows":
		return StoreResult{Outcome: Skipped, Detail: "NSS is not managed on Windows; Firefox there can trust the system store (security.enterprise_roots.enabled, on by default in recent versions)"}
	case "linux", "darwin", "freebsd":
	default:
		return StoreResult{Outcome: Skipped, Detail: "NSS is not supported on " + runtime.GOOS}
	}
	home := os.Getenv("HOME")
	dbs := nssDatabases(home)
	if len(dbs) == 0 {
		return skipped(install, "no NSS databases found (Firefox profiles or ~/.pki/nssdb)", "start Firefox or Chromium once, then run this again")
	}
	nss, err := truststore.NewNSSTrust()
	if err != nil {
		// Removing needs certutil too: the advice is a fact for both.
		return skipped(install, noCertutil(len(dbs)), "")
	}
	where := fmt.Sprintf("%d NSS database(s): %s", len(dbs), strings.Join(shortenHome(dbs, home), ", "))

	// truststore walks one glob of Firefox profiles plus ~/.pki/nssdb per
	// call; run it once per profile family present (at least once, for
	// ~/.pki/nssdb).
	globs := nssProfileGlobs(home)
	var families []string
	for _, g := range globs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			families = append(families, g)
		}
	}
	if len(families) == 0 {
		families = globs[:1]
	}
	saved := truststore.NSSProfile
	defer func() { truststore.NSSProfile = saved }()
	changed := false
	for _, g := range families {
		truststore.NSSProfile = g
		exists := nss.Exists(ca.root)
		var err error
		switch {
		case install && !exists:
			err = ca.withRootFile(func(name string) error { return nss.Install(name, ca.root) })
			changed = true
		case !install:
			// Exists is true only when every database has the root;
			// Uninstall removes it from those that do.
			err = nss.Uninstall("", ca.root)
			changed = true
		}
		if err != nil {
			return StoreResult{Outcome: Failed, Err: describeTrustError(where, err)}
		}
	}
	switch {
	case install && changed:
		return StoreResult{Outcome: Changed, Detail: "installed in " + where + "; restart Firefox/Chromium to pick it up"}
	case install:
		return StoreResult{Outcome: Unchanged, Detail: "already in " + where}
	default:
		return StoreResult{Outcome: Changed, Detail: "removed from " + where + " (where present)"}
	}
}

func (ca *CA) trustJava(install bool) StoreResult {
	if os.Getenv("JAVA_HOME") == "" {
		detail := "JAVA_HOME is not set, so no Java keystore was changed"
		if runtime.GOOS == "linux" {
			detail += " (Debian and Ubuntu copy the system store into Java's cacerts already)"
		}
		return skipped(install, detail, "to include a JDK, set JAVA_HOME and run this again")
	}
	java, err := truststore.NewJavaTrust()
	if err != nil {
		return StoreResult{Outcome: Skipped, Detail: "no keytool under $JAVA_HOME/bin; check JAVA_HOME=" + os.Getenv("JAVA_HOME")}
	}
	exists := java.Exists(ca.root)
	switch {
	case install && exists:
		return StoreResult{Outcome: Unchanged, Detail: "already in the Java keystore of " + os.Getenv("JAVA_HOME")}
	case !install && !exists:
		return StoreResult{Outcome: Unchanged, Detail: "not in the Java keystore of " + os.Getenv("JAVA_HOME")}
	}
	if install {
		err = ca.withRootFile(func(name string) error { return java.Install(name, ca.root) })
	} else {
		err = java.Uninstall("", ca.root)
	}
	if err != nil {
		return StoreResult{Outcome: Failed, Err: describeTrustError("Java keystore", err)}
	}
	if install {
		return StoreResult{Outcome: Changed, Detail: "installed in the Java keystore of " + os.Getenv("JAVA_HOME")}
	}
	return StoreResult{Outcome: Changed, Detail: "removed from the Java keystore of " + os.Getenv("JAVA_HOME")}
}

// withRootFile calls f with the path of a file holding the root PEM: the
// CA's own file when it is intact, else a temporary copy.
func (ca *CA) withRootFile(f func(name string) error) error {
	if data, err := os.ReadFile(ca.RootFile()); err == nil && bytes.Equal(data, ca.rootPEM) {
		return f(ca.RootFile())
	}
	tmp, err := os.CreateTemp("", "httpsguard-root-*.pem")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(ca.rootPEM); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return f(tmp.Name())
}

// describeTrustError adds the output of a failed external program, which
// truststore keeps but does not put in the message.
func describeTrustError(where string, err error) error {
	var cmdErr *truststore.CmdError
	if errors.As(err, &cmdErr) {
		out := strings.TrimSpace(string(cmdErr.Out()))
		if i := strings.LastIndexByte(out, '\n'); i >= 0 {
			out = strings.TrimSpace(out[i+1:])
		}
		if out != "" {
			return fmt.Errorf("%s: %w: %s", where, err, out)
		}
	}
	if errors.Is(err, truststore.ErrNotSupported) {
		return fmt.Errorf("%s: this system has no known trust anchor directory: %w", where, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// noCertutil says that n NSS databases were left alone for want of
// certutil, and how to install it.
func noCertutil(n int) string {
	return fmt.Sprintf("the certutil program is not installed, so %d NSS database(s) (Firefox, Chromium) were left alone; install it with %s and run this again", n, certutilInstallHelp(runtime.GOOS))
}

// certutilInstallHelp names the commands that install certutil on goos; an
// administrator is not told to use sudo.
func certutilInstallHelp(goos string) string {
	switch goos {
	case "darwin":
		return "\"brew install nss\""
	case "linux":
		sudo := "sudo "
		if isAdmin() {
			sudo = ""
		}
		return fmt.Sprintf("\"%sapt install libnss3-tools\" (Debian, Ubuntu), \"%sdnf install nss-tools\" (Fedora) or \"%spacman -S nss\" (Arch)", sudo, sudo, sudo)
	}
	return "your package manager (the package is usually nss or nss-tools)"
}

func shortenHome(paths []string, home string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if home != "" && strings.HasPrefix(p, home+string(filepath.Separator)) {
			p = "~" + p[len(home):]
		}
		out[i] = p
	}
	return out
}
