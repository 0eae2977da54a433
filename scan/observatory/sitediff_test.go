package observatory

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca/localcatest"
)

// randomSite builds a site from pieces chosen to reach every result of
// every test, and the Observatory's quirks: random security headers
// (sometimes repeated, sometimes empty), cookies with every attribute,
// and pages with scripts, <meta> policies, <base>, SVG, templates and
// style attributes.
func randomSite(r *rand.Rand, i int) site {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	h := http.Header{}
	maybe := func(name string, values ...string) {
		for n := r.IntN(3); n > 0; n-- {
			h.Add(name, pick(values...))
		}
	}
	maybe("Content-Security-Policy", randomPolicy(r), randomPolicy(r), "", "default-src 'none'; frame-ancestors 'none'")
	maybe("Content-Security-Policy-Report-Only", "default-src 'self'")
	maybe("Strict-Transport-Security", "max-age=63072000; includeSubDomains", "max-age=300", "max-age=abc", "includeSubDomains", "", "max-age=15552000")
	maybe("Referrer-Policy", "no-referrer", "unsafe-url", "origin, strict-origin", "whimsy", "")
	maybe("X-Frame-Options", "DENY", "sameorigin", "ALLOW-FROM https://a.example", "bogus", "")
	maybe("X-Content-Type-Options", "nosniff", "NoSniff ", "sniff", "")
	maybe("Cross-Origin-Resource-Policy", "same-site", "same-origin", "cross-origin", "nope", " ")
	maybe("Access-Control-Allow-Origin", "*", "https://a.example", CORSOrigin)
	maybe("Access-Control-Allow-Credentials", "true")
	maybe("Content-Type", "text/html", "text/html; charset=utf-8", "application/json", "TEXT/HTML", "application/xhtml+xml")
	maybe("Set-Cookie",
		"sessionid=1", "sessionid=1; Secure; HttpOnly; SameSite=Lax", "csrftoken=2; Secure",
		"csrftoken=2; Secure; SameSite=Strict", "pref=3; SameSite=None", "pref=3; Secure; SameSite=None",
		"LOGIN=4; Secure", "x=5; SameSite=", "x=5; Secure; SameSite=Bogus", "__Host-a=6; Secure; Path=/",
		"__Secure-b=7", "c=8; Domain=localhost; Secure; SameSite=Lax", "d=9; Domain=example.com",
		"heroku-session-affinity=1", "e=10; Max-Age=0; Secure; SameSite=Lax", "noequals",
		"f=1; SECURE; HTTPONLY; SAMESITE=LAX", "sess = 2 ; secure ; samesite = strict", "g=1; Secure=false",
		"h=1; Domain=.localhost; Secure; SameSite=None", "i=1; Path=/sub; Secure; SameSite=Lax",
		"j=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "k=1; Secure; SameSite=Lax; SameSite=Bogus",
		"__Host-l=1; Secure", "__Host-m=1; Secure; Path=/x", "csrf_token=1; HttpOnly; Secure; SameSite")

	scripts := []string{
		`<script src="/a.js"></script>`, `<script src="/a.js" integrity="sha384-x"></script>`,
		`<script src="https://cdn.example.com/b.js"></script>`,
		`<script src="https://cdn.example.com/b.js" integrity="sha384-x" crossorigin="anonymous"></script>`,
		`<script src="http://cdn.example.com/c.js"></script>`, `<script src="http://cdn.example.com/c.js" integrity="sha384-x"></script>`,
		`<script src="//cdn.example.com/d.js"></script>`, `<script src="//cdn.example.com/d.js" integrity="sha256-y"></script>`,
		`<script src="https://localhost/e.js"></script>`, `<script src="https://sub.localhost/e.js"></script>`,
		`<script src="https://127.0.0.1/f.js"></script>`, `<script>inline()</script>`, `<script src=""></script>`,
		`<script src="data:text/javascript,1"></script>`, `<svg><script href="https://x.example/g.js"></script></svg>`,
		`<template><script src="http://x.example/h.js"></script></template>`, `<script src="  https://cdn.example.com/i.js  "></script>`,
		`<script src="HTTPS://CDN.EXAMPLE.COM/j.js" integrity="sha512-z"></script>`,
		`<script src="javascript:void(0)"></script>`, `<script src="http://localhost/k.js"></script>`,
		`<script src=" //cdn.example.com/l.js"></script>`, `<script src="\\cdn.example.com\m.js"></script>`,
		`<script src="/\cdn.example.com/n.js"></script>`, `<script src="https://user@cdn.example.com/o.js"></script>`,
		`<script src="https://cdn.example.com:443/p.js" integrity=""></script>`, `<script src="a.js" integrity="sha384-q"></script>`,
		`<script src="https://bücher.example/q.js"></script>`, `<script src="https://www.localhost/r.js"></script>`,
		`<script src="?x"></script>`, `<script src="#y"></script>`, `<SCRIPT SRC="https://cdn.example.com/s.js" INTEGRITY="sha384-x"></SCRIPT>`,
		`<script src="https://cdn.example.com/t.js" src="http://cdn.example.com/t2.js"></script>`,
		`<!-- <script src="http://x.example/c.js"></script> -->`, `<textarea><script src="http://x.example/t.js"></script></textarea>`,
		`<table><script src="http://x.example/tb.js"></script><tr><td>x</td></tr></table>`,
		`<select><script src="http://x.example/s.js"></script></select>`, `<math><script src="http://x.example/m.js"></script></math>`,
		`<iframe><script src="http://x.example/i.js"></script></iframe>`, `<noembed><script src="http://x.example/ne.js"></script></noembed>`,
		`<xmp><script src="http://x.example/x.js"></script></xmp>`, `<plaintext><script src="http://x.example/p.js">`,
		`<script src="http://x.example/unclosed.js">`, `<script src=http://x.example/unquoted.js></script>`,
		`<svg><foreignObject><script src="http://x.example/fo.js"></script></foreignObject></svg>`,
		`<title><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></title>`,
		`<svg><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></svg>`,
		`<noscript><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></noscript>`,
	}
	extras := []string{
		`<base href="https://cdn.example.com/">`, `<base href="/relative/">`, `<base href="//cdn.example.com/">`,
		`<base href="http://localhost/">`, `<base href="">`, `<base target="_top">`, `<base href="javascript:x">`,
		`<meta name="referrer" content="">`, `<meta name="referrer" http-equiv="x" content="no-referrer">`,
		`<meta http-equiv="Content-Security-Policy">`, `<meta http-equiv="Content-Security-Policy" content="">`,
		`<meta content="default-src 'none'" http-equiv="content-security-policy ">`,
		`<meta name="referrer" content="unsafe-url">`, `<meta name="REFERRER" content=" no-referrer ">`,
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'">`,
		`<meta http-equiv="content-security-policy" content="frame-ancestors 'none'">`,
		`<meta http-equiv=" Content-Security-Policy " content="script-src 'self' 'unsafe-inline'; img-src http:">`,
		`<meta http-equiv="Content-Security-Policy" content="` + randomPolicy(r) + `">`,
		`<meta http-equiv="X-Frame-Options" content="DENY">`, `<div style="@media screen{color:red"></div>`,
		`<div style="color:red">`, `<noscript><script src="http://x.example/n.js"></script></noscript>`,
	}
	var body strings.Builder
	switch r.IntN(8) {
	case 0:
		body.WriteString(`{"k":"<script src=\"http://x.example/j.js\"></script>"}`)
	case 1:
		body.WriteString(`"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"><script src=\"http://x.example/k.js\"></script>"`)
	default:
		body.WriteString("<!doctype html><html><head>")
		for n := r.IntN(4); n > 0; n-- {
			body.WriteString(pick(extras...))
		}
		body.WriteString("</head><body>")
		for n := r.IntN(4); n > 0; n-- {
			body.WriteString(pick(scripts...))
		}
		body.WriteString("</body></html>")
	}
	status := []int{200, 200, 200, 200, 401, 403, 404, 204}[r.IntN(8)]
	https := page(h, status, body.String())

	s := site{name: fmt.Sprintf("random-%d", i), https: static(https), badCert: r.IntN(10) == 0,
		desc: fmt.Sprintf("status %d, header %q, body %q", status, h, body.String())}
	kind := r.IntN(9)
	s.desc = fmt.Sprintf("http kind %d, ", kind) + s.desc
	switch kind {
	case 6:
		s.http = func(p *ports) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/" {
					w.Header().Set("Location", "/hop")
					w.WriteHeader([]int{301, 302, 303, 307, 308}[len(r.URL.RawQuery)%5])
					return
				}
				w.Header().Set("Location", fmt.Sprintf("//localhost:%d/", p.https))
				w.WriteHeader(http.StatusFound)
			}
		}
	case 7:
		s.http = func(p *ports) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", fmt.Sprintf("HTTPS://LOCALHOST:%d\\x", p.https))
				w.WriteHeader(http.StatusMovedPermanently)
			}
		}
	case 8:
		s.http = func(p *ports) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
				if n < 9 {
					http.Redirect(w, r, fmt.Sprintf("/%d", n+1), http.StatusTemporaryRedirect)
					return
				}
				http.Redirect(w, r, fmt.Sprintf("https://localhost:%d/", p.https), http.StatusFound)
			}
		}
	case 0:
		s.http = static(page(http.Header{"Set-Cookie": {"plain=1"}}, 200, body.String()))
	case 1:
		s.http = func(p *ports) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, fmt.Sprintf("https://127.0.0.1:%d/", p.https), http.StatusFound)
			}
		}
	case 2:
		s.noHTTP = true
		s.http = toHTTPS
	default:
		s.http = toHTTPS
	}
	if r.IntN(12) == 0 {
		s.noHTTPS = true
	}
	return s
}

func TestRandomSitesDifferentialWithTheObservatory(t *testing.T) {
	dir := observatoryDir(t)
	// HTTPSGUARD_SITE_CASES=n scans n random sites instead of 40 (and
	// with a seed of its own), for a longer hunt.
	n, seed := 40, uint64(15)
	if v, err := strconv.Atoi(os.Getenv("HTTPSGUARD_SITE_CASES")); err == nil && v > 0 {
		n, seed = v, uint64(time.Now().UnixNano())
		if v, err := strconv.ParseUint(os.Getenv("HTTPSGUARD_SITE_SEED"), 10, 64); err == nil {
			seed = v
		}
		t.Logf("seed %d", seed)
	}
	r := rand.New(rand.NewPCG(seed, 16))
	var sites []site
	for i := range n {
		sites = append(sites, randomSite(r, i))
	}
	compareWithObservatory(t, dir, sites, localcatest.New(t), localcatest.New(t))
}
