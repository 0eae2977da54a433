package observatory

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Request constants of the Observatory 1.4.8 retriever. A fetcher that wants
// results identical to the Observatory's sends exactly these.
const (
	// UserAgent is the User-Agent header of every request.
	UserAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:129.0) Gecko/20100101 Firefox/129.0 Observatory/129.0"
	// Accept is the Accept header of the two page sessions (every hop).
	Accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	// RobotsAccept is the Accept header of the /robots.txt request.
	RobotsAccept = "text/plain,*/*;q=0.8"
	// CORSOrigin is the Origin header of the CORS preflight request.
	CORSOrigin = "https://http-observatory.security.mozilla.org"
	// MaxRedirects is how many redirects a session follows. The response
	// to the request after the tenth redirect is final even when it is
	// itself a redirect, so a chain holds at most MaxRedirects+1 responses.
	MaxRedirects = 10
)

// redirectStatuses are the status codes the retriever follows.
var redirectStatuses = map[int]bool{301: true, 302: true, 303: true, 307: true, 308: true}

// Response is one HTTP response as received.
type Response struct {
	// URL is the absolute URL that was requested.
	URL string
	// Status is the HTTP status code.
	Status int
	// Header holds the response header fields exactly as received: every
	// field line kept (repeated fields as separate values, in order),
	// values as the server sent them. Do not merge or drop anything; the
	// Observatory's view of repeated fields (Node's joining rules) is
	// reproduced by this package.
	Header http.Header
	// Body is the response body with any Content-Encoding (gzip, deflate,
	// br) removed, as the Observatory's HTTP client decodes it. It is
	// needed only for the final response of each session; it may be
	// truncated to a cap (2 MiB is plenty: only <meta> and <script>
	// elements are read).
	Body []byte
}

// Session is one of the two page sessions of the retriever: a GET of
// http://host[:port]/ or of https://host[:port]/, with redirects followed by
// hand.
//
// How to fetch a session, as the Observatory does:
//   - GET Start with headers User-Agent: UserAgent and Accept: Accept, no
//     automatic redirects. Record the response in Chain. (Use the
//     transport's RoundTrip: http.Client fails on a Location it cannot
//     parse even with CheckRedirect returning ErrUseLastResponse, where the
//     Observatory follows it.)
//   - While fewer than MaxRedirects redirects were followed and the status
//     is one of 301, 302, 303, 307, 308: compute the next URL with
//     NextURL(previous URL, response, redirects so far) (it resolves
//     Location as the Observatory does, a missing one included), GET it
//     with the same headers, and record the response. Every request is a
//     GET, whatever the status.
//   - Send every request with the cookies of the session's Jar (one per
//     session: Jar.Request before, Jar.Response after), so that a site
//     that answers according to its cookies answers as it answers the
//     Observatory. Speak HTTP/1.1, as the Observatory's Node client does:
//     a server may answer HTTP/2 differently.
//   - If any request of the chain fails with a certificate verification
//     error (unknown authority, expired, not yet valid, name mismatch,
//     self-signed...), discard the chain (not the Jar: the Observatory
//     keeps it), and redo the whole session from Start without
//     certificate verification; set Verified to false. Verified stays
//     true otherwise, including for an http:// session that never touched
//     TLS.
//   - If any request fails for another reason (refused, reset, timeout,
//     malformed response) or fails again after the unverified retry, the
//     session failed: set Failed and leave Chain as it was or empty.
type Session struct {
	// Start is the first URL requested: "http://host/" or
	// "https://host/", with ":port" when a non-default port is scanned.
	Start string
	// Chain holds every response received, in order: Chain[0] answers
	// Start and the last element is the final response of the session.
	Chain []*Response
	// Verified reports whether certificates were verified for the whole
	// session (false after the unverified retry described above).
	Verified bool
	// Failed reports that the session did not complete; Chain is then
	// ignored.
	Failed bool
}

// Final returns the final response of the session, or nil when the session
// failed or holds no response.
func (s *Session) Final() *Response {
	if s == nil || s.Failed || len(s.Chain) == 0 {
		return nil
	}
	return s.Chain[len(s.Chain)-1]
}

// Input is everything the Observatory's retriever fetches for one host.
//
// Order of work, as in the Observatory: fetch the HTTP and HTTPS sessions
// (in parallel, each with its own cookie jar); choose the analysed session,
// which is the HTTPS session when it did not fail and the HTTP session
// otherwise (see Input.Analysed); then, on the analysed session's origin,
// fetch Robots and then CORS. If both sessions failed, the site is down and
// nothing else is fetched (Analyze reports ErrSiteDown).
type Input struct {
	// Hostname is the host name scanned, without port, as given by the
	// user (lower case). The Observatory looks it up in its HSTS preload
	// list and compares script origins with it.
	Hostname string

	// HTTP is the session started at http://host[:httpPort]/.
	HTTP Session
	// HTTPS is the session started at https://host[:httpsPort]/.
	HTTPS Session

	// Robots is the response to GET Input.RobotsURL() (/robots.txt
	// resolved against the analysed session's Start URL), sent with
	// User-Agent and Accept: RobotsAccept, following redirects as
	// follow-redirects does (any 3xx with a Location, at most 10; 303
	// turns the method into GET), with certificate verification as in the
	// analysed session. After the unverified retry, its https:// requests
	// carry the session's cookies (its Jar) and store theirs in it. Nil when the request failed. A final status
	// outside 2xx counts as a failure, as in the Observatory (Analyze
	// applies that rule itself, so record the response anyway).
	Robots *Response
	// RobotsChain holds every response received for the robots.txt
	// request, redirects included, in order, even when a later request of
	// it failed. Only its Set-Cookie fields matter, and only when the
	// analysed session is unverified: the Observatory's follow-up client
	// shares the session's cookie jar only after the unverified retry,
	// and then on https:// requests only. Every response's cookies count
	// then, whatever its status. When RobotsChain is nil, Robots alone
	// stands for it.
	RobotsChain []*Response

	// CORS is the response to the CORS preflight, fetched after Robots:
	// OPTIONS on Input.CORSURL() (the URL of the analysed session's final
	// response, except after an unverified retry, see there), with headers
	// User-Agent, Accept: Accept, Access-Control-Request-Method: GET and
	// Origin: CORSOrigin, following redirects as Robots does, with
	// certificate verification as in the analysed session. Nil when the request failed; as for Robots, a final
	// status outside 2xx counts as a failure, and Analyze applies that rule
	// itself.
	CORS *Response
	// CORSChain is to CORS what RobotsChain is to Robots.
	CORSChain []*Response

	// Time is when the responses were received: a cookie whose Expires
	// date is not after it has expired. The zero Time means the time
	// Analyze runs.
	Time time.Time

	// HSTSPreloaded, if not nil, reports whether a host name is on the
	// HSTS preload list with mode "force-https" (includeSubDomains is the
	// entry's flag). Nil means the preload list is empty, which is what
	// the Observatory uses when its conf/hsts-preload.json is "{}".
	HSTSPreloaded func(host string) (preloaded, includeSubDomains bool)
}

// Analysed returns the session the Observatory analyses: HTTPS when it did
// not fail, HTTP otherwise. It returns nil when both failed.
func (in *Input) Analysed() *Session {
	switch {
	case !in.HTTPS.Failed && len(in.HTTPS.Chain) > 0:
		return &in.HTTPS
	case !in.HTTP.Failed && len(in.HTTP.Chain) > 0:
		return &in.HTTP
	}
	return nil
}

// RobotsURL returns the URL of the robots.txt request: /robots.txt on the
// analysed session's start URL. It returns "" when both sessions failed.
func (in *Input) RobotsURL() string {
	a := in.Analysed()
	if a == nil {
		return ""
	}
	base, err := url.Parse(a.Start)
	if err != nil {
		return ""
	}
	return base.ResolveReference(&url.URL{Path: "/robots.txt"}).String()
}

// CORSURL returns the URL of the CORS preflight; call it once Robots is
// recorded. It is the URL of the analysed session's final response, except
// when that session is unverified and the robots.txt request got a 2xx
// answer: the Observatory's follow-up client then records the robots.txt
// request as the session's last hop, and preflights RobotsURL instead. It
// returns "" when both sessions failed.
func (in *Input) CORSURL() string {
	a := in.Analysed()
	if a == nil {
		return ""
	}
	if !a.Verified && followUp(in.Robots) != nil {
		return in.RobotsURL()
	}
	return a.Final().URL
}

// NextURL returns the URL a session requests after the response resp,
// received for the URL prev, when redirects redirects were already
// followed. follow is false when the session stops here (resp is final): the
// status is not 301, 302, 303, 307 or 308, or MaxRedirects were followed.
// A non-nil error means the Observatory could not build the next URL, which
// fails the whole session. The first Location field is resolved against
// prev; a missing Location resolves the string "undefined", as the
// Observatory does. A URL with a scheme other than http or https is
// returned as is: requesting it fails, and so does the session.
func NextURL(prev string, resp *Response, redirects int) (next string, follow bool, err error) {
	if resp == nil || redirects >= MaxRedirects || !redirectStatuses[resp.Status] {
		return "", false, nil
	}
	base, err := url.Parse(prev)
	if err != nil {
		return "", false, fmt.Errorf("observatory: redirect from %q: %w", prev, err)
	}
	loc := "undefined"
	if v := resp.Header.Values("Location"); len(v) > 0 {
		loc = v[0]
	}
	u, err := resolveURL(base, loc)
	if err != nil {
		return "", false, fmt.Errorf("observatory: redirect from %q to %q: %w", prev, loc, err)
	}
	return u.String(), true, nil
}

// schemePrefix matches the scheme of an absolute URL, colon included.
var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// slashRun matches an optional scheme and the slashes after it.
var slashRun = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*:)?(/*)`)

// resolveURL resolves ref against base approximately as the WHATWG URL
// parser does for http and https URLs: leading and trailing C0 controls and
// spaces are stripped, tabs and newlines removed, backslashes read as
// slashes, the fragment dropped and an empty path made "/".
func resolveURL(base *url.URL, ref string) (*url.URL, error) {
	ref = strings.TrimFunc(ref, func(r rune) bool { return r <= ' ' })
	ref = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, ref)
	// In http and https URLs (and references relative to one), a
	// backslash is a slash. The query is left alone.
	scheme := ""
	if m := schemePrefix.FindString(ref); m != "" {
		scheme = strings.ToLower(strings.TrimSuffix(m, ":"))
	} else if base != nil {
		scheme = base.Scheme
	}
	if scheme == "http" || scheme == "https" {
		head, query, hasQuery := strings.Cut(ref, "?")
		ref = strings.ReplaceAll(head, "\\", "/")
		if hasQuery {
			ref += "?" + query
		}
		// Any number of slashes after the scheme (or at the start of a
		// reference) introduces the host in a special scheme.
		if m := slashRun.FindStringSubmatch(ref); m != nil && len(m[2]) >= 2 {
			ref = m[1] + "//" + ref[len(m[0]):]
		}
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	var u *url.URL
	if base != nil {
		u = base.ResolveReference(r)
	} else {
		u = r
	}
	u.Fragment, u.RawFragment = "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "http" || u.Scheme == "https") && u.Path == "" {
		u.Path = "/"
	}
	if (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443") {
		u.Host = u.Hostname()
		if strings.Contains(u.Host, ":") {
			u.Host = "[" + u.Host + "]"
		}
	}
	return u, nil
}

// parseAbsolute parses s as an absolute URL the way a browser does for the
// cases that matter here; a URL without a scheme is an error.
func parseAbsolute(s string) (*url.URL, error) {
	u, err := resolveURL(nil, s)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("observatory: %q is not an absolute URL", s)
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return nil, fmt.Errorf("observatory: %q has no host", s)
	}
	return u, nil
}
