package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web/internal/webdriver"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// screenshotsEnv names a directory where TestBrowser saves web-start.png,
// web-result.png and web-phone.png (the screenshots of README.md and
// docs/web.md); the test runs in web/, so from the repository root:
// HTTPSGUARD_WEB_SCREENSHOTS=$PWD/docs go test -run TestBrowser ./web/
const screenshotsEnv = "HTTPSGUARD_WEB_SCREENSHOTS"

// TestBrowser drives headless Chromium: it submits a scan of a loopback
// site from the start page, watches the progress the script shows, and
// reads the result page, for a site that regressed since its previous scan.
func TestBrowser(t *testing.T) {
	if err := webdriver.Available(); err != nil {
		testpeer.Missing(t, testpeer.Chromedriver, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// A shop that forgets includeSubDomains and sets a cookie without
	// HttpOnly on its second deployment.
	var second atomic.Bool
	good := goodSite("max-age=63072000; includeSubDomains")
	worse := goodSite("max-age=63072000")
	site := scantest.NewSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if second.Load() {
			http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "abc", Path: "/", Secure: true})
			worse.ServeHTTP(w, r)
			return
		}
		good.ServeHTTP(w, r)
	}), scantest.Config{Host: "shop.test"})

	db, err := store.Open(ctx, storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := siteConfig(db, site)
	real, err := scan.New(cfg.ScanOptions)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var gate atomic.Bool // only the browser's scan waits for release
	cfg.Scanner = scannerFunc(func(ctx context.Context, target string) *scan.Result {
		if gate.Load() {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return real.Scan(ctx, target)
	})
	a := startApp(t, cfg)
	a.wait(a.submitAPI("shop.test").ID) // the earlier scan, for history and changes
	second.Store(true)
	gate.Store(true)

	d, err := webdriver.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	shots := os.Getenv(screenshotsEnv)
	save := func(name string, png []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if shots != "" {
			if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	if err := d.Navigate(ctx, a.ts.URL+"/"); err != nil {
		t.Fatal(err)
	}
	// The field has a real label.
	var label string
	if err := d.Execute(ctx, `return document.querySelector('label[for=url]').textContent`, &label); err != nil || label != "Site address" {
		t.Errorf("label of the field = %q, %v", label, err)
	}
	audit(ctx, t, d, "start page")
	png, err := d.FullPageScreenshot(ctx, 1280, 0)
	save("web-start.png", png, err)

	input, err := d.Find(ctx, "#url")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Type(ctx, input, "shop.test"); err != nil {
		t.Fatal(err)
	}
	button, err := d.Find(ctx, "#scan-form button[type=submit]")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Click(ctx, button); err != nil {
		t.Fatal(err)
	}

	// The pending page, its status kept up to date by the script.
	err = d.WaitFor(ctx, func() (bool, error) {
		el, err := d.Find(ctx, "#status")
		if err != nil {
			return false, err
		}
		txt, err := d.Text(ctx, el)
		return strings.Contains(txt, "Scanning now"), err
	})
	if err != nil {
		t.Fatalf("pending page: %v", err)
	}
	var state string
	if err := d.Execute(ctx, `return document.getElementById('pending').getAttribute('data-state')`, &state); err != nil || state != "running" {
		t.Errorf("pending data-state = %q, %v (set by the polling script)", state, err)
	}
	close(release)

	// The script reloads the page once the scan is done.
	err = d.WaitFor(ctx, func() (bool, error) {
		el, err := d.Find(ctx, "#summary-heading")
		if err != nil {
			return false, nil
		}
		txt, err := d.Text(ctx, el)
		return txt == "shop.test", err
	})
	if err != nil {
		t.Fatalf("result page: %v", err)
	}
	u, _ := d.URL(ctx)
	if !strings.Contains(u, "/scans/") {
		t.Errorf("result URL = %q", u)
	}
	var texts []string
	if err := d.Execute(ctx, `return [
		document.querySelector('.grade').getAttribute('aria-label'),
		document.getElementById('changes-heading').textContent,
		document.querySelectorAll('.check.is-regressed').length + ' regressed',
		document.getElementById('fix-heading').textContent,
		document.getElementById('history-heading').textContent]`, &texts); err != nil {
		t.Fatal(err)
	}
	t.Logf("result page: %q", texts)
	if len(texts) != 5 || !strings.HasPrefix(texts[0], "Grade ") || texts[1] != "Since the previous scan" ||
		texts[2] == "0 regressed" || texts[3] != "What to fix first" || texts[4] != "History of shop.test" {
		t.Errorf("result page reads %q", texts)
	}
	// The result is readable with the keyboard: the first Tab reaches the
	// skip link.
	var focused string
	if err := d.Execute(ctx, `document.body.focus(); return document.querySelector('.skip').textContent`, &focused); err != nil || focused == "" {
		t.Errorf("skip link: %q %v", focused, err)
	}
	audit(ctx, t, d, "result page")
	png, err = d.FullPageScreenshot(ctx, 1280, 1900)
	save("web-result.png", png, err)
	if shots != "" {
		png, err = d.FullPageScreenshot(ctx, 390, 1600)
		save("web-phone.png", png, err)
	}
}

// audit runs a small accessibility audit of the current page: a language,
// every image with alt text, every visible control labelled, headings that
// never skip a level, every table with header cells.
func audit(ctx context.Context, t *testing.T, d *webdriver.Driver, page string) {
	t.Helper()
	var problems []string
	if err := d.Execute(ctx, `
		const p = [];
		if (!document.documentElement.lang) p.push('no lang');
		document.querySelectorAll('img:not([alt])').forEach(e => p.push('img without alt: ' + e.src));
		document.querySelectorAll('input:not([type=hidden]), button, select, textarea').forEach(e => {
			const named = e.labels && e.labels.length || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent.trim());
			if (!named) p.push('unlabelled ' + e.tagName);
		});
		let last = 0;
		document.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach(h => {
			const lvl = +h.tagName[1];
			if (lvl > last + 1) p.push('heading level skips to ' + h.tagName + ': ' + h.textContent.trim());
			last = lvl;
		});
		document.querySelectorAll('table').forEach(t => { if (!t.querySelector('th')) p.push('table without th'); });
		return p;`, &problems); err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("accessibility (%s): %s", page, p)
	}
}

type scannerFunc func(ctx context.Context, target string) *scan.Result

func (f scannerFunc) Scan(ctx context.Context, target string) *scan.Result { return f(ctx, target) }

// TestBrowserWithoutJavaScript submits the form in Chromium with scripts
// turned off: the POST redirects to the pending page, whose <noscript>
// meta refresh reloads it until the result is there.
func TestBrowserWithoutJavaScript(t *testing.T) {
	if err := webdriver.Available(); err != nil {
		testpeer.Missing(t, testpeer.Chromedriver, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	site := scantest.NewSite(t, goodSite("max-age=63072000"), scantest.Config{Host: "nojs.test"})
	db, err := store.Open(ctx, storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := siteConfig(db, site)
	real, err := scan.New(cfg.ScanOptions)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	cfg.Scanner = gatedScanner{real, release}
	a := startApp(t, cfg)

	d, err := webdriver.Start(ctx, t.TempDir(), "--blink-settings=scriptEnabled=false")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Navigate(ctx, a.ts.URL+"/"); err != nil {
		t.Fatal(err)
	}
	input, err := d.Find(ctx, "#url")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Type(ctx, input, "nojs.test"); err != nil {
		t.Fatal(err)
	}
	button, err := d.Find(ctx, "#scan-form button[type=submit]")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Click(ctx, button); err != nil {
		t.Fatal(err)
	}
	// The click starts a navigation that may not have finished yet.
	err = d.WaitFor(ctx, func() (bool, error) {
		el, err := d.Find(ctx, "#status")
		if err != nil {
			return false, err
		}
		txt, err := d.Text(ctx, el)
		return strings.Contains(txt, "Scanning now") || strings.Contains(txt, "queue"), err
	})
	if err != nil {
		t.Fatalf("no pending page after the POST: %v", err)
	}
	// Without scripts the seconds counter stays empty: nothing polls.
	if el, err := d.Find(ctx, "#elapsed"); err == nil {
		if txt, _ := d.Text(ctx, el); txt != "" {
			t.Errorf("a script ran with scripts off: %q", txt)
		}
	}
	close(release)
	err = d.WaitFor(ctx, func() (bool, error) {
		el, err := d.Find(ctx, "#summary-heading")
		if err != nil {
			return false, nil
		}
		txt, err := d.Text(ctx, el)
		return txt == "nojs.test", err
	})
	if err != nil {
		t.Fatalf("the pending page never turned into the result: %v", err)
	}
}
