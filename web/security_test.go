package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestWatchAPIRefusals: watches need a valid token, belong to it, and
// every state-changing request must be same-site JSON.
func TestWatchAPIRefusals(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := startApp(t, web.Config{Store: db, Scanner: gatedScanner{nil, make(chan struct{})}})
	ctx := context.Background()
	_, mine, _ := db.CreateToken(ctx, "mine", time.Now())
	_, theirs, _ := db.CreateToken(ctx, "theirs", time.Now())
	res := a.doAuth("POST", "/api/v1/watches", mine, `{"url": "example.com"}`)
	var wv web.WatchView
	if json.Unmarshal([]byte(readBody(t, res)), &wv); res.StatusCode != 201 || wv.IntervalSeconds != 86400 {
		t.Fatalf("create = %d %+v; want 201, daily by default", res.StatusCode, wv)
	}
	for _, tc := range []struct {
		name, method, path, token, ctype, body string
		header                                 [2]string
		status                                 int
		contains                               string
	}{
		{"no token", "POST", "/api/v1/watches", "", "application/json", `{"url": "example.com"}`, [2]string{}, 401, "API token"},
		{"bad token", "GET", "/api/v1/watches", "hgw_nope_nope", "", "", [2]string{}, 401, "not valid"},
		{"their watch", "GET", "/api/v1/watches/" + wv.ID, theirs, "", "", [2]string{}, 404, "no watch of yours"},
		{"their delete", "DELETE", "/api/v1/watches/" + wv.ID, theirs, "", "", [2]string{}, 404, "no watch of yours"},
		{"too often", "POST", "/api/v1/watches", mine, "application/json", `{"url": "example.com", "interval": "30m"}`, [2]string{}, 400, "at least 1h"},
		{"bad interval", "POST", "/api/v1/watches", mine, "application/json", `{"url": "example.com", "interval": "daily"}`, [2]string{}, 400, "duration"},
		{"private webhook", "POST", "/api/v1/watches", mine, "application/json", `{"url": "example.com", "webhooks": ["http://127.0.0.1:9/"]}`, [2]string{}, 400, "refused: not a public address"},
		{"documentation webhook", "POST", "/api/v1/watches", mine, "application/json", `{"url": "example.com", "webhooks": ["https://[2001:db8::1]/"]}`, [2]string{}, 400, "refused: not a public address"},
		{"localhost webhook", "POST", "/api/v1/watches", mine, "application/json", `{"url": "example.com", "webhooks": ["http://localhost:8080/"]}`, [2]string{}, 400, "refused"},
		{"private watch", "POST", "/api/v1/watches", mine, "application/json", `{"url": "http://10.0.0.1/"}`, [2]string{}, 400, "refused: not a public address"},
		{"no content type", "POST", "/api/v1/watches", mine, "", `{"url": "example.com"}`, [2]string{}, 415, "application/json"},
		{"text/plain", "PATCH", "/api/v1/watches/" + wv.ID, mine, "text/plain", `{"paused": true}`, [2]string{}, 415, "application/json"},
		{"cross-site", "POST", "/api/v1/watches", mine, "application/json", `{"url": "example.com"}`, [2]string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-site"},
		{"foreign origin", "DELETE", "/api/v1/watches/" + wv.ID, mine, "", "", [2]string{"Origin", "https://evil.example"}, 403, "cross-site"},
		{"scan without type", "POST", "/api/v1/scans", "", "", `{"url": "example.com"}`, [2]string{}, 415, "application/json"},
		{"scan cross-site", "POST", "/api/v1/scans", "", "application/json", `{"url": "example.com"}`, [2]string{"Sec-Fetch-Site", "same-site"}, 403, "cross-site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, a.ts.URL+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.header[0] != "" {
				req.Header.Set(tc.header[0], tc.header[1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, res)
			if res.StatusCode != tc.status || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s = %d %s; want %d with %q", tc.method, tc.path, res.StatusCode, body, tc.status, tc.contains)
			}
		})
	}
	// Pause, resume and delete, by the owner.
	res = a.doAuth("PATCH", "/api/v1/watches/"+wv.ID, mine, `{"paused": true}`)
	if json.Unmarshal([]byte(readBody(t, res)), &wv); res.StatusCode != 200 || !wv.Paused {
		t.Errorf("pause = %d %+v", res.StatusCode, wv)
	}
	var list struct{ Watches []web.WatchView }
	json.Unmarshal([]byte(readBody(t, a.doAuth("GET", "/api/v1/watches", theirs, ""))), &list)
	if len(list.Watches) != 0 {
		t.Errorf("another token lists %d watches", len(list.Watches))
	}
	if res := a.doAuth("DELETE", "/api/v1/watches/"+wv.ID, mine, ""); res.StatusCode != 204 {
		t.Errorf("delete = %d", res.StatusCode)
	}
	if res := a.doAuth("GET", "/api/v1/watches/"+wv.ID, mine, ""); res.StatusCode != 404 {
		t.Errorf("deleted watch = %d", res.StatusCode)
	}
}

// TestFairShare: refused submissions do not use up the rate limit, and a
// client may have only its share of the queue.
func TestFairShare(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// No worker runs: the queue only grows.
	a := startApp(t, web.Config{Store: db, Scanner: gatedScanner{nil, make(chan struct{})}, Workers: 1, SubmitBurst: 4, MaxQueuedPerClient: 2})
	submit := func(target string) (int, string) {
		res := a.do("POST", "/api/v1/scans", "application/json", strings.NewReader(`{"url": `+jsonString(target)+`}`))
		return res.StatusCode, readBody(t, res)
	}
	// Twenty refused submissions cost nothing.
	for i := range 20 {
		if code, _ := submit("http://10.0.0." + strconv.Itoa(i) + "/"); code != 400 {
			t.Fatalf("private target = %d", code)
		}
	}
	for i := range 2 {
		if code, body := submit("fair" + strconv.Itoa(i) + ".example"); code != 202 {
			t.Fatalf("submission %d after refusals = %d %s; refusals used up the rate limit", i, code, body)
		}
	}
	// The third unfinished scan is over this client's share.
	code, body := submit("fair2.example")
	if code != http.StatusTooManyRequests || !strings.Contains(body, "2 scans waiting") {
		t.Errorf("third queued scan = %d %s; want 429, over the per-client cap", code, body)
	}
}

// syncBuffer is a log destination the server's goroutines write while the
// test reads.
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

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// TestFailedScanShownAsError: a scan that could not be done has no grade
// anywhere (page, badge, chart), and its public error names no internal
// address; the detail is in the server log only.
func TestFailedScanShownAsError(t *testing.T) {
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "inside.test"})
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var logs syncBuffer
	cfg := siteConfig(db, site) // inside.test resolves to 127.0.0.1
	cfg.AllowPrivate = false
	cfg.Logger = newTextLogger(&logs)
	a := startApp(t, cfg)
	v := a.wait(a.submitAPI("inside.test").ID)
	if v.State != "failed" || v.Grade != "" || v.Score != nil {
		t.Fatalf("scan = %+v; want failed without a grade", v)
	}
	addr := regexp.MustCompile(`\b127\.0\.0\.1\b|\[::1\]`)
	raw := readBody(t, a.do("GET", "/api/v1/scans/"+v.ID, "", nil))
	page := readBody(t, a.do("GET", "/scans/"+v.ID, "", nil))
	report := readBody(t, a.do("GET", "/scans/"+v.ID+"/report.json", "", nil))
	for name, text := range map[string]string{"API": raw, "page": page, "report": report} {
		if addr.MatchString(text) {
			t.Errorf("the %s shows an internal address: %s", name, addr.FindString(text))
		}
		if !strings.Contains(text, "refused: not a public address") {
			t.Errorf("the %s does not say the address was refused", name)
		}
	}
	if !addr.MatchString(logs.String()) {
		t.Error("the server log lacks the detail withheld from the public")
	}
	badge := readBody(t, a.do("GET", "/sites/inside.test/badge.svg", "", nil))
	if !strings.Contains(badge, "error · ") || regexp.MustCompile(`>[A-F][+-]? · `).MatchString(badge) {
		t.Errorf("badge of a failed scan: %s", badge)
	}
	sitePage := readBody(t, a.do("GET", "/sites/inside.test", "", nil))
	if !strings.Contains(sitePage, "scan failed, no grade") || !strings.Contains(sitePage, "0 graded, 1 failed") {
		t.Error("the chart does not show the failed scan as an error")
	}
}
