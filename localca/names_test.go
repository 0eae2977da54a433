package localca

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseNameValid(t *testing.T) {
	tests := []struct {
		in      string
		wantDNS string
		wantIP  string
	}{
		{in: "localhost", wantDNS: "localhost"},
		{in: "LocalHost", wantDNS: "localhost"},
		{in: "example.test.", wantDNS: "example.test"},
		{in: "api.My-App.test", wantDNS: "api.my-app.test"},
		{in: "my_service.test", wantDNS: "my_service.test"},
		{in: "x.123a", wantDNS: "x.123a"},
		{in: "foo.0xg", wantDNS: "foo.0xg"},
		{in: "*.example.test", wantDNS: "*.example.test"},
		{in: "*.Example.Test.", wantDNS: "*.example.test"},
		{in: "bücher.test", wantDNS: "xn--bcher-kva.test"},
		{in: "*.bücher.test", wantDNS: "*.xn--bcher-kva.test"},
		{in: "xn--bcher-kva.test", wantDNS: "xn--bcher-kva.test"},
		{in: "BÜCHER.test", wantDNS: "xn--bcher-kva.test"},
		{in: "straße.de", wantDNS: "xn--strae-oqa.de"}, // non-transitional, as browsers
		{in: "ＥＸＡＭＰＬＥ.test", wantDNS: "example.test"},  // full-width letters are mapped
		{in: "café.localhost", wantDNS: "xn--caf-dma.localhost"},
		{in: "日本.test", wantDNS: "xn--wgv71a.test"},
		{in: strings.Repeat("a", 63) + ".test", wantDNS: strings.Repeat("a", 63) + ".test"},
		{in: "127.0.0.1", wantIP: "127.0.0.1"},
		{in: "192.168.1.20", wantIP: "192.168.1.20"},
		{in: "::1", wantIP: "::1"},
		{in: "[::1]", wantIP: "::1"},
		{in: "2001:DB8::1", wantIP: "2001:db8::1"},
		{in: "::ffff:127.0.0.1", wantIP: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := ParseName(tt.in)
			if err != nil {
				t.Fatalf("ParseName(%q) error: %v", tt.in, err)
			}
			if n.Input != tt.in {
				t.Errorf("Input = %q, want %q", n.Input, tt.in)
			}
			if tt.wantIP != "" {
				if !n.IsIP() || n.IP != netip.MustParseAddr(tt.wantIP) || n.DNS != "" {
					t.Errorf("got DNS %q IP %v, want IP %s", n.DNS, n.IP, tt.wantIP)
				}
				return
			}
			if n.IsIP() || n.DNS != tt.wantDNS {
				t.Errorf("got DNS %q IP %v, want DNS %q", n.DNS, n.IP, tt.wantDNS)
			}
			if got, want := n.IsWildcard(), strings.HasPrefix(tt.wantDNS, "*."); got != want {
				t.Errorf("IsWildcard = %v, want %v", got, want)
			}
		})
	}
}

func TestParseNameInvalid(t *testing.T) {
	tests := []struct {
		in     string
		reason string // a fragment the message must contain
	}{
		{"", "empty"},
		{" localhost", "white space"},
		{"localhost\n", "white space"},
		{"*", "bare"},
		{"*.", "needs a domain"},
		{".", "empty host"},
		{"*.test", "top-level"},
		{"*.localhost", "top-level"},
		{"*.*.example.test", "one wildcard level"},
		{"a.*.example.test", "whole leftmost label"},
		{"*a.example.test", "whole leftmost label"},
		{"a*.example.test", "whole leftmost label"},
		{"**.example.test", "whole leftmost label"},
		{"example.*", "whole leftmost label"},
		{"a..b", "empty label"},
		{".example.test", "empty label"},
		{"example.test..", "empty label"},
		{"-a.test", "hyphen"},
		{"a-.test", "hyphen"},
		{"exa mple.test", "contains ' '"},
		{"a/b.test", "contains '/'"},
		{"user@example.test", "contains '@'"},
		{strings.Repeat("a", 64) + ".test", "longer than 63"},
		{strings.Repeat("abcdefghi.", 26) + "test", "longer than 253"},
		{strings.Repeat("a", 2000), "longer than 1024"},
		{"1.2.3", "numeric"},
		{"127.1", "numeric"},
		{"app.0x7f", "numeric"},
		{"1.2.3.4.5", "numeric"},
		{"https://example.test", "URL"},
		{"example.test:8443", "host:port"},
		{"localhost:", "IPv6"},
		{"[127.0.0.1]", "only for IPv6"},
		{"[example.test]", "IPv6"},
		{"fe80::1%eth0", "zone"},
		{"xn--zz.test", "internationalised"},
		{"\u200d.test", "internationalised"},
		{"a\x00b.test", "contains"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := ParseName(tt.in)
			if err == nil {
				t.Fatalf("ParseName(%q) = %+v, want an error about %q", tt.in, n, tt.reason)
			}
			var ne *NameError
			if !errors.As(err, &ne) || ne.Name != tt.in {
				t.Fatalf("error %v is not a *NameError naming %q", err, tt.in)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not mention %q", err, tt.reason)
			}
			if !strings.Contains(err.Error(), "invalid certificate name") {
				t.Errorf("error %q does not say which name is invalid", err)
			}
		})
	}
}

func TestParseNamesDeduplicatesCanonicalForms(t *testing.T) {
	names, err := ParseNames("localhost", "LOCALHOST", "localhost.", "bücher.test", "xn--bcher-kva.test", "::1", "[::1]", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, n.String())
	}
	want := []string{"localhost", "xn--bcher-kva.test", "::1", "127.0.0.1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ParseNames = %q, want %q", got, want)
	}
	if _, err := ParseNames(); err == nil {
		t.Error("ParseNames() with no names succeeded")
	}
	if _, err := ParseNames("ok.test", "bad..test"); err == nil || !strings.Contains(err.Error(), "bad..test") {
		t.Errorf("ParseNames with one bad name: err = %v, want it to name bad..test", err)
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"localhost", "*.example.test", "bücher.test", "xn--bcher-kva.test", "::1", "[::1]",
		"127.0.0.1", "a.*.b", "*.*.x", "*", "1.2.3", "fe80::1%eth0", "example.test:80",
		"my_app.test", "ＥＸＡＭＰＬＥ.test", "straße.de", "\u200d.test", "a\u00ad.test", "٣.test",
		"https://x.test", "xn--.test", "xn--a.test", "a.b.", "..", ".", "*.", "[", "]", ":",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			var ne *NameError
			if !errors.As(err, &ne) {
				t.Fatalf("ParseName(%q) error %v is not a *NameError", s, err)
			}
			return
		}
		if n.IsIP() {
			if n.DNS != "" || n.IP.Zone() != "" || n.IP.Is4In6() {
				t.Fatalf("ParseName(%q) = %+v: bad IP form", s, n)
			}
			return
		}
		out := n.DNS
		if !utf8.ValidString(out) || len(out) == 0 || len(out) > maxNameLen {
			t.Fatalf("ParseName(%q) DNS = %q: bad length or encoding", s, out)
		}
		host := strings.TrimPrefix(out, "*.")
		if strings.Contains(host, "*") {
			t.Fatalf("ParseName(%q) DNS = %q: wildcard outside the leftmost label", s, out)
		}
		if err := checkHostname(host); err != nil {
			t.Fatalf("ParseName(%q) DNS = %q fails the hostname rules: %v", s, out, err)
		}
		if n.IsWildcard() && !strings.Contains(host, ".") {
			t.Fatalf("ParseName(%q) DNS = %q: wildcard below a single label", s, out)
		}
		// The canonical form is a fixed point.
		again, err := ParseName(out)
		if err != nil || again.DNS != out {
			t.Fatalf("ParseName(%q) = %q, but ParseName(%q) = %q, %v", s, out, out, again.DNS, err)
		}
	})
}
