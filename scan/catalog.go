package scan

// CheckInfo describes one check for documentation and reports: its stable
// ID, title, category and the fix it recommends when it does not pass.
type CheckInfo struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Category string `json:"category"`
	// Description says what the check looks at and when it fails.
	Description string   `json:"description"`
	Fix         string   `json:"fix"`
	Refs        []string `json:"refs,omitempty"`
}

// Categories, in report order.
const (
	CategoryTLS       = "tls"
	CategoryRedirects = "redirects"
	CategoryHSTS      = "hsts"
	CategoryCookies   = "cookies"
	CategoryHeaders   = "headers"
	CategoryContent   = "content"
	CategoryLeaks     = "leaks"
)

const (
	mdnGuides = "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/"
)

// catalog lists every check in report order. IDs are never reused.
var catalog = []CheckInfo{
	{ID: "HGS-TLS-001", Title: "HTTPS reachable", Category: CategoryTLS,
		Description: "A TLS handshake succeeds on the HTTPS port. Fails when nothing answers or no TLS version can be negotiated; every other check then has little to look at.",
		Fix:         "Serve the site over HTTPS on port 443 (or the port given with --https-port)."},
	{ID: "HGS-TLS-002", Title: "Certificate chain valid for the host", Category: CategoryTLS,
		Description: "The served chain verifies for the host name against the system roots and any --ca-file; the evidence names the roots that trusted it. Fails on an unknown authority, a name mismatch, an expired or not-yet-valid certificate.",
		Fix:         "Serve a certificate from a trusted CA whose subjectAltName covers the host, with the full intermediate chain.",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/TLS"}},
	{ID: "HGS-TLS-003", Title: "Certificate expiry", Category: CategoryTLS,
		Description: "Days until the leaf certificate expires: warns under 30 days, fails under 7 days or once expired.",
		Fix:         "Renew the certificate, and automate renewal (ACME) so it is replaced a month before it expires."},
	{ID: "HGS-TLS-004", Title: "No obsolete protocol versions", Category: CategoryTLS,
		Description: "Each protocol version is tried on its own connection. Fails when TLS 1.0 or TLS 1.1 is accepted (RFC 8996 deprecates both).",
		Fix:         "Set the server's minimum protocol version to TLS 1.2.",
		Refs:        []string{"https://www.rfc-editor.org/rfc/rfc8996"}},
	{ID: "HGS-TLS-005", Title: "TLS 1.3 supported", Category: CategoryTLS,
		Description: "Warns when the server does not accept TLS 1.3.",
		Fix:         "Enable TLS 1.3 on the server or load balancer."},
	{ID: "HGS-TLS-006", Title: "No weak TLS 1.2 cipher suites", Category: CategoryTLS,
		Description: "TLS 1.2 handshakes offering only weak suites (CBC, RSA key exchange, 3DES, RC4) list those the server accepts. Fails on RSA key exchange, 3DES or RC4; warns on ECDHE with CBC.",
		Fix:         "Allow only ECDHE suites with AES-GCM or ChaCha20-Poly1305 for TLS 1.2.",
		Refs:        []string{"https://wiki.mozilla.org/Security/Server_Side_TLS"}},
	{ID: "HGS-TLS-007", Title: "Certificate key strength", Category: CategoryTLS,
		Description: "The leaf key's type and size. Fails on RSA under 2048 bits or an elliptic curve under 256 bits.",
		Fix:         "Issue the certificate with an ECDSA P-256 key or an RSA key of at least 2048 bits."},

	{ID: "HGS-RED-001", Title: "HTTP redirects to HTTPS", Category: CategoryRedirects,
		Description: "http://host/ ends on an https:// page. Fails when plain HTTP serves content or redirects elsewhere; passes when nothing listens on HTTP. The Result is the Observatory's redirection result.",
		Fix:         "Answer every http:// request with a 301 to the same URL on https://.",
		Refs:        []string{mdnGuides + "TLS#http_redirection"}},
	{ID: "HGS-RED-002", Title: "First redirect stays on the same host", Category: CategoryRedirects,
		Description: "The first redirect from http://host/ goes to https://host/ (the hstspreload rule), so the browser records HSTS for the host before going anywhere else. The same name with a trailing dot (https://host./) is the same host.",
		Fix:         "Redirect http://host/ to https://host/ first, and only then to another host (such as www)."},
	{ID: "HGS-RED-003", Title: "No HTTPS to HTTP downgrade", Category: CategoryRedirects,
		Description: "No hop of either redirect chain goes from https:// to http://.",
		Fix:         "Make every redirect target an https:// URL."},
	{ID: "HGS-RED-004", Title: "Redirects terminate", Category: CategoryRedirects,
		Description: "Neither chain loops or exceeds 10 redirects; the full chain is in the report.",
		Fix:         "Fix the redirect rules; a loop usually means the app does not see that the proxy in front of it spoke HTTPS (trust the proxy's X-Forwarded-Proto)."},
	{ID: "HGS-RED-005", Title: "Permanent redirect to HTTPS", Category: CategoryRedirects,
		Description: "The redirect from HTTP to HTTPS is permanent (301 or 308) so that browsers and caches remember it; warns on 302, 303 and 307.",
		Fix:         "Use 301 (or 308 to keep the method) for the redirect to HTTPS."},

	{ID: "HGS-HSTS-001", Title: "HSTS header present", Category: CategoryHSTS,
		Description: "The HTTPS response carries Strict-Transport-Security. The Result is the Observatory's HSTS result. When the HTTPS chain is downgraded to http://, the HTTPS responses before the downgrade are judged, since browsers ignore the header on plain HTTP.",
		Fix:         "Send Strict-Transport-Security: max-age=63072000; includeSubDomains on every HTTPS response.",
		Refs:        []string{mdnGuides + "TLS#http_strict_transport_security_implementation"}},
	{ID: "HGS-HSTS-002", Title: "HSTS syntax", Category: CategoryHSTS,
		Description: "The header parses with hstspreload's rules: one header, a numeric max-age, no repeated or unknown directives. Fails when max-age is missing or unparseable, or when max-age or includeSubDomains is repeated (browsers then ignore the header); warns on other syntax issues, among them a quoted max-age or spaces around its equals sign, which browsers accept and hstspreload does not.",
		Fix:         "Send a single header of the form max-age=SECONDS; includeSubDomains; preload."},
	{ID: "HGS-HSTS-003", Title: "HSTS max-age at least six months", Category: CategoryHSTS,
		Description: "max-age is at least 15768000 seconds (the Observatory's threshold).",
		Fix:         "Raise max-age to at least one year (31536000); two years (63072000) is usual."},
	{ID: "HGS-HSTS-004", Title: "HSTS includeSubDomains", Category: CategoryHSTS,
		Description: "The header covers subdomains, so a cookie cannot be stolen through a forgotten http:// subdomain.",
		Fix:         "Add includeSubDomains once every subdomain serves HTTPS."},
	{ID: "HGS-HSTS-005", Title: "HSTS preload directive", Category: CategoryHSTS,
		Description: "The header carries the preload directive (an informational note when it does not).",
		Fix:         "Add preload once the domain meets the preload requirements and you want it in browsers' built-in lists."},
	{ID: "HGS-HSTS-006", Title: "HSTS preload eligibility", Category: CategoryHSTS,
		Description: "The site meets every requirement of chromium's hstspreload (header, redirects, domain, TLS); the evidence lists hstspreload's issue codes.",
		Fix:         "Fix the listed issues, then submit the domain at hstspreload.org.",
		Refs:        []string{"https://hstspreload.org/"}},

	{ID: "HGS-COOK-001", Title: "Cookies set with Secure", Category: CategoryCookies,
		Description: "Every cookie set over HTTPS carries Secure. Fails for session-like and CSRF cookies, warns for others. The Result is the Observatory's cookies result.",
		Fix:         "Set the Secure attribute on every cookie (Django: SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE).",
		Refs:        []string{mdnGuides + "Cookies"}},
	{ID: "HGS-COOK-002", Title: "Session cookies HttpOnly", Category: CategoryCookies,
		Description: "Session-like cookies (names containing sess or login, and well-known session names) carry HttpOnly, so script injection cannot read them.",
		Fix:         "Set HttpOnly on session cookies (Django: SESSION_COOKIE_HTTPONLY)."},
	{ID: "HGS-COOK-003", Title: "Session and CSRF cookies SameSite", Category: CategoryCookies,
		Description: "Session-like and CSRF cookies carry a valid SameSite attribute (Strict, Lax or None).",
		Fix:         "Set SameSite=Lax (or Strict) on session and CSRF cookies."},
	{ID: "HGS-COOK-004", Title: "Cookie prefixes used correctly", Category: CategoryCookies,
		Description: "__Secure- cookies carry Secure; __Host- cookies carry Secure, no Domain and Path=/. Browsers reject cookies that break these rules; an empty Domain= attribute is ignored by browsers and counts as none.",
		Fix:         "Give __Host- cookies Secure; Path=/ and no Domain, and __Secure- cookies Secure."},

	{ID: "HGS-HDR-001", Title: "Content-Security-Policy", Category: CategoryHeaders,
		Description: "The Observatory's CSP test: the policy (header or <meta>) is parsed and judged for unsafe-inline, unsafe-eval, insecure schemes, missing default-src/object-src and more.",
		Fix:         "Send a Content-Security-Policy with default-src 'none' or 'self', no 'unsafe-inline' or 'unsafe-eval' in script-src, object-src 'none', frame-ancestors and base-uri.",
		Refs:        []string{mdnGuides + "CSP"}},
	{ID: "HGS-HDR-002", Title: "Framing protection", Category: CategoryHeaders,
		Description: "The Observatory's X-Frame-Options test: X-Frame-Options DENY/SAMEORIGIN or CSP frame-ancestors.",
		Fix:         "Send X-Frame-Options: DENY, or CSP frame-ancestors 'none'.",
		Refs:        []string{mdnGuides + "Clickjacking"}},
	{ID: "HGS-HDR-003", Title: "X-Content-Type-Options", Category: CategoryHeaders,
		Description: "The Observatory's test: X-Content-Type-Options: nosniff.",
		Fix:         "Send X-Content-Type-Options: nosniff.",
		Refs:        []string{mdnGuides + "MIME_types"}},
	{ID: "HGS-HDR-004", Title: "Referrer-Policy", Category: CategoryHeaders,
		Description: "The Observatory's test: a Referrer-Policy (header or <meta name=referrer>) that does not leak full URLs cross-origin.",
		Fix:         "Send Referrer-Policy: strict-origin-when-cross-origin (or same-origin / no-referrer).",
		Refs:        []string{mdnGuides + "Referrer_policy"}},
	{ID: "HGS-HDR-005", Title: "Cross-Origin-Opener-Policy", Category: CategoryHeaders,
		Description: "Cross-Origin-Opener-Policy isolates the page from windows it opens or that open it. Warns when absent or unsafe-none, fails on an invalid value.",
		Fix:         "Send Cross-Origin-Opener-Policy: same-origin (same-origin-allow-popups if you rely on OAuth pop-ups).",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Cross-Origin-Opener-Policy"}},
	{ID: "HGS-HDR-006", Title: "Cross-Origin-Resource-Policy", Category: CategoryHeaders,
		Description: "The Observatory's CORP test.",
		Fix:         "Send Cross-Origin-Resource-Policy: same-origin (or same-site).",
		Refs:        []string{mdnGuides + "CORP"}},
	{ID: "HGS-HDR-007", Title: "CORS", Category: CategoryHeaders,
		Description: "The Observatory's CORS test, plus httpsguard's own rule that it means to apply but never does: a preflight from an unrelated origin answered by reflecting it (or null) with credentials allowed fails.",
		Fix:         "Allow only the origins that need access; never reflect Origin with Access-Control-Allow-Credentials: true.",
		Refs:        []string{mdnGuides + "CORS"}},
	{ID: "HGS-HDR-008", Title: "Subresource Integrity", Category: CategoryHeaders,
		Description: "The Observatory's SRI test: cross-origin scripts carry integrity and are loaded over HTTPS.",
		Fix:         "Add integrity=\"sha384-…\" and crossorigin=\"anonymous\" to every script loaded from another origin.",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/Security/Subresource_Integrity"}},

	{ID: "HGS-CNT-001", Title: "No mixed content", Category: CategoryContent,
		Description: "The HTTPS page loads no http:// subresource. Fails on active content (scripts, styles, frames, objects), warns on passive content (images, media).",
		Fix:         "Load every subresource over https:// (or add CSP upgrade-insecure-requests while fixing the links).",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/Security/Mixed_content"}},
	{ID: "HGS-CNT-002", Title: "Forms submit over HTTPS", Category: CategoryContent,
		Description: "No form on the HTTPS page has an http:// action.",
		Fix:         "Make every form action relative or https://."},
	{ID: "HGS-CNT-003", Title: "<meta http-equiv> policies", Category: CategoryContent,
		Description: "Lists <meta http-equiv> policies; warns on ones browsers ignore in <meta> (Strict-Transport-Security, X-Frame-Options, X-Content-Type-Options, Set-Cookie), which give a false sense of protection.",
		Fix:         "Send these policies as HTTP response headers instead."},

	{ID: "HGS-LEAK-001", Title: "No debug error page", Category: CategoryLeaks,
		Description: "A path that does not exist must not show a framework's debug page: Django technical 404/500 (DEBUG = True), Rails, Laravel Ignition/Whoops, Laravel's own exception page (Laravel 11+), Werkzeug debugger, Express/Node or PHP stack traces.",
		Fix:         "Turn off debug mode in production (Django: DEBUG = False; Rails: consider_all_requests_local = false; Laravel: APP_DEBUG=false; Flask: debug off; Express: NODE_ENV=production)."},
	{ID: "HGS-LEAK-002", Title: "Admin page only over HTTPS", Category: CategoryLeaks,
		Description: "An admin login (Django /admin/: id_username and csrfmiddlewaretoken) found over HTTPS must not also be served over plain HTTP. Noted when found HTTPS-only.",
		Fix:         "Redirect every http:// request to HTTPS, and consider moving or IP-restricting the admin."},
	{ID: "HGS-LEAK-003", Title: "Login page only over HTTPS", Category: CategoryLeaks,
		Description: "A login page (/login, /accounts/login/, with a password field) must not be served over plain HTTP.",
		Fix:         "Redirect every http:// request to HTTPS."},
	{ID: "HGS-LEAK-004", Title: "Login forms post over HTTPS", Category: CategoryLeaks,
		Description: "No form with a password field (on the home, admin or login pages) posts to http://.",
		Fix:         "Make login form actions relative or https://."},
	{ID: "HGS-LEAK-005", Title: "CSRF token in forms", Category: CategoryLeaks,
		Description: "POST forms found carry a hidden anti-CSRF token field (csrfmiddlewaretoken, authenticity_token, _token, csrf…).",
		Fix:         "Enable your framework's CSRF protection and render its token in every POST form."},
	{ID: "HGS-LEAK-006", Title: "No server version disclosed", Category: CategoryLeaks,
		Description: "Server, X-Powered-By, X-AspNet-Version and X-Generator must not disclose software versions.",
		Fix:         "Remove version numbers from Server and drop X-Powered-By (Express: app.disable('x-powered-by'); nginx: server_tokens off)."},
	{ID: "HGS-LEAK-007", Title: "TRACE disabled", Category: CategoryLeaks,
		Description: "The server does not echo a TRACE request (Content-Type: message/http), which can leak cookies and auth headers (cross-site tracing).",
		Fix:         "Reject the TRACE method (Apache: TraceEnable off)."},
}

// Catalog returns every check httpsguard runs, in report order.
func Catalog() []CheckInfo {
	out := make([]CheckInfo, len(catalog))
	copy(out, catalog)
	return out
}

var catalogByID = func() map[string]CheckInfo {
	m := make(map[string]CheckInfo, len(catalog))
	for _, c := range catalog {
		m[c.ID] = c
	}
	return m
}()
