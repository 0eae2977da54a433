package scan

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

type obFunc func(name string) (observatory.Test, error)

func checkRedirects(o *observations, ob obFunc) []*Check {
	toHTTPS := newCheck("HGS-RED-001")
	sameHost := newCheck("HGS-RED-002")
	downgrade := newCheck("HGS-RED-003")
	loop := newCheck("HGS-RED-004")
	perm := newCheck("HGS-RED-005")
	all := []*Check{toHTTPS, sameHost, downgrade, loop, perm}
	if t, err := ob("redirection"); err == nil {
		toHTTPS.Result = t.Result
	}

	hc := o.http
	chainEv := chainEvidence(hc)
	// Downgrades and loops are judged on both chains.
	var downs []string
	for _, c := range []*chain{o.https, o.http} {
		if c == nil {
			continue
		}
		for i := 1; i < len(c.hops); i++ {
			if c.hops[i-1].url.Scheme == "https" && c.hops[i].url.Scheme == "http" {
				downs = append(downs, fmt.Sprintf("%s → %s", c.hops[i-1].url, c.hops[i].url))
			}
		}
		// The redirect to http:// counts even when following it failed
		// (nothing listens on plain HTTP): the browser was sent there.
		if c.err != nil && len(c.hops) > 0 && strings.HasPrefix(c.next, "http://") && c.hops[len(c.hops)-1].url.Scheme == "https" {
			downs = append(downs, fmt.Sprintf("%s → %s", c.hops[len(c.hops)-1].url, c.next))
		}
	}
	if len(downs) > 0 {
		downgrade.Result = "redirect-downgrade"
		downgrade.fail(20, "A redirect goes from HTTPS back to plain HTTP.", downs...)
	} else {
		downgrade.Result = "redirect-no-downgrade"
		downgrade.pass("No redirect downgrades HTTPS to HTTP.")
	}
	var loops []string
	for _, c := range []*chain{o.https, o.http} {
		if c != nil && c.err != nil && !c.failed {
			loops = append(loops, c.err.Error())
			loops = append(loops, chainEvidence(c)...)
		}
	}
	if len(loops) > 0 {
		loop.Result = "redirect-loop-or-too-many"
		loop.fail(20, "A redirect chain does not end: "+loops[0]+".", loops[1:]...)
	} else {
		loop.Result = "redirects-terminate"
		loop.pass("Every redirect chain ends.")
	}

	if hc == nil || (hc.final == nil && hc.failed && len(hc.hops) == 0) {
		msg := "Nothing answers on plain HTTP, so there is nothing to redirect."
		var ev []string
		if hc != nil && hc.err != nil {
			ev = append(ev, hc.err.Error())
		}
		if isConnRefused(hc) {
			toHTTPS.pass(msg, ev...).fallbackResult("redirection-not-needed-no-http")
		} else {
			toHTTPS.errored("The HTTP request failed.", hc.err)
		}
		sameHost.skip(msg)
		perm.skip(msg)
		return all
	}
	first := hc.hops[0]
	final := hc.final
	switch {
	case !first.isRedirectStatus():
		toHTTPS.fail(20, fmt.Sprintf("http://%s/ answers %d over plain HTTP instead of redirecting to HTTPS.", o.t.host, first.status), chainEv...).fallbackResult("redirection-missing")
	case final.url.Scheme != "https":
		toHTTPS.fail(20, "The redirect chain from HTTP does not end on HTTPS.", chainEv...).fallbackResult("redirection-not-to-https")
	default:
		toHTTPS.pass("HTTP redirects to HTTPS.", chainEv...).fallbackResult("redirection-to-https")
	}
	if first.isRedirectStatus() {
		next, err := resolveLocation(first.url, first.header.Get("Location"))
		switch {
		case err != nil:
			sameHost.Result = "redirect-first-location-invalid"
			sameHost.fail(5, "The first redirect has a bad Location: "+err.Error()+".")
		case next.Scheme == "https" && sameHostName(next.Hostname(), o.t.host):
			sameHost.Result = "redirect-first-same-host"
			msg := "The first redirect goes to HTTPS on the same host."
			if !strings.EqualFold(next.Hostname(), o.t.host) { // they differ by the trailing dot only
				msg = "The first redirect goes to HTTPS on the same host, written as a fully qualified name with a trailing dot (browsers record HSTS for the name without it)."
			}
			sameHost.pass(msg, next.String())
		case sameHostName(next.Hostname(), "www."+o.t.host):
			sameHost.Result = "redirect-first-www"
			sameHost.warn(5, "The first redirect adds www (hstspreload: redirects.http.www_first); browsers never see HSTS for the bare host.", next.String())
		default:
			sameHost.Result = "redirect-first-off-host"
			sameHost.warn(5, "The first redirect does not go to HTTPS on the same host (hstspreload: redirects.http.first_redirect.insecure).", next.String())
		}
		switch first.status {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
			perm.Result = "redirect-permanent"
			perm.pass(fmt.Sprintf("The redirect to HTTPS is permanent (%d).", first.status))
		default:
			perm.Result = "redirect-temporary"
			perm.warn(2, fmt.Sprintf("The redirect from HTTP is temporary (%d).", first.status))
		}
	} else {
		sameHost.skip("HTTP does not redirect.")
		perm.skip("HTTP does not redirect.")
	}
	return all
}

// sameHostName reports whether two host names are the same host: equal
// without regard to case, and a fully qualified name's trailing dot
// ignored. DNS resolves "example.com." and "example.com" to the same
// records, and browsers key HSTS by the name without the dot (Chromium
// stores it in DNS wire form, where the two are identical; curl's HSTS
// cache matches both), so a redirect to https://example.com./ protects
// http://example.com/ as well as one to https://example.com/.
func sameHostName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func isConnRefused(c *chain) bool {
	if c == nil || c.err == nil {
		return false
	}
	s := c.err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") || strings.Contains(s, "connect: ")
}

func chainEvidence(c *chain) []string {
	if c == nil {
		return nil
	}
	var ev []string
	for _, h := range c.hops {
		line := fmt.Sprintf("%d %s", h.status, h.url)
		if h.isRedirectStatus() {
			line += " → " + h.header.Get("Location")
		}
		ev = append(ev, line)
	}
	if c.err != nil {
		ev = append(ev, "stopped: "+c.err.Error())
	}
	return ev
}
