// Package scan is httpsguard's checker: it grades how well a live site
// protects its transport, with the MDN HTTP Observatory's tests, chromium's
// HSTS preload rules and ponycheckup's framework checks in one pass.
//
// A Scanner fetches everything one target needs — the http:// and https://
// page sessions with every redirect hop, TLS handshakes per protocol version
// and raw ClientHello probes that list every version and cipher suite the
// server accepts (package internal/tlsprobe; docs/design/tls-facts.md),
// the Observatory's robots.txt and CORS preflight, a
// page that does not exist, TRACE, and the usual admin and login pages —
// through one keep-alive transport per target, with every step bounded
// (connect, handshake, per-request and per-target time, redirects, body and
// header bytes, number of requests). It then runs every check of Catalog
// on what it saw and scores the Result, either with httpsguard's model (100
// plus each check's ScoreImpact) or exactly as the Observatory 1.4.8 does
// (package scan/observatory).
//
//	sc, err := scan.New(scan.Options{Timeout: 15 * time.Second})
//	if err != nil { ... }
//	res := sc.Scan(ctx, "example.com")
//	if !res.Graded() { ... res.Error.Kind, res.Error.Message, res.Error.Fix }
//	fmt.Println(res.Score, res.Grade, res.Incomplete)
//
// ScanAll scans many targets with bounded concurrency and streams each
// Result as it finishes. Package scantest runs the whole check against a Go
// application's handler in a test, over real TLS on loopback.
//
// The user guide is docs/check.md; the design notes are in
// docs/design/scan.md and the Observatory model in docs/observatory.md.
//
// # Invariants
//
// Scan never panics and never returns nil.
//
// A check is one declared CheckSpec: its ID, words and fix, every verdict
// it can reach (Outcomes, each with its result code, status and score
// impact), and a decide function from the observations to one of them. The
// impacts live there and nowhere else; Catalog, the docs' finding
// catalogue and scoring all read the same entries. A decide function that
// panics or names an undeclared outcome yields an internal error verdict,
// not a crash.
//
// Fail closed. A verdict is earned by an observation: a check whose
// observation is missing is StatusError with a classified Error (kind,
// message, fix), never a pass, a skip or a silent zero; a problem that was
// seen stands even when other observations are missing, but "nothing
// wrong" needs them all. A timeout is such an error, never a different
// verdict, so the same slow site gets the same result. When the HTTPS page
// (after its redirects) cannot be fetched as a browser would fetch it — the
// name does not resolve, the port refuses, no TLS or HTTP answer, a head
// over 256 KiB, a redirect loop — Result.Error says why and there is no
// grade (Grade "", null in JSON; with ScoringObservatory, the Observatory's
// own rule decides). When it was fetched but a check errored, the grade is
// marked Incomplete. Every network failure is classified from the error
// value and the request's trace, never from its text.
//
// Certificates are verified by the scanner, not by the TLS stack, once per
// host and certificate (each Options.CAFiles root first, then the system's),
// so an untrusted site is still scanned in full and marked unverified,
// without a second connection.
//
// Options.DenyPrivate is enforced in the dialer on the address actually
// dialled, for every connection and redirect hop, so DNS rebinding cannot get
// around it; no proxy from the environment is ever used.
//
// Check IDs are stable and never reused; every verdict has a
// machine-readable result code, httpsguard's own in its model (named as the
// Observatory names the same verdict where it has a name for it), the
// Observatory's with ScoringObservatory for the checks that carry its tests.
package scan
