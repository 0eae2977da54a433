package web

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/idna"

	"github.com/httpsguard/httpsguard/scan"
)

// maxTargetLen bounds what a user may submit; no real site address is
// longer, and it keeps stored rows and logs small.
const maxTargetLen = 2048

// errPrivateTarget is wrapped by normalizeTarget's error for a target that
// names a non-public address outright. The scanner refuses the address it
// actually dials too (scan.Options.DenyPrivate); this early check only
// gives the user an answer at once instead of a failed scan.
var errPrivateTarget = errors.New("not a public address")

// target is a submitted address, validated and normalised.
type target struct {
	// url is what is scanned: scheme, lower-case ASCII host, the port
	// when not the scheme's default, path and query; no user
	// information, no fragment.
	url string
	// site names the site for its history: host, plus ":port" when the
	// port is not the default.
	site string
	host string
}

// normalizeTarget validates what a user typed ("example.com",
// "https://example.com/path", "http://[2001:db8::1]:8080/") and returns it
// normalised. International names are converted to their ASCII form so that
// one site has one history. With allowPrivate false, IP literals outside the
// public internet and "localhost" names are refused.
func normalizeTarget(raw string, allowPrivate bool) (target, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return target{}, errors.New("enter the address of a site, such as example.com")
	}
	if len(s) > maxTargetLen {
		return target{}, fmt.Errorf("the address is longer than %d characters", maxTargetLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return target{}, errors.New("the address contains spaces or control characters")
		}
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return target{}, errors.New("that is not a valid web address")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return target{}, fmt.Errorf("only http:// and https:// addresses can be checked, not %s://", truncate(u.Scheme, 20))
	}
	if u.User != nil {
		return target{}, errors.New("addresses with a user name or password are not accepted")
	}
	if u.Opaque != "" {
		return target{}, errors.New("that is not a valid web address")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return target{}, errors.New("the address has no host name")
	}
	ip, ipErr := netip.ParseAddr(host)
	if ipErr == nil {
		if ip.Zone() != "" {
			return target{}, errors.New("IPv6 zones are not accepted")
		}
		if !allowPrivate && !scan.IsPublicAddr(ip) {
			return target{}, fmt.Errorf("%s is %w; only sites on the public internet can be checked here", ip, errPrivateTarget)
		}
		host = ip.Unmap().String()
	} else {
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return target{}, fmt.Errorf("%q is not a valid host name", truncate(host, 64))
		}
		if err := validHostName(ascii); err != nil {
			return target{}, err
		}
		host = ascii
		if !allowPrivate && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
			return target{}, fmt.Errorf("%s is %w; only sites on the public internet can be checked here", host, errPrivateTarget)
		}
	}

	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return target{}, fmt.Errorf("port %q is not between 1 and 65535", truncate(port, 10))
		}
		port = strconv.Itoa(n)
		if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
			port = ""
		}
	}
	hostPort := host
	if ip.Is6() && !ip.Is4In6() {
		hostPort = "[" + host + "]"
	}
	if port != "" {
		hostPort += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return target{}, errors.New("that is not a valid web address")
	}
	t := target{url: scheme + "://" + hostPort + path, site: hostPort, host: host}
	if u.RawQuery != "" {
		t.url += "?" + escapeQuery(u.RawQuery)
	}
	return t, nil
}

// escapeQuery percent-encodes the bytes of a raw query that RFC 3986 does
// not allow there (Go's parser keeps them verbatim), so a stored URL never
// holds quotes, spaces or angle brackets. Existing escapes are kept.
func escapeQuery(q string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/?%", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// validHostName accepts DNS names of letters, digits, '-' and '_' labels.
func validHostName(h string) error {
	if len(h) > 253 {
		return errors.New("the host name is longer than 253 characters")
	}
	labels := strings.Split(h, ".")
	// A name ending in a number is an IPv4 address in one of inet_aton's
	// odd forms ("127.1", "2130706433", "0x7f.1") to many resolvers and to
	// browsers; no real domain has a numeric top-level label.
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return fmt.Errorf("%q is neither a host name nor a valid IP address", truncate(h, 64))
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a valid host name", truncate(h, 64))
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q is not a valid host name", truncate(h, 64))
			}
		}
	}
	return nil
}

// validSite reports whether s has the shape of a target's site, so a
// history request for anything else is answered without a query.
func validSite(s string) bool {
	if s == "" || len(s) > 300 {
		return false
	}
	// A site normalises to itself under one of the schemes: "host:443" is
	// an http:// site, "host:80" an https:// one.
	for _, scheme := range []string{"https://", "http://"} {
		if t, err := normalizeTarget(scheme+s+"/", true); err == nil && t.site == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
