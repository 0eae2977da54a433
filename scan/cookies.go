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
			c.HasDomain = true
			c.Domain = v
		case "path":
			c.HasPath = true
			c.Path = v
		}
	}
	return c, nil
}

var errNoCookieName = errors.New("no name=value pair")

// SessionLike reports whether the cookie's name marks it as a session or
// login identifier: the Observatory's rule (the name contains "sess" or
// "login") plus the well-known names it misses.
func (c SetCookie) SessionLike() bool {
	n := strings.ToLower(c.Name)
	if strings.Contains(n, "sess") || strings.Contains(n, "login") {
		return true
	}
	switch n {
	case "sid", "connect.sid", "auth", "auth_token", "remember_token", "remember_user_token", "_identity":
		return true
	}
	return false
}

// CSRF reports whether the cookie holds an anti-CSRF token.
func (c SetCookie) CSRF() bool {
	n := strings.ToLower(c.Name)
	return strings.Contains(n, "csrf") || strings.Contains(n, "xsrf")
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
