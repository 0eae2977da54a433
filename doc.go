// Package httpsguard enforces a site's transport-security policy in any
// net/http server: the redirect to HTTPS, trusted-proxy scheme detection,
// HSTS, Secure/HttpOnly/SameSite cookies, the headers that stop framing and
// sniffing, and the allowed Host names. One Policy value describes what a site
// must do; New compiles it into a Guard whose Handler wraps an application,
// and Policy.Check reviews it before deployment. PolicyFromEnv reads the same
// Policy from HTTPSGUARD_* variables, with Django's defaults where Django has
// one.
//
// The task guide is docs/enforce.md; the longer design notes are in
// docs/design/middleware.md.
//
// # Invariants
//
// A request is secure when a trusted peer says so, or, when no trusted peer
// says anything, when it came over TLS. For a header that holds a list
// (X-Forwarded-Proto, X-Forwarded-Host, the elements of RFC 7239 Forwarded)
// only the last element counts, because a proxy that appends puts its own
// value last and everything before it may come from the client. A malformed
// Forwarded header means not secure: the Guard fails closed.
//
// A host goes into a redirect's Location only when it is a valid host[:port]
// (and, with AllowedHosts, an allowed one, checked first); anything else gets
// 400, so the redirect is never an open redirect and never echoes CR, LF or
// userinfo. GET and HEAD are redirected with 301, every other method with
// 308, which keeps the method and the body.
//
// The policy's headers are added at the moment the response header is
// written (WriteHeader, the first Write, ReadFrom or Flush, or after a
// handler that wrote nothing), so a header the handler set itself wins, as
// with Django's setdefault. Informational (1xx) responses pass untouched.
// Set-Cookie values only gain the attributes they lack; nothing is
// duplicated or removed.
//
// New rejects an invalid Policy as a whole: it returns every *FieldError at
// once, each naming the field (or, from PolicyFromEnv, the variable) and the
// value. Nothing is silently ignored: an empty variable is unset, and "off"
// turns a header off.
//
// # Cost
//
// A plain HTTPS GET allocates nothing: header values are built once in New,
// the response-writer wrapper is pooled (so a handler must not use it after
// returning, the usual net/http rule), and headers go straight into the
// response's header map. Rewriting cookies costs one allocation, one string
// holding every rewritten value; only a policy with a {nonce} placeholder
// pays for the per-request nonce. TestAllocations pins this budget; the
// comparison with unrolled/secure is in bench/RESULTS.md.
package httpsguard
