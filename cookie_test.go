package httpsguard

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

func TestRewriteSetCookie(t *testing.T) {
	all := Policy{SecureCookies: []string{"*"}, HTTPOnlyCookies: []string{"*"}, CookieSameSite: "Lax"}
	named := Policy{SecureCookies: []string{"sessionid", "csrftoken"}, HTTPOnlyCookies: []string{"sessionid"},
		SameSiteCookies: map[string]string{"sessionid": "Strict", "csrftoken": "Strict"}}
	// Django's SESSION_COOKIE_SAMESITE and CSRF_COOKIE_SAMESITE, with a
	// default for every other cookie and one cookie left alone.
	perCookie := Policy{CookieSameSite: "Lax", SameSiteCookies: map[string]string{"sessionid": "Strict", "csrftoken": "None", "legacy": ""}}
	none := Policy{SecureCookies: []string{"widget"}, CookieSameSite: "None"}
	httpOnlyNone := Policy{HTTPOnlyCookies: []string{"*"}, CookieSameSite: "none"}

	for _, tc := range []struct {
		name   string
		policy Policy
		in     string
		want   string
	}{
		{"all attributes added", all, "a=1", "a=1; Secure; HttpOnly; SameSite=Lax"},
		{"attributes kept with path", all, "a=1; Path=/; Max-Age=60", "a=1; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax"},
		{"nothing duplicated", all, "a=1; secure; HTTPONLY; samesite=strict", "a=1; secure; HTTPONLY; samesite=strict"},
		{"attribute with spaces recognised", all, "a=1;  Secure ; HttpOnly", "a=1;  Secure ; HttpOnly; SameSite=Lax"},
		{"trailing separator dropped", all, "a=1; ", "a=1; Secure; HttpOnly; SameSite=Lax"},
		{"value that mentions secure is not the attribute", all, "a=secure", "a=secure; Secure; HttpOnly; SameSite=Lax"},
		{"SameSite as a cookie name is not the attribute", all, "SameSite=None", "SameSite=None; Secure; HttpOnly; SameSite=Lax"},
		{"named session cookie", named, "sessionid=abc; Path=/", "sessionid=abc; Path=/; Secure; HttpOnly; SameSite=Strict"},
		{"named CSRF cookie stays readable", named, "csrftoken=x", "csrftoken=x; Secure; SameSite=Strict"},
		{"other cookie untouched", named, "theme=dark", "theme=dark"},
		{"names are case-sensitive", named, "SessionID=abc", "SessionID=abc"},
		{"name with spaces", named, " sessionid =abc", " sessionid =abc; Secure; HttpOnly; SameSite=Strict"},
		{"SameSite=None gets Secure", none, "widget=1", "widget=1; Secure; SameSite=None"},
		{"per cookie: session", perCookie, "sessionid=abc; Path=/", "sessionid=abc; Path=/; SameSite=Strict"},
		{"per cookie: CSRF None gets Secure", perCookie, "csrftoken=x", "csrftoken=x; Secure; SameSite=None"},
		{"per cookie: every other cookie", perCookie, "theme=dark", "theme=dark; SameSite=Lax"},
		{"per cookie: a name mapped to nothing is left alone", perCookie, "legacy=1", "legacy=1"},
		{"per cookie: the cookie's own SameSite wins", perCookie, "sessionid=abc; SameSite=Lax", "sessionid=abc; SameSite=Lax"},
		{"per cookie: the cookie's own None still gets Secure", perCookie, "theme=dark; SameSite=None", "theme=dark; SameSite=None; Secure"},
		{"\"*\" in the map is CookieSameSite", Policy{SameSiteCookies: map[string]string{"*": "strict", "a": "lax"}}, "b=1", "b=1; SameSite=Strict"},
		{"lower-case values are canonicalised", Policy{SameSiteCookies: map[string]string{"*": "strict", "a": "lax"}}, "a=1", "a=1; SameSite=Lax"},
		{"SameSite=None from the policy forces Secure on HttpOnly-only cookies", httpOnlyNone, "a=1", "a=1; Secure; HttpOnly; SameSite=None"},
		{"handler's SameSite=None forces Secure", Policy{HTTPOnlyCookies: []string{"a"}}, "a=1; SameSite=None", "a=1; SameSite=None; Secure; HttpOnly"},
		{"handler's SameSite kept", none, "widget=1; SameSite=Lax", "widget=1; SameSite=Lax; Secure"},
		{"last SameSite counts", Policy{HTTPOnlyCookies: []string{"a"}}, "a=1; SameSite=None; SameSite=Lax; HttpOnly", "a=1; SameSite=None; SameSite=Lax; HttpOnly"},
		{"unmanaged SameSite=None left alone", named, "tracker=1; SameSite=None", "tracker=1; SameSite=None"},
		{"SameSite=None without Secure is completed once the rules touch the cookie", Policy{CookieSameSite: "Lax"}, "tracker=1; SameSite=None", "tracker=1; SameSite=None; Secure"},
		{"nameless cookie only matches *", named, "sessionid", "sessionid"},
		{"nameless cookie with *", all, "token", "token; Secure; HttpOnly; SameSite=Lax"},
		{"empty policy changes nothing", Policy{}, "a=1", "a=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.RewriteSetCookie(tc.in); got != tc.want {
				t.Errorf("RewriteSetCookie(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := tc.policy.RewriteSetCookie(tc.want); again != tc.want {
				t.Errorf("not idempotent: %q became %q", tc.want, again)
			}
		})
	}
}

// TestCookiesOverTLS has a real client with a cookie jar log in over TLS:
// the browser-side view of the rewritten cookies.
func TestCookiesOverTLS(t *testing.T) {
	p := Policy{SecureCookies: []string{"*"}, HTTPOnlyCookies: []string{"sessionid"}, CookieSameSite: "Lax"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "s3cr3t", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: "tok", Path: "/"})
			w.Header().Add("Set-Cookie", "prefs=compact; Path=/; SameSite=Strict; secure")
			return
		}
		c, err := r.Cookie("sessionid")
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(c.Value))
	})
	srv, c := serve(t, p, h, true)
	resp := send(t, srv, c, request{path: "/login"})
	want := map[string]struct {
		httpOnly bool
		sameSite http.SameSite
	}{
		"sessionid": {true, http.SameSiteLaxMode},
		"csrftoken": {false, http.SameSiteLaxMode},
		"prefs":     {false, http.SameSiteStrictMode},
	}
	lines := resp.Header.Values("Set-Cookie")
	if len(lines) != 3 {
		t.Fatalf("Set-Cookie = %q", lines)
	}
	for _, line := range lines {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		w, ok := want[ck.Name]
		if !ok || !ck.Secure || ck.HttpOnly != w.httpOnly || ck.SameSite != w.sameSite {
			t.Errorf("%q: Secure=%v HttpOnly=%v SameSite=%v", line, ck.Secure, ck.HttpOnly, ck.SameSite)
		}
		if strings.Count(strings.ToLower(line), "secure") != 1 {
			t.Errorf("%q: Secure duplicated", line)
		}
	}

	// A real cookie jar keeps them for https:// and sends them back.
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	_ = send(t, srv, c, request{path: "/login"})
	u, _ := url.Parse(srv.URL)
	if n := len(jar.Cookies(u)); n != 3 {
		t.Errorf("jar holds %d cookies for %s, want 3", n, u)
	}
	if resp := send(t, srv, c, request{path: "/me"}); resp.StatusCode != 200 {
		t.Errorf("session cookie not sent back: %d", resp.StatusCode)
	}
}

// FuzzSetCookie checks the Set-Cookie rewriting: it never panics, only ever
// appends, is idempotent, and the result carries the attributes the policy
// requires as net/http reads them.
func FuzzSetCookie(f *testing.F) {
	for _, s := range []string{
		"a=1", "sessionid=abc; Path=/; HttpOnly", "a=1; SameSite=None", "a", "=", ";;", "a=1; secure=; httponly=x",
		`a="q"; Domain=example.com`, "a=1; SameSite", " ; Secure", "a=1;\tSecure\t",
	} {
		f.Add(s, "Lax", true)
	}
	f.Add("x=1", "None", false)
	f.Fuzz(func(t *testing.T, line, sameSite string, all bool) {
		p := Policy{SecureCookies: []string{"a"}, HTTPOnlyCookies: []string{"sessionid", "a"}, CookieSameSite: canonicalSameSite(sameSite),
			SameSiteCookies: map[string]string{"b": "Strict", "c": ""}}
		if all {
			p.SecureCookies = []string{"*"}
		}
		got := p.RewriteSetCookie(line)
		if !strings.HasPrefix(got, trimCookieLine(line)) {
			t.Fatalf("%q became %q: not an append", line, got)
		}
		if again := p.RewriteSetCookie(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", line, got, again)
		}
		rules := cookieRulesFor(p)
		add := rules.missing(got)
		if add != 0 {
			t.Fatalf("%q still misses attributes %b", got, add)
		}
		if got == line {
			return
		}
		// When net/http can read the result, it must see what we added.
		ck, err := http.ParseSetCookie(got)
		if err != nil || strings.ContainsAny(line, "\"\x00\r\n") {
			return
		}
		if strings.HasSuffix(got, "; Secure") || strings.Contains(got, "; Secure; ") {
			if !ck.Secure {
				t.Fatalf("%q: net/http does not see Secure", got)
			}
		}
		if strings.Contains(got, "; HttpOnly") && !ck.HttpOnly {
			t.Fatalf("%q: net/http does not see HttpOnly", got)
		}
	})
}
