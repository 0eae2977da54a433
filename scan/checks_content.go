package scan

import (
	"fmt"
	"strings"
)

// mainPage returns the final HTTPS page, parsed, when it is HTML.
func (o *observations) mainPage() (*fetched, *page) {
	if o.https == nil || o.https.final == nil || o.https.final.url.Scheme != "https" {
		return nil, nil
	}
	f := o.https.final
	if !looksHTML(f) {
		return f, nil
	}
	if o.parsedMain == nil { // parsed once, for the content and leak checks
		p := parsePage(f.body, f.url)
		o.parsedMain = &p
	}
	return f, o.parsedMain
}

func looksHTML(f *fetched) bool {
	ct := strings.ToLower(f.header.Get("Content-Type"))
	if strings.Contains(ct, "html") {
		return true
	}
	if ct == "" {
		return strings.Contains(strings.ToLower(string(f.body[:min(len(f.body), 512)])), "<html")
	}
	return false
}

var ignoredMeta = map[string]string{
	"strict-transport-security": "HSTS",
	"x-frame-options":           "X-Frame-Options",
	"x-content-type-options":    "X-Content-Type-Options",
	"set-cookie":                "Set-Cookie",
}

func checkContent(o *observations) []*Check {
	mixed := newCheck("HGS-CNT-001")
	forms := newCheck("HGS-CNT-002")
	meta := newCheck("HGS-CNT-003")
	all := []*Check{mixed, forms, meta}
	f, p := o.mainPage()
	if f == nil {
		for _, c := range all {
			c.noHTTPSPage(o)
		}
		return all
	}
	if p == nil {
		for _, c := range all {
			c.skip("The HTTPS page is not HTML.", f.header.Get("Content-Type"))
		}
		return all
	}
	if f.bodyErr != nil {
		// Part of the page is missing: "nothing insecure found" would
		// not be a verdict.
		for _, c := range all {
			c.errored("The page body could not be read completely.", f.bodyErr)
		}
		return all
	}
	defer func() {
		if f.truncated {
			for _, c := range all {
				c.Evidence = append(c.Evidence, fmt.Sprintf("only the first %d bytes of the page were read", len(f.body)))
			}
		}
	}()
	var active, passive []string
	for _, r := range p.subresources {
		if isInsecureURL(r.url) {
			line := fmt.Sprintf("<%s %s=%q>", r.tag, r.attr, r.url)
			if r.active {
				active = append(active, line)
			} else {
				passive = append(passive, line)
			}
		}
	}
	switch {
	case len(active) > 0:
		mixed.Result = "mixed-content-active"
		mixed.fail(20, fmt.Sprintf("The page loads %d active resource(s) over http://, which browsers block.", len(active)), append(active, passive...)...)
	case len(passive) > 0:
		mixed.Result = "mixed-content-passive"
		mixed.warn(5, fmt.Sprintf("The page loads %d image or media resource(s) over http://.", len(passive)), passive...)
	default:
		mixed.Result = "mixed-content-none"
		mixed.pass(fmt.Sprintf("All %d subresources load over HTTPS.", len(p.subresources)))
	}
	var insecureForms []string
	for _, fm := range p.forms {
		if isInsecureURL(fm.action) {
			insecureForms = append(insecureForms, fmt.Sprintf("<form method=%s action=%q>", fm.method, fm.action))
		}
	}
	switch {
	case len(insecureForms) > 0:
		forms.Result = "form-action-insecure"
		forms.fail(20, "A form on the HTTPS page submits to http://.", insecureForms...)
	case len(p.forms) == 0:
		forms.skip("The page has no forms.")
	default:
		forms.Result = "form-actions-secure"
		forms.pass(fmt.Sprintf("All %d forms submit over HTTPS.", len(p.forms)))
	}
	var ignored, seen []string
	for _, m := range p.metas {
		seen = append(seen, fmt.Sprintf("%s: %s", m.httpEquiv, m.content))
		if name, ok := ignoredMeta[m.httpEquiv]; ok {
			ignored = append(ignored, name)
		}
	}
	switch {
	case len(ignored) > 0:
		meta.Result = "meta-http-equiv-ignored"
		meta.warn(2, "The page sets "+strings.Join(ignored, ", ")+" in <meta http-equiv>, where browsers ignore it.", seen...)
	case len(seen) > 0:
		meta.Result = "meta-http-equiv-effective"
		meta.pass("The page's <meta http-equiv> policies are ones browsers apply.", seen...)
	default:
		meta.Result = "meta-http-equiv-none"
		meta.pass("The page has no <meta http-equiv> policies.")
	}
	return all
}
