// Package web is the checker as a web site: a start page with one field, a
// result page per scan with its permanent link, the site's history and what
// changed since its previous scan, the HTML report as a download, the same
// results as JSON over an HTTP API, and watches that re-check a site on a
// schedule and tell its owner when it gets worse.
//
// The user guide is docs/web.md; the design notes and the tests are described
// in docs/design/web.md.
//
// # Design
//
// Server.Serve runs everything one instance does: the HTTP server (HTTPS
// with a redirect listener, or plain HTTP behind a trusted proxy) and the
// background work (Server.Run). The work is River's
// (github.com/riverqueue/river): three kinds of job share River's tables
// with the results in one database, SQLite (riversqlite on modernc.org/sqlite)
// or PostgreSQL (riverpgxv5), so several instances on one PostgreSQL share
// it, and a job whose instance dies is run again by another once River's
// rescuer sees it stuck.
//
//   - scan: one scan, submitted or a watch's re-check (submitted scans have
//     the higher priority). It records the outcome, and for a watch the
//     events found against the watch's previous scans, in one transaction,
//     then queues the events' deliveries.
//   - deliver: one event posted to one webhook, signed, retried with
//     exponential backoff (RetryBase doubled up to an hour) until the
//     receiver answers 2xx; every attempt is recorded.
//   - schedule_watches: River's periodic job (one at a time, run by the
//     leader): it moves each due watch's next check on by its interval and
//     creates its scan in one transaction, then queues the scans; it also
//     queues any scan whose process died between creating it and queueing
//     its job.
//
// # Invariants
//
//   - A job may run more than once (a process killed after the work but
//     before River recorded it); its effects happen once. Finish changes
//     only an unfinished scan, so a scan has one outcome. An event's ID is
//     a hash of (watch, scan, kind, subject) and is inserted with ON
//     CONFLICT DO NOTHING. Jobs are unique by their arguments (scan ID;
//     event and webhook), so queueing twice queues once. A delivery
//     attempt is recorded under (job ID, attempt), and an event already
//     delivered to a webhook is not posted again. Only the post itself can
//     repeat, when an instance dies after the receiver answered and before
//     the answer was recorded: receivers deduplicate on the event ID, which
//     every attempt carries.
//   - A due time makes one scan: the scheduler moves next_due_at with a
//     compare-and-set, so two schedulers that see the same due watch create
//     one scan between them.
//   - Fail closed: a scan that could not be done (no grade) is Failed, with
//     its reason, and has no grade anywhere: not in the store, the API, the
//     page, the chart (a cross marked "error") or the badge ("error"). A
//     failed scan is a scan_failed event, never a grade drop.
//   - A clean shutdown loses nothing and counts nothing: the HTTP listeners
//     stop first, then River's workers are cancelled, and a scan cut short
//     is released (JobSnooze(0)) without counting as an attempt. A scan
//     interrupted twice by dying processes is failed, so a target that
//     crashes the process cannot do it forever.
//   - Private networks stay private: the scanner's address check runs in its
//     dialer on the resolved address of every connection and redirect hop,
//     so a name that resolves to loopback or the metadata service later (DNS
//     rebinding) is still refused; the webhook client does the same.
//   - Pages carry no inline script or style; the one script is loaded with
//     the response's CSP nonce (the chart is SVG drawn with presentation
//     attributes, no style). A finished result is rendered once and cached,
//     with the per-response nonce and form token spliced in, so caching
//     never shares a nonce between responses. TestOwnGrade holds the site to
//     A+ under its own checker.
//
// # Facing the internet
//
// The scanner refuses non-public addresses on every connection it dials
// unless AllowPrivate is set, and submitted addresses are judged by the
// IANA special-purpose registries (internal/publicip); webhook targets obey
// the same rule at creation and on every dial unless AllowPrivateWebhooks.
// Error texts shown to the public say "refused: not a public address" and
// withhold internal and resolver addresses (see publicResult); the detail
// is logged. State-changing API requests must be application/json and
// same-site (Sec-Fetch-Site, else Origin): the requests a page on another
// origin can make without a CORS preflight (fetch no-cors, sendBeacon,
// forms) are refused; forms carry an anti-CSRF token. Submissions are rate
// limited per client, counting accepted scans only, and each client may
// have at most MaxQueuedPerClient scans waiting. Watches need an API token,
// issued by the operator and stored as a SHA-256 hash. Request bodies are
// bounded, and every page is served through the httpsguard middleware with
// a strict policy (see Policy).
package web
