package httpsguard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestPolicyFromLookupDefaults(t *testing.T) {
	p, err := PolicyFromLookup(lookupMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	// Django 3.2's defaults: nosniff, DENY, same-origin, the session cookie
	// HttpOnly, SameSite=Lax (here for every cookie that sets none), and
	// Django 4.0's Cross-Origin-Opener-Policy.
	want := Policy{ContentTypeNosniff: true, FrameOptions: "DENY", ReferrerPolicy: "same-origin", CrossOriginOpenerPolicy: "same-origin",
		HTTPOnlyCookies: []string{"sessionid"}, CookieSameSite: "Lax"}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("defaults:\n%v\nwant\n%v", p, want)
	}
	// Empty counts as unset.
	empty := map[string]string{}
	for _, n := range EnvVars() {
		empty[n] = ""
	}
	if p2, err := PolicyFromLookup(lookupMap(empty)); err != nil || !reflect.DeepEqual(p2, want) {
		t.Errorf("all empty: %v, %v", p2, err)
	}
}

func TestPolicyFromLookupValues(t *testing.T) {
	env := map[string]string{
		"HTTPSGUARD_SSL_REDIRECT":               "TRUE",
		"HTTPSGUARD_SSL_HOST":                   "secure.example.com",
		"HTTPSGUARD_REDIRECT_EXEMPT":            `^health$, ^api/hooks/`,
		"HTTPSGUARD_PROXY_SSL_HEADER":           "X-Forwarded-Proto: https",
		"HTTPSGUARD_TRUSTED_PROXIES":            "10.0.0.0/8, 127.0.0.1,unix",
		"HTTPSGUARD_USE_X_FORWARDED_HOST":       "on",
		"HTTPSGUARD_HSTS_SECONDS":               "63072000",
		"HTTPSGUARD_HSTS_INCLUDE_SUBDOMAINS":    "1",
		"HTTPSGUARD_HSTS_PRELOAD":               "yes",
		"HTTPSGUARD_CONTENT_TYPE_NOSNIFF":       "0",
		"HTTPSGUARD_FRAME_OPTIONS":              "off",
		"HTTPSGUARD_REFERRER_POLICY":            "no-referrer, strict-origin-when-cross-origin",
		"HTTPSGUARD_CROSS_ORIGIN_OPENER_POLICY": "OFF",
		"HTTPSGUARD_CSP":                        "default-src 'self'; script-src 'nonce-{nonce}'",
		"HTTPSGUARD_CSP_REPORT_ONLY":            "default-src 'none'; script-src 'nonce-{nonce}'; report-uri /csp",
		"HTTPSGUARD_PERMISSIONS_POLICY":         "camera=(), geolocation=()",
		"HTTPSGUARD_SECURE_COOKIES":             "*",
		"HTTPSGUARD_HTTPONLY_COOKIES":           "sessionid,",
		"HTTPSGUARD_COOKIE_SAMESITE":            "lax",
		"HTTPSGUARD_ALLOWED_HOSTS":              "example.com,.example.com",
		"HTTPSGUARD_DEVELOPMENT":                "false",
	}
	p, err := PolicyFromLookup(lookupMap(env))
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{
		SSLRedirect: true, SSLHost: "secure.example.com", RedirectExempt: []string{"^health$", "^api/hooks/"},
		ProxySSLHeader: "X-Forwarded-Proto", ProxySSLValue: "https", TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1", "unix"},
		UseXForwardedHost: true,
		HSTSSeconds:       63072000, HSTSIncludeSubdomains: true, HSTSPreload: true,
		ReferrerPolicy:                  "no-referrer, strict-origin-when-cross-origin",
		ContentSecurityPolicy:           "default-src 'self'; script-src 'nonce-{nonce}'",
		ContentSecurityPolicyReportOnly: "default-src 'none'; script-src 'nonce-{nonce}'; report-uri /csp",
		PermissionsPolicy:               "camera=(), geolocation=()",
		SecureCookies:                   []string{"*"}, HTTPOnlyCookies: []string{"sessionid"}, CookieSameSite: "Lax",
		AllowedHosts: []string{"example.com", ".example.com"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got\n%v\nwant\n%v", p, want)
	}

	// Round trip: the Environ rendering reproduces the policy.
	back := map[string]string{}
	for _, kv := range p.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		back[k] = v
	}
	if p2, err := PolicyFromLookup(lookupMap(back)); err != nil || !reflect.DeepEqual(p2, p) {
		t.Errorf("round trip: %v, %v\n%v", err, p2, p)
	}
	if len(p.Settings()) != len(EnvVars()) {
		t.Error("Settings and EnvVars disagree")
	}
}

// TestPolicyFromLookupSameSite covers the per-cookie SameSite syntax, which
// is how Django's SESSION_COOKIE_SAMESITE and CSRF_COOKIE_SAMESITE map.
func TestPolicyFromLookupSameSite(t *testing.T) {
	for _, tc := range []struct {
		value   string
		all     string
		cookies map[string]string
		environ string
	}{
		{"lax", "Lax", nil, "Lax"},
		{"off", "", nil, "off"},
		{"sessionid=Strict, csrftoken=lax", "", map[string]string{"sessionid": "Strict", "csrftoken": "Lax"}, "csrftoken=Lax,sessionid=Strict"},
		{"sessionid=Strict,*=Lax", "Lax", map[string]string{"sessionid": "Strict"}, "sessionid=Strict,*=Lax"},
		{"Lax, legacy=off", "Lax", map[string]string{"legacy": ""}, "legacy=off,*=Lax"},
		{"*=None", "None", nil, "None"},
	} {
		p, err := PolicyFromLookup(lookupMap(map[string]string{"HTTPSGUARD_COOKIE_SAMESITE": tc.value}))
		if err != nil {
			t.Errorf("%q: %v", tc.value, err)
			continue
		}
		if p.CookieSameSite != tc.all || !reflect.DeepEqual(p.SameSiteCookies, tc.cookies) {
			t.Errorf("%q: CookieSameSite %q SameSiteCookies %v, want %q %v", tc.value, p.CookieSameSite, p.SameSiteCookies, tc.all, tc.cookies)
		}
		if got := p.Settings()[envIndex(t, "HTTPSGUARD_COOKIE_SAMESITE")].Value; got != tc.environ {
			t.Errorf("%q: written back as %q, want %q", tc.value, got, tc.environ)
		}
	}
	// "off" empties a list whose default is not empty.
	p, err := PolicyFromLookup(lookupMap(map[string]string{"HTTPSGUARD_HTTPONLY_COOKIES": "off"}))
	if err != nil || p.HTTPOnlyCookies != nil {
		t.Errorf("HTTPSGUARD_HTTPONLY_COOKIES=off: %v, %v", p.HTTPOnlyCookies, err)
	}
}

func envIndex(t *testing.T, name string) int {
	t.Helper()
	for i, n := range EnvVars() {
		if n == name {
			return i
		}
	}
	t.Fatalf("no variable %s", name)
	return 0
}

func TestPolicyFromLookupErrors(t *testing.T) {
	for _, tc := range []struct {
		env   map[string]string
		names []string // variables the error must name, with their values
	}{
		{map[string]string{"HTTPSGUARD_HSTS_SECONDS": "a year"}, []string{`HTTPSGUARD_HSTS_SECONDS="a year"`}},
		{map[string]string{"HTTPSGUARD_HSTS_SECONDS": "-5"}, []string{`HTTPSGUARD_HSTS_SECONDS="-5"`}},
		{map[string]string{"HTTPSGUARD_SSL_REDIRECT": "sure"}, []string{`HTTPSGUARD_SSL_REDIRECT="sure"`}},
		{map[string]string{"HTTPSGUARD_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, []string{`HTTPSGUARD_PROXY_SSL_HEADER="X-Forwarded-Proto"`}},
		{map[string]string{"HTTPSGUARD_PROXY_SSL_HEADER": "X-Forwarded-Proto:"}, []string{`HTTPSGUARD_PROXY_SSL_HEADER="X-Forwarded-Proto:"`}},
		{map[string]string{"HTTPSGUARD_TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.0/99"}, []string{`HTTPSGUARD_TRUSTED_PROXIES="10.0.0.0/99"`}},
		{map[string]string{"HTTPSGUARD_FRAME_OPTIONS": "ALLOWALL"}, []string{`HTTPSGUARD_FRAME_OPTIONS="ALLOWALL"`, "or off for none"}},
		{map[string]string{"HTTPSGUARD_REDIRECT_EXEMPT": "(x"}, []string{`HTTPSGUARD_REDIRECT_EXEMPT="(x"`}},
		{map[string]string{"HTTPSGUARD_SSL_HOST": "https://example.com/"}, []string{`HTTPSGUARD_SSL_HOST="https://example.com/"`}},
		{map[string]string{"HTTPSGUARD_COOKIE_SAMESITE": "loose"}, []string{`HTTPSGUARD_COOKIE_SAMESITE="loose"`, "or off"}},
		{map[string]string{"HTTPSGUARD_COOKIE_SAMESITE": "sessionid=Strict,csrftoken=relaxed"}, []string{`HTTPSGUARD_COOKIE_SAMESITE="csrftoken=relaxed"`}},
		{map[string]string{"HTTPSGUARD_COOKIE_SAMESITE": "Lax,Strict"}, []string{`HTTPSGUARD_COOKIE_SAMESITE="Lax,Strict"`}},
		{map[string]string{"HTTPSGUARD_COOKIE_SAMESITE": "a=Lax,a=Strict"}, []string{`HTTPSGUARD_COOKIE_SAMESITE="a=Lax,a=Strict"`}},
		{map[string]string{"HTTPSGUARD_COOKIE_SAMESITE": "bad name=Lax"}, []string{`HTTPSGUARD_COOKIE_SAMESITE="bad name"`}},
		{map[string]string{"HTTPSGUARD_ALLOWED_HOSTS": "*.example.com"}, []string{`HTTPSGUARD_ALLOWED_HOSTS="*.example.com"`}},
		{map[string]string{"HTTPSGUARD_USE_X_FORWARDED_HOST": "maybe"}, []string{`HTTPSGUARD_USE_X_FORWARDED_HOST="maybe"`}},
		{map[string]string{"HTTPSGUARD_CSP_REPORT_ONLY": "default-src 'none';\x00report-uri /csp"}, []string{`HTTPSGUARD_CSP_REPORT_ONLY="default-src 'none';\x00report-uri /csp"`}},
		{map[string]string{"HTTPSGUARD_HSTS_SECONDS": "x", "HTTPSGUARD_HSTS_PRELOAD": "maybe"},
			[]string{`HTTPSGUARD_HSTS_SECONDS="x"`, `HTTPSGUARD_HSTS_PRELOAD="maybe"`}},
	} {
		_, err := PolicyFromLookup(lookupMap(tc.env))
		if err == nil {
			t.Errorf("%v: no error", tc.env)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Env == "" {
			t.Errorf("%v: error %v is not a *FieldError naming the variable", tc.env, err)
		}
		for _, n := range tc.names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("%v: error %q does not contain %s", tc.env, err, n)
			}
		}
	}
}

// FuzzPolicyFromLookup feeds one value to each variable in turn (the input
// also picks which): a value is either refused with a *FieldError naming
// that variable, or gives a policy that New accepts, whose Environ reads
// back to the same policy, and whose Guard serves a request.
func FuzzPolicyFromLookup(f *testing.F) {
	for _, s := range []string{"", "true", "off", "0", "yes", "31536000", "-1", "1e9", "99999999999999999999",
		"X-Forwarded-Proto: https", "Forwarded: proto=https", ":", "a,b,,c", " , ", "10.0.0.0/8,::1", "300.1.1.1/8",
		"example.com,.example.com,*", "[::1]:443", "default-src 'self'; script-src 'nonce-{nonce}'",
		"DENY", "SAMEORIGIN", "ALLOW-FROM x", "Lax", "None", "same-origin", "sessionid=Strict,*=Lax", "a=off,b=None", "=Lax", "a=b=c", "a\r\nb: c", "\x00", "é", "^/static/", "(",
	} {
		for i := range envVars {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		name := envVars[int(which)%len(envVars)].name
		p, err := PolicyFromLookup(lookupMap(map[string]string{name: value}))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("%s=%q: error %v is not a *FieldError", name, value, err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("%s=%q: error %q does not name the variable", name, value, err)
			}
			return
		}
		g, err := New(p)
		if err != nil {
			t.Fatalf("%s=%q: PolicyFromLookup accepted what New refuses: %v", name, value, err)
		}
		back := map[string]string{}
		for _, kv := range p.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			back[k] = v
		}
		p2, err := PolicyFromLookup(lookupMap(back))
		if err != nil || !reflect.DeepEqual(p2, p) {
			t.Fatalf("%s=%q: round trip: %v\n got %#v\nwant %#v", name, value, err, p2, p)
		}
		_ = p.Check()
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "https://example.com/a", nil)
		g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "x"})
			io.WriteString(w, "ok")
		})).ServeHTTP(w, r)
	})
}

func TestCheckEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want string // the message, or "" for no finding
	}{
		{"HTTPSGUARD_HSTS_SECOND=63072000", "HTTPSGUARD_HSTS_SECOND: unknown; did you mean HTTPSGUARD_HSTS_SECONDS?"},
		{"HTTPSGUARD_SSL_REDIRCET=true", "HTTPSGUARD_SSL_REDIRCET: unknown; did you mean HTTPSGUARD_SSL_REDIRECT?"},
		{"HTTPSGUARD_SECURE_COOKIE=*", "HTTPSGUARD_SECURE_COOKIE: unknown; did you mean HTTPSGUARD_SECURE_COOKIES?"},
		{"httpsguard_ssl_redirect=true", "httpsguard_ssl_redirect: unknown; did you mean HTTPSGUARD_SSL_REDIRECT? (variable names are case-sensitive)"},
		{"HTTPGUARD_SSL_REDIRECT=true", "HTTPGUARD_SSL_REDIRECT: unknown; did you mean HTTPSGUARD_SSL_REDIRECT?"},
		{"HTTPSGUARD_QUANTUM_SHIELD=on", "HTTPSGUARD_QUANTUM_SHIELD: unknown; httpsguard reads no such variable (httpsguard policy lists those it reads)"},
		{"HTTPSGUARD_HSTS_SECONDS=1", ""},
		{"HTTPSGUARD_CAROOT=/ca", ""},
		{"HTTPSGUARD_TEST_STRICT=1", ""},
		{"PATH=/usr/bin", ""},
		{"SSL_REDIRECT=true", ""},
		{"=weird", ""},
	} {
		got := CheckEnv([]string{tc.env})
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%s: unexpected %v", tc.env, got)
		case tc.want != "" && (len(got) != 1 || got[0].Message != tc.want || got[0].ID != "HGP-ENV-001" || got[0].Severity != SeverityWarning):
			t.Errorf("%s: got %v\nwant %q", tc.env, got, tc.want)
		}
	}
	if got := CheckEnv([]string{"HTTPSGUARD_X=1", "HTTPSGUARD_X=2"}); len(got) != 1 {
		t.Errorf("a name set twice is one finding: %v", got)
	}
}

// TestEnvNamesKnown fails when the repository mentions an HTTPSGUARD_*
// variable that CheckEnv would call unknown: a new variable belongs in
// envVars (the policy) or otherEnvVars (everything else httpsguard reads).
func TestEnvNamesKnown(t *testing.T) {
	deliberate := map[string]bool{ // names the tests use because they are unknown
		"HTTPSGUARD_X": true, "HTTPSGUARD_NOPE": true, "HTTPSGUARD_HSTS_SECOND": true, "HTTPSGUARD_SSL_REDIRCET": true,
		"HTTPSGUARD_SECURE_COOKIE": true, "HTTPSGUARD_QUANTUM_SHIELD": true,
	}
	name := regexp.MustCompile(`HTTPSGUARD_[A-Z0-9_]+`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if base := d.Name(); base == ".git" || base == "node_modules" || base == "fuzz" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".py", ".yml", ".yaml", ".env":
		default:
			if path != filepath.Join(".ci", "run") {
				return nil
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range name.FindAllString(string(b), -1) {
			if !knownEnvVar(n) && !deliberate[n] && !strings.HasSuffix(n, "_") {
				t.Errorf("%s mentions %s, which CheckEnv calls unknown: add it to envVars or otherEnvVars", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPolicyFromEnvWarns checks that PolicyFromEnv reports a misspelt
// variable on the default logger, and still reads the rest.
func TestPolicyFromEnvWarns(t *testing.T) {
	t.Setenv("HTTPSGUARD_HSTS_SECOND", "63072000")
	t.Setenv("HTTPSGUARD_SSL_REDIRECT", "true")
	var logs strings.Builder
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)
	p, err := PolicyFromEnv()
	if err != nil || !p.SSLRedirect || p.HSTSSeconds != 0 {
		t.Fatalf("%+v, %v", p, err)
	}
	if !strings.Contains(logs.String(), "HTTPSGUARD_HSTS_SECOND: unknown; did you mean HTTPSGUARD_HSTS_SECONDS?") ||
		!strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// TestEnvDocumented keeps the list of variables in docs/enforce.md
// generated from envVars (go test -run TestEnvDocumented -update-docs .).
func TestEnvDocumented(t *testing.T) {
	var b strings.Builder
	b.WriteString("| variable | Policy field | unset means |\n|---|---|---|\n")
	zero := Policy{}
	for i, s := range zero.Settings() {
		def := envVars[i].def
		switch {
		case def == "" && isListVar(s.Env):
			def = "none"
		case def == "":
			def = "off"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` |\n", s.Env, strings.ReplaceAll(s.Field, ", ", "`, `"), def)
	}
	replaceGenerated(t, "docs/enforce.md", "env", b.String())
}
