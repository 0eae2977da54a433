package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/devproxy"
	"github.com/httpsguard/httpsguard/internal/termcolor"
	"github.com/httpsguard/httpsguard/localca"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "trusted HTTPS for a local app or folder: https://localhost:8443",
		usage: `httpsguard serve --to PORT|HOST:PORT|URL [flags]
httpsguard serve [flags] FOLDER`,
		help: `Serves a local application (a reverse proxy to --to) or a static FOLDER
over HTTPS on https://localhost:8443, with a certificate from the local CA
(see "httpsguard ca"), HTTP/2 to the browser and HTTP/1.1 to the app.
Run "httpsguard ca install" once so browsers trust it.

The app sees what a production proxy would send: the browser's Host, and
X-Forwarded-Proto: https, X-Forwarded-Host, X-Forwarded-For and Forwarded,
set by the proxy after removing any such header the browser sent. So the
app can keep its production settings (SSL redirect, Secure cookies) once it
trusts X-Forwarded-Proto from 127.0.0.1. WebSockets, server-sent events and
large uploads and downloads stream through.

Only loopback is served unless --https/--http name another address.
Ports: 8443 when it is free, else the next free one (as Vite does; the
terminal says which); a port given with --https is used as given or serve
stops, naming the process that holds it when the system says.
http://localhost:8080 redirects to HTTPS with a temporary 307 (never a
cached 301), or forwards as plain HTTP with --http-passthrough; it is off
when the app itself uses port 8080 and --http is not given, and serve
warns and runs without it when its port is taken.

The proxy tells you, in this terminal and in the browser, when the app:
  - answers HTTPS with a redirect to the same HTTPS URL (the classic
    redirect loop): it stops the loop and shows the setting to fix, for
    Django, Flask, Rails, Express and Go;
  - is not running: a 502 page that reloads itself until the app is back;
  - sets cookies without Secure, or redirects to http://.

HSTS: Strict-Transport-Security is removed from responses (the app's and
the --policy one) unless --hsts is given. Chromium ignores HSTS for
localhost, other browsers do not, and every browser keeps it for
development names such as myapp.test: it would force HTTPS on every other
project served on that name (and port 8080 would stop working), long after
this one.

WebSockets use HTTP/1.1 even when the page uses HTTP/2: the server does not
offer RFC 8441 extended CONNECT.

The banner prints the "httpsguard check" command that grades what serve
serves (its CA and ports). Every response carries Httpsguard-Serve, which
lists what serve changes on purpose (hsts-removed, temporary-redirect), and
check names serve as the cause of the findings those lead to.

Examples:
  httpsguard serve --to 8000                  # python manage.py runserver
  httpsguard serve --to localhost:3000        # npm run dev
  httpsguard serve --to http://127.0.0.1:8080 --https 9443 --http off
  httpsguard serve --to 8000 --host myapp.test   # in /etc/hosts: 127.0.0.1 myapp.test
  httpsguard serve --to 8000 --policy env     # enforce HTTPSGUARD_* on the app
  httpsguard serve --to 8000 --policy-set SECURE_COOKIES='*' --policy-set CSP="default-src 'self'"
  httpsguard serve ./public                   # a static folder`,
		flags: serveFlags,
	})
}

func serveFlags(fs *flagSet, st *stdio) func(context.Context, []string) (int, error) {
	to := fs.String("to", "", "the application to proxy to: a `port` (8000), host:port (localhost:8000) or http:// URL")
	httpsAddr := fs.String("https", devproxy.DefaultHTTPSAddr, "HTTPS `address`: PORT, HOST:PORT or localhost:PORT (127.0.0.1 and [::1]); a bare port stays on loopback, 0.0.0.0:PORT opens it to the network. Without it, a taken 8443 moves on to the next free port")
	httpAddr := fs.String("http", devproxy.DefaultHTTPAddr, "plain-HTTP `address` (same forms), or \"off\"; if it is taken, serve warns and runs without it")
	passthrough := fs.Bool("http-passthrough", false, "forward plain-HTTP requests to the app (X-Forwarded-Proto: http) instead of redirecting them to HTTPS")
	hosts := fs.list("host", "extra `name` for the certificate besides localhost, 127.0.0.1 and ::1 (repeatable, or comma-separated; map it to 127.0.0.1 in /etc/hosts)", true)
	changeHost := fs.Bool("change-host", false, "send the app its own host:port as Host instead of the browser's (X-Forwarded-Host keeps the browser's)")
	policy := fs.String("policy", "none", "`source` of an httpsguard Policy to enforce on responses: none, or env (the HTTPSGUARD_* variables)")
	var policySets servePolicySets
	fs.Var(&policySets, "policy-set", "one policy setting, `NAME=VALUE`, as an HTTPSGUARD_* variable with or without the prefix; overrides the environment, implies --policy env, repeatable (--policy-set SECURE_COOKIES='*')")
	hsts := fs.Bool("hsts", false, "keep Strict-Transport-Security (see HSTS above for why it is removed by default)")
	quiet := fs.Bool("quiet", false, "no access log; warnings and errors only")
	return func(ctx context.Context, args []string) (int, error) {
		cfg := devproxy.Config{
			HTTPSAddr:       *httpsAddr,
			HTTPAddr:        *httpAddr,
			HTTPPassthrough: *passthrough,
			Hosts:           *hosts,
			ChangeHost:      *changeHost,
			HSTS:            *hsts,
			Quiet:           *quiet,
		}
		switch {
		case len(args) > 1:
			return exitError, usagef("serve one folder at a time (got %q)", args)
		case len(args) == 1 && *to != "":
			return exitError, usagef("give --to (proxy to an app) or a FOLDER, not both")
		case len(args) == 1:
			cfg.Dir = args[0]
		case *to == "":
			return exitError, usagef("nothing to serve: give --to PORT for a running app (httpsguard serve --to 8000) or a FOLDER (httpsguard serve ./public)")
		default:
			u, err := devproxy.ParseUpstream(*to)
			if err != nil {
				return exitError, usagef("--to: %v", err)
			}
			cfg.Upstream = u
		}
		if !fs.isSet("https") {
			cfg.HTTPSAddr = "" // the default, whose port moves on when it is taken
		}
		if !fs.isSet("http") {
			cfg.HTTPAddr = "" // the default, which New turns off when the app is on its port
		}
		if len(policySets) > 0 && !fs.isSet("policy") {
			*policy = "env"
		}
		switch strings.ToLower(*policy) {
		case "", "none":
			if len(policySets) > 0 {
				return exitError, usagef("--policy-set needs --policy env")
			}
		case "env":
			p, err := httpsguard.PolicyFromLookup(func(k string) (string, bool) {
				if v, ok := policySets[k]; ok {
					return v, v != ""
				}
				v := st.getenv(k)
				return v, v != ""
			})
			if err != nil {
				return exitError, fmt.Errorf("--policy env: %w", err)
			}
			cfg.Policy = &p
		default:
			return exitError, usagef("--policy %q: want none or env", *policy)
		}

		dir, err := localca.DirFromEnv(st.getenv)
		if err != nil {
			return exitError, err
		}
		ca, err := loadOrCreateCA(dir, st)
		if err != nil {
			return exitError, err
		}
		cfg.CA = ca
		color := termcolor.Enabled(st.err, st.getenv)
		cfg.Logger = slog.New(devproxy.NewConsoleHandler(st.err, devproxy.ConsoleOptions{Color: color}))

		srv, err := devproxy.New(cfg)
		if err != nil {
			return exitError, err
		}
		if err := srv.Listen(ctx); err != nil {
			var le *devproxy.ListenError
			if errors.As(err, &le) && le.InUse() && le.Suggest != "" {
				return exitError, fmt.Errorf("%w; pick another port with --https (%s is free: --https %s), or stop the other server", err, le.Suggest, le.Suggest)
			}
			if errors.As(err, &le) && le.InUse() {
				return exitError, fmt.Errorf("%w; pick another port with --https, or stop the other server", err)
			}
			return exitError, err
		}
		if st.getenv("GOGC") == "" {
			// A proxy allocates a few kilobytes per request that die at
			// once, so with Go's default target the collector runs often
			// under load. A higher target trades memory, which a
			// development machine can afford, for CPU per request
			// (measured in docs/design/devproxy.md). An explicit GOGC wins;
			// the old value is restored on return, for in-process callers.
			defer debug.SetGCPercent(debug.SetGCPercent(400))
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		policyLine := ""
		if cfg.Policy != nil {
			var fromEnv []string
			for _, name := range httpsguard.EnvVars() {
				if st.getenv(name) != "" {
					fromEnv = append(fromEnv, name)
				}
			}
			policyLine = policySource(fromEnv, policySets)
		}
		printServeBanner(st, termcolor.Painter{On: color}, srv, cfg, ca, policyLine, st.getenv(localca.EnvCARoot) != "")
		if err := <-done; err != nil {
			return exitError, err
		}
		return exitOK, nil
	}
}

// servePolicySets collects --policy-set NAME=VALUE flags, keyed by the full
// HTTPSGUARD_* variable name.
type servePolicySets map[string]string

func (p *servePolicySets) String() string {
	var parts []string
	for k, v := range *p {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

func (p *servePolicySets) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q: want NAME=VALUE, such as SECURE_COOKIES=*", v)
	}
	name = strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(name, "HTTPSGUARD_") {
		name = "HTTPSGUARD_" + name
	}
	known := httpsguard.EnvVars()
	if !slices.Contains(known, name) {
		return fmt.Errorf("unknown policy setting %s; known: %s", name, strings.Join(known, ", "))
	}
	if *p == nil {
		*p = servePolicySets{}
	}
	(*p)[name] = value
	return nil
}

// printServeBanner says where to point the browser, and the one check
// command that grades what serve serves. It runs while the server already
// accepts connections, so the trust check (which reads the system roots)
// does not delay start-up.
func printServeBanner(st *stdio, p termcolor.Painter, srv *devproxy.Server, cfg devproxy.Config, ca *localca.CA, policyLine string, caFromEnv bool) {
	var b strings.Builder
	if cfg.Upstream != nil {
		fmt.Fprintf(&b, "httpsguard serve: HTTPS for the app at %s\n\n", cfg.Upstream)
	} else {
		fmt.Fprintf(&b, "httpsguard serve: HTTPS for the folder %s\n\n", cfg.Dir)
	}
	for i, u := range srv.URLs() {
		if i == 0 {
			u = p.Paint(u, termcolor.Bold, termcolor.Green)
		}
		fmt.Fprintf(&b, "  %s\n", u)
	}
	if h := srv.HTTPURL(); h != "" {
		what := "redirects to HTTPS"
		if cfg.HTTPPassthrough {
			what = "plain HTTP, passed through"
		}
		fmt.Fprintf(&b, "  %s  %s\n", h, p.Paint("("+what+")", termcolor.Dim))
	}
	fmt.Fprintf(&b, "\n  CA root: %s\n", ca.RootFile())
	if ca.SystemTrusts() {
		fmt.Fprintf(&b, "  %s\n", p.Paint("trusted by this system", termcolor.Green))
	} else {
		fmt.Fprintf(&b, "  %s run \"httpsguard ca install\" once so browsers trust it\n", p.Paint("not trusted yet:", termcolor.Yellow, termcolor.Bold))
	}
	if policyLine != "" {
		fmt.Fprintf(&b, "  %s\n", policyLine)
	}
	cmd, note := checkCommand(srv, ca, caFromEnv, cfg.HSTS)
	fmt.Fprintf(&b, "\n  Grade it: %s\n  %s\n", cmd, p.Paint(note, termcolor.Dim))
	b.WriteString("\nPress Ctrl-C to stop.\n")
	fmt.Fprint(st.err, b.String())
}

// checkCommand returns the "httpsguard check" command that grades what srv
// serves (its CA, its ports), and a note on what the report says about
// serve's own choices.
func checkCommand(srv *devproxy.Server, ca *localca.CA, caFromEnv, hsts bool) (cmd, note string) {
	args := []string{"httpsguard", "check"}
	if caFromEnv {
		// Another shell may not have HTTPSGUARD_CAROOT: name the file.
		args = append(args, "--ca-file", shellQuote(ca.RootFile()))
	} else {
		args = append(args, "--local-ca")
	}
	if a := srv.HTTPSAddrs(); len(a) > 0 {
		args = append(args, "--https-port", strconv.Itoa(a[0].(*net.TCPAddr).Port))
	}
	if a := srv.HTTPAddrs(); len(a) > 0 {
		args = append(args, "--http-port", strconv.Itoa(a[0].(*net.TCPAddr).Port))
	}
	args = append(args, "localhost")
	switch {
	case len(srv.HTTPAddrs()) == 0:
		note = "(no plain-HTTP listener: check looks for one on port 80)"
	case hsts:
		note = "(the report says where a finding is serve's own: its temporary redirect from plain HTTP)"
	default:
		note = "(the report says where a finding is serve's own: HSTS removed, a temporary redirect; --hsts keeps the app's HSTS)"
	}
	return strings.Join(args, " "), note
}

// policySource names where the policy's settings came from: the
// HTTPSGUARD_* variables set in the environment, and --policy-set, which
// wins over them.
func policySource(fromEnv []string, sets servePolicySets) string {
	var fromFlags []string
	for name := range sets {
		if slices.Contains(fromEnv, name) {
			name += " (over the environment's)"
		}
		fromFlags = append(fromFlags, name)
	}
	slices.Sort(fromFlags)
	switch {
	case len(fromEnv) == 0 && len(fromFlags) == 0:
		return "Policy: --policy env, but no HTTPSGUARD_* variable is set: the Policy's defaults"
	case len(fromFlags) == 0:
		return "Policy: from the environment (--policy env): " + strings.Join(fromEnv, ", ")
	case len(fromEnv) == 0:
		return "Policy: from --policy-set: " + strings.Join(fromFlags, ", ") + "; no HTTPSGUARD_* variable in the environment"
	}
	return "Policy: from the environment: " + strings.Join(fromEnv, ", ") + "; from --policy-set: " + strings.Join(fromFlags, ", ")
}
