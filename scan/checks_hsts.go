package scan

import (
	"fmt"
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
	// The header that counts is on the final HTTPS response, as the
	// Observatory and browsers read it.
	resp := o.https.final
	vals := resp.header.Values("Strict-Transport-Security")
	if len(vals) == 0 {
		present.fail(20, "The HTTPS response has no Strict-Transport-Security header.", resp.url.String())
		for _, c := range []*Check{syntax, maxAge, subs, pre} {
			c.skip("No HSTS header.")
		}
		return all
	}
	present.pass("Strict-Transport-Security is set.", vals...)
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
