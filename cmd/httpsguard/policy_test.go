package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// policyProductionEnv passes the deployment check without findings.
var policyProductionEnv = map[string]string{
	"HTTPSGUARD_SSL_REDIRECT":            "true",
	"HTTPSGUARD_PROXY_SSL_HEADER":        "X-Forwarded-Proto: https",
	"HTTPSGUARD_TRUSTED_PROXIES":         "10.0.0.0/8",
	"HTTPSGUARD_HSTS_SECONDS":            "63072000",
	"HTTPSGUARD_HSTS_INCLUDE_SUBDOMAINS": "true",
	"HTTPSGUARD_HSTS_PRELOAD":            "true",
	"HTTPSGUARD_CSP":                     "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'",
	"HTTPSGUARD_PERMISSIONS_POLICY":      "camera=(), microphone=()",
	"HTTPSGUARD_SECURE_COOKIES":          "*",
	"HTTPSGUARD_HTTPONLY_COOKIES":        "sessionid",
	"HTTPSGUARD_COOKIE_SAMESITE":         "Lax",
	"HTTPSGUARD_ALLOWED_HOSTS":           "example.com,.example.com",
}

func runPolicy(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	st := &stdio{in: strings.NewReader(""), out: &out, err: &errb, getenv: func(k string) string { return env[k] },
		environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			sort.Strings(kv)
			return kv
		}}
	code = run(t.Context(), append([]string{"policy"}, args...), st)
	return code, out.String(), errb.String()
}

func policyEnvWith(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestPolicyCommand(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		out      []string // substrings of stdout
		notOut   []string
		errOut   []string // substrings of stderr
		noStdout bool
	}{
		{name: "empty environment warns", env: nil, code: exitFindings,
			out: []string{"HTTPSGUARD_FRAME_OPTIONS", "DENY (default)", "HGP-RED-001", "warning", "security.W008", "HGP-HOST-001", "fix:"}},
		{name: "production policy is clean", env: policyProductionEnv, code: exitOK,
			out: []string{"Nothing to fix", "X-Forwarded-Proto: https", "63072000"}, notOut: []string{"HGP-"}},
		{name: "info findings do not fail", env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_CSP", ""), code: exitOK,
			out: []string{"HGP-CSP-001", "info"}},
		{name: "one warning fails", env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_TRUSTED_PROXIES", ""), code: exitFindings,
			out: []string{"HGP-PROXY-001"}},
		{name: "ignored finding", env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_HSTS_PRELOAD", "false"), args: []string{"--ignore", "hg114"}, code: exitOK,
			notOut: []string{"HGP-HSTS-004"}},
		{name: "invalid value names variable and value", env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_HSTS_SECONDS", "1y"), code: exitError,
			errOut: []string{`HTTPSGUARD_HSTS_SECONDS="1y"`}, noStdout: true},
		{name: "invalid semantic value", env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_SSL_HOST", "https://example.com"), code: exitError,
			errOut: []string{`HTTPSGUARD_SSL_HOST="https://example.com"`, "without scheme"}, noStdout: true},
		{name: "forwarded host without trusted proxies warns",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_USE_X_FORWARDED_HOST", "true", "HTTPSGUARD_TRUSTED_PROXIES", ""), code: exitFindings,
			out: []string{"UseXForwardedHost", "HTTPSGUARD_USE_X_FORWARDED_HOST", "HGP-PROXY-001", "HGP-PROXY-006"}},
		{name: "forwarded host behind trusted proxies is clean",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_USE_X_FORWARDED_HOST", "yes"), code: exitOK,
			out: []string{"Nothing to fix"}},
		{name: "report-only CSP is shown and reviewed",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_CSP_REPORT_ONLY", "default-src 'none'"), code: exitFindings,
			out: []string{"ContentSecurityPolicyReportOnly", "HTTPSGUARD_CSP_REPORT_ONLY", "default-src 'none'", "HGP-CSP-004", "report-uri"}},
		{name: "report-only CSP with a reporting directive is clean",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_CSP_REPORT_ONLY", "default-src 'none'; script-src 'nonce-{nonce}'; report-uri /csp"), code: exitOK,
			out: []string{"Nothing to fix"}},
		{name: "report-only CSP with a control character is refused",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_CSP_REPORT_ONLY", "default-src 'none'\nX: y"), code: exitError,
			errOut: []string{`HTTPSGUARD_CSP_REPORT_ONLY="default-src 'none'\nX: y"`, "control character"}, noStdout: true},
		{name: "ignored finding by its ID", env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_HSTS_PRELOAD", "false"), args: []string{"--ignore", "HGP-HSTS-004, hgp-csp-001"}, code: exitOK,
			notOut: []string{"HGP-HSTS-004"}},
		{name: "unknown ID to ignore", env: policyProductionEnv, args: []string{"--ignore", "HG999"}, code: exitError,
			errOut: []string{"HG999", "no such finding ID"}, noStdout: true},
		{name: "a misspelt variable is named with the one meant",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_HSTS_SECOND", "63072000", "HTTPSGUARD_TEST_STRICT", "1", "HTTPSGUARD_CAROOT", "/tmp/ca"), code: exitFindings,
			out: []string{"HGP-ENV-001", "HTTPSGUARD_HSTS_SECOND: unknown; did you mean HTTPSGUARD_HSTS_SECONDS?"}, notOut: []string{"HTTPSGUARD_TEST_STRICT:", "HTTPSGUARD_CAROOT:"}},
		{name: "an unknown variable can be ignored on purpose",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_HSTS_SECOND", "1"), args: []string{"--ignore", "HGP-ENV-001"}, code: exitOK},
		{name: "the value that turns a header off is named",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_FRAME_OPTIONS", "none"), code: exitError,
			errOut: []string{`HTTPSGUARD_FRAME_OPTIONS="none"`, "or off for none"}, noStdout: true},
		{name: "served by autotls: no SSL-redirect finding, preload checked against the domains",
			env: policyEnvWith(policyProductionEnv, "HTTPSGUARD_SSL_REDIRECT", "false", "HTTPSGUARD_PROXY_SSL_HEADER", "", "HTTPSGUARD_TRUSTED_PROXIES", "",
				"HTTPSGUARD_ALLOWED_HOSTS", "www.example.com"),
			args: []string{"--autotls", "www.example.com"}, code: exitFindings,
			out: []string{"HGP-ACME-001", "no certificate for example.com itself"}, notOut: []string{"HGP-RED-001"}},
		{name: "served by autotls with a proxy header is an error finding",
			env:  policyEnvWith(policyProductionEnv, "HTTPSGUARD_ALLOWED_HOSTS", "example.com,www.example.com"),
			args: []string{"--autotls", "example.com,www.example.com"}, code: exitFindings,
			out: []string{"HGP-ACME-003", "error"}, notOut: []string{"HGP-ACME-001"}},
		{name: "bad format", env: policyProductionEnv, args: []string{"--format", "yaml"}, code: exitError, errOut: []string{"yaml"}},
		{name: "stray argument", env: policyProductionEnv, args: []string{"prod.env"}, code: exitError, errOut: []string{"prod.env"}},
		{name: "env format", env: policyProductionEnv, args: []string{"--format=env"}, code: exitOK,
			out: []string{"HTTPSGUARD_SSL_REDIRECT=true\n", "HTTPSGUARD_FRAME_OPTIONS=DENY\n", "HTTPSGUARD_DEVELOPMENT=false",
				"HTTPSGUARD_PROXY_SSL_HEADER='X-Forwarded-Proto: https'\n", `HTTPSGUARD_CSP='default-src '\''self'\''; `, "HTTPSGUARD_SECURE_COOKIES='*'\n",
				"HTTPSGUARD_USE_X_FORWARDED_HOST=false\n", "HTTPSGUARD_CSP_REPORT_ONLY=''\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runPolicy(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.notOut {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			for _, s := range tc.errOut {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if tc.noStdout && out != "" {
				t.Errorf("stdout should be empty on error:\n%s", out)
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("colour written to a non-terminal")
			}
		})
	}
}

func TestPolicyCommandJSON(t *testing.T) {
	code, out, _ := runPolicy(t, policyEnvWith(policyProductionEnv, "HTTPSGUARD_HSTS_SECONDS", "600"), "--format", "json")
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}
	var rep struct {
		Policy []struct {
			Field, Env, Value string
		}
		Findings []struct {
			ID, Severity, Field, Title, Message, Fix, Django string
			LegacyID                                         string `json:"legacy_id"`
		}
		Summary map[string]int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Policy) != 21 || rep.Policy[6].Env != "HTTPSGUARD_HSTS_SECONDS" || rep.Policy[6].Value != "600" {
		t.Errorf("policy: %+v", rep.Policy)
	}
	ids := map[string]string{}
	for _, f := range rep.Findings {
		ids[f.ID] = f.Severity
		if f.Message == "" || f.Fix == "" || f.Title == "" || !strings.HasPrefix(f.LegacyID, "HG1") {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	if ids["HGP-HSTS-002"] != "warning" || ids["HGP-HSTS-005"] != "warning" {
		t.Errorf("findings %v, want HGP-HSTS-002 and HGP-HSTS-005 warnings", ids)
	}
	if rep.Summary["warning"] != 2 || rep.Summary["error"] != 0 {
		t.Errorf("summary %v", rep.Summary)
	}

	// A clean policy has an empty list, not null.
	_, out, _ = runPolicy(t, policyProductionEnv, "--format", "json")
	if !strings.Contains(out, `"findings": []`) {
		t.Errorf("clean JSON: %s", out)
	}
}

func TestPolicyCommandHelp(t *testing.T) {
	var out bytes.Buffer
	st := &stdio{in: strings.NewReader(""), out: &out, err: &out, getenv: func(string) string { return "" }}
	if code := run(t.Context(), []string{"policy", "--help"}, st); code != exitOK {
		t.Errorf("--help exit %d", code)
	}
	for _, s := range []string{"Usage:", "--format", "--ignore", "Examples:", "Exit status"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("help lacks %q", s)
		}
	}
}

// TestPolicyCommandEnvRoundTrip feeds the --format env output to a real
// shell and reads the policy back: the same policy comes out.
func TestPolicyCommandEnvRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, out, _ := runPolicy(t, policyProductionEnv, "--format", "env")
	script := "set -a\n" + out + "env\n"
	got, err := exec.CommandContext(t.Context(), sh, "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(got), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "HTTPSGUARD_") {
			env[k] = v
		}
	}
	_, again, _ := runPolicy(t, env, "--format", "env")
	if again != out {
		t.Errorf("round trip through sh changed the policy:\n%s\nvs\n%s", out, again)
	}
}
