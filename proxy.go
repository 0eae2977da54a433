package httpsguard

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
)

// proxyTrust decides whether a request's proxy headers may be believed and
// what they say about the client's scheme.
type proxyTrust struct {
	header        string // canonical header name; "" when proxy headers are off
	value         string // the value that means HTTPS
	forwardedOnly bool   // header is "Forwarded": RFC 7239 only
	prefixes      []netip.Prefix
	unix          bool // trust peers on a Unix socket
	restricted    bool // TrustedProxies was set
}

// compileTrustedProxies parses TrustedProxies entries: CIDRs, single
// addresses, or "unix".
func compileTrustedProxies(entries []string) (prefixes []netip.Prefix, unix bool, bad []badValue) {
	for _, e := range entries {
		s := strings.TrimSpace(e)
		if strings.EqualFold(s, "unix") {
			unix = true
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			switch {
			case err != nil:
				bad = append(bad, badValue{e, errors.New("not a CIDR such as 10.0.0.0/8 or fd00::/8")})
			case p.Addr().Zone() != "":
				bad = append(bad, badValue{e, errors.New("IPv6 zones are not allowed")})
			default:
				prefixes = append(prefixes, normalizePrefix(p))
			}
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			bad = append(bad, badValue{e, errors.New(`not an IP address, a CIDR or "unix"`)})
			continue
		}
		a = a.Unmap()
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return prefixes, unix, bad
}

// normalizePrefix masks p and turns an IPv4-mapped IPv6 prefix
// (::ffff:10.0.0.0/104) into its IPv4 form, because peers are unmapped
// before matching.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// coversEverything reports whether p admits every IPv4 or every IPv6 peer.
func coversEverything(p netip.Prefix) bool { return p.Bits() == 0 }

// peerTrusted reports whether the direct peer, from r.RemoteAddr, may set
// proxy headers.
func (t *proxyTrust) peerTrusted(remoteAddr string) bool {
	if !t.restricted {
		return true
	}
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		a = ap.Addr()
	} else if pa, err := netip.ParseAddr(remoteAddr); err == nil {
		a = pa
	} else {
		// net/http reports "@" or "" as the peer of a Unix-socket listener.
		return t.unix && (remoteAddr == "@" || remoteAddr == "")
	}
	a = a.Unmap().WithZone("")
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// scheme reports what the proxy headers of r, when they may be believed,
// say about the client's scheme: known is false when they say nothing
// usable (absent, empty or malformed), and the connection itself decides.
// When they do speak they decide, even over a TLS connection: a proxy that
// re-encrypts to the app says "http" for a client on plain HTTP, and
// Django's SECURE_PROXY_SSL_HEADER likewise overrides the connection.
func (t *proxyTrust) scheme(r *http.Request) (secure, known bool) {
	if t.header == "" || !t.peerTrusted(r.RemoteAddr) {
		return false, false
	}
	if !t.forwardedOnly {
		if vals, ok := r.Header[t.header]; ok {
			last, ok := lastListElement(vals)
			return ok && strings.EqualFold(last, t.value), ok
		}
	}
	// RFC 7239 names the scheme itself, whatever value the configured
	// header uses ("X-Forwarded-Ssl: on").
	want := "https"
	if t.forwardedOnly {
		want = t.value
	}
	proto, ok := forwardedProto(r.Header["Forwarded"])
	return ok && strings.EqualFold(proto, want), ok
}

// lastListElement returns the last non-empty element of an RFC 9110
// comma-separated list spread over one or more header lines. Proxies that
// append to X-Forwarded-Proto put their own value last, so that is the one
// written by the nearest proxy; earlier ones may come from the client.
func lastListElement(lines []string) (string, bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		v := lines[i]
		for {
			j := strings.LastIndexByte(v, ',')
			elem := strings.Trim(v[j+1:], " \t")
			if elem != "" {
				return elem, true
			}
			if j < 0 {
				break
			}
			v = v[:j]
		}
	}
	return "", false
}

// errForwarded reports a Forwarded header that does not follow RFC 7239.
var errForwarded = errors.New("malformed Forwarded header")

// forwardedProto returns the proto parameter of the last forwarded-element
// of the RFC 7239 Forwarded header lines, the element appended by the
// nearest proxy. ok is false when there is no element, when that element has
// no proto, or when the header is malformed anywhere: a proxy that appends to
// a header it cannot parse cannot be told apart from a client forging one.
func forwardedProto(lines []string) (proto string, ok bool) {
	found := false
	for _, line := range lines {
		p, has, err := parseForwardedLine(line, proto, found)
		if err != nil {
			return "", false
		}
		proto, found = p, has
	}
	return proto, found
}

// parseForwardedLine parses one Forwarded header line and returns the proto
// of its last non-empty element. An empty line or a line of empty elements
// keeps the previous answer (prevProto, prevFound).
func parseForwardedLine(s, prevProto string, prevFound bool) (proto string, found bool, err error) {
	proto, found = prevProto, prevFound
	i := 0
	for {
		// One forwarded-element: [pair] *( ";" [pair] ), ended by ',' or EOL.
		elemProto, elemHasProto, elemPairs := "", false, 0
		for {
			i = skipOWS(s, i)
			if i < len(s) && (s[i] == ';' || s[i] == ',') || i == len(s) {
				// Empty pair: allowed by the ABNF ("a=b;;c=d" or a bare ';').
			} else {
				start := i
				for i < len(s) && isTokenChar(s[i]) {
					i++
				}
				name := s[start:i]
				if name == "" || i >= len(s) || s[i] != '=' {
					return "", false, errForwarded
				}
				i++
				var val string
				val, i, err = forwardedValue(s, i)
				if err != nil {
					return "", false, err
				}
				elemPairs++
				if strings.EqualFold(name, "proto") {
					if elemHasProto {
						// RFC 7239 §4: a parameter MUST NOT occur twice in an element.
						return "", false, errForwarded
					}
					elemProto, elemHasProto = val, true
				}
				i = skipOWS(s, i)
			}
			if i == len(s) || s[i] == ',' {
				break
			}
			if s[i] != ';' {
				return "", false, errForwarded
			}
			i++
		}
		if elemPairs > 0 {
			proto, found = elemProto, elemHasProto
		}
		if i == len(s) {
			return proto, found, nil
		}
		i++ // the ','
	}
}

// forwardedValue parses a token or quoted-string starting at s[i] and returns
// it unquoted with the index just past it. Only a quoted value with escapes
// allocates.
func forwardedValue(s string, i int) (string, int, error) {
	if i < len(s) && s[i] == '"' {
		i++
		start := i
		escaped := false
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\':
				escaped = true
				i++
				if i >= len(s) || !isQuotedPairChar(s[i]) {
					return "", 0, errForwarded
				}
			case c == '"':
				v := s[start:i]
				if escaped {
					v = unescapeQuoted(v)
				}
				return v, i + 1, nil
			case !isQDTextChar(c):
				return "", 0, errForwarded
			}
			i++
		}
		return "", 0, errForwarded // unterminated
	}
	start := i
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == start {
		return "", 0, errForwarded
	}
	return s[start:i], i, nil
}

func unescapeQuoted(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQDTextChar reports whether c may appear unescaped in an RFC 9110
// quoted-string.
func isQDTextChar(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e) || c >= 0x80
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || (0x20 <= c && c <= 0x7e) || c >= 0x80
}
