package devproxy

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestParseUpstream(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "8000", want: "http://localhost:8000"},
		{in: " 8000 ", want: "http://localhost:8000"},
		{in: ":8000", want: "http://localhost:8000"},
		{in: "08000", want: "http://localhost:8000"},
		{in: "localhost:3000", want: "http://localhost:3000"},
		{in: "127.0.0.1:8000", want: "http://127.0.0.1:8000"},
		{in: "[::1]:8000", want: "http://[::1]:8000"},
		{in: "app.docker.internal:8000", want: "http://app.docker.internal:8000"},
		{in: "http://127.0.0.1:8000", want: "http://127.0.0.1:8000"},
		{in: "http://127.0.0.1:8000/", want: "http://127.0.0.1:8000"},
		{in: "HTTP://LocalHost:8000", want: "http://localhost:8000"},
		{in: "http://localhost", want: "http://localhost:80"},
		{in: "http://[::1]:9000", want: "http://[::1]:9000"},

		{in: "", err: "empty upstream"},
		{in: "0", err: "out of range"},
		{in: "65536", err: "out of range"},
		{in: "99999999999999999999", err: "out of range"},
		{in: "localhost", err: "has no port"},
		{in: "::1", err: "not a port, host:port"},
		{in: "localhost:http", err: "not a number"},
		{in: "localhost:", err: "missing port"},
		{in: "localhost:-1", err: "not a number"},
		{in: "https://localhost:8000", err: "must speak plain HTTP"},
		{in: "ws://localhost:8000", err: "WebSocket"},
		{in: "ftp://localhost:21", err: "unsupported scheme"},
		{in: "http://localhost:8000/app", err: "a path is not supported"},
		{in: "http://localhost:8000?x=1", err: "query"},
		{in: "http://localhost:8000#f", err: "fragment"},
		{in: "http://user:pw@localhost:8000", err: "user information"},
		{in: "http://:8000", err: "no host"},
		{in: "http://localhost:", err: "empty port"},
		{in: "http://local host:8000", err: "spaces"},
		{in: "bad_host!:8000", err: "not a valid host name"},
		{in: "[fe80::1%25eth0]:8000", err: "zones"},
		{in: "a..b:8000", err: "not a valid host name"},
		{in: "localhost:8000\n", want: "http://localhost:8000"},
		{in: "local\x00host:80", err: "control characters"},
	}
	for _, tc := range tests {
		u, err := ParseUpstream(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseUpstream(%q) = %v, %v; want error containing %q", tc.in, u, err, tc.err)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseUpstream(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

func FuzzParseUpstream(f *testing.F) {
	for _, s := range []string{
		"8000", ":8000", "localhost:8000", "127.0.0.1:8000", "[::1]:8000",
		"http://127.0.0.1:8000", "http://localhost", "https://x:1", "http://[::1]:0",
		"http://a@b:1/", "localhost", "::1", "[::1]", "http://%41:80", "http://[fe80::1%25en0]:80",
		"http://x:65535", "ws://a:1", "http://a:1?#", "0x50", "+80", "http://a:+1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUpstream(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if u.Scheme != "http" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("ParseUpstream(%q) = %#v: want a bare http://host:port URL", s, u)
		}
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" {
			t.Fatalf("ParseUpstream(%q) host %q: %v", s, u.Host, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("ParseUpstream(%q) port %q", s, port)
		}
		// The result is stable: parsing its string gives it back.
		again, err := ParseUpstream(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("ParseUpstream(%q) = %s, which reparses as %v, %v", s, u, again, err)
		}
		if _, err := url.Parse(u.String()); err != nil {
			t.Fatalf("result %s does not parse: %v", u, err)
		}
	})
}
