package scan_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
)

// Real pages of the debug handlers, reduced to the markup their templates
// write (spatie/ignition and facade/ignition resources/views/errorPage.php,
// filp/whoops src/Whoops/Resources/views/layout.html.php).
const (
	ignitionPage = `<!doctype html>
<html class="theme-light">
<head><title>Undefined variable $user</title></head>
<body class="scrollbar-lg">
<script>
    window.data = {"report":{"exception_class":"ErrorException"}};
</script>
<div id="app"></div>
<script>/* ignition.js */ window.ignite=function(d){};</script>
<script>
    window.ignite(window.data);
</script>
</body>
</html>`
	facadeIgnitionPage = `<!doctype html><html><body><script>window.data = {};</script><div id="app"></div>
<script>
    window.Ignition = window.ignite(window.data);
</script></body></html>`
	whoops2Page = `<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>Whoops! There was an error.</title></head>
  <body>
    <div class="Whoops container">
      <div class="stack-container"><div class="panel left-panel cf "><header>
<div class="exception"><div class="exc-title"><span class="exc-title-primary">RuntimeException</span></div></div>
      </header></div></div>
    </div>
  </body>
</html>`
	whoops1Page = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Whoops! There was an error.</title></head>
<body><div class="container"><div class="stack-container"><div class="exception"><div class="exc-title">ErrorException</div></div></div></div></body></html>`
	// A blog post about these packages: names, the phrase, and the boot
	// script as an (escaped) code sample.
	laravelBlogPost = `<!doctype html><html><head><title>Debugging Laravel: Ignition and Whoops</title></head><body><article>
<h1>Debugging Laravel with Ignition</h1>
<p>Laravel ships spatie/laravel-ignition; apps on Laravel 6 to 8 used facade/ignition (Facade\Ignition\IgnitionServiceProvider),
and Laravel 5 used filp/whoops, whose page says "Whoops! There was an error." when APP_DEBUG=true.</p>
<p>The page boots with <code>window.ignite(window.data)</code>:</p>
<pre><code>&lt;script&gt;
    window.ignite(window.data);
&lt;/script&gt;</code></pre>
<p class="error">Whoops! There was an error. Please try again.</p>
</article></body></html>`
	// A site whose own script happens to use a window.ignite object (the
	// former Mozilla Ignite site did).
	igniteSitePage = `<!doctype html><html><head><script type="text/javascript">
    document.documentElement.className = document.documentElement.className.replace(/\bno-js\b/, '');
    var ignite = window.ignite || {};
</script></head><body><h1>Ignite</h1></body></html>`
)

// downgradingHTTPS is an HTTPS home page that redirects to
// http://app.test/plain, with an HSTS header on that redirect when hsts is
// set.
func downgradingHTTPS(hsts bool) http.Handler {
	return app{hdr: map[string]string{"Strict-Transport-Security": ""}, routes: map[string]http.HandlerFunc{"/": func(w http.ResponseWriter, r *http.Request) {
		if hsts {
			w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		http.Redirect(w, r, "http://app.test/plain", http.StatusFound)
	}}}
}

// downgradedHTTP is the plain-HTTP listener of such a site: / redirects to
// HTTPS, /plain is a page, with an HSTS header when hsts is set.
func downgradedHTTP(hsts bool) scantest.Config {
	return scantest.Config{HTTPHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/plain" {
			http.Redirect(w, r, "https://app.test/", http.StatusMovedPermanently)
			return
		}
		if hsts {
			w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><p>plain</p>")
	})}
}

// downgradeToClosedPort is an HTTPS home page redirecting to http:// where
// nothing listens (TestDowngradeToClosedHTTPPort).
var downgradeToClosedPort = app{routes: map[string]http.HandlerFunc{"/": func(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "http://app.test/plain", http.StatusFound)
}}}

// TestReviewedVerdicts pins the verdicts a review left open, each on a real
// loopback site: the trailing-dot host, debug-page signatures and prose,
// framework session cookie names, an empty Domain attribute, HSTS on a
// downgraded chain, and the checks that carry an Observatory result when
// the Observatory cannot grade the site.
func TestReviewedVerdicts(t *testing.T) {
	const wpHash = "0123456789abcdef0123456789abcdef"
	cookies := func(lines ...string) app { return app{cookies: lines} }
	tests := []struct {
		name       string
		h          http.Handler
		cfg        scantest.Config
		scoring    string
		id         string
		want       scan.Status
		wantResult string // "" accepts any result code
		evidence   string // a substring of the message or evidence
		wantErr    string // a substring of the result's error; "" wants none
	}{
		// 1. https://host./ is the host itself, written as a fully
		// qualified name: DNS answers the same, browsers record HSTS for
		// the name without the dot.
		{name: "first redirect to the trailing-dot name", h: app{redirectTo: "https://app.test./"}, id: "HGS-RED-002", want: scan.StatusPass, wantResult: "redirect-first-same-host", evidence: "trailing dot"},
		// hstspreload compares the names exactly; HGS-HSTS-006 judges as
		// hstspreload.org would.
		{name: "trailing-dot first redirect, as hstspreload sees it", h: app{redirectTo: "https://app.test./"}, id: "HGS-HSTS-006", want: scan.StatusInfo, evidence: "redirects.http.first_redirect.insecure"},
		{name: "trailing-dot first redirect, as the Observatory sees it", h: app{redirectTo: "https://app.test./"}, id: "HGS-RED-001", want: scan.StatusPass, wantResult: "redirection-off-host-from-http"},
		{name: "first redirect to www of the trailing-dot name", h: app{redirectTo: "https://www.app.test./"}, id: "HGS-RED-002", want: scan.StatusWarn, wantResult: "redirect-first-www"},
		{name: "first redirect to a name that only starts like the host", h: app{redirectTo: "https://app.test.evil.test/"}, id: "HGS-RED-002", want: scan.StatusWarn, wantResult: "redirect-first-off-host"},

		// 2. Debug pages are recognised by their markup, not by prose
		// naming the packages.
		{name: "blog post about Laravel, Ignition and Whoops", h: app{body: laravelBlogPost}, id: "HGS-LEAK-001", want: scan.StatusPass},
		{name: "site script using a window.ignite object", h: app{body: igniteSitePage}, id: "HGS-LEAK-001", want: scan.StatusPass},
		{name: "ignition debug page", h: app{}.withNotFound(ignitionPage), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Laravel (Ignition)"},
		{name: "facade ignition debug page", h: app{}.withNotFound(facadeIgnitionPage), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Laravel (Ignition)"},
		{name: "whoops 2 debug page", h: app{}.withNotFound(whoops2Page), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Whoops"},
		{name: "whoops 1 debug page", h: app{}.withNotFound(whoops1Page), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Whoops"},

		// 3. Framework login cookies are session cookies.
		{name: "wordpress logged-in cookie", h: cookies("wordpress_logged_in_" + wpHash + "=admin%7C1; Path=/; Secure; SameSite=Lax"), id: "HGS-COOK-002", want: scan.StatusFail, evidence: "wordpress_logged_in_"},
		{name: "wordpress secure auth cookie", h: cookies("wordpress_sec_" + wpHash + "=admin%7C1; Path=/wp-admin; Secure; SameSite=Lax"), id: "HGS-COOK-002", want: scan.StatusFail, evidence: "wordpress_sec_"},
		{name: "wordpress auth cookie", h: cookies("wordpress_" + wpHash + "=admin%7C1; Path=/wp-admin; Secure; SameSite=Lax"), id: "HGS-COOK-002", want: scan.StatusFail, evidence: "wordpress_" + wpHash},
		{name: "wordpress test cookie is not a session", h: cookies("wordpress_test_cookie=WP%20Cookie%20check; Path=/; Secure"), id: "HGS-COOK-002", want: scan.StatusSkip},
		{name: "asp.net forms auth cookie", h: cookies(".ASPXAUTH=0A1B; path=/; secure; SameSite=Lax"), id: "HGS-COOK-002", want: scan.StatusFail, evidence: ".ASPXAUTH"},
		{name: "asp.net core identity cookie", h: cookies(".AspNetCore.Identity.Application=CfDJ8; path=/; secure; samesite=lax"), id: "HGS-COOK-002", want: scan.StatusFail, evidence: ".AspNetCore.Identity.Application"},
		{name: "asp.net core cookie auth chunk", h: cookies(".AspNetCore.CookiesC1=CfDJ8; path=/; secure; samesite=lax"), id: "HGS-COOK-002", want: scan.StatusFail, evidence: ".AspNetCore.CookiesC1"},
		{name: "asp.net core session cookie", h: cookies(".AspNetCore.Session=CfDJ8; path=/; samesite=lax; httponly"), id: "HGS-COOK-001", want: scan.StatusFail, evidence: ".AspNetCore.Session"},
		{name: "laravel remember-me cookie", h: cookies("remember_web_59ba36addc2b2f9401580f014c7f58ea4e30989d=eyJpdiI6; path=/; secure; samesite=lax"), id: "HGS-COOK-002", want: scan.StatusFail, evidence: "remember_web_"},
		{name: "asp.net core antiforgery cookie", h: cookies(".AspNetCore.Antiforgery.VyLW6ORzMgk=CfDJ8; path=/; secure; httponly"), id: "HGS-COOK-003", want: scan.StatusWarn, evidence: ".AspNetCore.Antiforgery."},

		// 4. An empty Domain attribute is ignored: the cookie stays
		// host-only and keeps the __Host- rules.
		{name: "host prefix with empty domain", h: cookies("__Host-id=1; Secure; Path=/; Domain="), id: "HGS-COOK-004", want: scan.StatusPass, wantResult: "cookies-prefix-valid"},
		{name: "host prefix with empty domain after a real one", h: cookies("__Host-id=1; Secure; Path=/; Domain=app.test; Domain="), id: "HGS-COOK-004", want: scan.StatusFail, evidence: "Domain"},

		// 5. HSTS counts only on HTTPS responses.
		{name: "hsts only on the plain-HTTP page of a downgraded chain", h: downgradingHTTPS(false), cfg: downgradedHTTP(true), id: "HGS-HSTS-001", want: scan.StatusFail, wantResult: "hsts-not-implemented", evidence: "ignored, sent over plain HTTP"},
		{name: "hsts on the HTTPS redirect of a downgraded chain", h: downgradingHTTPS(true), cfg: downgradedHTTP(false), id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented-before-downgrade", evidence: "https://app.test/ → http://app.test/plain"},
		{name: "hsts on an earlier HTTPS hop of a downgraded chain", h: app{hdr: map[string]string{"Strict-Transport-Security": ""}, routes: map[string]http.HandlerFunc{
			"/": func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Strict-Transport-Security", "max-age=63072000")
				http.Redirect(w, r, "/next", http.StatusFound)
			},
			"/next": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://app.test/plain", http.StatusFound)
			},
		}}, cfg: downgradedHTTP(false), id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented-before-downgrade", evidence: "set on https://app.test/,"},
		{name: "hsts on the final page after a downgrade in the middle", h: app{routes: map[string]http.HandlerFunc{
			"/": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://app.test/up", http.StatusFound)
			},
			"/page": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, goodPage) },
		}}, cfg: scantest.Config{HTTPHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://app.test/page", http.StatusMovedPermanently)
		})}, id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented-max-age-at-least-six-months"},
		{name: "hsts on the HTTPS redirect of a downgraded chain, max-age read there", h: downgradingHTTPS(true), cfg: downgradedHTTP(false), id: "HGS-HSTS-003", want: scan.StatusPass, evidence: "max-age=63072000"},

		// 6. The Observatory refuses a site whose sessions both failed
		// ("The site seems to be down."), as Observatory 1.4.8 does; the
		// checks that carry its results keep httpsguard's own codes.
		{name: "downgrade to a closed port: redirection", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, id: "HGS-RED-001", want: scan.StatusPass, wantResult: "redirection-not-needed-no-http"},
		{name: "downgrade to a closed port: hsts", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented-before-downgrade"},
		{name: "downgrade to a closed port: cookies", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, id: "HGS-COOK-001", want: scan.StatusPass, wantResult: "cookies-secure"},
		{name: "downgrade to a closed port, observatory scoring: redirection", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, scoring: scan.ScoringObservatory, id: "HGS-RED-001", want: scan.StatusPass, wantResult: "redirection-not-needed-no-http", wantErr: "the site seems to be down"},
		{name: "downgrade to a closed port, observatory scoring: hsts", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, scoring: scan.ScoringObservatory, id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented-before-downgrade", wantErr: "the site seems to be down"},
		{name: "downgrade to a closed port, observatory scoring: cookies", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, scoring: scan.ScoringObservatory, id: "HGS-COOK-001", want: scan.StatusPass, wantResult: "cookies-secure", wantErr: "the site seems to be down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			site := scantest.NewSite(t, tt.h, tt.cfg)
			opts := site.Options
			opts.Scoring = tt.scoring
			// Redirects to other names (app.test., app.test.evil.test)
			// must stay on loopback too: every name resolves to the
			// site's listeners.
			opts.Resolve["*:443"] = opts.Resolve[site.Host+":443"]
			opts.Resolve["*:80"] = opts.Resolve[site.Host+":80"]
			sc, err := scan.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			res := sc.Scan(t.Context(), site.Host)
			switch {
			case tt.wantErr == "" && res.Error != "":
				t.Fatalf("scan error: %s", res.Error)
			case tt.wantErr != "" && !strings.Contains(res.Error, tt.wantErr):
				t.Fatalf("scan error %q, want one containing %q", res.Error, tt.wantErr)
			case tt.wantErr != "" && (res.Score != 0 || res.Grade != "F"):
				t.Errorf("ungraded scan scored %d %s", res.Score, res.Grade)
			}
			c := check(t, res, tt.id)
			if c.Status != tt.want {
				t.Fatalf("%s: status %s, want %s: %s %s %v", tt.id, c.Status, tt.want, c.Message, c.Error, c.Evidence)
			}
			if tt.wantResult != "" && c.Result != tt.wantResult {
				t.Errorf("%s: result %q, want %q", tt.id, c.Result, tt.wantResult)
			}
			if all := c.Message + " " + strings.Join(c.Evidence, " "); tt.evidence != "" && !strings.Contains(all, tt.evidence) {
				t.Errorf("%s: %q not in %q", tt.id, tt.evidence, all)
			}
			if (c.Status == scan.StatusFail || c.Status == scan.StatusWarn) && c.Fix == "" {
				t.Errorf("%s: no fix given", tt.id)
			}
			if tt.wantErr == "" {
				assertTraceable(t, res)
			}
		})
	}
}
