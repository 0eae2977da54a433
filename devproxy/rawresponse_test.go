package devproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The raw-response tests have an application answer with given bytes, valid
// or not, and check what a browser gets through the proxy against what
// net/http's own parser finds in those bytes (the reference):
//
//   - a response that parses whole reaches the browser with its status,
//     body, end-to-end header fields, sendable trailers and 103 hints;
//   - one whose body breaks off reaches it broken, never short and whole;
//   - one that does not parse, or has a status net/http cannot send, gets
//     the proxy's 502 page;
//   - and whatever the bytes, the response ends (no hang) and the server
//     logs no panic.
//
// The browser is a real client over a real loopback HTTPS server (a
// devproxy Server whose handler chain, with its access-log writer, is the
// one serve uses), over HTTP/1.1 and HTTP/2, rather than an
// httptest.ResponseRecorder: much of what can go wrong is how net/http's
// server turns handler calls into bytes (1xx responses, trailers, a
// response aborted with http.ErrAbortHandler before or after its head).

// rawHarness is the browser side: a front server that dispatches to the
// proxy under test, and clients for both protocols.
type rawHarness struct {
	base   string // https://127.0.0.1:port
	h1, h2 *http.Client
	cfg    Config // for the proxies under test
	cur    atomic.Pointer[proxy]
	logs   *logRecorder // the front server's log, where net/http logs panics
}

func newRawHarness(t testing.TB) *rawHarness {
	t.Helper()
	h := &rawHarness{logs: newLogRecorder()}
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
	front.Logger = slog.New(h.logs)
	srv, err := New(front)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	dispatch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.cur.Load().ServeHTTP(w, r) })
	if srv.https, err = srv.chain(dispatch, nil, false); err != nil {
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

// use makes a proxy to app the one the front server dispatches to, until
// the returned function is called.
func (h *rawHarness) use(t testing.TB, app *url.URL) (done func()) {
	t.Helper()
	cfg := h.cfg
	cfg.Upstream = app
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.cur.Store(s.proxy)
	return func() {
		s.proxy.transport.CloseIdleConnections()
		s.proxy.streams.closeAll()
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
	a := &rawApp{ln: ln, response: response, keepOpen: parseReference(response, method).keepAlive}
	a.wg.Go(a.accept)
	return a
}

func (a *rawApp) url(t testing.TB) *url.URL { return mustUpstream(t, "http://"+a.ln.Addr().String()) }

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

// reference is what net/http's parser finds in raw, the answer to a request
// with method.
type reference struct {
	parsed bool // the final response's head parses
	status int
	header http.Header
	body   []byte
	bodyOK bool // the body reads to its end without error
	// trailer holds the trailers that can reach a browser: names and
	// values net/http's servers can send, and not fields it refuses as
	// trailers.
	trailer http.Header
	hints   []string // the Link field of each 103, in order
	// leftover: bytes follow the response (a body sent for a HEAD or 204
	// answer, a second response). What the next request on that
	// connection gets is then a race in net/http's Transport: it notices
	// them only if the idle connection's read loop wakes up before the
	// next request takes it.
	leftover bool
	// keepAlive: raw is exactly one complete response that allows another
	// on the same connection.
	keepAlive bool
}

func parseReference(raw []byte, method string) reference {
	// Each head is read under the Transport's limit, as the Transport
	// reads it: through a bufio.Reader over a limited reader.
	lr := &limitedReader{r: bytes.NewReader(raw)}
	br := bufio.NewReader(lr)
	req := &http.Request{Method: method}
	var ref reference
	for {
		lr.n = maxResponseHead
		resp, err := http.ReadResponse(br, req)
		lr.n = math.MaxInt64
		if err != nil {
			return ref
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			if resp.StatusCode == http.StatusEarlyHints {
				ref.hints = append(ref.hints, strings.Join(resp.Header.Values("Link"), ", "))
			}
			continue
		}
		ref.parsed, ref.status, ref.header = true, resp.StatusCode, resp.Header
		ref.body, err = io.ReadAll(resp.Body)
		ref.bodyOK = err == nil
		if ref.bodyOK {
			ref.trailer = http.Header{}
			for k, vv := range resp.Trailer {
				if vv = validTrailerValues(k, vv); len(vv) > 0 && httpguts.ValidTrailerHeader(k) {
					ref.trailer[k] = vv
				}
			}
			ref.leftover = br.Buffered() > 0
			ref.keepAlive = !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols && !ref.leftover
		}
		return ref
	}
}

// limitedReader is io.LimitedReader whose limit can be lifted.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("response head too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// browserView is what a browser gets for one request.
type browserView struct {
	failed   string // the request got no response head (aborted)
	timedOut bool   // no answer in time: the proxy hung
	hints    []string
	status   int
	header   http.Header
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

// fetch sends one request through the proxy and records what the client
// saw, and the request app received (app may be nil).
func (h *rawHarness) fetch(t testing.TB, c *http.Client, app *rawApp, br browserRequest) *browserView {
	t.Helper()
	v := &browserView{}
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, hdr textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		if code == http.StatusEarlyHints {
			v.hints = append(v.hints, strings.Join(http.Header(hdr).Values("Link"), ", "))
		}
		return nil
	}}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, br.method, h.base+br.target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Cookie", "session=abc")
	req.Header.Set("Te", "trailers")
	req.Header["User-Agent"] = []string{""} // none, unless br.header has one
	for k, vv := range br.header {
		req.Header[k] = vv
	}
	before := 0
	if app != nil {
		before = len(app.requests())
	}
	resp, err := c.Do(req)
	if err != nil {
		v.failed = err.Error()
	} else {
		v.status, v.header = resp.StatusCode, resp.Header
		v.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			v.bodyErr = err.Error()
		}
		v.trailer = resp.Trailer
	}
	v.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	if app != nil {
		if reqs := app.requests(); len(reqs) > before {
			v.upstream = reqs[before]
		}
	}
	mu.Lock() // the trace may still be appending to v.hints
	defer mu.Unlock()
	return v
}

// errorPageMark is in the plain-text error pages the proxy writes.
const errorPageMark = " (httpsguard serve)\n"

// hopByHop are the fields no proxy passes on (RFC 9110, section 7.6.1),
// with those httputil.ReverseProxy also removes.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// endToEnd returns the fields of h that a proxy must pass on unchanged:
// without the hop-by-hop ones and those its Connection field names, without
// the ones the server writes itself (Date, Content-Length), and without
// names and values that are not valid.
func endToEnd(h http.Header) http.Header {
	out := h.Clone()
	for _, line := range h["Connection"] {
		for name := range strings.SplitSeq(line, ",") {
			if name = textproto.TrimString(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, k := range append(hopByHop, "Date", "Content-Length") {
		out.Del(k)
	}
	for k, vv := range out {
		// net/http's servers leave out what they cannot send.
		vv = slices.DeleteFunc(vv, func(v string) bool { return !httpguts.ValidHeaderFieldValue(v) })
		if len(vv) == 0 || !httpguts.ValidHeaderFieldName(k) {
			delete(out, k)
		} else {
			out[k] = vv
		}
	}
	return out
}

// judge returns how the browser's view v of the application's answer
// departs from the reference.
func judge(v *browserView, ref reference, method string) []string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	if v.timedOut {
		return []string{"no answer in time: the response never ended"}
	}
	if ref.leftover {
		// What follows the bytes is a race (see reference.leftover); the
		// response must only end, which it did.
		return nil
	}
	switch {
	case !ref.parsed, ref.status < 100, ref.status > 999, ref.status == http.StatusSwitchingProtocols:
		if v.aborted() || v.status != http.StatusBadGateway || (method != http.MethodHead && !bytes.Contains(v.body, []byte(errorPageMark))) {
			add("an answer that cannot be passed on: got %d %.200q %.200q %.200q, want the proxy's 502 page", v.status, v.failed, v.bodyErr, v.body)
		}
	case !ref.bodyOK:
		if !v.aborted() {
			add("a body that breaks off reached the browser whole: %d %.200q", v.status, v.body)
		}
	default:
		if v.aborted() {
			add("a valid response was aborted: %.200q %.200q", v.failed, v.bodyErr)
			break
		}
		if v.status != ref.status {
			add("status %d, want %d", v.status, ref.status)
		}
		if !bytes.Equal(v.body, ref.body) {
			add("body %.200q, want %.200q", v.body, ref.body)
		}
		want := endToEnd(ref.header)
		want.Del("Strict-Transport-Security") // removed on purpose, tested below
		want.Del(MarkHeader)                  // the proxy's own, tested below
		if got := v.header.Values(MarkHeader); len(got) != 1 || got[0] != "dev, hsts-removed" {
			add("%s %.200q, want the proxy's mark", MarkHeader, got)
		}
		for k, vv := range want {
			if got := v.header[k]; !slices.Equal(got, vv) {
				add("header %.100s: %.200q, want %.200q", k, got, vv)
			}
		}
		if sts := v.header.Get("Strict-Transport-Security"); sts != "" {
			add("Strict-Transport-Security reached the browser: %s", sts)
		}
		for k, vv := range ref.trailer {
			if got := v.trailer[k]; !slices.Equal(got, vv) {
				add("trailer %.100s: %.200q, want %.200q (trailers %.300v)", k, got, vv, v.trailer)
			}
		}
		if !slices.Equal(v.hints, ref.hints) {
			add("103 hints %q, want %q", v.hints, ref.hints)
		}
	}
	return bad
}

// checkRaw has an application answer with response and fetches it through
// the proxy over both protocols: a second request over HTTP/1.1 reuses the
// upstream connection the first ones left, when the response allows.
func (h *rawHarness) checkRaw(t *testing.T, response []byte, method string) {
	app := startRawApp(t, response, method)
	defer app.close()
	defer h.use(t, app.url(t))()
	ref := parseReference(response, method)
	panics := len(h.logs.matching(slog.LevelDebug, "panic"))
	for _, c := range []struct {
		name   string
		client *http.Client
	}{{"HTTP/1.1", h.h1}, {"HTTP/2", h.h2}, {"HTTP/1.1 again", h.h1}} {
		v := h.fetch(t, c.client, app, browserRequest{method: method, target: "/page?q=1"})
		if bad := judge(v, ref, method); len(bad) > 0 {
			t.Fatalf("%s %s, the application answering\n%.500q\n%s", c.name, method, response, strings.Join(bad, "\n"))
		}
	}
	if got := h.logs.matching(slog.LevelDebug, "panic"); len(got) > panics {
		t.Fatalf("the server logged a panic for the answer %.500q:\n%.5000s", response, h.logs.dump())
	}
}

// rawSeeds are realistic application responses, valid and not.
var rawSeeds = []struct {
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
	{"head without end", "GET", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Padding: "+strings.Repeat("a", 1000)+"\r\n", 2<<10) + "\r\n"},
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

func TestRawResponses(t *testing.T) {
	h := newRawHarness(t)
	for _, tc := range rawSeeds {
		t.Run(tc.name, func(t *testing.T) { h.checkRaw(t, []byte(tc.response), tc.method) })
	}
}

func FuzzRawResponse(f *testing.F) {
	for _, tc := range rawSeeds {
		f.Add([]byte(tc.response), tc.method == http.MethodHead)
	}
	h := newRawHarness(f)
	f.Fuzz(func(t *testing.T, response []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		h.checkRaw(t, response, method)
	})
}

// TestRequestAsTheAppReceivesIt checks what the application receives for
// requests with hop-by-hop, duplicate and spoofed header fields, and unusual
// targets: the request as the browser sent it, without hop-by-hop fields,
// with the forwarded fields the proxy sets and none a client sent.
func TestRequestAsTheAppReceivesIt(t *testing.T) {
	h := newRawHarness(t)
	const answer = "HTTP/1.1 204 No Content\r\n\r\n"
	for _, tc := range []struct {
		name   string
		target string
		header http.Header
		h1Only bool // HTTP/2 forbids connection-specific fields
	}{
		{"plain", "/", nil, false},
		{"query and escapes", "/a%2Fb/%7Euser?x=%20&y=&z=%2F", nil, false},
		{"double slash", "//two//slashes", nil, false},
		{"non-ASCII path", "/caf%C3%A9?q=%E2%9C%93", nil, false},
		{"duplicate fields", "/", http.Header{"Accept-Language": {"en", "fr;q=0.5"}, "X-Dup": {"a", "b"}}, false},
		{"browser fields", "/", http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64)"}, "Accept-Encoding": {"gzip, deflate, br, zstd"}, "If-None-Match": {`"v1"`}, "Sec-Fetch-Mode": {"navigate"}}, false},
		{"te other than trailers", "/", http.Header{"Te": {"gzip, deflate"}}, true},
		{"te trailers among others", "/", http.Header{"Te": {"deflate, trailers"}}, true},
		{"spoofed forwarded fields", "/", http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"evil.example"}, "Forwarded": {"for=203.0.113.9;proto=http"}, "X-Real-Ip": {"203.0.113.9"}, "X-Forwarded-Ssl": {"on"}, "Front-End-Https": {"on"}}, false},
		{"connection lists fields", "/", http.Header{"Connection": {"keep-alive, X-Hop", "x-other"}, "X-Hop": {"1"}, "X-Other": {"2"}, "X-End": {"kept"}}, true},
		{"connection lists with NBSP", "/", http.Header{"Connection": {"\u00a0X-End"}, "X-End": {"kept"}}, true},
		{"hop-by-hop fields", "/", http.Header{"Keep-Alive": {"timeout=5"}, "Proxy-Connection": {"keep-alive"}, "Proxy-Authorization": {"Basic Zm9vOmJhcg=="}, "Trailer": {"X-T"}}, true},
		{"connection lists a forwarded field", "/", http.Header{"Connection": {"X-Forwarded-Proto, Forwarded"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := startRawApp(t, []byte(answer), http.MethodGet)
			defer app.close()
			defer h.use(t, app.url(t))()
			clients := []*http.Client{h.h1, h.h2}
			if tc.h1Only {
				clients = clients[:1]
			}
			for _, c := range clients {
				v := h.fetch(t, c, app, browserRequest{method: http.MethodGet, target: tc.target, header: tc.header})
				if v.aborted() || v.status != http.StatusNoContent || v.upstream == nil {
					t.Fatalf("%d %q %q; the application received %v", v.status, v.failed, v.bodyErr, v.upstream)
				}
				for _, bad := range checkUpstreamRequest(v.upstream, tc.target, tc.header, h.base) {
					t.Errorf("%s: %s", tc.name, bad)
				}
			}
		})
	}
}

// checkUpstreamRequest returns how got, the request the application
// received, departs from the browser's request to target with the fields
// sent (besides fetch's defaults) to base.
func checkUpstreamRequest(got http.Header, target string, sent http.Header, base string) []string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	host := strings.TrimPrefix(base, "https://")
	if want := "GET " + target + " HTTP/1.1"; got.Get(":request-line") != want {
		add("request line %q, want %q", got.Get(":request-line"), want)
	}
	if got.Get("Host") != host {
		add("Host %q, want the browser's %q", got.Get("Host"), host)
	}
	for k, want := range map[string]string{
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Host":  host,
		"X-Forwarded-For":   "127.0.0.1",
		"Forwarded":         `for=127.0.0.1;host="` + host + `";proto=https`,
	} {
		if vv := got[k]; len(vv) != 1 || vv[0] != want {
			add("%s %q, want only the proxy's %q", k, vv, want)
		}
	}
	for _, k := range spoofable {
		switch k {
		case "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		default:
			if vv := got[k]; vv != nil {
				add("a client's %s reached the application: %q", k, vv)
			}
		}
	}
	if te := got.Get("Te"); te != "" && te != "trailers" {
		add("Te %q reached the application", te)
	}
	sentEnd := endToEnd(sent)
	for _, k := range hopByHop {
		if k != "Te" && got[k] != nil {
			add("hop-by-hop %s reached the application: %q", k, got[k])
		}
	}
	for k := range sent {
		if _, kept := sentEnd[k]; !kept && got[k] != nil && !slices.Contains(spoofable, k) && k != "Te" {
			add("%s, named in Connection, reached the application: %q", k, got[k])
		}
	}
	for k, vv := range sentEnd {
		if slices.Contains(spoofable, k) {
			continue
		}
		if g := got[k]; strings.Join(g, ", ") != strings.Join(vv, ", ") {
			add("%s %q, want %q", k, g, vv)
		}
	}
	if got.Get("Cookie") != "session=abc" {
		add("Cookie %q, want session=abc", got.Values("Cookie"))
	}
	if ua := got.Get("User-Agent"); strings.HasPrefix(ua, "Go-http-client") && sent.Get("User-Agent") == "" {
		add("the proxy added its own User-Agent %q", ua)
	}
	return bad
}
