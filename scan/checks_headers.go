package scan

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

var observatoryHeaderChecks = []struct{ id, test string }{
	{"HGS-HDR-001", "content-security-policy"},
	{"HGS-HDR-002", "x-frame-options"},
	{"HGS-HDR-003", "x-content-type-options"},
	{"HGS-HDR-004", "referrer-policy"},
	{"HGS-HDR-006", "cross-origin-resource-policy"},
	{"HGS-HDR-007", "cross-origin-resource-sharing"},
	{"HGS-HDR-008", "subresource-integrity"},
}

func checkHeaders(o *observations, ob obFunc) []*Check {
	var all []*Check
	for _, m := range observatoryHeaderChecks {
		c := newCheck(m.id)
		t, err := ob(m.test)
		if err != nil {
			c.errored("The Observatory analysis could not run.", err)
		} else {
			fromObservatory(c, t)
		}
		if m.id == "HGS-HDR-007" {
			judgeCORSReflection(c, o)
		}
		all = append(all, c)
		if m.id == "HGS-HDR-004" {
			all = append(all, checkCOOP(o))
		}
	}
	return all
}

// fromObservatory turns an Observatory test result into a check verdict;
// httpsguard counts its penalties, not its bonuses.
func fromObservatory(c *Check, t observatory.Test) {
	c.Result = t.Result
	msg := t.ScoreDescription
	if msg == "" {
		msg = t.Result
	}
	msg = stripTags(msg)
	switch {
	case t.ScoreModifier <= -10 || t.ScoreModifier < 0 && strings.Contains(t.Result, "invalid"):
		c.fail(-t.ScoreModifier, msg)
	case t.ScoreModifier < 0:
		c.warn(-t.ScoreModifier, msg)
	case !t.Pass:
		c.warn(0, msg)
	default:
		c.pass(msg)
	}
	if s, ok := t.Data.(string); ok && s != "" {
		c.Evidence = append(c.Evidence, s)
	}
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return strings.TrimSpace(tagRE.ReplaceAllString(s, "")) }

func checkCOOP(o *observations) *Check {
	c := newCheck("HGS-HDR-005")
	if o.https == nil || o.https.final == nil {
		return c.noHTTPSPage(o)
	}
	v := o.https.final.header.Get("Cross-Origin-Opener-Policy")
	val := strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexByte(val, ';'); i >= 0 {
		val = strings.TrimSpace(val[:i])
	}
	switch val {
	case "":
		c.Result = "coop-not-implemented"
		return c.warn(5, "Cross-Origin-Opener-Policy is not set.")
	case "same-origin", "same-origin-allow-popups", "noopener-allow-popups":
		c.Result = "coop-implemented"
		return c.pass("Cross-Origin-Opener-Policy is "+val+".", v)
	case "unsafe-none":
		c.Result = "coop-unsafe-none"
		return c.warn(5, "Cross-Origin-Opener-Policy is unsafe-none, which isolates nothing.", v)
	default:
		c.Result = "coop-header-invalid"
		return c.fail(5, fmt.Sprintf("Cross-Origin-Opener-Policy %q is not a valid value; browsers ignore it.", v), v)
	}
}

// judgeCORSReflection fails a site that answers the preflight from an
// unrelated origin (the Observatory's) by reflecting it, or "null", with
// credentials allowed: any site may then read responses with the user's
// cookies. The Observatory 1.4.8 means to catch this but reads the Origin
// from the wrong object and never does, so httpsguard judges it itself, on
// the preflight of the page (not of /robots.txt, where the Observatory
// sends its own after a certificate error).
func judgeCORSReflection(c *Check, o *observations) {
	if o.pageCORS == nil {
		return
	}
	acao := strings.TrimSpace(o.pageCORS.header.Get("Access-Control-Allow-Origin"))
	acac := strings.ToLower(strings.TrimSpace(o.pageCORS.header.Get("Access-Control-Allow-Credentials")))
	if acac != "true" || (acao != observatory.CORSOrigin && acao != "null") {
		return
	}
	c.Status, c.ScoreImpact, c.Evidence = "", 0, nil
	c.Result = "cors-reflected-origin-with-credentials"
	c.fail(50, "The server grants any origin (it reflected "+acao+") access with credentials.",
		"Access-Control-Allow-Origin: "+acao, "Access-Control-Allow-Credentials: true")
}
