package localca

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/httpsguard/httpsguard/internal/ascii"
)

// Name is one validated certificate name: either a DNS name in the ASCII
// (punycode) form that goes into the certificate, or an IP address.
type Name struct {
	// Input is the name as the caller wrote it.
	Input string
	// DNS is the lower-case ASCII form of a host name, possibly starting
	// with "*." for a wildcard. It is empty for an IP address.
	DNS string
	// IP is the address for an IP name; it is the zero Addr for a DNS name.
	IP netip.Addr
}

// IsIP reports whether n is an IP address.
func (n Name) IsIP() bool { return n.IP.IsValid() }

// IsWildcard reports whether n is a wildcard DNS name such as
// "*.example.test".
func (n Name) IsWildcard() bool { return strings.HasPrefix(n.DNS, "*.") }

// String returns the form of the name that appears in the certificate.
func (n Name) String() string {
	if n.IsIP() {
		return n.IP.String()
	}
	return n.DNS
}

// NameError reports a name that cannot go into a certificate, and why.
type NameError struct {
	Name   string // the name as given
	Reason string // what is wrong with it, as a sentence fragment
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid certificate name %q: %s", e.Name, e.Reason)
}

// Limits from RFC 1035 section 2.3.4, which x509 dNSName entries and every
// resolver share.
const (
	maxNameLen  = 253
	maxLabelLen = 63
	// maxInputLen bounds the work done on hostile input before any other
	// check; no valid name, even in Unicode, comes near it.
	maxInputLen = 1024
)

// ParseName validates a name for a certificate and returns its canonical
// form. It accepts:
//
//   - IPv4 and IPv6 addresses ("127.0.0.1", "::1", "[::1]");
//   - host names, case-insensitive, with an optional final dot
//     ("localhost", "My-App.test.");
//   - internationalised names, converted to punycode with the UTS #46
//     non-transitional processing browsers use ("bücher.test" becomes
//     "xn--bcher-kva.test");
//   - wildcards of exactly one leftmost label below at least two labels
//     ("*.example.test"), the only form browsers accept.
//
// Anything else, including "*", "*.test", "*.*.example.test",
// "a.*.example.test", IPv6 zones and names whose last label is numeric
// (browsers read "1.2.3" as an IPv4 address), is rejected with a *NameError
// explaining why.
func ParseName(s string) (Name, error) {
	n := Name{Input: s}
	bad := func(format string, args ...any) (Name, error) {
		return Name{}, &NameError{Name: s, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case s == "":
		return bad("empty name")
	case len(s) > maxInputLen:
		return bad("longer than %d bytes", maxInputLen)
	case !utf8.ValidString(s):
		return bad("not valid UTF-8")
	case strings.TrimSpace(s) != s:
		return bad("leading or trailing white space")
	}

	// IP addresses, with brackets allowed around IPv6 as in URLs.
	ipText := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		ipText = s[1 : len(s)-1]
	}
	if ip, err := netip.ParseAddr(ipText); err == nil {
		if ip.Zone() != "" {
			return bad("IPv6 zone %q cannot appear in a certificate; use the address without %%%s", ip.Zone(), ip.Zone())
		}
		if ipText != s && !ip.Is6() {
			return bad("brackets are only for IPv6 addresses")
		}
		n.IP = ip.Unmap()
		return n, nil
	} else if ipText != s {
		return bad("not a valid IPv6 address: %v", unwrapParseAddr(err))
	}
	if strings.Contains(s, "://") {
		return bad("looks like a URL; give only the host name, as in \"example.test\"")
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if port := s[i+1:]; port != "" && looksNumeric(port) && !strings.Contains(s[:i], ":") {
			return bad("looks like host:port; certificates name hosts only, so drop %q", s[i:])
		}
		return bad("':' is only allowed in IPv6 addresses")
	}

	host := s
	wildcard := false
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		wildcard = true
		host = rest
	}
	if strings.HasSuffix(host, ".") && !strings.HasSuffix(host, "..") {
		host = host[:len(host)-1] // fully qualified form; certificates never carry the dot
	}
	if strings.Contains(host, "*") {
		switch {
		case s == "*":
			return bad("a bare \"*\" matches nothing; use a wildcard below a domain such as \"*.example.test\"")
		case wildcard && strings.HasPrefix(host, "*."):
			return bad("only one wildcard level is allowed (\"*.example.test\"); browsers reject \"*.*\" names")
		default:
			return bad("a wildcard must be the whole leftmost label, as in \"*.example.test\"")
		}
	}
	if host == "" {
		if wildcard {
			return bad("a wildcard needs a domain after \"*.\", as in \"*.example.test\"")
		}
		return bad("empty host name")
	}

	// ASCII names get the LDH checks first for their precise messages; the
	// IDNA pass then lower-cases them and checks any "xn--" labels decode.
	if ascii.Is(host) {
		if err := checkHostname(strings.ToLower(host)); err != nil {
			return bad("%v", err)
		}
	}
	puny, err := toASCII(host)
	if err != nil {
		return bad("%v", err)
	}
	if err := checkHostname(puny); err != nil {
		return bad("%v", err)
	}
	labels := strings.Split(puny, ".")
	if last := labels[len(labels)-1]; looksNumeric(last) {
		return bad("the last label %q is numeric, so browsers would read the name as an IPv4 address", last)
	}
	if wildcard {
		if len(labels) < 2 {
			return bad("a wildcard directly below a top-level name (%q) is rejected by browsers; use one more level, such as \"*.myapp.%s\"", "*."+puny, puny)
		}
		puny = "*." + puny
	}
	if len(puny) > maxNameLen {
		return bad("longer than %d characters in its ASCII form", maxNameLen)
	}
	n.DNS = puny
	return n, nil
}

// ParseNames validates every name with ParseName and returns them in order
// with duplicates (after canonicalisation) removed. It fails on the first
// invalid name, or when names is empty.
func ParseNames(names ...string) ([]Name, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no names given: a certificate needs at least one DNS name or IP address")
	}
	out := make([]Name, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, s := range names {
		n, err := ParseName(s)
		if err != nil {
			return nil, err
		}
		if key := n.String(); !seen[key] {
			seen[key] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// idnaProfile is the lookup profile browsers use (UTS #46 non-transitional,
// bidi and joiner rules), without the STD3 restriction so that names such as
// "my_service.test" from container setups stay usable, as they do in
// browsers and Go's own verifier. checkHostname applies the remaining rules.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.CheckHyphens(true),
	idna.CheckJoiners(true),
	idna.StrictDomainName(false),
)

// toASCII converts a host name to lower-case ASCII, applying IDNA mapping to
// names with non-ASCII characters and checking that "xn--" labels decode.
func toASCII(host string) (string, error) {
	ascii, err := idnaProfile.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("not a valid internationalised domain name: %w", err)
	}
	return strings.ToLower(ascii), nil
}

// checkHostname applies the LDH rules to an ASCII host name, allowing "_" as
// browsers do.
func checkHostname(host string) error {
	if len(host) > maxNameLen {
		return fmt.Errorf("longer than %d characters in its ASCII form", maxNameLen)
	}
	for label := range strings.SplitSeq(host, ".") {
		switch {
		case label == "":
			return fmt.Errorf("empty label (two dots in a row, or a leading dot)")
		case len(label) > maxLabelLen:
			return fmt.Errorf("label %q is longer than %d characters", label, maxLabelLen)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("label %q contains %q; host names may hold letters, digits, '-' and '_'", label, rune(c))
			}
		}
	}
	return nil
}

// looksNumeric reports whether a label is one the WHATWG URL parser treats as
// an IPv4 number (decimal, or hex with 0x), which turns the whole host into
// an address.
func looksNumeric(label string) bool {
	if rest, ok := strings.CutPrefix(label, "0x"); ok {
		for i := 0; i < len(rest); i++ {
			if !strings.ContainsRune("0123456789abcdef", rune(rest[i])) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(label); i++ {
		if label[i] < '0' || label[i] > '9' {
			return false
		}
	}
	return true
}

// unwrapParseAddr shortens netip's error, which repeats the input.
func unwrapParseAddr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
