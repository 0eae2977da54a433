package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/internal/tlsdefaults"
	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
)

func init() {
	register(&command{
		name:    "web",
		summary: "run the checker as a web site, with history and a JSON API",
		usage: `httpsguard web [--http ADDR] [--db DSN] [--allow-private] [flags]
httpsguard web --https ADDR --cert-file FILE --key-file FILE [--http ADDR] [flags]
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

The site listens on http://127.0.0.1:8088 by default. Addresses are read
as by "httpsguard serve": PORT, :PORT and localhost:PORT are loopback, so
0.0.0.0:PORT (or [::]:PORT) is needed to be reachable from the network.
Serve HTTPS directly with --https and --cert-file and --key-file (then
--http, if given, redirects plain HTTP to HTTPS), or serve plain HTTP on
--http behind a TLS-terminating proxy and name it with --trusted-proxy so
its X-Forwarded-For and X-Forwarded-Proto are believed.

Examples:
  httpsguard web
  httpsguard web --http 0.0.0.0:8088 --db /var/lib/httpsguard/scans.db
  httpsguard web --db postgres://httpsguard:secret@db.internal/httpsguard --trusted-proxy 10.0.0.0/8
  httpsguard web --https 0.0.0.0:443 --cert-file site.pem --key-file site-key.pem --http 0.0.0.0:80
  httpsguard web --allow-private --ca-file corp-root.pem    # inside a company network
  httpsguard web --allow-private --local-ca                 # sites served by "httpsguard serve"
  httpsguard web token create --name "release pipeline" --db /var/lib/httpsguard/scans.db`,
		flags: webFlags,
	})
}

func webFlags(fs *flagSet, st *stdio) func(context.Context, []string) (int, error) {
	httpAddr := fs.String("http", "", "plain-HTTP `address`: the site (default 127.0.0.1:8088), or with --https a listener that redirects to HTTPS (none unless given); \"off\" for none")
	httpsAddr := fs.String("https", "", "HTTPS `address` of the site, with --cert-file and --key-file (default 127.0.0.1:8088)")
	certFile := fs.String("cert-file", "", "PEM certificate chain `file` to serve HTTPS with (with --key-file)")
	keyFile := fs.String("key-file", "", "PEM private key `file` for --cert-file")
	dsn := fs.String("db", "./httpsguard.db", "database: a SQLite file, or a postgres:// `DSN`")
	allowPrivate := fs.Bool("allow-private", false, "allow checking sites on loopback, private, link-local and other non-public addresses")
	concurrency := fs.Int("concurrency", web.DefaultWorkers, "`number` of scans this instance runs at once")
	maxQueue := fs.Int("max-queue", web.DefaultMaxQueue, "`number` of scans that may wait; more are refused with 503")
	timeout := fs.duration("timeout", web.DefaultScanTimeout, "time limit for each scan, every request included: a `duration` such as 1m")
	publicURL := fs.String("public-url", "", "where people reach the site, such as https://checker.example.org (scheme and host): webhook payloads and Atom feeds link to it (relative links without it)")
	sslHost := fs.String("ssl-host", "", "`host[:port]` plain HTTP is redirected to (default: the request's host)")
	proxies := fs.list("trusted-proxy", "`CIDR` of a TLS-terminating reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (repeatable, or comma-separated)", true)
	caFiles := fs.list("ca-file", "also trust the roots in this PEM `file` when scanning (repeatable)", false)
	localCA := fs.Bool("local-ca", false, "also trust httpsguard's local CA (see \"httpsguard ca\") when scanning, for sites served by \"httpsguard serve\"")
	perMinute := fs.Float64("scans-per-minute", 60/web.DefaultSubmitInterval.Seconds(), "`number` of new scans each client may start per minute, after --scan-burst")
	burst := fs.Int("scan-burst", web.DefaultSubmitBurst, "`number` of new scans a client may start at once")
	perClient := fs.Int("max-queued-per-client", web.DefaultMaxQueuedPerClient, "`number` of unfinished scans one client may have")
	allowPrivateHooks := fs.Bool("allow-private-webhooks", false, "allow webhooks to loopback, private and other non-public addresses (tests, company networks)")
	deliveryConcurrency := fs.Int("delivery-concurrency", web.DefaultDeliveryWorkers, "`number` of webhook deliveries this instance runs at once")
	tokenName := fs.String("name", "", "for \"token create\": what the token is for")
	preload := fs.Bool("hsts-preload", false, "add preload to the site's own HSTS header (only for a domain ready for the preload list)")
	// The names before the CLI's one grammar. --listen and --http-redirect
	// keep their meaning (net.Listen's: ":8088" is every interface) for the
	// scripts that use them.
	var listen, httpRedirect string
	fs.deprecate("listen", stringValue{&listen}, "use --http ADDR, or --https ADDR with --cert-file (where :PORT means loopback; 0.0.0.0:PORT opens it)", "")
	fs.deprecate("http-redirect", stringValue{&httpRedirect}, "use --http ADDR with --https (where :PORT means loopback; 0.0.0.0:PORT opens it)", "")
	fs.alias("tls-cert", "cert-file")
	fs.alias("tls-key", "key-file")
	fs.alias("scan-timeout", "timeout")
	fs.alias("workers", "concurrency")
	fs.alias("delivery-workers", "delivery-concurrency")

	return func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 && args[0] == "token" {
			return webToken(ctx, st, *dsn, *tokenName, args[1:])
		}
		if len(args) > 0 {
			return exitError, usagef("unexpected argument %q", args[0])
		}
		if (*certFile == "") != (*keyFile == "") {
			return exitError, usagef("--cert-file and --key-file go together")
		}
		if *publicURL != "" {
			if _, err := web.ParsePublicURL(*publicURL); err != nil {
				return exitError, usagef("--public-url: %v", err)
			}
		}
		serveTLS := *certFile != ""
		site, redirect := web.DefaultListen, ""
		if *httpsAddr != "" {
			if !serveTLS {
				return exitError, usagef("--https needs --cert-file and --key-file (behind a TLS-terminating proxy, serve plain HTTP with --http)")
			}
			a, err := listenAddr(*httpsAddr)
			if err != nil {
				return exitError, usagef("--https: %v", err)
			}
			site = a
		}
		switch {
		case *httpAddr == "off" && !serveTLS:
			return exitError, usagef("--http off leaves nothing to serve without --https")
		case *httpAddr != "" && *httpAddr != "off":
			a, err := listenAddr(*httpAddr)
			if err != nil {
				return exitError, usagef("--http: %v", err)
			}
			if serveTLS {
				redirect = a
			} else {
				site = a
			}
		}
		if fs.isSet("listen") {
			if fs.isSet("https") || fs.isSet("http") && !serveTLS {
				return exitError, usagef("--listen is the old name of --http and --https: give one or the other")
			}
			site = listen
		}
		if fs.isSet("http-redirect") {
			if !serveTLS {
				return exitError, usagef("--http-redirect needs --cert-file and --key-file")
			}
			if fs.isSet("http") {
				return exitError, usagef("--http-redirect is the old name of --http: give one or the other")
			}
			redirect = httpRedirect
		}
		if *concurrency < 1 || *maxQueue < 1 || *timeout <= 0 || *perMinute <= 0 || *burst < 1 || *perClient < 1 || *deliveryConcurrency < 1 {
			return exitError, usagef("--concurrency, --max-queue, --timeout, --scans-per-minute, --scan-burst, --max-queued-per-client and --delivery-concurrency must be positive")
		}
		var trusted []netip.Prefix
		for _, p := range *proxies {
			pr, err := parsePrefix(p)
			if err != nil {
				return exitError, usagef("--trusted-proxy: %v", err)
			}
			trusted = append(trusted, pr)
		}
		cas := slices.Clone(*caFiles)
		if *localCA {
			root, err := localca.RootFileFromEnv(st.getenv)
			if errors.Is(err, os.ErrNotExist) {
				return exitError, fmt.Errorf("--local-ca: %w (create one with \"httpsguard ca install\")", err)
			}
			if err != nil {
				return exitError, fmt.Errorf("--local-ca: %w", err)
			}
			cas = append(cas, root)
		}
		var tlsConfig *tls.Config
		if serveTLS {
			cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
			if err != nil {
				return exitError, fmt.Errorf("loading the TLS certificate: %w", err)
			}
			tlsConfig = tlsdefaults.Server()
			tlsConfig.Certificates = []tls.Certificate{cert}
		}

		log := slog.New(slog.NewTextHandler(st.err, &slog.HandlerOptions{Level: slog.LevelInfo}))
		db, err := store.Open(ctx, *dsn)
		if err != nil {
			return exitError, err
		}
		defer db.Close()

		srv, err := web.New(ctx, web.Config{
			Store:                db,
			ScanOptions:          scan.Options{CAFiles: cas},
			AllowPrivate:         *allowPrivate,
			Workers:              *concurrency,
			MaxQueue:             *maxQueue,
			ScanTimeout:          *timeout,
			SubmitInterval:       time.Duration(float64(time.Minute) / *perMinute),
			SubmitBurst:          *burst,
			MaxQueuedPerClient:   *perClient,
			AllowPrivateWebhooks: *allowPrivateHooks,
			DeliveryWorkers:      *deliveryConcurrency,
			TrustedProxies:       trusted,
			Secure:               tlsConfig != nil || len(trusted) > 0,
			SSLHost:              *sslHost,
			PublicURL:            *publicURL,
			HSTSPreload:          *preload,
			Listen:               site,
			TLSConfig:            tlsConfig,
			RedirectListen:       redirect,
			Version:              version(),
			Logger:               log,
		})
		if err != nil {
			return exitError, err
		}
		if err := srv.Listen(ctx); err != nil {
			return exitError, err
		}
		say(st.err, "web", "listening on %s (database: %s)", srv.URL(), db.Dialect())
		if err := srv.Serve(ctx); err != nil {
			return exitError, err
		}
		say(st.err, "web", "stopped")
		return exitOK, nil
	}
}

// stringValue is a string flag writing to a string, for deprecated names.
type stringValue struct{ s *string }

func (v stringValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v stringValue) Set(s string) error { *v.s = s; return nil }

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
func webToken(ctx context.Context, st *stdio, dsn, name string, args []string) (int, error) {
	code, err := webTokenRun(ctx, st, dsn, name, args)
	return code, inSub("token", err)
}

func webTokenRun(ctx context.Context, st *stdio, dsn, name string, args []string) (int, error) {
	if len(args) == 0 {
		return exitError, usagef("want create, list or revoke")
	}
	sub, args := args[0], args[1:]
	switch {
	case sub == "create" && len(args) == 0:
		if strings.TrimSpace(name) == "" {
			return exitError, usagef("create needs --name, saying what the token is for")
		}
	case sub == "list" && len(args) == 0:
	case sub == "revoke" && len(args) == 1:
	case sub == "create" || sub == "list" || sub == "revoke":
		return exitError, usagef("unexpected arguments %q", args)
	default:
		return exitError, usagef("unknown subcommand %q (want create, list or revoke)", sub)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return exitError, err
	}
	defer db.Close()
	now := time.Now()
	switch sub {
	case "create":
		t, secret, err := db.CreateToken(ctx, name, now)
		if err != nil {
			return exitError, err
		}
		fmt.Fprintln(st.out, secret)
		say(st.err, "web token", "created token %s (%s); it is shown only now", t.ID, t.Name)
	case "list":
		ts, err := db.Tokens(ctx)
		if err != nil {
			return exitError, err
		}
		fmt.Fprintf(st.out, "%-12s  %-20s  %-20s  %-20s  %s\n", "ID", "CREATED", "LAST USED", "REVOKED", "NAME")
		day := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return report.FormatTime(t)
		}
		for _, t := range ts {
			fmt.Fprintf(st.out, "%-12s  %-20s  %-20s  %-20s  %s\n", t.ID, day(t.CreatedAt), day(t.LastUsedAt), day(t.RevokedAt), t.Name)
		}
	case "revoke":
		if err := db.RevokeToken(ctx, args[0], now); err != nil {
			return exitError, err
		}
		say(st.err, "web token", "revoked %s", args[0])
	}
	return exitOK, nil
}
