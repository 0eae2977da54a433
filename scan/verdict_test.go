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

	// Laravel's own exception page (APP_DEBUG=true), trimmed: the first
	// design (Laravel 11 and early 12: one <style> per page or per frame
	// marking each frame's line, the "PHP … — Laravel …" header), and the
	// Laravel 12 redesign (the LARAVEL and PHP version badges). Laravel
	// answers a missing path with its plain 404 view even in debug mode,
	// so the page shows up on the not-found probe when every request
	// fails: here a missing APP_KEY, which the session middleware trips.
	laravel11Page = `<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8" />
    <title>Laravel</title>
    <link href="https://fonts.bunny.net/css?family=figtree:300,400,500,600" rel="stylesheet" />
    <style >.hljs-ln-line{white-space-collapse:preserve}.trace{-webkit-mask-image:linear-gradient(180deg,#000 calc(100% - 4rem),transparent)}</style><style data-theme="light">.hljs{color:#24292e;background:#fff}</style><style data-theme="dark">.hljs{color:#abb2bf;background:#282c34}</style>

    <style>
                    #frame-0 .hljs-ln-line[data-line-number='83'] {
                background-color: rgba(242, 95, 95, 0.4);
            }
                    #frame-1 .hljs-ln-line[data-line-number='43'] {
                background-color: rgba(242, 95, 95, 0.4);
            }
            </style>
</head>
<body class="bg-gray-200/80 font-sans antialiased dark:bg-gray-950/95">
    <div class="renderer container mx-auto lg:px-8">
        <header class="mt-3 px-5 sm:mt-10">
            <span class="text-dark ml-3 text-2xl font-bold dark:text-white sm:text-3xl">
                Internal Server Error
            </span>
        </header>
        <main class="px-6 pb-12 pt-6">
            <section class="@container flex flex-col p-6 sm:p-12 bg-white dark:bg-gray-900/80">
                <span class="hidden md:inline">Illuminate\Encryption\MissingAppKeyException</span>
                <div class="mt-4 text-lg font-semibold text-gray-900 break-words dark:text-white lg:text-2xl">
                    No application encryption key has been specified.
                </div>
                <span class="text-sm text-gray-500 dark:text-gray-400">PHP 8.3.14 — Laravel 11.45.1</span>
            </section>
        </main>
    </div>
</body>
</html>`
	laravel12Page = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8" /><title>Laravel</title><style>.scheme-light-dark{color-scheme:light dark}</style></head>
<body class="font-sans antialiased overflow-x-hidden bg-neutral-50 dark:bg-neutral-900 dark:text-white scheme-light-dark">
    <div class="min-h-dvh">
        <section class="w-full max-w-7xl mx-auto p-4 sm:p-14 border-x border-dashed">
            <div class="flex items-center justify-between">
                <div class="font-medium text-sm text-neutral-900 dark:text-white">Internal Server Error</div>
                <button @click="copyToClipboard()"><span x-text="copied ? 'Copied to clipboard' : 'Copy as Markdown'">Copy as Markdown</span></button>
            </div>
        </section>
        <section class="w-full max-w-7xl mx-auto p-4 sm:p-14 border-x border-dashed flex flex-col gap-8 py-0 sm:py-0">
            <div class="flex flex-col pt-8 sm:pt-16 overflow-x-auto">
                <h1 class="text-3xl font-semibold text-neutral-950 dark:text-white">Illuminate\Encryption\MissingAppKeyException</h1>
                <p class="text-xl font-light text-neutral-800 dark:text-neutral-300">No application encryption key has been specified.</p>
                <div class="flex items-start gap-2 mb-8 sm:mb-16">
                    <div class="bg-white dark:bg-white/[3%] border border-neutral-200 rounded-md shadow-xs flex items-center gap-0.5">
                        <div class="flex items-center gap-1.5 h-6 px-[6px] font-mono text-[13px]">
                            <span class="text-neutral-400 dark:text-neutral-500">LARAVEL</span>
                            <span class="text-neutral-500 dark:text-neutral-300">12.38.1</span>
                        </div>
                        <div class="flex items-center gap-1.5 h-6 px-[6px] font-mono text-[13px]">
                            <span class="text-neutral-400 dark:text-neutral-500">PHP</span>
                            <span class="text-neutral-500 dark:text-neutral-300">8.4.14</span>
                        </div>
                    </div>
                </div>
            </div>
        </section>
    </div>
</body>
</html>`
	// Laravel's production 404 (the errors::404 view), which it also
	// shows for a missing path when APP_DEBUG is on.
	laravel404Page = `<!DOCTYPE html>
<html lang="en">
    <head><meta charset="utf-8"><title>Not Found</title>
        <style>.bg-gray-100{background-color:#f7fafc}.uppercase{text-transform:uppercase}</style>
    </head>
    <body class="antialiased">
        <div class="relative flex items-top justify-center min-h-screen bg-gray-100 dark:bg-gray-900 sm:items-center sm:pt-0">
            <div class="max-w-xl mx-auto sm:px-6 lg:px-8">
                <div class="flex items-center pt-8 sm:justify-start sm:pt-0">
                    <div class="px-4 text-lg text-gray-500 border-r border-gray-400 tracking-wider">404</div>
                    <div class="ml-4 text-lg text-gray-500 uppercase tracking-wider">Not Found</div>
                </div>
            </div>
        </div>
    </body>
</html>`
	// A site built with Laravel that says so, versions and all.
	laravelSitePage = `<!doctype html><html><head><title>Acme Shop</title></head><body>
<h1>Acme Shop</h1><p>Our shop runs on Laravel. Exceptions? None today.</p>
<div class="stack"><span class="badge">LARAVEL</span> <span class="badge">12.x</span></div>
<footer><span class="text-sm text-gray-500">PHP 8.3.14 — Laravel 11.45.1</span></footer>
</body></html>`
	// An article about the exception page: the renderer's markup shown as
	// escaped code, and the blog's own line-highlighting style for its
	// code samples.
	laravelExceptionsArticle = `<!doctype html><html><head><title>Laravel exceptions explained</title>
<style>
    .hljs-ln-line { white-space: pre; }
    pre .hljs-ln-line[data-line-number='3'] { background: #fffbdd; }
</style></head><body><article>
<h1>Understanding Laravel exceptions</h1>
<p>With APP_DEBUG=true, Laravel 11 renders an exception page through Illuminate\Foundation\Exceptions\Renderer\Renderer
instead of Ignition. It highlights the failing line of each frame:</p>
<pre><code>&lt;style&gt;
    #frame-0 .hljs-ln-line[data-line-number='83'] { background-color: rgba(242, 95, 95, 0.4); }
&lt;/style&gt;</code></pre>
<p>Laravel 12 shows the versions as badges:</p>
<pre><code>&lt;span class="text-neutral-400"&gt;LARAVEL&lt;/span&gt;
&lt;span class="text-neutral-500"&gt;12.38.1&lt;/span&gt;</code></pre>
<p>Tags: <span>LARAVEL</span><span>PHP</span></p>
<p>Never ship APP_DEBUG=true: the page shows your environment and queries.</p>
</article></body></html>`
)

// everyPathFails answers every HTTPS request with status 500 and body, as
// a Laravel app does whose every request throws (laravel11Page).
func everyPathFails(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, body)
	})
}

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
		// The Observatory compares the names exactly too; its code is
		// the result with --scoring observatory only (it rode on
		// httpsguard's pass before, saying "off host").
		{name: "trailing-dot first redirect, as the Observatory sees it", h: app{redirectTo: "https://app.test./"}, scoring: scan.ScoringObservatory, id: "HGS-RED-001", want: scan.StatusPass, wantResult: "redirection-off-host-from-http"},
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
		{name: "laravel 11 exception page", h: everyPathFails(laravel11Page), id: "HGS-LEAK-001", want: scan.StatusFail, wantResult: "debug-page-exposed", evidence: "Laravel (exception page) on the not-found page"},
		{name: "laravel 12 exception page", h: everyPathFails(laravel12Page), id: "HGS-LEAK-001", want: scan.StatusFail, wantResult: "debug-page-exposed", evidence: "Laravel (exception page) on the not-found page"},
		{name: "laravel 11 exception page on the not-found path only", h: app{}.withNotFound(laravel11Page), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Laravel (exception page)"},
		{name: "laravel production 404 page", h: app{}.withNotFound(laravel404Page), id: "HGS-LEAK-001", want: scan.StatusPass, wantResult: "debug-page-not-exposed"},
		{name: "site that mentions laravel and its versions", h: app{body: laravelSitePage}, id: "HGS-LEAK-001", want: scan.StatusPass},
		{name: "article about laravel exceptions", h: app{body: laravelExceptionsArticle}, id: "HGS-LEAK-001", want: scan.StatusPass},

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
		})}, id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented"},
		{name: "hsts on the HTTPS redirect of a downgraded chain, max-age read there", h: downgradingHTTPS(true), cfg: downgradedHTTP(false), id: "HGS-HSTS-003", want: scan.StatusPass, evidence: "max-age=63072000"},

		// 6. An HTTPS page that redirects to a closed http:// port cannot
		// be fetched: no grade (these cases pinned a grade before
		// fail-closed results), and the checks still report what they
		// saw, with httpsguard's own result codes. The Observatory
		// refuses such a site too ("The site seems to be down.", as
		// Observatory 1.4.8 does), so no check carries its result.
		{name: "downgrade to a closed port: redirection", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, id: "HGS-RED-001", want: scan.StatusInfo, wantResult: "http-not-served", wantErr: "could not be fetched"},
		{name: "downgrade to a closed port: hsts", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented-before-downgrade", wantErr: "could not be fetched"},
		{name: "downgrade to a closed port: cookies", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, id: "HGS-COOK-001", want: scan.StatusPass, wantResult: "cookies-secure", wantErr: "could not be fetched"},
		{name: "downgrade to a closed port, observatory scoring: redirection", h: downgradeToClosedPort, cfg: scantest.Config{NoHTTP: true}, scoring: scan.ScoringObservatory, id: "HGS-RED-001", want: scan.StatusInfo, wantResult: "http-not-served", wantErr: "the site seems to be down"},
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
			case tt.wantErr == "" && res.Error != nil:
				t.Fatalf("scan error: %+v", res.Error)
			case tt.wantErr != "" && (res.Error == nil || !strings.Contains(res.Error.Message, tt.wantErr)):
				t.Fatalf("scan error %+v, want one containing %q", res.Error, tt.wantErr)
			case tt.wantErr != "" && res.Graded():
				t.Errorf("ungraded scan scored %d %s", res.Score, res.Grade)
			}
			c := check(t, res, tt.id)
			if c.Status != tt.want {
				t.Fatalf("%s: status %s, want %s: %s %+v %v", tt.id, c.Status, tt.want, c.Message, c.Error, c.Evidence)
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

// TestSessionCookieNames sets each framework's session or login cookie,
// without Secure and without HttpOnly, on a real loopback site. In
// httpsguard's model every one is a session cookie, and the verdict's
// result code says so too (it used to carry the Observatory's code, which
// called .ASPXAUTH or wordpress_logged_in_* an ordinary cookie next to a
// failure for a session cookie). The Observatory's model keeps its own
// rule (a name containing "login" or "sess").
func TestSessionCookieNames(t *testing.T) {
	for _, tc := range []struct {
		name               string
		observatorySession bool // the Observatory's rule calls it a session cookie
	}{
		{"wordpress_logged_in_0123456789abcdef0123456789abcdef", false},
		{".ASPXAUTH", false},
		{".AspNetCore.Identity.Application", false},
		{".AspNetCore.Cookies", false},
		{".AspNetCore.Mvc.CookieTempDataProvider", false},
		{".AspNetCore.Session", true},
		{"laravel_session", true},
		{"JSESSIONID", true},
		{"PHPSESSID", true},
		{"connect.sid", false},
		{"_myapp_session", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			site := scantest.NewSite(t, app{cookies: []string{tc.name + "=v; Path=/"}}, scantest.Config{})
			for _, scoring := range []string{scan.ScoringHTTPSGuard, scan.ScoringObservatory} {
				opts := site.Options
				opts.Scoring = scoring
				sc, err := scan.New(opts)
				if err != nil {
					t.Fatal(err)
				}
				res := sc.Scan(t.Context(), site.Host)
				if res.Error != nil || res.Incomplete {
					t.Fatalf("%s: error %+v incomplete %v", scoring, res.Error, res.Incomplete)
				}
				secure, httpOnly := check(t, res, "HGS-COOK-001"), check(t, res, "HGS-COOK-002")
				if scoring == scan.ScoringHTTPSGuard {
					if secure.Status != scan.StatusFail || secure.Result != "cookies-session-without-secure-flag" ||
						httpOnly.Status != scan.StatusFail || httpOnly.Result != "cookies-session-without-httponly" {
						t.Errorf("httpsguard: COOK-001 %s %s, COOK-002 %s %s; want both failed as a session cookie",
							secure.Status, secure.Result, httpOnly.Status, httpOnly.Result)
					}
					continue
				}
				// The Observatory (with HSTS on the page) sees a session
				// cookie without HttpOnly, or an ordinary cookie without
				// Secure.
				want := "cookies-without-secure-flag-but-protected-by-hsts"
				if tc.observatorySession {
					want = "cookies-session-without-httponly-flag"
				}
				if secure.Result != want {
					t.Errorf("observatory: COOK-001 %s, want %s", secure.Result, want)
				}
			}
		})
	}
}

// TestKnownWrongVerdicts pins the verdicts the issue reported as wrong,
// each on a real loopback site, in httpsguard's model.
func TestKnownWrongVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		h          http.Handler
		cfg        scantest.Config
		id         string
		want       scan.Status
		wantResult string
	}{
		// The first redirect to https://host./ stays on the host; the
		// Observatory's "off host" code no longer rides on the pass.
		{name: "trailing-dot redirect: same host", h: app{redirectTo: "https://app.test./"}, id: "HGS-RED-002", want: scan.StatusPass, wantResult: "redirect-first-same-host"},
		{name: "trailing-dot redirect: to https", h: app{redirectTo: "https://app.test./"}, id: "HGS-RED-001", want: scan.StatusPass, wantResult: "redirection-to-https"},
		// An empty Domain= is no Domain: the __Host- cookie is valid.
		{name: "__Host- cookie with an empty Domain", h: app{cookies: []string{"__Host-id=1; Secure; HttpOnly; Path=/; Domain=; SameSite=Lax"}}, id: "HGS-COOK-004", want: scan.StatusPass, wantResult: "cookies-prefix-valid"},
		// HSTS counts on the HTTPS responses of a chain that ends on
		// http://, never on the plain-HTTP page.
		{name: "hsts only on the plain-HTTP end of the chain", h: downgradingHTTPS(false), cfg: downgradedHTTP(true), id: "HGS-HSTS-001", want: scan.StatusFail, wantResult: "hsts-not-implemented"},
		{name: "hsts on the HTTPS hop before the downgrade", h: downgradingHTTPS(true), cfg: downgradedHTTP(false), id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented-before-downgrade"},
		// The result code of a pass is httpsguard's, not the
		// Observatory's finer one.
		{name: "hsts on the page", h: app{}, id: "HGS-HSTS-001", want: scan.StatusPass, wantResult: "hsts-implemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			site := scantest.NewSite(t, tc.h, tc.cfg)
			opts := site.Options
			opts.Resolve["*:443"] = opts.Resolve[site.Host+":443"]
			opts.Resolve["*:80"] = opts.Resolve[site.Host+":80"]
			sc, err := scan.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			res := sc.Scan(t.Context(), site.Host)
			if res.Error != nil {
				t.Fatalf("no grade: %+v", res.Error)
			}
			if c := check(t, res, tc.id); c.Status != tc.want || c.Result != tc.wantResult {
				t.Errorf("%s: %s %s, want %s %s: %s %v", tc.id, c.Status, c.Result, tc.want, tc.wantResult, c.Message, c.Evidence)
			}
			assertTraceable(t, res)
		})
	}
}
