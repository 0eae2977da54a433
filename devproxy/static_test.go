package devproxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStaticFolder(t *testing.T) {
	base := t.TempDir()
	pub := filepath.Join(base, "public")
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("secret.txt", "TOP SECRET")
	write("public/index.html", "<h1>home</h1>")
	write("public/css/site.css", "body{}")
	write("public/docs/readme.txt", "docs")
	symlink := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(pub, name)); err != nil {
			t.Skipf("symlinks not supported: %v", err)
		}
	}
	symlink("../secret.txt", "leak.txt")                  // file outside
	symlink("..", "up")                                   // directory outside
	symlink(filepath.Join(base, "secret.txt"), "abs.txt") // absolute path outside
	symlink("css/site.css", "style.css")                  // inside: allowed

	ts := start(t, Config{Dir: pub})

	ok := []struct{ path, want string }{
		{"/", "<h1>home</h1>"},
		{"/css/site.css", "body{}"},
		{"/style.css", "body{}"},
		{"/docs/", "readme.txt"}, // listing
	}
	for _, tc := range ok {
		resp, body := ts.get(t, ts.h2, ts.url("localhost", tc.path))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d %q, want 200 with %q", tc.path, resp.StatusCode, body, tc.want)
		}
	}

	// Raw request lines, so that no client cleans the path first.
	escapes := []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E%2Fsecret.txt",
		"/..%2fsecret.txt",
		"/css/../../secret.txt",
		"/leak.txt",
		"/abs.txt",
		"/up/secret.txt",
		"/up/",
		"//../secret.txt",
		"/./../public/../secret.txt",
	}
	for _, p := range escapes {
		status, body := rawGet(t, ts, p)
		t.Logf("GET %s: %d", p, status)
		if strings.Contains(body, "TOP SECRET") || strings.Contains(body, "secret.txt") && status == http.StatusOK {
			t.Errorf("GET %s escaped the folder: %d %q", p, status, body)
		}
		if status == http.StatusOK || status >= 500 {
			t.Errorf("GET %s: status %d, want a 4xx or a redirect", p, status)
		}
	}

	req, _ := http.NewRequest(http.MethodPost, ts.url("localhost", "/"), strings.NewReader("x"))
	if resp, _ := do(t, ts.h2, req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to a static folder: %d, want 405", resp.StatusCode)
	}
}

// rawGet sends "GET path HTTP/1.1" exactly as written.
func rawGet(t *testing.T, ts *testServer, path string) (int, string) {
	t.Helper()
	conn, err := tls.Dial("tcp", "127.0.0.1:"+ts.httpsPort(), &tls.Config{RootCAs: ts.ca.Pool(), ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

func TestStaticFolderErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	os.WriteFile(file, nil, 0o644)
	ca := startCA(t)
	for _, tc := range []struct{ dir, want string }{
		{filepath.Join(dir, "missing"), "no such file"},
		{file, "is a file, not a folder"},
	} {
		_, err := New(Config{Dir: tc.dir, CA: ca})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(Dir: %s) = %v, want an error containing %q", tc.dir, err, tc.want)
		}
	}
}
