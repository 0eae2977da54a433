package autotls_test

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/autotls"
)

func TestNewRefuses(t *testing.T) {
	ok := http.NotFoundHandler()
	proxied := autotls.DefaultPolicy([]string{"example.com"})
	proxied.ProxySSLHeader, proxied.ProxySSLValue = "X-Forwarded-Proto", "https"
	dev := autotls.DefaultPolicy([]string{"example.com"})
	dev.Development = true
	invalid := autotls.DefaultPolicy([]string{"example.com"})
	invalid.FrameOptions = "ALLOWALL"
	for _, tc := range []struct {
		name string
		h    http.Handler
		opts autotls.Options
		want string
	}{
		{"nil handler", nil, autotls.Options{Domains: []string{"example.com"}}, "nil handler"},
		{"nothing to serve", ok, autotls.Options{}, "nothing to serve"},
		{"wildcard", ok, autotls.Options{Domains: []string{"*.example.com"}}, "wildcard certificates need the DNS challenge"},
		{"URL", ok, autotls.Options{Domains: []string{"https://example.com/"}}, "not a name a certificate can be issued for"},
		{"port", ok, autotls.Options{Domains: []string{"example.com:443"}}, "not a name"},
		{"proxy header", ok, autotls.Options{Domains: []string{"example.com"}, Policy: &proxied}, "TLS ends here"},
		{"development", ok, autotls.Options{Domains: []string{"example.com"}, Policy: &dev}, "Development"},
		{"invalid policy", ok, autotls.Options{Domains: []string{"example.com"}, Policy: &invalid}, `Policy.FrameOptions "ALLOWALL"`},
	} {
		if _, err := autotls.New(tc.h, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	s, err := autotls.New(ok, autotls.Options{Domains: []string{" Example.COM.", "example.com", "www.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range s.Status() {
		names = append(names, st.Name)
	}
	if !slices.Equal(names, []string{"example.com", "www.example.com"}) {
		t.Errorf("names %v", names)
	}
	if p := s.Policy(); !slices.Equal(p.AllowedHosts, names) || p.HSTSSeconds != 31536000 || !slices.Equal(p.SecureCookies, []string{"*"}) {
		t.Errorf("default policy %+v", p)
	}
}

// TestServeErrors checks what Serve and ServeListeners refuse.
func TestServeErrors(t *testing.T) {
	s, err := autotls.New(http.NotFoundHandler(), autotls.Options{Domains: []string{"example.com"}, HTTPAddr: "127.0.0.1:-1", Storage: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(t.Context()); err == nil || !strings.Contains(err.Error(), "listening for HTTP") {
		t.Errorf("bad address: %v", err)
	}

	// Shutdown before Serve: Serve returns at once, and closes the listeners.
	s, _ = autotls.New(http.NotFoundHandler(), autotls.Options{Domains: []string{"example.com"}, Storage: t.TempDir()})
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	httpLn, httpsLn := listeners(t)
	if err := s.ServeListeners(t.Context(), httpLn, httpsLn); err != nil {
		t.Errorf("ServeListeners after Shutdown: %v", err)
	}
	if _, err := httpLn.Accept(); err == nil {
		t.Error("the listener was left open")
	}
	// A server serves once.
	httpLn, httpsLn = listeners(t)
	if err := s.ServeListeners(t.Context(), httpLn, httpsLn); err == nil || !strings.Contains(err.Error(), "already served") {
		t.Errorf("second ServeListeners: %v", err)
	}
}

func TestDefaultStorage(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	if d, err := autotls.DefaultStorage(); err != nil || d != "/data/httpsguard/acme" {
		t.Errorf("%q, %v", d, err)
	}
	t.Setenv("XDG_DATA_HOME", "relative") // ignored, as the XDG spec says
	t.Setenv("HOME", "/home/u")
	if d, err := autotls.DefaultStorage(); err != nil || d != "/home/u/.local/share/httpsguard/acme" {
		t.Errorf("%q, %v", d, err)
	}
	t.Setenv("HOME", "")
	if _, err := autotls.DefaultStorage(); err == nil || !strings.Contains(err.Error(), "Options.Storage") {
		t.Errorf("without HOME: %v", err)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	ids := func(fs []httpsguard.Finding) map[string]string {
		m := map[string]string{}
		for _, f := range fs {
			m[f.ID] = f.Message
		}
		return m
	}
	base := autotls.Options{Domains: []string{"example.com", "www.example.com"}}
	preload := autotls.DefaultPolicy(base.Domains)
	preload.HSTSIncludeSubdomains, preload.HSTSPreload = true, true
	tenant := func(_ context.Context, name string) error {
		if strings.HasSuffix(name, "shop.example") {
			return nil
		}
		return errors.New("no")
	}

	// The default policy: the redirect is the HTTP listener's, so no
	// HGP-RED-001 even with SSLRedirect off, and no warning but the two
	// HSTS commitments left to the owner.
	p := autotls.DefaultPolicy(base.Domains)
	p.SSLRedirect = false
	got := ids(base.Check(ctx, p))
	for id := range got {
		switch id {
		case "HGP-HSTS-003", "HGP-HSTS-004", "HGP-CSP-001", "HGP-HDR-010":
		default:
			t.Errorf("default policy: unexpected %s: %s", id, got[id])
		}
	}
	if _, ok := ids(p.Check())["HGP-RED-001"]; !ok {
		t.Error("the policy's own check lost HGP-RED-001")
	}

	for _, tc := range []struct {
		name   string
		opts   autotls.Options
		policy func(p *httpsguard.Policy)
		want   string // a finding ID, and
		msg    string // part of its message; "" for no such finding
	}{
		{"preload, apex covered", base, func(p *httpsguard.Policy) { *p = preload }, "HGP-ACME-001", ""},
		{"preload, apex missing", autotls.Options{Domains: []string{"www.example.com"}},
			func(p *httpsguard.Policy) { *p = preload; p.AllowedHosts = []string{"www.example.com"} }, "HGP-ACME-001", "no certificate for example.com itself"},
		{"preload, apex on demand", autotls.Options{Domains: []string{"www.shop.example"}, OnDemand: tenant},
			func(p *httpsguard.Policy) { *p = preload; p.AllowedHosts = nil }, "HGP-ACME-001", ""},
		{"preload off", autotls.Options{Domains: []string{"www.example.com"}}, func(*httpsguard.Policy) {}, "HGP-ACME-001", ""},
		{"allowed host without certificate", base, func(p *httpsguard.Policy) { p.AllowedHosts = append(p.AllowedHosts, "api.example.com", ".example.com") },
			"HGP-ACME-002", "allows api.example.com, but"},
		{"allowed host on demand", autotls.Options{OnDemand: tenant}, func(p *httpsguard.Policy) { p.AllowedHosts = []string{"a.shop.example"} }, "HGP-ACME-002", ""},
		{"proxy header", base, func(p *httpsguard.Policy) { p.ProxySSLHeader, p.ProxySSLValue = "X-Forwarded-Proto", "https" }, "HGP-ACME-003", "TLS ends here"},
		{"development", base, func(p *httpsguard.Policy) { p.Development = true }, "HGP-ACME-003", "Development"},
		{"no domains", autotls.Options{}, func(*httpsguard.Policy) {}, "HGP-ACME-004", "nothing to serve"},
		{"on demand needs no AllowedHosts", autotls.Options{OnDemand: tenant}, func(p *httpsguard.Policy) { p.AllowedHosts = nil }, "HGP-HOST-001", ""},
		{"without on demand it does", base, func(p *httpsguard.Policy) { p.AllowedHosts = nil }, "HGP-HOST-001", "AllowedHosts is empty"},
		{"wildcard", autotls.Options{Domains: []string{"*.example.com"}}, func(*httpsguard.Policy) {}, "HGP-ACME-004", "DNS challenge"},
	} {
		p := autotls.DefaultPolicy(base.Domains)
		tc.policy(&p)
		msg, ok := ids(tc.opts.Check(ctx, p))[tc.want]
		switch {
		case tc.msg == "" && ok:
			t.Errorf("%s: unexpected %s: %s", tc.name, tc.want, msg)
		case tc.msg != "" && !strings.Contains(msg, tc.msg):
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.want, msg, tc.msg)
		}
	}
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated table in docs/enforce.md")

// TestChecksDocumented keeps the table of this package's checks in
// docs/enforce.md generated from the code (-update-docs rewrites it).
func TestChecksDocumented(t *testing.T) {
	var b strings.Builder
	b.WriteString("| ID | severity | field | finding |\n|---|---|---|---|\n")
	for _, c := range autotls.Checks() {
		b.WriteString("| " + c.ID + " | " + string(c.Severity) + " | `" + c.Field + "` | " + c.Title + " |\n")
	}
	const file, begin, end = "../docs/enforce.md", "<!-- acme-checks:begin -->\n", "<!-- acme-checks:end -->"
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s has no acme-checks section", file)
	}
	if got := string(doc[i+len(begin) : j]); got != b.String() {
		if !*updateDocs {
			t.Fatalf("the table of autotls checks in %s is out of date: run go test -run TestChecksDocumented ./autotls -update-docs", file)
		}
		if err := os.WriteFile(file, []byte(string(doc[:i+len(begin)])+b.String()+string(doc[j:])), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
