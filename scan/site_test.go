package scan_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
)

// app is a configurable site: by default it does everything right.
type app struct {
	hdr            map[string]string // header overrides; "" deletes
	cookies        []string          // replaces the default Set-Cookie lines when non-nil
	body           string            // replaces the home page
	routes         map[string]http.HandlerFunc
	httpServes     bool   // plain HTTP serves the page instead of redirecting
	redirectStatus int    // status of the redirect to HTTPS (default 301)
	redirectTo     string // where plain HTTP redirects (default https://same host)
}

const goodPage = `<!doctype html><html><head><title>ok</title></head><body>
<form method="post" action="/contact"><input type="hidden" name="csrfmiddlewaretoken" value="x"><input name="msg"></form>
<img src="/logo.png"></body></html>`

var goodHeaders = map[string]string{
	"Strict-Transport-Security":    "max-age=63072000; includeSubDomains; preload",
	"Content-Security-Policy":      "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Frame-Options":              "DENY",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Content-Type":                 "text/html; charset=utf-8",
}

func (a app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil && !a.httpServes {
		to := a.redirectTo
		if to == "" {
			to = "https://" + r.Host + r.URL.RequestURI()
		}
		st := a.redirectStatus
		if st == 0 {
			st = http.StatusMovedPermanently
		}
		http.Redirect(w, r, to, st)
		return
	}
	h := w.Header()
	for k, v := range goodHeaders {
		h.Set(k, v)
	}
	for k, v := range a.hdr {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
	cookies := a.cookies
	if cookies == nil {
		cookies = []string{"sessionid=s; Path=/; Secure; HttpOnly; SameSite=Lax", "csrftoken=c; Path=/; Secure; SameSite=Lax"}
	}
	for _, c := range cookies {
		h.Add("Set-Cookie", c)
	}
	if fn, ok := a.routes[r.URL.Path]; ok {
		fn(w, r)
		return
	}
	if r.URL.Path != "/" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body := a.body
	if body == "" {
		body = goodPage
	}
	fmt.Fprint(w, body)
}

func scanApp(t *testing.T, h http.Handler, cfg scantest.Config) *scan.Result {
	t.Helper()
	return scantest.NewSite(t, h, cfg).Scan(t)
}

func check(t *testing.T, res *scan.Result, id string) scan.Check {
	t.Helper()
	for _, c := range res.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("check %s missing from the result", id)
	return scan.Check{}
}

func TestGoodSiteScoresFull(t *testing.T) {
	res := scanApp(t, app{}, scantest.Config{})
	if res.Error != nil {
		t.Fatalf("error: %+v", res.Error)
	}
	for _, c := range res.Checks {
		if c.Status == scan.StatusFail || c.Status == scan.StatusWarn || c.Status == scan.StatusError {
			t.Errorf("%s %s: %s %s %v", c.ID, c.Status, c.Message, c.Error, c.Evidence)
		}
	}
	if res.Score != 100 || res.Grade != "A+" {
		t.Errorf("score %d grade %s, want 100 A+", res.Score, res.Grade)
	}
	assertTraceable(t, res)
	if len(res.Checks) != len(scan.Catalog()) {
		t.Errorf("%d checks, want %d", len(res.Checks), len(scan.Catalog()))
	}
	if res.TLS == nil || !res.TLS.Verified || res.TLS.TrustedBy != "custom pool" {
		t.Errorf("TLS info %+v", res.TLS)
	}
	if len(res.HTTPRedirects) != 2 || res.HTTPRedirects[0].Status != 301 {
		t.Errorf("http chain %+v", res.HTTPRedirects)
	}
	if c := check(t, res, "HGS-HSTS-006"); c.Status != scan.StatusPass {
		t.Errorf("preload eligibility: %s %v", c.Message, c.Evidence)
	}
}

// TestMisconfigurations turns one thing wrong at a time and asserts the
// check that must notice it (each of these checks passes on the good site).
func TestMisconfigurations(t *testing.T) {
	page := func(body string) app { return app{body: body} }
	tests := []struct {
		name     string
		h        http.Handler
		cfg      scantest.Config
		id       string
		want     scan.Status
		evidence string // a substring of the message or evidence
		// noGrade is the kind of the result's error when the page
		// cannot be fetched (the checks still report what they saw).
		noGrade scan.ErrorKind
	}{
		{name: "http serves content", h: app{httpServes: true}, id: "HGS-RED-001", want: scan.StatusFail},
		{name: "http redirects to www first", h: app{redirectTo: "https://www.app.test/"}, id: "HGS-RED-002", want: scan.StatusWarn, evidence: "www"},
		{name: "http redirects to other host", h: app{redirectTo: "https://elsewhere.test/"}, id: "HGS-RED-002", want: scan.StatusWarn},
		{name: "temporary redirect", h: app{redirectStatus: http.StatusFound}, id: "HGS-RED-005", want: scan.StatusWarn},
		{name: "downgrade", h: app{routes: map[string]http.HandlerFunc{"/": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://app.test/plain", http.StatusFound)
		}}}, id: "HGS-RED-003", want: scan.StatusFail, evidence: "http://app.test/plain"},
		{name: "loop", h: app{routes: map[string]http.HandlerFunc{
			"/":  func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/a", http.StatusFound) },
			"/a": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusFound) },
		}}, id: "HGS-RED-004", want: scan.StatusFail, evidence: "loop", noGrade: scan.KindRedirectLoop},
		{name: "no hsts", h: app{hdr: map[string]string{"Strict-Transport-Security": ""}}, id: "HGS-HSTS-001", want: scan.StatusFail},
		{name: "hsts bad syntax", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=abc"}}, id: "HGS-HSTS-002", want: scan.StatusFail, evidence: "non_digit"},
		// RFC 6797 §6.1: every directive appears once, and a header that
		// breaks the syntax is ignored (Chrome and Firefox reject repeated
		// max-age and includeSubDomains).
		{name: "hsts repeated max-age", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=63072000; includeSubDomains; max-age=0"}}, id: "HGS-HSTS-002", want: scan.StatusFail, evidence: "header.parse.repeated.max_age"},
		{name: "hsts repeated includeSubDomains", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=63072000; includeSubDomains; includesubdomains"}}, id: "HGS-HSTS-002", want: scan.StatusFail, evidence: "header.parse.repeated.include_sub_domains"},
		{name: "hsts repeated preload", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload; preload"}}, id: "HGS-HSTS-002", want: scan.StatusWarn, evidence: "header.parse.repeated.preload"},
		// RFC 6797 §6.1 allows a quoted max-age and whitespace around "=";
		// browsers honour such a header, hstspreload does not.
		{name: "hsts quoted max-age", h: app{hdr: map[string]string{"Strict-Transport-Security": `max-age="63072000"; includeSubDomains`}}, id: "HGS-HSTS-002", want: scan.StatusWarn, evidence: "header.parse.max_age.non_digit_characters"},
		{name: "hsts quoted max-age counts", h: app{hdr: map[string]string{"Strict-Transport-Security": `max-age="63072000"; includeSubDomains`}}, id: "HGS-HSTS-003", want: scan.StatusPass, evidence: "max-age=63072000"},
		{name: "hsts spaced max-age counts", h: app{hdr: map[string]string{"Strict-Transport-Security": "Max-Age = 63072000 ; includeSubDomains"}}, id: "HGS-HSTS-003", want: scan.StatusPass},
		{name: "hsts quoted max-age not preloadable", h: app{hdr: map[string]string{"Strict-Transport-Security": `max-age="63072000"; includeSubDomains; preload`}}, id: "HGS-HSTS-006", want: scan.StatusInfo, evidence: "header.parse.max_age.non_digit_characters"},
		{name: "hsts max-age without value", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age; includeSubDomains"}}, id: "HGS-HSTS-002", want: scan.StatusFail},
		{name: "hsts quoted max-age not digits", h: app{hdr: map[string]string{"Strict-Transport-Security": `max-age="1y"`}}, id: "HGS-HSTS-003", want: scan.StatusFail},
		{name: "hsts short", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=86400; includeSubDomains; preload"}}, id: "HGS-HSTS-003", want: scan.StatusFail},
		{name: "hsts below a year", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=20000000; includeSubDomains; preload"}}, id: "HGS-HSTS-006", want: scan.StatusInfo, evidence: "header.preloadable.max_age.below_1_year"},
		{name: "hsts www first", h: app{redirectTo: "https://www.app.test/"}, id: "HGS-HSTS-006", want: scan.StatusInfo, evidence: "redirects.http.www_first"},
		{name: "hsts insecure first redirect", h: app{redirectTo: "http://other.test/"}, id: "HGS-HSTS-006", want: scan.StatusInfo, evidence: "redirects.http.first_redirect.insecure"},
		{name: "hsts insecure subsequent redirect", h: app{routes: map[string]http.HandlerFunc{"/": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://app.test/plain", http.StatusFound)
		}}}, id: "HGS-HSTS-006", want: scan.StatusInfo, evidence: "redirects.insecure.subsequent"},
		{name: "hsts no subdomains", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=63072000"}}, id: "HGS-HSTS-004", want: scan.StatusWarn},
		{name: "hsts no preload", h: app{hdr: map[string]string{"Strict-Transport-Security": "max-age=63072000; includeSubDomains"}}, id: "HGS-HSTS-005", want: scan.StatusInfo},
		{name: "session cookie not secure", h: app{cookies: []string{"sessionid=1; HttpOnly; SameSite=Lax"}}, id: "HGS-COOK-001", want: scan.StatusFail, evidence: "sessionid"},
		{name: "other cookie not secure", h: app{cookies: []string{"theme=dark"}}, id: "HGS-COOK-001", want: scan.StatusWarn, evidence: "theme"},
		{name: "session cookie not httponly", h: app{cookies: []string{"sessionid=1; Secure; SameSite=Lax"}}, id: "HGS-COOK-002", want: scan.StatusFail},
		{name: "csrf cookie no samesite", h: app{cookies: []string{"csrftoken=1; Secure"}}, id: "HGS-COOK-003", want: scan.StatusWarn},
		{name: "session cookie bad samesite", h: app{cookies: []string{"sessionid=1; Secure; HttpOnly; SameSite=Lox"}}, id: "HGS-COOK-003", want: scan.StatusWarn, evidence: "Lox"},
		{name: "host prefix with domain", h: app{cookies: []string{"__Host-id=1; Secure; Path=/; Domain=app.test"}}, id: "HGS-COOK-004", want: scan.StatusFail},
		{name: "csp unsafe-inline", h: app{hdr: map[string]string{"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'"}}, id: "HGS-HDR-001", want: scan.StatusFail},
		{name: "no csp", h: app{hdr: map[string]string{"Content-Security-Policy": ""}}, id: "HGS-HDR-001", want: scan.StatusFail},
		{name: "no framing protection", h: app{hdr: map[string]string{"X-Frame-Options": "", "Content-Security-Policy": "default-src 'none'"}}, id: "HGS-HDR-002", want: scan.StatusFail},
		{name: "no nosniff", h: app{hdr: map[string]string{"X-Content-Type-Options": ""}}, id: "HGS-HDR-003", want: scan.StatusWarn},
		{name: "unsafe referrer", h: app{hdr: map[string]string{"Referrer-Policy": "unsafe-url"}}, id: "HGS-HDR-004", want: scan.StatusWarn},
		{name: "no coop", h: app{hdr: map[string]string{"Cross-Origin-Opener-Policy": ""}}, id: "HGS-HDR-005", want: scan.StatusWarn},
		{name: "bad coop", h: app{hdr: map[string]string{"Cross-Origin-Opener-Policy": "same-site"}}, id: "HGS-HDR-005", want: scan.StatusFail},
		{name: "bad corp", h: app{hdr: map[string]string{"Cross-Origin-Resource-Policy": "bogus"}}, id: "HGS-HDR-006", want: scan.StatusFail},
		{name: "cors reflected with credentials", h: app{hdr: map[string]string{"Access-Control-Allow-Origin": "https://http-observatory.security.mozilla.org", "Access-Control-Allow-Credentials": "true"}}, id: "HGS-HDR-007", want: scan.StatusFail},
		{name: "external script without sri", h: page(`<html><script src="https://cdn.elsewhere.test/x.js"></script></html>`), id: "HGS-HDR-008", want: scan.StatusWarn},
		{name: "mixed script", h: page(`<html><script src="http://cdn.test/x.js"></script></html>`), id: "HGS-CNT-001", want: scan.StatusFail, evidence: "http://cdn.test/x.js"},
		{name: "mixed image", h: page(`<html><img src="http://cdn.test/x.png"></html>`), id: "HGS-CNT-001", want: scan.StatusWarn},
		{name: "insecure form", h: page(`<html><form action="http://app.test/s"><input name=q></form></html>`), id: "HGS-CNT-002", want: scan.StatusFail},
		{name: "meta hsts", h: page(`<html><head><meta http-equiv="Strict-Transport-Security" content="max-age=1"></head></html>`), id: "HGS-CNT-003", want: scan.StatusWarn},
		{name: "django debug", h: app{routes: map[string]http.HandlerFunc{}, body: ""}.withNotFound("<p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p>"), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Django"},
		{name: "werkzeug debugger", h: app{}.withNotFound("<title>NotFound // Werkzeug Debugger</title>"), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Werkzeug"},
		{name: "django 3 debug", h: app{}.withNotFound("<p>\n      You\u2019re seeing this error because you have <code>DEBUG = True</code> in\n      your Django settings file.</p>"), id: "HGS-LEAK-001", want: scan.StatusFail, evidence: "Django"},
		{name: "page naming the werkzeug debugger", h: page(`<html><p>The Werkzeug Debugger must never run in production; neither must DEBUG = True.</p></html>`), id: "HGS-LEAK-001", want: scan.StatusPass},
		{name: "django admin over http", h: djangoAdmin(true), id: "HGS-LEAK-002", want: scan.StatusFail},
		{name: "django admin https only", h: djangoAdmin(false), id: "HGS-LEAK-002", want: scan.StatusInfo, evidence: "/admin/login/"},
		{name: "login over http", h: app{httpServes: true, routes: map[string]http.HandlerFunc{"/login": loginPage("/login")}}, id: "HGS-LEAK-003", want: scan.StatusFail},
		{name: "login posts to http", h: app{routes: map[string]http.HandlerFunc{"/accounts/login/": loginPage("http://app.test/accounts/login/")}}, id: "HGS-LEAK-004", want: scan.StatusFail},
		{name: "post form without token", h: page(`<html><form method=post action=/x><input name=a></form></html>`), id: "HGS-LEAK-005", want: scan.StatusWarn},
		{name: "server version", h: app{hdr: map[string]string{"Server": "nginx/1.18.0"}}, id: "HGS-LEAK-006", want: scan.StatusWarn, evidence: "nginx/1.18.0"},
		{name: "powered by", h: app{hdr: map[string]string{"X-Powered-By": "Express"}}, id: "HGS-LEAK-006", want: scan.StatusWarn},
		{name: "trace echoed", h: traceEcho(app{}), id: "HGS-LEAK-007", want: scan.StatusFail},

		{name: "expired certificate", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{NotBefore: time.Now().Add(-48 * time.Hour), Lifetime: 24 * time.Hour}}, id: "HGS-TLS-003", want: scan.StatusFail, evidence: "expired"},
		{name: "expired certificate chain", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{NotBefore: time.Now().Add(-48 * time.Hour), Lifetime: 24 * time.Hour}}, id: "HGS-TLS-002", want: scan.StatusFail, evidence: "expired"},
		{name: "expires in 3 days", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{NotBefore: time.Now().Add(-87 * 24 * time.Hour), Lifetime: 90*24*time.Hour + time.Hour}}, id: "HGS-TLS-003", want: scan.StatusFail},
		{name: "expires in 20 days", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{NotBefore: time.Now().Add(-70 * 24 * time.Hour), Lifetime: 90*24*time.Hour + time.Hour}}, id: "HGS-TLS-003", want: scan.StatusWarn},
		{name: "fresh short-lived certificate", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{Lifetime: 7 * 24 * time.Hour}}, id: "HGS-TLS-003", want: scan.StatusPass, evidence: "days left"},
		{name: "short-lived certificate, renewal late", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{NotBefore: time.Now().Add(-5*24*time.Hour - 12*time.Hour), Lifetime: 7 * 24 * time.Hour}}, id: "HGS-TLS-003", want: scan.StatusWarn},
		{name: "short-lived certificate, renewal stalled", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{NotBefore: time.Now().Add(-6*24*time.Hour - 18*time.Hour), Lifetime: 7 * 24 * time.Hour}}, id: "HGS-TLS-003", want: scan.StatusFail},
		{name: "name mismatch", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{Names: []string{"other.test"}}}, id: "HGS-TLS-002", want: scan.StatusFail, evidence: "other.test"},
		{name: "rsa key", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{KeyType: localca.KeyRSA2048}}, id: "HGS-TLS-007", want: scan.StatusPass, evidence: "RSA 2048"},
		{name: "tls 1.0 accepted", h: app{}, cfg: scantest.Config{ConfigureTLS: func(c *tls.Config) { c.MinVersion = tls.VersionTLS10; c.CipherSuites = nil }}, id: "HGS-TLS-004", want: scan.StatusFail, evidence: "TLS 1.0"},
		{name: "no tls 1.3", h: app{}, cfg: scantest.Config{ConfigureTLS: func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }}, id: "HGS-TLS-005", want: scan.StatusWarn},
		{name: "cbc suites", h: app{}, cfg: scantest.Config{ConfigureTLS: func(c *tls.Config) { c.CipherSuites = nil }}, id: "HGS-TLS-006", want: scan.StatusWarn, evidence: "CBC"},
		{name: "rsa key exchange", h: app{}, cfg: scantest.Config{Leaf: localca.LeafOptions{KeyType: localca.KeyRSA2048}, ConfigureTLS: func(c *tls.Config) {
			c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		}}, id: "HGS-TLS-006", want: scan.StatusFail, evidence: "TLS_RSA_WITH_AES_128_GCM_SHA256"},
		// Nothing on plain HTTP is a note, not a pass (a browser trying
		// http:// gets an error); this case pinned a pass before.
		{name: "no http listener", h: app{}, cfg: scantest.Config{NoHTTP: true}, id: "HGS-RED-001", want: scan.StatusInfo, evidence: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := scanApp(t, tt.h, tt.cfg)
			switch {
			case tt.noGrade == "" && res.Error != nil:
				t.Fatalf("scan error: %+v", res.Error)
			case tt.noGrade != "" && (res.Error == nil || res.Error.Kind != tt.noGrade || res.Graded()):
				t.Fatalf("scan error %+v grade %q, want no grade (%s)", res.Error, res.Grade, tt.noGrade)
			}
			c := check(t, res, tt.id)
			if c.Status != tt.want {
				t.Fatalf("%s: status %s, want %s: %s %+v %v", tt.id, c.Status, tt.want, c.Message, c.Error, c.Evidence)
			}
			all := c.Message + " " + strings.Join(c.Evidence, " ")
			if tt.evidence != "" && !strings.Contains(all, tt.evidence) {
				t.Errorf("%s: %q not in %q", tt.id, tt.evidence, all)
			}
			if (c.Status == scan.StatusFail || c.Status == scan.StatusWarn) && c.Fix == "" {
				t.Errorf("%s: no fix given", tt.id)
			}
			if c.Status == scan.StatusFail && c.ScoreImpact >= 0 && tt.id != "HGS-HDR-001" {
				t.Errorf("%s failed without a deduction", tt.id)
			}
			assertTraceable(t, res)
		})
	}
}

// assertTraceable checks that the score is 100 plus the checks' impacts.
// TestDowngradeToClosedHTTPPort: an HTTPS page that redirects to http://
// downgrades the visitor even when nothing answers there; the failed
// request must not hide the redirect. A browser ends on the refused
// http:// URL, so the page cannot be fetched and there is no grade (this
// test pinned a grade before fail-closed results); the checks still
// report what they saw (see TestReviewedVerdicts).
func TestDowngradeToClosedHTTPPort(t *testing.T) {
	t.Parallel()
	h := app{routes: map[string]http.HandlerFunc{"/": func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://app.test/plain", http.StatusFound)
	}}}
	res := scanApp(t, h, scantest.Config{NoHTTP: true})
	if res.Error == nil || res.Error.Kind != scan.KindRefused {
		t.Fatalf("scan error %+v, want the refused http:// page that the HTTPS page redirects to", res.Error)
	}
	c := check(t, res, "HGS-RED-003")
	if c.Status != scan.StatusFail || c.Result != "redirect-downgrade" {
		t.Fatalf("HGS-RED-003: status %s (%s), want fail (redirect-downgrade): %s %v", c.Status, c.Result, c.Message, c.Evidence)
	}
	if all := strings.Join(c.Evidence, " "); !strings.Contains(all, "http://app.test/plain") {
		t.Errorf("HGS-RED-003: evidence %q does not name the target", all)
	}
	assertTraceable(t, res)
}

func assertTraceable(t *testing.T, res *scan.Result) {
	t.Helper()
	for _, c := range res.Checks {
		if c.Status == scan.StatusError && (c.Error == nil || c.Error.Kind == scan.KindInternal) {
			t.Errorf("%s: %+v", c.ID, c.Error)
		}
	}
	sum := 100
	for _, c := range res.Checks {
		sum += c.ScoreImpact
	}
	if want := max(0, min(100, sum)); res.Scoring == scan.ScoringHTTPSGuard && res.Graded() && res.Score != want {
		t.Errorf("score %d is not 100 + impacts (%d)", res.Score, sum)
	}
	for _, c := range res.Checks {
		if c.Status != scan.StatusSkip && c.Status != scan.StatusError && c.Result == "" {
			t.Errorf("%s (%s) has no result code: %s", c.ID, c.Status, c.Message)
		}
	}
}

func (a app) withNotFound(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && r.URL.Path != "/" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, body)
			return
		}
		a.ServeHTTP(w, r)
	})
}

const djangoLogin = `<html><form action="%s" method="post" id="login-form"><input type="hidden" name="csrfmiddlewaretoken" value="t">
<input type="text" name="username" id="id_username"><input type="password" name="password" id="id_password"></form></html>`

func djangoAdmin(overHTTP bool) http.Handler {
	a := app{httpServes: overHTTP, routes: map[string]http.HandlerFunc{
		"/admin/": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/admin/login/?next=/admin/", http.StatusFound)
		},
		"/admin/login/": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, djangoLogin, "/admin/login/")
		},
	}}
	if overHTTP {
		// Plain HTTP serves the admin login itself.
		a.routes["/admin/"] = a.routes["/admin/login/"]
	}
	return a
}

func loginPage(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><form method=post action="%s"><input type=hidden name=_token><input type=password name=pw></form></html>`, action)
	}
}

func traceEcho(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "TRACE" {
			w.Header().Set("Content-Type", "message/http")
			fmt.Fprintf(w, "TRACE %s HTTP/1.1\r\nHost: %s\r\n\r\n", r.URL.RequestURI(), r.Host)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestCAFileIsNamed(t *testing.T) {
	site := scantest.NewSite(t, app{}, scantest.Config{})
	opts := site.Options
	opts.RootCAs = nil
	opts.CAFiles = []string{site.CA.RootFile()}
	sc, err := scan.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	res := sc.Scan(t.Context(), site.Host)
	if res.TLS == nil || res.TLS.TrustedBy != site.CA.RootFile() {
		t.Fatalf("trusted by %+v", res.TLS)
	}
	if c := check(t, res, "HGS-TLS-002"); c.Status != scan.StatusPass || !strings.Contains(c.Message, site.CA.RootFile()) {
		t.Errorf("chain check %s: %s", c.Status, c.Message)
	}
	// Without the CA file the same site is untrusted, and still scanned.
	opts.CAFiles = nil
	sc, _ = scan.New(opts)
	res = sc.Scan(t.Context(), site.Host)
	if c := check(t, res, "HGS-TLS-002"); c.Status != scan.StatusFail {
		t.Errorf("untrusted chain: %s %s", c.Status, c.Message)
	}
	if c := check(t, res, "HGS-HSTS-001"); c.Status != scan.StatusPass {
		t.Errorf("headers not read from the unverified site: %s %s", c.Status, c.Message)
	}
}

func TestDenyPrivate(t *testing.T) {
	site := scantest.NewSite(t, app{}, scantest.Config{})
	opts := site.Options
	opts.DenyPrivate = true
	sc, err := scan.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{site.Host, "127.0.0.1", "127.0.0.2:8443", "localhost"} {
		res := sc.Scan(t.Context(), target)
		if res.Error == nil || res.Error.Kind != scan.KindDenied || !strings.Contains(res.Error.Message, "deny-private") {
			t.Errorf("%s: error %+v, want a deny-private refusal", target, res.Error)
		}
		if res.Graded() {
			t.Errorf("%s: graded %s %d", target, res.Grade, res.Score)
		}
	}
}

func TestObservatoryScoring(t *testing.T) {
	site := scantest.NewSite(t, app{hdr: map[string]string{"X-Content-Type-Options": ""}}, scantest.Config{})
	opts := site.Options
	opts.Scoring = scan.ScoringObservatory
	sc, err := scan.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	res := sc.Scan(t.Context(), site.Host)
	if res.Scoring != scan.ScoringObservatory || res.Error != nil {
		t.Fatalf("scoring %s error %+v", res.Scoring, res.Error)
	}
	sum := 100
	for _, c := range res.Checks {
		sum += c.ScoreImpact
	}
	if sum != res.Score {
		t.Errorf("observatory score %d is not 100 + impacts %d", res.Score, sum)
	}
	if c := check(t, res, "HGS-HDR-003"); c.Result != "x-content-type-options-not-implemented" || c.ScoreImpact != -5 {
		t.Errorf("XCTO: %s %d", c.Result, c.ScoreImpact)
	}
	if res.Grade != scan.LetterGrade(min(res.Score, 100)) {
		t.Errorf("grade %s for %d", res.Grade, res.Score)
	}
}

// TestCORSPreflightTargets checks where the CORS preflights go: the
// Observatory's to /robots.txt only after a certificate error when
// robots.txt answered 2xx (observatory.Input.CORSURL), and HGS-HDR-007's
// reflection rule always to the page, which costs one extra request in that
// case only.
func TestCORSPreflightTargets(t *testing.T) {
	const reflected = "https://http-observatory.security.mozilla.org"
	robots := func(status int, hdr ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Del("Access-Control-Allow-Origin")
			w.Header().Del("Access-Control-Allow-Credentials")
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(status)
			io.WriteString(w, "User-agent: *\n")
		}
	}
	reflect := map[string]string{"Access-Control-Allow-Origin": reflected, "Access-Control-Allow-Credentials": "true"}
	for _, tc := range []struct {
		name      string
		untrusted bool
		app       app
		// wantResult is the Observatory's result, which the check carries
		// in this scoring model; wantReflected, httpsguard's verdict.
		wantResult    string
		wantReflected bool
		wantOptions   []string // paths preflighted, sorted
	}{
		{name: "trusted: the page", app: app{routes: map[string]http.HandlerFunc{"/robots.txt": robots(200, "Access-Control-Allow-Origin", "*")}},
			wantResult: "cross-origin-resource-sharing-not-implemented", wantOptions: []string{"/"}},
		{name: "certificate error, robots.txt 2xx: robots.txt", untrusted: true, app: app{routes: map[string]http.HandlerFunc{"/robots.txt": robots(200, "Access-Control-Allow-Origin", "*")}},
			wantResult: "cross-origin-resource-sharing-implemented-with-public-access", wantOptions: []string{"/", "/robots.txt"}},
		{name: "certificate error, robots.txt 404: the page", untrusted: true, app: app{routes: map[string]http.HandlerFunc{"/robots.txt": robots(404, "Access-Control-Allow-Origin", "*")}},
			wantResult: "cross-origin-resource-sharing-not-implemented", wantOptions: []string{"/"}},
		{name: "reflection is judged on the page", untrusted: true, app: app{hdr: reflect, routes: map[string]http.HandlerFunc{"/robots.txt": robots(200)}},
			wantResult: "cross-origin-resource-sharing-not-implemented", wantReflected: true, wantOptions: []string{"/", "/robots.txt"}},
		{name: "reflection on robots.txt only is not the page's", untrusted: true, app: app{routes: map[string]http.HandlerFunc{"/robots.txt": robots(200, "Access-Control-Allow-Origin", reflected, "Access-Control-Allow-Credentials", "true")}},
			wantResult: "cross-origin-resource-sharing-implemented-with-restricted-access", wantOptions: []string{"/", "/robots.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var options []string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodOptions && r.TLS != nil {
					mu.Lock()
					options = append(options, r.URL.Path)
					mu.Unlock()
				}
				tc.app.ServeHTTP(w, r)
			})
			site := scantest.NewSite(t, h, scantest.Config{})
			opts := site.Options
			opts.Scoring = scan.ScoringObservatory
			if tc.untrusted {
				opts.RootCAs = x509.NewCertPool()
			}
			sc, err := scan.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			res := sc.Scan(t.Context(), site.Host)
			if res.Error != nil {
				t.Fatalf("error: %+v", res.Error)
			}
			c := check(t, res, "HGS-HDR-007")
			if c.Result != tc.wantResult {
				t.Errorf("HGS-HDR-007: %s (%s), want %s", c.Result, c.Message, tc.wantResult)
			}
			if reflected := c.Status == scan.StatusFail && strings.Contains(c.Message, "reflected"); reflected != tc.wantReflected {
				t.Errorf("HGS-HDR-007: %s %q, want reflection judged %v", c.Status, c.Message, tc.wantReflected)
			}
			mu.Lock()
			defer mu.Unlock()
			slices.Sort(options)
			if !slices.Equal(options, tc.wantOptions) {
				t.Errorf("preflights to %q, want %q", options, tc.wantOptions)
			}
		})
	}
}

func TestScanAllStreamsEveryTarget(t *testing.T) {
	site := scantest.NewSite(t, app{}, scantest.Config{})
	opts := site.Options
	opts.Concurrency = 3
	for i := range 5 {
		opts.Resolve[fmt.Sprintf("s%d.test:443", i)] = opts.Resolve[site.Host+":443"]
		opts.Resolve[fmt.Sprintf("s%d.test:80", i)] = opts.Resolve[site.Host+":80"]
	}
	sc, err := scan.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{"s0.test", "s1.test", "s2.test", "s3.test", "s4.test", "bad target!"}
	var mu sync.Mutex
	got := map[string]*scan.Result{}
	for r := range sc.ScanAll(t.Context(), targets) {
		mu.Lock()
		got[r.Target] = r
		mu.Unlock()
	}
	if len(got) != len(targets) {
		t.Fatalf("%d results for %d targets", len(got), len(targets))
	}
	if got["bad target!"].Error == nil || got["bad target!"].Error.Kind != scan.KindInvalidTarget {
		t.Error("bad target scanned")
	}
	if r := got["s1.test"]; r.Error != nil || check(t, r, "HGS-TLS-002").Status != scan.StatusFail {
		// The certificate is for app.test, not s1.test.
		t.Errorf("s1.test: %+v %s", r.Error, check(t, r, "HGS-TLS-002").Status)
	}
}

func TestScantestRequire(t *testing.T) {
	scantest.Require(t, app{}, scantest.Config{MinScore: 95, MinGrade: "A", NoFail: true})
	// A failing application must fail the helper.
	ft := &fakeT{TB: t}
	scantest.Require(ft, app{hdr: map[string]string{"Strict-Transport-Security": ""}}, scantest.Config{MinScore: 95})
	if !ft.failed || !strings.Contains(ft.msg, "HGS-HSTS-001") {
		t.Errorf("scantest did not fail a site without HSTS: %v %q", ft.failed, ft.msg)
	}
}

// fakeT records Errorf instead of failing the real test.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Error(args ...any) { f.failed = true; f.msg += fmt.Sprint(args...) }
func (f *fakeT) Errorf(format string, args ...any) {
	f.failed = true
	f.msg += fmt.Sprintf(format, args...)
}

func TestRequestLimitIsAnError(t *testing.T) {
	site := scantest.NewSite(t, app{}, scantest.Config{})
	opts := site.Options
	opts.MaxRequests = 3
	sc, err := scan.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	res := sc.Scan(t.Context(), site.Host)
	limited := 0
	for _, c := range res.Checks {
		if c.Status == scan.StatusError && c.Error.Kind == scan.KindRequestLimit {
			limited++
		}
	}
	if limited == 0 {
		t.Fatalf("no check reports the request limit: %+v", res.Checks)
	}
	if len(res.Checks) != len(scan.Catalog()) {
		t.Errorf("%d checks", len(res.Checks))
	}
}

func TestCancelledScanAllEnds(t *testing.T) {
	site := scantest.NewSite(t, app{}, scantest.Config{})
	sc, err := scan.New(site.Options)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n := 0
	for r := range sc.ScanAll(ctx, []string{site.Host, site.Host, site.Host}) {
		n++
		if r.Error == nil || r.Error.Kind != scan.KindCancelled || r.Graded() {
			t.Errorf("a cancelled scan: error %+v, grade %q", r.Error, r.Grade)
		}
	}
	if n != 3 {
		t.Errorf("%d results, want 3", n)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]scan.Options{
		"scoring":   {Scoring: "ssllabs"},
		"port":      {HTTPSPort: 70000},
		"ca file":   {CAFiles: []string{"/nonexistent/ca.pem"}},
		"not a pem": {CAFiles: []string{"site_test.go"}},
	} {
		if _, err := scan.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWeakRSAKeyFails(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Skipf("this Go refuses 1024-bit RSA keys: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(app{})
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the scanner's probes fail handshakes on purpose
	srv.StartTLS()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	sc, err := scan.New(scan.Options{HTTPSPort: port, HTTPPort: port, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res := sc.Scan(t.Context(), "127.0.0.1")
	if c := check(t, res, "HGS-TLS-007"); c.Status != scan.StatusFail || !strings.Contains(c.Message, "1024") {
		t.Fatalf("weak key: %s %s (%+v)", c.Status, c.Message, res.Error)
	}
	if c := check(t, res, "HGS-TLS-002"); c.Status != scan.StatusFail {
		t.Errorf("self-signed chain: %s %s", c.Status, c.Message)
	}
}
