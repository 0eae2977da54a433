// Package devproxy is the HTTPS development server behind "httpsguard
// serve": it gives an application running on plain HTTP (or a static
// folder) trusted HTTPS on loopback, with certificates from the local CA,
// HTTP/2 to the browser, and the forwarded headers a production proxy sets,
// so the application can keep its production security settings.
//
// It also watches for the mistakes that make HTTPS development painful and
// explains them in the terminal and in the browser: the redirect loop of an
// application that does not trust X-Forwarded-Proto, an application that is
// not running, cookies without Secure, redirects to http://.
//
// A Server is built from a Config with New, bound with Listen (port 0 is
// allowed; HTTPSAddrs and HTTPAddrs report what was bound) and run with
// Serve until its context ends.
//
// The user guide is docs/serve.md; the design notes, with the measurements
// behind them, are in docs/design/devproxy.md.
//
// # Invariants
//
// Loopback only unless asked: a bare port means localhost, and localhost
// means 127.0.0.1 and [::1] on the same port; if [::1] is taken, start-up
// fails rather than let a browser that tries ::1 first reach another server.
//
// No page can fake HTTPS or another client: every Forwarded, X-Forwarded-*,
// X-Real-IP and similar header a browser sends is removed before the proxy
// sets its own.
//
// Nothing is remembered by the browser beyond this session: the plain-HTTP
// listener redirects with 307 and Cache-Control: no-store, never a cached
// 301, and Strict-Transport-Security is removed from responses unless
// Config asks to keep it, because a development name pinned to HTTPS would
// break every other project served on it.
//
// The certificate lives in memory only: one short-lived leaf for every
// served name, issued in the background once the listeners are bound and
// renewed before it expires while the old one keeps serving. Nothing slow
// happens before Listen returns.
//
// Two paths to the application, one behaviour: bodiless GET, HEAD and
// OPTIONS requests without an upgrade go through the proxy's own HTTP/1.1
// client on the handler's goroutine (direct.go); everything else through
// httputil.ReverseProxy. FuzzDirectMatchesReverseProxy holds the two to the
// same bytes on the wire, and any difference left is documented there. A
// response whose body breaks off is aborted, never passed on short as if
// whole.
package devproxy
