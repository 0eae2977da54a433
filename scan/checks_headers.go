package scan

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

// observatoryCheck declares a check whose verdict is an Observatory test's.
func observatoryCheck(id, title, test, description, fix string, refs ...string) CheckSpec {
	return CheckSpec{
		ID: id, Title: title, Category: CategoryHeaders, Description: description, Fix: fix, Refs: refs,
		Observatory: test,
		decide: func(o *observations) verdict {
			if err := o.pageError(); err != nil {
				return errored("The HTTPS page could not be fetched.", err)
			}
			t, err := o.ob(test)
			if err != nil {
				return errored("The Observatory analysis could not run.", err)
			}
			return fromObservatory(t)
		},
	}
}

var headerChecks = []CheckSpec{
	observatoryCheck("HGS-HDR-001", "Content-Security-Policy", observatory.TestCSP,
		"The Observatory's CSP test: the policy (header or `<meta>`) is parsed and judged for unsafe-inline, unsafe-eval, insecure schemes, missing default-src/object-src and more.",
		"Send a Content-Security-Policy with default-src 'none' or 'self', no 'unsafe-inline' or 'unsafe-eval' in script-src, object-src 'none', frame-ancestors and base-uri.",
		mdnGuides+"CSP"),
	observatoryCheck("HGS-HDR-002", "Framing protection", observatory.TestXFrameOptions,
		"The Observatory's X-Frame-Options test: X-Frame-Options DENY/SAMEORIGIN or CSP frame-ancestors.",
		"Send X-Frame-Options: DENY, or CSP frame-ancestors 'none'.",
		mdnGuides+"Clickjacking"),
	observatoryCheck("HGS-HDR-003", "X-Content-Type-Options", observatory.TestXContentTypeOptions,
		"The Observatory's test: X-Content-Type-Options: nosniff.",
		"Send X-Content-Type-Options: nosniff.",
		mdnGuides+"MIME_types"),
	observatoryCheck("HGS-HDR-004", "Referrer-Policy", observatory.TestReferrerPolicy,
		"The Observatory's test: a Referrer-Policy (header or `<meta name=referrer>`) that does not leak full URLs cross-origin.",
		"Send Referrer-Policy: strict-origin-when-cross-origin (or same-origin / no-referrer).",
		mdnGuides+"Referrer_policy"),
	{
		ID: "HGS-HDR-005", Title: "Cross-Origin-Opener-Policy", Category: CategoryHeaders,
		Description: "Cross-Origin-Opener-Policy isolates the page from windows it opens or that open it. Warns when absent or unsafe-none, fails on an invalid value.",
		Fix:         "Send Cross-Origin-Opener-Policy: same-origin (same-origin-allow-popups if you rely on OAuth pop-ups).",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Cross-Origin-Opener-Policy"},
		Outcomes: []Outcome{
			{Result: "coop-implemented", Status: StatusPass},
			{Result: "coop-not-implemented", Status: StatusWarn, Impact: -5},
			{Result: "coop-unsafe-none", Status: StatusWarn, Impact: -5},
			{Result: "coop-header-invalid", Status: StatusFail, Impact: -5},
		},
		decide: func(o *observations) verdict {
			if err := o.pageError(); err != nil {
				return errored("The HTTPS page could not be fetched.", err)
			}
			v := o.https.final.header.Get("Cross-Origin-Opener-Policy")
			val := strings.ToLower(strings.TrimSpace(v))
			if i := strings.IndexByte(val, ';'); i >= 0 {
				val = strings.TrimSpace(val[:i])
			}
			switch val {
			case "":
				return decided("coop-not-implemented", "Cross-Origin-Opener-Policy is not set.")
			case "same-origin", "same-origin-allow-popups", "noopener-allow-popups":
				return decided("coop-implemented", "Cross-Origin-Opener-Policy is "+val+".", v)
			case "unsafe-none":
				return decided("coop-unsafe-none", "Cross-Origin-Opener-Policy is unsafe-none, which isolates nothing.", v)
			}
			return decided("coop-header-invalid", fmt.Sprintf("Cross-Origin-Opener-Policy %q is not a valid value; browsers ignore it.", v), v)
		},
	},
	observatoryCheck("HGS-HDR-006", "Cross-Origin-Resource-Policy", observatory.TestCORP,
		"The Observatory's CORP test.",
		"Send Cross-Origin-Resource-Policy: same-origin (or same-site).",
		mdnGuides+"CORP"),
	{
		ID: "HGS-HDR-007", Title: "CORS", Category: CategoryHeaders,
		Description: "The Observatory's CORS test, plus httpsguard's own rule that it means to apply but never does: a preflight from an unrelated origin answered by reflecting it (or null) with credentials allowed fails.",
		Fix:         "Allow only the origins that need access; never reflect Origin with Access-Control-Allow-Credentials: true.",
		Refs:        []string{mdnGuides + "CORS"},
		Observatory: observatory.TestCORS,
		Outcomes: []Outcome{
			{Result: "cors-reflected-origin-with-credentials", Status: StatusFail, Impact: -50},
		},
		decide: decideCORS,
	},
	observatoryCheck("HGS-HDR-008", "Subresource Integrity", observatory.TestSRI,
		"The Observatory's SRI test: cross-origin scripts carry integrity and are loaded over HTTPS.",
		"Add integrity=\"sha384-…\" and crossorigin=\"anonymous\" to every script loaded from another origin.",
		"https://developer.mozilla.org/en-US/docs/Web/Security/Subresource_Integrity"),
}

// decideCORS judges HGS-HDR-007. It fails a site that answers the
// preflight from an unrelated origin (the Observatory's) by reflecting it,
// or "null", with credentials allowed: any site may then read responses
// with the user's cookies. The Observatory 1.4.8 means to catch this but
// reads the Origin from the wrong object and never does, so httpsguard
// judges it itself, on the preflight of the page (not of /robots.txt,
// where the Observatory sends its own after a certificate error).
// Otherwise the verdict is the Observatory's CORS test.
func decideCORS(o *observations) verdict {
	if err := o.pageError(); err != nil {
		return errored("The HTTPS page could not be fetched.", err)
	}
	if o.pageCORS == nil {
		// The Observatory counts a failed preflight as no CORS at all;
		// that is not an observation.
		return errored("The CORS preflight got no answer.", o.pageCORSErr)
	}
	{
		acao := strings.TrimSpace(o.pageCORS.header.Get("Access-Control-Allow-Origin"))
		acac := strings.ToLower(strings.TrimSpace(o.pageCORS.header.Get("Access-Control-Allow-Credentials")))
		if acac == "true" && (acao == observatory.CORSOrigin || acao == "null") {
			return decided("cors-reflected-origin-with-credentials", "The server grants any origin (it reflected "+acao+") access with credentials.",
				"Access-Control-Allow-Origin: "+acao, "Access-Control-Allow-Credentials: true")
		}
	}
	t, err := o.ob(observatory.TestCORS)
	if err != nil {
		return errored("The Observatory analysis could not run.", err)
	}
	return fromObservatory(t)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return strings.TrimSpace(tagRE.ReplaceAllString(s, "")) }
