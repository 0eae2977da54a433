package observatory

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// jarCookie is a cookie as the Observatory's cookie jar (tough-cookie 5,
// strict mode, prefix security "silent") stores it.
type jarCookie struct {
	key, domain, path string
	secure, httpOnly  bool
	sameSite          string // "strict", "lax", "none" or "" when unset
	hostOnly          bool
	maxAge            *int
}

// cookieJar reproduces the jar's store: cookies keyed by domain, path and
// name, in insertion order, expired ones kept (the Observatory serializes
// the whole store).
type cookieJar struct {
	cookies []*jarCookie
}

// set stores the Set-Cookie line raw received for rawURL, silently
// ignoring it where the jar would reject it.
func (j *cookieJar) set(raw, rawURL string) {
	c, ok := parseSetCookie(raw)
	if !ok {
		return
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if c.domain != "" {
		if !cookieDomainAllowed(c.domain) {
			return
		}
		if !domainMatch(host, c.domain) {
			return
		}
		c.hostOnly = false
	} else {
		c.hostOnly = true
		c.domain = host
	}
	if c.path == "" || c.path[0] != '/' {
		c.path = defaultCookiePath(u.EscapedPath())
	}
	if strings.HasPrefix(c.key, "__Secure-") && !c.secure {
		return
	}
	if strings.HasPrefix(c.key, "__Host-") && !(c.secure && c.hostOnly && c.path == "/") {
		return
	}
	for i, old := range j.cookies {
		if old.domain == c.domain && old.path == c.path && old.key == c.key {
			j.cookies[i] = c
			return
		}
	}
	j.cookies = append(j.cookies, c)
}

// parseSetCookie is tough-cookie's strict Cookie.parse.
func parseSetCookie(s string) (*jarCookie, bool) {
	s = jsTrim(s)
	if s == "" {
		return nil, false
	}
	pair, rest, hasAttrs := strings.Cut(s, ";")
	for _, t := range []string{"\n", "\r", "\x00"} {
		if i := strings.Index(pair, t); i >= 0 {
			pair = pair[:i]
		}
	}
	eq := strings.Index(pair, "=")
	if eq <= 0 {
		return nil, false
	}
	name, value := jsTrim(pair[:eq]), jsTrim(pair[eq+1:])
	if hasControl(name) || hasControl(value) {
		return nil, false
	}
	c := &jarCookie{key: name}
	if !hasAttrs {
		return c, true
	}
	for _, av := range strings.Split(jsTrim(rest), ";") {
		av = jsTrim(av)
		if av == "" {
			continue
		}
		k, v, hasValue := strings.Cut(av, "=")
		k = strings.ToLower(jsTrim(k))
		if hasValue {
			v = jsTrim(v)
		}
		switch k {
		case "max-age":
			if v != "" && isSignedDigits(v) {
				n, err := strconv.Atoi(v)
				if err != nil {
					n = 1 << 30
					if v[0] == '-' {
						n = -n
					}
				}
				c.maxAge = &n
			}
		case "domain":
			if d := strings.TrimPrefix(jsTrim(v), "."); d != "" {
				c.domain = strings.ToLower(d)
			}
		case "path":
			if v != "" && v[0] == '/' {
				c.path = v
			} else {
				c.path = ""
			}
		case "secure":
			c.secure = true
		case "httponly":
			c.httpOnly = true
		case "samesite":
			switch strings.ToLower(v) {
			case "strict", "lax", "none":
				c.sameSite = strings.ToLower(v)
			default:
				c.sameSite = ""
			}
		}
	}
	return c, true
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 }) >= 0
}

func isSignedDigits(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// specialUse are the special-use top-level domains the jar accepts as
// cookie domains.
var specialUse = map[string]bool{"local": true, "example": true, "invalid": true, "localhost": true, "test": true}

// cookieDomainAllowed reports whether the jar accepts a Domain attribute
// d: it must not be a public suffix (IPv6 literals pass, IPv4 ones fail).
func cookieDomainAllowed(d string) bool {
	labels := strings.Split(d, ".")
	tld := labels[len(labels)-1]
	if specialUse[tld] {
		return len(labels) > 1 || tld == "localhost" || tld == "invalid"
	}
	if ip := net.ParseIP(strings.Trim(d, "[]")); ip != nil {
		return ip.To4() == nil
	}
	_, err := publicsuffix.EffectiveTLDPlusOne(d)
	return err == nil
}

// domainMatch is RFC 6265 domain matching of a request host against a
// cookie domain.
func domainMatch(host, domain string) bool {
	if host == domain {
		return true
	}
	if net.ParseIP(host) != nil {
		return false
	}
	return strings.HasSuffix(host, "."+domain)
}

// defaultCookiePath is RFC 6265's default-path of a request path.
func defaultCookiePath(p string) string {
	if p == "" || p[0] != '/' || p == "/" {
		return "/"
	}
	i := strings.LastIndex(p, "/")
	if i == 0 {
		return "/"
	}
	return p[:i]
}
