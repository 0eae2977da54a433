package httpsguard

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// production is a policy that passes the deployment check without a single
// finding; each case below breaks one thing.
func production() Policy {
	return Policy{
		SSLRedirect: true, RedirectExempt: []string{"^healthz$"},
		ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", TrustedProxies: []string{"10.0.0.0/8"},
		HSTSSeconds: 63072000, HSTSIncludeSubdomains: true, HSTSPreload: true,
		ContentTypeNosniff: true, FrameOptions: "DENY", ReferrerPolicy: "same-origin", CrossOriginOpenerPolicy: "same-origin",
		ContentSecurityPolicy: "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'",
		PermissionsPolicy:     "camera=(), microphone=(), geolocation=()",
		SecureCookies:         []string{"*"}, HTTPOnlyCookies: []string{"sessionid"}, CookieSameSite: "Lax",
		AllowedHosts: []string{"example.com", ".example.com"},
	}
}

// TestCheckNoFalseAlarms lists policies that must not raise a finding that
// is about them: each one is the right way to use a field.
func TestCheckNoFalseAlarms(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(p *Policy)
		not    []string
	}{
		{"report-only with report-uri", func(p *Policy) {
			p.ContentSecurityPolicyReportOnly = "default-src 'none'; script-src 'nonce-{nonce}'; report-uri /csp"
		}, nil},
		{"report-only with report-to", func(p *Policy) {
			p.ContentSecurityPolicyReportOnly = "Default-Src 'none'; REPORT-TO csp-endpoint"
		}, nil},
		{"report-only alone", func(p *Policy) {
			p.ContentSecurityPolicy, p.ContentSecurityPolicyReportOnly = "", "default-src 'self'; report-uri https://r.example/csp"
		}, []string{"HGP-CSP-002", "HGP-CSP-003", "HGP-CSP-004", "HGP-CSP-005", "HGP-CSP-006"}},
		{"report-only allowing inline scripts is a trial, not a weakness", func(p *Policy) {
			p.ContentSecurityPolicyReportOnly = "script-src 'unsafe-inline'; report-uri /csp"
		}, nil},
		{"forwarded host from trusted proxies", func(p *Policy) { p.UseXForwardedHost = true }, nil},
		{"forwarded host alone gives TrustedProxies its use", func(p *Policy) {
			p.UseXForwardedHost, p.ProxySSLHeader, p.ProxySSLValue = true, "", ""
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := production()
			tc.mutate(&p)
			findings := p.Check()
			if tc.not == nil {
				if len(findings) != 0 {
					t.Errorf("findings: %v", findings)
				}
				return
			}
			for _, f := range findings {
				if slices.Contains(tc.not, f.ID) {
					t.Errorf("unexpected %v", f)
				}
			}
		})
	}
}

func TestCheckProductionIsClean(t *testing.T) {
	if f := production().Check(); len(f) != 0 {
		t.Errorf("findings for the production policy: %v", f)
	}
	if _, err := New(production()); err != nil {
		t.Error(err)
	}
}

func TestCheckZeroPolicyMirrorsDjango(t *testing.T) {
	got := map[string]Finding{}
	for _, f := range (Policy{}).Check() {
		got[f.ID] = f
	}
	// What "manage.py check --deploy" says about a project with the
	// middleware on and no security settings, and what it does not check.
	for id, django := range map[string]string{
		"HGP-RED-001": "security.W008", "HGP-HSTS-001": "security.W004", "HGP-HDR-001": "security.W006",
		"HGP-HDR-002": "security.W002", "HGP-HDR-005": "security.W022", "HGP-COOK-001": "security.W012, security.W016",
		"HGP-COOK-003": "security.W015", "HGP-HOST-001": "security.W020", "HGP-HDR-007": "", "HGP-CSP-001": "", "HGP-HDR-010": "",
	} {
		f, ok := got[id]
		if !ok {
			t.Errorf("zero policy: no %s", id)
			continue
		}
		if f.Django != django {
			t.Errorf("%s: Django = %q, want %q", id, f.Django, django)
		}
		if f.Message == "" || f.Fix == "" || f.Field == "" {
			t.Errorf("%s: incomplete finding %+v", id, f)
		}
	}
}

func TestCheckFindings(t *testing.T) {
	cases := []struct {
		id     string
		mutate func(p *Policy)
	}{
		{"HGP-RED-001", func(p *Policy) { p.SSLRedirect = false }},
		{"HGP-RED-002", func(p *Policy) { p.SSLHost = "https://secure.example.com" }},
		{"HGP-RED-002", func(p *Policy) { p.SSLHost = "secure.example.com/app" }},
		{"HGP-RED-003", func(p *Policy) { p.RedirectExempt = []string{"[a-"} }},
		{"HGP-RED-004", func(p *Policy) { p.RedirectExempt = []string{".*"} }},
		{"HGP-RED-004", func(p *Policy) { p.RedirectExempt = []string{"^"} }},
		{"HGP-RED-004", func(p *Policy) { p.RedirectExempt = []string{"^healthz$", "x?"} }},
		{"HGP-HSTS-001", func(p *Policy) { p.HSTSSeconds, p.HSTSIncludeSubdomains, p.HSTSPreload = 0, false, false }},
		{"HGP-HSTS-002", func(p *Policy) { p.HSTSSeconds, p.HSTSPreload = 86400, false }},
		{"HGP-HSTS-003", func(p *Policy) { p.HSTSIncludeSubdomains, p.HSTSPreload = false, false }},
		{"HGP-HSTS-004", func(p *Policy) { p.HSTSPreload = false }},
		{"HGP-HSTS-005", func(p *Policy) { p.HSTSIncludeSubdomains = false }},
		{"HGP-HSTS-005", func(p *Policy) { p.HSTSSeconds = 31535999 }},
		{"HGP-HSTS-006", func(p *Policy) { p.HSTSSeconds = -1 }},
		{"HGP-HSTS-007", func(p *Policy) { p.HSTSSeconds = 0 }},
		{"HGP-PROXY-001", func(p *Policy) { p.TrustedProxies = nil }},
		{"HGP-PROXY-002", func(p *Policy) { p.TrustedProxies = []string{"0.0.0.0/0"} }},
		{"HGP-PROXY-002", func(p *Policy) { p.TrustedProxies = []string{"10.0.0.0/8", "::/0"} }},
		{"HGP-PROXY-003", func(p *Policy) { p.ProxySSLValue = "" }},
		{"HGP-PROXY-003", func(p *Policy) { p.ProxySSLHeader = "X-Forwarded-Proto:" }},
		{"HGP-PROXY-004", func(p *Policy) { p.TrustedProxies = []string{"10.0.0.300"} }},
		{"HGP-PROXY-005", func(p *Policy) { p.ProxySSLHeader, p.ProxySSLValue = "", "" }},
		{"HGP-PROXY-006", func(p *Policy) { p.UseXForwardedHost, p.TrustedProxies = true, nil }},
		{"HGP-PROXY-006", func(p *Policy) {
			p.UseXForwardedHost, p.ProxySSLHeader, p.ProxySSLValue, p.TrustedProxies = true, "", "", nil
		}},
		{"HGP-HDR-001", func(p *Policy) { p.ContentTypeNosniff = false }},
		{"HGP-HDR-002", func(p *Policy) { p.FrameOptions = "" }},
		{"HGP-HDR-003", func(p *Policy) { p.FrameOptions = "sameorigin" }},
		{"HGP-HDR-004", func(p *Policy) { p.FrameOptions = "ALLOW-FROM https://a.example" }},
		{"HGP-HDR-005", func(p *Policy) { p.ReferrerPolicy = "" }},
		{"HGP-HDR-006", func(p *Policy) { p.ReferrerPolicy = "same-origin,never" }},
		{"HGP-HDR-007", func(p *Policy) { p.CrossOriginOpenerPolicy = "" }},
		{"HGP-HDR-008", func(p *Policy) { p.CrossOriginOpenerPolicy = "same-site" }},
		{"HGP-CSP-001", func(p *Policy) { p.ContentSecurityPolicy = "" }},
		{"HGP-CSP-002", func(p *Policy) { p.ContentSecurityPolicy = "default-src 'self' 'unsafe-inline'" }},
		{"HGP-CSP-002", func(p *Policy) { p.ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'unsafe-inline'" }},
		{"HGP-CSP-003", func(p *Policy) { p.ContentSecurityPolicy = "script-src 'nonce-{nonce}'; style-src nonce-{nonce}" }},
		{"HGP-HDR-009", func(p *Policy) { p.ContentSecurityPolicy = "default-src 'self'\r\nX-Evil: 1" }},
		{"HGP-HDR-009", func(p *Policy) { p.PermissionsPolicy = "camera=()\n" }},
		{"HGP-HDR-010", func(p *Policy) { p.PermissionsPolicy = "" }},
		{"HGP-HDR-009", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "default-src 'self'; report-uri /r\nX-Evil: 1" }},
		{"HGP-CSP-004", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "default-src 'self'" }},
		{"HGP-CSP-004", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "default-src 'self'; report-uri" }},
		{"HGP-CSP-004", func(p *Policy) {
			p.ContentSecurityPolicyReportOnly = "default-src 'self'; report-uri /r, script-src 'none'"
		}},
		{"HGP-CSP-004", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "reporturi /r" }},
		{"HGP-CSP-005", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "script-src nonce-{nonce}; report-uri /r" }},
		{"HGP-CSP-006", func(p *Policy) {
			p.ContentSecurityPolicyReportOnly = strings.ToUpper(p.ContentSecurityPolicy[:11]) + "  " + p.ContentSecurityPolicy[11:]
		}},
		{"HGP-CSP-001", func(p *Policy) {
			p.ContentSecurityPolicy, p.ContentSecurityPolicyReportOnly = "", "default-src 'self'; report-to csp"
		}},
		{"HGP-COOK-001", func(p *Policy) { p.SecureCookies = nil }},
		{"HGP-COOK-002", func(p *Policy) { p.SecureCookies = []string{"sessionid", "csrftoken"} }},
		{"HGP-COOK-003", func(p *Policy) { p.HTTPOnlyCookies = nil }},
		{"HGP-COOK-004", func(p *Policy) { p.CookieSameSite = "" }},
		{"HGP-COOK-005", func(p *Policy) { p.CookieSameSite = "None" }},
		{"HGP-COOK-006", func(p *Policy) { p.CookieSameSite = "Relaxed" }},
		{"HGP-COOK-006", func(p *Policy) { p.SecureCookies = []string{"session id"} }},
		{"HGP-HOST-001", func(p *Policy) { p.AllowedHosts = nil }},
		{"HGP-HOST-002", func(p *Policy) { p.AllowedHosts = []string{"example.com", "*"} }},
		{"HGP-HOST-003", func(p *Policy) { p.AllowedHosts = []string{"*.example.com"} }},
		{"HGP-DEV-001", func(p *Policy) { p.Development = true }},
		{"HGP-PROXY-003", func(p *Policy) { p.ProxySSLValue, p.TrustedProxies = "", nil }}, // with HGP-PROXY-001: still in catalogue order
		{"HGP-COOK-005", func(p *Policy) { p.SameSiteCookies = map[string]string{"widget": "None"} }},
		{"HGP-COOK-006", func(p *Policy) { p.SameSiteCookies = map[string]string{"sessionid": "strictest"} }},
		{"HGP-COOK-004", func(p *Policy) { p.CookieSameSite, p.SameSiteCookies = "", map[string]string{"sessionid": "Strict"} }},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		p := production()
		tc.mutate(&p)
		findings := p.Check()
		var hit *Finding
		hasError := false
		for i, f := range findings {
			if f.ID == tc.id {
				hit = &findings[i]
			}
			hasError = hasError || f.Severity == SeverityError
		}
		if hit == nil {
			t.Errorf("%s not reported for %v\ngot %v", tc.id, p, findings)
			continue
		}
		covered[tc.id] = true
		dc, ok := LookupCheck(tc.id)
		if !ok {
			t.Fatalf("LookupCheck(%q) found nothing", tc.id)
		}
		if want := dc.Severity; hit.Severity != want {
			t.Errorf("%s: severity %s, want %s", tc.id, hit.Severity, want)
		}
		// A finding of severity error means exactly that New refuses the
		// policy, so "httpsguard policy" and New never disagree.
		if _, err := New(p); (err != nil) != hasError {
			t.Errorf("%s: New error = %v, but error findings = %v", tc.id, err, hasError)
		}
		if !slices.IsSortedFunc(findings, func(a, b Finding) int { return catalogueIndex(a.ID) - catalogueIndex(b.ID) }) {
			t.Errorf("%s: findings not in catalogue order", tc.id)
		}
	}
	for _, c := range Checks() {
		if c.decide == nil {
			continue // decided elsewhere: HGP-ENV-001 by CheckEnv (TestCheckEnv)
		}
		if !covered[c.ID] {
			t.Errorf("no test case reaches %s", c.ID)
		}
	}
}

func catalogueIndex(id string) int {
	for i, c := range catalogue {
		if c.ID == id {
			return i
		}
	}
	return -1
}

// TestCheckCatalogue holds the catalogue to its rules: unique IDs of the
// form HGP-<AREA>-NNN, unique legacy IDs that LookupCheck also finds, every
// entry complete and decided somewhere.
func TestCheckCatalogue(t *testing.T) {
	idForm := regexp.MustCompile(`^HGP-(RED|HSTS|PROXY|HDR|CSP|COOK|HOST|DEV|ENV)-\d{3}$`)
	seen := map[string]bool{}
	for _, c := range Checks() {
		if !idForm.MatchString(c.ID) {
			t.Errorf("%s: not of the form HGP-<AREA>-NNN", c.ID)
		}
		for _, id := range []string{c.ID, c.LegacyID} {
			if id == "" {
				continue
			}
			if seen[id] {
				t.Errorf("duplicate ID %s", id)
			}
			seen[id] = true
			if got, ok := LookupCheck(strings.ToLower(id)); !ok || got.ID != c.ID {
				t.Errorf("LookupCheck(%q) = %s, %v", id, got.ID, ok)
			}
		}
		if c.Title == "" || c.Fix == "" || c.Field == "" || c.Severity.rank() == 0 {
			t.Errorf("%s: incomplete entry %+v", c.ID, c)
		}
	}
	if _, ok := LookupCheck("HG999"); ok {
		t.Error("LookupCheck found an unknown ID")
	}
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated tables in docs/enforce.md")

// TestChecksDocumented keeps the catalogue in docs/enforce.md generated from
// the code: run "go generate ." after changing a check.
func TestChecksDocumented(t *testing.T) {
	var b strings.Builder
	b.WriteString("| ID | former ID | severity | field | finding | Django |\n|---|---|---|---|---|---|\n")
	for _, c := range Checks() {
		django := c.Django
		if django == "" {
			django = "—"
		}
		legacy := c.LegacyID
		if legacy == "" {
			legacy = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | %s |\n", c.ID, legacy, c.Severity, c.Field, strings.ReplaceAll(c.Title, "|", "\\|"), django)
	}
	replaceGenerated(t, "docs/enforce.md", "checks", b.String())
}

// replaceGenerated checks, or with -update-docs rewrites, the text between
// "<!-- name:begin -->" and "<!-- name:end -->" in the file.
func replaceGenerated(t *testing.T, file, name, want string) {
	t.Helper()
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s...%s section", file, strings.TrimSpace(begin), end)
	}
	got := string(doc[i+len(begin) : j])
	if got == want {
		return
	}
	if *updateDocs {
		out := string(doc[:i+len(begin)]) + want + string(doc[j:])
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the %s table in %s is out of date: run go generate . (or go test -run %s -update-docs .)", name, file, t.Name())
}
