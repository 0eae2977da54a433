package web

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

func TestNormalizeTarget(t *testing.T) {
	tests := []struct {
		in           string
		allowPrivate bool
		url, site    string
		err          string
	}{
		{in: "example.com", url: "https://example.com/", site: "example.com"},
		{in: "  Example.COM.  ", url: "https://example.com/", site: "example.com"},
		{in: "https://example.com:443/a/b?c=d#frag", url: "https://example.com/a/b?c=d", site: "example.com"},
		{in: "http://example.com:80", url: "http://example.com/", site: "example.com"},
		{in: "HTTP://example.com:8080/", url: "http://example.com:8080/", site: "example.com:8080"},
		{in: "example.com:8443", url: "https://example.com:8443/", site: "example.com:8443"},
		{in: "https://bücher.example/", url: "https://xn--bcher-kva.example/", site: "xn--bcher-kva.example"},
		{in: "https://93.184.215.14/", url: "https://93.184.215.14/", site: "93.184.215.14"},
		{in: "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/", url: "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/", site: "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443"},
		{in: "127.0.0.1:8443", allowPrivate: true, url: "https://127.0.0.1:8443/", site: "127.0.0.1:8443"},
		{in: "localhost", allowPrivate: true, url: "https://localhost/", site: "localhost"},
		{in: "", err: "enter the address"},
		{in: "ftp://example.com", err: "only http:// and https://"},
		{in: "javascript:alert(1)", err: "valid web address"},
		{in: "https://user@example.com/", err: "user name"},
		{in: "https://exa mple.com/", err: "spaces"},
		{in: "https://example.com:0/", err: "port"},
		{in: "https://example.com:99999/", err: "port"},
		{in: "https:///path", err: "no host"},
		{in: "https://exa$mple.com/", err: "host name"},
		{in: "https://" + strings.Repeat("a", 64) + ".com/", err: "host name"},
		{in: "https://" + strings.Repeat("a", 3000), err: "longer than"},
		{in: "127.0.0.1", err: "public internet"},
		{in: "http://192.168.1.1/", err: "public internet"},
		{in: "https://[fe80::1%25eth0]/", allowPrivate: true, err: "zones"},
		{in: "https://[::ffff:10.0.0.1]/", err: "public internet"},
		{in: "sub.localhost", err: "public internet"},
		{in: "https://example.com\x00/", err: "control"},
		// Numeric forms are the IPv4 addresses browsers read in them.
		{in: "http://2130706433/", err: "refused: not a public address"},
		{in: "https://127.1/", err: "refused: not a public address"},
		{in: "https://0x7f.1/", err: "refused: not a public address"},
		// The IANA registries, in both families: documentation ranges,
		// benchmarking, NAT64 of loopback.
		{in: "https://192.0.2.10/", err: "refused: not a public address"},
		{in: "https://198.51.100.7/", err: "refused: not a public address"},
		{in: "https://203.0.113.1/", err: "refused: not a public address"},
		{in: "https://[2001:db8::1]/", err: "refused: not a public address"},
		{in: "https://[3fff::1]/", err: "refused: not a public address"},
		{in: "https://198.18.0.1/", err: "refused: not a public address"},
		{in: "https://[64:ff9b::7f00:1]/", err: "refused: not a public address"},
		{in: "https://0x7f.1/", allowPrivate: true, url: "https://127.0.0.1/", site: "127.0.0.1"},
		{in: "https://example.123/", err: "not a valid host name"},
		{in: "http://example.com:443/", url: "http://example.com:443/", site: "example.com:443"},
		// Read as scan.ParseTarget (and a browser) reads them.
		{in: "my_app.example.com", url: "https://my_app.example.com/", site: "my_app.example.com"},
		{in: "r3---sn-abc.googlevideo.com", url: "https://r3---sn-abc.googlevideo.com/", site: "r3---sn-abc.googlevideo.com"},
		{in: "example.com/login?next=https://example.org/", url: "https://example.com/login?next=https://example.org/", site: "example.com"},
		{in: "https://example.com/?q=\"<x>", url: "https://example.com/?q=%22%3Cx%3E", site: "example.com"},
		{in: "https://[2606:2800:021F:CB07:6820:80DA:AF6B:8B2C]:443/", url: "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", site: "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]"},
		{in: "https://example.xn--/", err: "not a valid host name"},
		{in: "1ftp://example.com", err: "valid web address"},
		{in: "https://" + strings.Repeat("a.", 127) + "com/", err: "longer than 253"},
	}
	for _, tc := range tests {
		got, err := normalizeTarget(tc.in, tc.allowPrivate)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("normalizeTarget(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got.url != tc.url || got.site != tc.site {
			t.Errorf("normalizeTarget(%q) = %+v, %v; want url %q site %q", tc.in, got, err, tc.url, tc.site)
		}
		if err == nil && !validSite(got.site) {
			t.Errorf("validSite(%q) = false for a normalised site", got.site)
		}
	}
	if !errors.Is(func() error { _, err := normalizeTarget("10.0.0.1", false); return err }(), errPrivateTarget) {
		t.Error("a private address should wrap errPrivateTarget")
	}
}

// FuzzNormalizeTarget checks that any input either fails cleanly or yields
// a URL that normalises to itself and never
// names a non-public IP when private targets are refused.
func FuzzNormalizeTarget(f *testing.F) {
	for _, s := range []string{"example.com", "https://example.com:8443/a?b", "http://[::1]:80/", "bücher.example",
		"https://user:pw@x/", "javascript:alert(1)", "10.0.0.1", "https://[::ffff:127.0.0.1]/", "a..b", "HTTPS://X.Y.:443/%2e%2e/", "x:", "//x", "https://xn--/",
		"a.xn--", "x.com/?u=http://y", "a_b-.example", "ｅｘａｍｐｌｅ。com。"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, allowPrivate bool) {
		got, err := normalizeTarget(in, allowPrivate)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.ValidString(in) {
				t.Errorf("error message is not valid UTF-8: %q", err)
			}
			return
		}
		again, err := normalizeTarget(got.url, allowPrivate)
		if err != nil || again != got {
			t.Fatalf("normalizeTarget(%q) = %+v, but normalising its URL gives %+v, %v", in, got, again, err)
		}
		if !validSite(got.site) {
			t.Fatalf("site %q of %q is not a valid site", got.site, in)
		}
		if ip, err := netip.ParseAddr(got.host); err == nil && !allowPrivate && !scan.IsPublicAddr(ip) {
			t.Fatalf("private address %s accepted", ip)
		}
		if strings.ContainsAny(got.url, " \t\r\n\"<>\\") {
			t.Fatalf("URL %q contains characters that need escaping", got.url)
		}
	})
}

func TestDiff(t *testing.T) {
	check := func(id string, st scan.Status, impact int) scan.Check {
		return scan.Check{ID: id, Title: id, Status: st, ScoreImpact: impact}
	}
	prev := &scan.Result{Score: 90, Grade: "A", Checks: []scan.Check{
		check("A", scan.StatusPass, 0),
		check("B", scan.StatusWarn, -5),
		check("C", scan.StatusFail, -10),
		check("D", scan.StatusPass, 0),
		check("GONE", scan.StatusPass, 0),
	}}
	cur := &scan.Result{Score: 70, Grade: "B", Checks: []scan.Check{
		check("A", scan.StatusFail, -20), // regressed: pass → fail
		check("B", scan.StatusPass, 0),   // improved
		check("C", scan.StatusFail, -15), // regressed: same status, bigger deduction
		check("D", scan.StatusInfo, 0),   // no change that matters
		check("NEW", scan.StatusWarn, -5),
	}}
	d := diffResults(prev, cur)
	ids := func(cs []Change) (out []string) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	if got := strings.Join(ids(d.Regressed), ","); got != "A,C" {
		t.Errorf("regressed = %s, want A,C (worst first)", got)
	}
	if got := strings.Join(ids(d.Improved), ","); got != "B" {
		t.Errorf("improved = %s", got)
	}
	if len(d.Added) != 1 || d.Added[0].ID != "NEW" || len(d.Removed) != 1 || d.Removed[0].ID != "GONE" {
		t.Errorf("added %v removed %v", d.Added, d.Removed)
	}
	if d.ScoreDelta != -20 || d.GradeFrom != "A" || d.GradeTo != "B" || d.Empty() {
		t.Errorf("diff = %+v", d)
	}
	if !diffResults(prev, prev).Empty() {
		t.Error("a result compared with itself should show no change")
	}
}

func TestClientKey(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.7:5555", "", "203.0.113.7"},
		{"203.0.113.7:5555", "1.2.3.4", "203.0.113.7"}, // not from a trusted proxy: header ignored
		{"10.0.0.2:5555", "1.2.3.4", "1.2.3.4"},
		{"10.0.0.2:5555", "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"}, // the last untrusted hop
		{"10.0.0.2:5555", "garbage, 1.2.3.4", "1.2.3.4"},
		{"10.0.0.2:5555", "1.2.3.4, garbage", "10.0.0.2"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64"},
		{"[::ffff:203.0.113.7]:1", "", "203.0.113.7"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := s.clientKey(r); got != tc.want {
			t.Errorf("clientKey(%s, XFF %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestCSRFToken(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(context.Background(), Config{Store: db, Scanner: nopScanner{}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	tok := s.csrfToken("203.0.113.7", now)
	for _, tc := range []struct {
		client string
		at     time.Time
		ok     bool
	}{
		{"203.0.113.7", now, true},
		{"203.0.113.7", now.Add(time.Hour), true},      // the previous window still counts
		{"203.0.113.7", now.Add(2 * time.Hour), false}, // expired
		{"203.0.113.8", now, false},                    // another client's token
	} {
		if got := s.csrfValid(tok, tc.client, tc.at); got != tc.ok {
			t.Errorf("csrfValid(%s, %v) = %v, want %v", tc.client, tc.at, got, tc.ok)
		}
	}
	if s.csrfValid("", "203.0.113.7", now) {
		t.Error("an empty token is valid")
	}
	// Another instance on the same database accepts the token.
	s2, err := New(context.Background(), Config{Store: db, Scanner: nopScanner{}})
	if err != nil {
		t.Fatal(err)
	}
	if !s2.csrfValid(tok, "203.0.113.7", now) {
		t.Error("a second instance rejects the first one's token")
	}
}

type nopScanner struct{}

func (nopScanner) Scan(context.Context, string) *scan.Result { return &scan.Result{} }

// TestCleanText: the pages show site text as the reports do, with what
// could disguise it written as an escape.
func TestCleanText(t *testing.T) {
	clean := funcs["clean"].(func(string) string)
	for in, want := range map[string]string{
		"plain":              "plain",
		"a\u202Eevil":        `a\u202eevil`, // right-to-left override
		"bell\x07":           `bell\x07`,
		"bad\xffutf8":        `bad\xffutf8`,
		"tab\tstays":         "tab\tstays",
		"<script>":           "<script>", // html/template escapes markup
		"zero\u200bwidth sp": `zero\u200bwidth sp`,
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClientKey feeds arbitrary peer addresses and X-Forwarded-For lists:
// the key is never empty, and a peer that is not a trusted proxy is never
// overridden by the header.
func FuzzClientKey(f *testing.F) {
	f.Add("10.0.0.2:5555", "6.6.6.6, 1.2.3.4, 10.0.0.9")
	f.Add("203.0.113.7:1", "1.2.3.4")
	f.Add("[::1]:80", ",,,")
	f.Add("garbage", "[::1], fe80::1%eth0")
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		key := s.clientKey(r)
		if key == "" && remote != "" {
			t.Fatalf("empty key for %q", remote)
		}
		if ip := remoteIP(remote); ip.IsValid() && !s.trusted(ip) {
			r.Header.Del("X-Forwarded-For")
			if s.clientKey(r) != key {
				t.Fatalf("X-Forwarded-For %q changed the key of untrusted peer %q", xff, remote)
			}
		}
	})
}

// A category scan does not define could be any text, so its section anchor
// is numbered after the known categories, in order of first appearance.
func TestGroupCheckAnchors(t *testing.T) {
	tests := []struct {
		name   string
		checks []scan.Check
		want   string
	}{
		{"none", nil, ""},
		{"known categories keep their names", []scan.Check{
			{ID: "1", Category: "leaks"}, {ID: "2", Category: " TLS "},
		}, "tls leaks"},
		{"others are numbered", []scan.Check{
			{ID: "1", Category: "zeta"}, {ID: "2", Category: "hsts"}, {ID: "3", Category: ""},
			{ID: "4", Category: "a b\"c"}, {ID: "5", Category: "Zeta"},
		}, "hsts other-7 other-8 other-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, g := range groupChecks(tt.checks) {
				got = append(got, g.ID)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("anchors = %q, want %q", g, tt.want)
			}
		})
	}
}

// TestGradeColours: the chart and the history colour a grade by
// report.GradeClass, and a finished scan that carries no grade is grey,
// never the red of an F.
func TestGradeColours(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	chart := string(gradeChart([]store.Scan{
		{ID: "1", State: store.Done, Grade: "A+", Score: 100, CreatedAt: at},
		{ID: "2", State: store.Done, Grade: "", CreatedAt: at.Add(time.Hour)},
	}))
	if !strings.Contains(chart, `fill="`+badgeColours["a"]+`"`) || !strings.Contains(chart, `fill="`+badgeColours["none"]+`"`) {
		t.Errorf("chart colours: want an A's and a grey point:\n%s", chart)
	}
	if strings.Contains(chart, badgeColours["f"]) {
		t.Errorf("a scan without a grade is drawn in an F's colour:\n%s", chart)
	}
	if !strings.Contains(chart, "2026-11-25 12:30 UTC") {
		t.Errorf("chart times are not report.FormatTime's:\n%s", chart)
	}
}

func TestParsePublicURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://checker.example.org", "https://checker.example.org"},
		{"https://checker.example.org/", "https://checker.example.org"},
		{"http://127.0.0.1:8088", "http://127.0.0.1:8088"},
		{"https://[::1]:8443/", "https://[::1]:8443"},
		{"checker.example.org", ""},
		{"ftp://checker.example.org", ""},
		{"https://", ""},
		{"https://:443", ""},
		{"https://user@checker.example.org", ""},
		{"https://checker.example.org/httpsguard", ""},
		{"https://checker.example.org/?a=1", ""},
		{"https://checker.example.org/#x", ""},
		{"https://checker.example.org/?", ""},
		{"https://exa mple.org", ""},
		{"", ""},
	} {
		got, err := ParsePublicURL(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ParsePublicURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
