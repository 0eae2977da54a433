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
	"testing"
	"time"
)

type cookieCase struct {
	URL     string   `json:"url"`
	Cookies []string `json:"cookies"`
	HSTS    bool     `json:"hsts"`
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
			"Max-Age=abc", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Expires=bogus", "Priority=High", "Partitioned")
	}
	return line
}

func TestCookieDifferentialWithTheObservatory(t *testing.T) {
	dir := observatoryDir(t)
	// HTTPSGUARD_COOKIE_CASES=n runs n cases instead of 1000 (and a seed of
	// its own), for a longer hunt.
	n, seed := 1000, uint64(23)
	if v, err := strconv.Atoi(os.Getenv("HTTPSGUARD_COOKIE_CASES")); err == nil && v > 0 {
		n, seed = v, uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
	}
	r := rand.New(rand.NewPCG(seed, 42))
	urls := []string{
		"https://a.example.com/x/y", "https://example.com/", "http://localhost/", "https://localhost/p/",
		"https://127.0.0.1/p", "https://sub.example.co.uk/", "https://a.b.github.io/", "https://other.example/",
	}
	var cases []cookieCase
	for range n {
		c := cookieCase{URL: urls[r.IntN(len(urls))], HSTS: r.IntN(2) == 0}
		for j := 1 + r.IntN(4); j > 0; j-- {
			c.Cookies = append(c.Cookies, randomSetCookie(r))
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
	}
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(cases) {
		t.Fatalf("node cookies.mjs output (%d verdicts for %d cases): %v", len(want), len(cases), err)
	}
	failures := 0
	for i, c := range cases {
		h := hdr()
		for _, line := range c.Cookies {
			h.Add("Set-Cookie", line)
		}
		if c.HSTS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		in := siteInput(h, "")
		in.HTTPS.Chain[0].URL = c.URL
		got := run(t, in, TestCookies)
		var jar cookieJar
		for _, line := range c.Cookies {
			jar.set(line, c.URL)
		}
		var keys []string
		for _, k := range jar.cookies {
			keys = append(keys, fmt.Sprintf("%s|%s|%s|%v|%v|%s", k.key, k.domain, k.path, k.secure, k.httpOnly, k.sameSite))
		}
		slices.Sort(keys)
		if got.Result != want[i].Result || !slices.Equal(keys, want[i].Keys) {
			failures++
			if failures <= 10 {
				t.Errorf("case %d %s %q hsts=%v:\n got  %s %q\n want %s %q", i, c.URL, c.Cookies, c.HSTS, got.Result, keys, want[i].Result, want[i].Keys)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d cases differ", failures, len(cases))
	}
}
