package csp

import (
	"slices"
	"testing"

	"github.com/httpsguard/httpsguard/internal/ascii"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in         string
		want       string
		duplicates []string
		skipped    int
	}{
		{"default-src 'self'", "default-src 'self'", nil, 0},
		{"  DEFAULT-SRC   'self'\thttps://a.example ;; ", "default-src 'self' https://a.example", nil, 0},
		{"script-src 'self'; SCRIPT-SRC *; img-src data:", "script-src 'self'; img-src data:", []string{"script-src"}, 0},
		{"script-src 'self'; script-src a; script-src b", "script-src 'self'", []string{"script-src"}, 0},
		{"default-src 'none'; img-src ex\u00e4mple.com", "default-src 'none'", nil, 1},
		{"upgrade-insecure-requests", "upgrade-insecure-requests", nil, 0},
		{"", "", nil, 0},
		{";;;", "", nil, 0},
		// A non-breaking space is not ASCII whitespace: the token is skipped.
		{"default-src\u00a0'self'", "", nil, 1},
	}
	for _, c := range cases {
		p := Parse(c.in)
		if got := p.String(); got != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.in, got, c.want)
		}
		if !slices.Equal(p.Duplicates, c.duplicates) || p.Skipped != c.skipped {
			t.Errorf("Parse(%q): duplicates %q skipped %d, want %q %d", c.in, p.Duplicates, p.Skipped, c.duplicates, c.skipped)
		}
	}
}

func TestParseHeaderSplitsPolicies(t *testing.T) {
	ps := ParseHeader("default-src 'self', script-src https://a.example, ,  ")
	if len(ps) != 2 || ps[0].String() != "default-src 'self'" || ps[1].String() != "script-src https://a.example" {
		t.Fatalf("got %v", ps)
	}
	if ps := ParseHeaders([]string{"default-src 'none'", "img-src 'self', frame-ancestors 'none'"}); len(ps) != 3 {
		t.Fatalf("ParseHeaders: got %d policies", len(ps))
	}
}

func TestParseMetaDropsHeaderOnlyDirectives(t *testing.T) {
	p, ignored := ParseMeta("default-src 'self'; frame-ancestors 'none'; report-uri /r; sandbox; img-src *")
	if p.String() != "default-src 'self'; img-src *" {
		t.Errorf("policy = %q", p.String())
	}
	if !slices.Equal(ignored, []string{"frame-ancestors", "report-uri", "sandbox"}) {
		t.Errorf("ignored = %q", ignored)
	}
}

func TestEffectiveFallsBack(t *testing.T) {
	p := Parse("default-src 'none'; child-src https://c.example; script-src 'self'")
	cases := map[string]string{
		"script-src-elem": "script-src",
		"worker-src":      "child-src",
		"frame-src":       "child-src",
		"img-src":         "default-src",
		"style-src-attr":  "default-src",
		"script-src":      "script-src",
	}
	for name, want := range cases {
		d, ok := p.Effective(name)
		if !ok || d.Name != want {
			t.Errorf("Effective(%s) = %s %v, want %s", name, d.Name, ok, want)
		}
	}
	if _, ok := Parse("img-src 'self'").Effective("script-src"); ok {
		t.Error("script-src governed without script-src or default-src")
	}
	if d, ok := p.Effective("frame-ancestors"); ok {
		t.Errorf("frame-ancestors must not fall back: got %v", d)
	}
}

func TestParseSource(t *testing.T) {
	cases := []struct {
		raw  string
		want Source
	}{
		{"'self'", Source{Kind: KindKeyword, Keyword: Self}},
		{"'SELF'", Source{Kind: KindKeyword, Keyword: Self}},
		{"'Unsafe-Inline'", Source{Kind: KindKeyword, Keyword: UnsafeInline}},
		{"'strict-dynamic'", Source{Kind: KindKeyword, Keyword: StrictDynamic}},
		{"'nonce-abc+/_-=='", Source{Kind: KindNonce, Value: "abc+/_-=="}},
		{"'nonce-'", Source{}},
		{"'nonce-a==='", Source{}},
		{"'sha256-q83vEjRWeJC='", Source{Kind: KindHash, Algorithm: "sha256", Value: "q83vEjRWeJC="}},
		{"'SHA512-abc'", Source{Kind: KindHash, Algorithm: "sha512", Value: "abc"}},
		{"'md5-abc'", Source{}},
		{"'self", Source{}},
		{"https:", Source{Kind: KindScheme, Scheme: "https"}},
		{"Data:", Source{Kind: KindScheme, Scheme: "data"}},
		{"*", Source{Kind: KindHost, Host: "*"}},
		{"*.example.com", Source{Kind: KindHost, Host: "*.example.com"}},
		{"https://*.example.com:*", Source{Kind: KindHost, Scheme: "https", Host: "*.example.com", Port: "*"}},
		{"HTTP://Example.com:8080/path/a.js", Source{Kind: KindHost, Scheme: "http", Host: "example.com", Port: "8080", Path: "/path/a.js"}},
		{"example.com.", Source{Kind: KindHost, Host: "example.com."}},
		{"example..com", Source{}},
		{"https://", Source{}},
		{"exa_mple.com", Source{}},
		{"example.com:80a", Source{}},
		{"example.com/a,b", Source{}},
		{"1http:", Source{}},
	}
	for _, c := range cases {
		got := ParseSource(c.raw)
		c.want.Raw = c.raw
		if got != c.want {
			t.Errorf("ParseSource(%q) = %+v, want %+v", c.raw, got, c.want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	cases := []struct {
		directive string
		script    bool
		want      Analysis
	}{
		{"script-src 'self'", true, Analysis{}},
		{"script-src 'none'", true, Analysis{None: true}},
		{"script-src", true, Analysis{None: true}},
		{"script-src 'unsafe-inline'", true, Analysis{UnsafeInline: true}},
		{"script-src 'unsafe-inline' 'nonce-abc'", true, Analysis{NoncesOrHashes: true}},
		{"script-src 'unsafe-inline' 'sha256-abc' 'unsafe-eval'", true, Analysis{NoncesOrHashes: true, UnsafeEval: true}},
		{"script-src 'strict-dynamic' 'nonce-abc' https: http://cdn.example 'self' 'unsafe-inline'", true,
			Analysis{StrictDynamic: true, NoncesOrHashes: true}},
		{"script-src 'strict-dynamic' https:", true, Analysis{Broad: []string{"https:"}}},
		{"style-src 'strict-dynamic' 'nonce-a' https:", false, Analysis{NoncesOrHashes: true, Broad: []string{"https:"}}},
		{"script-src * data: http://cdn.example", true, Analysis{Broad: []string{"*", "data:"}, Insecure: []string{"http://cdn.example"}}},
		{"img-src http:", false, Analysis{Broad: []string{"http:"}, Insecure: []string{"http:"}}},
	}
	for _, c := range cases {
		d := Parse(c.directive).Directives[0]
		got := d.Analyze(c.script)
		if got.None != c.want.None || got.UnsafeInline != c.want.UnsafeInline || got.UnsafeEval != c.want.UnsafeEval ||
			got.StrictDynamic != c.want.StrictDynamic || got.NoncesOrHashes != c.want.NoncesOrHashes ||
			!slices.Equal(got.Broad, c.want.Broad) || !slices.Equal(got.Insecure, c.want.Insecure) {
			t.Errorf("%q: got %+v, want %+v", c.directive, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"default-src 'self'; script-src 'nonce-abc' 'strict-dynamic' https:; object-src 'none'",
		"DEFAULT-SRC *; default-src 'none', img-src data:",
		"script-src 'sha256-abc=' 'unsafe-inline'; report-uri /r; report-uri /s",
		"upgrade-insecure-requests;;;",
		"img-src https://*.example.com:*/path/ ex\u00e4mple.com",
		"frame-ancestors 'none'; sandbox allow-scripts",
		"\x00;\xff; a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range append(ParseHeader(s), Parse(s)) {
			seen := map[string]bool{}
			for _, d := range p.Directives {
				if d.Name == "" || seen[d.Name] || d.Name != lower(d.Name) || !ascii.Is(d.Name) {
					t.Fatalf("bad directive %q in %q", d.Name, s)
				}
				seen[d.Name] = true
				for _, src := range d.Sources() {
					_ = src.Kind.String()
				}
				_ = d.Analyze(true)
			}
			// Serializing and parsing again gives the same policy.
			again := Parse(p.String())
			if again.String() != p.String() || len(again.Duplicates) != 0 || again.Skipped != 0 {
				t.Fatalf("round trip of %q: %q became %q", s, p.String(), again.String())
			}
		}
		_, _ = ParseMeta(s)
	})
}

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"'self'", "'nonce-a=='", "'sha384-x'", "https:", "https://*.a.example:443/p", "*", "a..b", "'", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s := ParseSource(raw)
		if s.Raw != raw {
			t.Fatalf("Raw = %q, want %q", s.Raw, raw)
		}
		switch s.Kind {
		case KindKeyword:
			if !keywords[s.Keyword] {
				t.Fatalf("keyword %q from %q", s.Keyword, raw)
			}
		case KindHost:
			if !isHostPart(s.Host) {
				t.Fatalf("host %q from %q", s.Host, raw)
			}
		case KindNonce, KindHash:
			if !isBase64Value(s.Value) {
				t.Fatalf("value %q from %q", s.Value, raw)
			}
		}
	})
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
