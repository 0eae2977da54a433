package h2server

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2/hpack"
)

// responseWriter is a stream's http.ResponseWriter. Its rules are
// net/http's HTTP/2 server's: the body goes through a 4 KiB buffer; the
// header is snapshotted at WriteHeader and sent with the first chunk of
// body, with a Content-Length when the handler finished within the
// buffer, a sniffed Content-Type and a Date; trailers are declared with
// the Trailer header or the http.TrailerPrefix.
type responseWriter struct {
	st  *stream
	req *http.Request
	bw  *bufio.Writer

	handlerHeader http.Header
	snapHeader    http.Header
	trailers      []string
	status        int
	wroteHeader   bool // WriteHeader called, explicitly or not
	sentHeader    bool // HEADERS sent
	handlerDone   bool
	sentLen       int64 // declared Content-Length, 0 if none
	wroteBytes    int64
	released      bool
	closeNotify   chan bool
}

var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, handlerChunkWriteSize) }}

func newResponseWriter(st *stream) *responseWriter {
	rw := &responseWriter{st: st, req: st.req}
	rw.bw = writerPool.Get().(*bufio.Writer)
	rw.bw.Reset(chunkWriter{rw})
	return rw
}

// release returns the buffer; the writer must not be used again (net/http
// panics on use after the handler returned, and so does this).
func (rw *responseWriter) release() {
	if rw.released {
		return
	}
	rw.released = true
	rw.bw.Reset(nil)
	writerPool.Put(rw.bw)
	rw.bw = nil
}

func (rw *responseWriter) check(what string) {
	if rw.released {
		panic(what + " called after Handler finished")
	}
}

type chunkWriter struct{ rw *responseWriter }

func (cw chunkWriter) Write(p []byte) (int, error) { return cw.rw.writeChunk(p) }

// Header implements http.ResponseWriter.
func (rw *responseWriter) Header() http.Header {
	rw.check("Header")
	if rw.handlerHeader == nil {
		rw.handlerHeader = make(http.Header)
	}
	return rw.handlerHeader
}

// WriteHeader implements http.ResponseWriter.
func (rw *responseWriter) WriteHeader(code int) {
	rw.check("WriteHeader")
	rw.writeHeader(code)
}

func (rw *responseWriter) writeHeader(code int) {
	if rw.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 {
		// Informational: sent now, with the header as it is (RFC 8297:
		// early hints keep the header map), minus framing fields.
		h := rw.handlerHeader
		_, cl := h["Content-Length"]
		_, te := h["Transfer-Encoding"]
		if cl || te {
			h = h.Clone()
			h.Del("Content-Length")
			h.Del("Transfer-Encoding")
		}
		sc := rw.st.sc
		end := rw.handlerDone && len(rw.trailers) == 0
		sc.mu.Lock()
		if sc.writeHeadersLocked(rw.st, end, func(enc *hpack.Encoder) {
			encKV(enc, ":status", strconv.Itoa(code))
			encodeHeaders(enc, h, nil)
		}) == nil {
			sc.flushLocked()
		}
		sc.mu.Unlock()
		return
	}
	rw.wroteHeader = true
	rw.status = code
	if len(rw.handlerHeader) > 0 {
		rw.snapHeader = rw.handlerHeader.Clone()
	}
}

// Write implements http.ResponseWriter.
func (rw *responseWriter) Write(p []byte) (int, error) { return rw.write(len(p), p, "") }

// WriteString implements io.StringWriter.
func (rw *responseWriter) WriteString(s string) (int, error) { return rw.write(len(s), nil, s) }

func (rw *responseWriter) write(n int, b []byte, s string) (int, error) {
	rw.check("Write")
	if !rw.wroteHeader {
		rw.writeHeader(http.StatusOK)
	}
	if !bodyAllowedForStatus(rw.status) {
		return 0, http.ErrBodyNotAllowed
	}
	rw.wroteBytes += int64(n)
	if rw.sentLen != 0 && rw.wroteBytes > rw.sentLen {
		return 0, errors.New("http2: handler wrote more than declared Content-Length")
	}
	if b != nil {
		return rw.bw.Write(b)
	}
	return rw.bw.WriteString(s)
}

// Flush implements http.Flusher.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError is what http.ResponseController's Flush calls.
func (rw *responseWriter) FlushError() error {
	rw.check("Flush")
	var err error
	if rw.bw.Buffered() > 0 {
		err = rw.bw.Flush()
	} else {
		_, err = rw.writeChunk(nil)
		if err == nil {
			sc := rw.st.sc
			sc.mu.Lock()
			if rw.st.state == stateClosed {
				err = rw.st.closeErr
			}
			sc.mu.Unlock()
		}
	}
	return err
}

// SetReadDeadline is what http.ResponseController's SetReadDeadline
// calls: past it, reading the request body fails.
func (rw *responseWriter) SetReadDeadline(deadline time.Time) error {
	rw.check("SetReadDeadline")
	st := rw.st
	st.sc.mu.Lock()
	defer st.sc.mu.Unlock()
	st.readTimer = resetTimer(st.readTimer, deadline, st.onReadTimeout)
	return nil
}

// SetWriteDeadline is what http.ResponseController's SetWriteDeadline
// calls: past it, the stream is reset.
func (rw *responseWriter) SetWriteDeadline(deadline time.Time) error {
	rw.check("SetWriteDeadline")
	st := rw.st
	if !deadline.IsZero() && !deadline.After(time.Now()) {
		st.onWriteTimeout()
		return nil
	}
	st.sc.mu.Lock()
	defer st.sc.mu.Unlock()
	st.writeTimer = resetTimer(st.writeTimer, deadline, st.onWriteTimeout)
	return nil
}

// EnableFullDuplex is what http.ResponseController's EnableFullDuplex
// calls: HTTP/2 always is.
func (rw *responseWriter) EnableFullDuplex() error { return nil }

// Push implements http.Pusher as net/http's HTTP/2 server does for a
// client that disabled server push, which every browser now does: it
// checks the target and options with net/http's rules and errors, then
// reports a closed stream or http.ErrNotSupported.
func (rw *responseWriter) Push(target string, opts *http.PushOptions) error {
	rw.check("Push")
	if opts == nil {
		opts = new(http.PushOptions)
	}
	method := opts.Method
	if method == "" {
		method = http.MethodGet
	}
	wantScheme := "http"
	if rw.req.TLS != nil {
		wantScheme = "https"
	}
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	if u.Scheme == "" {
		if !strings.HasPrefix(target, "/") {
			return fmt.Errorf("target must be an absolute URL or an absolute path: %q", target)
		}
	} else {
		if u.Scheme != wantScheme {
			return fmt.Errorf("cannot push URL with scheme %q from request with scheme %q", u.Scheme, wantScheme)
		}
		if u.Host == "" {
			return errors.New("URL must have a host")
		}
	}
	for k := range opts.Header {
		if strings.HasPrefix(k, ":") {
			return fmt.Errorf("promised request headers cannot include pseudo header %q", k)
		}
		switch strings.ToLower(k) {
		case "content-length", "content-encoding", "trailer", "te", "expect", "host":
			return fmt.Errorf("promised request headers cannot include %q", k)
		}
	}
	if err := checkRequestHeaders(opts.Header); err != nil {
		return err
	}
	if method != http.MethodGet && method != http.MethodHead {
		return fmt.Errorf("method %q must be GET or HEAD", method)
	}
	sc := rw.st.sc
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch {
	case rw.st.state == stateClosed:
		return errStreamClosed
	case sc.closing:
		return errClientDisconnected
	}
	return http.ErrNotSupported
}

// CloseNotify implements the deprecated http.CloseNotifier: the channel
// gets a value when the stream ends (the request's context says the same).
func (rw *responseWriter) CloseNotify() <-chan bool {
	rw.check("CloseNotify")
	if rw.closeNotify == nil {
		ch := make(chan bool, 1)
		done := rw.st.ctx.Done()
		go func() {
			<-done
			ch <- true
		}()
		rw.closeNotify = ch
	}
	return rw.closeNotify
}

func resetTimer(t *time.Timer, deadline time.Time, f func()) *time.Timer {
	if t != nil {
		t.Stop()
	}
	if deadline.IsZero() {
		return nil
	}
	return time.AfterFunc(time.Until(deadline), f)
}

// finish sends what is left: the rest of the body, or the whole
// response if nothing was sent yet, and the trailers.
func (rw *responseWriter) finish() {
	rw.handlerDone = true
	_ = rw.FlushError()
	rw.release()
}

func (rw *responseWriter) declareTrailer(k string) {
	k = http.CanonicalHeaderKey(k)
	if !httpguts.ValidTrailerHeader(k) {
		rw.st.sc.srv.logf("ignoring invalid trailer %q", k)
		return
	}
	if !slices.Contains(rw.trailers, k) {
		rw.trailers = append(rw.trailers, k)
	}
}

func (rw *responseWriter) promoteUndeclaredTrailers() {
	for k, vv := range rw.handlerHeader {
		if !strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		key := strings.TrimPrefix(k, http.TrailerPrefix)
		rw.declareTrailer(key)
		rw.handlerHeader[http.CanonicalHeaderKey(key)] = vv
	}
	slices.Sort(rw.trailers)
}

func (rw *responseWriter) hasNonemptyTrailers() bool {
	for _, k := range rw.trailers {
		if _, ok := rw.handlerHeader[k]; ok {
			return true
		}
	}
	return false
}

// writeChunk sends p, preceded by the response header the first time.
func (rw *responseWriter) writeChunk(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.writeHeader(http.StatusOK)
	}
	if rw.handlerDone {
		rw.promoteUndeclaredTrailers()
	}
	st, sc := rw.st, rw.st.sc
	isHead := rw.req.Method == "HEAD"
	if !rw.sentHeader {
		rw.sentHeader = true
		var ctype, clen string
		if clen = rw.snapHeader.Get("Content-Length"); clen != "" {
			rw.snapHeader.Del("Content-Length")
			if cl, err := strconv.ParseUint(clen, 10, 63); err == nil {
				rw.sentLen = int64(cl)
			} else {
				clen = ""
			}
		}
		_, hasCL := rw.snapHeader["Content-Length"]
		if !hasCL && clen == "" && rw.handlerDone && bodyAllowedForStatus(rw.status) && (len(p) > 0 || !isHead) {
			clen = strconv.Itoa(len(p))
		}
		_, hasCT := rw.snapHeader["Content-Type"]
		// A body with a Content-Encoding is not sniffed (it is
		// compressed, say): golang.org/issue/31753.
		hasCE := rw.snapHeader.Get("Content-Encoding") != ""
		if !hasCE && !hasCT && bodyAllowedForStatus(rw.status) && len(p) > 0 {
			ctype = http.DetectContentType(p)
		}
		var date string
		if _, ok := rw.snapHeader["Date"]; !ok {
			date = httpDate()
		}
		for _, v := range rw.snapHeader["Trailer"] {
			for _, f := range strings.Split(v, ",") {
				if f = textproto.TrimString(f); f != "" {
					rw.declareTrailer(f)
				}
			}
		}
		// Connection is not an HTTP/2 header field, but "close" still
		// means what it does in HTTP/1.1: no more requests here.
		closeConn := false
		if _, ok := rw.snapHeader["Connection"]; ok {
			closeConn = rw.snapHeader.Get("Connection") == "close"
			delete(rw.snapHeader, "Connection")
		}
		endStream := (rw.handlerDone && len(rw.trailers) == 0 && len(p) == 0) || isHead
		status, h := rw.status, rw.snapHeader
		sc.mu.Lock()
		if closeConn {
			sc.startGracefulLocked()
		}
		if err := sc.writeHeadersLocked(st, endStream, func(enc *hpack.Encoder) {
			encodeResponseHeader(enc, status, h, ctype, clen, date)
		}); err != nil {
			sc.mu.Unlock()
			return 0, err
		}
		if endStream || isHead || len(p) == 0 {
			sc.flushLocked()
			var err error
			if endStream && h != nil && st.state == stateClosed {
				// net/http's handler waits for a header it has set to
				// be written, and learns then that the stream (a HEAD,
				// or the handler's last write) has ended.
				err = st.closeErr
			}
			sc.mu.Unlock()
			if endStream {
				return 0, err
			}
		} else {
			// The common case: the header and the first chunk of body
			// go out together, in one write.
			err := sc.writeDataLocked(st, p, rw.handlerDone && !rw.hasNonemptyTrailers())
			if err == nil && rw.handlerDone && rw.hasNonemptyTrailers() {
				err = rw.writeTrailersLocked()
			}
			sc.mu.Unlock()
			if err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	if isHead {
		return len(p), nil
	}
	if len(p) == 0 && !rw.handlerDone {
		return 0, nil
	}
	nonemptyTrailers := rw.hasNonemptyTrailers()
	endStream := rw.handlerDone && !nonemptyTrailers
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(p) > 0 || endStream {
		if err := sc.writeDataLocked(st, p, endStream); err != nil {
			return 0, err
		}
	}
	if rw.handlerDone && nonemptyTrailers {
		if err := rw.writeTrailersLocked(); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// writeTrailersLocked ends the stream with the trailers.
func (rw *responseWriter) writeTrailersLocked() error {
	st, sc := rw.st, rw.st.sc
	h, keys := rw.handlerHeader, rw.trailers
	if err := sc.writeHeadersLocked(st, true, func(enc *hpack.Encoder) { encodeHeaders(enc, h, keys) }); err != nil {
		return err
	}
	sc.flushLocked()
	return nil
}

func encodeResponseHeader(enc *hpack.Encoder, status int, h http.Header, ctype, clen, date string) {
	encKV(enc, ":status", statusString(status))
	encodeHeaders(enc, h, nil)
	if ctype != "" {
		encKV(enc, "content-type", ctype)
	}
	if clen != "" {
		encKV(enc, "content-length", clen)
	}
	if date != "" {
		encKV(enc, "date", date)
	}
}

func statusString(code int) string {
	switch code {
	case 200:
		return "200"
	case 404:
		return "404"
	}
	return strconv.Itoa(code)
}

func encKV(enc *hpack.Encoder, k, v string) {
	_ = enc.WriteField(hpack.HeaderField{Name: k, Value: v})
}

var keysPool = sync.Pool{New: func() any { s := make([]string, 0, 16); return &s }}

// encodeHeaders writes h's fields (those in keys if not nil) in sorted
// order and lower case, leaving out what HTTP/2 cannot carry, as net/http
// does: names that are not ASCII or not valid, invalid values, and
// Transfer-Encoding other than "trailers".
func encodeHeaders(enc *hpack.Encoder, h http.Header, keys []string) {
	if keys == nil {
		kp := keysPool.Get().(*[]string)
		ks := (*kp)[:0]
		for k := range h {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		defer func() { *kp = ks[:0]; keysPool.Put(kp) }()
		keys = ks
	}
	for _, k := range keys {
		vv := h[k]
		lk, ascii := lowerHeader(k)
		if !ascii || !validWireName(lk) {
			continue
		}
		isTE := lk == "transfer-encoding"
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				continue
			}
			if isTE && v != "trailers" {
				continue
			}
			encKV(enc, lk, v)
		}
	}
}

// lowerHeader lower-cases a header name, reporting false if it is not
// ASCII.
func lowerHeader(k string) (string, bool) {
	if s, ok := commonLower[k]; ok {
		return s, true
	}
	for i := 0; i < len(k); i++ {
		if k[i] >= 0x80 {
			return "", false
		}
	}
	return strings.ToLower(k), true
}

// validWireName is httpguts.ValidHeaderFieldName without upper case,
// which HTTP/2 forbids.
func validWireName(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !httpguts.IsTokenRune(rune(v[i])) || ('A' <= v[i] && v[i] <= 'Z') {
			return false
		}
	}
	return true
}

var commonLower = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{
		"Accept", "Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Location", "Content-Range",
		"Content-Security-Policy", "Content-Type", "Cookie", "Date", "Etag", "Expires", "Last-Modified", "Link",
		"Location", "Referrer-Policy", "Server", "Set-Cookie", "Strict-Transport-Security", "Vary", "Via",
		"X-Content-Type-Options", "X-Frame-Options", "Cross-Origin-Opener-Policy", "Permissions-Policy",
	} {
		m[k] = strings.ToLower(k)
	}
	return m
}()

// bodyAllowedForStatus reports whether a status may have a body (RFC 9110).
func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == 204, status == 304:
		return false
	}
	return true
}

// httpDate is the Date header value, formatted once a second.
func httpDate() string {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.unix == now {
		return d.s
	}
	d := &dateValue{unix: now, s: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	cachedDate.Store(d)
	return d.s
}

type dateValue struct {
	unix int64
	s    string
}

var cachedDate atomic.Pointer[dateValue]
