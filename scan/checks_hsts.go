package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

var hstsChecks = []CheckSpec{
	{
		ID: "HGS-HSTS-001", Title: "HSTS header present", Category: CategoryHSTS,
		Description: "The HTTPS response carries Strict-Transport-Security. Browsers ignore the header over plain HTTP, so when the HTTPS chain ends on `http://` (or stops at a redirect there) the HTTPS responses before the downgrade are judged instead, and the evidence names the downgrade and any header the plain-HTTP page sent in vain: `hsts-implemented-before-downgrade` when one of them set it (HSTS-002…005 then read that header), `hsts-not-implemented` (a fail) when none did. With `--scoring observatory` the result is the Observatory's HSTS result, which reads the final response whatever its scheme.",
		Fix:         "Send Strict-Transport-Security: max-age=63072000; includeSubDomains on every HTTPS response.",
		Refs:        []string{mdnGuides + "TLS#http_strict_transport_security_implementation"},
		Observatory: observatory.TestHSTS,
		Outcomes: []Outcome{
			{Result: "hsts-implemented", Status: StatusPass},
			{Result: "hsts-implemented-before-downgrade", Status: StatusPass},
			{Result: "hsts-not-implemented", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			h, v, ok := o.hstsHeader()
			if !ok {
				return v
			}
			if len(h.values) == 0 {
				msg := "The HTTPS response has no Strict-Transport-Security header."
				if h.down != "" {
					msg = "No HTTPS response carries Strict-Transport-Security: the chain is downgraded to http://, where browsers ignore the header."
				}
				return decided("hsts-not-implemented", msg, append([]string{h.resp.url.String()}, h.downEv...)...)
			}
			if h.down != "" {
				return decided("hsts-implemented-before-downgrade", "Strict-Transport-Security is set on "+h.resp.url.String()+", an HTTPS response before the chain is downgraded to http:// (HGS-RED-003); browsers record it there.",
					append(slices.Clone(h.values), h.downEv...)...)
			}
			return decided("hsts-implemented", "Strict-Transport-Security is set.", h.values...)
		},
	},
	{
		ID: "HGS-HSTS-002", Title: "HSTS syntax", Category: CategoryHSTS,
		Description: "The header parses with hstspreload's rules: one header, a numeric max-age, no repeated or unknown directives. Fails when max-age is missing or unparseable, or when max-age or includeSubDomains is repeated (browsers then ignore the header); warns on other syntax issues, among them a quoted max-age or spaces around its equals sign, which browsers accept and hstspreload does not.",
		Fix:         "Send a single header of the form max-age=SECONDS; includeSubDomains; preload.",
		Outcomes: []Outcome{
			{Result: "hsts-header-valid", Status: StatusPass},
			{Result: "hsts-header-syntax-warnings", Status: StatusWarn, Impact: -2},
			{Result: "hsts-header-invalid", Status: StatusFail, Impact: -10},
		},
		decide: func(o *observations) verdict {
			h, v, ok := o.hstsPresent()
			if !ok {
				return v
			}
			switch {
			case h.lenient && !h.repeated:
				return decided("hsts-header-syntax-warnings", "The HSTS header's max-age is valid for browsers but not for the preload list: "+h.issues.Errors[0].Message, h.issues.Codes()...)
			case len(h.issues.Errors) > 0 || !h.parsed.HasMaxAge || h.repeated:
				msgs := h.issues.Codes()
				if !h.parsed.HasMaxAge && len(h.issues.Errors) == 0 {
					msgs = append(msgs, "header.preloadable.max_age.missing")
				}
				return decided("hsts-header-invalid", "The HSTS header is invalid; browsers ignore it.", msgs...)
			case len(h.issues.Warnings) > 0:
				return decided("hsts-header-syntax-warnings", "The HSTS header has syntax issues: "+h.issues.Warnings[0].Message, h.issues.Codes()...)
			}
			return decided("hsts-header-valid", "The HSTS header is well-formed.")
		},
	},
	{
		ID: "HGS-HSTS-003", Title: "HSTS max-age at least six months", Category: CategoryHSTS,
		Description: "max-age is at least 15768000 seconds (the Observatory's threshold).",
		Fix:         "Raise max-age to at least one year (31536000); two years (63072000) is usual.",
		Outcomes: []Outcome{
			{Result: "hsts-max-age-at-least-six-months", Status: StatusPass},
			{Result: "hsts-max-age-less-than-six-months", Status: StatusFail, Impact: -10},
			{Result: "hsts-max-age-missing", Status: StatusFail, Impact: -10},
		},
		decide: func(o *observations) verdict {
			h, v, ok := o.hstsPresent()
			if !ok {
				return v
			}
			switch p := h.parsed; {
			case !p.HasMaxAge:
				return decided("hsts-max-age-missing", "The HSTS header has no valid max-age.")
			case p.MaxAge < sixMonths:
				return decided("hsts-max-age-less-than-six-months", fmt.Sprintf("max-age=%d is under six months (%d seconds).", p.MaxAge, sixMonths), fmt.Sprintf("max-age=%d", p.MaxAge))
			default:
				return decided("hsts-max-age-at-least-six-months", fmt.Sprintf("max-age=%d is at least six months.", p.MaxAge), fmt.Sprintf("max-age=%d", p.MaxAge))
			}
		},
	},
	{
		ID: "HGS-HSTS-004", Title: "HSTS includeSubDomains", Category: CategoryHSTS,
		Description: "The header covers subdomains, so a cookie cannot be stolen through a forgotten http:// subdomain.",
		Fix:         "Add includeSubDomains once every subdomain serves HTTPS.",
		Outcomes: []Outcome{
			{Result: "hsts-include-subdomains", Status: StatusPass},
			{Result: "hsts-no-include-subdomains", Status: StatusWarn, Impact: -2},
		},
		decide: func(o *observations) verdict {
			h, v, ok := o.hstsPresent()
			if !ok {
				return v
			}
			if h.parsed.IncludeSubDomains {
				return decided("hsts-include-subdomains", "includeSubDomains is set.")
			}
			return decided("hsts-no-include-subdomains", "includeSubDomains is not set.")
		},
	},
	{
		ID: "HGS-HSTS-005", Title: "HSTS preload directive", Category: CategoryHSTS,
		Description: "The header carries the preload directive (an informational note when it does not).",
		Fix:         "Add preload once the domain meets the preload requirements and you want it in browsers' built-in lists.",
		Outcomes: []Outcome{
			{Result: "hsts-preload-directive", Status: StatusPass},
			{Result: "hsts-no-preload-directive", Status: StatusInfo},
		},
		decide: func(o *observations) verdict {
			h, v, ok := o.hstsPresent()
			if !ok {
				return v
			}
			if h.parsed.Preload {
				return decided("hsts-preload-directive", "The preload directive is set.")
			}
			return decided("hsts-no-preload-directive", "The preload directive is not set.")
		},
	},
	{
		ID: "HGS-HSTS-006", Title: "HSTS preload eligibility", Category: CategoryHSTS,
		Description: "The site meets every requirement of chromium's hstspreload (header, redirects, domain, TLS); the evidence lists hstspreload's issue codes.",
		Fix:         "Fix the listed issues, then submit the domain at hstspreload.org.",
		Refs:        []string{"https://hstspreload.org/"},
		Outcomes: []Outcome{
			{Result: "hsts-preload-eligible", Status: StatusPass},
			{Result: "hsts-preload-not-eligible", Status: StatusInfo},
		},
		decide: func(o *observations) verdict {
			if o.https == nil || len(o.https.hops) == 0 {
				return o.noHTTPSPage()
			}
			if e := asError(o.wwwErr); e != nil && e.Kind == KindTimeout {
				return errored("The probe of the www subdomain got no answer.", e)
			}
			issues := o.preloadIssues()
			if len(issues.Errors) == 0 {
				return decided("hsts-preload-eligible", "The site meets every HSTS preload requirement.", issues.Codes()...)
			}
			return decided("hsts-preload-not-eligible", fmt.Sprintf("The site is not eligible for the HSTS preload list (%d issue(s)); first: %s", len(issues.Errors), sentence(issues.Errors[0].Message)), issues.Codes()...)
		},
	},
}

// hstsView is the Strict-Transport-Security header HGS-HSTS-001…005 judge.
type hstsView struct {
	// resp is the response whose header counts: the final one, as the
	// Observatory reads it, as long as it came over HTTPS. Browsers
	// honour Strict-Transport-Security only on a response received over
	// a secure transport (RFC 6797 §8.1), redirects included, and ignore
	// it over plain HTTP (§8.1, §7.2). So when the chain was downgraded
	// to http://, the HTTPS responses before it are judged (lastHTTPS),
	// whatever the plain-HTTP page says, and the verdict names the
	// downgrade. (In this case the Observatory reads the http:// page's
	// header; --scoring observatory keeps its result.)
	resp   *fetched
	values []string
	down   string   // the downgrading hop, "" for none
	downEv []string // evidence about the downgrade
	parsed HSTS
	issues Issues
	// repeated: max-age or includeSubDomains is repeated. hstspreload
	// only warns, but RFC 6797 §6.1 allows each directive once, and
	// browsers (Chrome, Firefox) ignore a header that repeats one.
	repeated bool
	// lenient: max-age is quoted or has spaces around "=", valid for
	// browsers though hstspreload rejects it (HGS-HSTS-006 still says
	// so); only a syntax warning, and the max-age counts.
	lenient bool
}

// hstsHeader reads the header HGS-HSTS-001…005 judge, once; when there is
// no HTTPS page, v is the verdict for them.
func (o *observations) hstsHeader() (h *hstsView, v verdict, ok bool) {
	// The HTTPS responses must have been seen to the end of the chain, or
	// to a redirect to plain HTTP, where what follows cannot count.
	if err := o.pageError(); err != nil && (o.https == nil || len(o.https.hops) == 0 || endsDowngraded(o.https) == "") {
		return nil, errored("The HTTPS page could not be fetched.", err), false
	}
	if o.hsts != nil {
		return o.hsts, verdict{}, true
	}
	h = &hstsView{resp: o.https.final}
	if h.down = endsDowngraded(o.https); h.down != "" {
		h.resp = lastHTTPS(o.https)
		h.downEv = []string{"the HTTPS chain is downgraded: " + h.down}
		if f := o.https.final; f.url.Scheme == "http" && len(f.header.Values("Strict-Transport-Security")) > 0 {
			h.downEv = append(h.downEv, "ignored, sent over plain HTTP by "+f.url.String()+": "+f.header.Get("Strict-Transport-Security"))
		}
	}
	h.values = h.resp.header.Values("Strict-Transport-Security")
	if len(h.values) > 0 {
		h.parsed, h.issues = ParseHSTS(h.values[0])
		if len(h.values) > 1 {
			h.issues.Errors = append(h.issues.Errors, Issue{Code: "response.multiple_headers", Summary: "Multiple HSTS headers",
				Message: fmt.Sprintf("Multiple HSTS headers (number of HSTS headers: %d).", len(h.values))})
		}
		h.repeated = hasCode(h.issues.Warnings, "header.parse.repeated.max_age") || hasCode(h.issues.Warnings, "header.parse.repeated.include_sub_domains")
		if !h.parsed.HasMaxAge && len(h.values) == 1 && len(h.issues.Errors) > 0 {
			if secs, ok := browserMaxAge(h.values[0]); ok {
				h.parsed.MaxAge, h.parsed.HasMaxAge, h.lenient = secs, true, true
			}
		}
	}
	o.hsts = h
	return h, verdict{}, true
}

// hstsPresent is hstsHeader for the checks that judge the header's
// content: without a header, they do not apply.
func (o *observations) hstsPresent() (*hstsView, verdict, bool) {
	h, v, ok := o.hstsHeader()
	if ok && len(h.values) == 0 {
		return nil, skip("No HSTS header."), false
	}
	return h, v, ok
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
