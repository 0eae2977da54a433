package scan

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Target is a scan target as ParseTarget reads it, in canonical form.
type Target struct {
	// Scheme is "https" or "http": the scheme the target names, or https
	// when it names none. The scanner visits both schemes either way; the
	// scheme decides which of them a port in the target belongs to.
	Scheme string
	// Host is the host in lower-case ASCII: a DNS name without a trailing
	// dot, international labels as their A-labels ("xn--bcher-kva.example"),
	// or an IP address in its canonical form without brackets
	// ("2001:db8::1"; "192.0.2.1" for "::ffff:192.0.2.1"; an IPv6 zone as
	// written, "fe80::1%eth0").
	Host string
	// Port is the port the target names, from 1 to 65535, or 0 when it
	// names none.
	Port int
	// Path is the path and query to request, escaped as they go on the
	// wire; "/" when the target has no path. A fragment is dropped.
	Path string
}

// URL returns the canonical URL of t: scheme, Authority, Path. Two targets
// that name the same page give the same URL, so it is a good key for it.
func (t Target) URL() string { return t.Scheme + "://" + t.Authority() + t.Path }

// Authority returns the host and port as a URL writes them: the host, in
// brackets if it is an IPv6 address (a zone escaped as "%25"), then
// ":port" unless Port is 0 or the scheme's default.
func (t Target) Authority() string {
	def := 443
	if t.Scheme == "http" {
		def = 80
	}
	return joinHostPort(t.Host, t.Port, def)
}

// The kinds of mistake ParseTarget reports. Its errors are *TargetError
// values that wrap one of them, for errors.Is.
var (
	ErrTargetEmpty    = errors.New("no target given")
	ErrTargetSyntax   = errors.New("not a host name or URL")
	ErrTargetScheme   = errors.New("unsupported scheme")
	ErrTargetUserInfo = errors.New("a user name or password is not allowed")
	ErrTargetNoHost   = errors.New("no host name")
	ErrTargetHost     = errors.New("bad host")
	ErrTargetPort     = errors.New("bad port")
)

// TargetError is the error ParseTarget returns: what was given, which kind
// of mistake it holds, the part at fault and, when there is more to say,
// the cause.
type TargetError struct {
	// Target is the target as it was given.
	Target string
	// Kind is one of the ErrTarget values.
	Kind error
	// Part is the part of the target at fault: the scheme or host in lower
	// case, or the port as written. It is empty when the mistake is not in
	// one part (ErrTargetEmpty, ErrTargetSyntax, ErrTargetUserInfo,
	// ErrTargetNoHost).
	Part string
	// Err is the cause, when there is more to say than Kind and Part; it
	// may be nil.
	Err error
}

// Error says what is wrong, as in `target "ftp://x": unsupported scheme
// "ftp": only http and https can be scanned`.
func (e *TargetError) Error() string {
	var b strings.Builder
	b.WriteString("target ")
	b.WriteString(strconv.Quote(e.Target))
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Part != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.Part))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and, when there is one, the cause.
func (e *TargetError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// ParseTarget reads a scan target: a host name ("example.com"),
// "host:port", "[2001:db8::1]:8443", or an http:// or https:// URL. Without
// a scheme the target is https. Surrounding white space is ignored; user
// information is refused; a fragment is dropped.
//
// Host names follow the WHATWG URL Standard, as browsers do: UTS #46
// non-transitional mapping (so "Bücher.example" is "xn--bcher-kva.example"
// and "xn--" labels must decode), bidi and joiner rules, no hyphen
// position rules. The result must then be a DNS name: labels of letters,
// digits, '-' and '_' (container and /etc/hosts names use it), at most 63
// characters each and 253 in all. A host that is an IP address after
// mapping is returned as that address.
//
// ParseTarget judges the form of the target only: it resolves nothing and
// accepts any address, so refusing private ones (Options.DenyPrivate) is
// left to the caller. Its errors are *TargetError values.
func ParseTarget(raw string) (Target, error) {
	fail := func(kind error, part string, cause error) (Target, error) {
		return Target{}, &TargetError{Target: raw, Kind: kind, Part: part, Err: cause}
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return fail(ErrTargetEmpty, "", nil)
	}
	// What comes before a "://" is a scheme, unless a '/', '?' or '#'
	// puts the "://" in the path, query or fragment, as in
	// "example.com/login?next=https://example.org/".
	t := Target{Scheme: "https"}
	if i := strings.Index(s, "://"); i >= 0 && !strings.ContainsAny(s[:i], "/?#") {
		if !isScheme(s[:i]) {
			return fail(ErrTargetSyntax, "", fmt.Errorf("%q before \"://\" is not a scheme", s[:i]))
		}
		t.Scheme = strings.ToLower(s[:i])
		if t.Scheme != "http" && t.Scheme != "https" {
			return fail(ErrTargetScheme, t.Scheme, errOnlyHTTP)
		}
	} else {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// The *url.Error would quote the URL with the scheme added.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail(ErrTargetSyntax, "", err)
	}
	if u.User != nil {
		return fail(ErrTargetUserInfo, "", nil)
	}
	host := u.Hostname()
	if strings.TrimSuffix(host, ".") == "" {
		return fail(ErrTargetNoHost, "", nil)
	}
	if t.Host, err = canonicalHost(host); err != nil {
		return fail(ErrTargetHost, strings.ToLower(host), err)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail(ErrTargetPort, p, errPortRange)
		}
		t.Port = n
	}
	t.Path = u.EscapedPath()
	if t.Path == "" {
		t.Path = "/"
	}
	if u.RawQuery != "" {
		t.Path += "?" + escapeQuery(u.RawQuery)
	}
	return t, nil
}

var (
	errOnlyHTTP    = errors.New("only http and https can be scanned")
	errPortRange   = errors.New("not a number from 1 to 65535")
	errEmptyLabel  = errors.New("empty label (two dots in a row, a leading dot or a bare \"xn--\")")
	errHostTooLong = errors.New("longer than 253 characters")
	errNumericName = errors.New("its last label is a number, so browsers read it as an IPv4 address, and it is not a valid one")
	errBadZone     = errors.New("an IPv6 zone may hold only letters, digits, '.', '-' and '_'")
)

// hostProfile is the WHATWG URL Standard's "domain to ASCII" with beStrict
// false: what a browser does with the host of a URL. Unlike idna.Lookup it
// leaves '_' and hyphen positions alone ("r3---sn-abc.googlevideo.com" is a
// real host); canonicalHost applies the DNS rules afterwards.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckJoiners(true),
	idna.CheckHyphens(false),
	idna.StrictDomainName(false),
)

// canonicalHost returns the canonical form of a URL's host (see
// Target.Host) or says what is wrong with it.
func canonicalHost(host string) (string, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return canonicalIP(ip)
	}
	// The trailing dot of a fully qualified name names the same host. It
	// goes before the conversion, which turns a bare "xn--" label into an
	// empty one: "a.xn--" must not become "a".
	name := strings.ToLower(host)
	for _, dot := range []string{".", "\u3002", "\uff0e", "\uff61"} { // the dots UTS #46 maps to '.'
		if trimmed, ok := strings.CutSuffix(name, dot); ok {
			name = trimmed
			break
		}
	}
	name, err := hostProfile.ToASCII(name)
	if err != nil {
		return "", err
	}
	// A name whose last label is a number is an IPv4 address to browsers
	// (the WHATWG URL Standard's host parser): dotted decimal, including
	// what mapping makes of "１２７.０.０.１", and inet_aton's forms too:
	// "127.1", "2130706433", "0x7f.0.0.1". Scanning it as a name would
	// ask DNS for something no browser would.
	if endsInNumber(name) {
		ip, ok := parseIPv4Forms(name)
		if !ok {
			return "", errNumericName
		}
		return canonicalIP(ip)
	}
	if len(name) > 253 {
		return "", errHostTooLong
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return "", errEmptyLabel
		}
		if len(label) > 63 {
			return "", fmt.Errorf("label %q is longer than 63 characters", label)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("character %q is not allowed (only letters, digits, '-', '_' and dots)", rune(c))
			}
		}
	}
	return name, nil
}

// endsInNumber reports whether a host's last label (ignoring one trailing
// dot) is a number, decimal or 0x hexadecimal: the WHATWG URL Standard's
// "ends in a number" test, after which a host must be an IPv4 address.
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := ipv4Number(last)
	return ok
}

// parseIPv4Forms parses an IPv4 address in any form the WHATWG URL
// Standard's IPv4 parser accepts: one to four parts, each decimal, octal
// (a leading 0) or hexadecimal (0x), the last part filling the remaining
// bytes.
func parseIPv4Forms(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(host, ".")
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var addr uint64
	for i, part := range parts {
		n, ok := ipv4Number(part)
		if !ok || part == "" {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			addr |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false
		}
		addr |= n
	}
	return netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}), true
}

// ipv4Number parses one part of an IPv4 address: "0x" or "0X" then
// hexadecimal digits (none means 0), a leading "0" then octal digits, or
// decimal. Values above 2^32 are reported as 2^32, which every caller
// refuses.
func ipv4Number(s string) (uint64, bool) {
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		var d uint64
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if n = n*base + d; n > 1<<32 {
			n = 1 << 32
		}
	}
	return n, true
}

// canonicalIP returns ip's canonical text: an IPv4-mapped IPv6 address is
// the IPv4 address it carries, which is what the dialler connects to.
func canonicalIP(ip netip.Addr) (string, error) {
	ip = ip.Unmap()
	// A zone goes into URLs escaped, so keep it to the characters
	// interface names and numbers use.
	for _, c := range []byte(ip.Zone()) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return "", errBadZone
		}
	}
	return ip.String(), nil
}

// isScheme reports whether s has the syntax of a URL scheme (RFC 3986
// section 3.1): a letter, then letters, digits, '+', '-' or '.'.
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// escapeQuery percent-encodes the bytes of a raw query that RFC 3986 does
// not allow there (Go's parser keeps them verbatim, and its client would
// send a space or a quote as is), so a canonical URL never holds quotes,
// spaces or angle brackets. Existing escapes are kept.
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

// joinHostPort writes host and port as a URL's authority, leaving out the
// port when it is 0 or def.
func joinHostPort(host string, port, def int) string {
	if strings.Contains(host, ":") {
		host = "[" + strings.Replace(host, "%", "%25", 1) + "]"
	}
	if port == 0 || port == def {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}

// target is a parsed target with the scanner's ports filled in.
type target struct {
	host      string // Target.Host
	httpPort  int
	httpsPort int
	path      string // Target.Path
}

func (t target) httpsURL() string  { return "https://" + t.hostPort(t.httpsPort, 443) + t.path }
func (t target) httpURL() string   { return "http://" + t.hostPort(t.httpPort, 80) + t.path }
func (t target) httpsBase() string { return "https://" + t.hostPort(t.httpsPort, 443) }
func (t target) httpBase() string  { return "http://" + t.hostPort(t.httpPort, 80) }

func (t target) hostPort(port, def int) string { return joinHostPort(t.host, port, def) }

// parseTarget reads raw with ParseTarget. A port in the target is the
// HTTP port on an http URL and the HTTPS port otherwise; the port of the
// other scheme, or of both when the target names none, is the configured
// one.
func parseTarget(raw string, httpPort, httpsPort int) (target, error) {
	pt, err := ParseTarget(raw)
	if err != nil {
		return target{}, err
	}
	t := target{host: pt.Host, httpPort: httpPort, httpsPort: httpsPort, path: pt.Path}
	if pt.Port != 0 {
		if pt.Scheme == "http" {
			t.httpPort = pt.Port
		} else {
			t.httpsPort = pt.Port
		}
	}
	return t, nil
}
