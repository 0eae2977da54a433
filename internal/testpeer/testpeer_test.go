package testpeer

import (
	"strings"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	peers := []Peer{PostgreSQL, Chromium, Chromedriver, Observatory, Python, Django, Certutil, Keytool, Curl, Jq, Nginx, OpenSSL, Testssl}
	for _, p := range peers {
		if strings.Contains(p.Install, "]") {
			t.Errorf("%s: Install contains ']', which ends it early: %q", p.Name, p.Install)
		}
		// As go test prints it: indented, after the caller's file and line.
		line := "    x_test.go:12: " + Message(p, "not found on PATH [really]") + "\n"
		got, ok := Parse(line)
		if !ok || got != p {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", line, got, ok, p)
		}
	}
	if _, ok := Parse("    x_test.go:12: symlinks not supported"); ok {
		t.Error("Parse accepted a skip that names no peer")
	}
}
