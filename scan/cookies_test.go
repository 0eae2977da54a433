package scan

import "testing"

// TestCookieNamesFrameworksSend classifies the cookie names real frameworks
// send: login cookies under names without "sess" or "login", antiforgery
// cookies without "csrf", and look-alikes that are neither.
func TestCookieNamesFrameworksSend(t *testing.T) {
	tests := []struct {
		name          string
		session, csrf bool
	}{
		{name: "wordpress_logged_in_0123456789abcdef0123456789abcdef", session: true},
		{name: "wordpress_sec_0123456789abcdef0123456789abcdef", session: true},
		{name: "wordpress_0123456789abcdef0123456789abcdef", session: true},
		{name: "wordpress_test_cookie"},
		{name: "wordpress_0123"},
		{name: "wp-settings-1"},
		{name: ".ASPXAUTH", session: true},
		{name: ".AspNet.ApplicationCookie", session: true},
		{name: ".AspNetCore.Identity.Application", session: true},
		{name: ".AspNetCore.Identity.ApplicationC1", session: true},
		{name: ".AspNetCore.Identity.TwoFactorUserId", session: true},
		{name: ".AspNetCore.Cookies", session: true},
		{name: ".AspNetCore.CookiesC2", session: true},
		{name: ".AspNetCore.Session", session: true},
		{name: "ASP.NET_SessionId", session: true},
		{name: ".AspNetCore.Culture"},
		// TempData is per-visitor server state carried in the cookie,
		// and the Correlation and Nonce cookies carry an OAuth/OpenID
		// sign-in in progress: session state, like the framework's
		// other cookies (this case pinned "not a session" before).
		{name: ".AspNetCore.Mvc.CookieTempDataProvider", session: true},
		{name: ".AspNetCore.Correlation.oidc.xyz", session: true},
		{name: ".AspNetCore.OpenIdConnect.Nonce.abc", session: true},
		{name: ".AspNetCore.Antiforgery.VyLW6ORzMgk", csrf: true},
		{name: "__RequestVerificationToken", csrf: true},
		{name: "__RequestVerificationToken_L2FwcA2", csrf: true},
		{name: "remember_web_59ba36addc2b2f9401580f014c7f58ea4e30989d", session: true},
		{name: "laravel_session", session: true},
		{name: "XSRF-TOKEN", csrf: true},
		{name: "remember-me", session: true},
		{name: "KEYCLOAK_IDENTITY", session: true},
		{name: "CF_Authorization", session: true},
		{name: "_oauth2_proxy", session: true},
		{name: "_oauth2_proxy_1", session: true},
		{name: "remember_lang"},
	}
	for _, tt := range tests {
		c := SetCookie{Name: tt.name}
		if c.SessionLike() != tt.session || c.CSRF() != tt.csrf {
			t.Errorf("%s: session %v csrf %v, want %v %v", tt.name, c.SessionLike(), c.CSRF(), tt.session, tt.csrf)
		}
	}
}

// TestEmptyDomainAttributeIsIgnored: RFC 6265bis §5.6.3 and the browsers
// ignore an empty Domain attribute; the last non-empty one counts.
func TestEmptyDomainAttributeIsIgnored(t *testing.T) {
	tests := []struct {
		line       string
		hasDomain  bool
		domain     string
		hostPrefix bool // __Host- rules kept
	}{
		{line: "__Host-a=1; Secure; Path=/; Domain=", hostPrefix: true},
		{line: "__Host-a=1; Secure; Path=/; Domain= ", hostPrefix: true},
		{line: "__Host-a=1; Secure; Path=/; Domain", hostPrefix: true},
		{line: "__Host-a=1; Secure; Path=/; Domain=app.test; Domain=", hasDomain: true, domain: "app.test"},
		{line: "__Host-a=1; Secure; Path=/; Domain=; Domain=app.test", hasDomain: true, domain: "app.test"},
		{line: "__Host-a=1; Secure; Path=/; Domain=a.test; Domain=b.test", hasDomain: true, domain: "b.test"},
	}
	for _, tt := range tests {
		c, err := ParseSetCookie(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		if c.HasDomain != tt.hasDomain || c.Domain != tt.domain || (c.PrefixProblem() == "") != tt.hostPrefix {
			t.Errorf("%q: domain %v %q, prefix problem %q", tt.line, c.HasDomain, c.Domain, c.PrefixProblem())
		}
	}
}
