package scan

import (
	"net/http"
	"strings"
)

// serveMark is the response field with which "httpsguard serve", the
// development proxy, marks what it changes on purpose: "dev", then
// "hsts-removed" and "temporary-redirect" where they apply. It is
// devproxy.MarkHeader; scan does not import devproxy.
const serveMark = "Httpsguard-Serve"

// noteServe says so, on the checks that judge what httpsguard serve changes
// on purpose, when the site was checked through it: serve removes
// Strict-Transport-Security unless started with --hsts, and redirects plain
// HTTP with a temporary 307 (an application's permanent redirect is made
// temporary too). The verdict stays, since it is what a browser gets
// through serve; the message names serve as its cause and how to see the
// application's own.
func noteServe(o *observations, checks []Check) {
	hstsRemoved := o.https != nil && o.https.final != nil && marked(o.https.final.header, "hsts-removed")
	tempRedirect := o.http != nil && len(o.http.hops) > 0 && marked(o.http.hops[0].header, "temporary-redirect")
	for i := range checks {
		c := &checks[i]
		switch {
		case c.ID == "HGS-HSTS-001" && c.Status == StatusFail && hstsRemoved:
			c.Message += " This site is served through httpsguard serve, which removes the header on purpose (" + serveMark + ": " + o.https.final.header.Get(serveMark) + "): restart serve with --hsts to check the application's own."
		case c.ID == "HGS-RED-005" && c.Status == StatusWarn && tempRedirect:
			c.Message += " This site is served through httpsguard serve, which makes every redirect from plain HTTP temporary on purpose (" + serveMark + ": " + o.http.hops[0].header.Get(serveMark) + "): a permanent one would stay in the browser's cache for the next project on this port."
		}
	}
}

// marked reports whether h carries serve's mark with the given item.
func marked(h http.Header, item string) bool {
	for _, v := range h.Values(serveMark) {
		for it := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(it) == item {
				return true
			}
		}
	}
	return false
}
