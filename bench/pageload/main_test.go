package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestPageGraph checks the page: every import names a module the app
// serves, and 300 modules in all, each counted once.
func TestPageGraph(t *testing.T) {
	files := pageFiles()
	imports := regexp.MustCompile(`from "([^"]+)"`)
	n := 0
	for path, body := range files {
		if !strings.HasSuffix(path, ".js") {
			continue
		}
		n++
		if strings.Count(body, counter) != 1 {
			t.Errorf("%s counts itself %d times", path, strings.Count(body, counter))
		}
		for _, m := range imports.FindAllStringSubmatch(body, -1) {
			if _, ok := files[m[1]]; !ok {
				t.Errorf("%s imports %s, which the app does not serve", path, m[1])
			}
		}
	}
	if n != modules || modules != 300 {
		t.Errorf("%d modules, want %d (300)", n, modules)
	}
}

// TestApp checks what the app sends for a module: JavaScript, revalidated
// on every load, with an ETag that gives 304.
func TestApp(t *testing.T) {
	app, err := startApp()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	resp, err := http.Get("http://" + app.Addr + "/src/main.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(string(body), "feature0") {
		t.Fatalf("main.js: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+app.Addr+"/src/main.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("Etag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", resp.StatusCode)
	}
	resp, err = http.Get("http://" + app.Addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), pageMark) {
		t.Errorf("the page lacks its mark: %s", body)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
