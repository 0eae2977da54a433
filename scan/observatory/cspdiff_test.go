package observatory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cspCase is one policy set of the differential test.
type cspCase struct {
	Header []string `json:"header"`
	Meta   []string `json:"meta"`
}

// randomPolicy builds a policy from pieces chosen to hit the
// Observatory's corner cases: keywords in any case, nonces and hashes,
// broad and insecure schemes, paths that prefix one another, repeated
// directives, escapes, stray separators.
func randomPolicy(r *rand.Rand) string {
	directives := []string{
		"default-src", "script-src", "style-src", "img-src", "media-src", "object-src",
		"frame-ancestors", "base-uri", "form-action", "report-uri", "report-to",
		"connect-src", "upgrade-insecure-requests", "SCRIPT-SRC", "Default-Src", "sandbox",
	}
	sources := []string{
		"'self'", "'none'", "'unsafe-inline'", "'UNSAFE-EVAL'", "'unsafe-eval'", "'strict-dynamic'",
		"'nonce-abc'", "'sha256-q83vEjRW='", "'sha384-x'", "http:", "https:", "*", "data:", "blob:",
		"ftp:", "h", "https://a.example.com", "https://a.example.com/p/", "https://a.example.com/p/q",
		"https://a.example.com/p", "http://b.example.com", "*.example.com", "https://*", "http://*.*",
		"https://a.example.com/%7Ep/", "https://a.example.com/~p/", "https://a.example.com/%zz/x",
		"'self'x", "HTTPS://A.EXAMPLE.COM", "/path", "wss:", "ws://c.example.com",
	}
	seps := []string{"; ", ";", " ; ", ";;", "; \t", ";\n"}
	var b strings.Builder
	n := 1 + r.IntN(5)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(seps[r.IntN(len(seps))])
		}
		b.WriteString(directives[r.IntN(len(directives))])
		for j := r.IntN(4); j > 0; j-- {
			b.WriteString(" ")
			b.WriteString(sources[r.IntN(len(sources))])
		}
	}
	return b.String()
}

func TestCSPDifferentialWithTheObservatory(t *testing.T) {
	dir := observatoryDir(t)
	// HTTPSGUARD_CSP_CASES=n runs n cases instead of 600 (and a seed of
	// its own), for a longer hunt.
	n, seed := 600, uint64(4)
	if v, err := strconv.Atoi(os.Getenv("HTTPSGUARD_CSP_CASES")); err == nil && v > 0 {
		n, seed = v, uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
	}
	r := rand.New(rand.NewPCG(seed, 8))
	var cases []cspCase
	for range n {
		var c cspCase
		for j := r.IntN(3); j > 0; j-- {
			c.Header = append(c.Header, randomPolicy(r))
		}
		for j := r.IntN(3); j > 0; j-- {
			c.Meta = append(c.Meta, randomPolicy(r))
		}
		cases = append(cases, c)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("crosscheck", "csp.mjs"))
	cmd.Env = append(os.Environ(), "OBSERVATORY_DIR="+dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node csp.mjs: %v\n%s", err, stderr.String())
	}
	var want []struct {
		Result string              `json:"result"`
		Policy map[string][]string `json:"policy"`
	}
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(cases) {
		t.Fatalf("node csp.mjs output (%d verdicts for %d cases): %v", len(want), len(cases), err)
	}
	failures := 0
	for i, c := range cases {
		h := hdr()
		for _, p := range c.Header {
			h.Add("Content-Security-Policy", p)
		}
		var page strings.Builder
		for _, m := range c.Meta {
			fmt.Fprintf(&page, `<meta http-equiv="Content-Security-Policy" content="%s">`, htmlAttrEscape(m))
		}
		got := run(t, siteInput(h, page.String()), TestCSP)
		var gotPolicy map[string][]string
		all := slices.Clone(nodeJoined(c.Header))
		all = append(all, c.Meta...)
		if m, err := parseObservatoryCSP(all); err == nil {
			gotPolicy = map[string][]string{}
			for _, k := range m.keys {
				v := m.get(k).list()
				slices.SortFunc(v, compareUTF16)
				gotPolicy[k] = v
			}
		}
		if got.Result != want[i].Result || !policiesEqual(gotPolicy, want[i].Policy) {
			failures++
			if failures <= 10 {
				t.Errorf("case %d header %q meta %q:\n got  %s %v\n want %s %v", i, c.Header, c.Meta, got.Result, gotPolicy, want[i].Result, want[i].Policy)
			}
		}
	}
	results := map[string]int{}
	for _, w := range want {
		results[w.Result]++
	}
	t.Logf("results of the Observatory: %v", results)
	if failures > 0 {
		t.Errorf("%d of %d cases differ", failures, len(cases))
	}
}

// nodeJoined is how the Observatory sees repeated header fields.
func nodeJoined(fields []string) []string {
	if len(fields) == 0 {
		return nil
	}
	return []string{strings.Join(fields, ", ")}
}

func htmlAttrEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;").Replace(s)
}

func policiesEqual(a, b map[string][]string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
