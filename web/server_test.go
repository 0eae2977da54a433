package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// app is a web checker under test: its server on loopback and its store.
type app struct {
	t     *testing.T
	srv   *web.Server
	ts    *httptest.Server
	store *store.DB
	stop  func() // stops the workers and waits for them
}

// startApp serves a web checker over plain HTTP on loopback with its
// workers running; cfg.Store must be set.
func startApp(t *testing.T, cfg web.Config) *app {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
		if os.Getenv("WEBTEST_LOG") != "" {
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	srv, err := web.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return &app{t: t, srv: srv, ts: ts, store: cfg.Store, stop: stop}
}

// siteConfig is a web.Config that scans site (served by scantest) with the
// real scanner: loopback allowed, the site's CA trusted.
func siteConfig(db *store.DB, site *scantest.Site) web.Config {
	opts := site.Options
	opts.Timeout = 15 * time.Second
	return web.Config{Store: db, ScanOptions: opts, AllowPrivate: true, RescanAfter: -1, PollInterval: 20 * time.Millisecond}
}

func (a *app) do(method, path, ctype string, body io.Reader) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.ts.URL+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { res.Body.Close() })
	return res
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (a *app) submitAPI(target string) web.ScanView {
	a.t.Helper()
	res := a.do("POST", "/api/v1/scans", "application/json", strings.NewReader(`{"url": `+jsonString(target)+`}`))
	body := readBody(a.t, res)
	if res.StatusCode != http.StatusAccepted {
		a.t.Fatalf("POST /api/v1/scans = %d %s", res.StatusCode, body)
	}
	var v web.ScanView
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		a.t.Fatal(err)
	}
	if loc := res.Header.Get("Location"); loc != "/api/v1/scans/"+v.ID {
		a.t.Errorf("Location = %q", loc)
	}
	return v
}

// csrfToken reads the start page's anti-CSRF token, as a browser would.
func (a *app) csrfToken() string {
	a.t.Helper()
	body := readBody(a.t, a.do("GET", "/", "", nil))
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		a.t.Fatal("the start page has no csrf_token field")
	}
	return m[1]
}

// postForm submits the start page's form for target.
func (a *app) postForm(target string) *http.Response {
	a.t.Helper()
	form := url.Values{"url": {target}, "csrf_token": {a.csrfToken()}}
	return a.do("POST", "/scans", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// wait polls the API until the scan is finished. The bound only keeps a
// broken test from hanging; nothing is timed.
func (a *app) wait(id string) web.ScanView {
	a.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res := a.do("GET", "/api/v1/scans/"+id, "", nil)
		body := readBody(a.t, res)
		if res.StatusCode != http.StatusOK {
			a.t.Fatalf("GET scan = %d %s", res.StatusCode, body)
		}
		var v web.ScanView
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			a.t.Fatal(err)
		}
		if v.State == "done" || v.State == "failed" {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.t.Fatalf("scan %s did not finish", id)
	return web.ScanView{}
}

// goodSite is a small application with sound transport security.
func goodSite(hsts string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		h := w.Header()
		if hsts != "" {
			h.Set("Strict-Transport-Security", hsts)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>ok</title><p>hello")
	})
}

// TestScanThroughAPI submits a real loopback site through the JSON API and
// checks the lifecycle, the result document and the downloads.
func TestScanThroughAPI(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000; includeSubDomains"), scantest.Config{Host: "api.test"})
	storetest.ForEach(t, func(t *testing.T, _ string, db *store.DB) {
		a := startApp(t, siteConfig(db, site))
		v := a.submitAPI("api.test")
		if v.State != "queued" && v.State != "running" || v.URL != "https://api.test/" || v.Site != "api.test" {
			t.Errorf("submitted scan = %+v", v)
		}
		done := a.wait(v.ID)
		if done.State != "done" || done.Score == nil || done.Grade == "" || done.FinishedAt == nil || done.StartedAt == nil {
			t.Fatalf("finished scan = %+v", done)
		}
		var doc scan.Result
		if err := json.Unmarshal(done.Result, &doc); err != nil {
			t.Fatalf("result document: %v", err)
		}
		if doc.SchemaVersion != scan.SchemaVersion || doc.Host != "api.test" || len(doc.Checks) == 0 ||
			doc.Score != *done.Score || doc.Grade != done.Grade || doc.Tool.Version != "test" {
			t.Errorf("result document = %+v", doc)
		}

		// The downloads are what "check --format json/html" write for the
		// same result.
		for _, tc := range []struct {
			path, ctype string
			f           report.Format
		}{
			{"/scans/" + v.ID + "/report.html", "text/html; charset=utf-8", report.HTML},
			{"/scans/" + v.ID + "/report.json", "application/json; charset=utf-8", report.JSON},
		} {
			res := a.do("GET", tc.path, "", nil)
			got := readBody(t, res)
			var want bytes.Buffer
			if err := report.Write(&want, tc.f, []*scan.Result{&doc}, report.Options{ToolVersion: "test"}); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != tc.ctype || got != want.String() {
				t.Errorf("GET %s = %d %s, %d bytes; want the %s report (%d bytes)", tc.path, res.StatusCode,
					res.Header.Get("Content-Type"), len(got), tc.f, want.Len())
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="httpsguard-api.test-`) {
				t.Errorf("Content-Disposition = %q", cd)
			}
		}

		// The site's scans.
		res := a.do("GET", "/api/v1/sites/api.test/scans", "", nil)
		var list web.SiteScans
		if err := json.NewDecoder(res.Body).Decode(&list); err != nil || res.StatusCode != 200 {
			t.Fatalf("site scans: %d %v", res.StatusCode, err)
		}
		if list.Site != "api.test" || len(list.Scans) != 1 || list.Scans[0].ID != v.ID || list.Scans[0].Result != nil {
			t.Errorf("site scans = %+v", list)
		}
		res = a.do("GET", "/api/v1/sites/nobody.test/scans", "", nil)
		if body := readBody(t, res); res.StatusCode != 200 || !strings.Contains(body, `"scans": []`) {
			t.Errorf("scans of an unknown site = %d %s", res.StatusCode, body)
		}
	})
}

// TestFormWithoutJavaScript follows what a browser without JavaScript does:
// POST the form, follow the 303, reload via the meta refresh until done.
func TestFormWithoutJavaScript(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "form.test"})
	storetest.ForEach(t, func(t *testing.T, _ string, db *store.DB) {
		release := make(chan struct{})
		cfg := siteConfig(db, site)
		real, err := scan.New(cfg.ScanOptions)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Scanner = gatedScanner{real, release}
		a := startApp(t, cfg)

		res := a.postForm(" form.test ")
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/scans/[a-z2-7]{26}$`).MatchString(loc) {
			t.Fatalf("POST /scans = %d, Location %q", res.StatusCode, loc)
		}
		res = a.do("GET", loc, "", nil)
		body := readBody(t, res)
		for _, want := range []string{`<noscript><meta http-equiv="refresh" content="2"></noscript>`, `role="status"`, "Checking"} {
			if !strings.Contains(body, want) {
				t.Errorf("pending page lacks %q", want)
			}
		}
		close(release)
		a.wait(strings.TrimPrefix(loc, "/scans/"))
		body = readBody(t, a.do("GET", loc, "", nil))
		if strings.Contains(body, `http-equiv="refresh"`) {
			t.Error("a finished page still refreshes")
		}
		for _, want := range []string{"What to fix first", "Redirect chains", "Connection and certificate", "report.html", "Permanent link", "History of form.test", `class="grade `,
			// The TLS facts: every version asked about, every suite accepted.
			"Protocol versions and the cipher suites accepted with each", `<th scope="row">SSL 3.0</th>`, "TLS_AES_128_GCM_SHA256", "Forward secrecy", "days left"} {
			if !strings.Contains(body, want) {
				t.Errorf("result page lacks %q", want)
			}
		}
	})
}

// gatedScanner holds every scan until release is closed.
type gatedScanner struct {
	web.Scanner
	release chan struct{}
}

func (g gatedScanner) Scan(ctx context.Context, target string) *scan.Result {
	select {
	case <-g.release:
	case <-ctx.Done():
		return &scan.Result{Target: target, Error: &scan.Error{Kind: scan.KindCancelled, Message: "cancelled"}}
	}
	return g.Scanner.Scan(ctx, target)
}
