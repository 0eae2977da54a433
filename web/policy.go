package web

import (
	"github.com/httpsguard/httpsguard"
)

// ContentSecurityPolicy is the site's CSP. Nothing loads from elsewhere;
// scripts run only with the per-request nonce (the one script is a
// same-origin file carrying it), styles only from the site's own
// stylesheet, so no inline style or script from a scanned site's evidence
// could run even if it escaped html/template.
const ContentSecurityPolicy = "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; " +
	"img-src 'self'; connect-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// hstsSeconds is two years, what the HSTS preload list asks for.
const hstsSeconds = 2 * 365 * 24 * 60 * 60

// Policy returns the httpsguard policy the web checker serves itself with,
// for cfg's Secure, SSLHost, HSTSPreload and TrustedProxies: when Secure,
// plain HTTP is redirected to HTTPS and responses carry HSTS; trusted
// proxies may say the client used HTTPS with X-Forwarded-Proto.
func Policy(cfg Config) httpsguard.Policy {
	p := httpsguard.Policy{
		ContentTypeNosniff: true,
		FrameOptions:       "DENY",
		// The result pages' addresses are their only secret: a click on a
		// link to the scanned site must not hand it the permanent link.
		ReferrerPolicy:          "no-referrer",
		CrossOriginOpenerPolicy: "same-origin",
		ContentSecurityPolicy:   ContentSecurityPolicy,
		PermissionsPolicy:       "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
		SecureCookies:           []string{"*"},
		HTTPOnlyCookies:         []string{"*"},
		CookieSameSite:          "Lax",
	}
	if cfg.Secure {
		p.SSLRedirect = true
		p.SSLHost = cfg.SSLHost
		// Load balancers probe health over plain HTTP.
		p.RedirectExempt = []string{`^healthz$`}
		p.HSTSSeconds = hstsSeconds
		p.HSTSIncludeSubdomains = true
		p.HSTSPreload = cfg.HSTSPreload
	}
	if len(cfg.TrustedProxies) > 0 {
		p.ProxySSLHeader = "X-Forwarded-Proto"
		p.ProxySSLValue = "https"
		for _, pr := range cfg.TrustedProxies {
			p.TrustedProxies = append(p.TrustedProxies, pr.String())
		}
	}
	return p
}
