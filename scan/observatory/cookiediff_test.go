package observatory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cookieCase is a sequence of requests of one session: each sends the
// jar's cookies for its URL and stores its response's Set-Cookie lines;
// the last one is the page the cookies test reads.
type cookieCase struct {
	Exchanges []cookieExchange `json:"exchanges"`
	HSTS      bool             `json:"hsts"`
}

type cookieExchange struct {
	URL     string   `json:"url"`
	Cookies []string `json:"cookies"`
}

// randomSetCookie assembles a Set-Cookie line from names that trigger the
// session and anti-CSRF rules, every attribute in odd spellings, prefixes
// and domains inside and outside the request host.
func randomSetCookie(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	name := pick("a", "SESSIONID", "my_sess", "LoginToken", "csrftoken", "XSRF-CSRF", "__Secure-s", "__Host-h",
		"__secure-lower", "heroku-session-affinity", "", " spaced ", "x\x01y", "pref")
	line := name + pick("=1", "=", "", "=v=w", "= quoted ")
	for n := r.IntN(5); n > 0; n-- {
		line += pick(";", "; ", " ;", ";;") + pick(
			"Secure", "secure", "SECURE", "Secure=no", "HttpOnly", "httponly", "SameSite=Lax", "samesite=strict",
			"SameSite=None", "SameSite=none", "SameSite=", "SameSite", "SameSite=Bogus", "SameSite = Lax",
			"Path=/", "Path=/x", "path=relative", "Path=", "Domain=example.com", "Domain=.example.com",
			"Domain=a.example.com", "Domain=other.example", "Domain=com", "Domain=co.uk", "Domain=localhost",
			"Domain=127.0.0.1", "Domain=github.io", "Domain=", "Max-Age=0", "Max-Age=-1", "Max-Age=3600",
			"Max-Age=abc", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Expires=bogus", "Priority=High", "Partitioned",
			"Max-Age=-0", "Max-Age= 0", "Max-Age=+5", "Max-Age=1e3", "Max-Age="+strings.Repeat("9", 320),
			"Max-Age=-"+strings.Repeat("9", 320), "Max-Age=0; Max-Age=60", "Max-Age=60; Max-Age=x",
			"Expires=Wed, 09 Jun 2021 10:18:14 GMT", "Expires=Wed, 09 Jun 2100 10:18:14 GMT", "Expires=09-Jun-21 10:18:14",
			"Expires=Thu, 01 Jan 1970 24:00:00 GMT", "Expires=1 Jan 99 00:00:00", "Expires=Jan 1 2099 00:00:00",
			"expires=Sun, 31 Feb 2099 01:02:03", "Expires=Thu, 01 January 1970 0:0:0", "Expires=1601 Jan 1 1:2:3",
			"Expires=Jan 0 2000 00:00:00", "Expires=1600 Jan 1 00:00:00", "Expires=99999 Jan 1 00:00:00 1999",
			"Expires=1 Jan 2000 00:00:00:00 1999 12:00:00", "Expires=1 ja 2000 00:00:00", "Expires=3:4:5 1 dec. 69",
			"Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60", "Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
	}
	return line
}

func TestCookieDifferentialWithTheObservatory(t *testing.T) {
	dir := observatoryDir(t)
	// HTTPSGUARD_COOKIE_CASES=n runs n cases instead of 3000 (and a seed of
	// its own), for a longer hunt.
	n, seed := 3000, uint64(23)
	if v, err := strconv.Atoi(os.Getenv("HTTPSGUARD_COOKIE_CASES")); err == nil && v > 0 {
		n, seed = v, uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
	}
	r := rand.New(rand.NewPCG(seed, 42))
	urls := []string{
		"https://a.example.com/x/y", "https://example.com/", "http://localhost/", "https://localhost/p/",
		"https://127.0.0.1/p", "https://sub.example.co.uk/", "https://a.b.github.io/", "https://other.example/",
		"https://localhost/login?next=/a/b", "https://localhost/x%25y/z", "https://localhost/a%20b/c/",
		"https://localhost/a/%2e%2e/b/c", "https://localhost/%E2%82/x", "https://localhost/%C3%A9/x",
		"http://example.com/x/y?q=/r", "https://LOCALHOST/A/b", "https://localhost/a%5Cb/c", "https://x.y.localhost/p",
		"https://a.localhost/", "http://a.example.com/x/", "https://localhost/a%3Fb/c", "https://localhost/p/?a?b/c",
		"https://localhost/a%2Fb/c", "https://localhost/%7Bx%7D/%22y/z", "https://localhost/a;b/c;d",
	}
	var cases []cookieCase
	for range n {
		c := cookieCase{HSTS: r.IntN(2) == 0}
		for range 1 + r.IntN(4) {
			x := cookieExchange{URL: urls[r.IntN(len(urls))]}
			for j := r.IntN(4); j > 0; j-- {
				x.Cookies = append(x.Cookies, randomSetCookie(r))
			}
			c.Exchanges = append(c.Exchanges, x)
		}
		cases = append(cases, c)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("crosscheck", "cookies.mjs"))
	cmd.Env = append(os.Environ(), "OBSERVATORY_DIR="+dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node cookies.mjs: %v\n%s", err, stderr.String())
	}
	var want []struct {
		Result string   `json:"result"`
		Keys   []string `json:"keys"`
		Failed bool     `json:"failed"`
		Sent   []string `json:"sent"`
	}
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(cases) {
		t.Fatalf("node cookies.mjs output (%d verdicts for %d cases): %v", len(want), len(cases), err)
	}
	failures := 0
	now := time.Now()
	for i, c := range cases {
		var chain []*Response
		for _, x := range c.Exchanges {
			h := hdr("Content-Type", "text/html")
			for _, line := range x.Cookies {
				h.Add("Set-Cookie", line)
			}
			chain = append(chain, &Response{URL: x.URL, Status: 302, Header: h})
		}
		page := chain[len(chain)-1]
		page.Status = 200
		if c.HSTS {
			page.Header.Set("Strict-Transport-Security", "max-age=31536000")
		}
		in := siteInput(nil, "")
		in.HTTPS.Chain = chain
		in.Time = now
		got := run(t, in, TestCookies)
		var jar Jar
		failed := false
		var sent []string
		for _, x := range c.Exchanges {
			h, ok := jar.Request(x.URL, now)
			if !ok {
				failed = true
				break
			}
			sent = append(sent, h)
			jar.Response(x.URL, x.Cookies)
		}
		var keys []string
		for _, k := range jar.jar.cookies {
			expires := ""
			if k.expires != nil {
				expires = k.expires.UTC().Format("2006-01-02T15:04:05.000Z")
			}
			keys = append(keys, fmt.Sprintf("%s|%s|%s|%v|%v|%s|%v|%s", k.key, k.domain, k.path, k.secure, k.httpOnly, k.sameSite, k.expired(now), expires))
		}
		slices.Sort(keys)
		if got.Result != want[i].Result || !slices.Equal(keys, want[i].Keys) || failed != want[i].Failed || !slices.Equal(sent, want[i].Sent) {
			failures++
			if failures <= 10 {
				t.Errorf("case %d %+v hsts=%v:\n got  %s %q failed=%v sent %q\n want %s %q failed=%v sent %q", i, c.Exchanges, c.HSTS,
					got.Result, keys, failed, sent, want[i].Result, want[i].Keys, want[i].Failed, want[i].Sent)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d cases differ", failures, len(cases))
	}
}
