package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca/localcatest"
	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWeb runs "httpsguard web" in-process with args and returns the
// address it listens on (as printed) and a function that stops it and
// returns its exit code.
func startWeb(t *testing.T, args ...string) (base string, stop func() int, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	st := &stdio{in: strings.NewReader(""), out: io.Discard, err: stderr, getenv: func(string) string { return "" }}
	code := make(chan int, 1)
	go func() { code <- run(ctx, append([]string{"web"}, args...), st) }()
	re := regexp.MustCompile(`listening on (https?://[0-9.:\[\]]+)`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case c := <-code:
			t.Fatalf("httpsguard web exited with %d: %s", c, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("httpsguard web did not start: %s", stderr.String())
	}
	var once sync.Once
	var exit int
	stop = func() int {
		once.Do(func() {
			cancel()
			exit = <-code
		})
		return exit
	}
	t.Cleanup(func() { stop() })
	return base, stop, stderr
}

func TestWebCommandScansAndServesTheReport(t *testing.T) {
	ca := localcatest.New(t)
	site := localcatest.NewTLSServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		io.WriteString(w, "<!doctype html><title>site</title>")
	}))
	db := filepath.Join(t.TempDir(), "web.db")
	base, stop, stderr := startWeb(t, "--http", "127.0.0.1:0", "--db", db, "--allow-private", "--ca-file", ca.RootFile(), "--concurrency", "2")

	res, err := http.Post(base+"/api/v1/scans", "application/json", strings.NewReader(`{"url": "`+site.URL+`/"}`))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		ID     string          `json:"id"`
		State  string          `json:"state"`
		Result json.RawMessage `json:"result"`
	}
	json.NewDecoder(res.Body).Decode(&v)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted || v.ID == "" {
		t.Fatalf("POST = %d %+v", res.StatusCode, v)
	}
	for deadline := time.Now().Add(60 * time.Second); v.State != "done" && v.State != "failed" && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		res, err := http.Get(base + "/api/v1/scans/" + v.ID)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
	}
	if v.State != "done" {
		t.Fatalf("scan ended %q; log:\n%s", v.State, stderr.String())
	}
	var result scan.Result
	if err := json.Unmarshal(v.Result, &result); err != nil {
		t.Fatal(err)
	}
	if result.TLS == nil || !result.TLS.Verified || result.TLS.TrustedBy != ca.RootFile() {
		t.Errorf("the scan did not trust the --ca-file root: %+v", result.TLS)
	}
	// The download is byte for byte what "check --format html" renders for
	// this result.
	res, err = http.Get(base + "/scans/" + v.ID + "/report.html")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var want bytes.Buffer
	if err := report.Write(&want, report.HTML, []*scan.Result{&result}, report.Options{ToolVersion: version()}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("report.html: %d bytes, Content-Disposition %q; want the %d-byte check report",
			len(got), res.Header.Get("Content-Disposition"), want.Len())
	}
	if code := stop(); code != exitOK {
		t.Errorf("exit code after shutdown = %d", code)
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown message:\n%s", stderr.String())
	}
}

func TestWebCommandRefusesLoopbackByDefault(t *testing.T) {
	base, _, _ := startWeb(t, "--http", "0", "--db", filepath.Join(t.TempDir(), "web.db"))
	res, err := http.Post(base+"/api/v1/scans", "application/json", strings.NewReader(`{"url": "https://127.0.0.1:8443/"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "public internet") {
		t.Errorf("loopback target = %d %s; want 400", res.StatusCode, body)
	}
}

// TestWebCommandTLS serves HTTPS with --cert-file and redirects plain HTTP.
func TestWebCommandTLS(t *testing.T) {
	ca := localcatest.New(t)
	cert := localcatest.Issue(t, ca, "127.0.0.1")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", cert.Certificate[0])
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyFile, "PRIVATE KEY", key)

	base, _, stderr := startWeb(t, "--https", "127.0.0.1:0", "--db", filepath.Join(dir, "web.db"),
		"--cert-file", certFile, "--key-file", keyFile, "--http", "localhost:0")
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("listening on %s", base)
	}
	client := localcatest.Client(t, ca)
	res, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=63072000; includeSubDomains") {
		t.Errorf("HSTS over TLS = %q", hsts)
	}
	m := regexp.MustCompile(`redirecting plain HTTP to HTTPS" addr=([0-9.:]+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no redirect listener in the log:\n%s", stderr.String())
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noFollow.Get("http://" + m[1] + "/scans/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(loc, "https://") || !strings.HasSuffix(loc, "/scans/x?y=1") {
		t.Errorf("plain HTTP = %d, Location %q", res.StatusCode, loc)
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWebCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"web", "extra"}, "unexpected argument"},
		{[]string{"web", "--cert-file", "x.pem"}, "go together"},
		{[]string{"web", "--https", ":8443"}, "--https needs --cert-file and --key-file"},
		{[]string{"web", "--http", "off"}, "nothing to serve"},
		{[]string{"web", "--http", "example.com:80"}, "must be localhost or an IP address"},
		{[]string{"web", "--http", "80x"}, "not PORT, :PORT or HOST:PORT"},
		{[]string{"web", "--concurrency", "0"}, "must be positive"},
		{[]string{"web", "--timeout", "0s"}, "must be positive"},
		{[]string{"web", "--trusted-proxy", "10.0.0.0/8,nonsense"}, "neither a CIDR"},
		{[]string{"web", "--local-ca"}, "no local CA in"},
		{[]string{"web", "--db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "--http", "127.0.0.1:0"}, "PostgreSQL"},
		// The old names, with their old rules.
		{[]string{"web", "--tls-cert", "x.pem"}, "go together"},
		{[]string{"web", "--http-redirect", ":80"}, "--http-redirect needs --cert-file"},
		{[]string{"web", "--workers", "0"}, "must be positive"},
		{[]string{"web", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"}, "old name of --http"},
	} {
		var errOut bytes.Buffer
		nowhere := filepath.Join(t.TempDir(), "no-ca")
		code := run(context.Background(), tc.args, &stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(k string) string {
			if k == "HTTPSGUARD_CAROOT" {
				return nowhere
			}
			return ""
		}})
		if code != exitError || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"help", "web"}, &stdio{in: strings.NewReader(""), out: &out, err: io.Discard, getenv: func(string) string { return "" }}); code != exitOK ||
		!strings.Contains(out.String(), "--allow-private") || !strings.Contains(out.String(), "POST /api/v1/scans") {
		t.Errorf("help web: %d\n%s", code, out.String())
	}
}

// TestWebToken issues a token, lists it, uses it against a running server,
// and revokes it.
func TestWebToken(t *testing.T) {
	db := filepath.Join(t.TempDir(), "web.db")
	runCmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"web", "token"}, args...), &stdio{in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(string) string { return "" }})
		return code, out.String(), errOut.String()
	}
	code, out, _ := runCmd("create", "--name", "release pipeline", "--db", db)
	secret := strings.TrimSpace(out)
	if code != exitOK || !strings.HasPrefix(secret, "hgw_") {
		t.Fatalf("token create = %d %q", code, out)
	}
	code, out, _ = runCmd("list", "--db", db)
	id := strings.Split(strings.TrimPrefix(secret, "hgw_"), "_")[0]
	if code != exitOK || !strings.Contains(out, id) || !strings.Contains(out, "release pipeline") || strings.Contains(out, secret) {
		t.Errorf("token list = %d\n%s", code, out)
	}

	base, _, _ := startWeb(t, "--http", ":0", "--db", db)
	watches := func() int {
		req, _ := http.NewRequest("GET", base+"/api/v1/watches", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := watches(); got != http.StatusOK {
		t.Errorf("GET /api/v1/watches with the token = %d", got)
	}
	if code, _, _ := runCmd("revoke", id, "--db", db); code != exitOK {
		t.Fatalf("token revoke = %d", code)
	}
	if got := watches(); got != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/watches with a revoked token = %d, want 401", got)
	}
	for _, args := range [][]string{{"create", "--db", db}, {"revoke", "--db", db}, {"rotate", "--db", db}, {"revoke", "nope", "--db", db}} {
		if code, _, errOut := runCmd(args...); code != exitError || errOut == "" {
			t.Errorf("token %v = %d %q; want 2 with a message", args, code, errOut)
		}
	}
}

// TestWebOldNamesStillServe: a script written for the names before the one
// grammar still starts the site, with a warning per old name.
func TestWebOldNamesStillServe(t *testing.T) {
	base, _, stderr := startWeb(t, "--listen", "127.0.0.1:0", "--workers", "2", "--scan-timeout", "30s", "--db", filepath.Join(t.TempDir(), "web.db"))
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d", res.StatusCode)
	}
	for _, want := range []string{"--listen is deprecated", "--workers is deprecated; use --concurrency", "--scan-timeout is deprecated; use --timeout"} {
		if strings.Count(stderr.String(), want) != 1 {
			t.Errorf("stderr lacks one %q:\n%s", want, stderr.String())
		}
	}
}
