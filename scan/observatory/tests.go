package observatory

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// state is the Input as the Observatory's tests see it.
type state struct {
	in        *Input
	session   *Session  // the analysed session; nil when none
	auto      *Response // its final response
	http      *Response // final response of the HTTP session
	https     *Response // final response of the HTTPS session
	route     []*Response
	page      string // the analysed page text
	pageOK    bool   // whether the page value is truthy
	equiv     httpEquiv
	jar       cookieJar
	corsResp  *Response
	preload   func(string) (bool, bool)
	sessHTTPS bool // the analysed session started on https
}

func newState(in *Input) *state {
	st := &state{in: in, preload: in.HSTSPreloaded}
	st.http = in.HTTP.Final()
	st.https = in.HTTPS.Final()
	st.route = in.HTTP.Chain
	st.session = in.Analysed()
	if st.session == nil {
		return st
	}
	st.auto = st.session.Final()
	st.sessHTTPS = strings.HasPrefix(strings.ToLower(st.session.Start), "https:")
	st.page, st.pageOK = pageText(st.auto.Body)
	if contentTypeIsHTML(st.auto) && st.pageOK {
		st.equiv = parseHTTPEquiv(st.page)
	}
	st.fillJar()
	st.corsResp = followUp(in.CORS)
	return st
}

// fillJar replays, through the jar, every request the Observatory sends
// with the analysed session's cookie jar, in order: each hop of the
// session, then (after the unverified retry only) each https:// request of
// the robots.txt fetch and of the CORS preflight. Each request first lets
// the jar drop the expired cookies it would have sent, then its response
// stores its cookies. A request the cookie agent would have failed ends the
// replay of its chain.
//
// After a certificate error the Observatory redoes the session with the
// same jar, so the first attempt's cookies are in it too; for a server that
// answers the same whatever cookies it gets, the second attempt sets them
// all again, so replaying it alone is enough.
func (st *state) fillJar() {
	now := st.in.Time
	if now.IsZero() {
		now = time.Now()
	}
	replay := func(chain []*Response, httpsOnly bool) {
		for _, r := range chain {
			if r == nil {
				continue
			}
			if httpsOnly && schemeOf(r.URL) != "https" {
				// The follow-up client has a cookie agent for https only.
				continue
			}
			if !st.jar.exchange(r.URL, headerValues(r, "set-cookie"), now) {
				return
			}
		}
	}
	replay(st.session.Chain, false)
	if st.session.Verified {
		return
	}
	for _, c := range []struct {
		chain []*Response
		final *Response
	}{{st.in.RobotsChain, st.in.Robots}, {st.in.CORSChain, st.in.CORS}} {
		if c.chain == nil && c.final != nil {
			c.chain = []*Response{c.final}
		}
		replay(c.chain, true)
	}
}

// followUp returns r if the Observatory's follow-up client would have
// returned it: that client rejects every final status outside 2xx, and the
// Observatory then treats the request as failed.
func followUp(r *Response) *Response {
	if r == nil || r.Status < 200 || r.Status > 299 {
		return nil
	}
	return r
}

// preloaded is the Observatory's isHstsPreloaded: the host itself, or a
// parent domain with includeSubDomains.
func (st *state) preloaded(host string) (bool, bool) {
	if st.preload == nil {
		return false, false
	}
	if ok, sub := st.preload(host); ok {
		return true, sub
	}
	labels := strings.Split(host, ".")
	for i := 1; i < len(labels); i++ {
		if ok, sub := st.preload(strings.Join(labels[i:], ".")); ok && sub {
			return true, sub
		}
	}
	return false, false
}

// worse is the Observatory's onlyIfWorse over an order from best to worst.
func worse(next, cur string, order []string) string {
	if cur == "" || slices.Index(order, next) > slices.Index(order, cur) {
		return next
	}
	return cur
}

// CSPData is what the CSP test reports besides its result.
type CSPData struct {
	// Policy is the merged policy: directive to sorted sources.
	Policy map[string][]string
	// HTTP and Meta report where policies were found.
	HTTP, Meta bool
	// NumPolicies counts header values and <meta> policies.
	NumPolicies int
	// Flags are the Observatory's policy properties (antiClickjacking,
	// unsafeInline...), by its names.
	Flags map[string]bool
}

var (
	dangerouslyBroad = []string{"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
	unsafeInline     = []string{"'unsafe-inline'", "data:"}
	broadOrInline    = append(slices.Clone(dangerouslyBroad), unsafeInline...)
	noncesHashes     = []string{"'sha256-", "'sha384-", "'sha512-", "'nonce-"}
)

func hasNonceOrHash(set *srcSet) bool {
	for _, s := range set.items {
		for _, p := range noncesHashes {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
	}
	return false
}

func anyIn(set *srcSet, list []string) bool {
	for _, s := range set.items {
		if slices.Contains(list, s) {
			return true
		}
	}
	return false
}

func insecureScheme(sources []string) bool {
	for _, s := range sources {
		if strings.HasPrefix(s, "http:") || strings.HasPrefix(s, "ftp:") {
			return true
		}
	}
	return false
}

func (st *state) csp() Test {
	t := Test{Name: TestCSP, Expectation: CSPImplementedWithNoUnsafe}
	if st.auto == nil {
		t.Result = CSPNotImplemented
		return t
	}
	httpCSP := headerValues(st.auto, "content-security-policy")
	metaCSP := st.equiv.csp
	data := &CSPData{NumPolicies: len(httpCSP) + len(metaCSP)}
	t.Data = data
	csp, err := parseObservatoryCSP(append(slices.Clone(httpCSP), metaCSP...))
	if err != nil {
		t.Result = CSPHeaderInvalid
		return t
	}
	headerOnly, err := parseObservatoryCSP(httpCSP)
	if err != nil {
		headerOnly = &cspMap{}
	}
	meta, err := parseObservatoryMetaCSP(metaCSP)
	if err != nil {
		meta = &cspMap{}
	}
	if headerOnly.size()+meta.size() == 0 {
		if ro := headerValues(st.auto, "content-security-policy-report-only"); len(ro) > 0 && ro[0] != "" {
			t.Result = CSPNotImplementedButReportingEnabled
		} else {
			t.Result = CSPNotImplemented
		}
		return t
	}
	flags := map[string]bool{}
	data.Flags = flags
	data.HTTP, data.Meta = len(httpCSP) > 0, len(metaCSP) > 0

	orDefault := func(directive string, def ...string) *srcSet {
		if s := csp.get(directive); s != nil {
			return s
		}
		if def == nil {
			return nil
		}
		return newSrcSet(def...)
	}
	baseURI := orDefault("base-uri", "*")
	frameAncestors := headerOnly.get("frame-ancestors")
	if frameAncestors == nil {
		frameAncestors = newSrcSet("*")
	}
	formAction := orDefault("form-action", "*")
	pick := func(directive string) *srcSet {
		if s := csp.get(directive); s != nil {
			return s
		}
		if s := csp.get("default-src"); s != nil {
			return s
		}
		return newSrcSet("*")
	}
	objectSrc, scriptSrc, styleSrc := pick("object-src"), pick("script-src"), pick("style-src")

	for _, list := range []*srcSet{scriptSrc, styleSrc} {
		if hasNonceOrHash(list) && list.has("'unsafe-inline'") {
			list.remove("'unsafe-inline'")
		}
	}
	switch {
	case hasNonceOrHash(scriptSrc) && scriptSrc.has("'strict-dynamic'"):
		for _, s := range scriptSrc.list() {
			broad := false
			for _, b := range dangerouslyBroad {
				if strings.HasPrefix(s, b) {
					broad = true
				}
			}
			if broad || s == "'self'" || s == "'unsafe-inline'" {
				scriptSrc.remove(s)
			}
		}
		flags["strictDynamic"] = true
	case scriptSrc.has("'strict-dynamic'"):
		t.Result = CSPHeaderInvalid
	}

	var active []string
	for _, k := range csp.keys {
		if k == "img-src" || k == "media-src" || k == "script-src" {
			continue
		}
		active = append(active, csp.get(k).items...)
	}
	active = append(active, scriptSrc.items...)
	var passive []string
	for _, d := range []string{"img-src", "media-src"} {
		if s := csp.get(d); s != nil {
			passive = append(passive, s.items...)
		} else if s := csp.get("default-src"); s != nil {
			passive = append(passive, s.items...)
		}
	}
	setIfNone := func(r string) {
		if t.Result == "" {
			t.Result = r
		}
	}
	isHTTPS := st.sessHTTPS
	if anyIn(scriptSrc, broadOrInline) || anyIn(objectSrc, dangerouslyBroad) {
		setIfNone(CSPImplementedWithUnsafeInline)
		flags["unsafeInline"] = true
	}
	if isHTTPS && insecureScheme(active) {
		setIfNone(CSPImplementedWithInsecureScheme)
		flags["insecureSchemeActive"] = true
	}
	if scriptSrc.has("'unsafe-eval'") || styleSrc.has("'unsafe-eval'") {
		setIfNone(CSPImplementedWithUnsafeEval)
		flags["unsafeEval"] = true
	}
	if isHTTPS && insecureScheme(passive) {
		setIfNone(CSPImplementedWithInsecureSchemeInPassiveContentOnly)
		flags["insecureSchemePassive"] = true
	}
	if anyIn(styleSrc, broadOrInline) {
		setIfNone(CSPImplementedWithUnsafeInlineInStyleSrcOnly)
		flags["unsafeInlineStyle"] = true
	}
	if ds := csp.get("default-src"); ds != nil && ds.has("'none'") && len(ds.items) == 1 {
		setIfNone(CSPImplementedWithNoUnsafeDefaultSrcNone)
		flags["defaultNone"] = true
	} else {
		setIfNone(CSPImplementedWithNoUnsafe)
	}
	flags["antiClickjacking"] = !anyIn(frameAncestors, dangerouslyBroad)
	flags["insecureBaseUri"] = anyIn(baseURI, broadOrInline)
	flags["insecureFormAction"] = anyIn(formAction, dangerouslyBroad)
	flags["unsafeObjects"] = anyIn(objectSrc, dangerouslyBroad)

	switch t.Result {
	case t.Expectation, CSPImplementedWithNoUnsafeDefaultSrcNone,
		CSPImplementedWithUnsafeInlineInStyleSrcOnly, CSPImplementedWithInsecureSchemeInPassiveContentOnly:
		t.Pass = true
		if csp.get(dupWarnings) != nil {
			t.Result = CSPImplementedButDuplicateDirectives
		}
	}
	data.Policy = map[string][]string{}
	for _, k := range csp.keys {
		if k == dupWarnings {
			continue
		}
		v := csp.get(k).list()
		slices.SortFunc(v, compareUTF16)
		data.Policy[k] = v
	}
	return t
}

// compareUTF16 is JavaScript's default sort order: UTF-16 code units.
func compareUTF16(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	ua, ub := utf16Units(ra), utf16Units(rb)
	return slices.Compare(ua, ub)
}

func utf16Units(rs []rune) []uint16 {
	var u []uint16
	for _, r := range rs {
		if r >= 0x10000 {
			r -= 0x10000
			u = append(u, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
			continue
		}
		u = append(u, uint16(r))
	}
	return u
}

// CookieData describes one cookie of the jar, as the cookies test reports
// it.
type CookieData struct {
	Domain   string `json:"domain"`
	Path     string `json:"path"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"httponly"`
	SameSite string `json:"samesite,omitempty"`
}

func (st *state) cookies(hstsPass bool) Test {
	t := Test{Name: TestCookies, Expectation: CookiesSecureWithHttponlySessions}
	order := []string{
		CookiesWithoutSecureFlagButProtectedByHSTS, CookiesWithoutSecureFlag,
		CookiesSessionWithoutSecureFlagButProtectedByHSTS, CookiesSamesiteFlagInvalid,
		CookiesAnticsrfWithoutSamesiteFlag, CookiesSessionWithoutHttponlyFlag,
		CookiesSessionWithoutSecureFlag,
	}
	if st.auto != nil {
		for _, raw := range headerValues(st.auto, "set-cookie") {
			if invalidSameSite(raw) {
				t.Result = worse(CookiesSamesiteFlagInvalid, t.Result, order)
			}
		}
	}
	var all []*jarCookie
	for _, c := range st.jar.cookies {
		if c.key != "" && c.key != "heroku-session-affinity" {
			all = append(all, c)
		}
	}
	if len(all) == 0 {
		t.Result = CookiesNotFound
	} else {
		missingSameSite := false
		data := map[string]CookieData{}
		for _, c := range all {
			lk := strings.ToLower(c.key)
			session := strings.Contains(lk, "login") || strings.Contains(lk, "sess")
			anticsrf := strings.Contains(lk, "csrf")
			if !c.secure && c.sameSite == "none" {
				t.Result = worse(CookiesSamesiteFlagInvalid, t.Result, order)
			}
			switch {
			case !c.secure && hstsPass:
				t.Result = worse(CookiesWithoutSecureFlagButProtectedByHSTS, t.Result, order)
			case !c.secure:
				t.Result = worse(CookiesWithoutSecureFlag, t.Result, order)
			}
			if anticsrf && c.sameSite == "" {
				t.Result = worse(CookiesAnticsrfWithoutSamesiteFlag, t.Result, order)
			}
			switch {
			case session && !c.secure && hstsPass:
				t.Result = worse(CookiesSessionWithoutSecureFlagButProtectedByHSTS, t.Result, order)
			case session && !c.secure:
				t.Result = worse(CookiesSessionWithoutSecureFlag, t.Result, order)
			}
			if session && !c.httpOnly {
				t.Result = worse(CookiesSessionWithoutHttponlyFlag, t.Result, order)
			}
			if c.sameSite == "" {
				missingSameSite = true
			}
			data[c.key] = CookieData{Domain: c.domain, Path: c.path, Secure: c.secure, HTTPOnly: c.httpOnly, SameSite: c.sameSite}
		}
		if t.Result == "" {
			if missingSameSite {
				t.Result = CookiesSecureWithHttponlySessions
			} else {
				t.Result = CookiesSecureWithHttponlySessionsAndSamesite
			}
		}
		t.Data = data
	}
	switch t.Result {
	case CookiesNotFound, CookiesSecureWithHttponlySessionsAndSamesite, t.Expectation:
		t.Pass = true
	}
	return t
}

// invalidSameSite is the Observatory's check of a raw Set-Cookie line for a
// SameSite attribute that is empty or not Lax, Strict or None.
func invalidSameSite(raw string) bool {
	for _, p := range strings.Split(jsTrim(raw), ";") {
		parts := strings.Split(jsTrim(p), "=")
		if strings.ToLower(jsTrim(parts[0])) != "samesite" {
			continue
		}
		if len(parts) < 2 || parts[1] == "" {
			return true
		}
		switch strings.ToLower(jsTrim(parts[1])) {
		case "lax", "strict", "none":
		default:
			return true
		}
	}
	return false
}

func (st *state) cors() Test {
	t := Test{Name: TestCORS, Expectation: CORSNotImplemented, Result: CORSNotImplemented}
	// The Observatory reads the Origin it sent from the Node request
	// object, which has no headers property: the origin is never seen,
	// so a reflected origin with credentials counts as restricted access.
	// (Reproduced on purpose; the httpsguard scoring catches it.)
	if acao, ok := firstHeader(st.corsResp, "access-control-allow-origin"); st.corsResp != nil && ok && acao != "" {
		v := strings.ToLower(jsTrim(truncateUTF16(acao, 256)))
		t.Data = v
		if v == "*" {
			t.Result = CORSImplementedWithPublicAccess
		} else {
			t.Result = CORSImplementedWithRestrictedAccess
		}
	}
	switch t.Result {
	case CORSImplementedWithPublicAccess, CORSImplementedWithRestrictedAccess, t.Expectation:
		t.Pass = true
	}
	return t
}

// truncateUTF16 is JavaScript's s.slice(0, n).
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

// RedirectionData is what the redirection test reports besides its result.
type RedirectionData struct {
	// Destination is the last URL of the HTTP chain.
	Destination string
	// Route lists the URLs of the HTTP chain.
	Route []string
	// StatusCode is the status the Observatory reports.
	StatusCode int
	// Redirects is false when http:// did not redirect at all.
	Redirects bool
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func schemeOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

func (st *state) redirection() Test {
	t := Test{Name: TestRedirection, Expectation: RedirectionToHTTPS}
	data := &RedirectionData{Redirects: true}
	t.Data = data
	if len(st.route) > 0 {
		data.Destination = st.route[len(st.route)-1].URL
	}
	resp := st.http
	if resp != nil {
		data.StatusCode = resp.Status
	}
	route := st.route
	switch {
	case resp == nil:
		t.Result = RedirectionNotNeededNoHTTP
	case !st.in.HTTP.Verified:
		t.Result = RedirectionInvalidCert
	default:
		for _, r := range route {
			data.Route = append(data.Route, r.URL)
		}
		all := true
		for _, r := range route {
			if ok, _ := st.preloaded(hostOf(r.URL)); !ok {
				all = false
				break
			}
		}
		switch {
		case all:
			t.Result = RedirectionAllRedirectsPreloaded
		case len(route) == 1:
			t.Result = RedirectionMissing
			data.Redirects = false
		case schemeOf(route[len(route)-1].URL) != "https":
			t.Result = RedirectionNotToHTTPS
		case schemeOf(route[1].URL) == "http":
			t.Result = RedirectionNotToHTTPSOnInitialRedirection
			data.StatusCode = route[len(route)-1].Status
		case schemeOf(route[0].URL) == "http" && schemeOf(route[1].URL) == "https" &&
			hostOf(route[0].URL) != hostOf(route[1].URL):
			t.Result = RedirectionOffHostFromHTTP
		default:
			t.Result = RedirectionToHTTPS
		}
	}
	switch t.Result {
	case RedirectionNotNeededNoHTTP, RedirectionAllRedirectsPreloaded, t.Expectation:
		t.Pass = true
	}
	return t
}

var (
	referrerGood = []string{"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
	referrerBad  = []string{"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
)

func (st *state) referrer() Test {
	t := Test{Name: TestReferrerPolicy, Expectation: ReferrerPolicyPrivate}
	if st.auto == nil {
		t.Result = ReferrerPolicyNotImplemented
		return t
	}
	vals := append(slices.Clone(headerValues(st.auto, "referrer-policy")), st.equiv.referrer...)
	if len(vals) == 0 {
		t.Result = ReferrerPolicyNotImplemented
		t.Pass = true
		return t
	}
	joined := strings.Join(vals, ", ")
	t.Data = joined
	policy := ""
	for _, p := range strings.Split(joined, ",") {
		p = strings.ToLower(jsTrim(p))
		if slices.Contains(referrerGood, p) || slices.Contains(referrerBad, p) {
			policy = p
		}
	}
	switch {
	case slices.Contains(referrerGood, policy):
		t.Result = ReferrerPolicyPrivate
	case slices.Contains(referrerBad, policy):
		t.Result = ReferrerPolicyUnsafe
	default:
		t.Result = ReferrerPolicyHeaderInvalid
	}
	t.Pass = t.Result == ReferrerPolicyPrivate || t.Result == ReferrerPolicyNotImplemented
	return t
}

// HSTSData is what the HSTS test reports besides its result.
type HSTSData struct {
	Header            string
	MaxAge            *int64
	IncludeSubDomains bool
	Preload           bool
	Preloaded         bool
}

// sixMonths is the Observatory's six months: 180 days, rather than half of
// 365, because so many sites use it.
const sixMonths = 15552000

var leadingInt = regexp.MustCompile(`^[\t\n\v\f\r \x{A0}\x{FEFF}]*([+-]?)([0-9]+)`)

// jsParseInt is parseInt(s, 10); ok is false where it returns NaN.
func jsParseInt(s string) (int64, bool) {
	m := leadingInt.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		n = 1<<63 - 1
	}
	if m[1] == "-" {
		n = -n
	}
	return n, true
}

func (st *state) hsts() Test {
	t := Test{Name: TestHSTS, Expectation: HSTSImplementedMaxAgeAtLeastSixMonths, Result: HSTSNotImplemented}
	data := &HSTSData{}
	t.Data = data
	resp := st.https
	vals := headerValues(resp, "strict-transport-security")
	switch {
	case resp == nil:
		t.Result = HSTSNotImplementedNoHTTPS
	case !st.in.HTTPS.Verified:
		t.Result = HSTSInvalidCert
	case len(vals) > 0:
		h := truncateUTF16(vals[0], 1024)
		data.Header = h
		t.Result = hstsResult(h, data)
	}
	if resp != nil {
		if ok, sub := st.preloaded(st.in.Hostname); ok {
			t.Result = HSTSPreloaded
			data.IncludeSubDomains = sub
			data.Preloaded = true
		}
	}
	switch t.Result {
	case HSTSImplementedMaxAgeAtLeastSixMonths, HSTSPreloaded, t.Expectation:
		t.Pass = true
	}
	return t
}

// hstsResult reads an HSTS header value the Observatory's way.
func hstsResult(h string, data *HSTSData) string {
	if strings.Contains(h, ",") {
		return HSTSHeaderInvalid
	}
	var maxAge *int64
	nan := false
	for _, p := range strings.Split(h, ";") {
		p = strings.ToLower(jsTrim(p))
		switch {
		case strings.HasPrefix(p, "max-age="):
			n, ok := jsParseInt(truncateUTF16(p, 128)[len("max-age="):])
			maxAge, nan = &n, !ok
		case p == "includesubdomains":
			data.IncludeSubDomains = true
		case p == "preload":
			data.Preload = true
		}
	}
	if maxAge == nil {
		return HSTSHeaderInvalid
	}
	if !nan {
		data.MaxAge = maxAge
	}
	// NaN < SIX_MONTHS is false in JavaScript: a max-age that does not
	// parse counts as at least six months.
	if !nan && *maxAge < sixMonths {
		return HSTSImplementedMaxAgeLessThanSixMonths
	}
	return HSTSImplementedMaxAgeAtLeastSixMonths
}

// ScriptData describes one external script the SRI test looked at.
type ScriptData struct {
	CrossOrigin *string `json:"crossorigin"`
	Integrity   string  `json:"integrity"`
}

var (
	relativeProtocol = regexp.MustCompile(`^//[^/]`)
	fullURL          = regexp.MustCompile(`^https?://`)
)

// registrableDomain is tldts's parse(s).domain with ICANN rules only: ""
// for an IP address, a bare public suffix or a name that does not parse.
func registrableDomain(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || net.ParseIP(strings.Trim(host, "[]")) != nil {
		return ""
	}
	suffix, icann := publicsuffix.PublicSuffix(host)
	for !icann {
		i := strings.IndexByte(suffix, '.')
		if i < 0 {
			break
		}
		suffix, icann = publicsuffix.PublicSuffix(suffix[i+1:])
	}
	if suffix == host || !strings.HasSuffix(host, "."+suffix) {
		return ""
	}
	rest := strings.TrimSuffix(host, "."+suffix)
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest + "." + suffix
}

func (st *state) sri() Test {
	t := Test{Name: TestSRI, Expectation: SRIImplementedAndExternalScriptsLoadedSecurely}
	order := []string{
		SRIImplementedAndAllScriptsLoadedSecurely, SRIImplementedAndExternalScriptsLoadedSecurely,
		SRIImplementedButExternalScriptsNotLoadedSecurely, SRINotImplementedButExternalScriptsLoadedSecurely,
		SRINotImplementedAndExternalScriptsNotLoadedSecurely, SRINotImplementedResponseNotHTML,
	}
	if st.auto == nil {
		t.Result = SRINotImplementedButNoScriptsLoaded
		return t
	}
	data := map[string]ScriptData{}
	if !contentTypeIsHTML(st.auto) {
		t.Result = SRINotImplementedResponseNotHTML
	} else {
		page := ""
		if st.pageOK {
			page = st.page
		}
		scripts, err := parseScripts(page)
		if err != nil {
			t.Result = HTMLNotParseable
			t.Data = map[string]ScriptData{}
			return t
		}
		foreign := false
		siteDomain := registrableDomain(st.in.Hostname)
		for _, s := range scripts {
			if s.src == "" {
				continue
			}
			relOrigin, relProto, sameSLD := false, false, false
			switch {
			case relativeProtocol.MatchString(s.src):
				relProto, sameSLD = true, true
			case fullURL.MatchString(s.src):
				sameSLD = registrableDomain(hostOf(s.src)) == siteDomain
			default:
				relOrigin, sameSLD = true, true
			}
			secureOrigin := relOrigin || (sameSLD && !relProto)
			if !secureOrigin {
				foreign = true
			}
			secureScheme := (!relProto && !relOrigin && schemeOf(s.src) == "https") || (relOrigin && st.sessHTTPS)
			if !secureOrigin {
				data[s.src] = ScriptData{CrossOrigin: s.crossOrigin, Integrity: s.integrity}
				switch {
				case s.integrity != "" && !secureScheme:
					t.Result = worse(SRIImplementedButExternalScriptsNotLoadedSecurely, t.Result, order)
				case s.integrity == "" && secureScheme:
					t.Result = worse(SRINotImplementedButExternalScriptsLoadedSecurely, t.Result, order)
				case s.integrity == "" && !secureScheme:
					t.Result = worse(SRINotImplementedAndExternalScriptsNotLoadedSecurely, t.Result, order)
				}
			} else if s.integrity != "" && secureScheme && t.Result == "" {
				t.Result = SRIImplementedAndAllScriptsLoadedSecurely
			}
		}
		switch {
		case len(scripts) == 0:
			t.Result = SRINotImplementedButNoScriptsLoaded
		case t.Result == "" && foreign:
			t.Result = SRIImplementedAndExternalScriptsLoadedSecurely
		case t.Result == "":
			t.Result = SRINotImplementedButAllScriptsLoadedFromSecureOrigin
		}
	}
	t.Data = data
	switch t.Result {
	case SRIImplementedAndAllScriptsLoadedSecurely, SRIImplementedAndExternalScriptsLoadedSecurely,
		SRINotImplementedResponseNotHTML, SRINotImplementedButAllScriptsLoadedFromSecureOrigin,
		SRINotImplementedButNoScriptsLoaded, t.Expectation:
		t.Pass = true
	}
	return t
}

func (st *state) xContentTypeOptions() Test {
	t := Test{Name: TestXContentTypeOptions, Expectation: XContentTypeOptionsNosniff}
	if st.auto == nil {
		t.Result = XContentTypeOptionsNotImplemented
		return t
	}
	if h, _ := firstHeader(st.auto, "x-content-type-options"); h != "" {
		h = truncateUTF16(h, 256)
		t.Data = h
		if strings.ToLower(jsTrim(h)) == "nosniff" {
			t.Result = XContentTypeOptionsNosniff
		} else {
			t.Result = XContentTypeOptionsHeaderInvalid
		}
	} else {
		t.Result = XContentTypeOptionsNotImplemented
	}
	t.Pass = t.Result == t.Expectation
	return t
}

func (st *state) xFrameOptions(csp Test) Test {
	t := Test{Name: TestXFrameOptions, Expectation: XFrameOptionsSameoriginOrDeny}
	if st.auto == nil {
		t.Result = XFrameOptionsNotImplemented
		return t
	}
	if h, _ := firstHeader(st.auto, "x-frame-options"); h != "" {
		h = truncateUTF16(h, 1024)
		t.Data = h
		v := strings.ToLower(jsTrim(h))
		switch {
		case v == "deny" || v == "sameorigin":
			t.Result = XFrameOptionsSameoriginOrDeny
		case strings.HasPrefix(v, "allow-from"):
			t.Result = XFrameOptionsAllowFromOrigin
		default:
			t.Result = XFrameOptionsHeaderInvalid
		}
	} else {
		t.Result = XFrameOptionsNotImplemented
	}
	// The CSP test's merged policy includes <meta> policies, so a
	// frame-ancestors in a <meta> counts here although browsers ignore it.
	if d, ok := csp.Data.(*CSPData); ok && d.Policy != nil {
		if _, ok := d.Policy["frame-ancestors"]; ok {
			t.Result = XFrameOptionsImplementedViaCSP
		}
	}
	switch t.Result {
	case XFrameOptionsAllowFromOrigin, XFrameOptionsSameoriginOrDeny, XFrameOptionsImplementedViaCSP, t.Expectation:
		t.Pass = true
	}
	return t
}

func (st *state) corp() Test {
	t := Test{Name: TestCORP, Expectation: CORPImplementedWithSameSite, Result: CORPNotImplemented}
	if st.auto != nil {
		// The Observatory also looks for a <meta http-equiv> CORP, but its
		// meta parser never records one, so only the header counts.
		if h, _ := firstHeader(st.auto, "cross-origin-resource-policy"); h != "" {
			v := strings.ToLower(jsTrim(truncateUTF16(h, 256)))
			if v != "" {
				t.Data = v
				switch v {
				case "same-site":
					t.Result = CORPImplementedWithSameSite
				case "same-origin":
					t.Result = CORPImplementedWithSameOrigin
				case "cross-origin":
					t.Result = CORPImplementedWithCrossOrigin
				default:
					t.Result = CORPHeaderInvalid
				}
			}
		}
	}
	switch t.Result {
	case t.Expectation, CORPNotImplemented, CORPImplementedWithSameSite,
		CORPImplementedWithSameOrigin, CORPImplementedWithCrossOrigin:
		t.Pass = true
	}
	return t
}
