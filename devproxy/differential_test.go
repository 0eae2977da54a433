package devproxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The differential test sends the same request through the direct path
// (serveDirect) and through httputil.ReverseProxy (p.rp), to an application
// that answers with given bytes, and compares what the browser gets.
//
// The browser is a real client over a real loopback HTTPS server (a
// devproxy Server whose handler chain, with its access-log writer, is the
// one serve uses), over HTTP/1.1 and HTTP/2, rather than an
// httptest.ResponseRecorder: what differs between the paths is mostly how
// net/http's server turns handler calls into bytes (1xx responses, trailers
// that need chunking, a Content-Length computed for a short body, a
// response aborted with http.ErrAbortHandler before or after its head), and
// a recorder does none of that.

// diffPathHeader tells the front server's handler which path to take; it
// is removed before either path sees the request.
const diffPathHeader = "X-Differential-Path"

// preProxyHeader is set on the response before the proxy runs, as a
// middleware (CORS, the Policy's headers) would.
const preProxyHeader = "X-Set-Before-Proxy"

// diffHarness is the browser side: a front server that dispatches to the
// proxy under test, and clients for both protocols.
type diffHarness struct {
	base   string // https://127.0.0.1:port
	h1, h2 *http.Client
	cfg    Config // for the proxies under test
	cur    atomic.Pointer[proxy]
}

func newDiffHarness(t testing.TB) *diffHarness {
	t.Helper()
	h := &diffHarness{}
	h.cfg = Config{
		CA:        startCA(t),
		HTTPSAddr: "127.0.0.1:0",
		HTTPAddr:  Off,
		Quiet:     true,
		Logger:    slog.New(slog.DiscardHandler),
	}
	front := h.cfg
	front.Upstream = mustUpstream(t, freePort(t)) // never used: dispatch picks the proxy
	front.Quiet = false                           // the access-log writer wraps the ResponseWriter in serve
	srv, err := New(front)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if srv.https, err = srv.chain(http.HandlerFunc(h.dispatch), nil, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Listen(ctx); err != nil {
		cancel()
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	h.base = "https://127.0.0.1:" + srv.httpsPort()
	h.h1 = newClient(t, front.CA, false)
	h.h2 = newClient(t, front.CA, true)
	return h
}

func (h *diffHarness) dispatch(w http.ResponseWriter, r *http.Request) {
	p := h.cur.Load()
	which := r.Header.Get(diffPathHeader)
	delete(r.Header, diffPathHeader)
	w.Header().Set(preProxyHeader, "kept")
	switch which {
	case "direct":
		p.serveDirect(w, r)
	case "reverseproxy":
		p.rp.ServeHTTP(w, r)
	default:
		http.Error(w, "no path chosen", http.StatusInternalServerError)
	}
}

// rawApp is an application that answers every request with the same bytes.
// After them it keeps the connection open for the next request when the
// bytes are one complete response that does not ask to close, as net/http's
// own ReadResponse reads them, and closes it otherwise (a body delimited by
// the close, a cut or invalid response).
type rawApp struct {
	ln       net.Listener
	response []byte
	keepOpen bool

	mu    sync.Mutex
	conns []net.Conn
	reqs  []http.Header // the requests received, in order
	wg    sync.WaitGroup
}

func startRawApp(t testing.TB, response []byte, method string) *rawApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &rawApp{ln: ln, response: response, keepOpen: completeKeepAlive(response, method)}
	a.wg.Go(a.accept)
	return a
}

func (a *rawApp) accept() {
	for {
		c, err := a.ln.Accept()
		if err != nil {
			return
		}
		a.mu.Lock()
		a.conns = append(a.conns, c)
		a.mu.Unlock()
		a.wg.Go(func() { a.serve(c) })
	}
}

func (a *rawApp) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		h := req.Header.Clone()
		h.Set("Host", req.Host)
		h[":request-line"] = []string{req.Method + " " + req.RequestURI + " " + req.Proto}
		a.mu.Lock()
		a.reqs = append(a.reqs, h)
		a.mu.Unlock()
		if _, err := c.Write(a.response); err != nil || !a.keepOpen {
			return
		}
	}
}

func (a *rawApp) requests() []http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reqs)
}

func (a *rawApp) close() {
	a.ln.Close()
	a.mu.Lock()
	for _, c := range a.conns {
		c.Close()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

// completeKeepAlive reports whether raw is exactly one complete response
// (after any 1xx) to a request with method, and allows another on the same
// connection, by net/http's parser: the reference for the framing.
func completeKeepAlive(raw []byte, method string) bool {
	br := bufio.NewReader(bytes.NewReader(raw))
	req := &http.Request{Method: method}
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return false
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return false
		}
		return !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols && br.Buffered() == 0
	}
}

// reference is what net/http's parser finds in raw's final response.
type reference struct {
	parsed  bool
	status  int
	length  int64 // -1 when unknown (chunked, read to the close) or raw does not parse
	hasType bool  // it has a Content-Type
	// ReverseProxy never ends the response over HTTP/2: the trailers it
	// would copy all have names or values net/http's HTTP/2 server cannot
	// encode, and it then writes no trailer frame, nor the end of the
	// stream. The direct path leaves them out (validTrailerValues).
	trailerHangsH2 bool
	// Bytes follow the response (a body sent for a HEAD or 204 answer, a
	// second response).
	leftover bool
}

func parseReference(raw []byte, method string) reference {
	br := bufio.NewReader(bytes.NewReader(raw))
	req := &http.Request{Method: method}
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return reference{length: -1}
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		_, hasType := resp.Header["Content-Type"]
		ref := reference{parsed: true, status: resp.StatusCode, length: resp.ContentLength, hasType: hasType}
		if _, err := io.Copy(io.Discard, resp.Body); err == nil {
			ref.trailerHangsH2 = trailersUnencodable(resp.Trailer)
			ref.leftover = br.Buffered() > 0
		}
		return ref
	}
}

// trailersUnencodable reports whether the trailers ReverseProxy would set
// (those with values, except the ones net/http refuses as trailers) are all
// unencodable by net/http's HTTP/2 server: invalid names, or no valid value.
func trailersUnencodable(trailer http.Header) bool {
	set, encodable := 0, 0
	for k, vv := range trailer {
		if len(vv) == 0 || !httpguts.ValidTrailerHeader(k) {
			continue
		}
		set++
		// Lower-casing, as HTTP/2 sends names, keeps a token a token.
		if httpguts.ValidHeaderFieldName(k) && slices.ContainsFunc(vv, httpguts.ValidHeaderFieldValue) {
			encodable++
		}
	}
	return set > 0 && encodable == 0
}

// browserView is what a browser gets for one request.
type browserView struct {
	failed   string   // the request got no response head (aborted, or no answer in time)
	infos    []string // informational responses, as "103 Name: value; ..."
	status   int
	header   http.Header
	length   int64 // Response.ContentLength
	body     []byte
	bodyErr  string // reading the body failed: the response was aborted
	trailer  http.Header
	upstream http.Header // the first request the application received
}

func (v *browserView) aborted() bool { return v.failed != "" || v.bodyErr != "" }

// browserRequest is a request as a browser sends it.
type browserRequest struct {
	method string
	target string      // path and query
	header http.Header // besides the defaults fetch sets
}

// fetch sends one request through path and records what the client saw.
func (h *diffHarness) fetch(t testing.TB, c *http.Client, app *rawApp, method, path string) *browserView {
	t.Helper()
	return h.fetchRequest(t, c, app, path, browserRequest{method: method, target: "/page?q=1"})
}

func (h *diffHarness) fetchRequest(t testing.TB, c *http.Client, app *rawApp, path string, br browserRequest) *browserView {
	t.Helper()
	v := &browserView{}
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, hdr textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		// Without the middleware's header: ReverseProxy clears it after
		// the first 1xx (see compareViews), the direct path keeps it.
		h := http.Header(hdr).Clone()
		h.Del(preProxyHeader)
		v.infos = append(v.infos, fmt.Sprintf("%d %s", code, headerString(h)))
		return nil
	}}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, br.method, h.base+br.target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Cookie", "session=abc")
	req.Header.Set("Te", "trailers")
	for k, vv := range br.header {
		req.Header[k] = vv
	}
	req.Header.Set(diffPathHeader, path)
	before := 0
	if app != nil {
		before = len(app.requests())
	}
	resp, err := c.Do(req)
	if err != nil {
		v.failed = err.Error()
	} else {
		v.status, v.header, v.length = resp.StatusCode, resp.Header, resp.ContentLength
		v.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			v.bodyErr = err.Error()
		}
		v.trailer = resp.Trailer
	}
	if app == nil {
		return v
	}
	if reqs := app.requests(); len(reqs) > before {
		v.upstream = reqs[before]
	}
	mu.Lock() // the trace may still be appending to v.infos
	defer mu.Unlock()
	return v
}

// headerString formats h sorted, for comparison and messages.
func headerString(h http.Header) string {
	var lines []string
	for k, vv := range h {
		for _, v := range vv {
			lines = append(lines, k+": "+v)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

// errorPageMark is in the plain-text error pages the proxy writes.
const errorPageMark = " (httpsguard serve)\n"

// compareViews returns how the browser's views of the direct path (d) and
// of ReverseProxy (rp) differ, beyond the differences that are expected.
func compareViews(d, rp *browserView, ref reference) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }

	// What the application received. User-Agent: the browser's is passed
	// on by both; neither adds Go's own. Nothing else may differ.
	if d.upstream != nil && rp.upstream != nil {
		if a, b := headerString(d.upstream), headerString(rp.upstream); a != b {
			add("application received\n  direct:       %s\n  reverseproxy: %s", a, b)
		}
	}

	if ref.leftover && (d.aborted() || rp.aborted() || d.status == http.StatusBadGateway || rp.status == http.StatusBadGateway) {
		// Bytes after the response make what follows a race on both
		// paths, so under load either may fail where the other did not:
		// net/http's Transport notices them only if the idle connection's
		// read loop wakes up before the next request takes it (else
		// ReverseProxy reads them as the next answer and gives a 502),
		// and net/http's HTTP/2 server sends a bodiless status's stray
		// Content-Length as it is, so the browser's client may or may not
		// see the stream end early, depending on when the head is
		// flushed. The direct path's own handling of such bytes is tested
		// deterministically (TestDirectPathLateBytesOnIdleConnection).
		return diffs
	}
	if ref.parsed && ref.status < 100 {
		// net/http's server panics on such a code (WriteHeader: "invalid
		// WriteHeader code"): ReverseProxy's response is aborted and a
		// stack trace logged; the direct path refuses the response with a
		// 502 page that says why.
		if !rp.aborted() || d.aborted() || d.status != http.StatusBadGateway {
			add("status %d: want reverseproxy aborted (%q %q) and direct 502 (got %d %q %q)", ref.status, rp.failed, rp.bodyErr, d.status, d.failed, d.bodyErr)
		}
		return diffs
	}
	if d.aborted() || rp.aborted() {
		// A response aborted after its head is the same to a browser as
		// one aborted before: both are broken. ReverseProxy flushes the
		// head of a stream on a timer that fires at once and races the
		// copy, so which of the two a browser sees is not deterministic.
		if d.aborted() != rp.aborted() {
			add("aborted: direct %q %q, reverseproxy %q %q", d.failed, d.bodyErr, rp.failed, rp.bodyErr)
		}
		return diffs
	}

	if d.status != rp.status {
		add("status: direct %d, reverseproxy %d", d.status, rp.status)
	}
	dh, rh := d.header.Clone(), rp.header.Clone()
	db, rb := d.body, rp.body
	for _, h := range []http.Header{dh, rh} {
		// Set by each response's own writing, a second apart at times.
		h.Del("Date")
	}
	// ReverseProxy clears every header of the ResponseWriter after passing
	// on a 1xx response, also those a middleware set before it ran (Go's
	// reverseproxy.go, "Clear headers, it's not automatically done by
	// ResponseWriter.WriteHeader() for 1xx responses"); the direct path
	// restores them, which is what the middleware meant.
	if len(rp.infos) > 0 && rh.Get(preProxyHeader) == "" {
		rh.Set(preProxyHeader, dh.Get(preProxyHeader))
	}
	isErrorPage := func(b []byte) bool { return bytes.Contains(b, []byte(errorPageMark)) }
	if isErrorPage(db) && isErrorPage(rb) {
		// The proxy's own error page: the error text comes from two
		// different clients, and the length with it.
		db, rb = stripErrorDetail(db), stripErrorDetail(rb)
		dh.Del("Content-Length")
		rh.Del("Content-Length")
		d.length, rp.length = 0, 0
	}
	if ref.length < 0 {
		// A body of unknown length: the direct path flushes the head
		// before the body, ReverseProxy on a timer that fires at once and
		// races the copy's first write. Which comes first decides whether
		// net/http's server computes "Content-Length: 0" for an empty body,
		// and whether it sniffs a Content-Type the application did not
		// send: never on the direct path, which is what the application
		// said; sometimes with ReverseProxy.
		dh.Del("Content-Length")
		rh.Del("Content-Length")
		if !ref.hasType {
			dh.Del("Content-Type")
			rh.Del("Content-Type")
		}
	} else if d.length != rp.length {
		add("length: direct %d, reverseproxy %d", d.length, rp.length)
	}
	if a, b := headerString(dh), headerString(rh); a != b {
		add("header\n  direct:       %s\n  reverseproxy: %s", a, b)
	}
	if !bytes.Equal(db, rb) {
		add("body\n  direct:       %.300q\n  reverseproxy: %.300q", db, rb)
	}
	if a, b := headerString(d.trailer), headerString(rp.trailer); a != b {
		add("trailer\n  direct:       %s\n  reverseproxy: %s", a, b)
	}
	if a, b := strings.Join(d.infos, "\n"), strings.Join(rp.infos, "\n"); a != b {
		add("1xx responses\n  direct:       %q\n  reverseproxy: %q", a, b)
	}
	return diffs
}

// stripErrorDetail removes the "Error: ..." line of a plain-text error page.
func stripErrorDetail(b []byte) []byte {
	if i := bytes.Index(b, []byte("\nError: ")); i >= 0 {
		return b[:i]
	}
	return b
}

// checkDifferential runs response through both paths over both protocols,
// and returns what the browser got from the direct path over HTTP/1.1.
func (h *diffHarness) checkDifferential(t *testing.T, response []byte, method string) *browserView {
	app := startRawApp(t, response, method)
	defer app.close()
	cfg := h.cfg
	cfg.Upstream = mustUpstream(t, "http://"+app.ln.Addr().String())
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p := s.proxy
	defer func() {
		p.transport.CloseIdleConnections()
		p.direct.closeIdle()
		p.streams.closeAll()
	}()
	h.cur.Store(p)
	ref := parseReference(response, method)
	var first *browserView
	// Each client twice: the second request of a path reuses the
	// upstream connection the first one left, when the response allows.
	for _, c := range []struct {
		name   string
		client *http.Client
	}{{"HTTP/1.1", h.h1}, {"HTTP/2", h.h2}, {"HTTP/1.1 again", h.h1}} {
		if ref.trailerHangsH2 && c.client == h.h2 {
			// ReverseProxy would hang until the timeout: check that the
			// direct path ends the response, and move on.
			if d := h.fetch(t, c.client, app, method, "direct"); d.aborted() {
				t.Fatalf("%s %s: the direct path did not end the response %q: %q %q", c.name, method, response, d.failed, d.bodyErr)
			}
			continue
		}
		d := h.fetch(t, c.client, app, method, "direct")
		rp := h.fetch(t, c.client, app, method, "reverseproxy")
		if diffs := compareViews(d, rp, ref); len(diffs) > 0 {
			t.Fatalf("%s %s: the direct path differs from ReverseProxy for the response\n%q\n%s", c.name, method, response, strings.Join(diffs, "\n"))
		}
		if first == nil {
			first = d
		}
	}
	return first
}

// differentialSeeds are realistic application responses, valid and not.
var differentialSeeds = []struct {
	name, method, response string
}{
	{"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"},
	{"empty content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	{"HTTP/1.1 read to close", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close"},
	{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
	{"chunked empty", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{"chunked with extensions", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n"},
	{"chunked announced trailers", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Count\r\n\r\n4\r\nbody\r\n0\r\nX-Checksum: abc\r\nX-Count: 4\r\n\r\n"},
	{"chunked unannounced trailer", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX-Late: def\r\n\r\n"},
	{"chunked invalid trailer name", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX Late: def\r\n\r\n"},
	{"chunked invalid and valid trailer names", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX Late: def\r\nX-Fine: 1\r\n\r\n"},
	{"chunked announced invalid trailer name", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X Late\r\n\r\n4\r\nbody\r\n0\r\nX Late: def\r\n\r\n"},
	{"chunked forbidden trailers", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nContent-Length: 5\r\nHost: evil\r\nTransfer-Encoding: gzip\r\n\r\n"},
	{"chunked size overflow", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nbody\r\n0\r\n\r\n"},
	{"chunked twice", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
	{"chunked announced trailer missing", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Missing\r\n\r\n4\r\nbody\r\n0\r\n\r\n"},
	{"chunked cut", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
	{"content-length short", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"},
	{"content-length long", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello"},
	{"HTTP/1.0 read to close", "GET", "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>until the close</p>"},
	{"HTTP/1.0 keep-alive", "GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"},
	{"HTTP/1.0 python", "GET", "HTTP/1.0 404 File not found\r\nServer: SimpleHTTP/0.6 Python/3.12.3\r\nConnection: close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 9\r\n\r\nnot found"},
	{"204", "GET", "HTTP/1.1 204 No Content\r\n\r\n"},
	{"204 with body", "GET", "HTTP/1.1 204 No Content\r\n\r\nstray body"},
	{"204 with content-length", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"},
	{"204 with large body", "GET", "HTTP/1.1 204 No Content\r\n\r\n" + strings.Repeat("x", 9000)},
	{"304", "GET", "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"},
	{"304 with content-length", "GET", "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1234\r\n\r\n"},
	{"304 with body", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello"},
	{"HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n"},
	{"HEAD with body sent anyway", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
	{"HEAD chunked", "HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
	{"HEAD no length", "HEAD", "HTTP/1.1 200 OK\r\n\r\n"},
	{"103 before 200", "GET", "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\nLink: </style.css>; rel=preload; as=style\r\n\r\npage"},
	{"two 103s", "GET", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"100 continue unasked", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"102 processing", "GET", "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"six 1xx", "GET", strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 6) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"101 unasked", "GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"},
	{"connection close", "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"},
	{"connection lists a header", "GET", "HTTP/1.1 200 OK\r\nConnection: X-Foo, keep-alive\r\nX-Foo: hop\r\nX-Bar: end-to-end\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok"},
	{"connection lists lower case", "GET", "HTTP/1.1 200 OK\r\nConnection: x-foo\r\nConnection: x-baz\r\nX-Foo: hop\r\nX-Baz: hop\r\nContent-Length: 2\r\n\r\nok"},
	{"connection lists with odd spaces", "GET", "HTTP/1.1 200 OK\r\nConnection: \tX-Foo\t,,  ,X-Baz \r\nX-Foo: hop\r\nX-Baz: hop\r\nContent-Length: 2\r\n\r\nok"},
	{"connection lists with NBSP", "GET", "HTTP/1.1 200 OK\r\nConnection: \xc2\xa0X-Foo\r\nX-Foo: kept\r\nContent-Length: 2\r\n\r\nok"},
	{"connection lists Content-Length", "GET", "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\nok"},
	{"hop-by-hop headers", "GET", "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nTe: trailers\r\nContent-Length: 2\r\n\r\nok"},
	{"duplicate headers", "GET", "HTTP/1.1 200 OK\r\nX-Dup: a\r\nX-Dup: b\r\nx-dup: c\r\nCache-Control: no-cache\r\nCache-Control: private\r\nContent-Length: 2\r\n\r\nok"},
	{"set-cookie list", "GET", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/; Secure; HttpOnly\r\nSet-Cookie: b=2; Expires=Wed, 09 Jun 2027 10:18:14 GMT\r\nSet-Cookie: c=3; SameSite=None\r\nContent-Length: 2\r\n\r\nok"},
	{"long header value", "GET", "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 64<<10) + "\r\nContent-Length: 2\r\n\r\nok"},
	{"many headers", "GET", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Many: value\r\n", 500) + "Content-Length: 2\r\n\r\nok"},
	{"HSTS removed", "GET", "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=31536000\r\nContent-Length: 2\r\n\r\nok"},
	{"redirect", "GET", "HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n"},
	{"event stream", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\ndata: one\n\ndata: two\n\n"},
	{"event stream with length", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 11\r\n\r\ndata: one\n\n"},
	{"large body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("0123456789", 10000)},
	{"server error", "GET", "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\noops\n"},
	{"custom status", "GET", "HTTP/1.1 299 Whatever\r\nContent-Length: 0\r\n\r\n"},
	{"status 600", "GET", "HTTP/1.1 600 Beyond\r\nContent-Length: 0\r\n\r\n"},
	{"status without reason", "GET", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"},
	{"status 099", "GET", "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n"},
	{"status 000", "GET", "HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n"},
	{"HTTP/2.0 status line", "GET", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"HTTP/1.2 status line", "GET", "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	{"content-length with leading zero", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 02\r\n\r\nok"},
	{"content-length with plus", "GET", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok"},
	{"bad status line", "GET", "HTTP/1.1 two hundred OK\r\n\r\n"},
	{"not HTTP", "GET", "SSH-2.0-OpenSSH_9.2\r\n"},
	{"nothing", "GET", ""},
	{"HTTP/2 preface", "GET", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
	{"two content-lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk"},
	{"two equal content-lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"},
	{"content-length list", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"},
	{"negative content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok"},
	{"transfer-encoding and content-length", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
	{"transfer-encoding gzip", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
	{"transfer-encoding identity", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok"},
	{"HTTP/1.0 chunked", "GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
	{"obs-fold", "GET", "HTTP/1.1 200 OK\r\nX-Folded: first\r\n second\r\nContent-Length: 2\r\n\r\nok"},
	{"bare LF", "GET", "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok"},
	{"bare LF chunked", "GET", "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n"},
	{"space before colon", "GET", "HTTP/1.1 200 OK\r\nX-Space : v\r\nContent-Length: 2\r\n\r\nok"},
	{"header without colon", "GET", "HTTP/1.1 200 OK\r\nX-No-Colon\r\nContent-Length: 2\r\n\r\nok"},
	{"NUL in header value", "GET", "HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 2\r\n\r\nok"},
	{"obs-text in header value", "GET", "HTTP/1.1 200 OK\r\nX-Latin: caf\xe9\r\nContent-Length: 2\r\n\r\nok"},
	{"pipelined extra response", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"},
}

func TestDirectMatchesReverseProxy(t *testing.T) {
	h := newDiffHarness(t)
	for _, tc := range differentialSeeds {
		t.Run(tc.name, func(t *testing.T) {
			d := h.checkDifferential(t, []byte(tc.response), tc.method)
			// Two broken proxies could agree: a valid response must also
			// reach the browser as the application sent it.
			if ref := parseReference([]byte(tc.response), tc.method); completeKeepAlive([]byte(tc.response), tc.method) && ref.status >= 200 {
				if d.aborted() || d.status != ref.status {
					t.Errorf("valid response: the browser got %d (%q %q), want %d", d.status, d.failed, d.bodyErr, ref.status)
				}
			}
		})
	}
}

func FuzzDirectMatchesReverseProxy(f *testing.F) {
	for _, tc := range differentialSeeds {
		f.Add([]byte(tc.response), tc.method == http.MethodHead)
	}
	h := newDiffHarness(f)
	f.Fuzz(func(t *testing.T, response []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		h.checkDifferential(t, response, method)
	})
}

// An application that writes a body after the head of a HEAD answer (a
// handler written as "HEAD does what GET does", common in hand-written
// servers) leaves bytes on the connection after the response has ended. The
// next request on that connection must not read them as its answer:
// net/http's Transport notices them on the idle connection and closes it,
// if its read loop wakes up before the next request takes the connection
// (here it often does not: a request sent at once gets a 502 from
// ReverseProxy). The direct path looks before it reuses a connection, so
// only it is checked.
func TestDirectPathLateBytesOnIdleConnection(t *testing.T) {
	h := newDiffHarness(t)
	writeLate := make(chan struct{})
	written := make(chan struct{})
	up := serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
			if req.Method == http.MethodHead {
				<-writeLate
				io.WriteString(c, "hello")
				written <- struct{}{}
				continue
			}
			io.WriteString(c, "hello")
		}
	})
	cfg := h.cfg
	cfg.Upstream = up
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.proxy.transport.CloseIdleConnections(); s.proxy.direct.closeIdle() })
	h.cur.Store(s.proxy)
	app := &rawApp{} // no requests recorded
	const path = "direct"
	for range 2 { // the second HEAD reuses the connection the GET left
		if v := h.fetch(t, h.h1, app, http.MethodHead, path); v.aborted() || v.status != http.StatusOK {
			t.Fatalf("%s: HEAD: %d %q %q", path, v.status, v.failed, v.bodyErr)
		}
		writeLate <- struct{}{}
		<-written
		if v := h.fetch(t, h.h1, app, http.MethodGet, path); v.aborted() || v.status != http.StatusOK || string(v.body) != "hello" {
			t.Errorf("%s: GET after a HEAD answered with a late body: %d %.200q %q %q", path, v.status, v.body, v.failed, v.bodyErr)
		}
	}
}

// TestDirectRequestMatchesReverseProxy compares what the application
// receives from each path for requests with hop-by-hop, duplicate and
// spoofed headers, and unusual targets.
func TestDirectRequestMatchesReverseProxy(t *testing.T) {
	h := newDiffHarness(t)
	const answer = "HTTP/1.1 204 No Content\r\n\r\n"
	for _, tc := range []struct {
		name   string
		target string
		header http.Header
		h1Only bool // HTTP/2 forbids connection-specific headers
	}{
		{"plain", "/", nil, false},
		{"query and escapes", "/a%2Fb/%7Euser?x=%20&y=&z=%2F#frag", nil, false},
		{"double slash", "//two//slashes", nil, false},
		{"non-ASCII path", "/caf%C3%A9?q=%E2%9C%93", nil, false},
		{"duplicate headers", "/", http.Header{"Cookie": {"a=1", "b=2"}, "Accept-Language": {"en", "fr;q=0.5"}}, false},
		{"browser headers", "/", http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64)"}, "Accept-Encoding": {"gzip, deflate, br, zstd"}, "If-None-Match": {`"v1"`}, "Sec-Fetch-Mode": {"navigate"}}, false},
		{"te other than trailers", "/", http.Header{"Te": {"gzip, deflate"}}, true},
		{"te trailers among others", "/", http.Header{"Te": {"deflate, trailers"}}, true},
		{"spoofed forwarded headers", "/", http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"evil.example"}, "Forwarded": {"for=203.0.113.9;proto=http"}, "X-Real-Ip": {"203.0.113.9"}}, false},
		{"connection lists headers", "/", http.Header{"Connection": {"keep-alive, X-Hop", "x-other"}, "X-Hop": {"1"}, "X-Other": {"2"}, "X-End": {"kept"}}, true},
		{"connection lists with NBSP", "/", http.Header{"Connection": {"\u00a0X-End"}, "X-End": {"kept"}}, true},
		{"connection lists with Kelvin sign", "/", http.Header{"Connection": {"X-\u212aey"}, "X-Key": {"kept"}}, true},
		{"hop-by-hop headers", "/", http.Header{"Keep-Alive": {"timeout=5"}, "Proxy-Connection": {"keep-alive"}, "Proxy-Authorization": {"Basic Zm9vOmJhcg=="}, "Trailer": {"X-T"}}, true},
		{"connection lists a forwarded header", "/", http.Header{"Connection": {"X-Forwarded-Proto, Forwarded"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := startRawApp(t, []byte(answer), http.MethodGet)
			defer app.close()
			cfg := h.cfg
			cfg.Upstream = mustUpstream(t, "http://"+app.ln.Addr().String())
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { s.proxy.transport.CloseIdleConnections(); s.proxy.direct.closeIdle() }()
			h.cur.Store(s.proxy)
			clients := []*http.Client{h.h1, h.h2}
			if tc.h1Only {
				clients = clients[:1]
			}
			for _, c := range clients {
				br := browserRequest{method: http.MethodGet, target: tc.target, header: tc.header}
				d := h.fetchRequest(t, c, app, "direct", br)
				rp := h.fetchRequest(t, c, app, "reverseproxy", br)
				if d.upstream == nil || rp.upstream == nil {
					t.Fatalf("the application received no request: direct %v, reverseproxy %v (%q %q)", d.upstream, rp.upstream, d.failed, rp.failed)
				}
				if diffs := compareViews(d, rp, parseReference([]byte(answer), http.MethodGet)); len(diffs) > 0 {
					t.Errorf("%s", strings.Join(diffs, "\n"))
				}
			}
		})
	}
}
