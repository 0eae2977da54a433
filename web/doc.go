// Package web is the checker as a web site: a start page with one field, a
// result page per scan with its permanent link, the site's history and what
// changed since its previous scan, the HTML report as a download, and the
// same results as JSON over an HTTP API.
//
// Scans run server-side in a bounded pool of workers that take them from a
// queue kept in the database (package web/store), so a scan survives a
// restart and several instances can share one PostgreSQL database. The site
// is meant to face the internet: the scanner refuses non-public addresses on
// every connection it dials unless AllowPrivate is set, submissions are rate
// limited per client, request bodies are bounded, and every page is served
// through the httpsguard middleware with a strict policy (see Policy).
//
// The user guide is docs/web.md; the design notes and the tests are described
// in docs/design/web.md.
//
// # Invariants
//
// A scan is never lost and never loops: a clean stop gives running scans back
// to the queue without counting an attempt, a crash is recovered at the next
// start (at once on SQLite, after the lease on PostgreSQL), and a scan
// interrupted twice is failed instead of re-queued.
//
// Private networks stay private: the address check runs in the scanner's
// dialer on the resolved address of every connection and redirect hop, so a
// name that resolves to loopback or the metadata service later (DNS
// rebinding) is still refused.
//
// Pages carry no inline script or style; the one script is loaded with the
// response's CSP nonce. A finished result is rendered once and cached, with
// the per-response nonce and form token spliced in, so caching never shares a
// nonce between responses. TestOwnGrade holds the site to A+ under its own
// checker.
package web
