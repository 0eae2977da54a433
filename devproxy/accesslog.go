package devproxy

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// AccessMessage is the message of access-log records. Their attributes are
// method, path, status (int), duration (time.Duration), bytes (int64) and
// proto ("HTTP/2.0", ...). NewConsoleHandler prints them as one short line.
const AccessMessage = "request"

// logRequests logs one record per request when it ends: for a WebSocket or
// an event stream, that is when it closes.
func (s *Server) logRequests(next http.Handler) http.Handler {
	if s.cfg.Quiet {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, AccessMessage,
			slog.String("method", r.Method),
			slog.String("path", path),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes", rec.bytes),
			slog.String("proto", r.Proto),
		)
	})
}

// recorder notes the status and size of a response. It keeps the wrapped
// writer reachable through Unwrap, so flushing and hijacking (event streams,
// WebSockets) work through it.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher for handlers that test for it directly.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Hijack records a protocol switch: httputil.ReverseProxy writes the 101
// response itself on the hijacked connection.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return conn, brw, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
