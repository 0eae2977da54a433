// Package autotls serves a Go application over HTTPS in production in one
// call: certificates obtained and renewed automatically through ACME (Let's
// Encrypt by default, or any RFC 8555 CA) by certmagic, the engine inside
// Caddy, with the application wrapped in an httpsguard Guard.
//
//	// before
//	log.Fatal(http.ListenAndServe(":80", mux))
//	// after
//	log.Fatal(autotls.ListenAndServe(ctx, mux, autotls.Options{Domains: []string{"example.com"}}))
//
// # What is served
//
// The HTTPS listener (":443") answers with a certificate for the name the
// client asked for (TLS SNI), obtained at start for Options.Domains and
// renewed when a third of its lifetime is left, or during the handshake for
// names Options.OnDemand approves. It also answers the CA's TLS-ALPN-01
// challenges, and staples OCSP responses when the CA offers them.
//
// The HTTP listener (":80") answers the CA's HTTP-01 challenges under
// /.well-known/acme-challenge/ and redirects everything else to the same
// URL over HTTPS: 301 for GET and HEAD, 308 for other methods, which keeps
// a POST's body. It never serves the application: a site served this way
// is HTTPS only.
//
// # Invariants
//
//   - The application only ever sees requests that arrived over TLS, so the
//     Guard's "is it secure?" is the connection itself. Proxy headers are
//     refused (New fails when the policy names one): no client can claim a
//     scheme, and no proxy is needed to terminate TLS.
//   - HSTS is sent only on HTTPS responses, never on the plain-HTTP
//     redirect (the Guard's rule), and cookies are Secure (the default
//     policy's SecureCookies "*").
//   - A host the policy does not allow gets 400 on both listeners, so the
//     redirect is never an open redirect; with OnDemand, a name the decision
//     function refuses gets no certificate and no redirect.
//   - A failure to obtain or renew a certificate (CA unreachable, rate
//     limited, challenge failed) never stops the server: it is logged as an
//     *Error saying which kind it is, recorded in Server.Status, and retried
//     with backoff, while every name that has a certificate keeps being
//     served with it.
//   - Certificates, keys and the ACME account live in Options.Storage (a
//     folder), so a restart reuses them instead of asking the CA again.
//
// # Deployment check
//
// Options.Check reviews a policy as Serve would serve it: the policy's own
// findings without "SSL redirect is off" (the HTTP listener redirects), and
// with findings of its own, such as HSTS preload asked for a name the ACME
// configuration does not cover. "httpsguard policy --autotls NAMES" runs it
// on the policy of the environment.
package autotls
