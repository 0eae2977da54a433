// Package observatory reproduces the analysis and scoring of the MDN HTTP
// Observatory, version 1.4.8 (npm package @mdn/mdn-http-observatory,
// algorithm version 4), as a pure function of what was fetched.
//
// The package does no I/O. A fetcher (package scan) performs the same
// requests the Observatory's retriever performs, records them in an Input
// exactly as described on each field, and calls Analyze. The result
// carries the Observatory's own test names, result codes, score modifiers,
// bonus rule and grade table, so that a score computed here can be compared
// like with like with a score from the Observatory.
//
// Where the Observatory has a quirk (it reads the HTTP redirect chain for
// both chains, it collects cookies only from the session it analyses, it
// joins repeated headers the way Node's HTTP parser does) Analyze
// reproduces the quirk; the fetcher only has to record faithfully.
//
// # The cookie jar
//
// The cookies test reads no header: it reads the whole store of the
// analysed session's cookie jar once the retriever is done, expired
// cookies included. That jar is a tough-cookie 5 CookieJar that
// http-cookie-agent 7 reads and fills on every request the session's HTTP
// agents send. Analyze replays those requests through an emulation of the
// jar (and Jar lets a fetcher send the same cookies), matching these
// behaviours, each checked against the real libraries:
//
//   - A cookie is removed only when a later request would have sent it:
//     tough-cookie's getCookies drops the expired cookies it finds. So a
//     cookie deleted (Max-Age=0, a past Expires) on a redirect is gone once
//     the next hop is requested, but one deleted by the final response, or
//     scoped to a path the later requests do not match, or Secure before a
//     plain http:// hop, stays in the store and is judged like any other.
//   - The jar never sees the request URL. The agent rebuilds one with
//     Node's url.format from the host name (no port) and the path with its
//     query, which url.format escapes ("?" becomes "%3F"), and tough-cookie
//     parses decodeURI of it. So "/login?next=/a/b" has the default cookie
//     path "/login%3Fnext=/a", and "/x%25y/z" the path "/x%y/z". A host
//     that is an IPv6 literal makes a URL tough-cookie cannot parse: the
//     agent fails the request, and the Observatory the session.
//   - Cookies are keyed by domain, path and name: a deletion for another
//     path or domain deletes nothing; an overwrite keeps the cookie's
//     place and age. Max-Age wins over Expires; Expires is read with
//     tough-cookie's date parser (hour 24 is no date, "69" is 2069); a
//     Max-Age too large for a float is read as already expired. __Secure-
//     and __Host- cookies that break their prefix's rules, and Domain
//     attributes that are public suffixes or do not match the host, are
//     dropped silently. SameSite is stored as lax, strict, none or
//     nothing; the test's check for an invalid SameSite reads the raw
//     Set-Cookie fields of the final response only.
//   - After a certificate error the retriever starts the session over
//     without verification but keeps the jar, and from then on its
//     robots.txt and CORS requests go through the same jar, on https://
//     only (their http:// requests use Node's default agent), with every
//     redirect of theirs. Before that, the follow-up client has no jar at
//     all.
//
// docs/design/observatory-cookies.md tells how these were found, and what
// is still not reproduced.
package observatory
