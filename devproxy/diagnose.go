package devproxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// diagnoser recognises the mistakes an application makes behind a TLS
// proxy and reports each one once, not once per request.
type diagnoser struct {
	log  *slog.Logger
	once *onceSet
}

func newDiagnoser(log *slog.Logger) *diagnoser {
	return &diagnoser{log: log, once: newOnceSet(1024)}
}

// loopError is returned from ModifyResponse when the application redirected
// a request that reached the proxy over HTTPS to that same HTTPS URL: the
// browser would follow it forever (until "too many redirects").
type loopError struct {
	URL       string    // the URL the browser asked for
	Location  string    // where the application sent it
	Status    int       // the redirect status
	Framework framework // a guess from the response headers; zero if unknown
	Origin    string    // scheme://host[:port] the browser sees
	// OwnAddress is set when the redirect went to the upstream's own
	// address rather than the browser's (with ChangeHost).
	OwnAddress bool
}

func (e *loopError) Error() string {
	return fmt.Sprintf("redirect loop: the application redirected %s to %s", e.URL, e.Location)
}

// redirect examines a redirect from the upstream. It returns a *loopError
// for the classic loop, and warns (once per location) about redirects that
// would take the browser off HTTPS.
func (d *diagnoser) redirect(resp *http.Response, proto, host, upstreamHost, location string) error {
	req := resp.Request
	asked := &url.URL{Scheme: proto, Host: host, Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	if asked.Scheme == "" || asked.Host == "" {
		return nil
	}
	loc, err := parseURL(location)
	if err != nil {
		return nil
	}
	target := asked.ResolveReference(loc)
	switch {
	case proto == "https" && strings.EqualFold(target.Scheme, "https") &&
		target.EscapedPath() == asked.EscapedPath() && target.RawQuery == asked.RawQuery &&
		repeats(req, resp):
		same := sameAuthority(target.Host, host, "443")
		own := sameAuthority(target.Host, upstreamHost, "443")
		if same || own {
			return &loopError{
				URL: asked.String(), Location: target.String(), Status: resp.StatusCode,
				Framework: detectFramework(resp.Header), Origin: "https://" + host, OwnAddress: own && !same,
			}
		}
	case proto == "https" && strings.EqualFold(target.Scheme, "http"):
		key := "http-redirect " + target.Host + target.EscapedPath()
		if d.once.first(key) {
			fw := detectFramework(resp.Header)
			d.log.Warn(fmt.Sprintf("the application redirected %s to %s, leaving HTTPS: it does not know the browser uses HTTPS. %s",
				asked.Redacted(), target.Redacted(), shortFix(fw)),
				"from", asked.Redacted(), "to", target.Redacted())
		}
	}
	return nil
}

// repeats reports whether following a redirect to the URL just requested
// would send the same request again, which is what makes it a loop rather
// than a step:
//
//   - after a POST answered with 301, 302 or 303 (Post/Redirect/Get to the
//     same page), the browser comes back with a GET: a different request;
//   - a redirect that sets a cookie the browser does not have yet (a
//     cookie or language check) changes the next request; one that only
//     sets cookies the request already carried with the same values does
//     not.
func repeats(req *http.Request, resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return false
		}
	}
	for _, line := range resp.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if have, err := req.Cookie(c.Name); err != nil || have.Value != c.Value {
			return false
		}
	}
	return true
}

// reportLoop prints the loop diagnosis with every framework's fix, once per
// host (the browser page repeats it on every occurrence).
func (d *diagnoser) reportLoop(e *loopError) {
	if !d.once.first("loop " + e.Origin) {
		// The fix was printed in full already; the access log shows the
		// 508 of each further attempt.
		d.log.Debug("redirect loop stopped again", "url", e.URL)
		return
	}
	d.log.Warn("redirect loop stopped: "+loopExplanation(e)+"\n\n"+indent(fixText(e.Framework, e.Origin), "    ")+"\n",
		"url", e.URL, "location", e.Location)
}

// cookies warns once per cookie name about cookies set over HTTPS without
// the Secure attribute: in production they would also be sent over plain
// HTTP, where anyone on the path can read them.
func (d *diagnoser) cookies(lines []string, h http.Header) {
	for _, line := range lines {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Secure || c.MaxAge < 0 {
			continue // a deletion needs no Secure
		}
		if d.once.first("cookie " + c.Name) {
			d.log.Warn(fmt.Sprintf("the application set cookie %q without Secure; in production it would also travel over plain HTTP. %s",
				c.Name, cookieFix(c.Name, detectFramework(h))), "cookie", c.Name)
		}
	}
}

// framework names the web framework that produced a response, guessed from
// headers it sets by default.
type framework string

const (
	frameworkUnknown framework = ""
	frameworkDjango  framework = "Django"
	frameworkFlask   framework = "Flask"
	frameworkRails   framework = "Rails"
	frameworkExpress framework = "Express"
)

func detectFramework(h http.Header) framework {
	server := strings.ToLower(h.Get("Server"))
	powered := strings.ToLower(h.Get("X-Powered-By"))
	switch {
	case strings.Contains(powered, "express"):
		return frameworkExpress
	case strings.Contains(server, "werkzeug"):
		return frameworkFlask
	case strings.Contains(server, "wsgiserver"), // Django's runserver
		h.Get("Cross-Origin-Opener-Policy") == "same-origin" && h.Get("Referrer-Policy") == "same-origin" && h.Get("X-Frame-Options") == "DENY":
		return frameworkDjango
	case h.Get("X-Runtime") != "", h.Get("X-Permitted-Cross-Domain-Policies") != "" && h.Get("X-Request-Id") != "":
		return frameworkRails
	}
	return frameworkUnknown
}

func loopExplanation(e *loopError) string {
	where := "to the same HTTPS URL"
	if e.OwnAddress {
		where = "to HTTPS on its own address " + e.Location + " (with --change-host it builds URLs from its own address; without it, from the browser's)"
	}
	return fmt.Sprintf("the application answered %s with %d %s. It forces HTTPS but believes the request came over plain HTTP, because httpsguard serve talks HTTP to it and says \"X-Forwarded-Proto: https\", which the application does not trust yet. The browser would loop until \"too many redirects\". Tell the application to trust the header:",
		e.URL, e.Status, where)
}

type fix struct {
	fw    framework
	title string
	code  string
}

// fixes returns the configuration that makes each framework trust the
// proxy's X-Forwarded-Proto, for an application served at origin.
func fixes(origin string) []fix {
	return []fix{
		{frameworkDjango, "Django (settings.py)", `SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Django 4.0 and later also check the Origin of POSTs:
CSRF_TRUSTED_ORIGINS = ["` + origin + `"]`},
		{frameworkFlask, "Flask / Werkzeug", `from werkzeug.middleware.proxy_fix import ProxyFix
app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)`},
		{frameworkRails, "Rails 7.1+ (config/environments/development.rb)", `config.assume_ssl = true`},
		{frameworkExpress, "Express", `app.set("trust proxy", "loopback")`},
		{"Go", "Go with httpsguard", `httpsguard.Policy{
    ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https",
    TrustedProxies: []string{"127.0.0.1/32", "::1/128"},
}
# or, with httpsguard.PolicyFromEnv:
HTTPSGUARD_PROXY_SSL_HEADER="X-Forwarded-Proto: https"
HTTPSGUARD_TRUSTED_PROXIES=127.0.0.1/32,::1/128`},
	}
}

// fixText lists the fixes, the detected framework's first.
func fixText(fw framework, origin string) string {
	all := fixes(origin)
	var b strings.Builder
	if fw != frameworkUnknown {
		fmt.Fprintf(&b, "This looks like %s:\n\n", fw)
		for _, f := range all {
			if f.fw == fw {
				writeFix(&b, f)
			}
		}
		b.WriteString("Other frameworks:\n\n")
	}
	for _, f := range all {
		if f.fw != fw {
			writeFix(&b, f)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func writeFix(b *strings.Builder, f fix) {
	b.WriteString(f.title + ":\n")
	b.WriteString(indent(f.code, "    ") + "\n\n")
}

// shortFix is the one-line version of fixText, for warnings.
func shortFix(fw framework) string {
	switch fw {
	case frameworkDjango:
		return `Django: SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https").`
	case frameworkFlask:
		return "Flask: wrap the app in werkzeug's ProxyFix(x_proto=1, x_host=1)."
	case frameworkRails:
		return "Rails: config.assume_ssl = true."
	case frameworkExpress:
		return `Express: app.set("trust proxy", "loopback").`
	}
	return `Make it trust X-Forwarded-Proto from 127.0.0.1 (Django: SECURE_PROXY_SSL_HEADER; Rails: config.assume_ssl; Express: app.set("trust proxy", "loopback"); Go: httpsguard ProxySSLHeader + TrustedProxies).`
}

func cookieFix(name string, fw framework) string {
	switch {
	case fw == frameworkDjango && name == "sessionid":
		return "Django: SESSION_COOKIE_SECURE = True."
	case fw == frameworkDjango && name == "csrftoken":
		return "Django: CSRF_COOKIE_SECURE = True."
	case fw == frameworkFlask && name == "session":
		return "Flask: SESSION_COOKIE_SECURE = True."
	case fw == frameworkExpress:
		return "Express: cookie: { secure: true } (with app.set(\"trust proxy\", \"loopback\"))."
	}
	return "Set Secure on it (httpsguard: Policy.SecureCookies)."
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// sameAuthority compares two host[:port] values, treating a missing port as
// def.
func sameAuthority(a, b, def string) bool {
	ah, ap := splitHostPortDefault(a, def)
	bh, bp := splitHostPortDefault(b, def)
	return strings.EqualFold(ah, bh) && ap == bp
}

// parseURL parses a Location value, tolerating what browsers tolerate.
func parseURL(s string) (*url.URL, error) {
	return url.Parse(strings.TrimSpace(s))
}
