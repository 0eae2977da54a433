package observatory

// Result codes of the Observatory 1.4.8, named as it names them.
const (
	CSPImplementedWithNoUnsafeDefaultSrcNone             = "csp-implemented-with-no-unsafe-default-src-none"
	CSPImplementedWithNoUnsafe                           = "csp-implemented-with-no-unsafe"
	CSPImplementedWithUnsafeInlineInStyleSrcOnly         = "csp-implemented-with-unsafe-inline-in-style-src-only"
	CSPImplementedWithInsecureSchemeInPassiveContentOnly = "csp-implemented-with-insecure-scheme-in-passive-content-only"
	CSPImplementedWithUnsafeEval                         = "csp-implemented-with-unsafe-eval"
	CSPImplementedWithUnsafeInline                       = "csp-implemented-with-unsafe-inline"
	CSPImplementedWithInsecureScheme                     = "csp-implemented-with-insecure-scheme"
	CSPHeaderInvalid                                     = "csp-header-invalid"
	CSPNotImplemented                                    = "csp-not-implemented"
	CSPNotImplementedButReportingEnabled                 = "csp-not-implemented-but-reporting-enabled"
	CSPImplementedButDuplicateDirectives                 = "csp-implemented-but-duplicate-directives"

	CookiesSecureWithHttponlySessionsAndSamesite      = "cookies-secure-with-httponly-sessions-and-samesite"
	CookiesSecureWithHttponlySessions                 = "cookies-secure-with-httponly-sessions"
	CookiesNotFound                                   = "cookies-not-found"
	CookiesWithoutSecureFlagButProtectedByHSTS        = "cookies-without-secure-flag-but-protected-by-hsts"
	CookiesSessionWithoutSecureFlagButProtectedByHSTS = "cookies-session-without-secure-flag-but-protected-by-hsts"
	CookiesWithoutSecureFlag                          = "cookies-without-secure-flag"
	CookiesSamesiteFlagInvalid                        = "cookies-samesite-flag-invalid"
	CookiesAnticsrfWithoutSamesiteFlag                = "cookies-anticsrf-without-samesite-flag"
	CookiesSessionWithoutHttponlyFlag                 = "cookies-session-without-httponly-flag"
	CookiesSessionWithoutSecureFlag                   = "cookies-session-without-secure-flag"

	CORSNotImplemented                  = "cross-origin-resource-sharing-not-implemented"
	CORSImplementedWithPublicAccess     = "cross-origin-resource-sharing-implemented-with-public-access"
	CORSImplementedWithRestrictedAccess = "cross-origin-resource-sharing-implemented-with-restricted-access"
	CORSImplementedWithUniversalAccess  = "cross-origin-resource-sharing-implemented-with-universal-access"

	RedirectionAllRedirectsPreloaded          = "redirection-all-redirects-preloaded"
	RedirectionToHTTPS                        = "redirection-to-https"
	RedirectionNotNeededNoHTTP                = "redirection-not-needed-no-http"
	RedirectionOffHostFromHTTP                = "redirection-off-host-from-http"
	RedirectionNotToHTTPSOnInitialRedirection = "redirection-not-to-https-on-initial-redirection"
	RedirectionNotToHTTPS                     = "redirection-not-to-https"
	RedirectionMissing                        = "redirection-missing"
	RedirectionInvalidCert                    = "redirection-invalid-cert"

	ReferrerPolicyPrivate        = "referrer-policy-private"
	ReferrerPolicyNotImplemented = "referrer-policy-not-implemented"
	ReferrerPolicyUnsafe         = "referrer-policy-unsafe"
	ReferrerPolicyHeaderInvalid  = "referrer-policy-header-invalid"

	HSTSPreloaded                          = "hsts-preloaded"
	HSTSImplementedMaxAgeAtLeastSixMonths  = "hsts-implemented-max-age-at-least-six-months"
	HSTSImplementedMaxAgeLessThanSixMonths = "hsts-implemented-max-age-less-than-six-months"
	HSTSNotImplemented                     = "hsts-not-implemented"
	HSTSHeaderInvalid                      = "hsts-header-invalid"
	HSTSNotImplementedNoHTTPS              = "hsts-not-implemented-no-https"
	HSTSInvalidCert                        = "hsts-invalid-cert"

	SRIImplementedAndAllScriptsLoadedSecurely            = "sri-implemented-and-all-scripts-loaded-securely"
	SRIImplementedAndExternalScriptsLoadedSecurely       = "sri-implemented-and-external-scripts-loaded-securely"
	SRINotImplementedResponseNotHTML                     = "sri-not-implemented-response-not-html"
	SRINotImplementedButNoScriptsLoaded                  = "sri-not-implemented-but-no-scripts-loaded"
	SRINotImplementedButAllScriptsLoadedFromSecureOrigin = "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
	SRINotImplementedButExternalScriptsLoadedSecurely    = "sri-not-implemented-but-external-scripts-loaded-securely"
	SRIImplementedButExternalScriptsNotLoadedSecurely    = "sri-implemented-but-external-scripts-not-loaded-securely"
	SRINotImplementedAndExternalScriptsNotLoadedSecurely = "sri-not-implemented-and-external-scripts-not-loaded-securely"

	XContentTypeOptionsNosniff        = "x-content-type-options-nosniff"
	XContentTypeOptionsNotImplemented = "x-content-type-options-not-implemented"
	XContentTypeOptionsHeaderInvalid  = "x-content-type-options-header-invalid"

	XFrameOptionsImplementedViaCSP = "x-frame-options-implemented-via-csp"
	XFrameOptionsSameoriginOrDeny  = "x-frame-options-sameorigin-or-deny"
	XFrameOptionsAllowFromOrigin   = "x-frame-options-allow-from-origin"
	XFrameOptionsNotImplemented    = "x-frame-options-not-implemented"
	XFrameOptionsHeaderInvalid     = "x-frame-options-header-invalid"

	CORPHeaderInvalid              = "corp-header-invalid"
	CORPImplementedWithCrossOrigin = "corp-implemented-with-cross-origin"
	CORPImplementedWithSameOrigin  = "corp-implemented-with-same-origin"
	CORPImplementedWithSameSite    = "corp-implemented-with-same-site"
	CORPNotImplemented             = "corp-not-implemented"

	HTMLNotParseable = "html-not-parseable"
)

// Test names, in the order the Observatory runs and reports them.
const (
	TestCSP                 = "content-security-policy"
	TestCookies             = "cookies"
	TestCORS                = "cross-origin-resource-sharing"
	TestRedirection         = "redirection"
	TestReferrerPolicy      = "referrer-policy"
	TestHSTS                = "strict-transport-security"
	TestSRI                 = "subresource-integrity"
	TestXContentTypeOptions = "x-content-type-options"
	TestXFrameOptions       = "x-frame-options"
	TestCORP                = "cross-origin-resource-policy"
)

// TestNames lists the ten tests of 1.4.8 in the Observatory's order.
var TestNames = []string{
	TestCSP, TestCookies, TestCORS, TestRedirection, TestReferrerPolicy,
	TestHSTS, TestSRI, TestXContentTypeOptions, TestXFrameOptions, TestCORP,
}

// MinScoreForExtraCredit is the score without bonuses a site needs for its
// bonuses to count.
const MinScoreForExtraCredit = 90

// scoreEntry is one row of the Observatory's score table.
type scoreEntry struct {
	modifier    int
	description string
}

// scoreTable maps every result code to its modifier (the Observatory's
// values) and a description (ours, in our words).
var scoreTable = map[string]scoreEntry{
	CSPImplementedWithNoUnsafeDefaultSrcNone:             {10, "Content Security Policy is implemented with default-src 'none' and without 'unsafe-inline' or 'unsafe-eval'."},
	CSPImplementedWithNoUnsafe:                           {5, "Content Security Policy is implemented without 'unsafe-inline' or 'unsafe-eval'."},
	CSPImplementedWithUnsafeInlineInStyleSrcOnly:         {0, "Content Security Policy is implemented, but allows 'unsafe-inline' (or an overly broad source) in style-src."},
	CSPImplementedWithInsecureSchemeInPassiveContentOnly: {-10, "Content Security Policy is implemented, but lets images or media load over http: or ftp:."},
	CSPImplementedWithUnsafeEval:                         {-10, "Content Security Policy is implemented, but allows 'unsafe-eval'."},
	CSPImplementedWithUnsafeInline:                       {-20, "Content Security Policy is implemented unsafely: scripts or objects may come inline, from data: or from any host."},
	CSPImplementedWithInsecureScheme:                     {-20, "Content Security Policy is implemented, but lets active content (scripts, frames...) load over http: or ftp:."},
	CSPHeaderInvalid:                                     {-25, "Content Security Policy header cannot be parsed successfully."},
	CSPNotImplemented:                                    {-25, "Content Security Policy is not implemented."},
	CSPNotImplementedButReportingEnabled:                 {-25, "Content Security Policy is only sent as Content-Security-Policy-Report-Only, which enforces nothing."},
	CSPImplementedButDuplicateDirectives:                 {0, "Content Security Policy is implemented, but repeats report-uri or report-to."},

	CookiesSecureWithHttponlySessionsAndSamesite:      {5, "All cookies use Secure and SameSite; session cookies also use HttpOnly."},
	CookiesSecureWithHttponlySessions:                 {0, "All cookies use Secure; session cookies use HttpOnly; some lack SameSite."},
	CookiesNotFound:                                   {0, "No cookies were set."},
	CookiesWithoutSecureFlagButProtectedByHSTS:        {-5, "Cookies are set without Secure, but HSTS keeps them on HTTPS."},
	CookiesSessionWithoutSecureFlagButProtectedByHSTS: {-10, "Session cookies are set without Secure, but HSTS keeps them on HTTPS."},
	CookiesWithoutSecureFlag:                          {-20, "Cookies are set without Secure."},
	CookiesSamesiteFlagInvalid:                        {-20, "A cookie has an invalid SameSite value, or SameSite=None without Secure."},
	CookiesAnticsrfWithoutSamesiteFlag:                {-20, "An anti-CSRF cookie is set without SameSite."},
	CookiesSessionWithoutHttponlyFlag:                 {-30, "Session cookies are set without HttpOnly."},
	CookiesSessionWithoutSecureFlag:                   {-40, "Session cookies are set without Secure."},

	CORSNotImplemented:                  {0, "Content is not visible to other origins through CORS."},
	CORSImplementedWithPublicAccess:     {0, "Content is visible to every origin through CORS (Access-Control-Allow-Origin: *)."},
	CORSImplementedWithRestrictedAccess: {0, "Content is visible through CORS to the origins allowed only."},
	CORSImplementedWithUniversalAccess:  {-50, "Content is visible with credentials to any origin: the Origin is reflected with Access-Control-Allow-Credentials: true."},

	RedirectionAllRedirectsPreloaded:          {0, "Every redirect is to a host on the HSTS preload list."},
	RedirectionToHTTPS:                        {0, "http:// redirects to https:// on the same host first."},
	RedirectionNotNeededNoHTTP:                {0, "Nothing answers on http://, so no redirect is needed."},
	RedirectionOffHostFromHTTP:                {-5, "http:// first redirects to a different host, so HSTS cannot be set for this one."},
	RedirectionNotToHTTPSOnInitialRedirection: {-10, "http:// first redirects to another http:// URL before reaching https://."},
	RedirectionNotToHTTPS:                     {-20, "http:// redirects, but never to https://."},
	RedirectionMissing:                        {-20, "http:// does not redirect to https://."},
	RedirectionInvalidCert:                    {-20, "The https:// site the redirects end on has an invalid certificate."},

	ReferrerPolicyPrivate:        {5, "Referrer-Policy keeps the referrer private (no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin)."},
	ReferrerPolicyNotImplemented: {0, "Referrer-Policy is not set; browsers default to strict-origin-when-cross-origin."},
	ReferrerPolicyUnsafe:         {-5, "Referrer-Policy sends the referrer to other origins (origin, origin-when-cross-origin, unsafe-url or no-referrer-when-downgrade)."},
	ReferrerPolicyHeaderInvalid:  {-5, "Referrer-Policy has no valid value."},

	HSTSPreloaded:                          {5, "The host is on the HSTS preload list."},
	HSTSImplementedMaxAgeAtLeastSixMonths:  {0, "Strict-Transport-Security is set with a max-age of at least six months."},
	HSTSImplementedMaxAgeLessThanSixMonths: {-10, "Strict-Transport-Security is set with a max-age under six months."},
	HSTSNotImplemented:                     {-20, "Strict-Transport-Security is not set."},
	HSTSHeaderInvalid:                      {-20, "Strict-Transport-Security cannot be parsed (no max-age, or set more than once)."},
	HSTSNotImplementedNoHTTPS:              {-20, "Strict-Transport-Security cannot be set: the site does not answer on https://."},
	HSTSInvalidCert:                        {-20, "Strict-Transport-Security is ignored: the certificate is invalid."},

	SRIImplementedAndAllScriptsLoadedSecurely:            {5, "Subresource Integrity is used and every script loads over HTTPS."},
	SRIImplementedAndExternalScriptsLoadedSecurely:       {5, "Subresource Integrity is used on every external script, which load over HTTPS."},
	SRINotImplementedResponseNotHTML:                     {0, "The page is not HTML, so Subresource Integrity does not apply."},
	SRINotImplementedButNoScriptsLoaded:                  {0, "The page loads no scripts, so Subresource Integrity does not apply."},
	SRINotImplementedButAllScriptsLoadedFromSecureOrigin: {0, "Subresource Integrity is not used, but every script comes from the site's own origin."},
	SRINotImplementedButExternalScriptsLoadedSecurely:    {-5, "External scripts load over HTTPS without Subresource Integrity."},
	SRIImplementedButExternalScriptsNotLoadedSecurely:    {-20, "External scripts have integrity but load over http:// or a protocol-relative URL."},
	SRINotImplementedAndExternalScriptsNotLoadedSecurely: {-50, "External scripts load over http:// or a protocol-relative URL without Subresource Integrity."},

	XContentTypeOptionsNosniff:        {0, "X-Content-Type-Options is nosniff."},
	XContentTypeOptionsNotImplemented: {-5, "X-Content-Type-Options is not set."},
	XContentTypeOptionsHeaderInvalid:  {-5, "X-Content-Type-Options has a value other than nosniff."},

	XFrameOptionsImplementedViaCSP: {5, "Framing is controlled by the CSP frame-ancestors directive."},
	XFrameOptionsSameoriginOrDeny:  {0, "X-Frame-Options is DENY or SAMEORIGIN."},
	XFrameOptionsAllowFromOrigin:   {0, "X-Frame-Options uses ALLOW-FROM, which browsers ignore."},
	XFrameOptionsNotImplemented:    {-20, "Neither X-Frame-Options nor CSP frame-ancestors is set."},
	XFrameOptionsHeaderInvalid:     {-20, "X-Frame-Options has an invalid value."},

	CORPHeaderInvalid:              {-5, "Cross-Origin-Resource-Policy has an invalid value."},
	CORPImplementedWithCrossOrigin: {0, "Cross-Origin-Resource-Policy is cross-origin: any site may embed the resources."},
	CORPImplementedWithSameOrigin:  {10, "Cross-Origin-Resource-Policy is same-origin."},
	CORPImplementedWithSameSite:    {10, "Cross-Origin-Resource-Policy is same-site."},
	CORPNotImplemented:             {0, "Cross-Origin-Resource-Policy is not set; resources default to cross-origin."},

	HTMLNotParseable: {-20, "The page's HTML cannot be parsed."},
}

// Modifier returns the Observatory's score modifier for a result code, 0
// for an unknown code.
func Modifier(result string) int { return scoreTable[result].modifier }

// Description returns a one-sentence description of a result code, "" for
// an unknown code.
func Description(result string) string { return scoreTable[result].description }

// gradeChart is the Observatory's grade for each multiple of 5.
var gradeChart = map[int]string{
	100: "A+", 95: "A", 90: "A", 85: "A-", 80: "B+", 75: "B", 70: "B", 65: "B-",
	60: "C+", 55: "C", 50: "C", 45: "C-", 40: "D+", 35: "D", 30: "D", 25: "D-",
	20: "F", 15: "F", 10: "F", 5: "F", 0: "F",
}

// Grade returns the Observatory's grade for a score, and the score as it
// reports it (never below 0; above 100 is kept).
func Grade(score int) (int, string) {
	score = max(score, 0)
	return score, gradeChart[min(score-score%5, 100)]
}
