package devproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testpeer"
)

// startPythonHTTPServer runs "python3 -m http.server" on a free loopback
// port, serving dir, and returns its address once it accepts connections.
// Its answers are HTTP/1.0 with a Content-Length and a closed connection:
// the other common shape of development server, next to HTTP/1.1
// keep-alive ones.
func startPythonHTTPServer(t *testing.T, dir string) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		testpeer.Missing(t, testpeer.Python, err.Error())
	}
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, python, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, port)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", cmd, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })

	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("python3 -m http.server exited before it listened on %s:\n%s", addr, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("python3 -m http.server does not listen on %s after 20 s: %v\n%s", addr, err, out.String())
		}
	}
}

// TestProxyMatchesPythonHTTPServer compares what a browser gets through the
// proxy, over HTTP/1.1 and HTTP/2, with what it gets from the application
// itself.
func TestProxyMatchesPythonHTTPServer(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from python\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "static", "app.css"), []byte(strings.Repeat("body{color:#222}\n", 2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startPythonHTTPServer(t, dir)
	ts := start(t, Config{Upstream: mustUpstream(t, "http://"+addr)})
	plain := &http.Client{
		Transport:     &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(plain.CloseIdleConnections)

	for _, tc := range []struct {
		name, method, path string
		status             int
	}{
		{"file", http.MethodGet, "/hello.txt", http.StatusOK},
		{"large file", http.MethodGet, "/static/app.css", http.StatusOK},
		{"directory listing", http.MethodGet, "/static/", http.StatusOK},
		{"directory without slash", http.MethodGet, "/static", http.StatusMovedPermanently},
		{"not found", http.MethodGet, "/missing.js", http.StatusNotFound},
		{"HEAD", http.MethodHead, "/hello.txt", http.StatusOK},
		{"HEAD not found", http.MethodHead, "/missing.js", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantBody := fetchPlain(t, plain, tc.method, "http://"+addr+tc.path)
			if want.StatusCode != tc.status {
				t.Fatalf("python itself answered %d, want %d", want.StatusCode, tc.status)
			}
			for _, c := range []*http.Client{ts.h1, ts.h2} {
				req, err := http.NewRequest(tc.method, ts.url("localhost", tc.path), nil)
				if err != nil {
					t.Fatal(err)
				}
				got, gotBody := do(t, c, req)
				if got.StatusCode != want.StatusCode || gotBody != wantBody {
					t.Errorf("%s: through the proxy %d %.100q, directly %d %.100q", got.Proto, got.StatusCode, gotBody, want.StatusCode, wantBody)
				}
				for _, k := range []string{"Content-Type", "Content-Length", "Last-Modified", "Location", "Server"} {
					if g, w := got.Header.Get(k), want.Header.Get(k); g != w {
						t.Errorf("%s: %s through the proxy %q, directly %q", got.Proto, k, g, w)
					}
				}
				if got.Header.Get("Connection") != "" {
					t.Errorf("%s: the application's hop-by-hop Connection header reached the browser", got.Proto)
				}
			}
		})
	}

}

func fetchPlain(t *testing.T, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("reading %s: %v", url, err)
	}
	return resp, string(body)
}
