package h1server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/localca"
)

// The differential test runs the same scripted handler behind net/http's
// server and behind this package's, over real TLS on loopback, sends both
// the same raw requests and requires the same bytes back (Date values
// aside), the same end of the connection, and the same results of every
// ResponseWriter call in the handler. The script (from the fuzzer) sets
// and deletes header fields, calls WriteHeader with 1xx, final and invalid
// codes, writes bodies around the 2048-byte buffer, flushes, reads the
// header after WriteHeader, declares and sets trailers, and aborts.

// Script vocabulary.
var (
	scriptKeys = []string{"Content-Type", "Content-Length", "Transfer-Encoding", "Connection", "Date", "Trailer",
		http.TrailerPrefix + "X-Late", "X-Late", "Content-Encoding", "Upgrade", "X-Custom", "Cache-Control"}
	scriptValues = []string{"text/plain", "0", "5", "11", "-1", "abc", "chunked", "identity", "gzip", "close",
		"keep-alive", "X-Late", "X-Late, Content-Length", "websocket", "Mon, 02 Jan 2006 15:04:05 GMT", "a\r\nb", "",
		"Keep-Alive, Close", "upgrade"}
	scriptCodes  = []int{100, 103, 101, 200, 201, 204, 206, 299, 304, 400, 404, 500, 599, 999, 42}
	scriptBodies = []string{"", "x", "hello world", "<html><body>hi", strings.Repeat("a", 2047), strings.Repeat("b", 2048),
		strings.Repeat("c", 2049), strings.Repeat("\x00\x01\x02\x03", 1250), "%PDF-1.4 not really"}
)

// runScript plays script on w and appends what each call returned to
// *results.
func runScript(w http.ResponseWriter, script []byte, results *[]string) {
	for i := 0; i+1 < len(script) && i < 32; i += 2 {
		op, arg := script[i]%8, int(script[i+1])
		switch op {
		case 0:
			w.Header().Set(scriptKeys[arg%len(scriptKeys)], scriptValues[(arg/len(scriptKeys))%len(scriptValues)])
		case 1:
			w.WriteHeader(scriptCodes[arg%len(scriptCodes)])
		case 2:
			n, err := w.Write([]byte(scriptBodies[arg%len(scriptBodies)]))
			*results = append(*results, fmt.Sprintf("write %d %v", n, err))
		case 3:
			err := http.NewResponseController(w).Flush()
			*results = append(*results, fmt.Sprintf("flush %v", err))
		case 4:
			_ = w.Header()
		case 5:
			w.Header().Add(scriptKeys[arg%len(scriptKeys)], "late")
		case 6:
			if arg%4 == 0 {
				panic(http.ErrAbortHandler)
			}
			n, err := io.WriteString(w, scriptBodies[arg%len(scriptBodies)])
			*results = append(*results, fmt.Sprintf("writestring %d %v", n, err))
		case 7:
			w.Header().Del(scriptKeys[arg%len(scriptKeys)])
		}
	}
}

// results holds what each exchange's handler reported, by the id in its
// query.
type results struct {
	mu sync.Mutex
	m  map[string]string
}

func (rs *results) put(id, s string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = make(map[string]string)
	}
	rs.m[id] = s
}

// take returns the results of exchange id. The handler reports them before
// its response is complete, and the exchange reads to the end of the
// connection, so they are there if it ran.
func (rs *results) take(id string) string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	s, ok := rs.m[id]
	if !ok {
		return "(handler not run)"
	}
	delete(rs.m, id)
	return s
}

// scriptHandler runs the script in the query's s parameter and reports the
// results under the query's id.
func scriptHandler(done *results) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/last" {
			io.WriteString(w, "last")
			return
		}
		script, _ := hex.DecodeString(r.URL.Query().Get("s"))
		var results []string
		defer func() {
			rec := recover()
			done.put(r.URL.Query().Get("id"), fmt.Sprintf("%s %q panic=%v", r.Method, results, rec != nil))
			if rec != nil {
				panic(rec)
			}
		}()
		if r.Body != http.NoBody {
			b, err := io.ReadAll(r.Body)
			results = append(results, fmt.Sprintf("body %q %v", b, err))
		}
		runScript(w, script, &results)
	})
}

type pair struct {
	ca               *localca.CA
	std, ours        string // addresses
	stdDone, ourDone results
	next             atomic.Int64 // exchange ids
}

func startPair(t testing.TB) *pair {
	ca, cfg := testTLS(t)
	p := &pair{ca: ca}
	p.std, p.ours = serveBoth(t, cfg, scriptHandler(&p.stdDone), scriptHandler(&p.ourDone))
	return p
}

var dateField = regexp.MustCompile(`(?m)^Date: [^\r\n]*\r$`)

// exchange sends req on a new HTTP/1.1 connection to addr and, if the
// response leaves the connection open, a final request that closes it; it
// returns everything read, with Date values blanked, and how reading
// ended.
func exchange(t testing.TB, ca *localca.CA, addr, req string) (raw, end string) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "example.test", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	var got bytes.Buffer
	br := bufio.NewReader(io.TeeReader(conn, &got))
	finish := func(how string) (string, string) {
		if !strings.HasSuffix(how, ": EOF") {
			// Say that no more requests come and read what is left, so
			// that the handler has returned (a server reads the next
			// request only then) and the bytes it still sent count.
			conn.CloseWrite()
			io.Copy(io.Discard, br)
		}
		return dateField.ReplaceAllString(got.String(), "Date: -\r"), how
	}
	// A write error is not an outcome: a server that answers a bad head
	// and closes before reading the rest makes the rest of a long write
	// fail or not, depending on timing; what it answered is read below.
	io.WriteString(conn, req)
	method, _, _ := strings.Cut(req, " ")
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return finish("read: " + errClass(err))
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return finish("body: " + errClass(err))
	}
	if resp.Close {
		// The server may keep the connection open all the same (the
		// client reads "Connection: keep-alive, close" as close, the
		// server only "close"): say that no more requests come.
		conn.CloseWrite()
		_, err := io.Copy(io.Discard, br)
		return finish("closed: " + errClass(err))
	}
	if _, err := io.WriteString(conn, "GET /last HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n"); err != nil {
		return finish("write last: " + errClass(err))
	}
	_, err = io.Copy(io.Discard, br)
	return finish("after last: " + errClass(err))
}

func errClass(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "error"
	}
}

// requests are the request heads the scripts are played for: the first
// ones are served by this package, the others handed over to net/http.
var requests = []string{
	"GET /?s=%s HTTP/1.1\r\nHost: example.test\r\n\r\n",
	"HEAD /?s=%s HTTP/1.1\r\nHost: example.test\r\n\r\n",
	"OPTIONS /?s=%s HTTP/1.1\r\nHost: example.test\r\nUser-Agent: x\r\n\r\n",
	"GET /?s=%s HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n",
	"DELETE /?s=%s HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0\r\n\r\n",
	"GET /?s=%s HTTP/1.1\nHost: example.test\nConnection: keep-alive, Close\n\n",
	// Handed over.
	"GET /?s=%s HTTP/1.0\r\nHost: example.test\r\n\r\n",
	"POST /?s=%s HTTP/1.1\r\nHost: example.test\r\nContent-Length: 3\r\n\r\nabc",
	"GET /?s=%s HTTP/1.1\r\n\r\n",
	"GET /?s=%s HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"PUT /?s=%s HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
	"get /?s=%s HTTP/1.1\r\nHost: example.test\r\n\r\n",
	"GET /?s=%s;x HTTP/1.1\r\nHost: example.test\r\n\r\n",
	"GET http://example.test/?s=%s HTTP/1.1\r\nHost: example.test\r\n\r\n",
	"GET /?s=%s HTTP/1.1\r\nHost: example.test\r\nX-Folded: a\r\n b\r\n\r\n",
	"GET /?s=%s HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"\r\nGET /?s=%s HTTP/1.1\r\nHost: example.test\r\n\r\n",
	"GET /?s=%s HTTP/1.1\r\nHost: exa mple\r\n\r\n",
	"GET /?s=%s HTTP/1.1\r\nHost: example.test\r\nX-Long: " + strings.Repeat("y", 9000) + "\r\n\r\n",
}

func checkSame(t *testing.T, p *pair, script []byte, which int) {
	id := strconv.FormatInt(p.next.Add(1), 10)
	// The id goes last, in a parameter of its own, so that the same
	// request with ";x" spoils only the id, as it would the script.
	req := fmt.Sprintf(requests[which%len(requests)], hex.EncodeToString(script)+"&id="+id)
	stdRaw, stdEnd := exchange(t, p.ca, p.std, req)
	ourRaw, ourEnd := exchange(t, p.ca, p.ours, req)
	stdRes, ourRes := p.stdDone.take(id), p.ourDone.take(id)
	if stdRaw != ourRaw || stdEnd != ourEnd || stdRes != ourRes {
		t.Fatalf("request %q\nnet/http:\n%s\n(%s; handler %s)\nh1server:\n%s\n(%s; handler %s)",
			req, stdRaw, stdEnd, stdRes, ourRaw, ourEnd, ourRes)
	}
}

var scriptSeeds = [][]byte{
	nil,
	{2, 2},                                  // a small body: Content-Length and sniffed type
	{2, 5},                                  // 2048 bytes: chunked
	{2, 4, 2, 1},                            // 2047 + 1 bytes
	{0, 1 + 12*2, 2, 2},                     // Content-Length 5, 11 bytes written: ErrContentLength
	{0, 1 + 12*3, 2, 2},                     // Content-Length 11, the right length
	{0, 1 + 12*2, 2, 1},                     // Content-Length 5, 1 byte: the connection is closed
	{0, 1 + 12*4, 2, 2},                     // Content-Length -1: logged and dropped
	{1, 5, 2, 2},                            // 204 with a body
	{0, 0, 1, 8, 2, 2},                      // 304 with Content-Type
	{1, 0, 1, 1, 2, 2},                      // 100, 103, then a final response
	{1, 2, 2, 2},                            // 101 without Upgrade
	{0, 9 + 12*13, 0, 3 + 12*18, 1, 2},      // 101 with Upgrade: websocket, Connection: upgrade
	{1, 14},                                 // invalid code: panic
	{2, 2, 6, 0},                            // abort after a write
	{2, 6, 6, 0},                            // abort after 2049 bytes
	{2, 2, 3, 0, 6, 0},                      // abort after a flush
	{0, 5 + 12*11, 1, 3, 2, 2, 0, 7 + 12*1}, // Trailer: X-Late, set after WriteHeader
	{5, 6, 2, 2},                            // Trailer:X-Late prefix key
	{0, 5 + 12*11, 2, 2, 3, 0, 0, 7 + 12*3}, // declared trailer after a flush
	{0, 2 + 12*6, 2, 2},                     // Transfer-Encoding: chunked set by the handler
	{0, 2 + 12*7, 2, 2},                     // Transfer-Encoding: identity
	{0, 2 + 12*8, 0, 1 + 12*2, 2, 2},        // Transfer-Encoding: gzip and Content-Length
	{0, 3 + 12*9, 2, 2},                     // Connection: close from the handler
	{4, 0, 0, 3 + 12*9, 2, 2},               // ... after reading the header
	{1, 3, 4, 0, 0, 10 + 12*1, 2, 2},        // header changed after WriteHeader
	{0, 4 + 12*14, 2, 2},                    // the handler's own Date
	{0, 8 + 12*8, 2, 3},                     // Content-Encoding: gzip, not sniffed
	{0, 10 + 12*15, 2, 2},                   // a value with CR LF
	{3, 0, 2, 2},                            // flush before anything
	{2, 7},                                  // binary body
	{1, 13, 2, 2},                           // 999
	{1, 7, 2, 2, 1, 3},                      // superfluous WriteHeader
	{6, 2, 6, 5},                            // WriteString
	{2, 2, 3, 0, 2, 2, 3, 0},                // a stream of flushed writes
}

func TestMatchesNetHTTP(t *testing.T) {
	p := startPair(t)
	for _, script := range scriptSeeds {
		for which := range requests {
			checkSame(t, p, script, which)
		}
	}
}

func FuzzMatchesNetHTTP(f *testing.F) {
	for _, s := range scriptSeeds {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	p := startPair(f)
	f.Fuzz(func(t *testing.T, script []byte, which uint8) {
		checkSame(t, p, script, int(which))
	})
}

// echoHandler answers with what it read of the request, so that a request
// parsed differently by the two servers answers differently.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var keys []string
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "%s %q %q %s host=%q close=%v cl=%d te=%q body=%q %v tls=%v\n",
		r.Method, r.RequestURI, r.URL.String(), r.Proto, r.Host, r.Close, r.ContentLength, r.TransferEncoding, body, err, r.TLS != nil)
	for _, k := range keys {
		fmt.Fprintf(w, "%s=%q\n", k, r.Header[k])
	}
}

// FuzzRequestMatchesNetHTTP sends the same bytes to net/http's server and
// to h1server, an echoing handler behind both, and requires the same bytes
// back: whatever h1server serves itself it must read as net/http would,
// and what it hands over must reach net/http intact.
func FuzzRequestMatchesNetHTTP(f *testing.F) {
	for _, r := range requests {
		f.Add([]byte(fmt.Sprintf(r, "00")))
	}
	for _, r := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: b\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\r\nHost: [::1]:8443\r\nX: 1\r\nx: 2\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost:\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
		"GET / HTTP/1.1\r\nhOsT: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET / HTTP/1.1\r\nX-Host: b\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX:\x01\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: é\r\n\r\n",
		"G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\rHost: a\r\n\r\n",
		"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
	} {
		f.Add([]byte(r))
	}
	ca, cfg := testTLS(f)
	std, ours := serveBoth(f, cfg, http.HandlerFunc(echoHandler), http.HandlerFunc(echoHandler))
	addrs := []string{std, ours}

	f.Fuzz(func(t *testing.T, raw []byte) {
		var got [2]string
		for i, addr := range addrs {
			got[i] = sendRaw(t, ca, addr, raw)
		}
		if got[0] != got[1] {
			t.Fatalf("request %q\nnet/http:\n%s\nh1server:\n%s", raw, got[0], got[1])
		}
	})
}

// sendRaw sends raw on a new HTTP/1.1 connection, says that nothing more
// comes, and returns everything read until the server closes, Date values
// blanked.
func sendRaw(t *testing.T, ca *localca.CA, addr string, raw []byte) string {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "example.test", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	conn.Write(raw) // whether a long write fails depends on timing (see exchange)
	conn.CloseWrite()
	got, rerr := io.ReadAll(conn)
	return fmt.Sprintf("%s\n(read %s)", dateField.ReplaceAll(got, []byte("Date: -\r")), errClass(rerr))
}
