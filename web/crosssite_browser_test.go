package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"

	"sync/atomic"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/internal/webdriver"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestBrowserCrossSiteRefused opens a page on another origin (127.0.0.2)
// in headless Chromium that tries to start scans through the visitor's
// browser the ways that need no CORS preflight: fetch with mode "no-cors"
// and a Blob body, navigator.sendBeacon with a Blob and with a string, and
// a plain form post. Every request reaches the server, and none creates a
// scan. The site's own page, with JSON, still does.
func TestBrowserCrossSiteRefused(t *testing.T) {
	if err := webdriver.Available(); err != nil {
		testpeer.Missing(t, testpeer.Chromedriver, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	db, err := store.Open(ctx, storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv, err := web.New(ctx, web.Config{Store: db, Scanner: gatedScanner{nil, make(chan struct{})}, Logger: newTextLogger(&syncBuffer{})})
	if err != nil {
		t.Fatal(err)
	}
	var arrived, refused atomic.Int32
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			arrived.Add(1)
			rec := &statusRecorder{ResponseWriter: w}
			srv.Handler().ServeHTTP(rec, r)
			if rec.status >= 400 {
				refused.Add(1)
			}
			return
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	defer app.Close()

	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("a second loopback address for the other origin: %v", err)
	}
	evil := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>a page on another site</title>
<form id="f" method="post" action="` + app.URL + `/api/v1/scans" enctype="text/plain" target="sink"><input name='{"url":"victim4.example","x":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
const api = ` + "`" + app.URL + "/api/v1/scans`" + `;
fetch(api, {method: 'POST', mode: 'no-cors', body: new Blob(['{"url": "victim1.example"}'])});
navigator.sendBeacon(api, new Blob(['{"url": "victim2.example"}']));
navigator.sendBeacon(api, '{"url": "victim3.example"}');
document.getElementById('f').submit();
</script>`))
	})}}
	evil.Start()
	defer evil.Close()

	d, err := webdriver.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Navigate(ctx, evil.URL+"/"); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitFor(ctx, func() (bool, error) { return arrived.Load() >= 4, nil }); err != nil {
		t.Fatalf("only %d of the 4 cross-site requests reached the server: the test proves nothing (%v)", arrived.Load(), err)
	}
	if n, err := db.QueueLength(ctx); err != nil || n != 0 {
		t.Errorf("cross-site requests created %d scans (%v); want none", n, err)
	}
	if refused.Load() != arrived.Load() {
		t.Errorf("%d of %d cross-site requests were refused", refused.Load(), arrived.Load())
	}

	// The site's own page may use the API with JSON.
	if err := d.Navigate(ctx, app.URL+"/"); err != nil {
		t.Fatal(err)
	}
	var status float64
	if err := d.Execute(ctx, `const r = new XMLHttpRequest();
		r.open('POST', '/api/v1/scans', false);
		r.setRequestHeader('Content-Type', 'application/json');
		r.send('{"url": "own.example"}');
		return r.status;`, &status); err != nil || status != 202 {
		t.Errorf("same-origin JSON submission = %v, %v; want 202", status, err)
	}
	if n, _ := db.QueueLength(ctx); n != 1 {
		t.Errorf("queue length after the same-origin submission = %d, want 1", n)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
