// Package tlsprobe finds which protocol versions and cipher suites a TLS
// server accepts, every one of them, including those Go's crypto/tls cannot
// speak (DHE, CAMELLIA, ARIA, CCM, SEED, anonymous and export suites, SSL
// 2.0 and 3.0).
//
// It writes its own ClientHellos and reads only as far as the server's
// answer: the ServerHello (or HelloRetryRequest) names the version and
// suite the server chose, an alert or a closed connection says no. No
// handshake is completed, so a suite needs no implementation here, only
// its code. For each version Probe first offers every suite it knows
// (the IANA registry and the pre-standard codes still found in the wild,
// about 330); if the server chooses one, it takes that suite out of the
// offer and asks again until the server refuses what is left. That last
// offer is split into up to Config.Parallel parts dealt round robin and
// listed at once, so a version whose server accepts n suites costs about
// n + Parallel hellos, and the versions are probed side by side.
//
// For TLS 1.2 and older the hello that found a version also reads the
// Certificate message that follows the ServerHello, so the chain served is
// known even when no Go handshake can complete.
//
// Everything is bounded: the hellos sent per Probe (MaxHandshakes), the
// connections open at once (Parallel), each probe's time (Timeout), the
// caller's context, and the bytes read per answer. A probe that fails or
// is cut short is recorded as such in the Facts — a version whose offer
// could not be decided has Err set, a suite list that may miss suites has
// SuitesErr set — so that a checker built on them fails closed rather than
// mistaking "not observed" for "not offered".
//
// The facts are checked in the tests against nginx and Go servers started
// on loopback (package tlspeers), against the openssl command's view of
// each nginx configuration, and, in package scan/tlsoracle, against
// testssl.sh. docs/design/tls-facts.md explains the choices.
package tlsprobe
