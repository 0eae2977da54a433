package httpsguard

// Policy is what a site must do to keep its transport safe. It is a plain
// value: the zero Policy enforces nothing, and PolicyFromEnv returns the
// defaults Django 3.2+ users expect (nosniff, X-Frame-Options DENY,
// Referrer-Policy same-origin, Cross-Origin-Opener-Policy same-origin).
type Policy struct {
	// SSLRedirect redirects every insecure request to https:// (Django's
	// SECURE_SSL_REDIRECT). GET and HEAD get 301; other methods get 308 so
	// that a POST body is not silently dropped.
	SSLRedirect bool
	// SSLHost, when set, is the host (and optional port) redirects go to
	// instead of the request's own host (SECURE_SSL_HOST).
	SSLHost string
	// RedirectExempt lists regular expressions; a request whose path, without
	// its leading slash, matches one of them is not redirected
	// (SECURE_REDIRECT_EXEMPT).
	RedirectExempt []string

	// ProxySSLHeader is the header a TLS-terminating proxy sets, such as
	// "X-Forwarded-Proto", and ProxySSLValue the value that means the client
	// used HTTPS, such as "https" (SECURE_PROXY_SSL_HEADER). The value is
	// compared case-insensitively with the last element of the header, the
	// one the nearest proxy appended. When the request has no such header,
	// an RFC 7239 "Forwarded" header is read instead: the request is secure
	// when the last forwarded-element says proto=https. Set ProxySSLHeader to
	// "Forwarded" to read only that header.
	ProxySSLHeader string
	// ProxySSLValue is the ProxySSLHeader value that means HTTPS; see
	// ProxySSLHeader.
	ProxySSLValue string
	// TrustedProxies lists the networks (CIDRs such as "10.0.0.0/8" or single
	// addresses such as "127.0.0.1") whose requests may carry the proxy
	// header; "unix" trusts peers on a Unix socket. When set, the header from
	// any other peer is ignored, so a direct client cannot claim to be
	// secure. When empty every peer is believed, as Django does, which is
	// only safe when no client can reach the server without the proxy.
	// TrustedProxies also decides who may set X-Forwarded-Host; see
	// UseXForwardedHost.
	TrustedProxies []string
	// UseXForwardedHost makes the host a trusted proxy (see TrustedProxies)
	// names in X-Forwarded-Host, rather than the Host it sent, the host the
	// client asked for: the one AllowedHosts checks and the HTTPS redirect
	// goes to, and the one Guard.Host returns (USE_X_FORWARDED_HOST). It is
	// for proxies that rewrite Host to the application's internal name.
	// From a list, the last element counts: the one the nearest proxy
	// appended. A value that is not a host[:port] gets 400, as a bad Host
	// does. Without the header, or from a peer outside TrustedProxies, Host
	// is used. The proxy must set or append the header on every request;
	// one that passes a client's header through unchanged lets the client
	// choose the host.
	UseXForwardedHost bool

	// HSTSSeconds is the Strict-Transport-Security max-age; 0 sends no header
	// (SECURE_HSTS_SECONDS). The header goes only on secure responses, and
	// never replaces one the handler set.
	HSTSSeconds int
	// HSTSIncludeSubdomains adds includeSubDomains (SECURE_HSTS_INCLUDE_SUBDOMAINS).
	HSTSIncludeSubdomains bool
	// HSTSPreload adds preload (SECURE_HSTS_PRELOAD).
	HSTSPreload bool

	// ContentTypeNosniff sends X-Content-Type-Options: nosniff
	// (SECURE_CONTENT_TYPE_NOSNIFF).
	ContentTypeNosniff bool
	// FrameOptions is the X-Frame-Options value: "DENY", "SAMEORIGIN", or ""
	// for none (X_FRAME_OPTIONS). A handler opts one response out with
	// ExemptFrameOptions, as Django's xframe_options_exempt does.
	FrameOptions string
	// ReferrerPolicy is the Referrer-Policy value, a comma-separated list of
	// tokens, or "" for none (SECURE_REFERRER_POLICY).
	ReferrerPolicy string
	// CrossOriginOpenerPolicy is the Cross-Origin-Opener-Policy value, or ""
	// for none (SECURE_CROSS_ORIGIN_OPENER_POLICY).
	CrossOriginOpenerPolicy string
	// ContentSecurityPolicy is the Content-Security-Policy value, or "" for
	// none. Every "{nonce}" in it is replaced by a fresh per-request nonce
	// that handlers read with Nonce.
	ContentSecurityPolicy string
	// ContentSecurityPolicyReportOnly is the
	// Content-Security-Policy-Report-Only value, or "" for none: a policy
	// browsers do not enforce but report violations of, to the endpoint
	// named by its report-uri or report-to directive, so a stricter policy
	// can be trialled before it moves to ContentSecurityPolicy
	// (django-csp's CSP_REPORT_ONLY). Both headers may be sent together.
	// Its "{nonce}" placeholders get the same per-request nonce as
	// ContentSecurityPolicy's, so one nonce attribute serves both.
	ContentSecurityPolicyReportOnly string
	// PermissionsPolicy is the Permissions-Policy value, or "" for none.
	PermissionsPolicy string

	// SecureCookies names the cookies that must carry Secure; "*" means
	// every cookie (SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE, for all).
	SecureCookies []string
	// HTTPOnlyCookies names the cookies that must carry HttpOnly; "*" means
	// every cookie (SESSION_COOKIE_HTTPONLY).
	HTTPOnlyCookies []string
	// CookieSameSite is the SameSite value ("Lax", "Strict" or "None") given
	// to the cookies named in SecureCookies or HTTPOnlyCookies that do not
	// set their own; "" leaves SameSite alone (SESSION_COOKIE_SAMESITE).
	// Browsers reject SameSite=None without Secure, so such a cookie also
	// gets Secure.
	CookieSameSite string

	// AllowedHosts lists the Host names the site answers, in Django's
	// ALLOWED_HOSTS syntax: ".example.com" matches example.com and its
	// subdomains, "*" matches everything. Other hosts get 400. Empty allows
	// every host.
	AllowedHosts []string

	// Development turns off the redirect, HSTS and cookie rewriting for a
	// local plain-HTTP server; AllowedHosts and the other headers still
	// apply. Check flags it; running the app behind "httpsguard serve" with
	// production settings is the better way.
	Development bool
}
