package observatory

import (
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// This file reproduces the cookie jar of the Observatory's page sessions:
// a tough-cookie 5 CookieJar (strict parsing, public suffixes rejected,
// special-use domains allowed, prefix security "silent") in a memory
// store, filled and read by http-cookie-agent 7 on every request the
// session's HTTP agents send. See docs/design/observatory-cookies.md.

// jarCookie is a cookie as the jar stores it.
type jarCookie struct {
	key, value, domain, path string
	secure, httpOnly         bool
	sameSite                 string // "strict", "lax", "none" or "" when unset
	hostOnly                 bool
	// maxAge is the Max-Age attribute in seconds when it was valid; it
	// takes precedence over expires.
	maxAge *float64
	// expires is the Expires attribute when it parsed as a cookie date.
	expires *time.Time
}

// expired reports whether tough-cookie's getCookies would find c expired
// at now, and so remove it from the store.
func (c *jarCookie) expired(now time.Time) bool {
	if c.maxAge != nil {
		// A positive Max-Age counts from the cookie's last access, which
		// every request renews: within one scan it never runs out. A
		// Max-Age beyond float range is stored as the string "Infinity",
		// which tough-cookie's expiryTime reads as -Infinity.
		return *c.maxAge <= 0 || math.IsInf(*c.maxAge, 0)
	}
	return c.expires != nil && !c.expires.After(now)
}

// cookieContext is what the jar sees of a request URL.
type cookieContext struct {
	host   string // canonical host name, as tough-cookie's canonicalDomain
	path   string // the path the jar matches and defaults cookie paths from
	secure bool   // the scheme is https
}

// contextOf returns the jar's view of a request to rawURL, or false when
// the jar would not accept the URL at all.
//
// http-cookie-agent does not hand the jar the request URL: it rebuilds one
// with Node's legacy url.format from the request's host name (no port) and
// its path, query included, which url.format escapes ("?" becomes "%3F").
// tough-cookie then parses decodeURI of that string with the WHATWG URL
// parser. So the path the jar works with is the request's path and query
// run through decodeURI and back through the URL parser: "/login?next=/a/b"
// is "/login%3Fnext=/a/b", whose default cookie path is "/login%3Fnext=/a",
// and "/x%25y/z" is "/x%y/z".
func contextOf(rawURL string) (cookieContext, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return cookieContext{}, false
	}
	host := strings.ToLower(u.Hostname())
	if canonicalDomain(host) == "" {
		return cookieContext{}, false
	}
	if strings.Contains(host, ":") {
		// url.format gives "https://::1/..." for an IPv6 host, which
		// tough-cookie cannot parse: the agent then fails the request.
		return cookieContext{}, false
	}
	target := u.EscapedPath()
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	target = strings.ReplaceAll(target, "?", "%3F")
	if d, ok := decodeURI(target); ok {
		target = d
	}
	return cookieContext{
		host:   canonicalDomain(host),
		path:   whatwgPath(target),
		secure: u.Scheme == "https",
	}, true
}

// agentRefuses reports whether the Observatory's cookie agent fails a
// request to rawURL before sending it: http-cookie-agent rebuilds
// "https://::1/..." for an IPv6 host, which tough-cookie cannot parse.
func agentRefuses(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.Contains(u.Hostname(), ":")
}

// canonicalDomain is tough-cookie's canonicalDomain for a host name that
// the URL parser has already lower-cased and converted to ASCII.
func canonicalDomain(s string) string {
	return strings.ToLower(strings.TrimPrefix(jsTrim(s), "."))
}

// uriReserved are the characters whose escapes JavaScript's decodeURI
// leaves alone.
const uriReserved = ";/?:@&=+$,#"

// decodeURI is JavaScript's decodeURI; ok is false where it throws (a "%"
// not followed by two hex digits, or escapes that are not UTF-8).
func decodeURI(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		first, ok := hexByte(s, i)
		if !ok {
			return "", false
		}
		if first < 0x80 {
			if strings.IndexByte(uriReserved, first) >= 0 {
				b.WriteString(s[i : i+3])
			} else {
				b.WriteByte(first)
			}
			i += 3
			continue
		}
		// A multi-byte sequence: as many escapes as its first byte says.
		n := 0
		switch {
		case first&0xE0 == 0xC0:
			n = 2
		case first&0xF0 == 0xE0:
			n = 3
		case first&0xF8 == 0xF0:
			n = 4
		default:
			return "", false
		}
		seq := []byte{first}
		for k := 1; k < n; k++ {
			c, ok := hexByte(s, i+3*k)
			if !ok || c&0xC0 != 0x80 {
				return "", false
			}
			seq = append(seq, c)
		}
		r, size := utf8.DecodeRune(seq)
		if r == utf8.RuneError || size != n {
			return "", false
		}
		b.Write(seq)
		i += 3 * n
	}
	return b.String(), true
}

// hexByte decodes the escape "%XX" at s[i:].
func hexByte(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

// whatwgPath is the pathname the WHATWG URL parser makes of target, the
// path (and escaped query) of a special URL: tabs and newlines dropped,
// backslashes read as slashes, "." and ".." segments (also spelled with
// "%2e") resolved, and the path percent-encode set escaped.
func whatwgPath(target string) string {
	target = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		if r == '\\' {
			return '/'
		}
		return r
	}, target)
	// The part after the first "?" or "#" is not the path; url.format
	// escaped every "?", and no "#" is left in a request path.
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	segs := strings.Split(strings.TrimPrefix(target, "/"), "/")
	var out []string
	for i, seg := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(seg) {
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, escapePathSegment(seg))
		}
	}
	return "/" + strings.Join(out, "/")
}

// escapePathSegment escapes the WHATWG path percent-encode set.
func escapePathSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7F || strings.IndexByte("\"#<>?`{}", c) >= 0 {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// cookieJar reproduces the jar's memory store: cookies keyed by domain,
// path and name, in creation order (the order in which the Observatory
// serializes the store). Expired cookies stay until a request that would
// carry them is sent: the Observatory reads the whole store at the end, so
// a cookie deleted by the final response, or one a later request never
// matched, still counts.
type cookieJar struct {
	cookies []*jarCookie
}

// set stores the Set-Cookie line raw received for ctx, silently ignoring
// it where tough-cookie's setCookie would reject it.
func (j *cookieJar) set(raw string, ctx cookieContext) {
	c, ok := parseSetCookie(raw)
	if !ok {
		return
	}
	if c.domain != "" {
		// The checks read the canonical domain, the store keeps the
		// attribute: "Domain=..example.com" is stored as ".example.com".
		if cd := canonicalDomain(c.domain); !cookieDomainAllowed(cd) || !domainMatch(ctx.host, cd) {
			return
		}
		c.hostOnly = false
	} else {
		c.hostOnly = true
		c.domain = ctx.host
	}
	if c.path == "" || c.path[0] != '/' {
		c.path = defaultCookiePath(ctx.path)
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

// send is what the jar does when a request is sent for ctx at now:
// tough-cookie's getCookies removes every expired cookie it would
// otherwise have sent. Only those: an expired cookie for another path, or
// a Secure one when the request is plain HTTP, stays in the store. send
// returns the cookies sent, in tough-cookie's order: longest path first,
// then oldest first (an overwritten cookie keeps its age).
func (j *cookieJar) send(ctx cookieContext, now time.Time) []*jarCookie {
	domains := permuteDomain(ctx.host)
	var sent []*jarCookie
	j.cookies = slices.DeleteFunc(j.cookies, func(c *jarCookie) bool {
		if !slices.Contains(domains, c.domain) || !pathMatch(ctx.path, c.path) {
			return false
		}
		if c.hostOnly && c.domain != ctx.host || !c.hostOnly && !domainMatch(ctx.host, c.domain) {
			return false
		}
		if c.secure && !ctx.secure {
			return false
		}
		if c.expired(now) {
			return true
		}
		sent = append(sent, c)
		return false
	})
	slices.SortStableFunc(sent, func(a, b *jarCookie) int { return len(b.path) - len(a.path) })
	return sent
}

// exchange records one request sent for rawURL at now and the Set-Cookie
// lines of its response, as the cookie agent does. It reports false when
// the agent would have failed the request.
func (j *cookieJar) exchange(rawURL string, setCookies []string, now time.Time) bool {
	ctx, ok := contextOf(rawURL)
	if !ok {
		return false
	}
	j.send(ctx, now)
	for _, sc := range setCookies {
		j.set(sc, ctx)
	}
	return true
}

// Jar is the cookie jar of one of the Observatory's page sessions, for a
// fetcher that wants to send the cookies the Observatory sends: a server
// that answers according to its cookies then answers the fetcher as it
// answers the Observatory. Analyze does not need it: it replays the
// session's Set-Cookie fields through a jar of its own. The zero Jar is
// empty and ready; a Jar is safe for concurrent use.
type Jar struct {
	mu  sync.Mutex
	jar cookieJar
}

// Request returns the Cookie header the Observatory sends with a request
// to rawURL at now ("" for none), and drops from the jar the expired
// cookies it would have sent, as the Observatory does. ok is false where
// the Observatory's cookie agent fails the request instead of sending it
// (a URL whose host is an IPv6 literal).
func (j *Jar) Request(rawURL string, now time.Time) (header string, ok bool) {
	ctx, ok := contextOf(rawURL)
	if !ok {
		return "", false
	}
	j.mu.Lock()
	sent := j.jar.send(ctx, now)
	j.mu.Unlock()
	// http-cookie-agent collects them in a Map by name: a name sent twice
	// (for two paths) keeps its first place and takes its last value.
	var names []string
	values := map[string]string{}
	for _, c := range sent {
		if _, seen := values[c.key]; !seen {
			names = append(names, c.key)
		}
		values[c.key] = c.value
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + values[n]
	}
	return strings.Join(parts, "; "), true
}

// Response stores the Set-Cookie fields of the response to a request to
// rawURL.
func (j *Jar) Response(rawURL string, setCookies []string) {
	ctx, ok := contextOf(rawURL)
	if !ok {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, sc := range setCookies {
		j.jar.set(sc, ctx)
	}
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
	c := &jarCookie{key: name, value: value}
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
		case "expires":
			if t, ok := parseCookieDate(v); ok {
				c.expires = &t
			}
		case "max-age":
			if v != "" && isSignedDigits(v) {
				// parseInt: a float, infinite past 1.8e308.
				n, _ := strconv.ParseFloat(v, 64)
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

// isDateDelimiter reports whether c is a delimiter of RFC 6265's cookie
// date grammar.
func isDateDelimiter(c byte) bool {
	return c == 0x09 || c >= 0x20 && c <= 0x2F || c >= 0x3B && c <= 0x40 || c >= 0x5B && c <= 0x60 || c >= 0x7B && c <= 0x7E
}

// parseDigits is tough-cookie's parseDigits: min to max leading digits,
// followed by anything only when trailingOK.
func parseDigits(tok string, minDigits, maxDigits int, trailingOK bool) (int, bool) {
	n := 0
	for n < len(tok) && tok[n] >= '0' && tok[n] <= '9' {
		n++
	}
	if n < minDigits || n > maxDigits || !trailingOK && n != len(tok) {
		return 0, false
	}
	v, _ := strconv.Atoi(tok[:n])
	return v, true
}

var months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parseCookieDate is tough-cookie's parseDate (RFC 6265 section 5.1.1,
// without its last check: an impossible date such as 31 February rolls
// over, as Date.UTC does).
func parseCookieDate(s string) (time.Time, bool) {
	var (
		hour, minute, second, day, month, year int
		haveTime, haveDay, haveMonth, haveYear bool
	)
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !isDateDelimiter(s[i]) {
			continue
		}
		tok := jsTrim(s[start:i])
		start = i + 1
		if tok == "" {
			continue
		}
		if !haveTime {
			if parts := strings.Split(tok, ":"); len(parts) == 3 {
				h, ok1 := parseDigits(parts[0], 1, 2, false)
				m, ok2 := parseDigits(parts[1], 1, 2, false)
				sec, ok3 := parseDigits(parts[2], 1, 2, true)
				if ok1 && ok2 && ok3 {
					hour, minute, second, haveTime = h, m, sec, true
					continue
				}
			}
		}
		if !haveDay {
			if d, ok := parseDigits(tok, 1, 2, true); ok {
				day, haveDay = d, true
				continue
			}
		}
		if !haveMonth && len(tok) >= 3 {
			if m := slices.Index(months, strings.ToLower(tok[:3])); m >= 0 {
				month, haveMonth = m, true
				continue
			}
		}
		if !haveYear {
			if y, ok := parseDigits(tok, 2, 4, true); ok {
				switch {
				case y >= 70 && y <= 99:
					y += 1900
				case y <= 69:
					y += 2000
				}
				year, haveYear = y, true
			}
		}
	}
	if !haveTime || !haveDay || !haveMonth || !haveYear ||
		day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month+1), day, hour, minute, second, 0, time.UTC), true
}

// specialUse are the special-use top-level domains the jar accepts as
// cookie domains.
var specialUse = map[string]bool{"local": true, "example": true, "invalid": true, "localhost": true, "test": true}

// registrable is tough-cookie's getPublicSuffix with special-use domains
// allowed, which despite its name returns the registrable domain
// (tldts' getDomain): "" when d is an IP address or a public suffix.
func registrable(d string) string {
	labels := strings.Split(d, ".")
	tld := labels[len(labels)-1]
	if specialUse[tld] {
		if len(labels) > 1 {
			return labels[len(labels)-2] + "." + tld
		}
		if tld == "localhost" || tld == "invalid" {
			return tld
		}
	}
	if net.ParseIP(strings.Trim(d, "[]")) != nil {
		return ""
	}
	r, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return ""
	}
	return r
}

// cookieDomainAllowed reports whether the jar accepts a Domain attribute
// d: it must not be a public suffix (IPv6 literals pass, IPv4 ones fail).
func cookieDomainAllowed(d string) bool {
	if ip := net.ParseIP(strings.Trim(d, "[]")); ip != nil {
		return ip.To4() == nil
	}
	return registrable(d) != ""
}

// permuteDomain is tough-cookie's permuteDomain: the domains under which
// the memory store looks for a host's cookies, from the registrable domain
// down to the host itself (the host alone when it has none).
func permuteDomain(host string) []string {
	reg := registrable(host)
	if reg == "" || reg == host {
		return []string{host}
	}
	host = strings.TrimSuffix(host, ".")
	prefix := strings.TrimSuffix(host, "."+reg)
	if prefix == host {
		return []string{host}
	}
	out := []string{reg}
	labels := strings.Split(prefix, ".")
	cur := reg
	for i := len(labels) - 1; i >= 0; i-- {
		cur = labels[i] + "." + cur
		out = append(out, cur)
	}
	return out
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

// pathMatch is tough-cookie's pathMatch of a request path against a
// cookie path.
func pathMatch(reqPath, cookiePath string) bool {
	if cookiePath == reqPath {
		return true
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
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
