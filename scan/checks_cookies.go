package scan

import (
	"fmt"
	"strings"
)

// cookiesOverHTTPS parses every Set-Cookie received over HTTPS.
func (o *observations) cookiesOverHTTPS() (cookies []SetCookie, bad []string) {
	seen := map[string]bool{}
	visit := func(f *fetched) {
		if f == nil || f.url.Scheme != "https" {
			return
		}
		for _, line := range f.header.Values("Set-Cookie") {
			if seen[line] {
				continue
			}
			seen[line] = true
			c, err := ParseSetCookie(line)
			if err != nil {
				bad = append(bad, err.Error())
				continue
			}
			cookies = append(cookies, c)
		}
	}
	if o.https != nil {
		for _, h := range o.https.hops {
			visit(h)
		}
	}
	if o.http != nil {
		for _, h := range o.http.hops {
			visit(h)
		}
	}
	visit(o.robots)
	visit(o.notFound)
	for _, p := range o.paths {
		if p.https != nil {
			for _, h := range p.https.hops {
				visit(h)
			}
		}
	}
	return cookies, bad
}

func checkCookies(o *observations, ob obFunc) []*Check {
	secure := newCheck("HGS-COOK-001")
	httpOnly := newCheck("HGS-COOK-002")
	sameSite := newCheck("HGS-COOK-003")
	prefix := newCheck("HGS-COOK-004")
	all := []*Check{secure, httpOnly, sameSite, prefix}
	if t, err := ob("cookies"); err == nil {
		secure.Result = t.Result
	}
	cookies, bad := o.cookiesOverHTTPS()
	if len(cookies) == 0 && o.https != nil && o.https.final == nil && o.https.err != nil {
		for _, c := range all {
			c.noHTTPSPage(o)
		}
		return all
	}
	if len(cookies) == 0 {
		for _, c := range all {
			c.skip("No cookies were set over HTTPS.", bad...)
		}
		return all
	}
	var insecureSession, insecureOther, noHTTPOnly, noSameSite, prefixBad, sessions []string
	for _, c := range cookies {
		important := c.SessionLike() || c.CSRF()
		if important {
			sessions = append(sessions, c.Name)
		}
		if !c.Secure {
			if important {
				insecureSession = append(insecureSession, c.Name)
			} else {
				insecureOther = append(insecureOther, c.Name)
			}
		}
		if c.SessionLike() && !c.HttpOnly {
			noHTTPOnly = append(noHTTPOnly, c.Name)
		}
		if important && (!c.HasSameSite || !c.SameSiteValid) {
			s := c.Name
			if c.HasSameSite {
				s += fmt.Sprintf(" (invalid SameSite=%q)", c.SameSite)
			}
			noSameSite = append(noSameSite, s)
		}
		if p := c.PrefixProblem(); p != "" {
			prefixBad = append(prefixBad, c.Name+": "+p)
		}
	}
	names := func(cs []SetCookie) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	switch {
	case len(insecureSession) > 0:
		secure.fail(20, "Session or CSRF cookies are set without Secure: "+strings.Join(insecureSession, ", ")+".", append(insecureSession, insecureOther...)...).fallbackResult("cookies-session-without-secure-flag")
	case len(insecureOther) > 0:
		secure.warn(5, "Cookies are set without Secure: "+strings.Join(insecureOther, ", ")+".", insecureOther...).fallbackResult("cookies-without-secure-flag")
	default:
		secure.pass(fmt.Sprintf("All %d cookies set over HTTPS carry Secure.", len(cookies)), names(cookies)...).fallbackResult("cookies-secure")
	}
	switch {
	case len(sessions) == 0:
		httpOnly.skip("No session-like cookies were set.", names(cookies)...)
		sameSite.skip("No session-like or CSRF cookies were set.", names(cookies)...)
	default:
		if len(noHTTPOnly) > 0 {
			httpOnly.Result = "cookies-session-without-httponly"
			httpOnly.fail(10, "Session cookies are readable by scripts (no HttpOnly): "+strings.Join(noHTTPOnly, ", ")+".", noHTTPOnly...)
		} else if hasSession(cookies) {
			httpOnly.Result = "cookies-session-httponly"
			httpOnly.pass("Session cookies carry HttpOnly.", sessions...)
		} else {
			httpOnly.skip("No session-like cookies were set (CSRF cookies may be read by scripts).", sessions...)
		}
		if len(noSameSite) > 0 {
			sameSite.Result = "cookies-without-samesite"
			sameSite.warn(5, "Session or CSRF cookies have no valid SameSite: "+strings.Join(noSameSite, ", ")+".", noSameSite...)
		} else {
			sameSite.Result = "cookies-samesite"
			sameSite.pass("Session and CSRF cookies carry SameSite.", sessions...)
		}
	}
	if len(prefixBad) > 0 {
		prefix.Result = "cookies-prefix-invalid"
		prefix.fail(10, "Cookies break the rules of their name prefix, so browsers reject them.", prefixBad...)
	} else {
		prefix.Result = "cookies-prefix-valid"
		prefix.pass("No cookie breaks the __Secure-/__Host- prefix rules.")
	}
	return all
}

func hasSession(cs []SetCookie) bool {
	for _, c := range cs {
		if c.SessionLike() {
			return true
		}
	}
	return false
}
