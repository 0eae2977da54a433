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
package scan
