package scan

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

func TestIsPublicAddr(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"127.8.9.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fd00:ec2::254", false},   // AWS metadata over IPv6
		{"fc00::1", false},         // unique local
		{"fe80::1", false},         // link local
		{"100.64.0.1", false},      // CGNAT
		{"100.127.255.254", false},
		{"100.128.0.1", true},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:8.8.8.8", true},
		{"255.255.255.255", false},
		{"64:ff9b::7f00:1", false},    // NAT64 to 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 to the metadata service
		{"64:ff9b::808:808", true},    // NAT64 to 8.8.8.8
		{"2002:c0a8:101::1", false},   // 6to4 carrying 192.168.1.1
		{"2002:808:808::1", true},     // 6to4 carrying 8.8.8.8
		{"192.0.2.1", false},          // documentation (TEST-NET-1), as 2001:db8::/32
		{"198.51.100.7", false},       // TEST-NET-2
		{"203.0.113.9", false},        // TEST-NET-3
		{"2001:db8::1", false},
		{"198.18.0.1", false}, // benchmarking
	}
	for _, tt := range tests {
		if got := IsPublicAddr(netip.MustParseAddr(tt.addr)); got != tt.public {
			t.Errorf("IsPublicAddr(%s) = %v, want %v", tt.addr, got, tt.public)
		}
	}
}

func TestParseResolve(t *testing.T) {
	m, err := ParseResolve([]string{"a.test:443:127.0.0.1", "B.test:80:[::1]", "*:443:127.0.0.2:8443"})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Resolve: m}
	for in, want := range map[string]string{
		"a.test:443": "127.0.0.1:443",
		"b.test:80":  "[::1]:80",
		"z.test:443": "127.0.0.2:8443",
		"a.test:80":  "",
	} {
		if got := o.resolveOverride(in); got != want {
			t.Errorf("resolveOverride(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"a.test", "a.test:443", "a.test:x:127.0.0.1", "a.test:443:not-an-ip", ":443:127.0.0.1"} {
		if _, err := ParseResolve([]string{bad}); err == nil {
			t.Errorf("ParseResolve(%q) accepted", bad)
		}
	}
}

func TestParseHSTS(t *testing.T) {
	tests := []struct {
		in        string
		want      HSTS
		errCodes  []string
		warnCodes []string
	}{
		{in: "max-age=31536000; includeSubDomains; preload", want: HSTS{MaxAge: 31536000, HasMaxAge: true, IncludeSubDomains: true, Preload: true}},
		{in: "MAX-AGE=10;INCLUDESUBDOMAINS", want: HSTS{MaxAge: 10, HasMaxAge: true, IncludeSubDomains: true}},
		{in: "", warnCodes: []string{"header.parse.empty"}},
		{in: "max-age=abc", errCodes: []string{"header.parse.max_age.non_digit_characters"}},
		{in: `max-age="100"`, errCodes: []string{"header.parse.max_age.non_digit_characters"}},
		{in: "max-age", errCodes: []string{"header.parse.invalid.max_age.no_value"}},
		{in: "max-age=99999999999999999999", errCodes: []string{"header.parse.max_age.parse_int_error"}},
		{in: "max-age=01", want: HSTS{MaxAge: 1, HasMaxAge: true}, warnCodes: []string{"header.parse.max_age.leading_zero"}},
		{in: "max-age=1; max-age=2", want: HSTS{MaxAge: 1, HasMaxAge: true}, warnCodes: []string{"header.parse.repeated.max_age"}},
		{in: "max-age=1;;", want: HSTS{MaxAge: 1, HasMaxAge: true}, warnCodes: []string{"header.parse.empty_directive"}},
		{in: "max-age=1; preload; preload", want: HSTS{MaxAge: 1, HasMaxAge: true, Preload: true}, warnCodes: []string{"header.parse.repeated.preload"}},
		{in: "max-age=1; preloaded", want: HSTS{MaxAge: 1, HasMaxAge: true}, warnCodes: []string{"header.parse.invalid.preload"}},
		{in: "max-age=1; foo=bar", want: HSTS{MaxAge: 1, HasMaxAge: true}, warnCodes: []string{"header.parse.unknown_directive"}},
	}
	for _, tt := range tests {
		got, is := ParseHSTS(tt.in)
		if got != tt.want {
			t.Errorf("ParseHSTS(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if codes := codesOf(is.Errors); !slices.Equal(codes, tt.errCodes) {
			t.Errorf("ParseHSTS(%q) errors %v, want %v", tt.in, codes, tt.errCodes)
		}
		if codes := codesOf(is.Warnings); !slices.Equal(codes, tt.warnCodes) {
			t.Errorf("ParseHSTS(%q) warnings %v, want %v", tt.in, codes, tt.warnCodes)
		}
	}
}

func codesOf(is []Issue) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.Code)
	}
	return out
}

func TestPreloadableHeaderString(t *testing.T) {
	tests := []struct {
		in   string
		errs []string
		warn []string
	}{
		{in: "max-age=31536000; includeSubDomains; preload"},
		{in: "max-age=63072000; includeSubDomains; preload"},
		{in: "max-age=31535999; includeSubDomains; preload", errs: []string{"header.preloadable.max_age.below_1_year"}},
		{in: "max-age=0; includeSubDomains; preload", errs: []string{"header.preloadable.max_age.zero"}},
		{in: "max-age=31536000", errs: []string{"header.preloadable.include_sub_domains.missing", "header.preloadable.preload.missing"}},
		{in: "includeSubDomains; preload", errs: []string{"header.preloadable.max_age.missing"}},
		{in: "max-age=999999999; includeSubDomains; preload", warn: []string{"header.preloadable.max_age.over_10_years"}},
	}
	for _, tt := range tests {
		is := PreloadableHeaderString(tt.in)
		if got := codesOf(is.Errors); !slices.Equal(got, tt.errs) {
			t.Errorf("%q: errors %v, want %v", tt.in, got, tt.errs)
		}
		if got := codesOf(is.Warnings); !slices.Equal(got, tt.warn) {
			t.Errorf("%q: warnings %v, want %v", tt.in, got, tt.warn)
		}
	}
	if is := preloadableResponse([]string{"max-age=1", "max-age=2"}); !slices.Equal(codesOf(is.Errors), []string{"response.multiple_headers"}) {
		t.Errorf("two headers: %v", is)
	}
	if is := preloadableResponse(nil); !slices.Equal(codesOf(is.Errors), []string{"response.no_header"}) {
		t.Errorf("no header: %v", is)
	}
}

func TestCheckDomainFormat(t *testing.T) {
	tests := map[string]string{
		"example.com":     "",
		".example.com":    "domain.format.begins_with_dot",
		"example.com.":    "domain.format.ends_with_dot",
		"a..example.com":  "domain.format.contains_double_dot",
		"com":             "domain.format.public_suffix",
		"co.uk":           "domain.format.public_suffix",
		"exa_mple.com":    "domain.format.invalid_characters",
		"192.0.2.1":       "domain.format.is_ip_address",
		"www.example.com": "",
	}
	for in, want := range tests {
		got := ""
		if is := checkDomainFormat(in); len(is.Errors) > 0 {
			got = is.Errors[0].Code
		}
		if got != want {
			t.Errorf("checkDomainFormat(%q) = %q, want %q", in, got, want)
		}
	}
	if is := preloadableDomainLevel("www.example.com"); len(is.Errors) == 0 || is.Errors[0].Code != "domain.is_subdomain" {
		t.Errorf("subdomain not reported: %v", is)
	}
	if is := preloadableDomainLevel("example.co.uk"); len(is.Errors) != 0 {
		t.Errorf("registrable domain reported: %v", is)
	}
}

func TestParseSetCookie(t *testing.T) {
	tests := []struct {
		in      string
		want    SetCookie
		wantErr bool
	}{
		{in: "sessionid=abc; Secure; HttpOnly; SameSite=Lax; Path=/",
			want: SetCookie{Name: "sessionid", Value: "abc", Secure: true, HttpOnly: true, SameSite: "Lax", HasSameSite: true, SameSiteValid: true, Path: "/", HasPath: true}},
		{in: "a=b; secure; httponly; samesite=strict", want: SetCookie{Name: "a", Value: "b", Secure: true, HttpOnly: true, SameSite: "strict", HasSameSite: true, SameSiteValid: true}},
		{in: "a=b; SameSite=Lox", want: SetCookie{Name: "a", Value: "b", SameSite: "Lox", HasSameSite: true}},
		{in: "a=; Domain=.example.com", want: SetCookie{Name: "a", Domain: ".example.com", HasDomain: true}},
		{in: "a=b;Secure=whatever", want: SetCookie{Name: "a", Value: "b", Secure: true}},
		{in: "novalue", wantErr: true},
		{in: "=x", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseSetCookie(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseSetCookie(%q) accepted", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSetCookie(%q): %v", tt.in, err)
			continue
		}
		tt.want.Raw = tt.in
		if got != tt.want {
			t.Errorf("ParseSetCookie(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestCookieKinds(t *testing.T) {
	tests := []struct {
		line            string
		session, csrf   bool
		prefixProblemIn string
	}{
		{line: "sessionid=1", session: true},
		{line: "PHPSESSID=1", session: true},
		{line: "connect.sid=1", session: true},
		{line: "user_login=1", session: true},
		{line: "csrftoken=1", csrf: true},
		{line: "XSRF-TOKEN=1", csrf: true},
		{line: "theme=dark"},
		{line: "__Host-id=1; Secure; Path=/"},
		{line: "__Host-id=1; Secure; Path=/; Domain=example.com", prefixProblemIn: "Domain"},
		{line: "__Host-id=1; Secure", prefixProblemIn: "Path"},
		{line: "__host-id=1; Path=/", prefixProblemIn: "Secure"},
		{line: "__Secure-id=1", prefixProblemIn: "Secure"},
		{line: "__Secure-id=1; Secure"},
	}
	for _, tt := range tests {
		c, err := ParseSetCookie(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		if c.SessionLike() != tt.session || c.CSRF() != tt.csrf {
			t.Errorf("%q: session %v csrf %v", tt.line, c.SessionLike(), c.CSRF())
		}
		p := c.PrefixProblem()
		if (tt.prefixProblemIn == "") != (p == "") || !strings.Contains(p, tt.prefixProblemIn) {
			t.Errorf("%q: prefix problem %q, want one mentioning %q", tt.line, p, tt.prefixProblemIn)
		}
	}
}

func TestResolveLocation(t *testing.T) {
	base, _ := url.Parse("https://example.com/a/b")
	tests := []struct {
		loc, want string
		wantErr   bool
	}{
		{loc: "/x", want: "https://example.com/x"},
		{loc: "c", want: "https://example.com/a/c"},
		{loc: "http://example.com/", want: "http://example.com/"},
		{loc: "//other.test/p#frag", want: "https://other.test/p"},
		{loc: "https://user:pw@example.com/", want: "https://example.com/"},
		{loc: "javascript:alert(1)", wantErr: true},
		{loc: "", wantErr: true},
		{loc: "http://", wantErr: true},
		{loc: "http://exa mple.com/%zz", wantErr: true},
	}
	for _, tt := range tests {
		got, err := resolveLocation(base, tt.loc)
		if tt.wantErr {
			if err == nil {
				t.Errorf("resolveLocation(%q) = %v, want an error", tt.loc, got)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("resolveLocation(%q) = %v, %v; want %s", tt.loc, got, err, tt.want)
		}
	}
}

func TestDetectDebug(t *testing.T) {
	tests := map[string]string{
		"<p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p>": "Django (DEBUG = True)",
		"<title>Action Controller: Exception caught</title>":                                                       "Rails",
		`<script>window.ignite = {}</script>`:                                                                      "Laravel (Ignition)",
		"<h2>Whoops! There was an error.</h2>":                                                                     "Whoops",
		"<title>KeyError // Werkzeug Debugger</title>":                                                             "Werkzeug debugger",
		"<pre>NotFoundError: Not Found<br> &nbsp; &nbsp;at /srv/app/node_modules/express/lib/router/index.js:1:2<br> &nbsp; &nbsp;at next (/srv/app/node_modules/express/lib/router/index.js:280:10)</pre>": "Express/Node stack trace",
		"<b>Fatal error</b>: Uncaught Error in <b>/var/www/index.php</b> on line <b>3</b>":                                                                                                                  "PHP error",
		"<h1>Not Found</h1><p>The requested resource was not found on this server.</p>":                                                                                                                     "",
		// Django 3.0 and later write a typographic apostrophe.
		"<p>\n      You\u2019re seeing this error because you have <code>DEBUG = True</code> in\n      your Django settings file.</p>":                    "Django (DEBUG = True)",
		"<title>Page not found at /x</title><p>You&#39;re seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p>": "Django (DEBUG = True)",
		// Pages that merely talk about a framework's debug mode.
		"<p>Never deploy with DEBUG = True in settings.py.</p>":                        "",
		"<p>The Werkzeug Debugger lets you run code in any stack frame.</p>":           "",
		"<title>Werkzeug Debugger tips</title><p>Keep it off in production.</p>":       "",
		"<p>How to log a Symfony exception from a listener.</p>":                       "",
		"<h1 class=\"logo\"><svg></svg> Symfony Exception</h1>":                        "Symfony debug",
		"<h1>Server Error in '/' Application.<hr width=100% size=1 color=silver></h1>": "ASP.NET detailed error",
		// An application in a virtual directory names its path.
		"<h1>Server Error in '/shop' Application.<hr width=100% size=1 color=silver></h1>": "ASP.NET detailed error",
		"<title>Console // Werkzeug Debugger</title>":                                      "Werkzeug debugger",
		// Laravel's own exception page: the first design's frame style, the
		// redesign's version badges; the same text as code or prose is not.
		"<style>\n  #frame-0 .hljs-ln-line[data-line-number='83'] {\n    background-color: rgba(242, 95, 95, 0.4);\n  }</style>":                                          "Laravel (exception page)",
		"<div><span class=\"a\">LARAVEL</span>\n<span class=\"b\">12.38.1</span></div><div class=\"c\"><span class=\"a\">PHP</span><span class=\"b\">8.4.14</span></div>": "Laravel (exception page)",
		"<pre>&lt;style&gt;#frame-0 .hljs-ln-line[data-line-number='83'] {}&lt;/style&gt;</pre>":                                                                          "",
		"<p>Stack: <span>LARAVEL</span> <span>12.x</span></p><div><span>PHP</span></div>":                                                                                 "",
		"<footer><span>PHP 8.3.14 \u2014 Laravel 11.45.1</span></footer>":                                                                                                 "",
		"": "",
	}
	for body, want := range tests {
		if got := detectDebug([]byte(body)); got != want {
			t.Errorf("detectDebug(%.40q) = %q, want %q", body, got, want)
		}
	}
}

func TestParsePage(t *testing.T) {
	u, _ := url.Parse("https://example.com/dir/")
	p := parsePage([]byte(`<html><head>
<meta http-equiv="Strict-Transport-Security" content="max-age=1">
<link rel=stylesheet href="http://cdn.test/a.css"><link rel=icon href="/fav.ico">
<script src="//cdn.test/b.js"></script><script src="http://cdn.test/c.js"></script>
</head><body><img src="http://img.test/x.png" srcset="http://img.test/y.png 2x, /z.png 3x">
<form method=POST action="http://example.com/login"><input type=password name=pw><input type=hidden name=csrfmiddlewaretoken></form>
<form action=search><input name=q>
<base href="http://other.test/"><img src="rel.png">
</body></html>`), u)
	var insecure []string
	for _, r := range p.subresources {
		if isInsecureURL(r.url) {
			insecure = append(insecure, r.tag+":"+r.url)
		}
	}
	want := []string{"link:http://cdn.test/a.css", "script:http://cdn.test/c.js", "img:http://img.test/x.png", "img:http://img.test/y.png", "img:http://other.test/rel.png"}
	if !slices.Equal(insecure, want) {
		t.Errorf("insecure subresources %v, want %v", insecure, want)
	}
	if len(p.forms) != 2 || !p.forms[0].hasPassword || p.forms[0].method != "post" || p.forms[0].action != "http://example.com/login" ||
		!slices.Equal(p.forms[0].hidden, []string{"csrfmiddlewaretoken"}) || p.forms[1].action != "https://example.com/dir/search" {
		t.Errorf("forms %+v", p.forms)
	}
	if len(p.metas) != 1 || p.metas[0].httpEquiv != "strict-transport-security" {
		t.Errorf("metas %+v", p.metas)
	}
}

func TestGrade(t *testing.T) {
	for score, want := range map[int]string{100: "A+", 99: "A", 90: "A", 89: "A-", 80: "B+", 70: "B", 65: "B-", 60: "C+", 50: "C", 45: "C-", 40: "D+", 30: "D", 25: "D-", 24: "F", 0: "F"} {
		if got := LetterGrade(score); got != want {
			t.Errorf("LetterGrade(%d) = %s, want %s", score, got, want)
		}
	}
}

func TestCatalogIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Catalog() {
		if seen[c.ID] {
			t.Errorf("duplicate check ID %s", c.ID)
		}
		seen[c.ID] = true
		if c.Title == "" || c.Description == "" || c.Fix == "" || c.Category == "" {
			t.Errorf("check %s is missing documentation", c.ID)
		}
	}
	carried := map[string]string{}
	for _, c := range catalog {
		if c.decide == nil {
			t.Errorf("check %s has no decide function", c.ID)
		}
		if len(c.Outcomes) == 0 && c.Observatory == "" {
			t.Errorf("check %s declares no outcome", c.ID)
		}
		results := map[string]bool{}
		for _, o := range c.Outcomes {
			if results[o.Result] || o.Result == "" {
				t.Errorf("check %s: outcome %q is empty or declared twice", c.ID, o.Result)
			}
			results[o.Result] = true
			switch o.Status {
			case StatusFail, StatusWarn:
				if o.Impact > 0 {
					t.Errorf("check %s: %s %s has a bonus (%d)", c.ID, o.Status, o.Result, o.Impact)
				}
			case StatusPass, StatusInfo:
				if o.Impact != 0 {
					t.Errorf("check %s: %s %s has an impact (%d)", c.ID, o.Status, o.Result, o.Impact)
				}
			default:
				t.Errorf("check %s: outcome %s has status %q, which is not a verdict", c.ID, o.Result, o.Status)
			}
		}
		if c.Observatory != "" {
			if prev, ok := carried[c.Observatory]; ok {
				t.Errorf("Observatory test %s is carried by both %s and %s", c.Observatory, prev, c.ID)
			}
			carried[c.Observatory] = c.ID
		}
	}
	for _, name := range observatory.TestNames {
		if carried[name] == "" {
			t.Errorf("no check carries the Observatory test %s", name)
		}
	}
}
