package scan

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// target is a parsed scan target.
type target struct {
	host      string // lower-case host name or IP literal, no brackets
	httpPort  int
	httpsPort int
	path      string // path and query to request, "/" by default
}

func (t target) httpsURL() string  { return "https://" + t.hostPort(t.httpsPort, 443) + t.path }
func (t target) httpURL() string   { return "http://" + t.hostPort(t.httpPort, 80) + t.path }
func (t target) httpsBase() string { return "https://" + t.hostPort(t.httpsPort, 443) }
func (t target) httpBase() string  { return "http://" + t.hostPort(t.httpPort, 80) }

func (t target) hostPort(port, def int) string {
	h := t.host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if port == def {
		return h
	}
	return h + ":" + strconv.Itoa(port)
}

var errEmptyTarget = errors.New("empty target")

// parseTarget understands "host", "host:port", "[v6]:port" and http(s) URLs.
// A port on an https URL (or a bare host:port) is the HTTPS port; on an
// http URL it is the HTTP port. Anything else is an error, never a panic.
func parseTarget(raw string, httpPort, httpsPort int) (target, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return target{}, errEmptyTarget
	}
	scheme := "https"
	if i := strings.Index(s, "://"); i >= 0 {
		scheme = strings.ToLower(s[:i])
		if scheme != "http" && scheme != "https" {
			return target{}, fmt.Errorf("target %q: scheme %q is not http or https", raw, scheme)
		}
	} else {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return target{}, fmt.Errorf("target %q: %w", raw, err)
	}
	if u.User != nil {
		return target{}, fmt.Errorf("target %q: user information is not allowed", raw)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return target{}, fmt.Errorf("target %q: no host name", raw)
	}
	if !isASCII(host) {
		// An internationalised name is scanned as its A-label, which is
		// what DNS, certificates and Host headers carry.
		a, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return target{}, fmt.Errorf("target %q: %w", raw, err)
		}
		host = a
	}
	if err := validHost(host); err != nil {
		return target{}, fmt.Errorf("target %q: %w", raw, err)
	}
	t := target{host: host, httpPort: httpPort, httpsPort: httpsPort, path: u.EscapedPath()}
	if t.path == "" {
		t.path = "/"
	}
	if u.RawQuery != "" {
		t.path += "?" + u.RawQuery
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return target{}, fmt.Errorf("target %q: bad port %q", raw, p)
		}
		if scheme == "http" {
			t.httpPort = n
		} else {
			t.httpsPort = n
		}
	}
	return t, nil
}

// validHost accepts IP literals and names made of letters, digits, '-',
// '_' and dots (the characters DNS names and /etc/hosts entries use).
func validHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if len(h) > 253 {
		return errors.New("host name longer than 253 characters")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("bad host name %q", h)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("bad character %q in host name", r)
			}
		}
	}
	if net.ParseIP(h) == nil && strings.Count(h, ":") > 0 {
		return fmt.Errorf("bad host name %q", h)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
