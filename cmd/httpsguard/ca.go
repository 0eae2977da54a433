package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/internal/termcolor"
	"github.com/httpsguard/httpsguard/localca"
)

func init() {
	register(&command{
		name:    "ca",
		summary: "show, trust or untrust the local certificate authority",
		usage: `httpsguard ca [root | dir | env]
httpsguard ca install [--store system,nss,java]
httpsguard ca uninstall [--store system,nss,java]
httpsguard ca bundle [--output FILE]`,
		help: `The local CA signs the certificates of "httpsguard cert" and "httpsguard serve".
It is created on first use: an ECDSA P-256 root valid for ten years, named
after you and this machine, with its private key readable by you alone. It
lives in $HTTPSGUARD_CAROOT when set, else in your data directory
($XDG_DATA_HOME/httpsguard or ~/.local/share/httpsguard on Linux,
~/Library/Application Support/httpsguard on macOS, %LocalAppData%\httpsguard
on Windows).

Subcommands:
  (none)     print the CA directory, root file, fingerprint, expiry and
             whether the system trusts it
  root       print only the path of the root certificate (PEM), for
             variables such as NODE_EXTRA_CA_CERTS
  dir        print only the CA directory (never creates the CA)
  install    add the root to the system store (may ask for your sudo
             password), to every NSS database (Firefox profiles, and
             ~/.pki/nssdb for Chromium on Linux; needs certutil) and to
             Java's cacerts (when JAVA_HOME is set), then print the
             variables for runtimes that ignore the system store
  uninstall  remove the root from the same stores; the CA files stay
             (--store, or $HTTPSGUARD_TRUST_STORES when --store is not
             given, chooses the stores for both: HTTPSGUARD_TRUST_STORES=nss)
  bundle     write the system roots plus this root to one PEM file, for
             variables that REPLACE the default roots (SSL_CERT_FILE,
             REQUESTS_CA_BUNDLE); default file: ca-bundle.pem in the CA
             directory
  env        print shell "export" lines for Node.js, Deno, Python requests
             and OpenSSL-based clients: eval "$(httpsguard ca env)"

Anyone with the key file can make certificates your browsers accept for
any site: never share it. To start over, uninstall, delete the directory,
and install again.

Examples:
  httpsguard ca
  httpsguard ca install
  httpsguard ca install --store nss
  export NODE_EXTRA_CA_CERTS="$(httpsguard ca root)"
  httpsguard ca bundle --output - > bundle.pem
  HTTPSGUARD_CAROOT=./ci-ca httpsguard ca dir`,
		flags: caFlags,
	})
}

func caFlags(fs *flagSet, st *stdio) func(context.Context, []string) (int, error) {
	storeList := fs.list("store", "trust `store` for install and uninstall: system, nss, java or all (repeatable, or comma-separated; default all, or $HTTPSGUARD_TRUST_STORES when set)", true)
	output := fs.String("output", "", "`file` for \"ca bundle\" (\"-\" for standard output; default ca-bundle.pem in the CA directory)")
	fs.alias("out", "output")
	var rootOnly, dirOnly bool
	fs.deprecate("root", boolValue{&rootOnly}, `use "httpsguard ca root"`, "")
	fs.deprecate("dir", boolValue{&dirOnly}, `use "httpsguard ca dir"`, "")
	return func(ctx context.Context, args []string) (int, error) {
		sub := ""
		if len(args) > 0 {
			sub, args = args[0], args[1:]
		}
		if len(args) > 0 {
			return exitError, usagef("unexpected argument %q", args[0])
		}
		switch {
		case sub == "" && rootOnly:
			sub = "root"
		case sub == "" && dirOnly:
			sub = "dir"
		}
		switch sub {
		case "", "root", "dir", "install", "uninstall", "bundle", "env":
		default:
			return exitError, usagef("unknown subcommand %q (want root, dir, install, uninstall, bundle or env)", sub)
		}
		if fs.isSet("output") && sub != "bundle" {
			return exitError, usagef("--output is for \"httpsguard ca bundle\"")
		}
		var stores []localca.Store
		if sub == "install" || sub == "uninstall" {
			list, source := strings.Join(*storeList, ","), "--store"
			if v := st.getenv(localca.EnvTrustStores); v != "" && !fs.isSet("store") {
				list, source = v, localca.EnvTrustStores
			}
			var err error
			if stores, err = localca.ParseStores(list); err != nil {
				return exitError, usagef("%s: %v", source, err)
			}
		} else if fs.isSet("store") {
			return exitError, usagef("--store is for \"httpsguard ca install\" and \"uninstall\"")
		}
		dir, err := localca.DirFromEnv(st.getenv)
		if err != nil {
			return exitError, err
		}
		if sub == "dir" {
			fmt.Fprintln(st.out, dir)
			return exitOK, nil
		}
		var ca *localca.CA
		if sub == "uninstall" {
			// Uninstalling must not create a CA only to remove it.
			ca, err = localca.Load(dir)
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(st.err, "No local CA in %s: nothing to uninstall.\n", dir)
				return exitOK, nil
			}
		} else {
			ca, err = loadOrCreateCAHint(dir, st, sub != "install")
		}
		if err != nil {
			return exitError, err
		}
		paint := termcolor.Painter{On: termcolor.Enabled(st.out, st.getenv)}
		switch sub {
		case "install", "uninstall":
			return caTrust(ctx, st, paint, ca, sub == "install", stores)
		case "bundle":
			return caBundle(st, ca, *output)
		case "env":
			return caEnv(st, ca)
		case "root":
			fmt.Fprintln(st.out, ca.RootFile())
			return exitOK, nil
		}
		caShow(st, paint, ca)
		return exitOK, nil
	}
}

// boolValue is a boolean flag writing to a bool, for deprecated switches.
type boolValue struct{ b *bool }

func (v boolValue) String() string {
	if v.b != nil && *v.b {
		return "true"
	}
	return "false"
}

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	*v.b = b
	return err
}

func (v boolValue) IsBoolFlag() bool { return true }

// loadOrCreateCA loads the CA in dir and tells the user on st.err when it
// had to be created, since a new root is trusted nowhere yet. Other commands
// ("serve") call it too.
func loadOrCreateCA(dir string, st *stdio) (*localca.CA, error) {
	return loadOrCreateCAHint(dir, st, true)
}

func loadOrCreateCAHint(dir string, st *stdio, suggestInstall bool) (*localca.CA, error) {
	ca, created, err := localca.LoadOrCreate(dir)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(st.err, "Created a new local CA in %s.\n", dir)
		if suggestInstall {
			fmt.Fprintln(st.err, "Run \"httpsguard ca install\" to make browsers and tools trust it.")
		}
		fmt.Fprintln(st.err)
	}
	return ca, nil
}

func caShow(st *stdio, paint termcolor.Painter, ca *localca.CA) {
	root := ca.Root()
	sum := sha256.Sum256(root.Raw)
	trusted := paint.Paint("no", termcolor.Yellow) + ` (run "httpsguard ca install")`
	if ca.SystemTrusts() {
		trusted = paint.Paint("yes", termcolor.Green)
	}
	w := st.out
	fmt.Fprintf(w, "CA directory:  %s\n", ca.Dir())
	fmt.Fprintf(w, "Root:          %s\n", ca.RootFile())
	fmt.Fprintf(w, "Key:           %s\n", ca.KeyFile())
	fmt.Fprintf(w, "Name:          %s\n", root.Subject.CommonName)
	fmt.Fprintf(w, "SHA-256:       %s\n", colonHex(sum[:]))
	fmt.Fprintf(w, "Valid until:   %s\n", root.NotAfter.Format(time.DateOnly))
	if left := time.Until(root.NotAfter); left < 90*24*time.Hour {
		fmt.Fprintf(st.err, "%s the local CA expires in %d days. To replace it: httpsguard ca uninstall, delete %s, httpsguard ca install.\n",
			paint.Paint("warning:", termcolor.Yellow, termcolor.Bold), int(left.Hours()/24), ca.Dir())
	}
	fmt.Fprintf(w, "System trusts: %s\n", trusted)
	if warn := keyModeWarning(ca.KeyFile()); warn != "" {
		fmt.Fprintf(st.err, "%s %s\n", paint.Paint("warning:", termcolor.Yellow, termcolor.Bold), warn)
	}
}

func caTrust(ctx context.Context, st *stdio, paint termcolor.Painter, ca *localca.CA, install bool, stores []localca.Store) (int, error) {
	verb := "Installing"
	if !install {
		verb = "Removing"
	}
	fmt.Fprintf(st.out, "%s the local CA root %s\n", verb, ca.RootFile())
	if localca.MayAskForPassword(stores...) {
		fmt.Fprintln(st.err, "The system store needs administrator rights: you may be asked for your sudo password.")
	}
	var results []localca.StoreResult
	if install {
		results = ca.Install(ctx, stores...)
	} else {
		results = ca.Uninstall(ctx, stores...)
	}
	code := exitOK
	for _, r := range results {
		var status string
		switch r.Outcome {
		case localca.Changed:
			status = paint.Paint("done     ", termcolor.Green)
		case localca.Unchanged:
			status = paint.Paint("unchanged", termcolor.Dim)
		case localca.Skipped:
			status = paint.Paint("skipped  ", termcolor.Yellow)
		case localca.Failed:
			status = paint.Paint("FAILED   ", termcolor.Red, termcolor.Bold)
			code = exitError
		}
		fmt.Fprintf(st.out, "  %-6s  %s  %s\n", r.Store, status, r.Detail)
	}
	if !install {
		fmt.Fprintf(st.out, "\nThe CA files stay in %s; delete the directory to destroy the CA.\n", ca.Dir())
		return code, nil
	}
	fmt.Fprintln(st.out, "\nRuntimes that ignore the system store need a variable:")
	bundle, err := ca.BundlePath()
	if err != nil {
		return exitError, err
	}
	for _, v := range ca.EnvVars(bundle) {
		fmt.Fprintf(st.out, "  export %s=%s\n", v.Name, shellQuote(v.Value))
		note := "for " + v.For
		if v.Replaces {
			note += "; it REPLACES the default roots, so it points at a bundle with the system roots plus this one"
		}
		fmt.Fprintf(st.out, "      %s\n", paint.Paint(note, termcolor.Dim))
	}
	if bundle == filepath.Join(ca.Dir(), localca.BundleFile) {
		fmt.Fprintln(st.out, "  The bundle is a copy: rerun \"httpsguard ca bundle\" after the system's roots are updated.")
	}
	fmt.Fprintln(st.out, "  Or add them all to your shell: eval \"$(httpsguard ca env)\"")
	return code, nil
}

func caBundle(st *stdio, ca *localca.CA, out string) (int, error) {
	switch out {
	case "-":
		data, err := ca.Bundle()
		if err != nil {
			return exitError, inSub("bundle", err)
		}
		st.out.Write(data)
		return exitOK, nil
	case "":
		out = filepath.Join(ca.Dir(), localca.BundleFile)
	}
	if err := ca.WriteBundle(out); err != nil {
		return exitError, inSub("bundle", err)
	}
	fmt.Fprintln(st.out, out)
	fmt.Fprintf(st.err, "Wrote the system roots plus the local CA root to %s.\nUse it for variables that replace the roots, e.g. export SSL_CERT_FILE=%s\n", out, shellQuote(out))
	return exitOK, nil
}

func caEnv(st *stdio, ca *localca.CA) (int, error) {
	bundle, err := ca.BundlePath()
	if err != nil {
		return exitError, inSub("env", err)
	}
	for _, v := range ca.EnvVars(bundle) {
		fmt.Fprintf(st.out, "export %s=%s  # %s\n", v.Name, shellQuote(v.Value), v.For)
	}
	return exitOK, nil
}

// keyModeWarning returns a warning when the CA key can be read by other
// users, which would let them forge certificates this machine trusts.
func keyModeWarning(path string) string {
	fi, err := os.Stat(path)
	if err != nil || runtime.GOOS == "windows" {
		return ""
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("%s has mode %04o: other users can read the CA key; run: chmod 600 %s", path, fi.Mode().Perm(), shellQuote(path))
	}
	return ""
}

func colonHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02X", c)
	}
	return sb.String()
}
