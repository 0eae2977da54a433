package scan

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
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
		if c.failed {
			out = append(out, Hop{URL: c.next, Error: c.err.Error()})
		} else {
			out = append(out, Hop{URL: c.next, Error: c.err.Error()})
		}
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

// ---- TLS ----

func checkTLS(o *observations) []*Check {
	reach := newCheck("HGS-TLS-001")
	chainC := newCheck("HGS-TLS-002")
	expiry := newCheck("HGS-TLS-003")
	old := newCheck("HGS-TLS-004")
	v13 := newCheck("HGS-TLS-005")
	weak := newCheck("HGS-TLS-006")
	key := newCheck("HGS-TLS-007")
	all := []*Check{reach, chainC, expiry, old, v13, weak, key}

	st := o.tlsState()
	if st == nil {
		why := "no TLS version could be negotiated"
		var err error
		switch {
		case o.tls != nil && o.tls.unreachable != nil:
			why, err = "nothing accepted a connection on the HTTPS port", o.tls.unreachable
		case o.https != nil && o.https.err != nil:
			err = o.https.err
		case o.tls != nil:
			err = o.tls.versions[tls.VersionTLS12]
		}
		reach.fail(100, "HTTPS is not reachable: "+why+".")
		if err != nil {
			reach.Evidence = append(reach.Evidence, err.Error())
		}
		if o.tls != nil {
			for _, v := range slices.Backward(tlsVersions) {
				if e := o.tls.versions[v]; e != nil && (err == nil || e.Error() != err.Error()) {
					reach.Evidence = append(reach.Evidence, versionName(v)+": "+e.Error())
					break
				}
			}
		}
		for _, c := range all[1:] {
			c.skip("HTTPS is not reachable.")
		}
		return all
	}
	ev := []string{fmt.Sprintf("%s, %s", versionName(st.Version), tls.CipherSuiteName(st.CipherSuite))}
	if o.https != nil && o.https.final == nil && o.https.err != nil {
		reach.pass("TLS handshakes succeed, but no HTTP response came back over HTTPS.", append(ev, o.https.err.Error())...)
	} else {
		reach.pass("HTTPS answers.", ev...)
	}

	v := o.verification()
	if v.ok {
		chainC.pass(fmt.Sprintf("The certificate chain is valid for %s, trusted by the %s roots.", o.t.host, trustName(v.trustedBy)), "trusted by: "+v.trustedBy)
	} else {
		chainC.fail(40, sentence(fmt.Sprintf("The certificate chain does not verify for %s: %s", o.t.host, v.err)), v.err)
	}

	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		days := daysLeft(leaf.NotAfter, o.now)
		ev := fmt.Sprintf("not after %s (%d days left)", leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"), days)
		switch {
		case o.now.After(leaf.NotAfter):
			expiry.fail(40, fmt.Sprintf("The certificate expired %d days ago.", -days), ev)
		case days < 7:
			expiry.fail(30, fmt.Sprintf("The certificate expires in %d days.", days), ev)
		case days < 30:
			expiry.warn(5, fmt.Sprintf("The certificate expires in %d days.", days), ev)
		case o.now.Before(leaf.NotBefore):
			expiry.fail(40, "The certificate is not valid yet.", "not before "+leaf.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
		default:
			expiry.pass(fmt.Sprintf("The certificate is valid for %d more days.", days), ev)
		}
		kt, bits := keyInfo(leaf)
		kev := fmt.Sprintf("%s %d bits", kt, bits)
		switch {
		case kt == "RSA" && bits < 2048:
			key.fail(20, fmt.Sprintf("The certificate has a weak %d-bit RSA key.", bits), kev)
		case kt == "ECDSA" && bits < 256:
			key.fail(20, fmt.Sprintf("The certificate has a weak %d-bit elliptic-curve key.", bits), kev)
		case kt == "RSA" || kt == "ECDSA" || kt == "Ed25519":
			key.pass("The certificate key is strong: "+kev+".", kev)
		default:
			key.warn(5, "The certificate key type is unusual: "+kev+".", kev)
		}
	} else {
		expiry.errored("The server sent no certificate.", nil)
		key.errored("The server sent no certificate.", nil)
	}

	if o.tls == nil || len(o.tls.versions) == 0 {
		for _, c := range []*Check{old, v13, weak} {
			c.errored("The protocol probes did not run.", o.deadline)
		}
		return all
	}
	var accepted, oldOnes []string
	for _, ver := range tlsVersions {
		if o.tls.versions[ver] == nil {
			accepted = append(accepted, versionName(ver))
			if ver < tls.VersionTLS12 {
				oldOnes = append(oldOnes, versionName(ver))
			}
		}
	}
	vev := "accepted: " + strings.Join(accepted, ", ")
	if len(oldOnes) > 0 {
		old.fail(15, "The server accepts obsolete "+strings.Join(oldOnes, " and ")+".", vev)
	} else {
		old.pass("The server refuses TLS 1.0 and 1.1.", vev)
	}
	if o.tls.versions[tls.VersionTLS13] == nil {
		v13.pass("The server accepts TLS 1.3.", vev)
	} else {
		v13.warn(2, "The server does not accept TLS 1.3.", vev, o.tls.versions[tls.VersionTLS13].Error())
	}
	switch {
	case o.tls.versions[tls.VersionTLS12] != nil:
		weak.skip("The server does not accept TLS 1.2, so it has no TLS 1.2 cipher suites.")
	case o.tls.weakErr != nil && len(o.tls.weak) == 0:
		weak.errored("The cipher suite probes did not complete.", o.tls.weakErr)
	case len(o.tls.weak) == 0:
		weak.pass("The server accepts only forward-secret AEAD cipher suites for TLS 1.2.")
	default:
		var names []string
		insecure := false
		for _, id := range o.tls.weak {
			names = append(names, tls.CipherSuiteName(id))
			insecure = insecure || insecureSuite(id)
		}
		msg := fmt.Sprintf("The server accepts %d weak TLS 1.2 cipher suite(s).", len(names))
		if insecure {
			weak.fail(10, msg, names...)
		} else {
			weak.warn(5, msg, names...)
		}
	}
	return all
}

func trustName(by string) string {
	switch by {
	case "system", "custom pool":
		return by
	}
	return "CA file " + by
}

// ---- Redirects ----

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
		if c.err != nil && !c.failed && len(c.hops) > 0 && strings.HasPrefix(c.next, "http://") && c.hops[len(c.hops)-1].url.Scheme == "https" {
			downs = append(downs, fmt.Sprintf("%s → %s", c.hops[len(c.hops)-1].url, c.next))
		}
	}
	if len(downs) > 0 {
		downgrade.fail(20, "A redirect goes from HTTPS back to plain HTTP.", downs...)
	} else {
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
		loop.fail(20, "A redirect chain does not end: "+loops[0]+".", loops[1:]...)
	} else {
		loop.pass("Every redirect chain ends.")
	}

	if hc == nil || (hc.final == nil && hc.failed && len(hc.hops) == 0) {
		msg := "Nothing answers on plain HTTP, so there is nothing to redirect."
		var ev []string
		if hc != nil && hc.err != nil {
			ev = append(ev, hc.err.Error())
		}
		if isConnRefused(hc) {
			toHTTPS.pass(msg, ev...)
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
		toHTTPS.fail(20, fmt.Sprintf("http://%s/ answers %d over plain HTTP instead of redirecting to HTTPS.", o.t.host, first.status), chainEv...)
	case final.url.Scheme != "https":
		toHTTPS.fail(20, "The redirect chain from HTTP does not end on HTTPS.", chainEv...)
	default:
		toHTTPS.pass("HTTP redirects to HTTPS.", chainEv...)
	}
	if first.isRedirectStatus() {
		next, err := resolveLocation(first.url, first.header.Get("Location"))
		switch {
		case err != nil:
			sameHost.fail(5, "The first redirect has a bad Location: "+err.Error()+".")
		case next.Scheme == "https" && strings.EqualFold(next.Hostname(), o.t.host):
			sameHost.pass("The first redirect goes to HTTPS on the same host.", next.String())
		case strings.EqualFold(next.Hostname(), "www."+o.t.host):
			sameHost.warn(5, "The first redirect adds www (hstspreload: redirects.http.www_first); browsers never see HSTS for the bare host.", next.String())
		default:
			sameHost.warn(5, "The first redirect does not go to HTTPS on the same host (hstspreload: redirects.http.first_redirect.insecure).", next.String())
		}
		switch first.status {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
			perm.pass(fmt.Sprintf("The redirect to HTTPS is permanent (%d).", first.status))
		default:
			perm.warn(2, fmt.Sprintf("The redirect from HTTP is temporary (%d).", first.status))
		}
	} else {
		sameHost.skip("HTTP does not redirect.")
		perm.skip("HTTP does not redirect.")
	}
	return all
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

// ---- HSTS ----

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
		elig.pass("The site meets every HSTS preload requirement.", issues.Codes()...)
	} else {
		elig.info(fmt.Sprintf("The site is not eligible for the HSTS preload list (%d issue(s)); first: %s", len(issues.Errors), sentence(issues.Errors[0].Message)), issues.Codes()...)
	}

	if o.https == nil || len(o.https.hops) == 0 {
		for _, c := range all[:5] {
			c.skip("No HTTPS response to read the header from.")
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
	switch {
	case len(is.Errors) > 0 || !h.HasMaxAge:
		msgs := is.Codes()
		if !h.HasMaxAge && len(is.Errors) == 0 {
			msgs = append(msgs, "header.preloadable.max_age.missing")
		}
		syntax.fail(10, "The HSTS header is invalid; browsers ignore it.", msgs...)
	case len(is.Warnings) > 0:
		syntax.warn(2, "The HSTS header has syntax issues: "+is.Warnings[0].Message, is.Codes()...)
	default:
		syntax.pass("The HSTS header is well-formed.")
	}
	if !h.HasMaxAge {
		maxAge.fail(10, "The HSTS header has no valid max-age.")
	} else if h.MaxAge < sixMonths {
		maxAge.fail(10, fmt.Sprintf("max-age=%d is under six months (%d seconds).", h.MaxAge, sixMonths), fmt.Sprintf("max-age=%d", h.MaxAge))
	} else {
		maxAge.pass(fmt.Sprintf("max-age=%d is at least six months.", h.MaxAge), fmt.Sprintf("max-age=%d", h.MaxAge))
	}
	if h.IncludeSubDomains {
		subs.pass("includeSubDomains is set.")
	} else {
		subs.warn(2, "includeSubDomains is not set.")
	}
	if h.Preload {
		pre.pass("The preload directive is set.")
	} else {
		pre.info("The preload directive is not set.")
	}
	return all
}

// ---- Cookies ----

// cookiesOverHTTPS parses every Set-Cookie received over HTTPS.
func (o *observations) cookiesOverHTTPS() (cookies []SetCookie, bad []string) {
	seen := map[string]bool{}
	visit := func(f *fetched) {
		if f == nil || f.url.Scheme != "https" {
			return
		}
		for _, line := range f.header.Values("Set-Cookie") {
			if seen[line] {
				continue
			}
			seen[line] = true
			c, err := ParseSetCookie(line)
			if err != nil {
				bad = append(bad, err.Error())
				continue
			}
			cookies = append(cookies, c)
		}
	}
	if o.https != nil {
		for _, h := range o.https.hops {
			visit(h)
		}
	}
	if o.http != nil {
		for _, h := range o.http.hops {
			visit(h)
		}
	}
	visit(o.robots)
	visit(o.notFound)
	for _, p := range o.paths {
		if p.https != nil {
			for _, h := range p.https.hops {
				visit(h)
			}
		}
	}
	return cookies, bad
}

func checkCookies(o *observations, ob obFunc) []*Check {
	secure := newCheck("HGS-COOK-001")
	httpOnly := newCheck("HGS-COOK-002")
	sameSite := newCheck("HGS-COOK-003")
	prefix := newCheck("HGS-COOK-004")
	all := []*Check{secure, httpOnly, sameSite, prefix}
	if t, err := ob("cookies"); err == nil {
		secure.Result = t.Result
	}
	cookies, bad := o.cookiesOverHTTPS()
	if len(cookies) == 0 {
		for _, c := range all {
			c.skip("No cookies were set over HTTPS.", bad...)
		}
		return all
	}
	var insecureSession, insecureOther, noHTTPOnly, noSameSite, prefixBad, sessions []string
	for _, c := range cookies {
		important := c.SessionLike() || c.CSRF()
		if important {
			sessions = append(sessions, c.Name)
		}
		if !c.Secure {
			if important {
				insecureSession = append(insecureSession, c.Name)
			} else {
				insecureOther = append(insecureOther, c.Name)
			}
		}
		if c.SessionLike() && !c.HttpOnly {
			noHTTPOnly = append(noHTTPOnly, c.Name)
		}
		if important && (!c.HasSameSite || !c.SameSiteValid) {
			s := c.Name
			if c.HasSameSite {
				s += fmt.Sprintf(" (invalid SameSite=%q)", c.SameSite)
			}
			noSameSite = append(noSameSite, s)
		}
		if p := c.PrefixProblem(); p != "" {
			prefixBad = append(prefixBad, c.Name+": "+p)
		}
	}
	names := func(cs []SetCookie) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	switch {
	case len(insecureSession) > 0:
		secure.fail(20, "Session or CSRF cookies are set without Secure: "+strings.Join(insecureSession, ", ")+".", append(insecureSession, insecureOther...)...)
	case len(insecureOther) > 0:
		secure.warn(5, "Cookies are set without Secure: "+strings.Join(insecureOther, ", ")+".", insecureOther...)
	default:
		secure.pass(fmt.Sprintf("All %d cookies set over HTTPS carry Secure.", len(cookies)), names(cookies)...)
	}
	switch {
	case len(sessions) == 0:
		httpOnly.skip("No session-like cookies were set.", names(cookies)...)
		sameSite.skip("No session-like or CSRF cookies were set.", names(cookies)...)
	default:
		if len(noHTTPOnly) > 0 {
			httpOnly.fail(10, "Session cookies are readable by scripts (no HttpOnly): "+strings.Join(noHTTPOnly, ", ")+".", noHTTPOnly...)
		} else if hasSession(cookies) {
			httpOnly.pass("Session cookies carry HttpOnly.", sessions...)
		} else {
			httpOnly.skip("No session-like cookies were set (CSRF cookies may be read by scripts).", sessions...)
		}
		if len(noSameSite) > 0 {
			sameSite.warn(5, "Session or CSRF cookies have no valid SameSite: "+strings.Join(noSameSite, ", ")+".", noSameSite...)
		} else {
			sameSite.pass("Session and CSRF cookies carry SameSite.", sessions...)
		}
	}
	if len(prefixBad) > 0 {
		prefix.fail(10, "Cookies break the rules of their name prefix, so browsers reject them.", prefixBad...)
	} else {
		prefix.pass("No cookie breaks the __Secure-/__Host- prefix rules.")
	}
	return all
}

func hasSession(cs []SetCookie) bool {
	for _, c := range cs {
		if c.SessionLike() {
			return true
		}
	}
	return false
}

// ---- Headers ----

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
	case t.ScoreModifier < 0 && (t.ScoreModifier <= -20 || !t.Pass):
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
		return c.skip("No HTTPS response to read the header from.")
	}
	v := o.https.final.header.Get("Cross-Origin-Opener-Policy")
	val := strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexByte(val, ';'); i >= 0 {
		val = strings.TrimSpace(val[:i])
	}
	switch val {
	case "":
		return c.warn(5, "Cross-Origin-Opener-Policy is not set.")
	case "same-origin", "same-origin-allow-popups", "noopener-allow-popups":
		return c.pass("Cross-Origin-Opener-Policy is "+val+".", v)
	case "unsafe-none":
		return c.warn(5, "Cross-Origin-Opener-Policy is unsafe-none, which isolates nothing.", v)
	default:
		return c.fail(5, fmt.Sprintf("Cross-Origin-Opener-Policy %q is not a valid value; browsers ignore it.", v), v)
	}
}

// ---- Content ----

// mainPage returns the final HTTPS page, parsed, when it is HTML.
func (o *observations) mainPage() (*fetched, *page) {
	if o.https == nil || o.https.final == nil || o.https.final.url.Scheme != "https" {
		return nil, nil
	}
	f := o.https.final
	if !looksHTML(f) {
		return f, nil
	}
	p := parsePage(f.body, f.url)
	return f, &p
}

func looksHTML(f *fetched) bool {
	ct := strings.ToLower(f.header.Get("Content-Type"))
	if strings.Contains(ct, "html") {
		return true
	}
	if ct == "" {
		return strings.Contains(strings.ToLower(string(f.body[:min(len(f.body), 512)])), "<html")
	}
	return false
}

var ignoredMeta = map[string]string{
	"strict-transport-security": "HSTS",
	"x-frame-options":           "X-Frame-Options",
	"x-content-type-options":    "X-Content-Type-Options",
	"set-cookie":                "Set-Cookie",
}

func checkContent(o *observations) []*Check {
	mixed := newCheck("HGS-CNT-001")
	forms := newCheck("HGS-CNT-002")
	meta := newCheck("HGS-CNT-003")
	all := []*Check{mixed, forms, meta}
	f, p := o.mainPage()
	if f == nil {
		for _, c := range all {
			c.skip("No HTTPS page was received.")
		}
		return all
	}
	if p == nil {
		for _, c := range all {
			c.skip("The HTTPS page is not HTML.", f.header.Get("Content-Type"))
		}
		return all
	}
	if f.bodyErr != nil && len(f.body) == 0 {
		for _, c := range all {
			c.errored("The page body could not be read.", f.bodyErr)
		}
		return all
	}
	var active, passive []string
	for _, r := range p.subresources {
		if isInsecureURL(r.url) {
			line := fmt.Sprintf("<%s %s=%q>", r.tag, r.attr, r.url)
			if r.active {
				active = append(active, line)
			} else {
				passive = append(passive, line)
			}
		}
	}
	switch {
	case len(active) > 0:
		mixed.fail(20, fmt.Sprintf("The page loads %d active resource(s) over http://, which browsers block.", len(active)), append(active, passive...)...)
	case len(passive) > 0:
		mixed.warn(5, fmt.Sprintf("The page loads %d image or media resource(s) over http://.", len(passive)), passive...)
	default:
		mixed.pass(fmt.Sprintf("All %d subresources load over HTTPS.", len(p.subresources)))
	}
	var insecureForms []string
	for _, fm := range p.forms {
		if isInsecureURL(fm.action) {
			insecureForms = append(insecureForms, fmt.Sprintf("<form method=%s action=%q>", fm.method, fm.action))
		}
	}
	switch {
	case len(insecureForms) > 0:
		forms.fail(20, "A form on the HTTPS page submits to http://.", insecureForms...)
	case len(p.forms) == 0:
		forms.skip("The page has no forms.")
	default:
		forms.pass(fmt.Sprintf("All %d forms submit over HTTPS.", len(p.forms)))
	}
	var ignored, seen []string
	for _, m := range p.metas {
		seen = append(seen, fmt.Sprintf("%s: %s", m.httpEquiv, m.content))
		if name, ok := ignoredMeta[m.httpEquiv]; ok {
			ignored = append(ignored, name)
		}
	}
	switch {
	case len(ignored) > 0:
		meta.warn(2, "The page sets "+strings.Join(ignored, ", ")+" in <meta http-equiv>, where browsers ignore it.", seen...)
	case len(seen) > 0:
		meta.pass("The page's <meta http-equiv> policies are ones browsers apply.", seen...)
	default:
		meta.pass("The page has no <meta http-equiv> policies.")
	}
	return all
}

// ---- Framework leaks ----

// debugSignatures identify framework debug pages.
var debugSignatures = []struct {
	framework string
	re        *regexp.Regexp
}{
	{"Django (DEBUG = True)", regexp.MustCompile(`You're seeing this error because you have <code>DEBUG = True</code>`)},
	{"Rails", regexp.MustCompile(`(?s)Action Controller: Exception caught|<h1>Routing Error</h1>.*Rails\.root`)},
	{"Laravel (Ignition)", regexp.MustCompile(`(?i)window\.ignite|ignition-(?:config|error)|Facade\\Ignition|laravel-ignition`)},
	{"Whoops", regexp.MustCompile(`Whoops! There was an error|class="Whoops container"|filp/whoops`)},
	{"Symfony debug", regexp.MustCompile(`(?i)sf-dump|Symfony\\Component\\ErrorHandler|Symfony Exception`)},
	{"Werkzeug debugger", regexp.MustCompile(`Werkzeug Debugger|The debugger caught an exception in your WSGI application|__debugger__=yes`)},
	{"Express/Node stack trace", regexp.MustCompile(`(?:Error|Exception)[^\n<]*(?:<br>|\n)\s*(?:&nbsp;|\s)*at (?:[^\s<]+ \()?(?:/|[A-Za-z]:\\|node:)[^)<\s]*:\d+:\d+`)},
	{"PHP error", regexp.MustCompile(`(?:<b>)?(?:Fatal error|Parse error|Warning)(?:</b>)?: .* in (?:<b>)?/[^ <]+\.php(?:</b>)? on line`)},
	{"ASP.NET detailed error", regexp.MustCompile(`\[(?:[A-Za-z]+Exception)[^\]]*\][\s\S]*Stack Trace:|Server Error in '/' Application`)},
}

// detectDebug returns the framework whose debug page body is, or "".
func detectDebug(body []byte) string {
	for _, s := range debugSignatures {
		if s.re.Match(body) {
			return s.framework
		}
	}
	return ""
}

var versionRE = regexp.MustCompile(`\d+\.\d+`)

// csrfFieldRE matches hidden input names that carry anti-CSRF tokens.
var csrfFieldRE = regexp.MustCompile(`(?i)csrf|xsrf|authenticity_token|^_token$|__requestverificationtoken|nonce|^form_key$|^_wpnonce$`)

func checkLeaks(o *observations) []*Check {
	debugC := newCheck("HGS-LEAK-001")
	admin := newCheck("HGS-LEAK-002")
	login := newCheck("HGS-LEAK-003")
	loginPost := newCheck("HGS-LEAK-004")
	csrf := newCheck("HGS-LEAK-005")
	server := newCheck("HGS-LEAK-006")
	trace := newCheck("HGS-LEAK-007")
	all := []*Check{debugC, admin, login, loginPost, csrf, server, trace}

	// Debug page: the random path, and the pages already fetched.
	type src struct {
		name string
		f    *fetched
	}
	var pages []src
	if o.notFound != nil {
		pages = append(pages, src{"not-found page " + o.notFound.url.Path, o.notFound})
	}
	if o.https != nil && o.https.final != nil {
		pages = append(pages, src{"home page", o.https.final})
	}
	if o.http != nil && o.http.final != nil {
		pages = append(pages, src{"HTTP page", o.http.final})
	}
	var found []string
	for _, p := range pages {
		if fw := detectDebug(p.f.body); fw != "" {
			found = append(found, fmt.Sprintf("%s on the %s (%d %s)", fw, p.name, p.f.status, p.f.url))
		}
	}
	switch {
	case len(found) > 0:
		debugC.fail(30, "A framework debug page is exposed: "+found[0]+".", found...)
	case o.notFound == nil:
		debugC.errored("The not-found probe failed.", o.notFoundErr)
	default:
		debugC.pass(fmt.Sprintf("A missing page answers %d without debug details.", o.notFound.status), o.notFound.url.String())
	}

	// Admin and login pages.
	judgePaths := func(c *Check, kind string) {
		var foundPaths, overHTTP []string
		var errs []string
		for _, p := range o.paths {
			if p.kind != kind {
				continue
			}
			if p.https != nil && p.https.failed && p.https.final == nil {
				errs = append(errs, p.https.err.Error())
			}
			if p.found {
				foundPaths = append(foundPaths, p.https.final.url.String())
				if p.servedOverHTTP {
					overHTTP = append(overHTTP, "http://"+o.t.hostPort(o.t.httpPort, 80)+p.path)
				}
			} else if p.servedOverHTTP {
				overHTTP = append(overHTTP, "http://"+o.t.hostPort(o.t.httpPort, 80)+p.path)
			}
		}
		switch {
		case len(overHTTP) > 0:
			c.fail(10, fmt.Sprintf("The %s page is served over plain HTTP.", kind), append(overHTTP, foundPaths...)...)
		case len(foundPaths) > 0:
			c.info(fmt.Sprintf("A%s %s page is reachable, over HTTPS only.", map[bool]string{true: "n", false: ""}[kind == "admin"], kind), foundPaths...)
		case len(errs) > 0 && len(errs) == countKind(o.paths, kind):
			c.errored(fmt.Sprintf("The %s probes failed.", kind), fmt.Errorf("%s", errs[0]))
		default:
			c.pass(fmt.Sprintf("No %s page was found at the usual paths.", kind))
		}
	}
	judgePaths(admin, "admin")
	judgePaths(login, "login")

	// Forms on the pages fetched: password forms posting to http://, and
	// POST forms without a CSRF token.
	var pwForms, insecurePw, postForms, noToken []string
	consider := func(where string, p page) {
		for _, fm := range p.forms {
			desc := fmt.Sprintf("%s: <form method=%s action=%q>", where, fm.method, fm.action)
			if fm.hasPassword {
				pwForms = append(pwForms, desc)
				if isInsecureURL(fm.action) {
					insecurePw = append(insecurePw, desc)
				}
			}
			if fm.method == "post" {
				postForms = append(postForms, desc)
				if !slices.ContainsFunc(fm.hidden, csrfFieldRE.MatchString) {
					noToken = append(noToken, desc)
				}
			}
		}
	}
	if _, p := o.mainPage(); p != nil {
		consider("home page", *p)
	}
	for _, p := range o.paths {
		if p.found {
			consider(p.path, p.page)
		}
	}
	switch {
	case len(insecurePw) > 0:
		loginPost.fail(20, "A login form sends the password to http://.", insecurePw...)
	case len(pwForms) == 0:
		loginPost.skip("No login form was found.")
	default:
		loginPost.pass("Login forms post over HTTPS.", pwForms...)
	}
	switch {
	case len(noToken) > 0:
		csrf.warn(5, fmt.Sprintf("%d POST form(s) carry no anti-CSRF token field.", len(noToken)), noToken...)
	case len(postForms) == 0:
		csrf.skip("No POST forms were found.")
	default:
		csrf.pass("POST forms carry an anti-CSRF token.", postForms...)
	}

	// Version disclosure, on every response seen from the site.
	var disclosed []string
	seen := map[string]bool{}
	look := func(f *fetched) {
		if f == nil {
			return
		}
		for _, h := range []string{"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Generator"} {
			for _, v := range f.header.Values(h) {
				line := h + ": " + v
				if seen[line] {
					continue
				}
				if h == "Server" && !versionRE.MatchString(v) {
					continue
				}
				seen[line] = true
				disclosed = append(disclosed, line)
			}
		}
	}
	if o.https != nil {
		for _, h := range o.https.hops {
			look(h)
		}
	}
	if o.http != nil {
		for _, h := range o.http.hops {
			look(h)
		}
	}
	look(o.notFound)
	if len(disclosed) > 0 {
		server.warn(2, "Response headers disclose the server software: "+disclosed[0]+".", disclosed...)
	} else if o.https == nil && o.http == nil {
		server.skip("No response was received.")
	} else {
		server.pass("No software version is disclosed in response headers.")
	}

	switch {
	case o.trace == nil:
		trace.errored("The TRACE probe failed.", o.traceErr)
	case o.trace.status == http.StatusOK && strings.HasPrefix(strings.ToLower(o.trace.header.Get("Content-Type")), "message/http"):
		trace.fail(10, "The server echoes TRACE requests (cross-site tracing).", fmt.Sprintf("%d %s", o.trace.status, o.trace.header.Get("Content-Type")))
	default:
		trace.pass(fmt.Sprintf("TRACE is not echoed (status %d).", o.trace.status))
	}
	return all
}

func countKind(ps []pathProbe, kind string) int {
	n := 0
	for _, p := range ps {
		if p.kind == kind {
			n++
		}
	}
	return n
}

// sentence ends s with exactly one full stop.
func sentence(s string) string {
	return strings.TrimRight(s, ". ") + "."
}

// isIPHost reports whether host is an IP literal.
func isIPHost(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
