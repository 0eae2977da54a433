package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web/internal/webdriver"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestBrowserWatch creates a watch from the /watches form in Chromium with
// scripts off, follows it to its page, and reads the site's page with its
// chart: each passes the accessibility audit, and the chart is described
// in words.
func TestBrowserWatch(t *testing.T) {
	if err := webdriver.Available(); err != nil {
		testpeer.Missing(t, testpeer.Chromedriver, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "form.test"})
	db, err := store.Open(ctx, storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := siteConfig(db, site)
	cfg.ScheduleInterval = 100 * time.Millisecond
	a := startApp(t, cfg)
	_, token, err := db.CreateToken(ctx, "browser", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d, err := webdriver.Start(ctx, t.TempDir(), "--blink-settings=scriptEnabled=false")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Navigate(ctx, a.ts.URL+"/watches"); err != nil {
		t.Fatal(err)
	}
	audit(ctx, t, d, "watches page")
	for sel, text := range map[string]string{"#watch-url": "form.test", "#watch-token": token} {
		el, err := d.Find(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Type(ctx, el, text); err != nil {
			t.Fatal(err)
		}
	}
	button, err := d.Find(ctx, ".watch-form button[type=submit]")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Click(ctx, button); err != nil {
		t.Fatal(err)
	}
	var href string
	err = d.WaitFor(ctx, func() (bool, error) {
		el, err := d.Find(ctx, "#created-heading")
		if err != nil {
			return false, nil
		}
		txt, err := d.Text(ctx, el)
		if !strings.Contains(txt, "form.test") {
			return false, err
		}
		return true, d.Execute(ctx, `return document.querySelector('#created-heading').parentElement.querySelector('a').getAttribute('href')`, &href)
	})
	if err != nil || !strings.HasPrefix(href, "/watches/") {
		t.Fatalf("no watch created from the form: %q %v", href, err)
	}
	watchID := strings.TrimPrefix(href, "/watches/")
	waitFor(t, "the watch's first scan", func() bool {
		scans, _ := db.WatchScans(ctx, watchID, 1)
		return len(scans) == 1 && scans[0].State.Final()
	})
	if err := d.Navigate(ctx, a.ts.URL+href); err != nil {
		t.Fatal(err)
	}
	audit(ctx, t, d, "watch page")
	if err := d.Navigate(ctx, a.ts.URL+"/sites/form.test"); err != nil {
		t.Fatal(err)
	}
	audit(ctx, t, d, "site page")
	var desc string
	if err := d.Execute(ctx, `return document.getElementById('chart-desc').textContent`, &desc); err != nil || !strings.Contains(desc, "1 graded") {
		t.Errorf("chart description = %q, %v", desc, err)
	}
	if shots := os.Getenv(screenshotsEnv); shots != "" {
		png, err := d.FullPageScreenshot(ctx, 1280, 1400)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, "web-site.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
