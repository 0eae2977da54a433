package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// runIn runs the CLI in-process with an empty environment but for env,
// and returns the exit code and both outputs.
func runIn(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &stdio{in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

// TestEveryHelpExitsZero: every command and subcommand answers --help (and
// "help COMMAND") with its usage on standard output, nothing on standard
// error, and exit 0, and lists none of its deprecated names.
func TestEveryHelpExitsZero(t *testing.T) {
	var lines [][]string
	for name := range commands {
		lines = append(lines, []string{name, "--help"}, []string{name, "-h"}, []string{"help", name})
	}
	lines = append(lines,
		[]string{"ca", "install", "--help"}, []string{"ca", "bundle", "--help"},
		[]string{"web", "token", "--help"}, []string{"web", "token", "create", "--help"},
		[]string{"check", "example.com", "--help"},
		[]string{"--help"}, []string{"help"},
	)
	for _, args := range lines {
		code, out, errOut := runIn(t, nil, args...)
		if code != exitOK || errOut != "" || !strings.Contains(out, "Usage:") {
			t.Errorf("%q: exit %d, stderr %q, stdout %.80q; want 0, usage on stdout only", args, code, errOut, out)
		}
		name := args[0]
		if name == "help" && len(args) > 1 {
			name = args[1]
		}
		c, ok := commands[name]
		if !ok {
			continue
		}
		fs := newFlagSet(c)
		c.flags(fs, &stdio{getenv: func(string) string { return "" }})
		for old := range fs.deprecated {
			if regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(old) + `( |$)`).MatchString(out) {
				t.Errorf("%q lists the deprecated --%s", args, old)
			}
		}
	}
}

// TestOneFlagGrammar: across commands, a flag name means one thing. The
// names that take a value take one everywhere they appear (so --dir is a
// folder, never a switch), and the old names are hidden.
func TestOneFlagGrammar(t *testing.T) {
	takesValue := []string{"output", "input", "dir", "format", "ca-file", "cert-file", "key-file", "timeout", "https", "http", "store", "concurrency", "db"}
	switches := []string{"local-ca", "force", "verbose", "quiet", "allow-private"}
	seen := map[string]int{}
	for name, c := range commands {
		fs := newFlagSet(c)
		c.flags(fs, &stdio{getenv: func(string) string { return "" }})
		fs.VisitAll(func(f *flag.Flag) {
			if fs.hidden(f.Name) {
				return
			}
			seen[f.Name]++
			b, isBool := f.Value.(interface{ IsBoolFlag() bool })
			isSwitch := isBool && b.IsBoolFlag()
			if slices.Contains(takesValue, f.Name) && isSwitch {
				t.Errorf("%s --%s is a switch; the grammar says it takes a value", name, f.Name)
			}
			if slices.Contains(switches, f.Name) && !isSwitch {
				t.Errorf("%s --%s takes a value; the grammar says it is a switch", name, f.Name)
			}
			if _, usage := flag.UnquoteUsage(f); usage == "" {
				t.Errorf("%s --%s has no help text", name, f.Name)
			}
		})
	}
	// The shared names are shared.
	for name, want := range map[string]int{"output": 2, "ca-file": 2, "local-ca": 2, "timeout": 2, "https": 2, "http": 2, "cert-file": 2, "key-file": 2, "format": 2, "concurrency": 2} {
		if seen[name] < want {
			t.Errorf("--%s is defined by %d commands, want at least %d", name, seen[name], want)
		}
	}
	// The old names are gone from every --help.
	for _, old := range []string{"out", "listen", "http-redirect", "tls-cert", "tls-key", "scan-timeout", "workers", "delivery-workers", "days", "root"} {
		if seen[old] > 0 {
			t.Errorf("--%s is still a visible flag", old)
		}
	}
}

// TestErrorsGoThroughOnePath: every error is one line "httpsguard
// COMMAND: message" on stderr and exit 2; usage errors add where to read
// the usage, runtime errors do not.
func TestErrorsGoThroughOnePath(t *testing.T) {
	caRoot := filepath.Join(t.TempDir(), "ca")
	env := map[string]string{"HTTPSGUARD_CAROOT": caRoot}
	for _, tc := range []struct {
		args  []string
		first string // the first line
		usage bool
	}{
		{[]string{"check", "--nope"}, "httpsguard check: unknown flag --nope", true},
		{[]string{"check", "x.test", "--timeout"}, "httpsguard check: flag needs a value: --timeout", true},
		{[]string{"check", "--format", "pdf", "x.test"}, `httpsguard check: --format: unknown format "pdf": want text, json, jsonl, sarif, html or markdown`, true},
		{[]string{"check", "--timeout", "soon", "x.test"}, `httpsguard check: invalid value "soon" for flag --timeout: "soon": want a duration such as 20s, 1m30s, 24h or 30d`, true},
		{[]string{"check"}, "httpsguard check: no targets; for example: httpsguard check example.com", true},
		{[]string{"check", "--local-ca", "x.test"}, "httpsguard check: --local-ca: no local CA in " + caRoot, false},
		{[]string{"policy", "--format", "html"}, `httpsguard policy: --format: unknown format "html": want text, json or env`, true},
		{[]string{"policy", "extra"}, `httpsguard policy: unexpected argument "extra" (the policy comes from the environment)`, true},
		{[]string{"ca", "frobnicate"}, `httpsguard ca: unknown subcommand "frobnicate" (want root, dir, install, uninstall, bundle or env)`, true},
		{[]string{"cert"}, "httpsguard cert: no names given; for example: httpsguard cert localhost 127.0.0.1 ::1", true},
		{[]string{"serve"}, "httpsguard serve: nothing to serve", true},
		{[]string{"web", "token"}, "httpsguard web token: want create, list or revoke", true},
		{[]string{"web", "--https", "8443"}, "httpsguard web: --https needs --cert-file and --key-file", true},
		{[]string{"frobnicate"}, `httpsguard: unknown command "frobnicate"`, true},
		{[]string{"help", "frobnicate"}, `httpsguard: help: unknown command "frobnicate"`, true},
	} {
		code, out, errOut := runIn(t, env, tc.args...)
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if code != exitError || out != "" || !strings.HasPrefix(lines[0], tc.first) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and a first line starting %q", tc.args, code, out, errOut, tc.first)
			continue
		}
		hint := ""
		if tc.usage {
			hint = `Run "httpsguard --help" for the commands.`
			if tc.args[0] != "frobnicate" && tc.args[0] != "help" {
				hint = `Run "httpsguard ` + tc.args[0] + ` --help" for usage.`
			}
		}
		if got := strings.Join(lines[1:], "\n"); got != hint {
			t.Errorf("%q: after the message %q, want %q", tc.args, got, hint)
		}
	}
}

// TestDeprecatedNamesStillWork: the names scripts may use keep working,
// each with one warning on stderr naming the new one.
func TestDeprecatedNamesStillWork(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	env := map[string]string{"HTTPSGUARD_CAROOT": caDir}
	if code, _, errOut := runIn(t, env, "ca", "root"); code != exitOK {
		t.Fatalf("ca root: %s", errOut)
	}
	for _, tc := range []struct {
		args    []string
		stdout  string // a part of it
		warning string
	}{
		{[]string{"ca", "--root"}, filepath.Join(caDir, "rootCA.pem") + "\n", `--root is deprecated; use "httpsguard ca root"`},
		{[]string{"ca", "--dir"}, caDir + "\n", `--dir is deprecated; use "httpsguard ca dir"`},
		{[]string{"ca", "bundle", "--out", "-", "--out", "-"}, "-----BEGIN CERTIFICATE-----", "--out is deprecated; use --output"},
		{[]string{"cert", "--days", "30", "--dir", t.TempDir(), "old.test"}, "Certificate for 1 name(s)", "--days is deprecated; use --valid-for"},
	} {
		code, out, errOut := runIn(t, env, tc.args...)
		if code != exitOK || !strings.Contains(out, tc.stdout) {
			t.Errorf("%q: exit %d, stdout %q; want 0 and %q\n%s", tc.args, code, out, tc.stdout, errOut)
		}
		want := "httpsguard " + tc.args[0] + ": warning: " + tc.warning
		if n := strings.Count(errOut, "deprecated"); n != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%q: stderr %q; want one warning %q", tc.args, errOut, want)
		}
	}
	// web's old names set the new flags: the same errors as the new names.
	for _, pair := range [][2][]string{
		{{"web", "--workers", "0"}, {"web", "--concurrency", "0"}},
		{{"web", "--delivery-workers", "0"}, {"web", "--delivery-concurrency", "0"}},
		{{"web", "--scan-timeout", "0s"}, {"web", "--timeout", "0s"}},
		{{"web", "--tls-key", "k.pem"}, {"web", "--key-file", "k.pem"}},
	} {
		_, _, old := runIn(t, env, pair[0]...)
		_, _, now := runIn(t, env, pair[1]...)
		if _, rest, _ := strings.Cut(old, "\n"); !strings.Contains(old, "deprecated") || rest != now {
			t.Errorf("%q gives %q, want a warning then what %q gives, %q", pair[0], old, pair[1], now)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"20s": 20 * time.Second, "1m30s": 90 * time.Second, "24h": 24 * time.Hour,
		"30d": 30 * 24 * time.Hour, "1d12h": 36 * time.Hour, " 820d ": 820 * 24 * time.Hour, "0": 0,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "d", "1.5d", "-1d", "30days", "1d1d", "99999999d"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, got)
		}
	}
	for d, want := range map[time.Duration]string{
		20 * time.Second: "20s", time.Minute: "1m", 90 * time.Second: "1m30s", 2 * time.Hour: "2h",
		820 * 24 * time.Hour: "820d", 36 * time.Hour: "36h", 0: "0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := parseDuration(formatDuration(d)); err != nil || back != d {
			t.Errorf("parseDuration(formatDuration(%v)) = %v, %v", d, back, err)
		}
	}
}

func TestParseFormat(t *testing.T) {
	all := reportFormats()
	for in, want := range map[string]string{"json": "json", " JSON ": "json", "md": "markdown", "Markdown": "markdown", "jsonl": "jsonl"} {
		if got, err := parseFormat(in, all); err != nil || got != want {
			t.Errorf("parseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := parseFormat("ENV", []string{"text", "json", "env"}); err != nil || got != "env" {
		t.Errorf("parseFormat(ENV) = %q, %v", got, err)
	}
	if _, err := parseFormat("md", []string{"text", "json", "env"}); err == nil || !strings.Contains(err.Error(), "want text, json or env") {
		t.Errorf("a format the command does not write: %v", err)
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"8088": "127.0.0.1:8088", ":8088": "127.0.0.1:8088", "localhost:0": "127.0.0.1:0", "LOCALHOST:1": "127.0.0.1:1",
		"0.0.0.0:443": "0.0.0.0:443", "[::]:443": "[::]:443", "[::1]:8088": "[::1]:8088", "10.1.2.3:80": "10.1.2.3:80",
	} {
		if got, err := listenAddr(in); err != nil || got != want {
			t.Errorf("listenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "off", "example.com:80", ":http", "70000", "127.0.0.1", "[fe80::1%eth0]:80"} {
		if got, err := listenAddr(in); err == nil {
			t.Errorf("listenAddr(%q) = %q, want an error", in, got)
		}
	}
}

// TestListFlags: a list flag is repeatable, and splits on commas only where
// its items cannot hold one.
func TestListFlags(t *testing.T) {
	fs := newFlags("test")
	names := fs.list("name", "", true)
	files := fs.list("file", "", false)
	if err := fs.Parse([]string{"--name", "a,b", "--name", " c ", "--name", ",", "--file", "x,y.pem", "--file", "z.pem"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(*names, []string{"a", "b", "c"}) || !slices.Equal(*files, []string{"x,y.pem", "z.pem"}) {
		t.Errorf("names %q, files %q", *names, *files)
	}
}

// TestFlagsDocumented: every flag a command's --help lists is in the
// command's guide under docs/, so the guides follow renames.
func TestFlagsDocumented(t *testing.T) {
	guides := map[string]string{"policy": "enforce.md", "check": "check.md", "serve": "serve.md", "ca": "ca.md", "cert": "ca.md", "web": "web.md"}
	for name, c := range commands {
		guide, ok := guides[name]
		if !ok {
			t.Errorf("no guide known for %q; add it to this test", name)
			continue
		}
		doc, err := os.ReadFile(filepath.Join("..", "..", "docs", guide))
		if err != nil {
			t.Fatal(err)
		}
		fs := newFlagSet(c)
		c.flags(fs, &stdio{getenv: func(string) string { return "" }})
		fs.VisitAll(func(f *flag.Flag) {
			if !fs.hidden(f.Name) && !regexp.MustCompile(`--`+regexp.QuoteMeta(f.Name)+`\b[^-]`).Match(doc) {
				t.Errorf("%s --%s is not in docs/%s", name, f.Name, guide)
			}
		})
	}
}
