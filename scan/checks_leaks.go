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

var leakChecks = []CheckSpec{
	{
		ID: "HGS-LEAK-001", Title: "No debug error page", Category: CategoryLeaks,
		Description: "A path that does not exist must not show a framework's debug page: Django technical 404/500 (DEBUG = True), Rails, Laravel Ignition/Whoops, Laravel's own exception page (Laravel 11+), Werkzeug debugger, Express/Node or PHP stack traces. Pages are recognised by markup only their templates write (Ignition's `<script>` that starts with `window.ignite(`, Whoops's `<div class=\"Whoops container\">` or its title as the whole `<title>`, the Laravel page's `<style>` that marks each stack frame's line, `#frame-0 .hljs-ln-line[data-line-number='83']`, or, in Laravel 12's redesign, its `LARAVEL` and `PHP` version badges), so a blog post or a page of code samples naming these packages is not a debug page. Laravel answers a missing path with its plain 404 page even with `APP_DEBUG=true`, so its exception page shows there only when every request fails (a missing `APP_KEY`, a database that is down); the home page and the HTTP page are checked too.",
		Fix:         "Turn off debug mode in production (Django: DEBUG = False; Rails: consider_all_requests_local = false; Laravel: APP_DEBUG=false; Flask: debug off; Express: NODE_ENV=production).",
		Outcomes: []Outcome{
			{Result: "debug-page-not-exposed", Status: StatusPass},
			{Result: "debug-page-exposed", Status: StatusFail, Impact: -30},
		},
		decide: func(o *observations) verdict {
			// The random path, and the pages already fetched.
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
				return decided("debug-page-exposed", "A framework debug page is exposed: "+found[0]+".", found...)
			case o.notFound == nil:
				return errored("The not-found probe failed.", o.notFoundErr)
			case o.pageError() != nil:
				return errored("The HTTPS page could not be fetched.", o.pageError())
			}
			if ended, err := o.chainEnded(o.http); !ended {
				return errored("The HTTP page could not be fetched.", err)
			}
			return decided("debug-page-not-exposed", fmt.Sprintf("A missing page answers %d without debug details.", o.notFound.status), o.notFound.url.String())
		},
	},
	pathCheck("HGS-LEAK-002", "admin", "Admin page only over HTTPS",
		"An admin login (Django /admin/: id_username and csrfmiddlewaretoken) found over HTTPS must not also be served over plain HTTP. Noted when found HTTPS-only.",
		"Redirect every http:// request to HTTPS, and consider moving or IP-restricting the admin."),
	pathCheck("HGS-LEAK-003", "login", "Login page only over HTTPS",
		"A login page (/login, /accounts/login/, with a password field) must not be served over plain HTTP.",
		"Redirect every http:// request to HTTPS."),
	{
		ID: "HGS-LEAK-004", Title: "Login forms post over HTTPS", Category: CategoryLeaks,
		Description: "No form with a password field (on the home, admin or login pages) posts to http://.",
		Fix:         "Make login form actions relative or https://.",
		Outcomes: []Outcome{
			{Result: "login-form-secure-action", Status: StatusPass},
			{Result: "login-form-insecure-action", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			f := o.formView()
			switch {
			case len(f.insecurePw) > 0:
				return decided("login-form-insecure-action", "A login form sends the password to http://.", f.insecurePw...)
			case f.missing != nil:
				return errored("Not every page that could hold a login form was received.", f.missing)
			case len(f.pwForms) == 0:
				return skip("No login form was found.")
			}
			return decided("login-form-secure-action", "Login forms post over HTTPS.", f.pwForms...)
		},
	},
	{
		ID: "HGS-LEAK-005", Title: "CSRF token in forms", Category: CategoryLeaks,
		Description: "POST forms found carry a hidden anti-CSRF token field (csrfmiddlewaretoken, authenticity_token, _token, csrf…).",
		Fix:         "Enable your framework's CSRF protection and render its token in every POST form.",
		Outcomes: []Outcome{
			{Result: "csrf-token-present", Status: StatusPass},
			{Result: "csrf-token-missing", Status: StatusWarn, Impact: -5},
		},
		decide: func(o *observations) verdict {
			f := o.formView()
			switch {
			case len(f.noToken) > 0:
				return decided("csrf-token-missing", fmt.Sprintf("%d POST form(s) carry no anti-CSRF token field.", len(f.noToken)), f.noToken...)
			case f.missing != nil:
				return errored("Not every page that could hold a form was received.", f.missing)
			case len(f.postForms) == 0:
				return skip("No POST forms were found.")
			}
			return decided("csrf-token-present", "POST forms carry an anti-CSRF token.", f.postForms...)
		},
	},
	{
		ID: "HGS-LEAK-006", Title: "No server version disclosed", Category: CategoryLeaks,
		Description: "Server, X-Powered-By, X-AspNet-Version and X-Generator must not disclose software versions.",
		Fix:         "Remove version numbers from Server and drop X-Powered-By (Express: app.disable('x-powered-by'); nginx: server_tokens off).",
		Outcomes: []Outcome{
			{Result: "server-version-hidden", Status: StatusPass},
			{Result: "server-version-disclosed", Status: StatusWarn, Impact: -2},
		},
		decide: func(o *observations) verdict {
			// Every response seen from the site.
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
			for _, c := range []*chain{o.https, o.http} {
				if c != nil {
					for _, h := range c.hops {
						look(h)
					}
				}
			}
			look(o.notFound)
			if len(disclosed) > 0 {
				return decided("server-version-disclosed", "Response headers disclose the server software: "+disclosed[0]+".", disclosed...)
			}
			for _, c := range []*chain{o.https, o.http} {
				if ended, err := o.chainEnded(c); !ended {
					return errored("Not every response was received.", err)
				}
			}
			if o.notFound == nil {
				return errored("The not-found probe failed.", o.notFoundErr)
			}
			return decided("server-version-hidden", "No software version is disclosed in response headers.")
		},
	},
	{
		ID: "HGS-LEAK-007", Title: "TRACE disabled", Category: CategoryLeaks,
		Description: "The server does not echo a TRACE request (Content-Type: message/http), which can leak cookies and auth headers (cross-site tracing).",
		Fix:         "Reject the TRACE method (Apache: TraceEnable off).",
		Outcomes: []Outcome{
			{Result: "trace-not-echoed", Status: StatusPass},
			{Result: "trace-echoed", Status: StatusFail, Impact: -10},
		},
		decide: func(o *observations) verdict {
			switch {
			case o.trace == nil:
				return errored("The TRACE probe failed.", o.traceErr)
			case o.trace.status == http.StatusOK && strings.HasPrefix(strings.ToLower(o.trace.header.Get("Content-Type")), "message/http"):
				return decided("trace-echoed", "The server echoes TRACE requests (cross-site tracing).", fmt.Sprintf("%d %s", o.trace.status, o.trace.header.Get("Content-Type")))
			}
			return decided("trace-not-echoed", fmt.Sprintf("TRACE is not echoed (status %d).", o.trace.status))
		},
	},
}

// pathCheck declares the check of the admin or login pages (kind).
func pathCheck(id, kind, title, description, fix string) CheckSpec {
	article := "A"
	if kind == "admin" {
		article = "An"
	}
	return CheckSpec{
		ID: id, Title: title, Category: CategoryLeaks, Description: description, Fix: fix,
		Outcomes: []Outcome{
			{Result: kind + "-page-not-found", Status: StatusPass},
			{Result: kind + "-page-https-only", Status: StatusInfo},
			{Result: kind + "-page-over-http", Status: StatusFail, Impact: -10},
		},
		decide: func(o *observations) verdict {
			var foundPaths, overHTTP []string
			var missing error
			for _, p := range o.paths {
				if p.kind != kind {
					continue
				}
				if err := p.missing(); err != nil && missing == nil {
					missing = err
				}
				if p.found {
					foundPaths = append(foundPaths, p.https.final.url.String())
				}
				if p.servedOverHTTP {
					overHTTP = append(overHTTP, "http://"+o.t.hostPort(o.t.httpPort, 80)+p.path)
				}
			}
			switch {
			case len(overHTTP) > 0:
				return decided(kind+"-page-over-http", fmt.Sprintf("The %s page is served over plain HTTP.", kind), append(overHTTP, foundPaths...)...)
			case len(foundPaths) > 0:
				return decided(kind+"-page-https-only", fmt.Sprintf("%s %s page is reachable, over HTTPS only.", article, kind), foundPaths...)
			case missing != nil:
				return errored(fmt.Sprintf("The %s page probes got no answer.", kind), missing)
			}
			return decided(kind+"-page-not-found", fmt.Sprintf("No %s page was found at the usual paths.", kind))
		},
	}
}

// formView is every form on the pages fetched: password forms, those
// posting to http://, POST forms and those without a CSRF token.
type formView struct {
	pwForms, insecurePw, postForms, noToken []string
	// missing says why a page that could hold forms was not received.
	missing error
}

// missing says why the probe of an admin or login path did not observe
// the path over both schemes; nil when it did (a refused HTTP port is an
// answer: nothing is served there).
func (p *pathProbe) missing() error {
	if p.https == nil {
		return &Error{Kind: KindInternal, Message: "the " + p.path + " probe did not run", Fix: fixInternal}
	}
	if p.https.failed {
		return p.https.err
	}
	if e := asError(p.httpErr); e != nil && e.Kind != KindRefused {
		return e
	}
	return nil
}

// formView gathers the forms of the home page and the admin and login
// pages found, once.
func (o *observations) formView() *formView {
	if o.forms != nil {
		return o.forms
	}
	f := &formView{}
	consider := func(where string, p page) {
		for _, fm := range p.forms {
			desc := fmt.Sprintf("%s: <form method=%s action=%q>", where, fm.method, fm.action)
			if fm.hasPassword {
				f.pwForms = append(f.pwForms, desc)
				if isInsecureURL(fm.action) {
					f.insecurePw = append(f.insecurePw, desc)
				}
			}
			if fm.method == "post" {
				f.postForms = append(f.postForms, desc)
				if !slices.ContainsFunc(fm.hidden, csrfFieldRE.MatchString) {
					f.noToken = append(f.noToken, desc)
				}
			}
		}
	}
	if _, p := o.mainPage(); p != nil {
		consider("home page", *p)
	}
	if pf, v, ok := o.httpsPage(); !ok && v.errored {
		f.missing = v.err
	} else if ok && pf.bodyErr != nil {
		f.missing = pf.bodyErr
	}
	for _, p := range o.paths {
		if p.found {
			consider(p.path, p.page)
		}
		// Forms count on HTTPS pages only: the HTTP probe does not matter.
		if p.https == nil || p.https.failed {
			if err := p.missing(); err != nil && f.missing == nil {
				f.missing = err
			}
		}
	}
	o.forms = f
	return f
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
