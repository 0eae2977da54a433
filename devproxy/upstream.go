package devproxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultUpstreamHost is the host a bare port ("--to 8000") refers to.
// "localhost" rather than 127.0.0.1 because development servers disagree on
// which loopback address they bind: Django and Rails take 127.0.0.1, while
// Node 17+ and Vite often end up on ::1. The proxy dials localhost as both,
// so either kind of server is found.
const DefaultUpstreamHost = "localhost"

// ParseUpstream parses the address of the application to proxy to, as given
// to "httpsguard serve --to". It accepts a port ("8000", ":8000"), a host
// and port ("localhost:8000", "127.0.0.1:8000", "[::1]:8000") or an http://
// URL ("http://127.0.0.1:8000", whose port defaults to 80). The result is a
// URL with scheme http, host and explicit port, and no path.
//
// The upstream must speak plain HTTP: the proxy terminates TLS, and an
// https:// upstream is reported as an error that says so.
func ParseUpstream(s string) (*url.URL, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty upstream address: give a port (8000), host:port (localhost:8000) or URL (http://127.0.0.1:8000)")
	}
	if strings.ContainsAny(s, " \t\r\n\\") || strings.ContainsFunc(s, isControl) {
		return nil, fmt.Errorf("upstream %q: contains spaces, backslashes or control characters", in)
	}
	if isDigits(s) {
		port, err := parsePort(s)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: %w", in, err)
		}
		return &url.URL{Scheme: "http", Host: net.JoinHostPort(DefaultUpstreamHost, port)}, nil
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return parseUpstreamURL(in, s, strings.ToLower(s[:i]))
	}
	// host:port, or :port.
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return nil, fmt.Errorf("upstream %q has no port: write it as %s:8000, or as a URL such as http://%s", in, bracketIPv6(s), bracketIPv6(s))
		}
		return nil, fmt.Errorf("upstream %q is not a port, host:port or http:// URL: %w", in, err)
	}
	if port, err = parsePort(port); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", in, err)
	}
	if host == "" {
		host = DefaultUpstreamHost
	}
	if err := checkUpstreamHost(host); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", in, err)
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(strings.ToLower(host), port)}, nil
}

func parseUpstreamURL(in, s, scheme string) (*url.URL, error) {
	switch scheme {
	case "http":
	case "https":
		return nil, fmt.Errorf("upstream %q uses https: the application behind httpsguard serve must speak plain HTTP (httpsguard terminates TLS); use http://%s", in, s[len("https://"):])
	case "ws", "wss":
		return nil, fmt.Errorf("upstream %q: give the application's http:// address; WebSocket upgrades are proxied through it", in)
	default:
		return nil, fmt.Errorf("upstream %q: unsupported scheme %q, want http", in, scheme)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("upstream %q is not a valid URL: %w", in, err)
	}
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("upstream %q: user information in the URL is not supported", in)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("upstream %q: a path is not supported; the proxy forwards every path unchanged to http://%s", in, u.Host)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("upstream %q: a query is not supported", in)
	case u.Fragment != "":
		return nil, fmt.Errorf("upstream %q: a fragment is not supported", in)
	case u.Opaque != "":
		return nil, fmt.Errorf("upstream %q is not a valid URL: want http://host:port", in)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, fmt.Errorf("upstream %q has no host", in)
	}
	if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("upstream %q: empty port after the colon", in)
	}
	if port == "" {
		port = "80"
	}
	if port, err = parsePort(port); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", in, err)
	}
	if err := checkUpstreamHost(host); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", in, err)
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(strings.ToLower(host), port)}, nil
}

// checkUpstreamHost accepts an IP address or a DNS-looking name. It is not a
// full hostname validator (the dialer has the last word) but rejects what
// could never be dialled or would corrupt the Host of the upstream URL.
func checkUpstreamHost(host string) error {
	if net.ParseIP(host) != nil {
		return nil
	}
	if strings.Contains(host, "%") {
		return fmt.Errorf("host %q: IPv6 zones are not supported", host)
	}
	if len(host) > 253 {
		return fmt.Errorf("host %q is longer than 253 characters", host)
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host %q is not a valid host name", host)
		}
		for _, c := range label {
			if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return fmt.Errorf("host %q is not a valid host name (character %q)", host, c)
			}
		}
	}
	return nil
}

// parsePort checks a decimal port in 1-65535 and returns it without leading
// zeros.
func parsePort(p string) (string, error) {
	if p == "" {
		return "", errors.New("missing port")
	}
	if !isDigits(p) {
		return "", fmt.Errorf("port %q is not a number", p)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("port %s is out of range 1-65535", p)
	}
	return strconv.FormatUint(n, 10), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func bracketIPv6(h string) string {
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		return "[" + h + "]"
	}
	return h
}
