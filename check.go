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
	// for: "HG111".
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Field is the Policy field the finding is about.
	Field string `json:"field"`
	// Message says what is wrong, Fix what to do about it.
	Message string `json:"message"`
	Fix     string `json:"fix"`
	// Django is the equivalent "manage.py check --deploy" message ID, such
	// as "security.W004", or "" when Django has none.
	Django string `json:"django,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s (fix: %s)", f.ID, f.Severity, f.Message, f.Fix)
}

// CheckInfo describes one check of the deployment check, whether or not it
// fires for a given policy.
type CheckInfo struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Field    string   `json:"field"`
	Title    string   `json:"title"`
	Django   string   `json:"django,omitempty"`
}

// The IDs are grouped by area: 10x redirect, 11x HSTS, 12x proxies, 13x-14x
// headers, 15x cookies, 16x hosts, 17x development. Never renumber.
var catalogue = []CheckInfo{
	{"HG101", SeverityWarning, "SSLRedirect", "SSL redirect is off", "security.W008"},
	{"HG102", SeverityError, "SSLHost", "SSLHost is not a bare host[:port]", ""},
	{"HG103", SeverityError, "RedirectExempt", "a redirect exemption is not a regular expression", ""},
	{"HG104", SeverityWarning, "RedirectExempt", "a redirect exemption matches every path", ""},
	{"HG111", SeverityWarning, "HSTSSeconds", "HSTS is off", "security.W004"},
	{"HG112", SeverityWarning, "HSTSSeconds", "HSTS max-age is below one year", ""},
	{"HG113", SeverityWarning, "HSTSIncludeSubdomains", "HSTS does not include subdomains", "security.W005"},
	{"HG114", SeverityWarning, "HSTSPreload", "HSTS preload is not set", "security.W021"},
	{"HG115", SeverityWarning, "HSTSPreload", "preload is set but the header cannot be preloaded", ""},
	{"HG116", SeverityError, "HSTSSeconds", "HSTS max-age is negative", ""},
	{"HG117", SeverityInfo, "HSTSSeconds", "HSTS options are set but HSTS is off", ""},
	{"HG121", SeverityWarning, "TrustedProxies", "the proxy header is believed from any client (spoofable)", ""},
	{"HG122", SeverityWarning, "TrustedProxies", "TrustedProxies admits every address", ""},
	{"HG123", SeverityError, "ProxySSLHeader", "the proxy header or its value is invalid", ""},
	{"HG124", SeverityError, "TrustedProxies", "a trusted proxy is not an address or CIDR", ""},
	{"HG125", SeverityInfo, "TrustedProxies", "TrustedProxies is set without a proxy header", ""},
	{"HG126", SeverityWarning, "UseXForwardedHost", "X-Forwarded-Host is believed from any client", ""},
	{"HG131", SeverityWarning, "ContentTypeNosniff", "X-Content-Type-Options: nosniff is off", "security.W006"},
	{"HG132", SeverityWarning, "FrameOptions", "X-Frame-Options is off", "security.W002"},
	{"HG133", SeverityWarning, "FrameOptions", "X-Frame-Options is not DENY", "security.W019"},
	{"HG134", SeverityError, "FrameOptions", "X-Frame-Options value is invalid", ""},
	{"HG135", SeverityWarning, "ReferrerPolicy", "Referrer-Policy is off", "security.W022"},
	{"HG136", SeverityError, "ReferrerPolicy", "Referrer-Policy value is invalid", "security.E023"},
	{"HG137", SeverityWarning, "CrossOriginOpenerPolicy", "Cross-Origin-Opener-Policy is off", ""},
	{"HG138", SeverityError, "CrossOriginOpenerPolicy", "Cross-Origin-Opener-Policy value is invalid", "security.E024"},
	{"HG139", SeverityInfo, "ContentSecurityPolicy", "no Content-Security-Policy", ""},
	{"HG140", SeverityWarning, "ContentSecurityPolicy", "the CSP allows inline scripts", ""},
	{"HG141", SeverityWarning, "ContentSecurityPolicy", "the {nonce} placeholder is not in a 'nonce-{nonce}' source", ""},
	{"HG142", SeverityError, "ContentSecurityPolicy", "a header value contains a control character", ""},
	{"HG143", SeverityInfo, "PermissionsPolicy", "no Permissions-Policy", ""},
	{"HG144", SeverityWarning, "ContentSecurityPolicyReportOnly", "the report-only CSP has no report-uri or report-to", ""},
	{"HG145", SeverityWarning, "ContentSecurityPolicyReportOnly", "the {nonce} placeholder is not in a 'nonce-{nonce}' source of the report-only CSP", ""},
	{"HG146", SeverityInfo, "ContentSecurityPolicyReportOnly", "the report-only CSP is the enforced one", ""},
	{"HG151", SeverityWarning, "SecureCookies", "cookies are not made Secure", "security.W012, security.W016"},
	{"HG152", SeverityInfo, "SecureCookies", "only the named cookies are made Secure", ""},
	{"HG153", SeverityWarning, "HTTPOnlyCookies", "no cookie is made HttpOnly", "security.W015"},
	{"HG154", SeverityInfo, "CookieSameSite", "SameSite is left to each cookie that sets none", ""},
	{"HG155", SeverityWarning, "CookieSameSite", "SameSite=None is given to cookies", ""},
	{"HG156", SeverityError, "CookieSameSite", "a cookie setting is invalid", ""},
	{"HG161", SeverityWarning, "AllowedHosts", "AllowedHosts is empty", "security.W020"},
	{"HG162", SeverityWarning, "AllowedHosts", "AllowedHosts contains \"*\"", ""},
	{"HG163", SeverityError, "AllowedHosts", "an allowed host is invalid", ""},
	{"HG171", SeverityWarning, "Development", "Development is on", "security.W018"},
}

// Checks returns every check Policy.Check runs, in ID order, for
// documentation and tooling.
func Checks() []CheckInfo { return append([]CheckInfo(nil), catalogue...) }

func info(id string) CheckInfo {
	for _, c := range catalogue {
		if c.ID == id {
			return c
		}
	}
	panic("httpsguard: unknown check " + id)
}

// oneYear is the HSTS max-age browsers' preload lists require.
const oneYear = 31536000

// Check reviews p before deployment: at least what Django's
// "manage.py check --deploy" warns about, and what a proxy-aware, HTTPS-only
// deployment also needs. Findings come in ID order. A finding of
// SeverityError means New rejects p.
func (p Policy) Check() []Finding {
	var out []Finding
	add := func(id, msg, fix string) {
		c := info(id)
		out = append(out, Finding{ID: id, Severity: c.Severity, Field: c.Field, Message: msg, Fix: fix, Django: c.Django})
	}
	invalid := map[string][]*FieldError{}
	for _, e := range p.validate() {
		invalid[e.Field] = append(invalid[e.Field], e)
	}
	errText := func(field string) string {
		var parts []string
		for _, e := range invalid[field] {
			parts = append(parts, e.Error())
		}
		return strings.Join(parts, "; ")
	}

	// Redirect.
	if !p.SSLRedirect {
		add("HG101", "SSLRedirect is off: a visitor who types the bare domain stays on plain HTTP.",
			"Set SSLRedirect (HTTPSGUARD_SSL_REDIRECT=true), or redirect at the proxy in front of the app.")
	}
	if len(invalid["SSLHost"]) > 0 {
		add("HG102", errText("SSLHost"), `Set SSLHost to a host and optional port only, such as "example.com" or "example.com:8443".`)
	}
	if len(invalid["RedirectExempt"]) > 0 {
		add("HG103", errText("RedirectExempt"), "Fix the regular expression (Go RE2 syntax; lists are comma-separated, write a comma as \\x2c).")
	}
	for _, e := range p.RedirectExempt {
		if re, err := regexp.Compile(e); err == nil && matchesEveryPath(re) {
			add("HG104", fmt.Sprintf("RedirectExempt %q matches every path, so nothing is redirected to HTTPS.", e),
				`Anchor it to the paths that must stay on HTTP, such as "^health/?$" (paths are matched without their leading slash).`)
			break
		}
	}

	// HSTS.
	switch {
	case p.HSTSSeconds < 0:
		add("HG116", fmt.Sprintf("HSTSSeconds is %d.", p.HSTSSeconds), "Set a max-age in seconds; 0 turns HSTS off.")
	case p.HSTSSeconds == 0:
		add("HG111", "HSTS is off: browsers will try plain HTTP first, where the connection can be intercepted.",
			"Set HSTSSeconds, starting low (3600) and raising it to 31536000 or more once the whole site and its subdomains serve HTTPS.")
		if p.HSTSIncludeSubdomains || p.HSTSPreload {
			add("HG117", "HSTSIncludeSubdomains or HSTSPreload is set, but without HSTSSeconds no header is sent.",
				"Set HSTSSeconds, or unset the options.")
		}
	default:
		if p.HSTSSeconds < oneYear {
			add("HG112", fmt.Sprintf("HSTS max-age is %d seconds, less than one year (31536000).", p.HSTSSeconds),
				"Raise HSTSSeconds to at least 31536000 once HTTPS is known to work everywhere.")
		}
		if !p.HSTSIncludeSubdomains {
			add("HG113", "HSTS does not cover subdomains: an attacker can plant cookies from a plain-HTTP subdomain.",
				"Set HSTSIncludeSubdomains once every subdomain serves HTTPS.")
		}
		if !p.HSTSPreload {
			add("HG114", "HSTS preload is not set: the first visit of each browser is still unprotected.",
				"Set HSTSPreload (with includeSubDomains and max-age >= 31536000) and submit the domain at hstspreload.org.")
		} else if !p.HSTSIncludeSubdomains || p.HSTSSeconds < oneYear {
			add("HG115", "HSTSPreload is set but preload lists require includeSubDomains and a max-age of at least 31536000.",
				"Set HSTSIncludeSubdomains and HSTSSeconds >= 31536000, or unset HSTSPreload.")
		}
	}

	// Proxies.
	proxyHeader := strings.TrimSpace(p.ProxySSLHeader) != ""
	if len(invalid["ProxySSLHeader"])+len(invalid["ProxySSLValue"]) > 0 {
		add("HG123", strings.Trim(errText("ProxySSLHeader")+"; "+errText("ProxySSLValue"), "; "),
			`Set the header a TLS proxy adds and the value meaning HTTPS, such as "X-Forwarded-Proto: https".`)
	}
	if len(invalid["TrustedProxies"]) > 0 {
		add("HG124", errText("TrustedProxies"), `List addresses or CIDRs, such as "127.0.0.1,10.0.0.0/8", or "unix".`)
	}
	if proxyHeader && len(p.TrustedProxies) == 0 {
		add("HG121", fmt.Sprintf("%s is believed from every client: one that reaches the app directly can send it and pass as HTTPS.", p.ProxySSLHeader),
			"Set TrustedProxies to the addresses of the TLS proxies (HTTPSGUARD_TRUSTED_PROXIES=10.0.0.0/8).")
	}
	prefixes, _, _ := compileTrustedProxies(p.TrustedProxies)
	for _, pr := range prefixes {
		if coversEverything(pr) {
			add("HG122", fmt.Sprintf("TrustedProxies contains %s, which trusts every client as a proxy.", pr),
				"List only the proxies' own addresses or networks.")
			break
		}
	}
	if !proxyHeader && !p.UseXForwardedHost && len(p.TrustedProxies) > 0 {
		add("HG125", "TrustedProxies is set but neither ProxySSLHeader nor UseXForwardedHost is, so it has no effect.",
			`Set ProxySSLHeader, such as "X-Forwarded-Proto: https".`)
	}
	if p.UseXForwardedHost && len(p.TrustedProxies) == 0 {
		add("HG126", "UseXForwardedHost is on without TrustedProxies, so X-Forwarded-Host is believed from every peer: a client that reaches the app directly chooses the host of redirects and of the links the app builds with Guard.Host.",
			"Set TrustedProxies to the addresses of the proxies that set X-Forwarded-Host (HTTPSGUARD_TRUSTED_PROXIES=10.0.0.0/8), and have them overwrite any X-Forwarded-Host the client sent.")
	}

	// Headers.
	if !p.ContentTypeNosniff {
		add("HG131", "X-Content-Type-Options: nosniff is off: browsers may run uploads or text as scripts.",
			"Set ContentTypeNosniff (HTTPSGUARD_CONTENT_TYPE_NOSNIFF=true).")
	}
	switch fo := canonicalFrameOptions(p.FrameOptions); {
	case len(invalid["FrameOptions"]) > 0:
		add("HG134", errText("FrameOptions"), `Use "DENY", or "SAMEORIGIN" when the site frames itself; CSP frame-ancestors covers the rest.`)
	case fo == "":
		add("HG132", "X-Frame-Options is off: any site can frame yours (clickjacking).",
			`Set FrameOptions to "DENY", and exempt the pages meant to be framed with ExemptFrameOptions.`)
	case fo != "DENY":
		add("HG133", fmt.Sprintf("X-Frame-Options is %s, not DENY.", fo),
			`Use "DENY" unless the site frames its own pages.`)
	}
	switch {
	case len(invalid["ReferrerPolicy"]) > 0:
		add("HG136", errText("ReferrerPolicy"), `Use a value such as "same-origin" or "strict-origin-when-cross-origin".`)
	case strings.TrimSpace(p.ReferrerPolicy) == "":
		add("HG135", "Referrer-Policy is off: full URLs, with their query strings, leak to other sites.",
			`Set ReferrerPolicy to "same-origin" or "strict-origin-when-cross-origin".`)
	}
	switch {
	case len(invalid["CrossOriginOpenerPolicy"]) > 0:
		add("HG138", errText("CrossOriginOpenerPolicy"), `Use "same-origin", or "same-origin-allow-popups" for sites that open OAuth or payment pop-ups.`)
	case strings.TrimSpace(p.CrossOriginOpenerPolicy) == "":
		add("HG137", "Cross-Origin-Opener-Policy is off: pages this site opens, or that open it, share its browsing context group.",
			`Set CrossOriginOpenerPolicy to "same-origin".`)
	}
	enforced := strings.TrimSpace(p.ContentSecurityPolicy)
	reportOnly := strings.TrimSpace(p.ContentSecurityPolicyReportOnly)
	switch {
	case enforced == "" && reportOnly != "":
		add("HG139", "No Content-Security-Policy is enforced, only a report-only one: an injected script still runs with the page's full authority.",
			"Once the report-only policy's reports are clean, move it to ContentSecurityPolicy (HTTPSGUARD_CSP).")
	case enforced == "":
		add("HG139", "No Content-Security-Policy: an injected script runs with the page's full authority.",
			`Set a strict CSP with a nonce: "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'", and put Nonce(r.Context()) in each <script nonce>. To trial it first, set it as ContentSecurityPolicyReportOnly.`)
	default:
		if allowsInlineScript(enforced) {
			add("HG140", "The Content-Security-Policy allows 'unsafe-inline' scripts without a nonce or hash, which defeats its protection against XSS.",
				`Replace 'unsafe-inline' with 'nonce-{nonce}' and add the nonce to each inline script.`)
		}
		if misplacedNonce(enforced) {
			add("HG141", `The Content-Security-Policy uses {nonce} outside a 'nonce-{nonce}' source, so browsers ignore it.`,
				`Write the source as 'nonce-{nonce}', quotes included.`)
		}
	}
	if reportOnly != "" {
		if reportsNowhere(reportOnly) {
			add("HG144", "The Content-Security-Policy-Report-Only policy has no report-uri or report-to directive: browsers block nothing and report its violations only to the console, so the trial teaches nothing.",
				`Add "report-uri /csp-reports" (every browser), and "report-to csp" with a Reporting-Endpoints: csp="/csp-reports" header set by the application, then collect the reports.`)
		}
		if misplacedNonce(reportOnly) {
			add("HG145", `The Content-Security-Policy-Report-Only policy uses {nonce} outside a 'nonce-{nonce}' source, so browsers ignore it and report every nonced script.`,
				`Write the source as 'nonce-{nonce}', quotes included.`)
		}
		if enforced != "" && sameCSP(enforced, reportOnly) {
			add("HG146", "The report-only policy is the enforced one: it trials nothing, and every violation is reported twice.",
				"Put the stricter policy being trialled in ContentSecurityPolicyReportOnly, or remove it.")
		}
	}
	var badHeaders []string
	for _, f := range []string{"ContentSecurityPolicy", "ContentSecurityPolicyReportOnly", "PermissionsPolicy"} {
		if len(invalid[f]) > 0 {
			badHeaders = append(badHeaders, errText(f))
		}
	}
	if len(badHeaders) > 0 {
		add("HG142", strings.Join(badHeaders, "; "), "Remove CR, LF and other control characters: header values are one line.")
	}
	if strings.TrimSpace(p.PermissionsPolicy) == "" {
		add("HG143", "No Permissions-Policy: embedded content may ask for the camera, microphone or location.",
			`Set PermissionsPolicy, such as "camera=(), microphone=(), geolocation=()".`)
	}

	// Cookies.
	secureAll := containsTrimmed(p.SecureCookies, "*")
	switch {
	case len(p.SecureCookies) == 0:
		add("HG151", "No cookie is made Secure: session and CSRF cookies can leak over plain HTTP.",
			`Set SecureCookies to "*" (HTTPSGUARD_SECURE_COOKIES=*), or at least to the session and CSRF cookie names.`)
	case !secureAll:
		add("HG152", fmt.Sprintf("Only %s are made Secure; cookies that libraries set under other names are not.", strings.Join(p.SecureCookies, ", ")),
			`Use "*" unless some cookie must work over plain HTTP.`)
	}
	if len(p.HTTPOnlyCookies) == 0 {
		add("HG153", "No cookie is made HttpOnly: an XSS can read the session cookie.",
			`Name the session cookies in HTTPOnlyCookies (such as "sessionid"); "*" also hides the CSRF cookie from scripts that need it.`)
	}
	rules := cookieRulesFor(p)
	switch {
	case len(invalid["CookieSameSite"])+len(invalid["SameSiteCookies"])+len(invalid["SecureCookies"])+len(invalid["HTTPOnlyCookies"]) > 0:
		add("HG156", strings.Trim(strings.Join([]string{errText("CookieSameSite"), errText("SameSiteCookies"), errText("SecureCookies"), errText("HTTPOnlyCookies")}, "; "), "; "),
			`Use cookie names, or "*", and Lax, Strict or None for SameSite.`)
	case rules.sameSiteAll == "":
		add("HG154", "CookieSameSite is off: a cookie that sets no SameSite of its own gets none, and browsers disagree on what that means (Chromium treats it as Lax, Firefox and Safari send it cross-site).",
			`Set CookieSameSite to "Lax" (HTTPSGUARD_COOKIE_SAMESITE=Lax), and name in SameSiteCookies the cookies that need another value.`)
	case rules.sameSiteAll == "None" || slices.Contains(slices.Collect(maps.Values(rules.sameSite)), "None"):
		add("HG155", "SameSite=None is given to cookies: they go with cross-site requests, so every form needs CSRF protection (the Guard adds Secure, which browsers require with None).",
			`Use "Lax" unless the cookie must reach the site from inside other sites.`)
	}

	// Hosts.
	switch {
	case len(invalid["AllowedHosts"]) > 0:
		add("HG163", errText("AllowedHosts"), `Use host names, ".example.com" for a domain and its subdomains, or IP addresses.`)
	case len(p.AllowedHosts) == 0:
		add("HG161", "AllowedHosts is empty: any Host header is accepted, which enables cache poisoning and password-reset link forgery.",
			`Set AllowedHosts to the site's names (HTTPSGUARD_ALLOWED_HOSTS=example.com,.example.com).`)
	case containsTrimmed(p.AllowedHosts, "*"):
		add("HG162", `AllowedHosts contains "*", which accepts every Host.`, "List the site's names instead.")
	}

	if p.Development {
		add("HG171", "Development is on: no HTTPS redirect, no HSTS, no cookie attributes.",
			`Turn it off in production. To develop, keep the production policy and run the app behind "httpsguard serve".`)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return strings.Compare(a.ID, b.ID) })
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
