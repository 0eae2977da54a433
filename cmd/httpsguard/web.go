package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/internal/tlsdefaults"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
)

func init() {
	register(&command{
		name:    "web",
		summary: "run the checker as a web site, with history and a JSON API",
		usage:   "httpsguard web [--listen ADDR] [--db DSN] [--allow-private] [flags]",
		help: `Serves the checker as a web site: a start page with one field, a result
page per scan (grade, every check with its evidence and fix, redirect chains,
certificate, what to fix first, the site's history and what changed since its
previous scan), the HTML report as a download, and a JSON API:

  POST /api/v1/scans               {"url": "https://example.com/"} -> 202 {"id": ...}
  GET  /api/v1/scans/{id}          state, queue position, and the result document
  GET  /api/v1/sites/{site}/scans  a site's scans, newest first

Scans are kept in SQLite (--db FILE, the default) or PostgreSQL (--db
postgres://...), which several instances may share. The schema is migrated at
start. A scan interrupted by a crash is scanned again at the next start (and
failed if that happens twice).

Targets that resolve to loopback, private, link-local, CGNAT or cloud-metadata
addresses are refused, on every address dialled and every redirect hop,
unless --allow-private is given (for a company network, or tests). Scan
submissions are rate limited per client; pages are served with a strict
policy through the httpsguard middleware (CSP with nonces, no framing, HSTS
when served over HTTPS).

Serve HTTPS directly with --tls-cert and --tls-key (add --http-redirect :80 to
redirect plain HTTP), or run behind a TLS-terminating proxy and name it with
--trusted-proxy so its X-Forwarded-For and X-Forwarded-Proto are believed.

Examples:
  httpsguard web
  httpsguard web --listen :8088 --db /var/lib/httpsguard/scans.db
  httpsguard web --db postgres://httpsguard:secret@db.internal/httpsguard --trusted-proxy 10.0.0.0/8
  httpsguard web --listen :443 --tls-cert site.pem --tls-key site-key.pem --http-redirect :80
  httpsguard web --allow-private --ca-file corp-root.pem    # inside a company network`,
		flags: webFlags,
	})
}

func webFlags(fs *flag.FlagSet, st *stdio) func(context.Context, []string) int {
	listen := fs.String("listen", "127.0.0.1:8088", "`address` to listen on")
	dsn := fs.String("db", "./httpsguard.db", "database: a SQLite file, or a postgres:// `DSN`")
	allowPrivate := fs.Bool("allow-private", false, "allow checking sites on loopback, private, link-local and other non-public addresses")
	workers := fs.Int("workers", web.DefaultWorkers, "`number` of scans run at once")
	maxQueue := fs.Int("max-queue", web.DefaultMaxQueue, "`number` of scans that may wait; more are refused with 503")
	scanTimeout := fs.Duration("scan-timeout", web.DefaultScanTimeout, "time limit for one scan")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate chain `file` (with --tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key `file` for --tls-cert")
	httpRedirect := fs.String("http-redirect", "", "with --tls-cert, also listen on this `address` for plain HTTP and redirect it to HTTPS")
	sslHost := fs.String("ssl-host", "", "`host[:port]` plain HTTP is redirected to (default: the request's host)")
	var proxies, caFiles listFlag
	fs.Var(&proxies, "trusted-proxy", "`CIDR` of a TLS-terminating reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (repeatable)")
	fs.Var(&caFiles, "ca-file", "also trust the roots in this PEM `file` when scanning (repeatable)")
	perMinute := fs.Float64("scans-per-minute", 60/web.DefaultSubmitInterval.Seconds(), "`number` of new scans each client may start per minute, after --scan-burst")
	burst := fs.Int("scan-burst", web.DefaultSubmitBurst, "`number` of new scans a client may start at once")
	preload := fs.Bool("hsts-preload", false, "add preload to the site's own HSTS header (only for a domain ready for the preload list)")

	return func(ctx context.Context, args []string) int {
		fail := func(format string, a ...any) int {
			fmt.Fprintf(st.err, "httpsguard web: "+format+"\n", a...)
			return exitError
		}
		if len(args) > 0 {
			return fail("unexpected argument %q (see httpsguard web --help)", args[0])
		}
		if (*tlsCert == "") != (*tlsKey == "") {
			return fail("--tls-cert and --tls-key go together")
		}
		if *httpRedirect != "" && *tlsCert == "" {
			return fail("--http-redirect needs --tls-cert and --tls-key")
		}
		if *workers < 1 || *maxQueue < 1 || *scanTimeout <= 0 || *perMinute <= 0 || *burst < 1 {
			return fail("--workers, --max-queue, --scan-timeout, --scans-per-minute and --scan-burst must be positive")
		}
		var trusted []netip.Prefix
		for _, p := range proxies {
			pr, err := parsePrefix(p)
			if err != nil {
				return fail("--trusted-proxy: %v", err)
			}
			trusted = append(trusted, pr)
		}
		var tlsConfig *tls.Config
		if *tlsCert != "" {
			cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
			if err != nil {
				return fail("loading the TLS certificate: %v", err)
			}
			tlsConfig = tlsdefaults.Server()
			tlsConfig.Certificates = []tls.Certificate{cert}
		}

		log := slog.New(slog.NewTextHandler(st.err, &slog.HandlerOptions{Level: slog.LevelInfo}))
		db, err := store.Open(ctx, *dsn)
		if err != nil {
			return fail("%v", err)
		}
		defer db.Close()

		srv, err := web.New(ctx, web.Config{
			Store:          db,
			ScanOptions:    scan.Options{CAFiles: caFiles},
			AllowPrivate:   *allowPrivate,
			Workers:        *workers,
			MaxQueue:       *maxQueue,
			ScanTimeout:    *scanTimeout,
			SubmitInterval: time.Duration(float64(time.Minute) / *perMinute),
			SubmitBurst:    *burst,
			TrustedProxies: trusted,
			Secure:         tlsConfig != nil || len(trusted) > 0,
			SSLHost:        *sslHost,
			HSTSPreload:    *preload,
			Listen:         *listen,
			TLSConfig:      tlsConfig,
			RedirectListen: *httpRedirect,
			Version:        version(),
			Logger:         log,
		})
		if err != nil {
			return fail("%v", err)
		}
		if err := srv.Listen(ctx); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(st.err, "httpsguard web: listening on %s (database: %s)\n", srv.URL(), db.Dialect())
		if err := srv.Serve(ctx); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintln(st.err, "httpsguard web: stopped")
		return exitOK
	}
}

// parsePrefix accepts a CIDR or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR nor an IP address", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
