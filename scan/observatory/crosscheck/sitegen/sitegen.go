// Package sitegen generates random web sites for the cross-checks of
// httpsguard's Observatory mode against the real MDN HTTP Observatory.
//
// A Site is a plain description: for each of its two servers (http:// and
// https://), the response to every request target it knows, the response
// to the CORS preflight, and the response to anything else. Generated
// sites aim at what the Observatory reads across one session: redirect
// chains that hop between paths, schemes and host spellings while they set,
// overwrite and delete cookies with every attribute (Domain, Path, Max-Age,
// Expires, Secure, HttpOnly, SameSite, the __Host- and __Secure- prefixes),
// follow-up requests (/robots.txt, the CORS preflight) that answer, redirect
// and set cookies of their own, and final pages with the headers and markup
// every Observatory test reads (CSP, HSTS, X-Frame-Options,
// Referrer-Policy, X-Content-Type-Options, CORP, CORS, SRI).
//
// Generation is a pure function of a seed (New), so a failing site is
// reproduced from the seed alone. Servers answer from the description only,
// whatever cookies a client sends, so the two scanners see the same site.
package sitegen

import (
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Response is one canned response.
type Response struct {
	Status int `json:"status"`
	// Header holds the fields in the order sent. In values, {http},
	// {https} and {closed} stand for the Ports.
	Header [][2]string `json:"header,omitempty"`
	Body   string      `json:"body,omitempty"`
	// IfCookie, when set, answers instead of this response a request
	// that carries the cookie IfCookie.Name: the site then answers each
	// scanner according to the cookies it sends.
	IfCookie *Variant `json:"if_cookie,omitempty"`
}

// Variant is the answer to requests that carry a cookie.
type Variant struct {
	Name     string    `json:"name"`
	Response *Response `json:"response"`
}

// Server is what one of a site's servers answers.
type Server struct {
	// GET maps a request target, exactly as received (path and query), to
	// its response; HEAD and other methods but OPTIONS get it too.
	GET map[string]Response `json:"get"`
	// Options answers every OPTIONS request whose target is not in
	// OptionsAt.
	Options Response `json:"options"`
	// OptionsAt maps request targets to their OPTIONS responses.
	OptionsAt map[string]Response `json:"options_at,omitempty"`
	// NotFound answers every other request.
	NotFound Response `json:"not_found"`
}

// Site is one generated site.
type Site struct {
	// Seed generates this site again with New.
	Seed  uint64 `json:"seed"`
	HTTP  Server `json:"http"`
	HTTPS Server `json:"https"`
	// BadCert serves HTTPS with a certificate nobody trusts, which sends
	// the Observatory down its unverified retry.
	BadCert bool `json:"bad_cert,omitempty"`
	// NoHTTP and NoHTTPS mean nothing listens on that server's port.
	NoHTTP  bool `json:"no_http,omitempty"`
	NoHTTPS bool `json:"no_https,omitempty"`
}

// Ports are where a site's servers listen, known once they run.
// Closed is a loopback port where nothing listens: a hop that
// redirects there fails its session.
type Ports struct{ HTTP, HTTPS, Closed int }

// Handler returns the handler of the https or the http server of s.
func (s *Site) Handler(https bool, p *Ports) http.Handler {
	srv := &s.HTTP
	if https {
		srv = &s.HTTPS
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.RequestURI
		resp, ok := srv.GET[target]
		if r.Method == http.MethodOptions {
			if resp, ok = srv.OptionsAt[target]; !ok {
				resp, ok = srv.Options, true
			}
		}
		if !ok {
			resp = srv.NotFound
		}
		if v := resp.IfCookie; v != nil {
			if _, err := r.Cookie(v.Name); err == nil {
				resp = *v.Response
			}
		}
		write(w, resp, p)
	})
}

func write(w http.ResponseWriter, resp Response, p *Ports) {
	for _, kv := range resp.Header {
		w.Header().Add(kv[0], expand(kv[1], p))
	}
	w.WriteHeader(resp.Status)
	io.WriteString(w, expand(resp.Body, p))
}

func expand(s string, p *Ports) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return strings.NewReplacer("{http}", strconv.Itoa(p.HTTP), "{https}", strconv.Itoa(p.HTTPS),
		"{closed}", strconv.Itoa(p.Closed)).Replace(s)
}

// String describes s, one line per canned response, for a failure
// message.
func (s *Site) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "site %d", s.Seed)
	for _, f := range []struct {
		on   bool
		name string
	}{{s.BadCert, "bad certificate"}, {s.NoHTTP, "no http"}, {s.NoHTTPS, "no https"}} {
		if f.on {
			b.WriteString(", " + f.name)
		}
	}
	b.WriteString("\n")
	var line func(scheme, method, target string, r Response)
	line = func(scheme, method, target string, r Response) {
		fmt.Fprintf(&b, "  %s %s %s -> %d", scheme, method, target, r.Status)
		for _, kv := range r.Header {
			if kv[0] == "Content-Type" && strings.HasPrefix(kv[1], "text/") {
				continue
			}
			fmt.Fprintf(&b, " | %s: %s", kv[0], kv[1])
		}
		if len(r.Body) > 0 && r.Status < 300 {
			fmt.Fprintf(&b, " | body %q", r.Body)
		}
		b.WriteString("\n")
		if v := r.IfCookie; v != nil {
			line(scheme, method, target+" (with cookie "+v.Name+")", *v.Response)
		}
	}
	for _, srv := range []struct {
		scheme string
		s      *Server
	}{{"http", &s.HTTP}, {"https", &s.HTTPS}} {
		for _, target := range slices.Sorted(maps.Keys(srv.s.GET)) {
			line(srv.scheme, "GET", target, srv.s.GET[target])
		}
		for _, target := range slices.Sorted(maps.Keys(srv.s.OptionsAt)) {
			line(srv.scheme, "OPTIONS", target, srv.s.OptionsAt[target])
		}
		line(srv.scheme, "OPTIONS", "*", srv.s.Options)
		line(srv.scheme, "GET", "*", srv.s.NotFound)
	}
	return b.String()
}

// New generates the site of seed.
func New(seed uint64) *Site {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x6f6273)), s: &Site{Seed: seed}}
	g.s.HTTP = Server{GET: map[string]Response{}}
	g.s.HTTPS = Server{GET: map[string]Response{}}
	g.names = g.cookieNames()
	g.s.BadCert = g.chance(8)
	g.s.NoHTTP = g.chance(12)
	g.s.NoHTTPS = g.chance(14)

	// The HTTPS session first: the HTTP one often ends on its start.
	g.build(true, "/", g.chainLength())
	switch g.r.IntN(10) {
	case 0: // a page of its own
		g.s.HTTP.GET["/"] = g.page(false)
	case 1: // straight to the HTTPS start, as most sites do
		g.s.HTTP.GET["/"] = g.hop(false, g.location("/", false, true, "/"))
	default:
		g.build(false, "/", 1+g.chainLength())
	}
	for _, https := range []bool{false, true} {
		srv := g.server(https)
		srv.NotFound = g.notFound()
		srv.Options = g.options(https)
		g.robots(https)
	}
	return g.s
}

type gen struct {
	r     *rand.Rand
	s     *Site
	names []string
	n     int // paths handed out
}

func (g *gen) chance(oneIn int) bool { return g.r.IntN(oneIn) == 0 }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) server(https bool) *Server {
	if https {
		return &g.s.HTTPS
	}
	return &g.s.HTTP
}

// chainLength is how many redirects a session makes: mostly a few, now
// and then past the Observatory's limit of ten.
func (g *gen) chainLength() int {
	if g.chance(25) {
		return 10 + g.r.IntN(3)
	}
	return []int{0, 0, 1, 1, 1, 2, 2, 3, 4}[g.r.IntN(9)]
}

// build makes target on one server the start of a chain of n redirects
// ending on a page; hops may change scheme on the way.
func (g *gen) build(https bool, target string, n int) {
	srv := g.server(https)
	if n == 0 {
		srv.GET[target] = g.page(https)
		return
	}
	if g.chance(40) {
		// A dead end: the session fails, cookies and all.
		srv.GET[target] = g.hop(https, g.pick("http", "https")+"://localhost:{closed}/gone")
		return
	}
	nextHTTPS := https
	switch {
	case !https && g.r.IntN(3) > 0:
		nextHTTPS = true // upgrade
	case https && g.chance(10):
		nextHTTPS = false // downgrade
	}
	next := g.path()
	if nextHTTPS && !https && g.chance(3) {
		// Land on the HTTPS start: the two sessions share its chain.
		next = "/"
		srv.GET[target] = g.hop(https, g.location(target, https, nextHTTPS, next))
		if _, ok := g.s.HTTPS.GET["/"]; ok {
			return
		}
	} else {
		srv.GET[target] = g.hop(https, g.location(target, https, nextHTTPS, next))
	}
	if g.chance(4) {
		// Whoever sends a cookie of the site's goes elsewhere: the
		// chain followed depends on the cookies each scanner keeps and
		// sends.
		alt := g.path()
		resp := srv.GET[target]
		v := g.hop(https, g.location(target, https, https, alt))
		resp.IfCookie = &Variant{Name: g.names[g.r.IntN(len(g.names))], Response: &v}
		srv.GET[target] = resp
		g.build(https, alt, max(0, n-2))
	}
	g.build(nextHTTPS, next, n-1)
}

// path returns a fresh request target, in the shapes that change a
// cookie's default path: nested, with a trailing slash, with a query that
// holds slashes, with escapes.
func (g *gen) path() string {
	g.n++
	n := g.n
	switch g.r.IntN(9) {
	case 0:
		return fmt.Sprintf("/h%d", n)
	case 1:
		return fmt.Sprintf("/a/h%d", n)
	case 2:
		return fmt.Sprintf("/a/b/h%d/", n)
	case 3:
		return fmt.Sprintf("/h%d?next=/a/b/c", n)
	case 4:
		return fmt.Sprintf("/a/h%d?x=1&y=/z/", n)
	case 5:
		return fmt.Sprintf("/x%%25y/h%d", n)
	case 6:
		return fmt.Sprintf("/a%%20b/h%d/c", n)
	case 7:
		return fmt.Sprintf("/h%d;p=/q/r", n)
	default:
		return fmt.Sprintf("/sess/h%d", n)
	}
}

// location spells a redirect from a server to target on a server, in one
// of the ways sites do: absolute (with another spelling of the host now and
// then), scheme-relative, path-absolute or relative.
func (g *gen) location(from string, fromHTTPS, toHTTPS bool, target string) string {
	scheme, port := "http", "{http}"
	if toHTTPS {
		scheme, port = "https", "{https}"
	}
	host := "localhost"
	switch g.r.IntN(12) {
	case 0:
		host = "127.0.0.1"
	case 1:
		host = "LocalHost"
	}
	abs := scheme + "://" + host + ":" + port + target
	if fromHTTPS != toHTTPS {
		return abs
	}
	switch g.r.IntN(6) {
	case 0:
		return "//" + host + ":" + port + target
	case 1, 2:
		return target
	case 3:
		// Relative to the hop's directory, when target lies below it.
		dir, _, _ := strings.Cut(from, "?")
		dir = dir[:strings.LastIndex(dir, "/")+1]
		if rel, ok := strings.CutPrefix(target, dir); ok && rel != "" && !strings.HasPrefix(rel, "/") {
			return rel
		}
	}
	return abs
}

// hop is a redirect response that sets cookies. Now and then its status
// is a 3xx that the page sessions do not follow and the follow-up
// requests do.
func (g *gen) hop(https bool, loc string) Response {
	status := []int{301, 302, 303, 307, 308}[g.r.IntN(5)]
	if g.chance(25) {
		status = []int{300, 304, 305, 306}[g.r.IntN(4)]
	}
	h := [][2]string{{"Location", loc}, {"Content-Type", "text/html; charset=utf-8"}}
	if https && g.chance(3) {
		h = append(h, [2]string{"Strict-Transport-Security", g.pick("max-age=63072000", "max-age=0", "max-age=300")})
	}
	for n := g.r.IntN(5); n > 0; n-- {
		h = append(h, [2]string{"Set-Cookie", g.cookie()})
	}
	return Response{Status: status, Header: h, Body: "<a href=\"" + loc + "\">moved</a>"}
}

// cookieNames picks the few names a site's cookies use, so that later
// responses overwrite and delete what earlier ones set.
func (g *gen) cookieNames() []string {
	pool := []string{
		"sessionid", "csrftoken", "__Host-sess", "__Secure-login", "pref", "LOGIN_TOKEN",
		"heroku-session-affinity", "XSRF-CSRF", "lang", "__host-lower", "1", "2fa_sess", "theme",
		"__Secure-csrf", "_app_session", "tracking",
	}
	g.r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return pool[:2+g.r.IntN(4)]
}

// cookie returns one Set-Cookie line: a cookie set, overwritten or
// deleted, with attributes in any order and spelling.
func (g *gen) cookie() string {
	name := g.names[g.r.IntN(len(g.names))]
	value := fmt.Sprintf("v%d", g.r.IntN(1000))
	var attrs []string
	switch g.r.IntN(10) {
	case 0, 1: // deletion, as frameworks do it
		value = ""
		attrs = append(attrs, g.pick("Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=-1",
			"Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:01 GMT", "expires=Sat, 01-Jan-2000 00:00:00 GMT"))
	case 2: // an expiry that only some parsers read
		attrs = append(attrs, g.pick("Max-Age=abc", "Max-Age=-0", "Max-Age= 0", "Expires=bogus",
			"Expires=Wed, 01 Jan 69 00:00:00 GMT", "Expires=01-Jan-70 00:00:00 GMT",
			"Expires=Fri, 31 Dec 1999 23:59:59 GMT; Max-Age=3600", "Max-Age=3600; Expires=Fri, 31 Dec 1999 23:59:59 GMT",
			"Expires=Thu, 01 Jan 2099 00:00:00 GMT", "Expires=1 Jan 1990 00:00:00", "Expires=Jan 1 00:00:00 1990 GMT",
			"Expires=Thu, 01 Jan 1970 24:00:00 GMT", "Expires=Thu, 32 Jan 1970 00:00:00 GMT"))
	case 3:
		attrs = append(attrs, "Max-Age="+g.pick("3600", "31536000", "86400"))
	}
	switch g.r.IntN(10) {
	case 0, 1, 2:
		attrs = append(attrs, "Path=/")
	case 3:
		attrs = append(attrs, "Path=/a")
	case 4:
		attrs = append(attrs, g.pick("Path=/a/", "Path=/sess", "Path=relative", "Path=", "path=/A"))
	}
	switch g.r.IntN(12) {
	case 0:
		attrs = append(attrs, "Domain=localhost")
	case 1:
		attrs = append(attrs, "Domain=.localhost")
	case 2:
		attrs = append(attrs, g.pick("Domain=127.0.0.1", "Domain=example.com", "Domain=LOCALHOST", "Domain=", "Domain=local"))
	}
	if g.r.IntN(2) == 0 {
		attrs = append(attrs, g.pick("Secure", "Secure", "secure", "SECURE", "Secure=false"))
	}
	if g.r.IntN(2) == 0 {
		attrs = append(attrs, g.pick("HttpOnly", "httponly"))
	}
	switch g.r.IntN(8) {
	case 0, 1:
		attrs = append(attrs, "SameSite=Lax")
	case 2:
		attrs = append(attrs, g.pick("SameSite=Strict", "samesite=strict"))
	case 3:
		attrs = append(attrs, g.pick("SameSite=None", "SameSite=none"))
	case 4:
		attrs = append(attrs, g.pick("SameSite=", "SameSite", "SameSite=Bogus", "SameSite = Lax", "SameSite=Lax; SameSite=Bogus"))
	}
	g.r.Shuffle(len(attrs), func(i, j int) { attrs[i], attrs[j] = attrs[j], attrs[i] })
	line := name + "=" + value
	for _, a := range attrs {
		line += g.pick("; ", ";", " ; ") + a
	}
	return line
}

// page is a final page with the headers and markup the Observatory reads.
func (g *gen) page(https bool) Response {
	h := [][2]string{{"Content-Type", g.pick("text/html; charset=utf-8", "text/html; charset=utf-8", "text/html",
		"application/json", "TEXT/HTML")}}
	add := func(oneIn int, name string, values ...string) {
		if g.chance(oneIn) {
			h = append(h, [2]string{name, g.pick(values...)})
		}
	}
	add(2, "Content-Security-Policy",
		"default-src 'none'; frame-ancestors 'none'", "default-src 'self'", "script-src 'self' 'unsafe-inline'",
		"default-src 'self'; img-src http:", "default-src https:; object-src 'none'",
		"script-src 'nonce-abc' 'strict-dynamic'; object-src 'none'; base-uri 'none'",
		"default-src 'self'; script-src 'self' 'unsafe-eval'", "frame-ancestors 'self'", "upgrade-insecure-requests",
		"default-src 'self'; style-src 'unsafe-inline'")
	add(6, "Content-Security-Policy-Report-Only", "default-src 'none'")
	if https {
		add(2, "Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload", "max-age=31536000",
			"max-age=15552000", "max-age=300", "max-age=abc", "max-age=0", "includeSubDomains")
	} else {
		add(6, "Strict-Transport-Security", "max-age=31536000")
	}
	add(3, "X-Frame-Options", "DENY", "SAMEORIGIN", "ALLOW-FROM https://a.example", "bogus")
	add(3, "X-Content-Type-Options", "nosniff", "sniff")
	add(3, "Referrer-Policy", "no-referrer", "strict-origin-when-cross-origin", "unsafe-url", "origin, same-origin", "bogus")
	add(3, "Cross-Origin-Resource-Policy", "same-origin", "same-site", "cross-origin", "nope")
	add(5, "Access-Control-Allow-Origin", "*", "https://a.example")
	for n := g.r.IntN(4); n > 0; n-- {
		h = append(h, [2]string{"Set-Cookie", g.cookie()})
	}
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>t</title>")
	if g.chance(5) {
		b.WriteString(`<meta http-equiv="Content-Security-Policy" content="` + g.pick("default-src 'none'", "script-src 'unsafe-inline'", "frame-ancestors 'none'") + `">`)
	}
	if g.chance(6) {
		b.WriteString(`<meta name="referrer" content="` + g.pick("no-referrer", "unsafe-url") + `">`)
	}
	b.WriteString("</head><body>")
	for n := g.r.IntN(3); n > 0; n-- {
		b.WriteString(g.pick(
			`<script src="/app.js"></script>`,
			`<script src="/app.js" integrity="sha384-abc"></script>`,
			`<script src="https://cdn.example.com/lib.js"></script>`,
			`<script src="https://cdn.example.com/lib.js" integrity="sha384-abc" crossorigin="anonymous"></script>`,
			`<script src="http://cdn.example.com/lib.js" integrity="sha384-abc"></script>`,
			`<script src="http://cdn.example.com/lib.js"></script>`,
			`<script src="//cdn.example.com/lib.js"></script>`,
			`<script>inline()</script>`))
	}
	b.WriteString("<p>hello</p></body></html>")
	status := 200
	if g.chance(8) {
		status = []int{401, 403, 404, 500, 204}[g.r.IntN(5)]
	}
	return Response{Status: status, Header: h, Body: b.String()}
}

// notFound answers unknown targets, now and then with a cookie: the
// Observatory's /robots.txt often lands there.
func (g *gen) notFound() Response {
	h := [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}
	if g.chance(3) {
		h = append(h, [2]string{"Set-Cookie", g.cookie()})
	}
	return Response{Status: 404, Header: h, Body: "not found"}
}

// robots gives a server its /robots.txt: absent, there, or behind
// redirects, with cookies on the way.
func (g *gen) robots(https bool) {
	srv := g.server(https)
	txt := func() Response {
		h := [][2]string{{"Content-Type", "text/plain"}}
		for n := g.r.IntN(3); n > 0; n-- {
			h = append(h, [2]string{"Set-Cookie", g.cookie()})
		}
		status := 200
		if g.chance(4) {
			status = g.pick2(404, 500)
		}
		return Response{Status: status, Header: h, Body: "User-agent: *\nDisallow:\n"}
	}
	switch g.r.IntN(7) {
	case 0: // none: the not-found page answers
	case 1, 2:
		srv.GET["/robots.txt"] = txt()
	case 3: // moved on the same server
		next := "/static/robots.txt"
		srv.GET["/robots.txt"] = g.hop(https, g.pick(next, "static/robots.txt", g.location("/robots.txt", https, https, next)))
		srv.GET[next] = txt()
	case 4: // two hops
		srv.GET["/robots.txt"] = g.hop(https, "/r1/robots.txt")
		srv.GET["/r1/robots.txt"] = g.hop(https, "/r2/robots.txt")
		srv.GET["/r2/robots.txt"] = txt()
	case 6: // a redirect without a Location: final, and a failure
		r := g.hop(https, "")
		r.Header = slices.DeleteFunc(r.Header, func(kv [2]string) bool { return kv[0] == "Location" })
		srv.GET["/robots.txt"] = r
	case 5: // to the other server
		other := g.server(!https)
		srv.GET["/robots.txt"] = g.hop(https, g.location("/robots.txt", https, !https, "/robots.txt"))
		if _, ok := other.GET["/robots.txt"]; !ok {
			other.GET["/robots.txt"] = txt()
		}
	}
}

func (g *gen) pick2(a, b int) int {
	if g.r.IntN(2) == 0 {
		return a
	}
	return b
}

// options is a server's answer to the CORS preflight.
func (g *gen) options(https bool) Response {
	var h [][2]string
	status := []int{200, 204, 204, 405, 404}[g.r.IntN(5)]
	switch g.r.IntN(4) {
	case 0:
		h = append(h, [2]string{"Access-Control-Allow-Origin", "*"})
	case 1:
		h = append(h, [2]string{"Access-Control-Allow-Origin", "https://http-observatory.security.mozilla.org"},
			[2]string{"Access-Control-Allow-Credentials", "true"})
	case 2:
		h = append(h, [2]string{"Access-Control-Allow-Origin", g.pick("null", "https://a.example", "")})
	}
	if g.chance(3) {
		h = append(h, [2]string{"Set-Cookie", g.cookie()})
	}
	if g.chance(6) {
		// Preflights of one target move elsewhere.
		srv := g.server(https)
		targets := slices.Sorted(maps.Keys(srv.GET))
		for _, target := range targets {
			if g.chance(2) {
				if srv.OptionsAt == nil {
					srv.OptionsAt = map[string]Response{}
				}
				srv.OptionsAt[target] = g.hop(https, "/cors-ok")
			}
		}
		if srv.OptionsAt != nil {
			srv.OptionsAt["/cors-ok"] = Response{Status: 200, Header: slices.Clone(h)}
		}
	}
	return Response{Status: status, Header: h}
}
