package scan

import (
	"errors"
	"fmt"
	"strings"
)

// SetCookie is one parsed Set-Cookie header, keeping the attributes the
// cookie checks judge exactly as the server wrote them.
type SetCookie struct {
	Name     string
	Value    string
	Secure   bool
	HttpOnly bool
	// SameSite is the attribute's value as sent ("" when absent);
	// SameSiteValid says whether it is Strict, Lax or None.
	SameSite      string
	HasSameSite   bool
	SameSiteValid bool
	Domain        string
	HasDomain     bool
	Path          string
	HasPath       bool
	Raw           string
}

// ParseSetCookie parses a Set-Cookie header value (RFC 6265bis §5.6).
// Attribute names are case-insensitive and unknown attributes are ignored,
// as browsers do. It fails only when there is no name=value pair.
func ParseSetCookie(line string) (SetCookie, error) {
	c := SetCookie{Raw: line}
	pair, attrs, _ := strings.Cut(line, ";")
	name, value, ok := strings.Cut(pair, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return c, fmt.Errorf("Set-Cookie %q: %w", truncate(line, 80), errNoCookieName)
	}
	if strings.ContainsAny(name, "\x00\t\r\n\x7f") {
		return c, fmt.Errorf("Set-Cookie %q: control character in name", truncate(line, 80))
	}
	c.Name, c.Value = name, strings.TrimSpace(value)
	for attrs != "" {
		var a string
		a, attrs, _ = strings.Cut(attrs, ";")
		k, v, _ := strings.Cut(a, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		switch k {
		case "secure":
			c.Secure = true
		case "httponly":
			c.HttpOnly = true
		case "samesite":
			c.HasSameSite = true
			c.SameSite = v
			switch strings.ToLower(v) {
			case "strict", "lax", "none":
				c.SameSiteValid = true
			default:
				c.SameSiteValid = false
			}
		case "domain":
			// An empty Domain attribute is ignored (RFC 6265bis §5.6.3;
			// Chrome's ParsedCookie keeps only a non-empty one, Firefox
			// and Safari treat the cookie as host-only): the cookie stays
			// host-only, and an earlier non-empty Domain still counts.
			if v != "" {
				c.HasDomain = true
				c.Domain = v
			}
		case "path":
			c.HasPath = true
			c.Path = v
		}
	}
	return c, nil
}

var errNoCookieName = errors.New("no name=value pair")

// sessionCookieNames are well-known session and login cookie names (lower
// case) that the Observatory's rule misses.
var sessionCookieNames = map[string]bool{
	"sid": true, "connect.sid": true, "auth": true, "auth_token": true, "_identity": true,
	"remember_token": true, "remember_user_token": true, // Rails, Devise
	"remember-me":               true, // Spring Security
	".aspxauth":                 true, // ASP.NET forms authentication
	".aspnet.applicationcookie": true, // ASP.NET Identity 2 (OWIN)
	".aspnet.cookies":           true, // OWIN cookie authentication
	"keycloak_identity":         true,
	"keycloak_identity_legacy":  true,
	"cf_authorization":          true, // Cloudflare Access
	"_oauth2_proxy":             true, // oauth2-proxy
}

// sessionCookiePrefixes are the prefixes of login cookie names that
// frameworks complete with a per-site or per-scheme suffix (lower case).
var sessionCookiePrefixes = []string{
	"wordpress_logged_in_", // WordPress LOGGED_IN_COOKIE + COOKIEHASH
	"wordpress_sec_",       // WordPress SECURE_AUTH_COOKIE + COOKIEHASH
	".aspxauth",            // forms authentication with chunked or renamed cookies
	"remember_web_",        // Laravel's remember-me cookie remember_{guard}_{hash}
	"_oauth2_proxy_",       // oauth2-proxy's chunks
}

// aspNetCoreNotSession are the ASP.NET Core framework cookies (lower case
// prefixes) that hold no session or login state: the culture a visitor
// chose, and the antiforgery token (a CSRF cookie, see CSRF).
var aspNetCoreNotSession = []string{".aspnetcore.culture", ".aspnetcore.antiforgery."}

// SessionLike reports whether the cookie's name marks it as a session or
// login identifier: the Observatory's rule (the name contains "sess" or
// "login", which already covers PHPSESSID, JSESSIONID, ASP.NET_SessionId,
// .AspNetCore.Session, laravel_session, Rails' _app_session...) plus the
// well-known names it misses: WordPress, ASP.NET forms authentication,
// every ASP.NET Core framework cookie (.AspNetCore.Identity.*, .Cookies,
// .Mvc.CookieTempDataProvider, the OAuth .Correlation and OpenID Connect
// .Nonce cookies) but its culture and antiforgery ones, Express's
// connect.sid, Laravel and Spring remember-me, Keycloak, Cloudflare Access,
// oauth2-proxy.
func (c SetCookie) SessionLike() bool {
	n := strings.ToLower(c.Name)
	if strings.Contains(n, "sess") || strings.Contains(n, "login") || sessionCookieNames[n] {
		return true
	}
	if strings.HasPrefix(n, ".aspnetcore.") {
		for _, p := range aspNetCoreNotSession {
			if strings.HasPrefix(n, p) {
				return false
			}
		}
		return true
	}
	for _, p := range sessionCookiePrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	// WordPress's AUTH_COOKIE is "wordpress_" and the 32 hex digits of
	// COOKIEHASH (wordpress_test_cookie is not one).
	if h, ok := strings.CutPrefix(n, "wordpress_"); ok && len(h) == 32 && strings.Trim(h, "0123456789abcdef") == "" {
		return true
	}
	return false
}

// CSRF reports whether the cookie holds an anti-CSRF token: the name
// contains "csrf" or "xsrf" (Django, Angular, Laravel), or is ASP.NET's
// antiforgery cookie (.AspNetCore.Antiforgery.*, __RequestVerificationToken*).
func (c SetCookie) CSRF() bool {
	n := strings.ToLower(c.Name)
	return strings.Contains(n, "csrf") || strings.Contains(n, "xsrf") ||
		strings.HasPrefix(n, ".aspnetcore.antiforgery.") || strings.HasPrefix(n, "__requestverificationtoken")
}

// PrefixProblem returns why the cookie breaks the rules of its __Secure- or
// __Host- name prefix (which browsers enforce by rejecting the cookie), or
// "" when it keeps them or has no prefix.
func (c SetCookie) PrefixProblem() string {
	n := strings.ToLower(c.Name)
	switch {
	case strings.HasPrefix(n, "__host-"):
		var p []string
		if !c.Secure {
			p = append(p, "no Secure attribute")
		}
		if c.HasDomain {
			p = append(p, "has a Domain attribute")
		}
		if !c.HasPath || c.Path != "/" {
			p = append(p, "Path is not /")
		}
		return strings.Join(p, ", ")
	case strings.HasPrefix(n, "__secure-"):
		if !c.Secure {
			return "no Secure attribute"
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
