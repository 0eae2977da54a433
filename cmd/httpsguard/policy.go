package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/autotls"
	"github.com/httpsguard/httpsguard/internal/termcolor"
)

func init() {
	register(&command{
		name:    "policy",
		summary: "show the policy the HTTPSGUARD_* environment defines, and review it for deployment",
		usage:   "httpsguard policy [--format text|json|env] [--ignore ID]... [--autotls DOMAIN]...",
		help: `Reads the HTTPSGUARD_* environment variables exactly as httpsguard.PolicyFromEnv
does in your application, prints the effective policy (each Policy field, the
variable that sets it, and its value) and runs the deployment check: Django's
"manage.py check --deploy" and more, such as a proxy header believed from any
client, an HSTS max-age below one year, a redirect exemption that matches
every path, or a report-only CSP that reports nowhere. Each finding has a
stable ID (HGP-HSTS-004: the area, then a number; the former IDs such as
HG114 are accepted too and shown as legacy_id in JSON), a severity and a fix.

A variable that looks meant for httpsguard but that it does not read, such
as HTTPSGUARD_HSTS_SECOND, is a warning (HGP-ENV-001) naming the nearest
variable it does read: a typo would otherwise leave a setting at its default.

Unset or empty variables take Django's defaults where Django has one
(nosniff on, X-Frame-Options DENY, Referrer-Policy and
Cross-Origin-Opener-Policy same-origin, the sessionid cookie HttpOnly,
SameSite=Lax on every cookie that sets none); "off" turns such a default off.

Exit status: 0 when the policy has no warning, 1 when it has a warning or an
error finding, 2 when a variable holds an invalid value (the message names the
variable and the value) or the command line is wrong.

Examples:
  # Review the policy of the current environment.
  httpsguard policy

  # Review a production .env file before deploying it.
  (set -a; . ./prod.env; httpsguard policy)

  # Machine-readable output for CI.
  httpsguard policy --format json | jq '.findings[] | select(.severity != "info")'

  # Write the complete effective policy as a .env file (shell quoting, which
  # sh, systemd's EnvironmentFile and Compose's env_file all read).
  httpsguard policy --format env > prod.env

  # Review a stricter CSP to trial in report-only mode before enforcing it.
  HTTPSGUARD_CSP_REPORT_ONLY="default-src 'none'; script-src 'nonce-{nonce}'; report-uri /csp" \
    httpsguard policy

  # Review the policy of a Go service that serves itself with package
  # autotls (certificates from Let's Encrypt for these names).
  httpsguard policy --autotls example.com --autotls www.example.com

  # Accept a finding on purpose (here: not submitting to the preload list).
  httpsguard policy --ignore HGP-HSTS-004`,
		flags: policyFlags,
	})
}

func policyFlags(fs *flagSet, st *stdio) func(context.Context, []string) (int, error) {
	format := fs.String("format", "text", "output `format`: text, json, or env (NAME=value lines, shell-quoted)")
	acmeDomains := fs.list("autotls", "review the policy as served by package autotls with this ACME `domain` (repeatable, or comma-separated): no SSL-redirect finding, and checks of its own such as HSTS preload for a name without a certificate", true)
	ignore := fs.list("ignore", "finding `ID` to leave out, such as HGP-HSTS-004 (repeatable, or comma-separated; former IDs such as HG114 work too)", true)
	return func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitError, usagef("unexpected argument %q (the policy comes from the environment)", args[0])
		}
		f, err := parseFormat(*format, []string{"text", "json", "env"})
		if err != nil {
			return exitError, usagef("--format: %v", err)
		}
		ignored := map[string]bool{}
		for _, id := range *ignore {
			c, ok := httpsguard.LookupCheck(id)
			if !ok {
				return exitError, usagef("--ignore %s: no such finding ID (IDs look like HGP-HSTS-004, or the former HG114)", id)
			}
			ignored[c.ID] = true
		}

		p, err := httpsguard.PolicyFromLookup(func(k string) (string, bool) {
			v := st.getenv(k)
			return v, v != ""
		})
		if err != nil {
			return exitError, errors.New(strings.TrimPrefix(err.Error(), "httpsguard: "))
		}
		var environ []string
		if st.environ != nil {
			environ = st.environ()
		}
		var findings []httpsguard.Finding
		var check []httpsguard.Finding
		if len(*acmeDomains) > 0 {
			// Policy.Check's findings, less those autotls makes moot, and
			// its own.
			check = autotls.Options{Domains: *acmeDomains}.Check(ctx, p)
		} else {
			check = p.Check()
		}
		for _, f := range append(httpsguard.CheckEnv(environ), check...) {
			if !ignored[f.ID] {
				findings = append(findings, f)
			}
		}

		var werr error
		switch f {
		case "json":
			werr = writePolicyJSON(st.out, p, findings)
		case "env":
			werr = writePolicyEnv(st.out, p)
		default:
			werr = writePolicyText(st.out, p, findings, st.getenv, termcolor.Painter{On: termcolor.Enabled(st.out, st.getenv)})
		}
		if werr != nil {
			return exitError, werr
		}
		for _, f := range findings {
			if f.Severity.AtLeast(httpsguard.SeverityWarning) {
				return exitFindings, nil
			}
		}
		return exitOK, nil
	}
}

// policyReport is the JSON document of "httpsguard policy --format json".
type policyReport struct {
	Policy   []httpsguard.Setting `json:"policy"`
	Findings []httpsguard.Finding `json:"findings"`
	Summary  map[string]int       `json:"summary"`
}

func writePolicyJSON(w io.Writer, p httpsguard.Policy, findings []httpsguard.Finding) error {
	rep := policyReport{Policy: p.Settings(), Findings: findings, Summary: summarize(findings)}
	if rep.Findings == nil {
		rep.Findings = []httpsguard.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func summarize(findings []httpsguard.Finding) map[string]int {
	s := map[string]int{"error": 0, "warning": 0, "info": 0}
	for _, f := range findings {
		s[string(f.Severity)]++
	}
	return s
}

func writePolicyText(w io.Writer, p httpsguard.Policy, findings []httpsguard.Finding, getenv func(string) string, paint termcolor.Painter) error {
	var b strings.Builder
	b.WriteString(paint.Paint("Effective policy", termcolor.Bold) + "\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FIELD\tVARIABLE\tVALUE")
	for _, s := range p.Settings() {
		v := s.Value
		if v == "" {
			v = "-"
		}
		if getenv(s.Env) == "" {
			v += paint.Paint(" (default)", termcolor.Dim)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Field, s.Env, v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	sum := summarize(findings)
	fmt.Fprintf(&b, "\n%s %d error(s), %d warning(s), %d info\n", paint.Paint("Findings:", termcolor.Bold), sum["error"], sum["warning"], sum["info"])
	for _, f := range findings {
		sev := fmt.Sprintf("%-7s", f.Severity)
		switch f.Severity {
		case httpsguard.SeverityError:
			sev = paint.Paint(sev, termcolor.Red, termcolor.Bold)
		case httpsguard.SeverityWarning:
			sev = paint.Paint(sev, termcolor.Yellow)
		default:
			sev = paint.Paint(sev, termcolor.Blue)
		}
		fmt.Fprintf(&b, "\n  %s  %s  %s\n", paint.Paint(f.ID, termcolor.Bold), sev, f.Message)
		fmt.Fprintf(&b, "    fix: %s\n", f.Fix)
		if f.Django != "" {
			fmt.Fprintf(&b, "    Django: %s\n", f.Django)
		}
	}
	if len(findings) == 0 {
		b.WriteString("\n  Nothing to fix: the policy is ready for deployment.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writePolicyEnv prints the policy as NAME=value lines, quoting values the
// shell would split or expand.
func writePolicyEnv(w io.Writer, p httpsguard.Policy) error {
	var b strings.Builder
	for _, s := range p.Settings() {
		b.WriteString(s.Env + "=" + shellQuote(s.Value) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
