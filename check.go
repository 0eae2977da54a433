package httpsguard

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/internal/csp"
)

// Severity says how much a Finding matters.
type Severity string

// The severities, from least to most serious.
const (
	// SeverityInfo is worth knowing; it does not fail "httpsguard policy".
	SeverityInfo Severity = "info"
	// SeverityWarning is a weakness to fix before deployment.
	SeverityWarning Severity = "warning"
	// SeverityError is a value New rejects: the policy cannot run at all.
	SeverityError Severity = "error"
)

func (s Severity) rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityError:
		return 3
	}
	return 0
}

// AtLeast reports whether s is as serious as t or more.
func (s Severity) AtLeast(t Severity) bool { return s.rank() >= t.rank() }

// Finding is one result of the deployment check.
type Finding struct {
	// ID never changes once released, so it can be silenced or searched
	// for: "HGP-HSTS-004". LegacyID is the check's former ID ("HG114").
	ID       string   `json:"id"`
	LegacyID string   `json:"legacy_id,omitempty"`
	Severity Severity `json:"severity"`
	// Field is the Policy field the finding is about.
	Field string `json:"field"`
	// Title names the check; Message says what is wrong with this policy,
	// Fix what to do about it.
	Title   string `json:"title"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
	// Django is the equivalent "manage.py check --deploy" message ID, such
	// as "security.W004", or "" when Django has none.
	Django string `json:"django,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s (fix: %s)", f.ID, f.Severity, f.Message, f.Fix)
}

// DeployCheck is one check of the deployment check: what it is about, how
// serious it is, what Django calls it, what to do about it, and the small
// function that decides, for a given policy, whether it fires and with what
// message. Each check is one entry in the catalogue, so adding or changing
// a check touches one place.
type DeployCheck struct {
	// ID never changes once released: "HGP-HSTS-004". The area names what
	// the check is about (RED redirect, HSTS, PROXY, HDR headers, CSP,
	// COOK cookies, HOST, DEV, ENV); the site checker's IDs start HGS-.
	ID string `json:"id"`
	// LegacyID is the ID the check had before the areas ("HG114"); it is
	// still accepted wherever an ID is taken as input.
	LegacyID string   `json:"legacy_id,omitempty"`
	Severity Severity `json:"severity"`
	// Field is the Policy field the check is about.
	Field string `json:"field"`
	Title string `json:"title"`
	// Django is the equivalent "manage.py check --deploy" message ID, such
	// as "security.W004", or "" when Django has none.
	Django string `json:"django,omitempty"`
	Fix    string `json:"fix"`

	// decide returns the finding's message when the check fires for the
	// policy in c, and "" when it does not. It is nil for checks decided
	// elsewhere (CheckEnv).
	decide func(c *checkInput) string
}

// checkInput is what every decide function reads: the policy, and what was
// worked out from it once.
type checkInput struct {
	p       Policy
	invalid map[string][]*FieldError // validate's errors by field
	cookies cookieRules
	// proxyHeader says whether a proxy header is configured.
	proxyHeader bool
	// csp and cspRO are the trimmed CSP values.
	csp, cspRO string
}

// errText joins validate's messages for the fields, "" when they are valid.
func (c *checkInput) errText(fields ...string) string {
	var parts []string
	for _, f := range fields {
		for _, e := range c.invalid[f] {
			parts = append(parts, e.Error())
		}
	}
	return strings.Join(parts, "; ")
}

// The catalogue, in the order findings are reported: grouped by area, each
// area in the order a reader fixes things. IDs are never renumbered; a
// retired check keeps its ID out of use.
var catalogue = []DeployCheck{
	// Environment: first, since a misspelt variable explains a setting
	// that seems to be ignored.
	{ID: "HGP-ENV-001", Severity: SeverityWarning, Field: "environment", Title: "an HTTPSGUARD_* variable is unknown",
		Fix: "Rename it to the variable meant (httpsguard policy lists every variable it reads, as does docs/enforce.md), or remove it."},

	// Redirect.
	{ID: "HGP-RED-001", LegacyID: "HG101", Severity: SeverityWarning, Field: "SSLRedirect", Title: "SSL redirect is off", Django: "security.W008",
		Fix: "Set SSLRedirect (HTTPSGUARD_SSL_REDIRECT=true), or redirect at the proxy in front of the app.",
		decide: func(c *checkInput) string {
			if c.p.SSLRedirect {
				return ""
			}
			return "SSLRedirect is off: a visitor who types the bare domain stays on plain HTTP."
		}},
	{ID: "HGP-RED-002", LegacyID: "HG102", Severity: SeverityError, Field: "SSLHost", Title: "SSLHost is not a bare host[:port]",
		Fix:    `Set SSLHost to a host and optional port only, such as "example.com" or "example.com:8443".`,
		decide: func(c *checkInput) string { return c.errText("SSLHost") }},
	{ID: "HGP-RED-003", LegacyID: "HG103", Severity: SeverityError, Field: "RedirectExempt", Title: "a redirect exemption is not a regular expression",
		Fix:    `Fix the regular expression (Go RE2 syntax; lists are comma-separated, write a comma as \x2c).`,
		decide: func(c *checkInput) string { return c.errText("RedirectExempt") }},
	{ID: "HGP-RED-004", LegacyID: "HG104", Severity: SeverityWarning, Field: "RedirectExempt", Title: "a redirect exemption matches every path",
		Fix: `Anchor it to the paths that must stay on HTTP, such as "^health/?$" (paths are matched without their leading slash).`,
		decide: func(c *checkInput) string {
			for _, e := range c.p.RedirectExempt {
				if re, err := regexp.Compile(e); err == nil && matchesEveryPath(re) {
					return fmt.Sprintf("RedirectExempt %q matches every path, so nothing is redirected to HTTPS.", e)
				}
			}
			return ""
		}},

	// HSTS.
	{ID: "HGP-HSTS-001", LegacyID: "HG111", Severity: SeverityWarning, Field: "HSTSSeconds", Title: "HSTS is off", Django: "security.W004",
		Fix: "Set HSTSSeconds, starting low (3600) and raising it to 31536000 or more once the whole site and its subdomains serve HTTPS.",
		decide: func(c *checkInput) string {
			if c.p.HSTSSeconds != 0 {
				return ""
			}
			return "HSTS is off: browsers will try plain HTTP first, where the connection can be intercepted."
		}},
	{ID: "HGP-HSTS-002", LegacyID: "HG112", Severity: SeverityWarning, Field: "HSTSSeconds", Title: "HSTS max-age is below one year",
		Fix: "Raise HSTSSeconds to at least 31536000 once HTTPS is known to work everywhere.",
		decide: func(c *checkInput) string {
			if c.p.HSTSSeconds <= 0 || c.p.HSTSSeconds >= oneYear {
				return ""
			}
			return fmt.Sprintf("HSTS max-age is %d seconds, less than one year (31536000).", c.p.HSTSSeconds)
		}},
	{ID: "HGP-HSTS-003", LegacyID: "HG113", Severity: SeverityWarning, Field: "HSTSIncludeSubdomains", Title: "HSTS does not include subdomains", Django: "security.W005",
		Fix: "Set HSTSIncludeSubdomains once every subdomain serves HTTPS.",
		decide: func(c *checkInput) string {
			if c.p.HSTSSeconds <= 0 || c.p.HSTSIncludeSubdomains {
				return ""
			}
			return "HSTS does not cover subdomains: an attacker can plant cookies from a plain-HTTP subdomain."
		}},
	{ID: "HGP-HSTS-004", LegacyID: "HG114", Severity: SeverityWarning, Field: "HSTSPreload", Title: "HSTS preload is not set", Django: "security.W021",
		Fix: "Set HSTSPreload (with includeSubDomains and max-age >= 31536000) and submit the domain at hstspreload.org.",
		decide: func(c *checkInput) string {
			if c.p.HSTSSeconds <= 0 || c.p.HSTSPreload {
				return ""
			}
			return "HSTS preload is not set: the first visit of each browser is still unprotected."
		}},
	{ID: "HGP-HSTS-005", LegacyID: "HG115", Severity: SeverityWarning, Field: "HSTSPreload", Title: "preload is set but the header cannot be preloaded",
		Fix: "Set HSTSIncludeSubdomains and HSTSSeconds >= 31536000, or unset HSTSPreload.",
		decide: func(c *checkInput) string {
			if c.p.HSTSSeconds <= 0 || !c.p.HSTSPreload || c.p.HSTSIncludeSubdomains && c.p.HSTSSeconds >= oneYear {
				return ""
			}
			return "HSTSPreload is set but preload lists require includeSubDomains and a max-age of at least 31536000."
		}},
	{ID: "HGP-HSTS-006", LegacyID: "HG116", Severity: SeverityError, Field: "HSTSSeconds", Title: "HSTS max-age is negative",
		Fix: "Set a max-age in seconds; 0 turns HSTS off.",
		decide: func(c *checkInput) string {
			if c.p.HSTSSeconds >= 0 {
				return ""
			}
			return fmt.Sprintf("HSTSSeconds is %d.", c.p.HSTSSeconds)
		}},
	{ID: "HGP-HSTS-007", LegacyID: "HG117", Severity: SeverityInfo, Field: "HSTSSeconds", Title: "HSTS options are set but HSTS is off",
		Fix: "Set HSTSSeconds, or unset the options.",
		decide: func(c *checkInput) string {
			if c.p.HSTSSeconds != 0 || !c.p.HSTSIncludeSubdomains && !c.p.HSTSPreload {
				return ""
			}
			return "HSTSIncludeSubdomains or HSTSPreload is set, but without HSTSSeconds no header is sent."
		}},

	// Proxies.
	{ID: "HGP-PROXY-001", LegacyID: "HG121", Severity: SeverityWarning, Field: "TrustedProxies", Title: "the proxy header is believed from any client (spoofable)",
		Fix: "Set TrustedProxies to the addresses of the TLS proxies (HTTPSGUARD_TRUSTED_PROXIES=10.0.0.0/8).",
		decide: func(c *checkInput) string {
			if !c.proxyHeader || len(c.p.TrustedProxies) > 0 {
				return ""
			}
			return fmt.Sprintf("%s is believed from every client: one that reaches the app directly can send it and pass as HTTPS.", c.p.ProxySSLHeader)
		}},
	{ID: "HGP-PROXY-002", LegacyID: "HG122", Severity: SeverityWarning, Field: "TrustedProxies", Title: "TrustedProxies admits every address",
		Fix: "List only the proxies' own addresses or networks.",
		decide: func(c *checkInput) string {
			prefixes, _, _ := compileTrustedProxies(c.p.TrustedProxies)
			for _, pr := range prefixes {
				if coversEverything(pr) {
					return fmt.Sprintf("TrustedProxies contains %s, which trusts every client as a proxy.", pr)
				}
			}
			return ""
		}},
	{ID: "HGP-PROXY-003", LegacyID: "HG123", Severity: SeverityError, Field: "ProxySSLHeader", Title: "the proxy header or its value is invalid",
		Fix:    `Set the header a TLS proxy adds and the value meaning HTTPS, such as "X-Forwarded-Proto: https".`,
		decide: func(c *checkInput) string { return c.errText("ProxySSLHeader", "ProxySSLValue") }},
	{ID: "HGP-PROXY-004", LegacyID: "HG124", Severity: SeverityError, Field: "TrustedProxies", Title: "a trusted proxy is not an address or CIDR",
		Fix:    `List addresses or CIDRs, such as "127.0.0.1,10.0.0.0/8", or "unix".`,
		decide: func(c *checkInput) string { return c.errText("TrustedProxies") }},
	{ID: "HGP-PROXY-005", LegacyID: "HG125", Severity: SeverityInfo, Field: "TrustedProxies", Title: "TrustedProxies is set without a proxy header",
		Fix: `Set ProxySSLHeader, such as "X-Forwarded-Proto: https".`,
		decide: func(c *checkInput) string {
			if c.proxyHeader || c.p.UseXForwardedHost || len(c.p.TrustedProxies) == 0 {
				return ""
			}
			return "TrustedProxies is set but neither ProxySSLHeader nor UseXForwardedHost is, so it has no effect."
		}},
	{ID: "HGP-PROXY-006", LegacyID: "HG126", Severity: SeverityWarning, Field: "UseXForwardedHost", Title: "X-Forwarded-Host is believed from any client",
		Fix: "Set TrustedProxies to the addresses of the proxies that set X-Forwarded-Host (HTTPSGUARD_TRUSTED_PROXIES=10.0.0.0/8), and have them overwrite any X-Forwarded-Host the client sent.",
		decide: func(c *checkInput) string {
			if !c.p.UseXForwardedHost || len(c.p.TrustedProxies) > 0 {
				return ""
			}
			return "UseXForwardedHost is on without TrustedProxies, so X-Forwarded-Host is believed from every peer: a client that reaches the app directly chooses the host of redirects and of the links the app builds with Guard.Host."
		}},

	// Headers.
	{ID: "HGP-HDR-001", LegacyID: "HG131", Severity: SeverityWarning, Field: "ContentTypeNosniff", Title: "X-Content-Type-Options: nosniff is off", Django: "security.W006",
		Fix: "Set ContentTypeNosniff (HTTPSGUARD_CONTENT_TYPE_NOSNIFF=true).",
		decide: func(c *checkInput) string {
			if c.p.ContentTypeNosniff {
				return ""
			}
			return "X-Content-Type-Options: nosniff is off: browsers may run uploads or text as scripts."
		}},
	{ID: "HGP-HDR-002", LegacyID: "HG132", Severity: SeverityWarning, Field: "FrameOptions", Title: "X-Frame-Options is off", Django: "security.W002",
		Fix: `Set FrameOptions to "DENY", and exempt the pages meant to be framed with ExemptFrameOptions.`,
		decide: func(c *checkInput) string {
			if strings.TrimSpace(c.p.FrameOptions) != "" {
				return ""
			}
			return "X-Frame-Options is off: any site can frame yours (clickjacking)."
		}},
	{ID: "HGP-HDR-003", LegacyID: "HG133", Severity: SeverityWarning, Field: "FrameOptions", Title: "X-Frame-Options is not DENY", Django: "security.W019",
		Fix: `Use "DENY" unless the site frames its own pages.`,
		decide: func(c *checkInput) string {
			if fo := canonicalFrameOptions(c.p.FrameOptions); fo == "SAMEORIGIN" {
				return "X-Frame-Options is SAMEORIGIN, not DENY."
			}
			return ""
		}},
	{ID: "HGP-HDR-004", LegacyID: "HG134", Severity: SeverityError, Field: "FrameOptions", Title: "X-Frame-Options value is invalid",
		Fix:    `Use "DENY", or "SAMEORIGIN" when the site frames itself; CSP frame-ancestors covers the rest.`,
		decide: func(c *checkInput) string { return c.errText("FrameOptions") }},
	{ID: "HGP-HDR-005", LegacyID: "HG135", Severity: SeverityWarning, Field: "ReferrerPolicy", Title: "Referrer-Policy is off", Django: "security.W022",
		Fix: `Set ReferrerPolicy to "same-origin" or "strict-origin-when-cross-origin".`,
		decide: func(c *checkInput) string {
			if strings.TrimSpace(c.p.ReferrerPolicy) != "" {
				return ""
			}
			return "Referrer-Policy is off: full URLs, with their query strings, leak to other sites."
		}},
	{ID: "HGP-HDR-006", LegacyID: "HG136", Severity: SeverityError, Field: "ReferrerPolicy", Title: "Referrer-Policy value is invalid", Django: "security.E023",
		Fix:    `Use a value such as "same-origin" or "strict-origin-when-cross-origin".`,
		decide: func(c *checkInput) string { return c.errText("ReferrerPolicy") }},
	{ID: "HGP-HDR-007", LegacyID: "HG137", Severity: SeverityWarning, Field: "CrossOriginOpenerPolicy", Title: "Cross-Origin-Opener-Policy is off",
		Fix: `Set CrossOriginOpenerPolicy to "same-origin".`,
		decide: func(c *checkInput) string {
			if strings.TrimSpace(c.p.CrossOriginOpenerPolicy) != "" {
				return ""
			}
			return "Cross-Origin-Opener-Policy is off: pages this site opens, or that open it, share its browsing context group."
		}},
	{ID: "HGP-HDR-008", LegacyID: "HG138", Severity: SeverityError, Field: "CrossOriginOpenerPolicy", Title: "Cross-Origin-Opener-Policy value is invalid", Django: "security.E024",
		Fix:    `Use "same-origin", or "same-origin-allow-popups" for sites that open OAuth or payment pop-ups.`,
		decide: func(c *checkInput) string { return c.errText("CrossOriginOpenerPolicy") }},
	{ID: "HGP-HDR-009", LegacyID: "HG142", Severity: SeverityError, Field: "ContentSecurityPolicy", Title: "a header value contains a control character",
		Fix: "Remove CR, LF and other control characters: header values are one line.",
		decide: func(c *checkInput) string {
			return c.errText("ContentSecurityPolicy", "ContentSecurityPolicyReportOnly", "PermissionsPolicy")
		}},
	{ID: "HGP-HDR-010", LegacyID: "HG143", Severity: SeverityInfo, Field: "PermissionsPolicy", Title: "no Permissions-Policy",
		Fix: `Set PermissionsPolicy, such as "camera=(), microphone=(), geolocation=()".`,
		decide: func(c *checkInput) string {
			if strings.TrimSpace(c.p.PermissionsPolicy) != "" {
				return ""
			}
			return "No Permissions-Policy: embedded content may ask for the camera, microphone or location."
		}},

	// Content-Security-Policy.
	{ID: "HGP-CSP-001", LegacyID: "HG139", Severity: SeverityInfo, Field: "ContentSecurityPolicy", Title: "no Content-Security-Policy",
		Fix: `Set a strict CSP with a nonce: "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'", and put Nonce(r.Context()) in each <script nonce>. To trial it first, set it as ContentSecurityPolicyReportOnly; once its reports are clean, move it to ContentSecurityPolicy (HTTPSGUARD_CSP).`,
		decide: func(c *checkInput) string {
			switch {
			case c.csp != "":
				return ""
			case c.cspRO != "":
				return "No Content-Security-Policy is enforced, only a report-only one: an injected script still runs with the page's full authority."
			}
			return "No Content-Security-Policy: an injected script runs with the page's full authority."
		}},
	{ID: "HGP-CSP-002", LegacyID: "HG140", Severity: SeverityWarning, Field: "ContentSecurityPolicy", Title: "the CSP allows inline scripts",
		Fix: `Replace 'unsafe-inline' with 'nonce-{nonce}' and add the nonce to each inline script.`,
		decide: func(c *checkInput) string {
			if c.csp == "" || !allowsInlineScript(c.csp) {
				return ""
			}
			return "The Content-Security-Policy allows 'unsafe-inline' scripts without a nonce or hash, which defeats its protection against XSS."
		}},
	{ID: "HGP-CSP-003", LegacyID: "HG141", Severity: SeverityWarning, Field: "ContentSecurityPolicy", Title: "the {nonce} placeholder is not in a 'nonce-{nonce}' source",
		Fix: `Write the source as 'nonce-{nonce}', quotes included.`,
		decide: func(c *checkInput) string {
			if !misplacedNonce(c.csp) {
				return ""
			}
			return `The Content-Security-Policy uses {nonce} outside a 'nonce-{nonce}' source, so browsers ignore it.`
		}},
	{ID: "HGP-CSP-004", LegacyID: "HG144", Severity: SeverityWarning, Field: "ContentSecurityPolicyReportOnly", Title: "the report-only CSP has no report-uri or report-to",
		Fix: `Add "report-uri /csp-reports" (every browser), and "report-to csp" with a Reporting-Endpoints: csp="/csp-reports" header set by the application, then collect the reports.`,
		decide: func(c *checkInput) string {
			if c.cspRO == "" || !reportsNowhere(c.cspRO) {
				return ""
			}
			return "The Content-Security-Policy-Report-Only policy has no report-uri or report-to directive: browsers block nothing and report its violations only to the console, so the trial teaches nothing."
		}},
	{ID: "HGP-CSP-005", LegacyID: "HG145", Severity: SeverityWarning, Field: "ContentSecurityPolicyReportOnly", Title: "the {nonce} placeholder is not in a 'nonce-{nonce}' source of the report-only CSP",
		Fix: `Write the source as 'nonce-{nonce}', quotes included.`,
		decide: func(c *checkInput) string {
			if !misplacedNonce(c.cspRO) {
				return ""
			}
			return `The Content-Security-Policy-Report-Only policy uses {nonce} outside a 'nonce-{nonce}' source, so browsers ignore it and report every nonced script.`
		}},
	{ID: "HGP-CSP-006", LegacyID: "HG146", Severity: SeverityInfo, Field: "ContentSecurityPolicyReportOnly", Title: "the report-only CSP is the enforced one",
		Fix: "Put the stricter policy being trialled in ContentSecurityPolicyReportOnly, or remove it.",
		decide: func(c *checkInput) string {
			if c.csp == "" || c.cspRO == "" || !sameCSP(c.csp, c.cspRO) {
				return ""
			}
			return "The report-only policy is the enforced one: it trials nothing, and every violation is reported twice."
		}},

	// Cookies.
	{ID: "HGP-COOK-001", LegacyID: "HG151", Severity: SeverityWarning, Field: "SecureCookies", Title: "cookies are not made Secure", Django: "security.W012, security.W016",
		Fix: `Set SecureCookies to "*" (HTTPSGUARD_SECURE_COOKIES=*), or at least to the session and CSRF cookie names.`,
		decide: func(c *checkInput) string {
			if len(c.p.SecureCookies) > 0 {
				return ""
			}
			return "No cookie is made Secure: session and CSRF cookies can leak over plain HTTP."
		}},
	{ID: "HGP-COOK-002", LegacyID: "HG152", Severity: SeverityInfo, Field: "SecureCookies", Title: "only the named cookies are made Secure",
		Fix: `Use "*" unless some cookie must work over plain HTTP.`,
		decide: func(c *checkInput) string {
			if len(c.p.SecureCookies) == 0 || c.cookies.secureAll {
				return ""
			}
			return fmt.Sprintf("Only %s are made Secure; cookies that libraries set under other names are not.", strings.Join(c.p.SecureCookies, ", "))
		}},
	{ID: "HGP-COOK-003", LegacyID: "HG153", Severity: SeverityWarning, Field: "HTTPOnlyCookies", Title: "no cookie is made HttpOnly", Django: "security.W015",
		Fix: `Name the session cookies in HTTPOnlyCookies (such as "sessionid"); "*" also hides the CSRF cookie from scripts that need it.`,
		decide: func(c *checkInput) string {
			if len(c.p.HTTPOnlyCookies) > 0 {
				return ""
			}
			return "No cookie is made HttpOnly: an XSS can read the session cookie."
		}},
	{ID: "HGP-COOK-004", LegacyID: "HG154", Severity: SeverityInfo, Field: "CookieSameSite", Title: "SameSite is left to each cookie that sets none",
		Fix: `Set CookieSameSite to "Lax" (HTTPSGUARD_COOKIE_SAMESITE=Lax), and name in SameSiteCookies the cookies that need another value.`,
		decide: func(c *checkInput) string {
			if c.cookies.sameSiteAll != "" || len(c.invalid["CookieSameSite"])+len(c.invalid["SameSiteCookies"]) > 0 {
				return ""
			}
			return "CookieSameSite is off: a cookie that sets no SameSite of its own gets none, and browsers disagree on what that means (Chromium treats it as Lax, Firefox and Safari send it cross-site)."
		}},
	{ID: "HGP-COOK-005", LegacyID: "HG155", Severity: SeverityWarning, Field: "CookieSameSite", Title: "SameSite=None is given to cookies",
		Fix: `Use "Lax" unless the cookie must reach the site from inside other sites.`,
		decide: func(c *checkInput) string {
			var none []string
			if c.cookies.sameSiteAll == "None" {
				none = append(none, "every cookie")
			}
			for _, name := range slices.Sorted(maps.Keys(c.cookies.sameSite)) {
				if c.cookies.sameSite[name] == "None" {
					none = append(none, name)
				}
			}
			if len(none) == 0 {
				return ""
			}
			return fmt.Sprintf("SameSite=None is given to %s: such cookies go with cross-site requests, so every form needs CSRF protection (the Guard adds Secure, which browsers require with None).", strings.Join(none, ", "))
		}},
	{ID: "HGP-COOK-006", LegacyID: "HG156", Severity: SeverityError, Field: "CookieSameSite", Title: "a cookie setting is invalid",
		Fix: `Use cookie names, or "*", and Lax, Strict or None for SameSite.`,
		decide: func(c *checkInput) string {
			return c.errText("CookieSameSite", "SameSiteCookies", "SecureCookies", "HTTPOnlyCookies")
		}},

	// Hosts.
	{ID: "HGP-HOST-001", LegacyID: "HG161", Severity: SeverityWarning, Field: "AllowedHosts", Title: "AllowedHosts is empty", Django: "security.W020",
		Fix: `Set AllowedHosts to the site's names (HTTPSGUARD_ALLOWED_HOSTS=example.com,.example.com).`,
		decide: func(c *checkInput) string {
			if len(c.p.AllowedHosts) > 0 {
				return ""
			}
			return "AllowedHosts is empty: any Host header is accepted, which enables cache poisoning and password-reset link forgery."
		}},
	{ID: "HGP-HOST-002", LegacyID: "HG162", Severity: SeverityWarning, Field: "AllowedHosts", Title: `AllowedHosts contains "*"`,
		Fix: "List the site's names instead.",
		decide: func(c *checkInput) string {
			if !containsTrimmed(c.p.AllowedHosts, "*") {
				return ""
			}
			return `AllowedHosts contains "*", which accepts every Host.`
		}},
	{ID: "HGP-HOST-003", LegacyID: "HG163", Severity: SeverityError, Field: "AllowedHosts", Title: "an allowed host is invalid",
		Fix:    `Use host names, ".example.com" for a domain and its subdomains, or IP addresses.`,
		decide: func(c *checkInput) string { return c.errText("AllowedHosts") }},

	// Development.
	{ID: "HGP-DEV-001", LegacyID: "HG171", Severity: SeverityWarning, Field: "Development", Title: "Development is on", Django: "security.W018",
		Fix: `Turn it off in production. To develop, keep the production policy and run the app behind "httpsguard serve".`,
		decide: func(c *checkInput) string {
			if !c.p.Development {
				return ""
			}
			return "Development is on: no HTTPS redirect, no HSTS, no cookie attributes."
		}},
}

// Checks returns every check of the deployment check, in the order
// findings are reported, for documentation and tooling.
func Checks() []DeployCheck { return slices.Clone(catalogue) }

// LookupCheck returns the check with the given ID or legacy ID ("HG114"),
// in any letter case.
func LookupCheck(id string) (DeployCheck, bool) {
	id = strings.TrimSpace(id)
	for _, c := range catalogue {
		if strings.EqualFold(c.ID, id) || c.LegacyID != "" && strings.EqualFold(c.LegacyID, id) {
			return c, true
		}
	}
	return DeployCheck{}, false
}

// finding is the Finding c reports with message msg.
func (c DeployCheck) finding(msg string) Finding {
	return Finding{ID: c.ID, LegacyID: c.LegacyID, Severity: c.Severity, Field: c.Field, Title: c.Title, Message: msg, Fix: c.Fix, Django: c.Django}
}

// oneYear is the HSTS max-age browsers' preload lists require.
const oneYear = 31536000

// Check reviews p before deployment: at least what Django's
// "manage.py check --deploy" warns about, and what a proxy-aware, HTTPS-only
// deployment also needs. Findings come in catalogue order (see Checks), at
// most one per check. A finding of SeverityError means New rejects p, and
// New rejects p only then.
func (p Policy) Check() []Finding {
	c := &checkInput{
		p:           p,
		invalid:     map[string][]*FieldError{},
		cookies:     cookieRulesFor(p),
		proxyHeader: strings.TrimSpace(p.ProxySSLHeader) != "",
		csp:         strings.TrimSpace(p.ContentSecurityPolicy),
		cspRO:       strings.TrimSpace(p.ContentSecurityPolicyReportOnly),
	}
	for _, e := range p.validate() {
		c.invalid[e.Field] = append(c.invalid[e.Field], e)
	}
	var out []Finding
	for _, dc := range catalogue {
		if dc.decide == nil {
			continue
		}
		if msg := dc.decide(c); msg != "" {
			out = append(out, dc.finding(msg))
		}
	}
	return out
}

// matchesEveryPath reports whether an exemption regexp, searched as Django
// does (unanchored, on the path without its leading slash), matches any
// path: it matches the empty path and paths of every shape.
func matchesEveryPath(re *regexp.Regexp) bool {
	for _, p := range []string{"", "x", "index.html", "admin/login/", "api/v1/users/42", "static/app.3f2a.js", ".well-known/acme-challenge/t", "Z~%20-_."} {
		if !re.MatchString(p) {
			return false
		}
	}
	return true
}

// misplacedNonce reports whether a CSP has a "{nonce}" placeholder that is
// not the whole of a 'nonce-{nonce}' source expression.
func misplacedNonce(v string) bool {
	return strings.Contains(v, NoncePlaceholder) && strings.Count(v, NoncePlaceholder) != strings.Count(v, "'nonce-"+NoncePlaceholder+"'")
}

// reportsNowhere reports whether one of the policies in a CSP header value
// has neither a report-uri nor a report-to directive with a value, as
// browsers parse it (a repeated directive counts once).
func reportsNowhere(v string) bool {
	policies := csp.ParseHeader(v)
	if len(policies) == 0 {
		return true
	}
	for _, pol := range policies {
		reports := false
		for _, name := range []string{"report-uri", "report-to"} {
			if d, ok := pol.Get(name); ok && len(d.Value) > 0 {
				reports = true
			}
		}
		if !reports {
			return true
		}
	}
	return false
}

// sameCSP reports whether two CSP header values are the same policies as a
// browser reads them: directive names in any case, any spacing.
func sameCSP(a, b string) bool {
	pa, pb := csp.ParseHeader(a), csp.ParseHeader(b)
	return slices.EqualFunc(pa, pb, func(x, y csp.Policy) bool { return x.String() == y.String() })
}

// allowsInlineScript reports whether the CSP's script policy (script-src,
// or default-src without one) has 'unsafe-inline' without a nonce or hash,
// which would make browsers ignore it.
func allowsInlineScript(csp string) bool {
	dirs := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		name := strings.ToLower(f[0])
		if _, dup := dirs[name]; !dup { // the first occurrence wins
			dirs[name] = f[1:]
		}
	}
	src, ok := dirs["script-src"]
	if !ok {
		if src, ok = dirs["default-src"]; !ok {
			return false
		}
	}
	inline, neutralised := false, false
	for _, s := range src {
		l := strings.ToLower(s)
		switch {
		case l == "'unsafe-inline'":
			inline = true
		case strings.HasPrefix(l, "'nonce-"), strings.HasPrefix(l, "'sha256-"), strings.HasPrefix(l, "'sha384-"), strings.HasPrefix(l, "'sha512-"):
			neutralised = true
		}
	}
	return inline && !neutralised
}

func containsTrimmed(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}
