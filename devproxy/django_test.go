package devproxy

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testpeer"
)

// findDjango returns a Python interpreter that can import Django, or skips
// the test (fails it when HTTPSGUARD_TEST_STRICT=1, as in CI, which installs
// Debian's python3-django).
func findDjango(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import django").Run() == nil {
			return path
		}
	}
	testpeer.Missing(t, testpeer.Django, "no python3 on PATH (nor /usr/bin/python3) can import django")
	return ""
}

// startDjango runs testdata/djangoapp.py under runserver on a free
// loopback port and returns that address.
func startDjango(t *testing.T, python string, env ...string) string {
	t.Helper()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, python, "testdata/djangoapp.py", "runserver", addr, "--noreload")
	cmd.Env = append(os.Environ(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("runserver output:\n%s", out.String())
		}
	})
	return addr
}

// waitThroughProxy polls the proxy until the application answers: the proxy
// answers 502 while runserver is still starting.
func waitThroughProxy(t *testing.T, ts *testServer, u string) *http.Response {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := ts.h2.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatal("Django did not start within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealDjango runs Django's own SecurityMiddleware and CSRF checks behind
// the proxy: the loop is recognised as Django's, stopped and explained in
// the terminal and the page; with the recommended setting the site works
// over trusted HTTPS, POSTs and Secure cookies included; Django's HSTS is
// removed, or kept when asked.
func TestRealDjango(t *testing.T) {
	python := findDjango(t)

	t.Run("loop", func(t *testing.T) {
		addr := startDjango(t, python)
		ts := start(t, Config{Upstream: mustUpstream(t, addr)})
		resp := waitThroughProxy(t, ts, ts.url("localhost", "/"))
		if resp.StatusCode != http.StatusLoopDetected {
			t.Fatalf("status %d, want 508", resp.StatusCode)
		}
		got := ts.logs.matching(0, "redirect loop stopped: ")
		if len(got) != 1 || !strings.Contains(got[0].msg, "This looks like Django") {
			t.Errorf("want the Django diagnosis, got:\n%s", ts.logs.dump())
		}
		// The browser's page explains it too, with the setting to fix.
		resp, body := ts.get(t, ts.h2, ts.url("localhost", "/"), "Accept", "text/html")
		for _, want := range []string{"Redirect loop stopped", "SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO"} {
			if resp.StatusCode != http.StatusLoopDetected || !strings.Contains(body, want) {
				t.Errorf("the page (%d) lacks %q:\n%.2000s", resp.StatusCode, want, body)
			}
		}
	})

	t.Run("fixed", func(t *testing.T) {
		addr := startDjango(t, python, "TRUST_PROXY=1")
		ts := start(t, Config{Upstream: mustUpstream(t, addr)})
		origin := ts.url("localhost", "")
		waitThroughProxy(t, ts, origin+"/")

		resp, body := ts.get(t, ts.h2, origin+"/")
		if resp.StatusCode != http.StatusOK || body != "secure=True host=localhost:"+ts.httpsPort() {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
		// Django sends HSTS over what it sees as HTTPS; serve removes it
		// by default, and says so in the response's mark.
		if sts, mark := resp.Header.Get("Strict-Transport-Security"), resp.Header.Get(MarkHeader); sts != "" || mark != "dev, hsts-removed" {
			t.Errorf("Strict-Transport-Security %q, %s %q: want it removed, and said so", sts, MarkHeader, mark)
		}
		var token string
		for _, c := range resp.Cookies() {
			if c.Name == "csrftoken" {
				token = c.Value
				if !c.Secure {
					t.Error("csrftoken lacks Secure")
				}
			}
		}
		if token == "" {
			t.Fatal("no csrftoken cookie")
		}
		// Django checks the Referer of HTTPS POSTs against the Host: the
		// proxy keeps the browser's Host, so the check passes.
		req, _ := http.NewRequest(http.MethodPost, origin+"/form", strings.NewReader(url.Values{"csrfmiddlewaretoken": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", origin+"/")
		req.Header.Set("Origin", origin)
		req.AddCookie(&http.Cookie{Name: "csrftoken", Value: token})
		resp, body = do(t, ts.h2, req)
		if resp.StatusCode != http.StatusOK || body != "posted" {
			t.Errorf("POST: status %d body %.300q", resp.StatusCode, body)
		}
		if got := ts.logs.matching(0, "without Secure"); len(got) != 0 {
			t.Errorf("unexpected cookie warning: %v", got)
		}
	})

	t.Run("hsts", func(t *testing.T) {
		addr := startDjango(t, python, "TRUST_PROXY=1")
		ts := start(t, Config{Upstream: mustUpstream(t, addr), HSTS: true})
		resp := waitThroughProxy(t, ts, ts.url("localhost", "/"))
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
			t.Errorf("with HSTS kept: Strict-Transport-Security %q, want Django's", got)
		}
	})
}
