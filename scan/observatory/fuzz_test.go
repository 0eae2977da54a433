package observatory

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func FuzzObservatoryCSP(f *testing.F) {
	for _, s := range []string{
		"default-src 'none'; script-src 'self' https://mozilla.org",
		"default-src https://mozilla.org/firefox/\ndefault-src https://mozilla.org/firefox/download/",
		"default-src https://a.example/%zz/x\ndefault-src https://a.example/%zz/y",
		"report-uri /a; report-uri /b",
		"default-src 'none'; default-src 'none'",
		"img-src http: https: h\nimg-src http:",
		"defa",
		"script-src 'nonce-x' 'strict-dynamic' 'unsafe-inline' https://*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		policies := strings.Split(s, "\n")
		c, err := parseObservatoryCSP(policies)
		if err == nil {
			for _, k := range c.keys {
				if c.get(k) == nil {
					t.Fatalf("directive %q without sources", k)
				}
			}
		}
		_, _ = parseObservatoryMetaCSP(policies)
	})
}

func FuzzAnalyze(f *testing.F) {
	f.Add("default-src 'none'", "sess=1; Secure; HttpOnly; SameSite=Lax", "max-age=63072000", "https://localhost/", `<meta http-equiv="content-security-policy" content="img-src 'self'"><script src="//a.example/x.js"></script>`)
	f.Add("script-src 'strict-dynamic'", "=x", "max-age=abc, max-age=1", "", `{"a":1}`)
	f.Add("", "__Host-a=1; Domain=x", "", "\\\\evil.example", `<div style="@media x{"></div><base href="https://c.example/"><script src="/a.js" integrity="x"></script>`)
	f.Add("default-src https://a/%E0%A4%A/", "a=1; SameSite", "includeSubDomains", "ftp://x/", "\xef\xbb\xbf\"<svg><script></script></svg>\"")
	f.Fuzz(func(t *testing.T, csp, cookie, hsts, location, body string) {
		h := http.Header{}
		for k, v := range map[string]string{
			"Content-Security-Policy": csp, "Set-Cookie": cookie, "Strict-Transport-Security": hsts,
			"Referrer-Policy": csp, "X-Frame-Options": hsts, "Access-Control-Allow-Origin": location,
		} {
			h.Add(k, v)
		}
		in := siteInput(h, body)
		in.CORS = &Response{URL: "https://mozilla.org/", Status: 200, Header: h}
		in.HTTPS.Verified = len(body)%2 == 0
		rep := Analyze(in)
		if rep.Err != nil {
			t.Fatalf("Analyze: %v", rep.Err)
		}
		if len(rep.Tests) != len(TestNames) {
			t.Fatalf("%d tests", len(rep.Tests))
		}
		for _, tt := range rep.Tests {
			if _, ok := scoreTable[tt.Result]; !ok {
				t.Fatalf("%s: unknown result %q", tt.Name, tt.Result)
			}
		}
		if _, grade := Grade(rep.Score); grade != rep.Grade || rep.Score < 0 {
			t.Fatalf("score %d grade %s", rep.Score, rep.Grade)
		}
		redirect := &Response{Status: 302, Header: http.Header{"Location": {location}}}
		if next, follow, err := NextURL("http://mozilla.org/a/b", redirect, 0); err == nil && follow && next == "" {
			t.Fatalf("empty next URL for %q", location)
		}
		var jar cookieJar
		jar.exchange("https://mozilla.org/a/b", []string{cookie}, time.Now())
		jar.exchange(location, []string{cookie}, time.Now())
	})
}

func FuzzCookieJar(f *testing.F) {
	f.Add("https://localhost/login?next=/a/b", "sess=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/")
	f.Add("https://localhost/x%25y/%E2%82/z", "a=1; Max-Age=-0; Domain=.localhost")
	f.Add("http://a.b.example.co.uk/a/%2e%2e/b\\c", "__Host-a=1; Secure; Path=/; Expires=3:4:5 1 dec. 69")
	f.Add("https://[::1]:8443/", "a=1")
	f.Fuzz(func(t *testing.T, rawURL, cookie string) {
		now := time.Now()
		var jar cookieJar
		for range 2 {
			jar.exchange(rawURL, []string{cookie, cookie + "; Max-Age=0"}, now)
		}
		for _, c := range jar.cookies {
			if c.domain == "" || c.path == "" || c.path[0] != '/' {
				t.Fatalf("stored %+v", c)
			}
		}
		if ctx, ok := contextOf(rawURL); ok && (ctx.path == "" || ctx.path[0] != '/') {
			t.Fatalf("context %+v of %q", ctx, rawURL)
		}
	})
}
