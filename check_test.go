package httpsguard

import (
	"os"
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
		}, []string{"HG140", "HG141", "HG144", "HG145", "HG146"}},
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
		"HG101": "security.W008", "HG111": "security.W004", "HG131": "security.W006",
		"HG132": "security.W002", "HG135": "security.W022", "HG151": "security.W012, security.W016",
		"HG153": "security.W015", "HG161": "security.W020", "HG137": "", "HG139": "", "HG143": "",
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
		{"HG101", func(p *Policy) { p.SSLRedirect = false }},
		{"HG102", func(p *Policy) { p.SSLHost = "https://secure.example.com" }},
		{"HG102", func(p *Policy) { p.SSLHost = "secure.example.com/app" }},
		{"HG103", func(p *Policy) { p.RedirectExempt = []string{"[a-"} }},
		{"HG104", func(p *Policy) { p.RedirectExempt = []string{".*"} }},
		{"HG104", func(p *Policy) { p.RedirectExempt = []string{"^"} }},
		{"HG104", func(p *Policy) { p.RedirectExempt = []string{"^healthz$", "x?"} }},
		{"HG111", func(p *Policy) { p.HSTSSeconds, p.HSTSIncludeSubdomains, p.HSTSPreload = 0, false, false }},
		{"HG112", func(p *Policy) { p.HSTSSeconds, p.HSTSPreload = 86400, false }},
		{"HG113", func(p *Policy) { p.HSTSIncludeSubdomains, p.HSTSPreload = false, false }},
		{"HG114", func(p *Policy) { p.HSTSPreload = false }},
		{"HG115", func(p *Policy) { p.HSTSIncludeSubdomains = false }},
		{"HG115", func(p *Policy) { p.HSTSSeconds = 31535999 }},
		{"HG116", func(p *Policy) { p.HSTSSeconds = -1 }},
		{"HG117", func(p *Policy) { p.HSTSSeconds = 0 }},
		{"HG121", func(p *Policy) { p.TrustedProxies = nil }},
		{"HG122", func(p *Policy) { p.TrustedProxies = []string{"0.0.0.0/0"} }},
		{"HG122", func(p *Policy) { p.TrustedProxies = []string{"10.0.0.0/8", "::/0"} }},
		{"HG123", func(p *Policy) { p.ProxySSLValue = "" }},
		{"HG123", func(p *Policy) { p.ProxySSLHeader = "X-Forwarded-Proto:" }},
		{"HG124", func(p *Policy) { p.TrustedProxies = []string{"10.0.0.300"} }},
		{"HG125", func(p *Policy) { p.ProxySSLHeader, p.ProxySSLValue = "", "" }},
		{"HG126", func(p *Policy) { p.UseXForwardedHost, p.TrustedProxies = true, nil }},
		{"HG126", func(p *Policy) {
			p.UseXForwardedHost, p.ProxySSLHeader, p.ProxySSLValue, p.TrustedProxies = true, "", "", nil
		}},
		{"HG131", func(p *Policy) { p.ContentTypeNosniff = false }},
		{"HG132", func(p *Policy) { p.FrameOptions = "" }},
		{"HG133", func(p *Policy) { p.FrameOptions = "sameorigin" }},
		{"HG134", func(p *Policy) { p.FrameOptions = "ALLOW-FROM https://a.example" }},
		{"HG135", func(p *Policy) { p.ReferrerPolicy = "" }},
		{"HG136", func(p *Policy) { p.ReferrerPolicy = "same-origin,never" }},
		{"HG137", func(p *Policy) { p.CrossOriginOpenerPolicy = "" }},
		{"HG138", func(p *Policy) { p.CrossOriginOpenerPolicy = "same-site" }},
		{"HG139", func(p *Policy) { p.ContentSecurityPolicy = "" }},
		{"HG140", func(p *Policy) { p.ContentSecurityPolicy = "default-src 'self' 'unsafe-inline'" }},
		{"HG140", func(p *Policy) { p.ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'unsafe-inline'" }},
		{"HG141", func(p *Policy) { p.ContentSecurityPolicy = "script-src 'nonce-{nonce}'; style-src nonce-{nonce}" }},
		{"HG142", func(p *Policy) { p.ContentSecurityPolicy = "default-src 'self'\r\nX-Evil: 1" }},
		{"HG142", func(p *Policy) { p.PermissionsPolicy = "camera=()\n" }},
		{"HG143", func(p *Policy) { p.PermissionsPolicy = "" }},
		{"HG142", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "default-src 'self'; report-uri /r\nX-Evil: 1" }},
		{"HG144", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "default-src 'self'" }},
		{"HG144", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "default-src 'self'; report-uri" }},
		{"HG144", func(p *Policy) {
			p.ContentSecurityPolicyReportOnly = "default-src 'self'; report-uri /r, script-src 'none'"
		}},
		{"HG144", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "reporturi /r" }},
		{"HG145", func(p *Policy) { p.ContentSecurityPolicyReportOnly = "script-src nonce-{nonce}; report-uri /r" }},
		{"HG146", func(p *Policy) {
			p.ContentSecurityPolicyReportOnly = strings.ToUpper(p.ContentSecurityPolicy[:11]) + "  " + p.ContentSecurityPolicy[11:]
		}},
		{"HG139", func(p *Policy) {
			p.ContentSecurityPolicy, p.ContentSecurityPolicyReportOnly = "", "default-src 'self'; report-to csp"
		}},
		{"HG151", func(p *Policy) { p.SecureCookies = nil }},
		{"HG152", func(p *Policy) { p.SecureCookies = []string{"sessionid", "csrftoken"} }},
		{"HG153", func(p *Policy) { p.HTTPOnlyCookies = nil }},
		{"HG154", func(p *Policy) { p.CookieSameSite = "" }},
		{"HG155", func(p *Policy) { p.CookieSameSite = "None" }},
		{"HG156", func(p *Policy) { p.CookieSameSite = "Relaxed" }},
		{"HG156", func(p *Policy) { p.SecureCookies = []string{"session id"} }},
		{"HG161", func(p *Policy) { p.AllowedHosts = nil }},
		{"HG162", func(p *Policy) { p.AllowedHosts = []string{"example.com", "*"} }},
		{"HG163", func(p *Policy) { p.AllowedHosts = []string{"*.example.com"} }},
		{"HG171", func(p *Policy) { p.Development = true }},
		{"HG123", func(p *Policy) { p.ProxySSLValue, p.TrustedProxies = "", nil }}, // with HG121: still in ID order
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
		if want := info(tc.id).Severity; hit.Severity != want {
			t.Errorf("%s: severity %s, want %s", tc.id, hit.Severity, want)
		}
		// A finding of severity error means exactly that New refuses the
		// policy, so "httpsguard policy" and New never disagree.
		if _, err := New(p); (err != nil) != hasError {
			t.Errorf("%s: New error = %v, but error findings = %v", tc.id, err, hasError)
		}
		if !slices.IsSortedFunc(findings, func(a, b Finding) int { return strings.Compare(a.ID, b.ID) }) {
			t.Errorf("%s: findings not in ID order", tc.id)
		}
	}
	for _, c := range Checks() {
		if !covered[c.ID] {
			t.Errorf("no test case reaches %s", c.ID)
		}
	}
}

// TestChecksDocumented keeps the findings table of docs/enforce.md in step
// with the code: every ID appears there with its Django equivalent.
func TestChecksDocumented(t *testing.T) {
	doc, err := os.ReadFile("docs/enforce.md")
	if err != nil || !strings.Contains(string(doc), "| HG101 ") {
		t.Fatalf("no findings table in docs/enforce.md (err %v)", err)
	}
	seen := map[string]bool{}
	for _, c := range Checks() {
		if seen[c.ID] {
			t.Errorf("duplicate ID %s", c.ID)
		}
		seen[c.ID] = true
		var row string
		for _, line := range strings.Split(string(doc), "\n") {
			if strings.HasPrefix(line, "| "+c.ID+" ") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("%s missing from the findings table in docs/enforce.md", c.ID)
			continue
		}
		for _, d := range strings.Split(c.Django, ", ") {
			if !strings.Contains(row, d) {
				t.Errorf("%s: row %q lacks Django's %s", c.ID, row, d)
			}
		}
		if !strings.Contains(row, string(c.Severity)) {
			t.Errorf("%s: row %q lacks severity %s", c.ID, row, c.Severity)
		}
	}
}
