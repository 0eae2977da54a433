package scan

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

// newCheck starts a check from its catalog entry.
func newCheck(id string) *Check {
	info, ok := catalogByID[id]
	if !ok {
		panic("scan: check " + id + " is not in the catalog")
	}
	return &Check{ID: id, Title: info.Title, Category: info.Category, Refs: info.Refs}
}

func (c *Check) set(st Status, impact int, msg string, ev []string) *Check {
	c.Status, c.ScoreImpact, c.Message = st, impact, msg
	c.Evidence = append(c.Evidence, ev...)
	if st == StatusFail || st == StatusWarn {
		c.Fix = catalogByID[c.ID].Fix
	}
	return c
}

// fallbackResult gives the check a result code of its own when it carries
// none: the checks that take their code from an Observatory test keep a
// code when the Observatory could not run (it refuses a site whose
// sessions both failed, for example an HTTPS page redirecting to a closed
// http:// port), so every verdict stays machine-readable.
func (c *Check) fallbackResult(code string) *Check {
	if c.Result == "" {
		c.Result = code
	}
	return c
}

func (c *Check) pass(msg string, ev ...string) *Check { return c.set(StatusPass, 0, msg, ev) }
func (c *Check) info(msg string, ev ...string) *Check { return c.set(StatusInfo, 0, msg, ev) }
func (c *Check) skip(msg string, ev ...string) *Check { return c.set(StatusSkip, 0, msg, ev) }
func (c *Check) warn(impact int, msg string, ev ...string) *Check {
	return c.set(StatusWarn, -abs(impact), msg, ev)
}
func (c *Check) fail(impact int, msg string, ev ...string) *Check {
	return c.set(StatusFail, -abs(impact), msg, ev)
}
func (c *Check) errored(msg string, err error) *Check {
	c.set(StatusError, 0, msg, nil)
	if err != nil {
		c.Error = err.Error()
	}
	return c
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// evaluate runs every check on the observations, scores them and fills res.
func (s *Scanner) evaluate(res *Result, o *observations) {
	res.HTTPSRedirects = hopsOf(o.https)
	res.HTTPRedirects = hopsOf(o.http)
	res.TLS = tlsInfo(o)

	in := o.observatoryInput()
	obsReport := observatory.Analyze(in)
	tests := obsReport.Tests
	var obsErr error
	if obsReport.Err != nil {
		obsErr = obsReport.Err
		if a := in.Analysed(); a != nil && len(a.Chain) > 0 {
			// The Observatory refuses to grade a page with an error
			// status; its tests still judge the headers, so run them
			// on a copy that claims 200 for httpsguard's own model.
			forced := in
			sess := *a
			sess.Chain = slices.Clone(a.Chain)
			last := *sess.Chain[len(sess.Chain)-1]
			last.Status = http.StatusOK
			sess.Chain[len(sess.Chain)-1] = &last
			if a == &in.HTTPS {
				forced.HTTPS = sess
			} else {
				forced.HTTP = sess
			}
			if r := observatory.Analyze(forced); r.Err == nil {
				tests = r.Tests
			}
		}
	}
	byName := map[string]observatory.Test{}
	for _, t := range tests {
		byName[t.Name] = t
	}
	ob := func(name string) (observatory.Test, error) {
		t, ok := byName[name]
		if !ok {
			if obsErr != nil {
				return t, obsErr
			}
			return t, fmt.Errorf("observatory test %s did not run", name)
		}
		return t, nil
	}

	var checks []*Check
	add := func(c ...*Check) { checks = append(checks, c...) }
	add(checkTLS(o)...)
	add(checkRedirects(o, ob)...)
	add(checkHSTS(o, ob)...)
	add(checkCookies(o, ob)...)
	add(checkHeaders(o, ob)...)
	add(checkContent(o)...)
	add(checkLeaks(o)...)

	res.Checks = make([]Check, 0, len(checks))
	for _, c := range checks {
		res.Checks = append(res.Checks, *c)
	}
	if o.unreachable() {
		res.Error = o.unreachableReason()
		// Nothing answered: every verdict but reachability would be
		// about nothing.
		for i := range res.Checks {
			if c := &res.Checks[i]; c.ID != "HGS-TLS-001" {
				*c = Check{ID: c.ID, Title: c.Title, Category: c.Category, Status: StatusSkip,
					Message: "The site could not be reached.", Refs: c.Refs}
			}
		}
	}
	if s.opts.Scoring == ScoringObservatory {
		scoreObservatory(res, obsReport)
	} else {
		scoreHTTPSGuard(res)
	}
}

// unreachable reports that neither scheme answered with anything.
func (o *observations) unreachable() bool {
	return (o.https == nil || o.https.final == nil) && (o.http == nil || o.http.final == nil) &&
		(o.tls == nil || o.tls.state == nil)
}

func (o *observations) unreachableReason() string {
	var parts []string
	if o.https != nil && o.https.err != nil {
		parts = append(parts, o.https.err.Error())
	}
	if o.http != nil && o.http.err != nil {
		parts = append(parts, o.http.err.Error())
	}
	if len(parts) == 0 {
		return "the site could not be reached"
	}
	return "the site could not be reached: " + strings.Join(parts, "; ")
}

// hopsOf turns a chain into report hops; a failed last request becomes a
// hop with an error.
func hopsOf(c *chain) []Hop {
	if c == nil {
		return nil
	}
	var out []Hop
	for _, h := range c.hops {
		hop := Hop{URL: h.url.String(), Status: h.status, HSTS: strings.Join(h.header.Values("Strict-Transport-Security"), ", ")}
		if h.isRedirectStatus() {
			hop.Location = h.header.Get("Location")
		}
		out = append(out, hop)
	}
	if c.err != nil {
		// The request that failed, or the redirect not followed.
		out = append(out, Hop{URL: c.next, Error: c.err.Error()})
	}
	return out
}

// tlsInfo summarises the TLS probes and the chain served.
func tlsInfo(o *observations) *TLSInfo {
	st := o.tlsState()
	if st == nil && (o.tls == nil || len(o.tls.versions) == 0) {
		return nil
	}
	info := &TLSInfo{Versions: map[string]bool{}}
	if o.tls != nil {
		for v, err := range o.tls.versions {
			info.Versions[versionName(v)] = err == nil
		}
		for _, id := range o.tls.weak {
			info.WeakCiphers = append(info.WeakCiphers, tls.CipherSuiteName(id))
		}
	}
	if st == nil {
		return info
	}
	info.Version = versionName(st.Version)
	info.CipherSuite = tls.CipherSuiteName(st.CipherSuite)
	info.ALPN = st.NegotiatedProtocol
	info.Chain = describeChain(st.PeerCertificates, o.now)
	v := o.verification()
	info.Verified, info.TrustedBy, info.VerifyError = v.ok, v.trustedBy, v.err
	return info
}

// tlsState is the TLS connection of the first HTTPS response, or of the
// newest version probe when no HTTP exchange worked.
func (o *observations) tlsState() *tls.ConnectionState {
	if o.https != nil && len(o.https.hops) > 0 && o.https.hops[0].tls != nil {
		return o.https.hops[0].tls
	}
	if o.tls != nil {
		return o.tls.state
	}
	return nil
}

// verification is the chain verdict for the scanned host.
func (o *observations) verification() verifyResult {
	if o.https != nil && len(o.https.hops) > 0 && o.https.hops[0].tls != nil {
		h := o.https.hops[0]
		return verifyResult{ok: h.verified, trustedBy: h.trustedBy, err: h.verifyErr}
	}
	return o.tlsVerify
}

// noHTTPSPage ends a check that reads the HTTPS page when there is none: an
// error with the cause when the fetch failed, a skip when nothing was
// fetched at all.
func (c *Check) noHTTPSPage(o *observations) *Check {
	if o.https != nil && o.https.final == nil && o.https.err != nil {
		return c.errored("The HTTPS page could not be fetched.", o.https.err)
	}
	return c.skip("No HTTPS page was received.")
}
