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

var contentChecks = []CheckSpec{
	{
		ID: "HGS-CNT-001", Title: "No mixed content", Category: CategoryContent,
		Description: "The HTTPS page loads no http:// subresource. Fails on active content (scripts, styles, frames, objects), warns on passive content (images, media).",
		Fix:         "Load every subresource over https:// (or add CSP upgrade-insecure-requests while fixing the links).",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/Security/Mixed_content"},
		Outcomes: []Outcome{
			{Result: "mixed-content-none", Status: StatusPass},
			{Result: "mixed-content-passive", Status: StatusWarn, Impact: -5},
			{Result: "mixed-content-active", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			p, v, ok := o.htmlPage()
			if !ok {
				return v
			}
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
				v = decided("mixed-content-active", fmt.Sprintf("The page loads %d active resource(s) over http://, which browsers block.", len(active)), append(active, passive...)...)
			case len(passive) > 0:
				v = decided("mixed-content-passive", fmt.Sprintf("The page loads %d image or media resource(s) over http://.", len(passive)), passive...)
			default:
				v = decided("mixed-content-none", fmt.Sprintf("All %d subresources load over HTTPS.", len(p.subresources)))
			}
			return o.truncationNoted(v)
		},
	},
	{
		ID: "HGS-CNT-002", Title: "Forms submit over HTTPS", Category: CategoryContent,
		Description: "No form on the HTTPS page has an http:// action.",
		Fix:         "Make every form action relative or https://.",
		Outcomes: []Outcome{
			{Result: "form-actions-secure", Status: StatusPass},
			{Result: "form-action-insecure", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			p, v, ok := o.htmlPage()
			if !ok {
				return v
			}
			var insecureForms []string
			for _, fm := range p.forms {
				if isInsecureURL(fm.action) {
					insecureForms = append(insecureForms, fmt.Sprintf("<form method=%s action=%q>", fm.method, fm.action))
				}
			}
			switch {
			case len(insecureForms) > 0:
				v = decided("form-action-insecure", "A form on the HTTPS page submits to http://.", insecureForms...)
			case len(p.forms) == 0:
				v = skip("The page has no forms.")
			default:
				v = decided("form-actions-secure", fmt.Sprintf("All %d forms submit over HTTPS.", len(p.forms)))
			}
			return o.truncationNoted(v)
		},
	},
	{
		ID: "HGS-CNT-003", Title: "<meta http-equiv> policies", Category: CategoryContent,
		Description: "Lists `<meta http-equiv>` policies; warns on ones browsers ignore in `<meta>` (Strict-Transport-Security, X-Frame-Options, X-Content-Type-Options, Set-Cookie), which give a false sense of protection.",
		Fix:         "Send these policies as HTTP response headers instead.",
		Outcomes: []Outcome{
			{Result: "meta-http-equiv-none", Status: StatusPass},
			{Result: "meta-http-equiv-effective", Status: StatusPass},
			{Result: "meta-http-equiv-ignored", Status: StatusWarn, Impact: -2},
		},
		decide: func(o *observations) verdict {
			p, v, ok := o.htmlPage()
			if !ok {
				return v
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
				v = decided("meta-http-equiv-ignored", "The page sets "+strings.Join(ignored, ", ")+" in <meta http-equiv>, where browsers ignore it.", seen...)
			case len(seen) > 0:
				v = decided("meta-http-equiv-effective", "The page's <meta http-equiv> policies are ones browsers apply.", seen...)
			default:
				v = decided("meta-http-equiv-none", "The page has no <meta http-equiv> policies.")
			}
			return o.truncationNoted(v)
		},
	},
}

// htmlPage returns the parsed HTTPS page; when there is none to judge (no
// page, not HTML, a body that did not arrive whole), v is the verdict of a
// check that reads it.
func (o *observations) htmlPage() (p *page, v verdict, ok bool) {
	if _, v, ok := o.httpsPage(); !ok {
		return nil, v, false
	}
	f, p := o.mainPage()
	switch {
	case p == nil:
		return nil, skip("The HTTPS page is not HTML.", f.header.Get("Content-Type")), false
	case f.bodyErr != nil:
		// Part of the page is missing: "nothing insecure found" would
		// not be a verdict.
		return nil, errored("The page body could not be read completely.", f.bodyErr), false
	}
	return p, verdict{}, true
}

// truncationNoted adds to v that only part of a long page was read.
func (o *observations) truncationNoted(v verdict) verdict {
	if f := o.https.final; f.truncated {
		v.evidence = append(v.evidence, fmt.Sprintf("only the first %d bytes of the page were read", len(f.body)))
	}
	return v
}
