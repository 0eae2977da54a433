package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestLoopbackRefusedByDefault checks both lines of defence without
// --allow-private: an address that is plainly private is refused at
// submission, and a name that only resolves to loopback is refused by the
// scanner on the address it dials.
func TestLoopbackRefusedByDefault(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "rebind.test"})
	storetest.ForEach(t, func(t *testing.T, _ string, db *store.DB) {
		cfg := siteConfig(db, site) // the scanner would resolve rebind.test to 127.0.0.1
		cfg.AllowPrivate = false
		a := startApp(t, cfg)

		for _, target := range []string{"127.0.0.1", "https://[::1]:8443/", "http://10.1.2.3/", "169.254.169.254", "localhost", "app.localhost:8080", "100.64.0.1", "[::ffff:127.0.0.1]"} {
			res := a.do("POST", "/api/v1/scans", "application/json", strings.NewReader(`{"url":`+jsonString(target)+`}`))
			body := readBody(t, res)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "public internet") {
				t.Errorf("submitting %s = %d %s; want 400 refused", target, res.StatusCode, body)
			}
		}

		v := a.submitAPI("rebind.test")
		done := a.wait(v.ID)
		if done.State != "failed" || !strings.Contains(done.Error+string(done.Result), "not a public address") {
			t.Errorf("scan of a name resolving to loopback = %s %q; want failed, refused by DenyPrivate", done.State, done.Error)
		}
		// The refused scan is shown as such, not as a grade.
		body := readBody(t, a.do("GET", "/scans/"+v.ID, "", nil))
		if !strings.Contains(body, "Scan failed") {
			t.Error("the failed scan's page does not say it failed")
		}
	})
}

// TestHostileSiteEscaped scans a site whose headers, cookies and body try
// to inject markup into the result page.
func TestHostileSiteEscaped(t *testing.T) {
	const payload = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`
	hostile := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", "evil/1.0 "+payload)
		h.Set("X-Powered-By", payload)
		h.Set("Content-Security-Policy", "script-src 'unsafe-inline' "+payload)
		h.Set("Strict-Transport-Security", "max-age=5; "+payload)
		h.Set("Location", "javascript:alert(1)")
		h.Add("Set-Cookie", "sessionid="+url.QueryEscape(payload)+"; Path=/")
		h.Add("Set-Cookie", `csrftoken"><script>alert(2)</script>=1`)
		h.Set("Content-Type", "text/html")
		io.WriteString(w, `<html><body><script src="http://evil.example/x.js"></script><form method=post action="http://evil.example/"><input type=password name=p></form>`+payload+`</body></html>`)
	})
	site := scantest.NewSite(t, hostile, scantest.Config{Host: "hostile.test"})
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := startApp(t, siteConfig(db, site))
	v := a.submitAPI("hostile.test")
	if done := a.wait(v.ID); done.State != "done" {
		t.Fatalf("scan = %+v", done)
	}
	res := a.do("GET", "/scans/"+v.ID, "", nil)
	body := readBody(t, res)
	if !strings.Contains(body, "&lt;script&gt;") {
		t.Error("the hostile evidence is not on the page at all; the test proves nothing")
	}
	for _, bad := range []string{"<script>alert", "<img src=x", "javascript:alert", `"><script>`} {
		if strings.Contains(body, bad) {
			t.Errorf("result page contains unescaped %q", bad)
		}
	}
	// The only script element is the site's own, with the response's nonce.
	csp := res.Header.Get("Content-Security-Policy")
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1)
	if nonce == nil || len(scripts) != 1 || !strings.Contains(html.UnescapeString(scripts[0]), `nonce="`+nonce[1]+`"`) {
		t.Errorf("script tags %q, CSP %q: want exactly our own script with the nonce", scripts, csp)
	}
}

// TestHistoryAndRegression scans a site twice; between the scans it drops
// its HSTS header. The second result shows the history and the regression.
func TestHistoryAndRegression(t *testing.T) {
	var broken atomic.Bool
	good := goodSite("max-age=63072000; includeSubDomains")
	bad := goodSite("")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			bad.ServeHTTP(w, r)
			return
		}
		good.ServeHTTP(w, r)
	})
	site := scantest.NewSite(t, h, scantest.Config{Host: "history.test"})
	storetest.ForEach(t, func(t *testing.T, _ string, db *store.DB) {
		broken.Store(false)
		a := startApp(t, siteConfig(db, site))
		first := a.wait(a.submitAPI("history.test").ID)
		broken.Store(true)
		second := a.wait(a.submitAPI("https://HISTORY.test:443/").ID)
		if first.State != "done" || second.State != "done" || *second.Score >= *first.Score {
			t.Fatalf("scores %v then %v; want the second lower", *first.Score, *second.Score)
		}
		body := readBody(t, a.do("GET", "/scans/"+second.ID, "", nil))
		for _, want := range []string{
			"Since the previous scan",
			"Got worse",
			`href="/scans/` + first.ID + `"`,
			`id="check-HGS-HSTS-001"`,
			"is-regressed",
			`<span class="badge regressed-badge">Regressed</span>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("second result page lacks %q", want)
			}
		}
		// The HSTS check is the one marked.
		if m := regexp.MustCompile(`class="check status-fail is-regressed" id="check-([A-Z0-9-]+)"`).FindAllStringSubmatch(body, -1); len(m) == 0 || m[0][1] != "HGS-HSTS-001" {
			t.Errorf("regressed checks marked: %v", m)
		}
		// The first scan's page shows no comparison: nothing came before it.
		if body := readBody(t, a.do("GET", "/scans/"+first.ID, "", nil)); strings.Contains(body, "Since the previous scan") {
			t.Error("the first scan compares itself with something")
		}
		site := readBody(t, a.do("GET", "/sites/history.test", "", nil))
		if !strings.Contains(site, first.ID) || !strings.Contains(site, second.ID) {
			t.Error("the site page does not list both scans")
		}
	})
}

// TestRestartFinishesInterruptedScans stops the server cleanly mid-scan:
// the scan is given back to the queue without counting as an attempt, and
// a new server on the same database finishes it. A process that dies
// instead is TestKillMidWork's.
func TestRestartFinishesInterruptedScans(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "restart.test"})
	storetest.ForEach(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		cfg := siteConfig(db, site)
		blocked := make(chan struct{}) // never closed: the scan hangs until cancelled
		started := make(chan struct{}, 1)
		cfg.Scanner = startedScanner{gatedScanner{nil, blocked}, started}
		a := startApp(t, cfg)
		graceful := a.submitAPI("restart.test")
		<-started
		if v := a.get(graceful.ID); v.State != "running" {
			t.Fatalf("state while scanning = %s", v.State)
		}
		a.stop() // cancels the workers: the scan goes back to the queue
		if sc, _ := db.Get(ctx, graceful.ID); sc.State != store.Queued || sc.Attempts != 0 {
			t.Errorf("after a clean stop: %s with %d attempts; want queued with 0", sc.State, sc.Attempts)
		}
		db.Close()

		db2, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db2.Close() })
		b := startApp(t, siteConfig(db2, site))
		if v := b.wait(graceful.ID); v.State != "done" {
			t.Errorf("scan after restart: %s %s", v.State, v.Error)
		}
		sc, _ := db2.Get(ctx, graceful.ID)
		if sc.Attempts != 1 {
			t.Errorf("a clean shutdown counted as an interruption: %d attempts", sc.Attempts)
		}
	})
}

type startedScanner struct {
	web.Scanner
	started chan struct{}
}

func (s startedScanner) Scan(ctx context.Context, target string) *scan.Result {
	select {
	case s.started <- struct{}{}:
	default:
	}
	return s.Scanner.Scan(ctx, target)
}

func (a *app) get(id string) web.ScanView {
	a.t.Helper()
	var v web.ScanView
	res := a.do("GET", "/api/v1/scans/"+id, "", nil)
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		a.t.Fatal(err)
	}
	return v
}

// TestErrors checks the API's and the form's refusals.
func TestErrors(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	never := make(chan struct{})
	a := startApp(t, web.Config{Store: db, AllowPrivate: false, Scanner: gatedScanner{nil, never}, SubmitBurst: 3, MaxQueue: 100})

	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		contains                        string
	}{
		{"bad url", "POST", "/api/v1/scans", "application/json", `{"url": "ftp://example.com/"}`, 400, "only http:// and https://"},
		{"empty url", "POST", "/api/v1/scans", "application/json", `{"url": ""}`, 400, "enter the address"},
		{"userinfo", "POST", "/api/v1/scans", "application/json", `{"url": "https://user:pw@example.com/"}`, 400, "user name or password"},
		{"not json", "POST", "/api/v1/scans", "application/json", `url=example.com`, 400, "JSON object"},
		{"empty body", "POST", "/api/v1/scans", "application/json", ``, 400, "body is empty"},
		{"unknown field", "POST", "/api/v1/scans", "application/json", `{"url": "example.com", "x": 1}`, 400, "unknown field"},
		{"trailing data", "POST", "/api/v1/scans", "application/json", `{"url": "example.com"} {}`, 400, "nothing after it"},
		{"wrong type", "POST", "/api/v1/scans", "text/plain", `{"url": "example.com"}`, 415, "application/json"},
		{"too large", "POST", "/api/v1/scans", "application/json", `{"url": "` + strings.Repeat("a", 9000) + `"}`, 413, "larger than 8 KiB"},
		{"unknown scan", "GET", "/api/v1/scans/" + store.NewID(), "", "", 404, "no scan has this ID"},
		{"malformed id", "GET", "/api/v1/scans/..%2f..%2fetc", "", "", 404, "no scan"},
		{"bad site", "GET", "/api/v1/sites/exa%20mple.com/scans", "", "", 400, "host name"},
		{"bad limit", "GET", "/api/v1/sites/example.com/scans?limit=1000", "", "", 400, "limit"},
		{"unknown endpoint", "GET", "/api/v2/things", "", "", 404, "no such API endpoint"},
		{"unknown page", "GET", "/nothing-here", "", "", 404, "Page not found"},
		{"unknown scan page", "GET", "/scans/" + store.NewID(), "", "", 404, "Scan not found"},
		{"no token", "POST", "/scans", "application/x-www-form-urlencoded", "url=example.com", 403, "expired"},
		{"big form", "POST", "/scans", "application/x-www-form-urlencoded", "url=" + strings.Repeat("a", 9000), 413, "larger than 8 KiB"},
		{"health", "GET", "/healthz", "", "", 200, "ok"},
		{"method", "DELETE", "/api/v1/scans/" + store.NewID(), "", "", 405, "use GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			res := a.do(tc.method, tc.path, tc.ctype, body)
			got := readBody(t, res)
			if res.StatusCode != tc.status || !strings.Contains(got, tc.contains) {
				t.Errorf("%s %s = %d %.300s; want %d containing %q", tc.method, tc.path, res.StatusCode, got, tc.status, tc.contains)
			}
			if strings.HasPrefix(tc.path, "/api/") {
				var e struct {
					Error  string `json:"error"`
					Status int    `json:"status"`
				}
				if err := json.Unmarshal([]byte(got), &e); err != nil || e.Status != tc.status || e.Error == "" {
					t.Errorf("API error body %q is not {error, status}", got)
				}
			}
		})
	}

	t.Run("cross-site form", func(t *testing.T) {
		req, _ := http.NewRequest("POST", a.ts.URL+"/scans", strings.NewReader("url=example.com&csrf_token="+a.csrfToken()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST = %d, want 403", res.StatusCode)
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		// The burst is 3: three distinct sites pass, the fourth waits.
		var last *http.Response
		var body string
		for i := range 4 {
			last = a.do("POST", "/api/v1/scans", "application/json", strings.NewReader(`{"url": "site`+strconv.Itoa(i)+`.example.com"}`))
			body = readBody(t, last)
			if i < 3 && last.StatusCode != http.StatusAccepted {
				t.Fatalf("submission %d = %d %s", i, last.StatusCode, body)
			}
		}
		ra, err := strconv.Atoi(last.Header.Get("Retry-After"))
		if last.StatusCode != http.StatusTooManyRequests || err != nil || ra < 1 || !strings.Contains(body, "too many scans") {
			t.Errorf("fourth submission = %d, Retry-After %q, %s", last.StatusCode, last.Header.Get("Retry-After"), body)
		}
		// Resubmitting a queued URL reuses its scan and costs nothing.
		res := a.do("POST", "/api/v1/scans", "application/json", strings.NewReader(`{"url": "https://site0.example.com"}`))
		if res.StatusCode != http.StatusAccepted {
			t.Errorf("reuse of a queued scan = %d", res.StatusCode)
		}
		// The queue shows positions.
		var v web.ScanView
		json.NewDecoder(res.Body).Decode(&v)
		if v.State != "queued" && v.State != "running" {
			t.Errorf("reused scan state %s", v.State)
		}
	})
}

// TestQueueFull refuses submissions with 503 when the queue is full. No
// worker runs, so the queue only grows.
func TestQueueFull(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv, err := web.New(context.Background(), web.Config{Store: db, Scanner: gatedScanner{nil, make(chan struct{})}, MaxQueue: 3, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	a := &app{t: t, srv: srv, ts: ts, store: db, stop: func() {}}
	for i := range 4 {
		res := a.do("POST", "/api/v1/scans", "application/json", strings.NewReader(`{"url": "q`+strconv.Itoa(i)+`.example.com"}`))
		body := readBody(t, res)
		if i < 3 {
			var v web.ScanView
			if err := json.Unmarshal([]byte(body), &v); err != nil || res.StatusCode != http.StatusAccepted || v.QueuePosition != i+1 {
				t.Errorf("submission %d = %d %s; want 202 at queue position %d", i, res.StatusCode, body, i+1)
			}
			continue
		}
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "queue is full") {
			t.Errorf("submission to a full queue = %d %s", res.StatusCode, body)
		}
	}
	// The pending page shows the position too.
	list := a.do("GET", "/api/v1/sites/q2.example.com/scans", "", nil)
	var ss web.SiteScans
	json.NewDecoder(list.Body).Decode(&ss)
	if len(ss.Scans) != 1 {
		t.Fatalf("site scans: %+v", ss)
	}
	if body := readBody(t, a.do("GET", "/scans/"+ss.Scans[0].ID, "", nil)); !strings.Contains(body, "position 3") {
		t.Error("the pending page does not show the queue position")
	}
}

// TestSecurityHeaders checks the policy every page is served with.
func TestSecurityHeaders(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := startApp(t, web.Config{Store: db, Scanner: gatedScanner{nil, make(chan struct{})}})
	for _, path := range []string{"/", "/api/v1/scans/" + store.NewID(), "/nothing", "/static/style.css"} {
		res := a.do("GET", path, "", nil)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "script-src 'nonce-"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows unsafe code", path, csp)
		}
		for name, want := range map[string]string{
			"X-Content-Type-Options":       "nosniff",
			"X-Frame-Options":              "DENY",
			"Referrer-Policy":              "no-referrer",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Resource-Policy": "same-origin",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
		// Plain HTTP without Secure: no HSTS (it would be ignored, and
		// wrong for a local instance).
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain HTTP", path)
		}
	}
	res := a.do("GET", "/static/app.js", "", nil)
	if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("app.js Content-Type = %q", ct)
	}
	if res := a.do("GET", "/static/", "", nil); res.StatusCode != 404 {
		t.Errorf("/static/ = %d; want no listing", res.StatusCode)
	}
}

// TestCachedResultPage checks that a finished scan's page, served from the
// page cache, still carries each response's own nonce and a valid form
// token, and that a new scan of the site shows up in its history at once.
func TestCachedResultPage(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "cache.test"})
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := startApp(t, siteConfig(db, site))
	first := a.wait(a.submitAPI("cache.test").ID)
	nonces := map[string]bool{}
	for range 3 {
		res := a.do("GET", "/scans/"+first.ID, "", nil)
		body := readBody(t, res)
		csp := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(res.Header.Get("Content-Security-Policy"))
		script := regexp.MustCompile(`<script[^>]*nonce="([^"]+)"`).FindStringSubmatch(body)
		if csp == nil || script == nil || html.UnescapeString(script[1]) != csp[1] {
			t.Fatalf("nonce in page %v does not match the CSP %v", script, csp)
		}
		nonces[csp[1]] = true
		if strings.Contains(body, "MARKER") {
			t.Fatal("a cache marker leaked into the page")
		}
		if !strings.Contains(body, `name="csrf_token" value="`) || res.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Fatal("cached page lacks the form token or has a wrong length")
		}
	}
	if len(nonces) != 3 {
		t.Errorf("%d distinct nonces over 3 responses", len(nonces))
	}
	// Scan again through the page's own form: the token it carries works.
	body := readBody(t, a.do("GET", "/scans/"+first.ID, "", nil))
	tok := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	form := url.Values{"url": {"cache.test"}, "csrf_token": {tok[1]}, "rescan": {"1"}}
	res := a.do("POST", "/scans", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("scan again = %d", res.StatusCode)
	}
	second := strings.TrimPrefix(res.Header.Get("Location"), "/scans/")
	if body := readBody(t, a.do("GET", "/scans/"+first.ID, "", nil)); !strings.Contains(body, second) {
		t.Error("the new scan is missing from the cached page's history")
	}
}

// TestReuseRecentScan: a second submission of a URL scanned a moment ago
// gets the same scan, unless it asks for a rescan.
func TestReuseRecentScan(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "reuse.test"})
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := siteConfig(db, site)
	cfg.RescanAfter = 0 // the default, two minutes
	a := startApp(t, cfg)
	first := a.wait(a.submitAPI("https://reuse.test/").ID)
	if again := a.submitAPI("reuse.test"); again.ID != first.ID || again.State != "done" {
		t.Errorf("resubmission = %s %s; want the finished scan %s", again.ID, again.State, first.ID)
	}
	res := a.do("POST", "/api/v1/scans", "application/json", strings.NewReader(`{"url": "reuse.test", "rescan": true}`))
	var v web.ScanView
	json.NewDecoder(res.Body).Decode(&v)
	if res.StatusCode != http.StatusAccepted || v.ID == first.ID || v.ID == "" {
		t.Errorf("rescan = %d %s; want a new scan", res.StatusCode, v.ID)
	}
}

// TestSharedQueue runs two instances on one database: a scan submitted to
// the one without workers is picked up by the other's polling workers, and
// both serve its result.
func TestSharedQueue(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "shared.test"})
	storetest.ForEach(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		front, err := web.New(ctx, web.Config{Store: db, AllowPrivate: true, ScanOptions: site.Options, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(front.Handler())
		defer ts.Close()
		a := &app{t: t, srv: front, ts: ts, store: db, stop: func() {}}

		db2, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db2.Close() })
		cfg := siteConfig(db2, site)
		cfg.PollInterval = 20 * time.Millisecond
		b := startApp(t, cfg)

		v := a.submitAPI("shared.test")
		if done := a.wait(v.ID); done.State != "done" {
			t.Fatalf("scan through the other instance: %+v", done)
		}
		if got := b.get(v.ID); got.State != "done" || got.Grade == "" {
			t.Errorf("the worker instance sees %+v", got)
		}
	})
}
