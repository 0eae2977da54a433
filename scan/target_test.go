package scan

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
		url  string
	}{
		{"example.com", Target{"https", "example.com", 0, "/"}, "https://example.com/"},
		{"  Example.COM.  ", Target{"https", "example.com", 0, "/"}, "https://example.com/"},
		{"example.com:8443", Target{"https", "example.com", 8443, "/"}, "https://example.com:8443/"},
		{"example.com:0443", Target{"https", "example.com", 443, "/"}, "https://example.com/"},
		{"HTTPS://example.com:8443/app?x=1#frag", Target{"https", "example.com", 8443, "/app?x=1"}, "https://example.com:8443/app?x=1"},
		{"http://example.com:8080", Target{"http", "example.com", 8080, "/"}, "http://example.com:8080/"},
		{"http://example.com:80/", Target{"http", "example.com", 80, "/"}, "http://example.com/"},
		{"http://example.com:443/", Target{"http", "example.com", 443, "/"}, "http://example.com:443/"},
		{"example.com:", Target{"https", "example.com", 0, "/"}, "https://example.com/"},
		{"[::1]:8443", Target{"https", "::1", 8443, "/"}, "https://[::1]:8443/"},
		{"[2001:DB8::0001]", Target{"https", "2001:db8::1", 0, "/"}, "https://[2001:db8::1]/"},
		{"[::ffff:127.0.0.1]:8443", Target{"https", "127.0.0.1", 8443, "/"}, "https://127.0.0.1:8443/"},
		{"[fe80::1%25eth0]:8443", Target{"https", "fe80::1%eth0", 8443, "/"}, "https://[fe80::1%25eth0]:8443/"},
		{"127.0.0.1", Target{"https", "127.0.0.1", 0, "/"}, "https://127.0.0.1/"},
		{"１２７.０.０.１", Target{"https", "127.0.0.1", 0, "/"}, "https://127.0.0.1/"},
		{"bücher.example", Target{"https", "xn--bcher-kva.example", 0, "/"}, "https://xn--bcher-kva.example/"},
		{"example.com．", Target{"https", "example.com", 0, "/"}, "https://example.com/"},
		{"BÜCHER.example。", Target{"https", "xn--bcher-kva.example", 0, "/"}, "https://xn--bcher-kva.example/"},
		{"xn--bcher-kva.example", Target{"https", "xn--bcher-kva.example", 0, "/"}, "https://xn--bcher-kva.example/"},
		{"faß.de", Target{"https", "xn--fa-hia.de", 0, "/"}, "https://xn--fa-hia.de/"},
		// A name ending in a number is an IPv4 address, as browsers read it.
		{"127.1", Target{"https", "127.0.0.1", 0, "/"}, "https://127.0.0.1/"},
		{"http://2130706433/", Target{"http", "127.0.0.1", 0, "/"}, "http://127.0.0.1/"},
		{"0x7f.0.0.1:8443", Target{"https", "127.0.0.1", 8443, "/"}, "https://127.0.0.1:8443/"},
		{"0X7F.1.", Target{"https", "127.0.0.1", 0, "/"}, "https://127.0.0.1/"},
		{"017700000001", Target{"https", "127.0.0.1", 0, "/"}, "https://127.0.0.1/"},
		{"1.2.0x304", Target{"https", "1.2.3.4", 0, "/"}, "https://1.2.3.4/"},
		{"0x", Target{"https", "0.0.0.0", 0, "/"}, "https://0.0.0.0/"},
		{"８.８.８.８", Target{"https", "8.8.8.8", 0, "/"}, "https://8.8.8.8/"},
		{"1.2.3.abc", Target{"https", "1.2.3.abc", 0, "/"}, "https://1.2.3.abc/"}, // "abc" is no number
		// Names browsers open though idna.Lookup refuses them.
		{"my_service:8080", Target{"https", "my_service", 8080, "/"}, "https://my_service:8080/"},
		{"r3---sn-abc.googlevideo.com", Target{"https", "r3---sn-abc.googlevideo.com", 0, "/"}, "https://r3---sn-abc.googlevideo.com/"},
		// The "://" is in the query, not after a scheme.
		{"example.com?next=https://example.org/", Target{"https", "example.com", 0, "/?next=https://example.org/"}, "https://example.com/?next=https://example.org/"},
		{"example.com/login?next=https://example.org/", Target{"https", "example.com", 0, "/login?next=https://example.org/"}, "https://example.com/login?next=https://example.org/"},
		// What may not stand in a query is escaped; escapes are kept.
		{`https://example.com/a b?q=a b"<>&r=%41`, Target{"https", "example.com", 0, "/a%20b?q=a%20b%22%3C%3E&r=%41"}, "https://example.com/a%20b?q=a%20b%22%3C%3E&r=%41"},
		{"https://example.com/ü?ü", Target{"https", "example.com", 0, "/%C3%BC?%C3%BC"}, "https://example.com/%C3%BC?%C3%BC"},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want || got.URL() != tt.url {
			t.Errorf("ParseTarget(%q) = %+v, URL %q; want %+v, URL %q", tt.in, got, got.URL(), tt.want, tt.url)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	tests := []struct {
		in   string
		kind error
		part string
		msg  string // the whole message, when it matters
	}{
		{in: "", kind: ErrTargetEmpty, msg: `target "": no target given`},
		{in: " \t", kind: ErrTargetEmpty},
		{in: "ftp://example.com", kind: ErrTargetScheme, part: "ftp", msg: `target "ftp://example.com": unsupported scheme "ftp": only http and https can be scanned`},
		{in: "FTP://example.com", kind: ErrTargetScheme, part: "ftp"},
		{in: "https://user:pw@example.com", kind: ErrTargetUserInfo, msg: `target "https://user:pw@example.com": a user name or password is not allowed`},
		{in: "mailto:a@example.com", kind: ErrTargetUserInfo},
		{in: "https://", kind: ErrTargetNoHost},
		{in: "https://./", kind: ErrTargetNoHost},
		{in: "https:///path", kind: ErrTargetNoHost},
		{in: "exa mple.com", kind: ErrTargetSyntax, msg: `target "exa mple.com": not a host name or URL: invalid character " " in host name`},
		{in: "javascript:alert(1)", kind: ErrTargetSyntax},
		{in: "1ftp://example.com", kind: ErrTargetSyntax, msg: `target "1ftp://example.com": not a host name or URL: "1ftp" before "://" is not a scheme`},
		{in: "://example.com", kind: ErrTargetSyntax},
		{in: "https://[::1", kind: ErrTargetSyntax},
		{in: "example.com\x00", kind: ErrTargetSyntax},
		{in: "example.123", kind: ErrTargetHost, part: "example.123"},
		{in: "1.2.3.256", kind: ErrTargetHost},
		{in: "1.2.3.4.5", kind: ErrTargetHost},
		{in: "4294967296", kind: ErrTargetHost},
		{in: "99999999999999999999999", kind: ErrTargetHost},
		{in: "08.1", kind: ErrTargetHost},
		{in: "1.0x100.1", kind: ErrTargetHost},
		{in: "example.com:99999", kind: ErrTargetPort, part: "99999", msg: `target "example.com:99999": bad port "99999": not a number from 1 to 65535`},
		{in: "example.com:0", kind: ErrTargetPort, part: "0"},
		{in: "example.com:99999999999999999999", kind: ErrTargetPort},
		{in: "Example..com", kind: ErrTargetHost, part: "example..com", msg: `target "Example..com": bad host "example..com": empty label (two dots in a row, a leading dot or a bare "xn--")`},
		{in: ".example.com", kind: ErrTargetHost},
		{in: "exa$mple.com", kind: ErrTargetHost, msg: `target "exa$mple.com": bad host "exa$mple.com": character '$' is not allowed (only letters, digits, '-', '_' and dots)`},
		{in: "⑴.example", kind: ErrTargetHost},
		{in: strings.Repeat("a", 64) + ".com", kind: ErrTargetHost},
		{in: strings.Repeat("a.", 127) + "com", kind: ErrTargetHost, msg: "longer than 253 characters"},
		{in: "xn--a.example", kind: ErrTargetHost},
		{in: "xn--.example", kind: ErrTargetHost},
		{in: "example.XN--", kind: ErrTargetHost, part: "example.xn--"},
		{in: "example.com.。", kind: ErrTargetHost},
		{in: "[fe80::1%25a%20b]", kind: ErrTargetHost, msg: "zone"},
		{in: "[fe80::1%25a%25b]", kind: ErrTargetHost},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		var te *TargetError
		if !errors.As(err, &te) {
			t.Errorf("ParseTarget(%q) = %+v, %v; want a *TargetError", tt.in, got, err)
			continue
		}
		if !errors.Is(err, tt.kind) || te.Kind != tt.kind || te.Target != tt.in || tt.part != "" && te.Part != tt.part {
			t.Errorf("ParseTarget(%q) = %#v; want kind %q, part %q", tt.in, te, tt.kind, tt.part)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseTarget(%q): %q; want %q", tt.in, err, tt.msg)
		}
	}
}

// TestParseTargetPorts checks how the scanner fills in the ports a target
// does not name.
func TestParseTargetPorts(t *testing.T) {
	tests := []struct {
		in                  string
		httpPort, httpsPort int
		httpsURL, httpURL   string
	}{
		{"example.com", 80, 443, "https://example.com/", "http://example.com/"},
		{"example.com/app?x=1", 8080, 8443, "https://example.com:8443/app?x=1", "http://example.com:8080/app?x=1"},
		{"example.com:9443", 8080, 8443, "https://example.com:9443/", "http://example.com:8080/"},
		{"https://example.com:443", 8080, 8443, "https://example.com/", "http://example.com:8080/"},
		{"http://example.com:9080", 8080, 8443, "https://example.com:8443/", "http://example.com:9080/"},
		{"[::1]:8443", 80, 443, "https://[::1]:8443/", "http://[::1]/"},
		{"[fe80::1%25eth0]", 80, 443, "https://[fe80::1%25eth0]/", "http://[fe80::1%25eth0]/"},
	}
	for _, tt := range tests {
		got, err := parseTarget(tt.in, tt.httpPort, tt.httpsPort)
		if err != nil {
			t.Errorf("parseTarget(%q): %v", tt.in, err)
			continue
		}
		if got.httpsURL() != tt.httpsURL || got.httpURL() != tt.httpURL {
			t.Errorf("parseTarget(%q) gives %q and %q; want %q and %q", tt.in, got.httpsURL(), got.httpURL(), tt.httpsURL, tt.httpURL)
		}
	}
}

// FuzzParseTarget checks that any input either fails with a *TargetError or
// gives a target whose URL Go parses back to the same host, port and path,
// and which ParseTarget reads back to the same URL.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"example.com", "https://example.com:8443/x", "[::1]:1", "http://a", "::::", "https://[::1", "a:b:c",
		"bücher.example", "xn--bcher-kva.example", "xn--", "[fe80::1%25eth0]", "[::ffff:10.0.0.1]", "a.b/?c=https://d", `a/"?"`, "１２７.０.０.１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			var te *TargetError
			if !errors.As(err, &te) || te.Kind == nil {
				t.Fatalf("ParseTarget(%q): %v is not a *TargetError with a kind", s, err)
			}
			return
		}
		if tg.Host == "" || tg.Port < 0 || tg.Port > 65535 || !strings.HasPrefix(tg.Path, "/") || tg.Scheme != "https" && tg.Scheme != "http" {
			t.Fatalf("%q parsed to %+v", s, tg)
		}
		u, err := url.Parse(tg.URL())
		if err != nil {
			t.Fatalf("%q gives a bad URL %q: %v", s, tg.URL(), err)
		}
		if u.Hostname() != tg.Host || u.RequestURI() != tg.Path || u.User != nil || u.Fragment != "" {
			t.Fatalf("%q gives URL %q, which Go reads as host %q, request URI %q", s, tg.URL(), u.Hostname(), u.RequestURI())
		}
		if strings.ContainsAny(tg.URL(), " \t\r\n\"<>\\^`{|}") {
			t.Fatalf("URL %q of %q holds characters that need escaping", tg.URL(), s)
		}
		again, err := ParseTarget(tg.URL())
		if err != nil || again.URL() != tg.URL() || again.Host != tg.Host {
			t.Fatalf("%q gives URL %q, which parses to %+v, %v", s, tg.URL(), again, err)
		}
		st, err := parseTarget(s, 80, 443)
		if err != nil {
			t.Fatalf("parseTarget(%q): %v, but ParseTarget accepts it", s, err)
		}
		for _, v := range []string{st.httpsURL(), st.httpURL()} {
			if _, err := url.Parse(v); err != nil {
				t.Fatalf("%q gives a bad URL %q: %v", s, v, err)
			}
		}
	})
}
