package scan

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/httpsguard/httpsguard/scan/observatory"
)

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
	o.obTests = map[string]observatory.Test{}
	for _, t := range tests {
		o.obTests[t.Name] = t
	}
	o.obErr = obsErr

	res.Checks = runChecks(o)
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

// ob returns the Observatory test named name, or why it did not run.
func (o *observations) ob(name string) (observatory.Test, error) {
	t, ok := o.obTests[name]
	if !ok {
		if o.obErr != nil {
			return t, o.obErr
		}
		return t, fmt.Errorf("observatory test %s did not run", name)
	}
	return t, nil
}

// noHTTPSPage is the verdict of a check that reads the HTTPS page when there
// is none: an error with the cause when the fetch failed, a skip when
// nothing was fetched at all.
func (o *observations) noHTTPSPage() verdict {
	if o.https != nil && o.https.final == nil && o.https.err != nil {
		return errored("The HTTPS page could not be fetched.", o.https.err)
	}
	return skip("No HTTPS page was received.")
}
