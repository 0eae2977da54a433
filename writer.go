package httpsguard

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
)

// responseWriter adds the policy's headers and rewrites cookies at the moment
// the response header is written: in WriteHeader, on the first Write,
// ReadFrom or Flush, or after the handler returns without writing. Doing it
// then, rather than before the handler runs, is what lets a header the
// handler set win and lets the handler opt out of X-Frame-Options.
//
// Wrappers are pooled, so the plain GET path does not allocate. As with any
// ResponseWriter, a handler must not use it after ServeHTTP returns.
type responseWriter struct {
	w      http.ResponseWriter
	g      *Guard
	secure bool
	csp    []string // the per-request CSP when it carries a nonce
	cspRO  []string // the same for Content-Security-Policy-Report-Only

	wroteHeader bool
	hijacked    bool
	frameExempt bool
}

var writerPool = sync.Pool{New: func() any { return new(responseWriter) }}

func getWriter(w http.ResponseWriter, g *Guard, secure bool) *responseWriter {
	rw := writerPool.Get().(*responseWriter)
	*rw = responseWriter{w: w, g: g, secure: secure}
	return rw
}

func putWriter(rw *responseWriter) {
	*rw = responseWriter{}
	writerPool.Put(rw)
}

// Header returns the wrapped writer's header map.
func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

// WriteHeader adds the policy's headers before the final status is written.
// Informational responses (103 Early Hints, 100 Continue) pass through
// untouched: they are followed by the final one, which gets the headers.
func (rw *responseWriter) WriteHeader(code int) {
	if !rw.wroteHeader && !rw.hijacked && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		rw.wroteHeader = true
		rw.g.finish(rw)
	}
	rw.w.WriteHeader(code)
}

func (rw *responseWriter) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	return rw.w.Write(b)
}

// WriteString lets io.WriteString reach the wrapped writer without copying
// the string into a byte slice.
func (rw *responseWriter) WriteString(s string) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	return io.WriteString(rw.w, s)
}

// ReadFrom keeps io.Copy on the wrapped writer's fast path (sendfile for an
// *os.File on a plain connection).
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{rw.w}, src)
}

// writerOnly hides every method but Write so io.Copy cannot loop back into
// ReadFrom.
type writerOnly struct{ io.Writer }

// Flush sends the header, with the policy applied, and any buffered body.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError is Flush for http.ResponseController, which reports the error.
func (rw *responseWriter) FlushError() error {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(rw.w).Flush()
}

// Hijack hands the connection to the handler (WebSockets, CONNECT). The
// policy's headers are not written: the handler now owns the bytes.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		rw.hijacked = true
	}
	return c, brw, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// ExemptFrameOptions stops the Guard serving this response from adding
// X-Frame-Options, as Django's xframe_options_exempt does for a view. Call it
// before the response header is written. w is the ResponseWriter the handler
// was given; other middleware between the Guard and the handler is looked
// through when it has an Unwrap method. It reports whether a Guard was found.
//
// To drop any other header the Guard adds for one response, set it to nil
// in the header map (w.Header()["Content-Security-Policy"] = nil): a header
// the handler set, even to nothing, wins, and net/http writes no line for a
// nil value.
func ExemptFrameOptions(w http.ResponseWriter) bool {
	for {
		if rw, ok := w.(*responseWriter); ok {
			rw.frameExempt = true
			return true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}

// FrameOptionsExempt wraps h so none of its responses get X-Frame-Options
// from the Guard around it: the decorator form of ExemptFrameOptions, for a
// page that is meant to be framed (an embeddable widget).
func FrameOptionsExempt(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ExemptFrameOptions(w)
		h.ServeHTTP(w, r)
	})
}
