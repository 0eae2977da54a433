package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
)

// checkSite serves a small application over HTTPS and HTTP on loopback.
// With good set it does everything right; otherwise it sends no HSTS.
func checkSite(t *testing.T, good bool) *scantest.Site {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		hd := w.Header()
		if good {
			hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")
		}
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Content-Type", "text/html")
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "<!doctype html><title>ok</title>")
	})
	return scantest.NewSite(t, h, scantest.Config{})
}

// resolveArgs turns the site's resolve map into --resolve flags.
func resolveArgs(s *scantest.Site) []string {
	var args []string
	keys := make([]string, 0, len(s.Options.Resolve))
	for k := range s.Options.Resolve {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--resolve", k+":"+s.Options.Resolve[k])
	}
	return args
}

func runCheck(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"check"}, args...), &stdio{
		in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(string) string { return "" },
	})
	return code, out.String(), errOut.String()
}

func TestCheckExitCodes(t *testing.T) {
	good := checkSite(t, true)
	bad := checkSite(t, false)
	common := func(s *scantest.Site) []string {
		return append(resolveArgs(s), "--ca-file", s.CA.RootFile(), "--timeout", "10s")
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"good site passes", append(common(good), "--format", "json", good.Host), exitOK},
		{"good site under a high bar", append(common(good), "--fail-under", "101", good.Host), exitError}, // out of range
		{"missing HSTS is a finding", append(common(bad), bad.Host), exitFindings},
		{"fail-under", append(common(good), "--fail-under", "100", "--scoring", "observatory", good.Host), exitOK},
		{"fail-under above the observatory score", append(common(good), "--fail-under", "200", "--scoring", "observatory", good.Host), exitFindings},
		{"unreachable target", []string{"--timeout", "2s", "--https-port", "1", "--http-port", "1", "127.0.0.1"}, exitError},
		{"no target", nil, exitError},
		{"bad format", []string{"--format", "pdf", "x.test"}, exitError},
		{"bad scoring", []string{"--scoring", "ssllabs", "x.test"}, exitError},
		{"bad resolve", []string{"--resolve", "x.test:443", "x.test"}, exitError},
		{"missing ca file", []string{"--ca-file", "/nonexistent.pem", "x.test"}, exitError},
		{"untrusted without the ca file", append(resolveArgs(good), good.Host), exitFindings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCheck(t, tt.args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
}

func TestCheckJSONAndOutputFile(t *testing.T) {
	site := checkSite(t, true)
	path := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := runCheck(t, append(resolveArgs(site), "--ca-file", site.CA.RootFile(), "--output", path, site.Host)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "" {
		t.Errorf("stdout not empty with --output: %q", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var res scan.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("the .json output is not one JSON result: %v\n%s", err, data)
	}
	if res.Host != site.Host || res.Score != 100 || res.TLS == nil || res.TLS.TrustedBy != site.CA.RootFile() {
		t.Errorf("result host %q score %d tls %+v", res.Host, res.Score, res.TLS)
	}
	// "-" is standard output, as for every --output.
	code, out, errOut = runCheck(t, append(resolveArgs(site), "--ca-file", site.CA.RootFile(), "--output", "-", "--format", "JSON", site.Host)...)
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil {
		t.Errorf("--output -: exit %d, %v; stdout %.200q, stderr %s", code, err, out, errOut)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`--output - wrote a file named "-"`)
	}
}

func TestCheckInputFileStreamsEveryTarget(t *testing.T) {
	site := checkSite(t, true)
	args := append(resolveArgs(site), "--ca-file", site.CA.RootFile(), "--format", "jsonl", "--concurrency", "2")
	var names []string
	for i := range 4 {
		name := fmt.Sprintf("s%d.test", i)
		names = append(names, name)
		args = append(args, "--resolve", name+":443:"+site.Options.Resolve[site.Host+":443"], "--resolve", name+":80:"+site.Options.Resolve[site.Host+":80"])
	}
	input := filepath.Join(t.TempDir(), "targets.txt")
	os.WriteFile(input, []byte("# sites\n"+strings.Join(names[:3], "\n")+"\n\n  # done\n"), 0o644)
	code, out, errOut := runCheck(t, append(args, "--input", input, names[3])...)
	// The certificate is for app.test only: the s*.test names fail TLS-002.
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d JSON lines, want 4:\n%s", len(lines), out)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var r scan.Result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		seen[r.Target] = true
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("no result for %s", n)
		}
	}
	if strings.Contains(errOut, "\r") {
		t.Errorf("a progress bar was drawn on a non-terminal: %q", errOut)
	}
}

func TestCheckTextOutput(t *testing.T) {
	site := checkSite(t, false)
	code, out, errOut := runCheck(t, append(resolveArgs(site), "--ca-file", site.CA.RootFile(), "--debug", site.Host)...)
	if code != exitFindings {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut, "msg=request") || !strings.Contains(errOut, "target="+site.Host) {
		t.Errorf("--debug logged no requests:\n%s", errOut)
	}
	for _, want := range []string{site.Host, "HSTS header present", "Strict-Transport-Security"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour written to a non-terminal")
	}
}
