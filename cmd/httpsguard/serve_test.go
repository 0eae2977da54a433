package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/localca"
)

// serveRun starts "httpsguard serve args..." in-process with a fresh CA
// directory and returns the HTTPS URL from its banner, a client that trusts
// the CA, and a function that stops it and returns the exit code and the
// whole diagnostic output.
func serveRun(t *testing.T, env map[string]string, args ...string) (string, *http.Client, func() (int, string)) {
	t.Helper()
	u, client, stop, _ := serveRunBanner(t, env, args...)
	return u, client, stop
}

// serveRunBanner is serveRun that also returns the whole start banner.
func serveRunBanner(t *testing.T, env map[string]string, args ...string) (string, *http.Client, func() (int, string), string) {
	t.Helper()
	caDir := filepath.Join(t.TempDir(), "ca")
	getenv := func(k string) string {
		if k == localca.EnvCARoot {
			return caDir
		}
		return env[k]
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"serve"}, args...), &stdio{in: strings.NewReader(""), out: io.Discard, err: pw, getenv: getenv})
		pw.Close()
	}()
	var out strings.Builder
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	urlRE := regexp.MustCompile(`https://localhost:\d+`)
	var u string
	for {
		line, ok := <-lines
		if !ok {
			t.Fatalf("serve exited (code %d) before printing its banner:\n%s", <-code, out.String())
		}
		out.WriteString(line + "\n")
		if u == "" {
			u = urlRE.FindString(line)
		}
		if line == "Press Ctrl-C to stop." {
			break
		}
	}
	banner := out.String()
	ca, err := localca.Load(caDir)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	stopped := false
	stop := func() (int, string) {
		if !stopped {
			stopped = true
			// A browser would keep its HTTP/2 connection open, and the
			// server would give it a second to go away; the test need not.
			client.CloseIdleConnections()
			cancel()
		}
		c := <-code
		for line := range lines {
			out.WriteString(line + "\n")
		}
		return c, out.String()
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return u, client, stop, banner
}

func TestServeProxyCommand(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello from the app, proto=" + r.Header.Get("X-Forwarded-Proto")))
	}))
	defer app.Close()
	_, port, _ := net.SplitHostPort(app.Listener.Addr().String())

	u, client, stop := serveRun(t, map[string]string{"HTTPSGUARD_FRAME_OPTIONS": "SAMEORIGIN", "HTTPSGUARD_REFERRER_POLICY": "no-referrer"},
		"--to", port, "--https", "localhost:0", "--http", "off", "--policy", "env", "--policy-set", "referrer_policy=origin")
	resp, err := client.Get(u + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from the app, proto=https" {
		t.Errorf("body %q", body)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", resp.Proto)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("--policy env not applied: X-Frame-Options %q", got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "origin" {
		t.Errorf("--policy-set does not override the environment: Referrer-Policy %q", got)
	}
	code, out := stop()
	if code != exitOK {
		t.Errorf("exit code %d after Ctrl-C, want 0\n%s", code, out)
	}
	for _, want := range []string{
		"Created a new local CA",
		"HTTPS for the app at http://localhost:" + port,
		"CA root: ",
		`"httpsguard ca install"`,
		"Policy: from the environment: HTTPSGUARD_FRAME_OPTIONS, HTTPSGUARD_REFERRER_POLICY; from --policy-set: HTTPSGUARD_REFERRER_POLICY (over the environment's)",
		"Grade it: httpsguard check --ca-file ",
		"GET /  200",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestServeStaticCommand(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>static</h1>"), 0o644)
	u, client, stop := serveRun(t, nil, dir, "--https", "127.0.0.1:0", "--http", "127.0.0.1:0", "--quiet")
	resp, err := client.Get(u + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "<h1>static</h1>" {
		t.Errorf("body %q", body)
	}
	code, out := stop()
	if code != exitOK {
		t.Errorf("exit %d", code)
	}
	if strings.Contains(out, "GET /") {
		t.Errorf("--quiet still logged requests:\n%s", out)
	}
	if !regexp.MustCompile(`http://localhost:\d+  \(redirects to HTTPS\)`).MatchString(out) {
		t.Errorf("banner lacks the HTTP listener:\n%s", out)
	}
}

func TestServeErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "nothing to serve"},
		{[]string{"--to", "abc"}, "--to: upstream \"abc\" has no port"},
		{[]string{"--to", "https://localhost:8000"}, "must speak plain HTTP"},
		{[]string{"--to", "8000", "./public"}, "not both"},
		{[]string{"a", "b"}, "one folder at a time"},
		{[]string{"--to", "8000", "--policy", "yaml"}, `--policy "yaml"`},
		{[]string{"--to", "8000", "--host", "a b"}, "invalid certificate name"},
		{[]string{"--to", "8000", "--https", busy.Addr().String(), "--http", "off"}, busy.Addr().String() + " is already in use"},
		{[]string{"--to", "8000", "--https", busy.Addr().String(), "--http", "off"}, "pick another port with --https ("},
		{[]string{"--to", "8000", "--https", "example.com:1"}, "must be localhost or an IP"},
		{[]string{"--to", "8000", "--policy-set", "NOPE=1"}, "unknown policy setting HTTPSGUARD_NOPE"},
		{[]string{"--to", "8000", "--policy-set", "FRAME_OPTIONS=bogus"}, "HTTPSGUARD_FRAME_OPTIONS"},
		{[]string{"--to", "8000", "--policy", "none", "--policy-set", "HSTS_SECONDS=1"}, "--policy-set needs --policy env"},
	} {
		var stderr strings.Builder
		caDir := t.TempDir()
		code := run(context.Background(), append([]string{"serve"}, tc.args...), &stdio{
			in: strings.NewReader(""), out: io.Discard, err: &stderr,
			getenv: func(k string) string {
				if k == localca.EnvCARoot {
					return caDir
				}
				return ""
			},
		})
		if code != exitError || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("serve %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestServeHelp(t *testing.T) {
	var out strings.Builder
	if code := run(context.Background(), []string{"help", "serve"}, &stdio{out: &out, err: io.Discard, getenv: func(string) string { return "" }}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--to", "--https", "--http-passthrough", "--host", "--change-host", "--policy", "--hsts", "--quiet", "HSTS", "Chromium", "extended CONNECT"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestServeHTTPPortTaken checks that a taken plain-HTTP port does not stop
// serve: it warns and serves HTTPS.
func TestServeHTTPPortTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	defer app.Close()
	u, client, stop := serveRun(t, nil, "--to", app.URL, "--https", "127.0.0.1:0", "--http", busy.Addr().String())
	resp, err := client.Get(u + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, out := stop()
	if code != exitOK || resp.StatusCode != http.StatusOK {
		t.Errorf("exit %d, status %d", code, resp.StatusCode)
	}
	if !strings.Contains(out, "warning: "+busy.Addr().String()+" is already in use") || !strings.Contains(out, "serving HTTPS only") {
		t.Errorf("no warning about the HTTP port:\n%s", out)
	}
	if strings.Contains(out, "(redirects to HTTPS)") {
		t.Errorf("the banner lists an HTTP listener that is not there:\n%s", out)
	}
}

func TestPolicySource(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		sets servePolicySets
		want string
	}{
		{nil, nil, "no HTTPSGUARD_* variable is set"},
		{[]string{"HTTPSGUARD_CSP"}, nil, "Policy: from the environment (--policy env): HTTPSGUARD_CSP"},
		{nil, servePolicySets{"HTTPSGUARD_CSP": "x"}, "Policy: from --policy-set: HTTPSGUARD_CSP; no HTTPSGUARD_* variable in the environment"},
		{[]string{"HTTPSGUARD_CSP"}, servePolicySets{"HTTPSGUARD_CSP": "x", "HTTPSGUARD_HSTS_SECONDS": "1"},
			"Policy: from the environment: HTTPSGUARD_CSP; from --policy-set: HTTPSGUARD_CSP (over the environment's), HTTPSGUARD_HSTS_SECONDS"},
	} {
		if got := policySource(tc.env, tc.sets); !strings.Contains(got, tc.want) {
			t.Errorf("policySource(%q, %v) = %q, want %q", tc.env, tc.sets, got, tc.want)
		}
	}
}

// TestServeCheckCommandTellsTheTruth runs the check command serve prints,
// as printed, against serve in front of an app that sends HSTS: the report
// grades what serve serves and says which findings are serve's own.
func TestServeCheckCommandTellsTheTruth(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>app</title>")
	}))
	defer app.Close()
	_, port, _ := net.SplitHostPort(app.Listener.Addr().String())
	_, _, stop, banner := serveRunBanner(t, nil, "--to", port, "--https", "localhost:0", "--http", "localhost:0", "--quiet")
	line := regexp.MustCompile(`Grade it: (httpsguard check .*)`).FindStringSubmatch(banner)
	if line == nil {
		t.Fatalf("no check command in the banner:\n%s", banner)
	}
	args := strings.Fields(line[1])
	if args[2] != "--ca-file" || !slices.Contains(args, "--https-port") || !slices.Contains(args, "--http-port") || args[len(args)-1] != "localhost" {
		t.Fatalf("check command %q: want --ca-file (HTTPSGUARD_CAROOT is set), both ports, localhost", line[1])
	}
	var report, diag strings.Builder
	code := run(context.Background(), args[1:], &stdio{in: strings.NewReader(""), out: &report, err: &diag, getenv: func(string) string { return "" }})
	if code != exitFindings {
		t.Errorf("check exit %d, want 1 (findings)\n%s%s", code, report.String(), diag.String())
	}
	for _, want := range []string{
		"✓ HTTPS reachable",
		"✓ Certificate chain valid for the host",
		"✓ HTTP redirects to HTTPS",
		"served through httpsguard serve, which removes the header on purpose (Httpsguard-Serve: dev, hsts-removed): restart serve with --hsts",
		"served through httpsguard serve, which makes every redirect from plain HTTP temporary on purpose",
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, report.String())
		}
	}
	if c, out := stop(); c != exitOK {
		t.Errorf("serve exit %d:\n%s", c, out)
	}
}
