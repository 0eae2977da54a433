package observatory

import (
	"testing"
	"time"
)

// The expectations below were read from tough-cookie 5.1.2 driven as
// http-cookie-agent drives it (crosscheck/cookies.mjs checks the same rules
// on random cases).

func TestJarPathOfARequest(t *testing.T) {
	for _, tc := range []struct{ url, cookiePath string }{
		{"https://localhost/login?next=/a/b", "/login%3Fnext=/a"}, // url.format escapes "?"
		{"https://localhost/x%25y/z", "/x%y"},                     // decodeURI undoes %25
		{"https://localhost/a%20b/c/", "/a%20b/c"},
		{"https://localhost/a/%2e%2e/b/c", "/b"}, // decoded, then resolved
		{"https://localhost/%E2%82/x", "/%E2%82"},
		{"https://localhost/a%5Cb/c", "/a/b"}, // a backslash is a slash
		{"https://localhost/p/?a?b/c", "/p/%3Fa%3Fb"},
		{"https://localhost/a%2Fb/c", "/a%2Fb"}, // reserved escapes stay
		{"https://localhost/%7Bx%7D/%22y/z", "/%7Bx%7D/%22y"},
		{"https://localhost", "/"},
	} {
		var jar cookieJar
		jar.exchange(tc.url, []string{"a=1"}, time.Now())
		if len(jar.cookies) != 1 || jar.cookies[0].path != tc.cookiePath {
			t.Errorf("a cookie set by %s: jar %+v, want path %q", tc.url, jar.cookies, tc.cookiePath)
		}
	}
}

func TestJarRefusesIPv6Hosts(t *testing.T) {
	// http-cookie-agent rebuilds "https://::1/": tough-cookie cannot parse
	// it and the agent fails the request.
	var jar cookieJar
	if jar.exchange("https://[::1]:8443/", []string{"a=1"}, time.Now()) {
		t.Fatal("the jar accepted a request to an IPv6 literal")
	}
}

func TestCookieDates(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
		{"Thu, 01 Jan 1970 24:00:00 GMT", ""},
		{"09-Jun-21 10:18:14", "2021-06-09T10:18:14Z"},
		{"Jan 1 2099 00:00:00", "2099-01-01T00:00:00Z"},
		{"Sun, 31 Feb 2099 01:02:03", "2099-03-03T01:02:03Z"}, // rolls over, as Date.UTC
		{"3:4:5 1 dec. 69", "2069-12-01T03:04:05Z"},
		{"1 ja 2000 00:00:00", ""},
		{"1600 Jan 1 00:00:00", ""},
		{"Wed, 01 Jan 69 00:00:00 GMT", "2069-01-01T00:00:00Z"},
		{"01-Jan-70 00:00:00 GMT", "1970-01-01T00:00:00Z"},
		{"", ""},
	} {
		got := ""
		if d, ok := parseCookieDate(tc.in); ok {
			got = d.Format(time.RFC3339)
		}
		if got != tc.want {
			t.Errorf("parseCookieDate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// hop is a response of a session's chain, with Set-Cookie lines.
func hop(status int, url string, cookies ...string) *Response {
	h := hdr("Content-Type", "text/html")
	for _, c := range cookies {
		h.Add("Set-Cookie", c)
	}
	return &Response{URL: url, Status: status, Header: h}
}

func TestJarAcrossTheRequestsOfASession(t *testing.T) {
	const (
		none           = CookiesNotFound
		sessionSecure  = CookiesSessionWithoutSecureFlag
		sessionHTTP    = CookiesSessionWithoutHttponlyFlag
		allGood        = CookiesSecureWithHttponlySessionsAndSamesite
		withoutSecure  = CookiesWithoutSecureFlag
		secureSameSite = "sess=1; Secure; HttpOnly; SameSite=Lax"
	)
	for _, tc := range []struct {
		name     string
		chain    []*Response
		verified bool
		robots   []*Response
		want     string
	}{{
		name: "a cookie deleted on a redirect is gone once the next hop is requested",
		chain: []*Response{
			hop(302, "https://h.example/", "sess=1; HttpOnly", "sess=; Max-Age=0"),
			hop(200, "https://h.example/home"),
		},
		verified: true, want: none,
	}, {
		name: "a cookie deleted by the final response stays in the jar",
		chain: []*Response{
			hop(302, "https://h.example/", secureSameSite),
			hop(200, "https://h.example/home", "tmp=; Max-Age=0"),
		},
		verified: true, want: withoutSecure,
	}, {
		name: "an expired cookie set with an Expires date in the past goes too",
		chain: []*Response{
			hop(302, "https://h.example/", "tmp=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
			hop(200, "https://h.example/home", secureSameSite),
		},
		verified: true, want: allGood,
	}, {
		name: "Max-Age wins over Expires",
		chain: []*Response{
			hop(302, "https://h.example/", "tmp=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
			hop(200, "https://h.example/home", secureSameSite),
		},
		verified: true, want: withoutSecure,
	}, {
		name: "an expiry that does not parse keeps the cookie",
		chain: []*Response{
			hop(302, "https://h.example/", "tmp=1; Expires=Thu, 01 Jan 1970 24:00:00 GMT"),
			hop(200, "https://h.example/home", secureSameSite),
		},
		verified: true, want: withoutSecure,
	}, {
		name: "an expired cookie for another path is not sent, so not dropped",
		chain: []*Response{
			hop(302, "https://h.example/a/b", "sess=; Max-Age=0"), // path /a
			hop(200, "https://h.example/home"),
		},
		verified: true, want: sessionSecure,
	}, {
		name: "an expired Secure cookie is not sent over http, so not dropped",
		chain: []*Response{
			hop(302, "https://h.example/", "sess=; Secure; Max-Age=0"),
			hop(200, "http://h.example/home"),
		},
		verified: true, want: sessionHTTP,
	}, {
		name: "a query with slashes makes a path that a deletion at / does not reach",
		chain: []*Response{
			hop(302, "https://h.example/login?next=/a/b", "sess=1; HttpOnly"), // path /login%3Fnext=/a
			hop(302, "https://h.example/logout", "sess=; Path=/; Max-Age=0"),
			hop(200, "https://h.example/home"),
		},
		verified: true, want: sessionSecure,
	}, {
		name: "an overwrite keeps the last attributes",
		chain: []*Response{
			hop(302, "https://h.example/", "sess=1"),
			hop(200, "https://h.example/home", "sess=2; Path=/; Secure; HttpOnly; SameSite=Lax"),
		},
		verified: true, want: allGood,
	}, {
		name: "the cookie jar of a verified session does not see robots.txt",
		chain: []*Response{
			hop(200, "https://h.example/", secureSameSite),
		},
		robots: []*Response{
			hop(301, "https://h.example/robots.txt", "tmp=1"),
			hop(200, "https://h.example/r/robots.txt"),
		},
		verified: true, want: allGood,
	}, {
		name: "after the unverified retry it does, on every https:// hop",
		chain: []*Response{
			hop(200, "https://h.example/", secureSameSite),
		},
		robots: []*Response{
			hop(301, "https://h.example/robots.txt", "tmp=1"),
			hop(404, "https://h.example/r/robots.txt"),
		},
		want: withoutSecure,
	}, {
		name: "and drops what it deletes on the way",
		chain: []*Response{
			hop(200, "https://h.example/", secureSameSite),
		},
		robots: []*Response{
			hop(301, "https://h.example/robots.txt", "tmp=1", "tmp=; Max-Age=0"),
			hop(200, "https://h.example/r/robots.txt"),
		},
		want: allGood,
	}, {
		name: "but not on http:// hops, which have no cookie agent",
		chain: []*Response{
			hop(200, "https://h.example/", secureSameSite),
		},
		robots: []*Response{
			hop(301, "https://h.example/robots.txt"),
			hop(200, "http://h.example/robots.txt", "tmp=1"),
		},
		want: allGood,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Hostname: "h.example", HTTP: Session{Failed: true}, RobotsChain: tc.robots}
			in.HTTPS = Session{Start: tc.chain[0].URL, Chain: tc.chain, Verified: tc.verified}
			if len(tc.robots) > 0 {
				in.Robots = tc.robots[len(tc.robots)-1]
			}
			if got := run(t, in, TestCookies); got.Result != tc.want {
				t.Errorf("cookies: %s, want %s (%+v)", got.Result, tc.want, got.Data)
			}
		})
	}
}
