// Package scan is httpsguard's checker: it grades how well a live site
// protects its transport, with the MDN HTTP Observatory's tests, chromium's
// HSTS preload rules and ponycheckup's framework checks in one pass.
//
// A Scanner fetches everything one target needs — the http:// and https://
// page sessions with every redirect hop, TLS handshakes per protocol version
// and weak cipher suite, the Observatory's robots.txt and CORS preflight, a
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
//	fmt.Println(res.Score, res.Grade)
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
// Scan never panics and never returns nil. What could not be observed is
// not a pass: a check that could not complete is StatusError with the cause,
// costs no points and says so, and a target that could not be scanned at all
// carries Result.Error. A slow, endless, malformed or hostile server ends as
// such an error; the other checks still report.
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
// machine-readable result code, the Observatory's name where it has one.
package scan
