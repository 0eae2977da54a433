package scan

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseHSTS(f *testing.F) {
	for _, s := range []string{"max-age=31536000; includeSubDomains; preload", "", ";;", "max-age", "max-age=01", "MAX-AGE=1;PRELOAD;preload", "max-age=99999999999999999999999", "max-age=\"1\"", "includeSubDomainsX"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, is := ParseHSTS(s)
		if h.HasMaxAge && !strings.Contains(strings.ToLower(s), "max-age=") {
			t.Fatalf("max-age found in %q", s)
		}
		if !h.HasMaxAge && h.MaxAge != 0 {
			t.Fatalf("MaxAge %d without HasMaxAge", h.MaxAge)
		}
		pre := PreloadableHeader(h)
		if len(pre.Errors) == 0 && (!h.Preload || !h.IncludeSubDomains || h.MaxAge < oneYear) {
			t.Fatalf("%q judged preloadable: %+v", s, h)
		}
		_ = is.Codes()
		// Where hstspreload's syntax finds a max-age, browsers find the same.
		if secs, ok := browserMaxAge(s); h.HasMaxAge && len(is.Errors) == 0 && !hasCode(is.Warnings, "header.parse.repeated.max_age") && (!ok || secs != h.MaxAge) {
			t.Fatalf("browserMaxAge(%q) = %d, %v; ParseHSTS found %d", s, secs, ok, h.MaxAge)
		}
	})
}

func FuzzParseSetCookie(f *testing.F) {
	for _, s := range []string{"sessionid=abc; Secure; HttpOnly; SameSite=Lax; Path=/", "a=b", "=", "a", "__Host-x=1; Secure; Path=/", "a=b;;;;samesite", "a=b; Domain=; Path"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSetCookie(s)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("error message is not valid UTF-8: %q", err.Error())
			}
			return
		}
		if c.Name == "" {
			t.Fatalf("accepted %q with an empty name", s)
		}
		if c.SameSiteValid && !c.HasSameSite {
			t.Fatalf("valid SameSite without one in %q", s)
		}
		_ = c.PrefixProblem()
		_ = c.SessionLike()
	})
}

func FuzzResolveLocation(f *testing.F) {
	for _, s := range []string{"/x", "https://example.com/", "//evil.test", "javascript:x", "http://[::1]:80/", "\\\\evil.test", "https://a@b/", "%zz", "http://x:99999/"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://example.com/a/b?c=d")
	f.Fuzz(func(t *testing.T, loc string) {
		u, err := resolveLocation(base, loc)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("%q resolved to scheme %q", loc, u.Scheme)
		}
		if u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("%q resolved to %v", loc, u)
		}
	})
}

func FuzzParsePage(f *testing.F) {
	for _, s := range []string{
		`<html><script src="http://x/a.js"></script><form method=post action="http://x/l"><input type=password></form></html>`,
		`<base href="http://evil/"><img src=a.png srcset="b.png 2x, , c.png">`,
		`<form><form><button formaction="http://x">`,
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'">`,
		"<style>#frame-0 .hljs-ln-line[data-line-number='1'] {}</style>",
		`<span>LARAVEL</span><span>12.0.0</span></div><div><span>PHP</span>`,
		"<", "",
	} {
		f.Add(s)
	}
	page, _ := url.Parse("https://example.com/")
	f.Fuzz(func(t *testing.T, body string) {
		_ = detectDebug([]byte(body))
		p := parsePage([]byte(body), page)
		for _, r := range p.subresources {
			if r.tag == "" || r.attr == "" {
				t.Fatalf("subresource without a tag: %+v", r)
			}
		}
		for _, fm := range p.forms {
			if fm.method == "" {
				t.Fatalf("form without a method: %+v", fm)
			}
		}
	})
}
