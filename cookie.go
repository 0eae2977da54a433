package httpsguard

import (
	"net/http"
	"strings"
)

// cookieRules says which Set-Cookie headers get which attributes.
type cookieRules struct {
	secureAll, httpOnlyAll bool
	secure, httpOnly       []string // cookie names; names are case-sensitive
	// sameSiteAll is the SameSite value of every cookie sameSite does not
	// name: "Lax", "Strict", "None" or "" (left alone).
	sameSiteAll string
	// sameSite holds the per-cookie values, canonical, "" for a cookie
	// left alone; nil when there are none.
	sameSite map[string]string
}

func (c *cookieRules) enabled() bool {
	return c.secureAll || c.httpOnlyAll || len(c.secure) > 0 || len(c.httpOnly) > 0 ||
		c.sameSiteAll != "" || len(c.sameSite) > 0
}

// sameSiteFor returns the SameSite value the rules give the cookie name.
// A map lookup keyed by a substring of the header does not allocate.
func (c *cookieRules) sameSiteFor(name string) string {
	if v, ok := c.sameSite[name]; ok {
		return v
	}
	return c.sameSiteAll
}

// The attributes a Set-Cookie line may be missing. The SameSite value rides
// in the bits, so one byte per line says everything rewrite appends.
const (
	addSecure uint8 = 1 << iota
	addHTTPOnly
	addLax
	addStrict
	addNone
	addSameSite = addLax | addStrict | addNone
)

// sameSiteBit returns the add bit for a canonical SameSite value.
func sameSiteBit(v string) uint8 {
	switch v {
	case "Lax":
		return addLax
	case "Strict":
		return addStrict
	case "None":
		return addNone
	}
	return 0
}

// sameSiteAttr returns the attribute the SameSite bits of add stand for.
func sameSiteAttr(add uint8) string {
	switch add & addSameSite {
	case addLax:
		return "; SameSite=Lax"
	case addStrict:
		return "; SameSite=Strict"
	case addNone:
		return "; SameSite=None"
	}
	return ""
}

// missing returns the attributes the rules require that line lacks. A line
// is one Set-Cookie header value, "name=value; Attr; Attr=v"; a cookie value
// cannot contain ';', so attributes are found by splitting on it.
func (c *cookieRules) missing(line string) (add uint8) {
	nv, attrs, _ := strings.Cut(line, ";")
	// RFC 6265bis §5.6: a pair without '=' is a value with an empty name.
	name, _, hasEq := strings.Cut(nv, "=")
	if !hasEq {
		name = ""
	}
	name = trimOWS(name)

	wantSecure := c.secureAll || contains(c.secure, name)
	wantHTTPOnly := c.httpOnlyAll || contains(c.httpOnly, name)
	wantSameSite := c.sameSiteFor(name)
	if !wantSecure && !wantHTTPOnly && wantSameSite == "" {
		return 0
	}
	hasSecure, hasHTTPOnly, hasSameSite, sameSiteNone := false, false, false, false
	for attrs != "" {
		var attr string
		attr, attrs, _ = strings.Cut(attrs, ";")
		k, v, _ := strings.Cut(attr, "=")
		switch k = trimOWS(k); {
		case strings.EqualFold(k, "secure"):
			hasSecure = true
		case strings.EqualFold(k, "httponly"):
			hasHTTPOnly = true
		case strings.EqualFold(k, "samesite"):
			// The last SameSite wins in browsers (RFC 6265bis §5.7).
			hasSameSite = true
			sameSiteNone = strings.EqualFold(trimOWS(v), "none")
		}
	}
	if wantHTTPOnly && !hasHTTPOnly {
		add |= addHTTPOnly
	}
	if wantSameSite != "" && !hasSameSite {
		add |= sameSiteBit(wantSameSite)
		sameSiteNone = wantSameSite == "None"
	}
	// Browsers drop a SameSite=None cookie that is not Secure, so Secure is
	// added even where the rules did not ask for it: to a cookie the rules
	// give None, and to one that says None itself and that the rules touch
	// at all.
	if (wantSecure || sameSiteNone) && !hasSecure {
		add |= addSecure
	}
	return add
}

// rewrittenLen is the length of line once the attributes in add are
// appended.
func (*cookieRules) rewrittenLen(line string, add uint8) int {
	n := len(trimCookieLine(line))
	if add&addSecure != 0 {
		n += len("; Secure")
	}
	if add&addHTTPOnly != 0 {
		n += len("; HttpOnly")
	}
	return n + len(sameSiteAttr(add))
}

// trimCookieLine drops trailing separators so appended attributes do not
// follow an empty one ("a=b; " + "; Secure").
func trimCookieLine(line string) string {
	i := len(line)
	for i > 0 && (line[i-1] == ';' || line[i-1] == ' ' || line[i-1] == '\t') {
		i--
	}
	return line[:i]
}

// trimOWS trims spaces and tabs; strings.Trim would build a cutset each call.
func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}

// rewrite adds the missing attributes to every Set-Cookie value in h, in
// place. All rewritten values share one string, so a response costs one
// allocation however many cookies it sets (up to 16; more cost one more),
// and none when every cookie is already right.
func (c *cookieRules) rewrite(h http.Header) {
	lines := h["Set-Cookie"]
	if len(lines) == 0 {
		return
	}
	var buf [16]uint8
	adds := buf[:0]
	if len(lines) > len(buf) {
		adds = make([]uint8, 0, len(lines))
	}
	total := 0
	for _, line := range lines {
		add := c.missing(line)
		adds = append(adds, add)
		if add != 0 {
			total += c.rewrittenLen(line, add)
		}
	}
	if total == 0 {
		return
	}
	var b strings.Builder
	b.Grow(total)
	for i, line := range lines {
		add := adds[i]
		if add == 0 {
			continue
		}
		b.WriteString(trimCookieLine(line))
		if add&addSecure != 0 {
			b.WriteString("; Secure")
		}
		if add&addHTTPOnly != 0 {
			b.WriteString("; HttpOnly")
		}
		b.WriteString(sameSiteAttr(add))
	}
	all, off := b.String(), 0
	for i, line := range lines {
		if adds[i] == 0 {
			continue
		}
		n := c.rewrittenLen(line, adds[i])
		lines[i] = all[off : off+n]
		off += n
	}
}

// RewriteSetCookie returns line, one Set-Cookie header value, with the
// Secure, HttpOnly and SameSite attributes p requires for that cookie
// added. Attributes already present, in any letter case, are kept as they
// are. It is what the Guard does to every response, offered for code that
// builds responses outside a Handler.
func (p Policy) RewriteSetCookie(line string) string {
	c := cookieRulesFor(p)
	h := http.Header{"Set-Cookie": {line}}
	c.rewrite(h)
	return h["Set-Cookie"][0]
}

func cookieRulesFor(p Policy) cookieRules {
	var c cookieRules
	for _, n := range p.SecureCookies {
		if n = strings.TrimSpace(n); n == "*" {
			c.secureAll = true
		} else if n != "" {
			c.secure = append(c.secure, n)
		}
	}
	for _, n := range p.HTTPOnlyCookies {
		if n = strings.TrimSpace(n); n == "*" {
			c.httpOnlyAll = true
		} else if n != "" {
			c.httpOnly = append(c.httpOnly, n)
		}
	}
	c.sameSiteAll = canonicalSameSite(p.CookieSameSite)
	for name, v := range p.SameSiteCookies {
		if name = strings.TrimSpace(name); name == "*" {
			c.sameSiteAll = canonicalSameSite(v)
			continue
		}
		if c.sameSite == nil {
			c.sameSite = make(map[string]string, len(p.SameSiteCookies))
		}
		c.sameSite[name] = canonicalSameSite(v)
	}
	return c
}

// canonicalSameSite returns "Lax", "Strict" or "None" for any letter case of
// them, and "" for anything else.
func canonicalSameSite(s string) string {
	for _, v := range [...]string{"Lax", "Strict", "None"} {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return v
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
