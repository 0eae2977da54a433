package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// receiver is a webhook receiver on loopback that checks every delivery's
// signature as the docs tell receivers to, computed here from scratch.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret atomic.Value // string
	failN  atomic.Int32 // answer 503 to this many more deliveries
	mu     sync.Mutex
	got    []web.EventPayload
	ids    map[string]int // deliveries seen per event ID
	bad    []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, ids: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	secret, _ := rc.secret.Load().(string)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := verify(secret, r.Header.Get("Httpsguard-Signature"), body); err != "" {
		rc.bad = append(rc.bad, err)
		http.Error(w, err, http.StatusBadRequest)
		return
	}
	if rc.failN.Add(-1) >= 0 {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var p web.EventPayload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != r.Header.Get("Httpsguard-Event-Id") || r.Header.Get("Content-Type") != "application/json" {
		rc.bad = append(rc.bad, "bad body or headers: "+string(body))
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	rc.ids[p.ID]++
	if rc.ids[p.ID] == 1 {
		rc.got = append(rc.got, p)
	}
	w.WriteHeader(http.StatusNoContent)
}

// verify checks "t=<unix>,v1=<hex>" = HMAC-SHA256(secret, t + "." + body),
// with t within five minutes.
func verify(secret, header string, body []byte) string {
	var ts, sig string
	for _, kv := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(m.Sum(nil))
	if secret == "" || !hmac.Equal([]byte(sig), []byte(want)) {
		return "signature does not verify: " + header
	}
	if err := web.VerifySignature(secret, header, body, time.Now()); err != nil {
		return err.Error()
	}
	return ""
}

func (rc *receiver) kinds() map[string]web.EventPayload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]web.EventPayload{}
	for _, p := range rc.got {
		out[p.Type] = p
	}
	return out
}

// TestWatchRegressions is the watch's whole story on loopback: a site whose
// certificate is swapped for one expiring in 5 days, then loses HSTS. The
// two events are recorded, delivered (after a failed first attempt) to a
// webhook receiver that verifies their signatures, and shown in the site's
// Atom feed, chart and badge.
func TestWatchRegressions(t *testing.T) {
	var noHSTS atomic.Bool
	good := goodSite("max-age=63072000; includeSubDomains")
	bad := goodSite("")
	var cert atomic.Pointer[tls.Certificate]
	site := scantest.NewSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noHSTS.Load() {
			bad.ServeHTTP(w, r)
			return
		}
		good.ServeHTTP(w, r)
	}), scantest.Config{Host: "watched.test", ConfigureTLS: func(c *tls.Config) {
		first := c.Certificates[0]
		cert.Store(&first)
		c.Certificates = nil
		c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert.Load(), nil }
	}})
	short, err := site.CA.IssueLeaf(localca.LeafOptions{Names: []string{"watched.test"}, Lifetime: 5 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	firstCert := cert.Load()

	storetest.ForEach(t, func(t *testing.T, _ string, db *store.DB) {
		noHSTS.Store(false)
		cert.Store(firstCert)
		ctx := context.Background()
		cfg := siteConfig(db, site)
		cfg.AllowPrivateWebhooks = true
		cfg.MinWatchInterval = 200 * time.Millisecond
		cfg.ScheduleInterval = 100 * time.Millisecond
		cfg.RetryBase = 50 * time.Millisecond
		cfg.PublicURL = "https://checker.example.org/" // the links a receiver and a feed reader follow
		a := startApp(t, cfg)
		rc := newReceiver(t)
		rc.failN.Store(1) // the first delivery fails and is retried

		_, token, err := db.CreateToken(ctx, "test", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res := a.doAuth("POST", "/api/v1/watches", token, `{"url": "watched.test", "interval": "200ms", "webhooks": [`+jsonString(rc.srv.URL+"/hook")+`]}`)
		body := readBody(t, res)
		var wv web.WatchView
		if res.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &wv) != nil || !strings.HasPrefix(wv.Secret, "whsec_") {
			t.Fatalf("POST /api/v1/watches = %d %s", res.StatusCode, body)
		}
		rc.secret.Store(wv.Secret)
		// The secret is shown once.
		if body := readBody(t, a.doAuth("GET", "/api/v1/watches/"+wv.ID, token, "")); strings.Contains(body, wv.Secret) {
			t.Error("GET shows the webhook secret again")
		}

		waitFor(t, "a first done scan of the watch", func() bool {
			scans, _ := db.WatchScans(ctx, wv.ID, 5)
			return len(scans) > 0 && scans[0].State == store.Done
		})
		cert.Store(short)
		waitFor(t, "the cert_expiring event delivered", func() bool { _, ok := rc.kinds()["cert_expiring"]; return ok })
		noHSTS.Store(true)
		waitFor(t, "the hsts_removed event delivered", func() bool { _, ok := rc.kinds()["hsts_removed"]; return ok })
		a.stop()

		got := rc.kinds()
		if e := got["cert_expiring"]; !e.Regression || e.Subject != "7" || !strings.Contains(e.Summary, "expires in 4 days") && !strings.Contains(e.Summary, "expires in 5 days") {
			t.Errorf("cert_expiring event = %+v", e)
		}
		if e := got["hsts_removed"]; !e.Regression || !strings.Contains(e.Summary, "max-age=63072000") || e.PreviousScanID == "" {
			t.Errorf("hsts_removed event = %+v", e)
		}
		if e := got["hsts_removed"]; e.Links.Page != "https://checker.example.org/scans/"+e.ScanID || e.Links.Self != "https://checker.example.org/api/v1/scans/"+e.ScanID {
			t.Errorf("the webhook's links are %+v, want them absolute on Config.PublicURL", e.Links)
		}
		for k := range got {
			switch k {
			case "cert_expiring", "hsts_removed", "grade_dropped", "check_failed":
			default:
				t.Errorf("unexpected event %s: %+v", k, got[k])
			}
		}
		rc.mu.Lock()
		if len(rc.bad) > 0 {
			t.Errorf("the receiver refused deliveries: %q", rc.bad)
		}
		rc.mu.Unlock()

		// Delivery history: the failed first attempt, then the success.
		var ds struct{ Deliveries []web.DeliveryView }
		json.Unmarshal([]byte(readBody(t, a.doAuth("GET", "/api/v1/watches/"+wv.ID+"/deliveries", token, ""))), &ds)
		var failed, ok int
		for _, d := range ds.Deliveries {
			if d.OK {
				ok++
			} else if d.Status == http.StatusServiceUnavailable {
				failed++
			}
		}
		if failed != 1 || ok < 2 {
			t.Errorf("delivery history: %d failed with 503, %d delivered: %+v", failed, ok, ds.Deliveries)
		}
		page := readBody(t, a.do("GET", "/watches/"+wv.ID, "", nil))
		for _, want := range []string{"Webhook deliveries", "failed (503)", "delivered (204)", "Regression: hsts removed", "Regression: cert expiring"} {
			if !strings.Contains(page, want) {
				t.Errorf("watch page lacks %q", want)
			}
		}

		// The Atom feed.
		res = a.do("GET", "/sites/watched.test/events.atom", "", nil)
		var feed struct {
			Links []struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Entries []struct {
				ID    string `xml:"id"`
				Title string `xml:"title"`
				Link  struct {
					Href string `xml:"href,attr"`
				} `xml:"link"`
				Category struct {
					Term string `xml:"term,attr"`
				} `xml:"category"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal([]byte(readBody(t, res)), &feed); err != nil || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/atom+xml") {
			t.Fatalf("feed: %v, %s", err, res.Header.Get("Content-Type"))
		}
		terms := map[string]bool{}
		for _, e := range feed.Entries {
			terms[e.Category.Term] = true
			if !strings.HasPrefix(e.Link.Href, "https://checker.example.org/scans/") {
				t.Errorf("feed entry link %q is not absolute on Config.PublicURL", e.Link.Href)
			}
		}
		if len(feed.Links) != 2 || feed.Links[0].Href != "https://checker.example.org/sites/watched.test/events.atom" {
			t.Errorf("feed links %+v, want the feed's own address first, absolute", feed.Links)
		}
		if !terms["cert_expiring"] || !terms["hsts_removed"] {
			t.Errorf("feed entries %+v lack the two events", feed.Entries)
		}

		// The chart, with its text alternative.
		page = readBody(t, a.do("GET", "/sites/watched.test", "", nil))
		for _, want := range []string{`<svg class="chart"`, `role="img"`, `aria-labelledby="chart-title chart-desc"`, `<desc id="chart-desc">`, "graded, 0 failed", `<table class="history">`, "Regression: hsts removed"} {
			if !strings.Contains(page, want) {
				t.Errorf("site page lacks %q", want)
			}
		}

		// The badge: the latest grade and date, cached, with an ETag.
		latest, _, _ := db.LatestFinished(ctx, "watched.test")
		res = a.do("GET", "/sites/watched.test/badge.svg", "", nil)
		svg := readBody(t, res)
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "image/svg+xml") || res.Header.Get("ETag") == "" ||
			!strings.Contains(res.Header.Get("Cache-Control"), "max-age=") ||
			!strings.Contains(svg, latest.Grade+" · "+latest.CreatedAt.UTC().Format(time.DateOnly)) {
			t.Errorf("badge: %v\n%s", res.Header, svg)
		}
		req, _ := http.NewRequest("GET", a.ts.URL+"/sites/watched.test/badge.svg", nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		if res2, err := http.DefaultClient.Do(req); err != nil || res2.StatusCode != http.StatusNotModified {
			t.Errorf("conditional badge request = %v, %v", res2.StatusCode, err)
		}
	})
}

func (a *app) doAuth(method, path, token, body string) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.ts.URL+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { res.Body.Close() })
	return res
}

// waitFor polls cond. The bound only keeps a broken test from hanging;
// nothing is timed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
