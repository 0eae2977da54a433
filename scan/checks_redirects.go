package scan

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

var redirectChecks = []CheckSpec{
	{
		ID: "HGS-RED-001", Title: "HTTP redirects to HTTPS", Category: CategoryRedirects,
		Description: "http://host/ ends on an https:// page. Fails when plain HTTP serves content or redirects elsewhere. When nothing answers on plain HTTP (the connection is refused) it is a note, not a pass: a browser that tries http:// first gets an error instead of a redirect, until HSTS or the preload list sends it to https:// directly (hstspreload only warns about it). With --scoring observatory the result is the Observatory's redirection result, and its own rule applies (redirection-not-needed-no-http passes).",
		Fix:         "Answer every http:// request with a 301 to the same URL on https://.",
		Refs:        []string{mdnGuides + "TLS#http_redirection"},
		Observatory: observatory.TestRedirection,
		Outcomes: []Outcome{
			{Result: "redirection-to-https", Status: StatusPass},
			{Result: "http-not-served", Status: StatusInfo},
			{Result: "redirection-missing", Status: StatusFail, Impact: -20},
			{Result: "redirection-not-to-https", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			hc := o.http
			if absent, cause := o.httpAbsent(); absent {
				return decided("http-not-served", fmt.Sprintf("Nothing answers on %s (connection refused): a browser that tries http:// first (an older one, or one that does not upgrade the address typed) gets an error instead of a redirect to HTTPS, until HSTS or the HSTS preload list sends it to https:// directly; hstspreload accepts this with a warning (redirects.http.does_not_exist).", o.t.httpURL()), cause.Message)
			} else if cause != nil {
				return errored("The HTTP request failed.", cause)
			}
			chainEv := chainEvidence(hc)
			first := hc.hops[0]
			if !first.isRedirectStatus() {
				return decided("redirection-missing", fmt.Sprintf("%s answers %d over plain HTTP instead of redirecting to HTTPS.", hc.start, first.status), chainEv...)
			}
			// Where the redirects lead: the last response, or the URL
			// whose request failed (another check judges that failure).
			dest := hc.final.url.Scheme
			if hc.failed {
				u, err := url.Parse(hc.next)
				if err != nil || u.Scheme == "http" {
					return errored("The HTTP redirect chain could not be followed to its end.", hc.err)
				}
				dest = u.Scheme
			}
			if dest != "https" {
				return decided("redirection-not-to-https", "The redirect chain from HTTP does not end on HTTPS.", chainEv...)
			}
			return decided("redirection-to-https", "HTTP redirects to HTTPS.", chainEv...)
		},
	},
	{
		ID: "HGS-RED-002", Title: "First redirect stays on the same host", Category: CategoryRedirects,
		Description: "The first redirect from http://host/ goes to https://host/ (the hstspreload rule), so the browser records HSTS for the host before going anywhere else. `https://host./` (the fully qualified name, with a trailing dot) is the same host: DNS answers the same and browsers record HSTS for the name without the dot. hstspreload compares the names exactly, so HGS-HSTS-006 still reports `redirects.http.first_redirect.insecure` for it, as hstspreload.org would, and so does the Observatory (`redirection-off-host-from-http`, −5 with `--scoring observatory`).",
		Fix:         "Redirect http://host/ to https://host/ first, and only then to another host (such as www).",
		Outcomes: []Outcome{
			{Result: "redirect-first-same-host", Status: StatusPass},
			{Result: "redirect-first-www", Status: StatusWarn, Impact: -5},
			{Result: "redirect-first-off-host", Status: StatusWarn, Impact: -5},
			{Result: "redirect-first-location-invalid", Status: StatusFail, Impact: -5},
		},
		decide: func(o *observations) verdict {
			first, v, ok := o.firstHTTPRedirect()
			if !ok {
				return v
			}
			next, err := resolveLocation(first.url, first.header.Get("Location"))
			switch {
			case err != nil:
				return decided("redirect-first-location-invalid", "The first redirect has a bad Location: "+err.Error()+".")
			case next.Scheme == "https" && sameHostName(next.Hostname(), o.t.host):
				msg := "The first redirect goes to HTTPS on the same host."
				if !strings.EqualFold(next.Hostname(), o.t.host) { // they differ by the trailing dot only
					msg = "The first redirect goes to HTTPS on the same host, written as a fully qualified name with a trailing dot (browsers record HSTS for the name without it)."
				}
				return decided("redirect-first-same-host", msg, next.String())
			case sameHostName(next.Hostname(), "www."+o.t.host):
				return decided("redirect-first-www", "The first redirect adds www (hstspreload: redirects.http.www_first); browsers never see HSTS for the bare host.", next.String())
			}
			return decided("redirect-first-off-host", "The first redirect does not go to HTTPS on the same host (hstspreload: redirects.http.first_redirect.insecure).", next.String())
		},
	},
	{
		ID: "HGS-RED-003", Title: "No HTTPS to HTTP downgrade", Category: CategoryRedirects,
		Description: "No hop of either redirect chain goes from https:// to http://.",
		Fix:         "Make every redirect target an https:// URL.",
		Outcomes: []Outcome{
			{Result: "redirect-no-downgrade", Status: StatusPass},
			{Result: "redirect-downgrade", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			var downs []string
			var unknown error
			for _, c := range []*chain{o.https, o.http} {
				if _, err := o.chainEnded(c); err != nil && unknown == nil {
					unknown = err
				}
				if c == nil {
					continue
				}
				for i := 1; i < len(c.hops); i++ {
					if c.hops[i-1].url.Scheme == "https" && c.hops[i].url.Scheme == "http" {
						downs = append(downs, fmt.Sprintf("%s → %s", c.hops[i-1].url, c.hops[i].url))
					}
				}
				// The redirect to http:// counts even when following it
				// failed (nothing listens on plain HTTP): the browser was
				// sent there.
				if c.err != nil && len(c.hops) > 0 && strings.HasPrefix(c.next, "http://") && c.hops[len(c.hops)-1].url.Scheme == "https" {
					downs = append(downs, fmt.Sprintf("%s → %s", c.hops[len(c.hops)-1].url, c.next))
				}
			}
			switch {
			case len(downs) > 0:
				return decided("redirect-downgrade", "A redirect goes from HTTPS back to plain HTTP.", downs...)
			case unknown != nil:
				// A chain stopped on a request that failed: a later hop
				// might have downgraded.
				return errored("A redirect chain could not be followed to its end.", unknown)
			}
			return decided("redirect-no-downgrade", "No redirect downgrades HTTPS to HTTP.")
		},
	},
	{
		ID: "HGS-RED-004", Title: "Redirects terminate", Category: CategoryRedirects,
		Description: "Neither chain loops or exceeds 10 redirects; the full chain is in the report.",
		Fix:         "Fix the redirect rules; a loop usually means the app does not see that the proxy in front of it spoke HTTPS (trust the proxy's X-Forwarded-Proto).",
		Outcomes: []Outcome{
			{Result: "redirects-terminate", Status: StatusPass},
			{Result: "redirect-loop-or-too-many", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			var loops []string
			var unknown error
			for _, c := range []*chain{o.https, o.http} {
				if c != nil && c.err != nil && !c.failed {
					loops = append(loops, c.err.Error())
					loops = append(loops, chainEvidence(c)...)
				} else if _, err := o.chainEnded(c); err != nil && unknown == nil {
					unknown = err
				}
			}
			switch {
			case len(loops) > 0:
				return decided("redirect-loop-or-too-many", "A redirect chain does not end: "+loops[0]+".", loops[1:]...)
			case unknown != nil:
				return errored("A redirect chain could not be followed to its end.", unknown)
			}
			return decided("redirects-terminate", "Every redirect chain ends.")
		},
	},
	{
		ID: "HGS-RED-005", Title: "Permanent redirect to HTTPS", Category: CategoryRedirects,
		Description: "The redirect from HTTP to HTTPS is permanent (301 or 308) so that browsers and caches remember it; warns on 302, 303 and 307.",
		Fix:         "Use 301 (or 308 to keep the method) for the redirect to HTTPS.",
		Outcomes: []Outcome{
			{Result: "redirect-permanent", Status: StatusPass},
			{Result: "redirect-temporary", Status: StatusWarn, Impact: -2},
		},
		decide: func(o *observations) verdict {
			first, v, ok := o.firstHTTPRedirect()
			if !ok {
				return v
			}
			switch first.status {
			case http.StatusMovedPermanently, http.StatusPermanentRedirect:
				return decided("redirect-permanent", fmt.Sprintf("The redirect to HTTPS is permanent (%d).", first.status))
			}
			return decided("redirect-temporary", fmt.Sprintf("The redirect from HTTP is temporary (%d).", first.status))
		},
	},
}

// firstHTTPRedirect returns the first response from http://host/ when it
// is a redirect; otherwise v is the verdict of a check about that redirect.
func (o *observations) firstHTTPRedirect() (first *fetched, v verdict, ok bool) {
	if absent, cause := o.httpAbsent(); absent {
		return nil, skip("Nothing answers on plain HTTP, so there is nothing to redirect.", cause.Message), false
	} else if cause != nil {
		return nil, errored("The HTTP request failed.", cause), false
	}
	if first = o.http.hops[0]; !first.isRedirectStatus() {
		return nil, skip("HTTP does not redirect."), false
	}
	return first, verdict{}, true
}

// httpAbsent reports whether nothing listens on plain HTTP (the first
// request's connection was refused), with that error. When the first
// request failed for another reason, cause says why and absent is false:
// whether HTTP is served could not be observed.
func (o *observations) httpAbsent() (absent bool, cause *Error) {
	hc := o.http
	switch {
	case hc == nil:
		return false, &Error{Kind: KindInternal, Message: "the HTTP session did not run", Fix: fixInternal}
	case len(hc.hops) > 0:
		return false, nil
	}
	e := asError(hc.err)
	if e == nil {
		e = &Error{Kind: KindInternal, Message: "the HTTP session ended without a response or an error", Fix: fixInternal}
	}
	return e.Kind == KindRefused, e
}

// chainEnded reports whether chain c was followed to its end: a page, a
// redirect loop or the redirect limit, or (for the HTTP chain) nothing
// listening. Otherwise a request of the chain failed and err says why.
func (o *observations) chainEnded(c *chain) (bool, error) {
	switch {
	case c == nil:
		return false, &Error{Kind: KindInternal, Message: "a redirect chain was not followed", Fix: fixInternal}
	case !c.failed:
		return true, nil
	case c == o.http:
		if absent, _ := o.httpAbsent(); absent {
			return true, nil
		}
	}
	return false, c.err
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
