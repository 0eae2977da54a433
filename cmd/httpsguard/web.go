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
		usage: `httpsguard web [--listen ADDR] [--db DSN] [--allow-private] [flags]
httpsguard web token create --name NAME [--db DSN]
httpsguard web token list [--db DSN]
httpsguard web token revoke ID [--db DSN]`,
		help: `Serves the checker as a web site: a start page with one field, a result
page per scan (grade, every check with its evidence and fix, redirect chains,
certificate, what to fix first, the site's history and what changed since its
previous scan), the HTML report as a download, and a JSON API:

  POST /api/v1/scans               {"url": "https://example.com/"} -> 202 {"id": ...}
  GET  /api/v1/scans/{id}          state, queue position, and the result document
  GET  /api/v1/sites/{site}/scans  a site's scans, newest first

Watches re-check a site on a schedule (hourly at most often, daily by
default), keep every result in its history, and record events when it gets
worse or better (grade, failing checks, certificate expiry within 21 and 7
days, HSTS removed or shortened, redirect to HTTPS lost, framework leaks).
Events are posted to webhooks signed with HMAC-SHA256, published as an Atom
feed per site, and the site's page charts its grade; /sites/SITE/badge.svg
is a badge for READMEs. Watches need an API token (Authorization: Bearer):

  POST   /api/v1/watches           {"url": ..., "interval": "24h", "webhooks": [...]}
  GET    /api/v1/watches[/{id}]    PATCH {"paused": true} and DELETE /api/v1/watches/{id}
  GET    /api/v1/watches/{id}/events and /deliveries

Tokens are issued by the operator, and stored hashed:
  token create --name NAME   prints a new token, once
  token list                 the tokens, with when they were last used
  token revoke ID            the token stops working; its watches keep running

Scans, re-checks and deliveries are jobs on River, kept with the results in
SQLite (--db FILE, the default) or PostgreSQL (--db postgres://...), which
several instances may share: they share the work, and a job whose instance
dies is run again by another (a scan interrupted twice is failed). The
schema is migrated at start.

Targets that resolve to loopback, private, link-local, CGNAT or cloud-metadata
addresses are refused, on every address dialled and every redirect hop,
unless --allow-private is given (for a company network, or tests); webhooks
likewise unless --allow-private-webhooks. Scan submissions are rate limited
per client (refused ones do not count), and each client may have at most
--max-queued-per-client scans waiting; pages are served with a strict
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
  httpsguard web --allow-private --ca-file corp-root.pem    # inside a company network
  httpsguard web token create --name "release pipeline" --db /var/lib/httpsguard/scans.db`,
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
	perClient := fs.Int("max-queued-per-client", web.DefaultMaxQueuedPerClient, "`number` of unfinished scans one client may have")
	allowPrivateHooks := fs.Bool("allow-private-webhooks", false, "allow webhooks to loopback, private and other non-public addresses (tests, company networks)")
	deliveryWorkers := fs.Int("delivery-workers", web.DefaultDeliveryWorkers, "`number` of webhook deliveries run at once")
	tokenName := fs.String("name", "", "for \"token create\": what the token is for")
	preload := fs.Bool("hsts-preload", false, "add preload to the site's own HSTS header (only for a domain ready for the preload list)")

	return func(ctx context.Context, args []string) int {
		fail := func(format string, a ...any) int {
			fmt.Fprintf(st.err, "httpsguard web: "+format+"\n", a...)
			return exitError
		}
		if len(args) > 0 && args[0] == "token" {
			return webToken(ctx, st, *dsn, *tokenName, args[1:])
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
		if *workers < 1 || *maxQueue < 1 || *scanTimeout <= 0 || *perMinute <= 0 || *burst < 1 || *perClient < 1 || *deliveryWorkers < 1 {
			return fail("--workers, --max-queue, --scan-timeout, --scans-per-minute, --scan-burst, --max-queued-per-client and --delivery-workers must be positive")
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
			Store:                db,
			ScanOptions:          scan.Options{CAFiles: caFiles},
			AllowPrivate:         *allowPrivate,
			Workers:              *workers,
			MaxQueue:             *maxQueue,
			ScanTimeout:          *scanTimeout,
			SubmitInterval:       time.Duration(float64(time.Minute) / *perMinute),
			SubmitBurst:          *burst,
			MaxQueuedPerClient:   *perClient,
			AllowPrivateWebhooks: *allowPrivateHooks,
			DeliveryWorkers:      *deliveryWorkers,
			TrustedProxies:       trusted,
			Secure:               tlsConfig != nil || len(trusted) > 0,
			SSLHost:              *sslHost,
			HSTSPreload:          *preload,
			Listen:               *listen,
			TLSConfig:            tlsConfig,
			RedirectListen:       *httpRedirect,
			Version:              version(),
			Logger:               log,
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

// webToken runs "httpsguard web token create|list|revoke".
func webToken(ctx context.Context, st *stdio, dsn, name string, args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(st.err, "httpsguard web token: "+format+"\n", a...)
		return exitError
	}
	if len(args) == 0 {
		return fail("want create, list or revoke")
	}
	sub, args := args[0], args[1:]
	switch {
	case sub == "create" && len(args) == 0:
		if strings.TrimSpace(name) == "" {
			return fail("create needs --name, saying what the token is for")
		}
	case sub == "list" && len(args) == 0:
	case sub == "revoke" && len(args) == 1:
	case sub == "create" || sub == "list" || sub == "revoke":
		return fail("unexpected arguments %q (see httpsguard web --help)", args)
	default:
		return fail("unknown subcommand %q (want create, list or revoke)", sub)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return fail("%v", err)
	}
	defer db.Close()
	now := time.Now()
	switch sub {
	case "create":
		t, secret, err := db.CreateToken(ctx, name, now)
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintln(st.out, secret)
		fmt.Fprintf(st.err, "httpsguard web token: created token %s (%s); it is shown only now\n", t.ID, t.Name)
	case "list":
		ts, err := db.Tokens(ctx)
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(st.out, "%-12s  %-20s  %-20s  %-20s  %s\n", "ID", "CREATED", "LAST USED", "REVOKED", "NAME")
		day := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		}
		for _, t := range ts {
			fmt.Fprintf(st.out, "%-12s  %-20s  %-20s  %-20s  %s\n", t.ID, day(t.CreatedAt), day(t.LastUsedAt), day(t.RevokedAt), t.Name)
		}
	case "revoke":
		if err := db.RevokeToken(ctx, args[0], now); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(st.err, "httpsguard web token: revoked %s\n", args[0])
	}
	return exitOK
}
