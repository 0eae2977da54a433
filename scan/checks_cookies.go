package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
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

var cookieChecks = []CheckSpec{
	{
		ID: "HGS-COOK-001", Title: "Cookies set with Secure", Category: CategoryCookies,
		Description: "Every cookie set over HTTPS carries Secure. Fails for session-like and CSRF cookies (httpsguard's rule: see HGS-COOK-002), warns for others. With --scoring observatory the result is the Observatory's cookies result, with its own rule for session cookies (a name containing sess or login).",
		Fix:         "Set the Secure attribute on every cookie (Django: SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE).",
		Refs:        []string{mdnGuides + "Cookies"},
		Observatory: observatory.TestCookies,
		Outcomes: []Outcome{
			{Result: "cookies-secure", Status: StatusPass},
			{Result: "cookies-without-secure-flag", Status: StatusWarn, Impact: -5},
			{Result: "cookies-session-without-secure-flag", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			cs, v, ok := o.cookieView()
			if !ok {
				return v
			}
			switch {
			case len(cs.insecureSession) > 0:
				return decided("cookies-session-without-secure-flag", "Session or CSRF cookies are set without Secure: "+strings.Join(cs.insecureSession, ", ")+".", append(slices.Clone(cs.insecureSession), cs.insecureOther...)...)
			case cs.missing != nil:
				return cs.notAll()
			case len(cs.insecureOther) > 0:
				return decided("cookies-without-secure-flag", "Cookies are set without Secure: "+strings.Join(cs.insecureOther, ", ")+".", cs.insecureOther...)
			}
			return decided("cookies-secure", fmt.Sprintf("All %d cookies set over HTTPS carry Secure.", len(cs.cookies)), cs.names()...)
		},
	},
	{
		ID: "HGS-COOK-002", Title: "Session cookies HttpOnly", Category: CategoryCookies,
		Description: "Session-like cookies carry HttpOnly, so script injection cannot read them. Session-like means a name containing `sess` or `login` (`PHPSESSID`, `JSESSIONID`, `laravel_session`, Rails' `_app_session`...) or a session or login cookie a framework names otherwise: WordPress `wordpress_logged_in_*`, `wordpress_sec_*` and `wordpress_<hash>`, `.ASPXAUTH`, every ASP.NET Core framework cookie (`.AspNetCore.*`) but its `Culture` and `Antiforgery` ones, Express `connect.sid`, Laravel `remember_web_*`, Spring `remember-me`, Keycloak, Cloudflare Access, oauth2-proxy.",
		Fix:         "Set HttpOnly on session cookies (Django: SESSION_COOKIE_HTTPONLY).",
		Outcomes: []Outcome{
			{Result: "cookies-session-httponly", Status: StatusPass},
			{Result: "cookies-session-without-httponly", Status: StatusFail, Impact: -10},
		},
		decide: func(o *observations) verdict {
			cs, v, ok := o.cookieView()
			switch {
			case !ok:
				return v
			case len(cs.noHTTPOnly) > 0:
				return decided("cookies-session-without-httponly", "Session cookies are readable by scripts (no HttpOnly): "+strings.Join(cs.noHTTPOnly, ", ")+".", cs.noHTTPOnly...)
			case cs.missing != nil:
				return cs.notAll()
			case len(cs.sessions) == 0:
				return skip("No session-like cookies were set.", cs.names()...)
			case hasSession(cs.cookies):
				return decided("cookies-session-httponly", "Session cookies carry HttpOnly.", cs.sessions...)
			}
			return skip("No session-like cookies were set (CSRF cookies may be read by scripts).", cs.sessions...)
		},
	},
	{
		ID: "HGS-COOK-003", Title: "Session and CSRF cookies SameSite", Category: CategoryCookies,
		Description: "Session-like and CSRF cookies carry a valid SameSite attribute (Strict, Lax or None).",
		Fix:         "Set SameSite=Lax (or Strict) on session and CSRF cookies.",
		Outcomes: []Outcome{
			{Result: "cookies-samesite", Status: StatusPass},
			{Result: "cookies-without-samesite", Status: StatusWarn, Impact: -5},
		},
		decide: func(o *observations) verdict {
			cs, v, ok := o.cookieView()
			switch {
			case !ok:
				return v
			case len(cs.noSameSite) > 0:
				return decided("cookies-without-samesite", "Session or CSRF cookies have no valid SameSite: "+strings.Join(cs.noSameSite, ", ")+".", cs.noSameSite...)
			case cs.missing != nil:
				return cs.notAll()
			case len(cs.sessions) == 0:
				return skip("No session-like or CSRF cookies were set.", cs.names()...)
			}
			return decided("cookies-samesite", "Session and CSRF cookies carry SameSite.", cs.sessions...)
		},
	},
	{
		ID: "HGS-COOK-004", Title: "Cookie prefixes used correctly", Category: CategoryCookies,
		Description: "`__Secure-` cookies carry Secure; `__Host-` cookies carry Secure, no Domain and Path=/. Browsers reject cookies that break these rules. An empty `Domain=` is no Domain: RFC 6265bis ignores it and so do Chrome, Firefox and Safari (the cookie stays host-only and is accepted), while an earlier non-empty `Domain` still counts.",
		Fix:         "Give __Host- cookies Secure; Path=/ and no Domain, and __Secure- cookies Secure.",
		Outcomes: []Outcome{
			{Result: "cookies-prefix-valid", Status: StatusPass},
			{Result: "cookies-prefix-invalid", Status: StatusFail, Impact: -10},
		},
		decide: func(o *observations) verdict {
			cs, v, ok := o.cookieView()
			if !ok {
				return v
			}
			switch {
			case len(cs.prefixBad) > 0:
				return decided("cookies-prefix-invalid", "Cookies break the rules of their name prefix, so browsers reject them.", cs.prefixBad...)
			case cs.missing != nil:
				return cs.notAll()
			}
			return decided("cookies-prefix-valid", "No cookie breaks the __Secure-/__Host- prefix rules.")
		},
	},
}

// cookieView is what the cookie checks judge: every cookie set over HTTPS,
// sorted by what is wrong with it.
type cookieView struct {
	cookies                           []SetCookie
	insecureSession, insecureOther    []string
	noHTTPOnly, noSameSite, prefixBad []string
	sessions                          []string // session-like and CSRF cookies
	// missing says why a response that could have set cookies over HTTPS
	// was not received. A problem found stands; "all is well" cannot be
	// said.
	missing *Error
}

func (cs *cookieView) names() []string {
	var out []string
	for _, c := range cs.cookies {
		out = append(out, c.Name)
	}
	return out
}

// notAll is the verdict of a cookie check that found nothing wrong in the
// responses received, while one was not received.
func (cs *cookieView) notAll() verdict {
	return errored("Not every HTTPS response that could set cookies was received.", cs.missing)
}

// cookieView sorts the cookies set over HTTPS, once; when there are none to
// judge, v is the verdict for the cookie checks.
func (o *observations) cookieView() (cs *cookieView, v verdict, ok bool) {
	if o.cookies != nil {
		return o.cookies, verdict{}, true
	}
	if o.https == nil || len(o.https.hops) == 0 {
		return nil, o.noHTTPSPage(), false
	}
	cookies, bad := o.cookiesOverHTTPS()
	cs = &cookieView{cookies: cookies, missing: o.missingHTTPSResponse()}
	if len(cookies) == 0 {
		if cs.missing != nil {
			return nil, cs.notAll(), false
		}
		return nil, skip("No cookies were set over HTTPS.", bad...), false
	}
	for _, c := range cookies {
		important := c.SessionLike() || c.CSRF()
		if important {
			cs.sessions = append(cs.sessions, c.Name)
		}
		if !c.Secure {
			if important {
				cs.insecureSession = append(cs.insecureSession, c.Name)
			} else {
				cs.insecureOther = append(cs.insecureOther, c.Name)
			}
		}
		if c.SessionLike() && !c.HttpOnly {
			cs.noHTTPOnly = append(cs.noHTTPOnly, c.Name)
		}
		if important && (!c.HasSameSite || !c.SameSiteValid) {
			s := c.Name
			if c.HasSameSite {
				s += fmt.Sprintf(" (invalid SameSite=%q)", c.SameSite)
			}
			cs.noSameSite = append(cs.noSameSite, s)
		}
		if p := c.PrefixProblem(); p != "" {
			cs.prefixBad = append(cs.prefixBad, c.Name+": "+p)
		}
	}
	o.cookies = cs
	return cs, verdict{}, true
}

// missingHTTPSResponse says why an HTTPS request whose response the cookie
// checks read failed: a page chain stopped at an https:// URL, the
// robots.txt follow-up, the not-found probe, or an admin or login page.
// It is nil when every one was received.
func (o *observations) missingHTTPSResponse() *Error {
	stoppedAtHTTPS := func(c *chain) bool {
		return c != nil && c.failed && !strings.HasPrefix(strings.ToLower(c.next), "http://")
	}
	switch {
	case stoppedAtHTTPS(o.https):
		return o.pageError()
	case stoppedAtHTTPS(o.http) && len(o.http.hops) > 0:
		return asError(o.http.err)
	case o.robotsErr != nil && sessionOK(o.https):
		return asError(o.robotsErr)
	case o.notFoundErr != nil:
		return asError(o.notFoundErr)
	}
	for _, p := range o.paths {
		if stoppedAtHTTPS(p.https) {
			return asError(p.https.err)
		}
	}
	return nil
}

func hasSession(cs []SetCookie) bool {
	for _, c := range cs {
		if c.SessionLike() {
			return true
		}
	}
	return false
}
