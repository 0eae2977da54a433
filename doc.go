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
// duplicated or removed. SameSite is named per cookie (SameSiteCookies, as
// Django's SESSION_COOKIE_SAMESITE and CSRF_COOKIE_SAMESITE), with
// CookieSameSite for every other cookie that sets none; a cookie given
// SameSite=None, or one that says None itself and that the rules touch,
// also gets Secure, since browsers drop None without it.
//
// The zero Policy enforces nothing (an empty AllowedHosts accepts every
// host), so adding a Guard never breaks an application before it is
// configured. PolicyFromEnv's defaults are Django 3.2's, and the mapping
// from Django's settings is held to a real Django by TestDjangoDifferential,
// which lists every intended difference with its reason (docs/enforce.md
// repeats the list).
//
// New rejects an invalid Policy as a whole: it returns every *FieldError at
// once, each naming the field (or, from PolicyFromEnv, the variable) and the
// value. Nothing is silently ignored: an empty variable is unset, and "off"
// turns a header off.
//
// # The deployment check
//
// Each check is one DeployCheck in a catalogue (Checks): a stable ID of the
// form HGP-<AREA>-NNN (the site checker's are HGS-; the former HG1xx is kept
// as LegacyID, and LookupCheck accepts either), a severity, the field, a
// title, Django's equivalent, the fix, and the small function that decides
// it, so adding or changing a check touches one place. A finding of
// SeverityError means exactly that New rejects the policy; the tests pin
// that equivalence for every check. CheckEnv adds the environment's side: a
// variable that looks meant for httpsguard but that it does not read
// (HGP-ENV-001), which PolicyFromEnv also logs. Package autotls reviews a
// policy as it serves one (its Options.Check drops the redirect finding and
// adds HGP-ACME-*), so this package stays free of dependencies.
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
