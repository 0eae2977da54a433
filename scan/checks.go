package scan

import (
	"crypto/tls"
	"errors"
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
	noteServe(o, res.Checks)
	if s.opts.Scoring == ScoringObservatory {
		// The Observatory's own rule decides whether there is a grade:
		// it grades the HTTPS page, else the HTTP one, and refuses when
		// both sessions failed or the page answers an error status.
		if obsReport.Err != nil {
			res.Error = observatoryRefusal(obsReport.Err, o)
			// In this model only the Observatory's modifiers count,
			// and it has none to give.
			for i := range res.Checks {
				res.Checks[i].ScoreImpact = 0
			}
		} else {
			scoreObservatory(res, obsReport)
		}
	} else {
		// Fail closed: no page, no grade.
		if err := o.pageError(); err != nil {
			res.Error = err
		} else {
			scoreHTTPSGuard(res)
		}
	}
	res.Incomplete = res.Graded() && len(res.ErroredChecks()) > 0
}

// pageError says why the HTTPS page could not be fetched as a browser would
// fetch it: its first request failed, a redirect led to a request that
// failed, or the redirects never end. It is nil when the page was fetched
// (even if the redirects led it to plain HTTP: HGS-RED-003 judges that).
func (o *observations) pageError() *Error {
	c := o.https
	switch {
	case c == nil:
		return &Error{Kind: KindInternal, Message: "the HTTPS page was not requested", Fix: fixInternal}
	case c.err != nil:
		e := asError(c.err)
		if len(c.hops) > 0 && c.failed {
			// A later hop failed: name the redirect that led there.
			e2 := *e
			e2.Message = fmt.Sprintf("%s redirects to %s, which could not be fetched: %s", c.start, c.next, e.Message)
			e = &e2
		}
		return e
	case c.final == nil:
		return &Error{Kind: KindInternal, Message: "the HTTPS page session ended without a response", Fix: fixInternal}
	}
	return nil
}

// observatoryRefusal is the error of a result the Observatory does not
// grade, with the cause httpsguard found where it has one.
func observatoryRefusal(err error, o *observations) *Error {
	var status *observatory.UnexpectedStatusError
	if errors.As(err, &status) {
		return &Error{Kind: KindHTTPStatus, cause: err,
			Message: fmt.Sprintf("the page answers %d, a status the Observatory does not grade (%s)", status.Status, strings.TrimPrefix(err.Error(), "observatory: ")),
			Fix:     "The Observatory grades only a page that answers 2xx, 3xx, 401 or 403: scan a URL that serves a page, or use httpsguard's own scoring."}
	}
	// Both sessions failed: name the HTTPS page's cause.
	why := strings.TrimPrefix(err.Error(), "observatory: ")
	if e := o.pageError(); e != nil {
		e2 := *e
		e2.Message = fmt.Sprintf("%s; the Observatory does not grade it: %s", e.Message, why)
		return &e2
	}
	return &Error{Kind: KindInternal, Message: "the Observatory does not grade the site: " + why, Fix: fixInternal, cause: err}
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
	served := o.served()
	if st == nil && len(served) == 0 && (o.tls == nil || len(o.tls.table) == 0) {
		return nil
	}
	info := &TLSInfo{Versions: map[string]bool{}}
	if o.tls != nil {
		for _, vf := range o.tls.table {
			info.Versions[versionName(vf.version)] = vf.offered
		}
		for _, id := range o.tls.weakTLS12() {
			info.WeakCiphers = append(info.WeakCiphers, suiteName(id))
		}
	}
	addTLSFacts(info, o)
	if len(served) > 0 {
		info.Chain = describeChain(served, o.now)
		v := o.verification()
		info.Verified, info.TrustedBy, info.VerifyError = v.ok, v.trustedBy, v.err
	}
	if st != nil {
		info.Version = versionName(st.Version)
		info.CipherSuite = tls.CipherSuiteName(st.CipherSuite)
		info.ALPN = st.NegotiatedProtocol
	}
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
// is none: an error with the cause.
func (o *observations) noHTTPSPage() verdict {
	return errored("The HTTPS page could not be fetched.", o.pageError())
}

// httpsPage returns the final response of the HTTPS page session when it
// came over HTTPS; otherwise v is the verdict of a check that reads it: an
// error when it could not be fetched, not applicable when the redirects
// led it to plain HTTP.
func (o *observations) httpsPage() (f *fetched, v verdict, ok bool) {
	if err := o.pageError(); err != nil {
		return nil, errored("The HTTPS page could not be fetched.", err), false
	}
	if f = o.https.final; f.url.Scheme != "https" {
		return nil, skip("The HTTPS page redirects to plain HTTP (HGS-RED-003), so there is no HTTPS page to judge.", f.url.String()), false
	}
	return f, verdict{}, true
}

// handshakeError says why no TLS handshake succeeded on the HTTPS port.
func (o *observations) handshakeError() *Error {
	if o.https != nil && len(o.https.hops) == 0 && o.https.err != nil {
		return asError(o.https.err)
	}
	if o.tls != nil {
		for _, v := range slices.Backward(goVersions) {
			if err := o.tls.versions[v]; err != nil {
				return asError(err)
			}
		}
	}
	if o.deadline != nil {
		return o.deadline
	}
	return &Error{Kind: KindInternal, Message: "no TLS handshake was attempted", Fix: fixInternal}
}
