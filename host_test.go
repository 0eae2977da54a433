package httpsguard

import (
	"net/url"
	"strings"
	"testing"
)

func TestSplitHost(t *testing.T) {
	for _, tc := range []struct {
		host, name string
		ok         bool
	}{
		{"example.com", "example.com", true},
		{"Example.COM", "Example.COM", true},
		{"example.com.", "example.com", true},
		{"example.com.:443", "example.com", true},
		{"example.com:0", "example.com", true},
		{"example.com:65535", "example.com", true},
		{"localhost", "localhost", true},
		{"my_app", "my_app", true},
		{"127.0.0.1:8000", "127.0.0.1", true},
		{"[::1]", "[::1]", true},
		{"[::1]:8443", "[::1]", true},
		{"[2001:db8::1]", "[2001:db8::1]", true},
		{"[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]", true},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", true},

		{"", "", false},
		{".", "", false},
		{"example.com:", "", false},
		{"example.com:65536", "", false},
		{"example.com:123456", "", false},
		{"example.com:-1", "", false},
		{"example.com:80:80", "", false},
		{"example..com", "", false},
		{".example.com", "", false},
		{"example.com..", "", false},
		{"exa mple.com", "", false},
		{"example.com/", "", false},
		{"example.com\\", "", false},
		{"user@example.com", "", false},
		{"example.com#", "", false},
		{"example.com?", "", false},
		{"example.com\r\n", "", false},
		{"bücher.example", "", false},
		{"[::1", "", false},
		{"[::1]x", "", false},
		{"[::1]:", "", false},
		{"[192.0.2.1]", "", false},
		{"[fe80::1%eth0]", "", false},
		{"[fe80::1%25eth0]", "", false},
		{"::1", "", false},
		{strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com", true},
		{strings.Repeat("a", 64) + ".com", "", false},
		{strings.Repeat("a.", 127) + "a", strings.Repeat("a.", 127) + "a", false}, // 255 bytes
	} {
		name, ok := splitHost(tc.host)
		if ok != tc.ok || ok && name != tc.name {
			t.Errorf("splitHost(%q) = %q, %v; want %q, %v", tc.host, name, ok, tc.name, tc.ok)
		}
	}
}

func TestAllowedHosts(t *testing.T) {
	m, bad := compileHosts([]string{"Example.com", ".example.org", "[::1]", "127.0.0.1", "::2", "trailing.dot."})
	if bad != nil {
		t.Fatal(bad)
	}
	for host, want := range map[string]bool{
		"example.com":          true,
		"EXAMPLE.COM":          true,
		"example.com:8080":     true,
		"example.com.":         true,
		"www.example.com":      false,
		"example.org":          true,
		"a.b.example.org":      true,
		"a.b.EXAMPLE.org.:443": true,
		"badexample.org":       false,
		"example.org.evil.com": false,
		"[::1]":                true,
		"[0::1]:443":           true,
		"[::2]":                true,
		"[::3]":                false,
		"127.0.0.1:80":         true,
		"127.0.0.2":            false,
		"trailing.dot":         true,
		"":                     false,
		"example.com/":         false,
		"evil.com@example.com": false,
	} {
		if got := m.match(host); got != want {
			t.Errorf("match(%q) = %v, want %v", host, got, want)
		}
	}
	any, _ := compileHosts([]string{"*"})
	if !any.match("anything.test") || any.match("bad host") {
		t.Error(`"*" must match every valid host and no invalid one`)
	}
}

// FuzzHost checks that a Host accepted by splitHost is safe to put in a
// Location header and means the same host once there, and that the allowed
// hosts check never accepts what splitHost refuses.
func FuzzHost(f *testing.F) {
	for _, s := range []string{
		"example.com", "example.com:8080", "[::1]:443", "a@b", "a/b", "a\r\nb", "[fe80::1%25x]",
		"example.com.", "xn--p1ai", "a:b:c", "[::ffff:1.2.3.4]", "..", "a_b",
	} {
		f.Add(s)
	}
	m, _ := compileHosts([]string{"*"})
	f.Fuzz(func(t *testing.T, host string) {
		name, ok := splitHost(host)
		if m.match(host) != ok {
			t.Fatalf("match(%q) = %v but splitHost ok = %v", host, !ok, ok)
		}
		if !ok {
			return
		}
		if strings.ContainsAny(host, "/\\@?#\r\n \t%") {
			t.Fatalf("accepted %q", host)
		}
		u, err := url.Parse("https://" + host + "/path")
		if err != nil {
			t.Fatalf("accepted %q, which makes an invalid URL: %v", host, err)
		}
		if u.Host != host || u.User != nil || u.Path != "/path" {
			t.Fatalf("accepted %q: URL host %q, user %v, path %q", host, u.Host, u.User, u.Path)
		}
		if !strings.HasPrefix(strings.ToLower(u.Hostname()), strings.ToLower(strings.Trim(name, "[]"))) {
			t.Fatalf("name %q is not the URL's hostname %q", name, u.Hostname())
		}
	})
}
