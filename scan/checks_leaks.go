package scan

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// debugSignatures identify framework debug pages. The regular expression
// of a signature runs only when one of its needles (lower case) occurs in
// the lower-cased body: a literal search is orders of magnitude faster than
// the regular expression over a 2 MiB page, which a hostile server would
// otherwise make every scan pay for.
var debugSignatures = []struct {
	framework string
	needles   []string
	re        *regexp.Regexp
}{
	// Django 3.0 and later write "You’re" with a typographic apostrophe.
	{"Django (DEBUG = True)", []string{"debug = true"}, regexp.MustCompile(`You(?:'|\x{2019}|&#39;|&#x27;|&rsquo;)re seeing this error because you have <code>DEBUG = True</code>`)},
	{"Rails", []string{"action controller: exception caught", "rails.root"}, regexp.MustCompile(`(?s)Action Controller: Exception caught|<h1>Routing Error</h1>.*Rails\.root`)},
	// Ignition (facade/ignition, spatie/laravel-ignition) boots its page
	// from a <script> that starts with window.ignite(window.data); prose
	// or code samples naming the package, Facade\Ignition or
	// window.ignite are not a debug page, and a site's own script that
	// merely mentions window.ignite later on is not one either.
	{"Laravel (Ignition)", []string{"window.ignite"}, regexp.MustCompile(`<script\b[^>]*>\s*(?:window\.Ignition\s*=\s*)?window\.ignite\b`)},
	// Laravel 11 and later render exceptions themselves when APP_DEBUG is
	// on (Illuminate\Foundation\Exceptions\Renderer), without Ignition.
	// The first design writes a <style> that marks each stack frame's
	// line ("#frame-N .hljs-ln-line[data-line-number='L']"); the Laravel
	// 12 redesign's header shows the versions as a LARAVEL badge, the
	// version, then a PHP badge. The word Laravel, a "PHP x — Laravel y"
	// footer, or these snippets shown as code (escaped, so no <style> or
	// <span> tag) are not the page.
	{"Laravel (exception page)", []string{"hljs-ln-line", ">laravel</span>"}, regexp.MustCompile(`<style\b[^>]*>\s*#frame-\d+ \.hljs-ln-line\[data-line-number='\d+'\]|<span\b[^>]*>LARAVEL</span>\s*<span\b[^>]*>[^<\s]+</span>\s*</div>\s*<div\b[^>]*>\s*<span\b[^>]*>PHP</span>`)},
	// Whoops's PrettyPageHandler: its layout's container element (2.x),
	// or its page title (the default "Whoops! There was an error.") as
	// the whole text of the <title> or a heading. The phrase in running
	// text (a blog post, an application's own message) is not a match.
	{"Whoops", []string{"whoops"}, regexp.MustCompile(`<div class="Whoops container">|<(?:title|h[1-6])\b[^>]*>\s*Whoops! There was an error\.?\s*</(?:title|h[1-6])>`)},
	// "Symfony Exception" is the heading of the exception page; in prose
	// it is only a phrase.
	{"Symfony debug", []string{"sf-dump", "symfony"}, regexp.MustCompile(`(?i:sf-dump|Symfony\\Component\\ErrorHandler)|Symfony Exception</h1>`)},
	// Werkzeug's pages carry the name in the <title>; prose naming the
	// debugger is not a debug page.
	{"Werkzeug debugger", []string{"werkzeug", "debugger"}, regexp.MustCompile(`// Werkzeug Debugger</title>|The debugger caught an exception in your WSGI application|__debugger__=yes`)},
	{"Express/Node stack trace", []string{"&nbsp;at ", "\n    at ", "\n  at "}, regexp.MustCompile(`(?:Error|Exception)[^\n<]*(?:<br>|\n)\s*(?:&nbsp;|\s)*at (?:[^\s<]+ \()?(?:/|[A-Za-z]:\\|node:)[^)<\s]*:\d+:\d+`)},
	{"PHP error", []string{" on line"}, regexp.MustCompile(`(?:<b>)?(?:Fatal error|Parse error|Warning)(?:</b>)?: .* in (?:<b>)?/[^ <]+\.php(?:</b>)? on line`)},
	{"ASP.NET detailed error", []string{"stack trace:", "server error in"}, regexp.MustCompile(`\[(?:[A-Za-z]+Exception)[^\]]*\][\s\S]*Stack Trace:|Server Error in '/[^'<]*' Application`)},
}

// detectDebug returns the framework whose debug page body is, or "".
func detectDebug(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	lower := bytes.ToLower(body)
	for _, s := range debugSignatures {
		for _, n := range s.needles {
			if bytes.Contains(lower, []byte(n)) {
				if s.re.Match(body) {
					return s.framework
				}
				break
			}
		}
	}
	return ""
}

var versionRE = regexp.MustCompile(`\d+\.\d+`)

// csrfFieldRE matches hidden input names that carry anti-CSRF tokens.
var csrfFieldRE = regexp.MustCompile(`(?i)csrf|xsrf|authenticity_token|^_token$|__requestverificationtoken|nonce|^form_key$|^_wpnonce$`)

func checkLeaks(o *observations) []*Check {
	debugC := newCheck("HGS-LEAK-001")
	admin := newCheck("HGS-LEAK-002")
	login := newCheck("HGS-LEAK-003")
	loginPost := newCheck("HGS-LEAK-004")
	csrf := newCheck("HGS-LEAK-005")
	server := newCheck("HGS-LEAK-006")
	trace := newCheck("HGS-LEAK-007")
	all := []*Check{debugC, admin, login, loginPost, csrf, server, trace}

	// Debug page: the random path, and the pages already fetched.
	type src struct {
		name string
		f    *fetched
	}
	var pages []src
	if o.notFound != nil {
		pages = append(pages, src{"not-found page " + o.notFound.url.Path, o.notFound})
	}
	if o.https != nil && o.https.final != nil {
		pages = append(pages, src{"home page", o.https.final})
	}
	if o.http != nil && o.http.final != nil {
		pages = append(pages, src{"HTTP page", o.http.final})
	}
	var found []string
	for _, p := range pages {
		if fw := detectDebug(p.f.body); fw != "" {
			found = append(found, fmt.Sprintf("%s on the %s (%d %s)", fw, p.name, p.f.status, p.f.url))
		}
	}
	switch {
	case len(found) > 0:
		debugC.Result = "debug-page-exposed"
		debugC.fail(30, "A framework debug page is exposed: "+found[0]+".", found...)
	case o.notFound == nil:
		debugC.errored("The not-found probe failed.", o.notFoundErr)
	default:
		debugC.Result = "debug-page-not-exposed"
		debugC.pass(fmt.Sprintf("A missing page answers %d without debug details.", o.notFound.status), o.notFound.url.String())
	}

	// Admin and login pages.
	judgePaths := func(c *Check, kind string) {
		var foundPaths, overHTTP []string
		var errs []string
		for _, p := range o.paths {
			if p.kind != kind {
				continue
			}
			if p.https != nil && p.https.failed && p.https.final == nil {
				errs = append(errs, p.https.err.Error())
			}
			if p.found {
				foundPaths = append(foundPaths, p.https.final.url.String())
				if p.servedOverHTTP {
					overHTTP = append(overHTTP, "http://"+o.t.hostPort(o.t.httpPort, 80)+p.path)
				}
			} else if p.servedOverHTTP {
				overHTTP = append(overHTTP, "http://"+o.t.hostPort(o.t.httpPort, 80)+p.path)
			}
		}
		switch {
		case len(overHTTP) > 0:
			c.Result = kind + "-page-over-http"
			c.fail(10, fmt.Sprintf("The %s page is served over plain HTTP.", kind), append(overHTTP, foundPaths...)...)
		case len(foundPaths) > 0:
			c.Result = kind + "-page-https-only"
			c.info(fmt.Sprintf("A%s %s page is reachable, over HTTPS only.", map[bool]string{true: "n", false: ""}[kind == "admin"], kind), foundPaths...)
		case len(errs) > 0 && len(errs) == countKind(o.paths, kind):
			c.errored(fmt.Sprintf("The %s probes failed.", kind), fmt.Errorf("%s", errs[0]))
		default:
			c.Result = kind + "-page-not-found"
			c.pass(fmt.Sprintf("No %s page was found at the usual paths.", kind))
		}
	}
	judgePaths(admin, "admin")
	judgePaths(login, "login")

	// Forms on the pages fetched: password forms posting to http://, and
	// POST forms without a CSRF token.
	var pwForms, insecurePw, postForms, noToken []string
	consider := func(where string, p page) {
		for _, fm := range p.forms {
			desc := fmt.Sprintf("%s: <form method=%s action=%q>", where, fm.method, fm.action)
			if fm.hasPassword {
				pwForms = append(pwForms, desc)
				if isInsecureURL(fm.action) {
					insecurePw = append(insecurePw, desc)
				}
			}
			if fm.method == "post" {
				postForms = append(postForms, desc)
				if !slices.ContainsFunc(fm.hidden, csrfFieldRE.MatchString) {
					noToken = append(noToken, desc)
				}
			}
		}
	}
	if _, p := o.mainPage(); p != nil {
		consider("home page", *p)
	}
	for _, p := range o.paths {
		if p.found {
			consider(p.path, p.page)
		}
	}
	switch {
	case len(insecurePw) > 0:
		loginPost.Result = "login-form-insecure-action"
		loginPost.fail(20, "A login form sends the password to http://.", insecurePw...)
	case len(pwForms) == 0:
		loginPost.skip("No login form was found.")
	default:
		loginPost.Result = "login-form-secure-action"
		loginPost.pass("Login forms post over HTTPS.", pwForms...)
	}
	switch {
	case len(noToken) > 0:
		csrf.Result = "csrf-token-missing"
		csrf.warn(5, fmt.Sprintf("%d POST form(s) carry no anti-CSRF token field.", len(noToken)), noToken...)
	case len(postForms) == 0:
		csrf.skip("No POST forms were found.")
	default:
		csrf.Result = "csrf-token-present"
		csrf.pass("POST forms carry an anti-CSRF token.", postForms...)
	}

	// Version disclosure, on every response seen from the site.
	var disclosed []string
	seen := map[string]bool{}
	look := func(f *fetched) {
		if f == nil {
			return
		}
		for _, h := range []string{"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Generator"} {
			for _, v := range f.header.Values(h) {
				line := h + ": " + v
				if seen[line] {
					continue
				}
				if h == "Server" && !versionRE.MatchString(v) {
					continue
				}
				seen[line] = true
				disclosed = append(disclosed, line)
			}
		}
	}
	if o.https != nil {
		for _, h := range o.https.hops {
			look(h)
		}
	}
	if o.http != nil {
		for _, h := range o.http.hops {
			look(h)
		}
	}
	look(o.notFound)
	if len(disclosed) > 0 {
		server.Result = "server-version-disclosed"
		server.warn(2, "Response headers disclose the server software: "+disclosed[0]+".", disclosed...)
	} else if o.https == nil && o.http == nil {
		server.skip("No response was received.")
	} else {
		server.Result = "server-version-hidden"
		server.pass("No software version is disclosed in response headers.")
	}

	switch {
	case o.trace == nil:
		trace.errored("The TRACE probe failed.", o.traceErr)
	case o.trace.status == http.StatusOK && strings.HasPrefix(strings.ToLower(o.trace.header.Get("Content-Type")), "message/http"):
		trace.Result = "trace-echoed"
		trace.fail(10, "The server echoes TRACE requests (cross-site tracing).", fmt.Sprintf("%d %s", o.trace.status, o.trace.header.Get("Content-Type")))
	default:
		trace.Result = "trace-not-echoed"
		trace.pass(fmt.Sprintf("TRACE is not echoed (status %d).", o.trace.status))
	}
	return all
}

func countKind(ps []pathProbe, kind string) int {
	n := 0
	for _, p := range ps {
		if p.kind == kind {
			n++
		}
	}
	return n
}

// sentence ends s with exactly one full stop.
func sentence(s string) string {
	return strings.TrimRight(s, ". ") + "."
}

// isIPHost reports whether host is an IP literal.
func isIPHost(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
