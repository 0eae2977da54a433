package scan

import (
	"fmt"
	"slices"
	"strings"
)

func checkHSTS(o *observations, ob obFunc) []*Check {
	present := newCheck("HGS-HSTS-001")
	syntax := newCheck("HGS-HSTS-002")
	maxAge := newCheck("HGS-HSTS-003")
	subs := newCheck("HGS-HSTS-004")
	pre := newCheck("HGS-HSTS-005")
	elig := newCheck("HGS-HSTS-006")
	all := []*Check{present, syntax, maxAge, subs, pre, elig}
	if t, err := ob("strict-transport-security"); err == nil {
		present.Result = t.Result
	}
	elig.Evidence = nil
	issues := o.preloadIssues()
	if len(issues.Errors) == 0 {
		elig.Result = "hsts-preload-eligible"
		elig.pass("The site meets every HSTS preload requirement.", issues.Codes()...)
	} else {
		elig.Result = "hsts-preload-not-eligible"
		elig.info(fmt.Sprintf("The site is not eligible for the HSTS preload list (%d issue(s)); first: %s", len(issues.Errors), sentence(issues.Errors[0].Message)), issues.Codes()...)
	}

	if o.https == nil || len(o.https.hops) == 0 {
		for _, c := range all[:5] {
			c.noHTTPSPage(o)
		}
		return all
	}
	// The header that counts is on the final response, as the Observatory
	// reads it, as long as that response came over HTTPS. Browsers honour
	// Strict-Transport-Security only on a response received over a secure
	// transport (RFC 6797 §8.1), redirects included, and ignore it over
	// plain HTTP (§8.1, §7.2). So when the chain was downgraded to
	// http://, the HTTPS responses before it are judged (lastHTTPS),
	// whatever the plain-HTTP page says, and the verdict names the
	// downgrade. (In this case the
	// Observatory reads the http:// page's header; --scoring observatory
	// keeps its result.)
	resp := o.https.final
	down := endsDowngraded(o.https)
	var downEv []string
	if down != "" {
		resp = lastHTTPS(o.https)
		downEv = []string{"the HTTPS chain is downgraded: " + down}
		if f := o.https.final; f.url.Scheme == "http" && len(f.header.Values("Strict-Transport-Security")) > 0 {
			downEv = append(downEv, "ignored, sent over plain HTTP by "+f.url.String()+": "+f.header.Get("Strict-Transport-Security"))
		}
	}
	vals := resp.header.Values("Strict-Transport-Security")
	if len(vals) == 0 {
		msg := "The HTTPS response has no Strict-Transport-Security header."
		if down != "" {
			present.Result = "hsts-not-implemented"
			msg = "No HTTPS response carries Strict-Transport-Security: the chain is downgraded to http://, where browsers ignore the header."
		}
		present.fail(20, msg, append([]string{resp.url.String()}, downEv...)...).fallbackResult("hsts-not-implemented")
		for _, c := range []*Check{syntax, maxAge, subs, pre} {
			c.skip("No HSTS header.")
		}
		return all
	}
	if down != "" {
		present.Result = "hsts-implemented-before-downgrade"
		present.pass("Strict-Transport-Security is set on "+resp.url.String()+", an HTTPS response before the chain is downgraded to http:// (HGS-RED-003); browsers record it there.",
			append(slices.Clone(vals), downEv...)...)
	} else {
		present.pass("Strict-Transport-Security is set.", vals...).fallbackResult("hsts-implemented")
	}
	h, is := ParseHSTS(vals[0])
	if len(vals) > 1 {
		is.Errors = append(is.Errors, Issue{Code: "response.multiple_headers", Summary: "Multiple HSTS headers",
			Message: fmt.Sprintf("Multiple HSTS headers (number of HSTS headers: %d).", len(vals))})
	}
	// hstspreload only warns about a repeated max-age or includeSubDomains,
	// but RFC 6797 §6.1 allows each directive once, and browsers (Chrome,
	// Firefox) ignore a header that repeats one.
	repeated := hasCode(is.Warnings, "header.parse.repeated.max_age") || hasCode(is.Warnings, "header.parse.repeated.include_sub_domains")
	// A quoted max-age, or one with spaces around "=", is valid for
	// browsers though hstspreload rejects it (HGS-HSTS-006 still says so):
	// only a syntax warning here, and the max-age counts.
	lenient := false
	if !h.HasMaxAge && len(vals) == 1 && len(is.Errors) > 0 {
		if secs, ok := browserMaxAge(vals[0]); ok {
			h.MaxAge, h.HasMaxAge, lenient = secs, true, true
		}
	}
	switch {
	case lenient && !repeated:
		syntax.Result = "hsts-header-syntax-warnings"
		syntax.warn(2, "The HSTS header's max-age is valid for browsers but not for the preload list: "+is.Errors[0].Message, is.Codes()...)
	case len(is.Errors) > 0 || !h.HasMaxAge || repeated:
		msgs := is.Codes()
		if !h.HasMaxAge && len(is.Errors) == 0 {
			msgs = append(msgs, "header.preloadable.max_age.missing")
		}
		syntax.Result = "hsts-header-invalid"
		syntax.fail(10, "The HSTS header is invalid; browsers ignore it.", msgs...)
	case len(is.Warnings) > 0:
		syntax.Result = "hsts-header-syntax-warnings"
		syntax.warn(2, "The HSTS header has syntax issues: "+is.Warnings[0].Message, is.Codes()...)
	default:
		syntax.Result = "hsts-header-valid"
		syntax.pass("The HSTS header is well-formed.")
	}
	if !h.HasMaxAge {
		maxAge.Result = "hsts-max-age-missing"
		maxAge.fail(10, "The HSTS header has no valid max-age.")
	} else if h.MaxAge < sixMonths {
		maxAge.Result = "hsts-max-age-less-than-six-months"
		maxAge.fail(10, fmt.Sprintf("max-age=%d is under six months (%d seconds).", h.MaxAge, sixMonths), fmt.Sprintf("max-age=%d", h.MaxAge))
	} else {
		maxAge.Result = "hsts-max-age-at-least-six-months"
		maxAge.pass(fmt.Sprintf("max-age=%d is at least six months.", h.MaxAge), fmt.Sprintf("max-age=%d", h.MaxAge))
	}
	if h.IncludeSubDomains {
		subs.Result = "hsts-include-subdomains"
		subs.pass("includeSubDomains is set.")
	} else {
		subs.Result = "hsts-no-include-subdomains"
		subs.warn(2, "includeSubDomains is not set.")
	}
	if h.Preload {
		pre.Result = "hsts-preload-directive"
		pre.pass("The preload directive is set.")
	} else {
		pre.Result = "hsts-no-preload-directive"
		pre.info("The preload directive is not set.")
	}
	return all
}

// endsDowngraded describes the first hop of c that goes from https:// to
// http:// ("from → to") when the chain ends on plain HTTP or stops at a
// redirect to http:// that could not be followed; it returns "" when the
// chain ends on HTTPS (a downgrade in the middle leaves the final response
// an HTTPS one, and HGS-RED-003 reports the hop).
func endsDowngraded(c *chain) string {
	n := len(c.hops)
	if n == 0 {
		return ""
	}
	stoppedAtHTTP := c.err != nil && len(c.next) >= 7 && strings.EqualFold(c.next[:7], "http://")
	if c.hops[n-1].url.Scheme == "https" && !stoppedAtHTTP {
		return ""
	}
	for i := 1; i < n; i++ {
		if c.hops[i-1].url.Scheme == "https" && c.hops[i].url.Scheme == "http" {
			return fmt.Sprintf("%s → %s", c.hops[i-1].url, c.hops[i].url)
		}
	}
	if stoppedAtHTTP {
		return fmt.Sprintf("%s → %s", c.hops[n-1].url, c.next)
	}
	return ""
}

// lastHTTPS returns the HTTPS response of c whose HSTS header browsers keep:
// the last one that carries the header (a later HTTPS response without it
// does not undo it), else the last HTTPS response. c starts with one.
func lastHTTPS(c *chain) *fetched {
	var last *fetched
	for i := len(c.hops) - 1; i >= 0; i-- {
		h := c.hops[i]
		if h.url.Scheme != "https" {
			continue
		}
		if len(h.header.Values("Strict-Transport-Security")) > 0 {
			return h
		}
		if last == nil {
			last = h
		}
	}
	if last == nil {
		return c.hops[0]
	}
	return last
}
