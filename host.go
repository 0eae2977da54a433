package httpsguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// maxHostLen bounds a Host value: a 253-byte DNS name, a trailing dot and a
// ":65535" port.
const maxHostLen = 253 + 1 + 6

// splitHost parses a Host header value, "name[:port]", where name is a DNS
// name (letters, digits, '-', '_' and '.', with an optional trailing dot), an
// IPv4 address, or a bracketed IPv6 literal without a zone. It returns the
// name without the port and without a trailing dot. ok is false for anything
// else, in particular for values carrying a scheme, a path, userinfo ('@'),
// whitespace or control characters, so a host that passes can be put into a
// Location header as it is.
//
// It does not allocate.
func splitHost(host string) (name string, ok bool) {
	if host == "" || len(host) > maxHostLen {
		return "", false
	}
	rest := ""
	if host[0] == '[' {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", false
		}
		name, rest = host[:end+1], host[end+1:]
		a, err := netip.ParseAddr(host[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
	} else {
		name = host
		if i := strings.IndexByte(host, ':'); i >= 0 {
			name, rest = host[:i], host[i:]
		}
		name = strings.TrimSuffix(name, ".")
		if !validDNSName(name) {
			return "", false
		}
	}
	if rest != "" && !validPort(rest) {
		return "", false
	}
	return name, true
}

// validDNSName reports whether s is a plausible host name: 1 to 253 bytes of
// letters, digits, '-' and '_' in non-empty labels of at most 63 bytes.
// Underscores are accepted because container and intranet names use them;
// they cannot break out of a URL.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0
}

// validPort reports whether s is ":" followed by a decimal port, 0 to 65535.
func validPort(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	n := 0
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// hostMatcher answers whether a Host is allowed, in Django's ALLOWED_HOSTS
// syntax. Names compare case-insensitively and IPv6 literals by address, so
// matching never allocates.
type hostMatcher struct {
	any     bool
	exact   []string     // lower-case names, no trailing dot
	domains []string     // ".example.com" patterns, lower-case
	ips     []netip.Addr // IPv6 literals
}

// badValue is one invalid element of a list field.
type badValue struct {
	value string
	err   error
}

// compileHosts builds a hostMatcher from ALLOWED_HOSTS-style patterns.
func compileHosts(patterns []string) (*hostMatcher, []badValue) {
	m := &hostMatcher{}
	var bad []badValue
	for _, p := range patterns {
		if err := m.add(p); err != nil {
			bad = append(bad, badValue{p, err})
		}
	}
	return m, bad
}

func (m *hostMatcher) add(pattern string) error {
	p := strings.ToLower(strings.TrimSpace(pattern))
	switch {
	case p == "*":
		m.any = true
		return nil
	case p == "":
		return errors.New("empty host")
	case strings.HasPrefix(p, "*."):
		return fmt.Errorf("wildcards are written %q, which matches the domain and its subdomains", p[1:])
	case strings.Contains(p, "://") || strings.ContainsAny(p, "/@?#"):
		return errors.New("a host name only, without scheme, userinfo or path")
	}
	if a, err := netip.ParseAddr(strings.Trim(p, "[]")); err == nil && a.Is6() {
		if a.Zone() != "" {
			return errors.New("IPv6 zones are not allowed")
		}
		m.ips = append(m.ips, a)
		return nil
	}
	domain := strings.HasPrefix(p, ".")
	name := strings.TrimSuffix(strings.TrimPrefix(p, "."), ".")
	if strings.Contains(name, ":") {
		return errors.New("a host name without port (ports are ignored when matching)")
	}
	if !validDNSName(name) {
		return errors.New("not a valid host name")
	}
	if domain {
		m.domains = append(m.domains, "."+name)
	} else {
		m.exact = append(m.exact, name)
	}
	return nil
}

// match reports whether the Host value host (with an optional port) is
// allowed. An invalid host is never allowed, even with "*".
func (m *hostMatcher) match(host string) bool {
	name, ok := splitHost(host)
	if !ok {
		return false
	}
	if m.any {
		return true
	}
	if name[0] == '[' {
		a, err := netip.ParseAddr(name[1 : len(name)-1])
		if err != nil {
			return false
		}
		for _, ip := range m.ips {
			if ip == a {
				return true
			}
		}
		return false
	}
	for _, e := range m.exact {
		if strings.EqualFold(name, e) {
			return true
		}
	}
	for _, d := range m.domains {
		// ".example.com" matches "example.com" and "*.example.com".
		if strings.EqualFold(name, d[1:]) ||
			len(name) > len(d) && strings.EqualFold(name[len(name)-len(d):], d) {
			return true
		}
	}
	return false
}
