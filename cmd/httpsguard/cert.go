package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/httpsguard/httpsguard/internal/termcolor"
	"github.com/httpsguard/httpsguard/localca"
)

func init() {
	register(&command{
		name:    "cert",
		summary: "make a trusted certificate for local names (localhost, *.myapp.test, IPs)",
		usage:   "httpsguard cert [--dir DIR] [--cert-file FILE] [--key-file FILE] [--force] [--valid-for DURATION] NAME...",
		help: `Issues a certificate from the local CA (created on first use; see "httpsguard
ca") for every NAME and writes it as PEM files: the certificate (mode 0644)
and its private key (mode 0600). Every name becomes a subjectAltName, which
is what browsers check; the first one is also the common name.

Names may be:
  host names        localhost, myapp.test, api.myapp.localhost
  IP addresses      127.0.0.1, ::1, 192.168.1.20
  wildcards         *.myapp.test (one level, below at least two labels:
                    browsers reject "*", "*.test" and "*.*.myapp.test")
  international     bücher.test (written in punycode: xn--bcher-kva.test)

Files are named after the first name, as mkcert does: "localhost+2.pem" and
"localhost+2-key.pem" for three names. Existing files are never replaced
unless --force is given, so a key in use is not lost by accident.

Certificates are valid for 820 days by default (about 2 years and 3 months),
never more than 825 days: Apple's systems reject longer ones even from a
root you installed yourself. --valid-for takes days (30d) or any shorter
duration (12h), for tests of expiry.

Examples:
  httpsguard cert localhost 127.0.0.1 ::1
  httpsguard cert --dir certs myapp.test "*.myapp.test"
  httpsguard cert --cert-file tls.crt --key-file tls.key --force localhost
  httpsguard cert --key-type rsa-2048 --valid-for 30d legacy.test`,
		flags: certFlags,
	})
}

func certFlags(fs *flagSet, st *stdio) func(context.Context, []string) (int, error) {
	dir := fs.String("dir", "", "`directory` to write the files in, created if missing; relative --cert-file and --key-file are inside it (default: the current directory)")
	certFile := fs.String("cert-file", "", "certificate `file` (default: NAME.pem, NAME+N.pem for N more names)")
	keyFile := fs.String("key-file", "", "private key `file` (default: NAME-key.pem, NAME+N-key.pem)")
	force := fs.Bool("force", false, "replace existing files")
	validFor := fs.duration("valid-for", localca.DefaultLeafLifetime, "how long the certificate is valid: a `duration` such as 90d or 12h, at most 825d")
	fs.deprecate("days", daysValue{validFor}, "use --valid-for with a d, such as --valid-for 30d", "valid-for")
	keyType := fs.String("key-type", "ecdsa-p256", "key `type`: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096")
	client := fs.Bool("client", false, "also allow the certificate for TLS client authentication (mutual TLS)")
	return func(ctx context.Context, args []string) (int, error) {
		if len(args) == 0 {
			return exitError, usagef("no names given; for example: httpsguard cert localhost 127.0.0.1 ::1")
		}
		names, err := localca.ParseNames(args...)
		if err != nil {
			return exitError, usagef("%v", err)
		}
		kt, err := localca.ParseKeyType(*keyType)
		if err != nil {
			return exitError, usagef("--key-type: %v", err)
		}
		if *validFor <= 0 || *validFor > localca.MaxLeafLifetime {
			return exitError, usagef("--valid-for %s: must be more than 0 and at most %s (longer certificates are rejected by Apple's systems)",
				formatDuration(*validFor), formatDuration(localca.MaxLeafLifetime))
		}
		cf, kf := localca.DefaultFileNames(names)
		if *certFile != "" {
			cf = *certFile
		}
		if *keyFile != "" {
			kf = *keyFile
		}
		if *dir != "" {
			if !filepath.IsAbs(cf) {
				cf = filepath.Join(*dir, cf)
			}
			if !filepath.IsAbs(kf) {
				kf = filepath.Join(*dir, kf)
			}
		}
		if !*force {
			// Check before creating a CA or a key, so a refused run changes
			// nothing.
			for _, f := range []string{cf, kf} {
				if _, err := os.Lstat(f); err == nil {
					return exitError, usagef("%s already exists; use --force to replace it", f)
				}
			}
		}

		caDir, err := localca.DirFromEnv(st.getenv)
		if err != nil {
			return exitError, err
		}
		ca, err := loadOrCreateCAHint(caDir, st, false)
		if err != nil {
			return exitError, err
		}
		cert, err := ca.IssueLeaf(localca.LeafOptions{
			Names:      args,
			Lifetime:   *validFor,
			KeyType:    kt,
			ClientAuth: *client,
		})
		if err != nil {
			return exitError, err
		}
		if *dir != "" {
			if err := os.MkdirAll(*dir, 0o755); err != nil {
				return exitError, err
			}
		}
		if err := localca.WriteFiles(cert, cf, kf, *force); err != nil {
			return exitError, err
		}

		paint := termcolor.Painter{On: termcolor.Enabled(st.out, st.getenv)}
		w := st.out
		fmt.Fprintf(w, "Certificate for %d name(s), valid until %s:\n", len(names), cert.Leaf.NotAfter.Format(time.DateOnly))
		for _, n := range names {
			line := "  " + n.String()
			switch {
			case n.IsIP():
				line += paint.Paint("  (IP address)", termcolor.Dim)
			case n.Input != n.DNS && n.Input != n.DNS+".":
				line += paint.Paint("  ("+n.Input+")", termcolor.Dim)
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintf(w, "Certificate: %s\n", cf)
		fmt.Fprintf(w, "Key:         %s  %s\n", kf, paint.Paint("(mode 0600, keep it private)", termcolor.Dim))
		if !ca.SystemTrusts() {
			fmt.Fprintf(st.err, "\nBrowsers trust it once the CA is installed: httpsguard ca install\n")
		}
		return exitOK, nil
	}
}

// daysValue is the deprecated --days N of cert: whole days, into the
// duration of --valid-for.
type daysValue struct{ d *time.Duration }

func (v daysValue) String() string { return "" }

func (v daysValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q: want a number of days", s)
	}
	*v.d = time.Duration(n) * 24 * time.Hour
	return nil
}
