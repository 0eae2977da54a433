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
// The standard library only. HTTPS is net/http's http.Server, with HTTP/2
// and HTTP/1.1 over TLS chosen by ALPN (http.Protocols); the proxy is
// httputil.ReverseProxy with an http.Transport. What a developer needs
// beyond their defaults goes through their extension points, never around
// them: Rewrite sets the forwarded headers, ModifyResponse diagnoses (the
// redirect loop, insecure cookies and redirects), removes HSTS and marks the
// response (MarkHeader), and refuses what net/http cannot send (a status
// below 100; a Content-Length on 204 and 304, which some HTTP/2 clients
// take for a body to come); ErrorHandler shows the error pages; the
// response body of a stream is wrapped so that unsendable trailers are
// dropped (an HTTP/2 response whose trailers all fail to encode never ends)
// and so that Shutdown can end event streams.
//
// A response whose body breaks off is aborted (http.ErrAbortHandler), never
// passed on short as if whole. FuzzRawResponse holds the proxy to
// net/http's own reading of whatever bytes the application sends.
//
// Upstream connections: at most maxIdleUpstream idle, each for at most
// upstreamIdleTimeout, which is shorter than the keep-alive timeouts of
// the usual development servers, so the proxy closes an idle connection
// before the application does; one the application closes anyway is closed
// at once by the Transport's read on idle connections, never left in
// CLOSE-WAIT.
//
// Ports: the default HTTPS port moves on to the next free one when it is
// taken; a port given explicitly is bound as given or Listen fails with a
// *ListenError that names the process holding it, where the system says.
// The plain-HTTP listener is optional: when its address cannot be bound,
// the server runs without it and says so.
//
// Shutdown is http.Server.Shutdown bounded by shutdownGrace, then Close;
// event streams are ended at once and WebSockets when the bound ends.
package devproxy
