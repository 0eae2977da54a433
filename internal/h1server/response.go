package h1server

import (
	"bufio"
	"fmt"
	"net/http"
	"net/textproto"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// bufferBeforeChunkingSize is how much of a body is held back before the
// head is written: a body that ends within it gets a Content-Length
// instead of chunking, and its start is what Content-Type is sniffed from.
// The same size as net/http's, so that the same responses are chunked.
const bufferBeforeChunkingSize = 2048

// response is the http.ResponseWriter of one request. Its rules for the
// head are net/http's, in the same order, so that a handler's response
// reads the same on the wire whichever server wrote it: the status line,
// the handler's header fields sorted, then Date, Content-Length,
// Content-Type, Connection and Transfer-Encoding as they apply.
type response struct {
	c   *conn
	req *http.Request

	header       http.Header // the handler's
	snapshot     http.Header // header as of WriteHeader, once the handler has seen it
	calledHeader bool

	status      int
	wroteHeader bool // logically: WriteHeader was called
	headWritten bool // physically: the head is in the connection's buffer
	handlerDone bool
	chunking    bool

	contentLength int64 // -1 when not given
	written       int64
	closeAfter    bool
	trailers      []string // declared in the Trailer header

	dateBuf [len(http.TimeFormat)]byte
	clenBuf [20]byte
}

func newResponse(c *conn, req *http.Request) *response {
	w := &response{c: c, req: req, header: make(http.Header), contentLength: -1}
	w.closeAfter = req.Close || hasToken(req.Header.Get("Connection"), "close")
	c.rw.Reset((*chunkWriter)(w))
	return w
}

// Header returns the header map the handler fills in.
func (w *response) Header() http.Header {
	if w.snapshot == nil && w.wroteHeader && !w.headWritten {
		// The handler may change the map between WriteHeader and the
		// moment the head is written; what counts is the map as it was
		// at WriteHeader.
		w.snapshot = w.header.Clone()
	}
	w.calledHeader = true
	return w.header
}

// WriteHeader sends an informational (1xx) head at once, or records the
// status of the response.
func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		w.c.srv.logf("http: superfluous response.WriteHeader call from %s", caller())
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		writeStatusLine(w.c.bw, code)
		w.header.WriteSubset(w.c.bw, excludedNoBody)
		w.c.bw.WriteString("\r\n")
		w.c.bw.Flush()
		return
	}
	w.wroteHeader = true
	w.status = code
	if w.calledHeader && w.snapshot == nil {
		w.snapshot = w.header.Clone()
	}
	if cl := w.header.Get("Content-Length"); cl != "" {
		if v, err := strconv.ParseInt(cl, 10, 64); err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.c.srv.logf("http: invalid Content-Length of %q", cl)
			w.header.Del("Content-Length")
		}
	}
}

// Write writes body bytes, after an implicit WriteHeader(200).
func (w *response) Write(p []byte) (int, error) {
	if err := w.beforeWrite(len(p)); err != nil || len(p) == 0 {
		return 0, err
	}
	return w.c.rw.Write(p)
}

// WriteString is Write for a string, without copying it.
func (w *response) WriteString(s string) (int, error) {
	if err := w.beforeWrite(len(s)); err != nil || len(s) == 0 {
		return 0, err
	}
	return w.c.rw.WriteString(s)
}

func (w *response) beforeWrite(n int) error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if n == 0 {
		return nil
	}
	if !bodyAllowed(w.status) {
		return http.ErrBodyNotAllowed
	}
	w.written += int64(n)
	if w.contentLength != -1 && w.written > w.contentLength {
		return http.ErrContentLength
	}
	return nil
}

// Flush sends the head and the body so far to the client.
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush, reporting an error (http.ResponseController calls
// it).
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	err := w.c.rw.Flush()
	if !w.headWritten {
		w.writeHead(nil)
	}
	if e := w.c.bw.Flush(); err == nil {
		err = e
	}
	return err
}

// finish completes the response after the handler has returned.
func (w *response) finish() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.c.rw.Flush()
	if !w.headWritten {
		w.writeHead(nil)
	}
	bw := w.c.bw
	if w.chunking {
		bw.WriteString("0\r\n")
		if t := w.finalTrailers(); t != nil {
			t.Write(bw)
		}
		bw.WriteString("\r\n")
	}
	bw.Flush()
}

// reusable reports whether the connection can carry another request after
// this response.
func (w *response) reusable() bool {
	switch {
	case w.closeAfter, w.c.werr != nil:
		return false
	case w.req.Method != http.MethodHead && w.contentLength != -1 && bodyAllowed(w.status) && w.contentLength != w.written:
		// Fewer bytes than announced: the client would read the next
		// response as the rest of this one.
		return false
	}
	return true
}

// chunkWriter is what the response's body buffer writes to: the head on
// the first write, then the body, in chunks when chunking.
type chunkWriter response

func (cw *chunkWriter) Write(p []byte) (int, error) {
	w := (*response)(cw)
	if !w.headWritten {
		w.writeHead(p)
	}
	if w.req.Method == http.MethodHead {
		return len(p), nil
	}
	bw := w.c.bw
	if w.chunking {
		var size [16]byte
		bw.Write(strconv.AppendInt(size[:0], int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunking && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err != nil {
		w.c.tc.Close()
	}
	return n, err
}

// writeHead decides the framing of the response and writes its head. p is
// the start of the body (all of it if the handler is done), nil if none has
// been written.
func (w *response) writeHead(p []byte) {
	w.headWritten = true
	keepAlives := !w.c.srv.shuttingDown.Load()
	isHEAD := w.req.Method == http.MethodHead

	header := w.snapshot
	owned := header != nil
	if !owned {
		header = w.header
	}
	var exclude map[string]bool
	del := func(key string) {
		if owned {
			header.Del(key)
			return
		}
		if _, ok := header[key]; !ok {
			return
		}
		if exclude == nil {
			exclude = make(map[string]bool)
		}
		exclude[key] = true
	}
	var extra extraHeader

	// "Trailer:"-prefixed keys name trailers and are not sent in the
	// head; the Trailer header declares trailers.
	trailers := false
	for k := range w.snapshot {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if exclude == nil {
				exclude = make(map[string]bool)
			}
			exclude[k] = true
			trailers = true
		}
	}
	for _, v := range w.snapshot["Trailer"] {
		trailers = true
		eachElement(v, w.declareTrailer)
	}

	te := get(header, "Transfer-Encoding")
	hasTE := te != ""

	// A handler that is done with a body that fit in the buffer gets a
	// Content-Length (0 included), except where a length cannot be
	// known (HEAD with no bytes written) or must not be sent.
	if w.handlerDone && !trailers && !hasTE && bodyAllowed(w.status) && !has(header, "Content-Length") && (!isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		extra.contentLength = strconv.AppendInt(w.clenBuf[:0], int64(len(p)), 10)
	}
	hasCL := w.contentLength != -1

	if get(header, "Connection") == "close" || !keepAlives {
		w.closeAfter = true
	}

	code := w.status
	if bodyAllowed(code) {
		_, haveType := header["Content-Type"]
		if get(header, "Content-Encoding") == "" && !haveType && !hasTE && len(p) > 0 {
			extra.contentType = http.DetectContentType(p)
		}
	} else {
		for _, k := range suppressedHeaders(code) {
			del(k)
		}
	}

	if !has(header, "Date") {
		extra.date = time.Now().UTC().AppendFormat(w.dateBuf[:0], http.TimeFormat)
	}

	if hasCL && hasTE && te != "identity" {
		w.c.srv.logf("http: WriteHeader called with both Transfer-Encoding of %q and a Content-Length of %d", te, w.contentLength)
		del("Content-Length")
		hasCL = false
	}

	switch {
	case isHEAD || !bodyAllowed(code) || code == http.StatusNoContent:
		del("Transfer-Encoding")
	case hasCL:
		del("Transfer-Encoding")
	case hasTE && te == "identity":
		// The body ends when the connection does.
		w.chunking = false
		w.closeAfter = true
		del("Transfer-Encoding")
	default:
		w.chunking = true
		extra.transferEncoding = "chunked"
		if hasTE && te == "chunked" {
			del("Transfer-Encoding") // written below, once
		}
	}
	if w.chunking {
		del("Content-Length")
	}

	// A closing response says so, unless the handler already did (a
	// header read from the snapshot, as net/http reads it) or switches
	// protocols.
	if w.closeAfter && (!keepAlives || !hasToken(get(w.snapshot, "Connection"), "close")) && !isProtocolSwitch(code, header) {
		del("Connection")
		extra.connection = "close"
	}

	bw := w.c.bw
	writeStatusLine(bw, code)
	w.snapshot.WriteSubset(bw, exclude)
	extra.write(bw)
	bw.WriteString("\r\n")
}

// finalTrailers returns the trailers the handler set, nil if none.
func (w *response) finalTrailers() http.Header {
	var t http.Header
	for k, vv := range w.header {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if t == nil {
				t = make(http.Header)
			}
			t[kk] = vv
		}
	}
	for _, k := range w.trailers {
		if t == nil {
			t = make(http.Header)
		}
		for _, v := range w.header[k] {
			t.Add(k, v)
		}
	}
	return t
}

func (w *response) declareTrailer(k string) {
	k = http.CanonicalHeaderKey(k)
	if httpguts.ValidTrailerHeader(k) {
		w.trailers = append(w.trailers, k)
	}
}

// extraHeader holds the fields writeHead adds to the handler's.
type extraHeader struct {
	date, contentLength                       []byte
	contentType, connection, transferEncoding string
}

func (h *extraHeader) write(bw *bufio.Writer) {
	if h.date != nil {
		bw.WriteString("Date: ")
		bw.Write(h.date)
		bw.WriteString("\r\n")
	}
	if h.contentLength != nil {
		bw.WriteString("Content-Length: ")
		bw.Write(h.contentLength)
		bw.WriteString("\r\n")
	}
	for _, f := range [...]struct{ k, v string }{
		{"Content-Type", h.contentType},
		{"Connection", h.connection},
		{"Transfer-Encoding", h.transferEncoding},
	} {
		if f.v != "" {
			bw.WriteString(f.k)
			bw.WriteString(": ")
			bw.WriteString(f.v)
			bw.WriteString("\r\n")
		}
	}
}

// The fields a response without a body must not carry; a 304 also keeps
// no Content-Type (RFC 9110, 15.4.5).
var (
	excludedNoBody     = map[string]bool{"Content-Length": true, "Transfer-Encoding": true}
	suppressedNoBody   = []string{"Content-Length", "Transfer-Encoding"}
	suppressedNotModif = []string{"Content-Type", "Content-Length", "Transfer-Encoding"}
)

func suppressedHeaders(code int) []string {
	switch {
	case code == http.StatusNotModified:
		return suppressedNotModif
	case !bodyAllowed(code):
		return suppressedNoBody
	}
	return nil
}

func bodyAllowed(code int) bool {
	return !(code >= 100 && code <= 199) && code != http.StatusNoContent && code != http.StatusNotModified
}

func isProtocolSwitch(code int, h http.Header) bool {
	return code == http.StatusSwitchingProtocols && h.Get("Upgrade") != "" &&
		httpguts.HeaderValuesContainsToken(h["Connection"], "Upgrade")
}

// writeStatusLine writes an HTTP/1.1 status line; a code without a standard
// reason phrase gets a made-up one, as from net/http.
func writeStatusLine(bw *bufio.Writer, code int) {
	bw.WriteString("HTTP/1.1 ")
	if text := http.StatusText(code); text != "" {
		var b [3]byte
		bw.Write(strconv.AppendInt(b[:0], int64(code), 10))
		bw.WriteByte(' ')
		bw.WriteString(text)
		bw.WriteString("\r\n")
		return
	}
	fmt.Fprintf(bw, "%03d status code %d\r\n", code, code)
}

// get and has are http.Header's Get and Has for canonical keys, without
// canonicalizing them again, and safe on a nil map.
func get(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func has(h http.Header, key string) bool {
	_, ok := h[key]
	return ok
}

// hasToken reports whether the ASCII token appears in the comma- or
// space-separated list v, ignoring ASCII case.
func hasToken(v, token string) bool {
	for i := 0; i+len(token) <= len(v); i++ {
		if (i == 0 || isTokenBoundary(v[i-1])) &&
			(i+len(token) == len(v) || isTokenBoundary(v[i+len(token)])) &&
			asciiEqualFold(v[i:i+len(token)], token) {
			return true
		}
	}
	return false
}

// asciiEqualFold is strings.EqualFold for ASCII only: net/http does not
// read "cloſe" (with a long s, which folds to s) as close.
func asciiEqualFold(a, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// eachElement calls fn for each non-empty element of the list v.
func eachElement(v string, fn func(string)) {
	for f := range strings.SplitSeq(v, ",") {
		if f = textproto.TrimString(f); f != "" {
			fn(f)
		}
	}
}

// caller names the function outside this package and net/http that called
// into the ResponseWriter, for the superfluous WriteHeader message.
func caller() string {
	pc := make([]uintptr, 16)
	frames := runtime.CallersFrames(pc[:runtime.Callers(1, pc)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "github.com/httpsguard/httpsguard/internal/h1server.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}
