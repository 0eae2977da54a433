package h2server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/httpsguard/httpsguard/localca"
)

// FuzzFramesMatchNetHTTP writes the same HTTP/2 frames, decoded from the
// fuzzer's bytes, to net/http's server and to this package's, an echoing
// handler behind both, and compares what comes back per stream (each
// header block, the body, the trailers, the end or the RST_STREAM code)
// and for the connection (each GOAWAY's code and last stream, whether it
// closed). SETTINGS values, WINDOW_UPDATEs, PING answers and frame
// boundaries legitimately differ and are ignored.

// frameEcho answers with what it saw of the request, body included.
func frameEcho(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s\nbody %s %v trailer=%q\n", describeRequest(r), digest(b), err, r.Trailer)
}

// shown gives a body in full when it is short enough to read.
func shown(b []byte) string {
	if len(b) <= 2048 {
		return strconv.Quote(string(b))
	}
	return digest(b)
}

type field = hpack.HeaderField

func fields(kv ...string) []field {
	var fs []field
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, field{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

// Frame vocabulary.
var (
	requestTemplates = [][]field{
		fields(":method", "GET", ":scheme", "https", ":authority", "example.test", ":path", "/"),
		fields(":method", "POST", ":scheme", "https", ":authority", "example.test", ":path", "/post", "content-length", "5"),
		fields(":method", "HEAD", ":scheme", "https", ":authority", "example.test", ":path", "/"),
		fields(":method", "PUT", ":scheme", "https", ":authority", "example.test", ":path", "/put", "expect", "100-continue"),
		fields(":method", "CONNECT", ":authority", "example.test:443"),
		fields(":method", "OPTIONS", ":scheme", "https", ":authority", "example.test", ":path", "*"),
		fields(":method", "GET", ":scheme", "https", ":authority", "example.test"),
		fields(":method", "GET", ":scheme", "https", ":authority", "example.test", ":path", "/", "host", "other.test"),
		fields(":method", "POST", ":scheme", "https", ":authority", "example.test", ":path", "/", "content-length", "0"),
		fields(":method", "GET", ":scheme", "https", ":authority", "example.test", ":path", "/a%2Fb/../c?x=1&y=%zz#frag"),
		fields(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "example.test", ":path", "/ws"),
		fields(":method", "GET", ":scheme", "http", ":path", "/", "host", "example.test"),
		fields(":method", "GET", ":scheme", "https", ":authority", "example.test", ":path", "relative"),
		fields(":method", "get", ":scheme", "https", ":authority", "example.test", ":path", "/"),
		fields(":method", "POST", ":scheme", "https", ":authority", "example.test", ":path", "/", "content-length", "5", "content-type", "text/plain"),
		fields(":method", "GET", ":scheme", "https", ":path", "/"),
	}
	extraFields = []field{
		{Name: "x-a", Value: "1"}, {Name: "X-Upper", Value: "1"}, {Name: "connection", Value: "close"},
		{Name: "te", Value: "trailers"}, {Name: "te", Value: "gzip"}, {Name: "x y", Value: "1"},
		{Name: "x-crlf", Value: "a\r\nb"}, {Name: "content-length", Value: "3"}, {Name: "content-length", Value: "abc"},
		{Name: "content-length", Value: "1, 1"}, {Name: "host", Value: "other.test"}, {Name: "cookie", Value: "a=1"},
		{Name: ":foo", Value: "bar"}, {Name: ":method", Value: "GET"}, {Name: "transfer-encoding", Value: "chunked"},
		{Name: "keep-alive", Value: "1"}, {Name: "upgrade", Value: "h2c"}, {Name: "x-empty", Value: ""},
		{Name: "x-nul", Value: "a\x00b"}, {Name: "expect", Value: "100-continue"}, {Name: "x-long", Value: strings.Repeat("l", 20000)},
		{Name: "accept-encoding", Value: "gzip"}, {Name: "trailer", Value: "x-t"}, {Name: ":path", Value: "/again"},
		{Name: ":status", Value: "200"}, {Name: "x-tab", Value: "a\tb"}, {Name: "x-utf8", Value: "é"},
		{Name: "", Value: "empty name"}, {Name: "content-length", Value: "-1"}, {Name: "x-sp", Value: " padded "},
		{Name: "proxy-connection", Value: "keep-alive"}, {Name: "cookie", Value: "b=2"},
	}
	trailerFields = [][]field{
		fields("x-t", "1"), fields(":path", "/"), fields("content-length", "1"), fields("x y", "1"), nil,
		fields("x-t", "1", "x-t", "2"), fields("host", "h"), fields("X-Upper", "v"),
	}
	dataSizes = []int{0, 1, 5, 3, 4, 16384, 16385, 65535, 70000}
	settings  = []http2.Setting{
		{ID: http2.SettingInitialWindowSize, Val: 0}, {ID: http2.SettingInitialWindowSize, Val: 1 << 31},
		{ID: http2.SettingInitialWindowSize, Val: 10}, {ID: http2.SettingMaxFrameSize, Val: 16383},
		{ID: http2.SettingMaxFrameSize, Val: 1 << 24}, {ID: http2.SettingMaxFrameSize, Val: 20000},
		{ID: http2.SettingHeaderTableSize, Val: 0}, {ID: http2.SettingEnablePush, Val: 2},
		{ID: http2.SettingEnablePush, Val: 1}, {ID: http2.SettingMaxHeaderListSize, Val: 10},
		{ID: http2.SettingMaxConcurrentStreams, Val: 0}, {ID: 0x99, Val: 1}, {ID: http2.SettingEnableConnectProtocol, Val: 1},
	}
	windowIncrements = []uint32{0, 1, 65535, 1<<31 - 1, 1 << 20}
)

// streamOutcome is what the server sent on one stream.
type streamOutcome struct {
	events []string
	data   bytes.Buffer
	ended  bool // END_STREAM or RST_STREAM seen
	reset  bool // RST_STREAM seen
}

// frameRun reads what the server sends on one connection.
type frameRun struct {
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every frame
	streams   map[uint32]*streamOutcome
	goaways   []string
	errGoAway bool
	closed    string
	pings     map[[8]byte]bool
}

func (fr *frameRun) stream(id uint32) *streamOutcome {
	s, ok := fr.streams[id]
	if !ok {
		s = &streamOutcome{}
		fr.streams[id] = s
	}
	return s
}

func (fr *frameRun) read(framer *http2.Framer) {
	for {
		f, err := framer.ReadFrame()
		fr.mu.Lock()
		if err != nil {
			if _, ok := err.(http2.StreamError); !ok {
				fr.closed = errClass(err) + " " + err.Error()
				close(fr.changed)
				fr.mu.Unlock()
				return
			}
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			s := fr.stream(f.StreamID)
			var hs []string
			for _, hf := range f.Fields {
				v := hf.Value
				if hf.Name == "date" {
					v = "-"
				}
				hs = append(hs, fmt.Sprintf("%s=%q", hf.Name, v))
			}
			slices.Sort(hs)
			if s.data.Len() > 0 {
				s.events = append(s.events, "data "+shown(s.data.Bytes()))
				s.data.Reset()
			}
			s.events = append(s.events, fmt.Sprintf("headers end=%v %s", f.StreamEnded(), strings.Join(hs, " ")))
			s.ended = s.ended || f.StreamEnded()
		case *http2.DataFrame:
			s := fr.stream(f.StreamID)
			s.data.Write(f.Data())
			if f.StreamEnded() {
				s.events = append(s.events, "data "+shown(s.data.Bytes())+" end")
				s.data.Reset()
				s.ended = true
			}
		case *http2.RSTStreamFrame:
			s := fr.stream(f.StreamID)
			if s.reset {
				// A second reset (say, for a second bad frame that
				// came before the first reset) comes or not by timing.
				break
			}
			s.reset = true
			// After the response ended, a reset that only says so (or
			// answers a late frame of the client's) comes or not by
			// timing.
			if !s.ended || (f.ErrCode != http2.ErrCodeNo && f.ErrCode != http2.ErrCodeStreamClosed) {
				if f.ErrCode != http2.ErrCodeNo {
					// A stream error for a client's frame races with
					// a response that does not wait for the body (net/http's
					// 400 for a bad field, say): what came before it
					// is timing.
					s.events = nil
				} else if s.data.Len() > 0 {
					s.events = append(s.events, "data "+shown(s.data.Bytes()))
				}
				s.data.Reset()
				s.events = append(s.events, "rst "+f.ErrCode.String())
			}
			s.ended = true
		case *http2.GoAwayFrame:
			if f.ErrCode == http2.ErrCodeNo {
				fr.goaways = append(fr.goaways, fmt.Sprintf("goaway %v last=%d", f.ErrCode, f.LastStreamID))
			} else {
				// After a connection error the last stream id only says
				// which streams the client may retry elsewhere; the two
				// servers count a stream refused while its header block
				// was read differently (x/net's Framer, which h2server
				// uses, refuses more such blocks than net/http's copy).
				fr.goaways = append(fr.goaways, fmt.Sprintf("goaway %v", f.ErrCode))
			}
			if f.ErrCode != http2.ErrCodeNo {
				fr.errGoAway = true
			}
		case *http2.PingFrame:
			if f.IsAck() {
				fr.pings[f.Data] = true
			}
		case *http2.PushPromiseFrame:
			fr.stream(f.StreamID).events = append(fr.stream(f.StreamID).events, fmt.Sprintf("push promise %d", f.PromiseID))
		}
		close(fr.changed)
		fr.changed = make(chan struct{})
		fr.mu.Unlock()
	}
}

// wait returns once done holds, the connection has closed, nothing came
// for quiet, or the deadline passed.
func (fr *frameRun) wait(done func() bool, quiet time.Duration, deadline time.Time) {
	for {
		fr.mu.Lock()
		if fr.closed != "" || done() {
			fr.mu.Unlock()
			return
		}
		ch := fr.changed
		fr.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(quiet):
			return
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

// sendFrames plays data as frames on a new connection to addr and
// describes what the server sent back.
func sendFrames(t testing.TB, ca *localca.CA, addr string, data []byte) string {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "example.test", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	conn.SetDeadline(deadline.Add(5 * time.Second))
	framer := http2.NewFramer(conn, conn)
	framer.AllowIllegalWrites = true
	framer.ReadMetaHeaders = hpack.NewDecoder(65536, nil)
	framer.MaxHeaderListSize = 1 << 20
	fr := &frameRun{changed: make(chan struct{}), streams: map[uint32]*streamOutcome{}, pings: map[[8]byte]bool{}}
	readDone := make(chan struct{})
	go func() { defer close(readDone); fr.read(framer) }()
	defer func() { conn.Close(); <-readDone }()

	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	block := func(fs []field) []byte {
		hbuf.Reset()
		for _, f := range fs {
			enc.WriteField(f)
		}
		return slices.Clone(hbuf.Bytes())
	}

	// Writes fail once the server has closed; what it sent is the outcome.
	io.WriteString(conn, http2.ClientPreface)
	framer.WriteSettings()

	var (
		cur      uint32 // the stream of the last request
		nextID   uint32 = 1
		opened          = map[uint32]bool{}
		ended           = map[uint32]bool{} // the client sent END_STREAM
		reset           = map[uint32]bool{}
		pingSeq  byte
		i, steps int
	)
	next := func() byte {
		if i < len(data) {
			i++
			return data[i-1]
		}
		return 0
	}
	pick := func(sel byte) uint32 {
		switch sel % 4 {
		case 1:
			return 0
		case 2:
			return cur + 2
		case 3:
			return 1
		}
		return cur
	}
	// answered reports whether every stream the client ended has been
	// ended by the server, and the PING with payload p answered.
	answered := func(p [8]byte) func() bool {
		return func() bool {
			if fr.errGoAway {
				return true
			}
			if !fr.pings[p] {
				return false
			}
			for id := range ended {
				if s := fr.streams[id]; !reset[id] && (s == nil || !s.ended) {
					return false
				}
			}
			return true
		}
	}
	touched := map[uint32]bool{} // streams with a frame since the last sync
	syncAll := func() {
		// Two round trips: a PING is answered as soon as the frames
		// before it are read, but a RST_STREAM those frames caused may
		// be written after the answer.
		for round := range 2 {
			pingSeq++
			p := [8]byte{'s', 'y', 'n', 'c', 0, 0, 0, pingSeq}
			framer.WritePing(false, p)
			done := answered(p)
			if round == 1 {
				done = func() bool { return fr.pings[p] || fr.errGoAway }
			}
			fr.wait(done, time.Second, deadline)
		}
		clear(touched)
	}
	// settle waits, before a frame on a stream that had one since the
	// last wait, for the server to have dealt with that one (and to have
	// ended the stream, if the client had): whether the frame meets a
	// stream still open on the server (a stream error, maybe before the
	// response) or one gone (a connection error, or nothing) would
	// otherwise be timing.
	serverReset := func(id uint32) bool {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		s := fr.streams[id]
		return s != nil && s.reset
	}
	settle := func(id uint32) {
		if id != 0 && (ended[id] || touched[id]) && !reset[id] {
			syncAll()
		}
		touched[id] = true
	}
	for i < len(data) && steps < 24 {
		steps++
		switch op := next() % 10; op {
		case 0, 7: // a request's header block, or trailers
			var fs []field
			id := nextID
			flags := next()
			if op == 0 {
				fs = slices.Clone(requestTemplates[int(next())%len(requestTemplates)])
				if extra := next(); extra != 0 {
					f := extraFields[int(extra-1)%len(extraFields)]
					if flags&16 != 0 {
						fs = append([]field{f}, fs...)
					} else {
						fs = append(fs, f)
					}
				}
				switch {
				case flags&4 != 0:
					id = cur
				case flags&8 != 0:
					id = nextID + 1
				default:
					nextID += 2
				}
				if id == 0 {
					id = 1
				}
				cur = id
				opened[id] = true
			} else {
				fs = trailerFields[int(next())%len(trailerFields)]
				id = cur
				flags |= 1
			}
			settle(id)
			if serverReset(id) {
				// Header blocks the client sends on a stream the server
				// reset must be ignored (RFC 9113, section 5.1): h2server
				// does, net/http ends the connection
				// (TestAdvTrailersAfterReset covers h2server's side).
				continue
			}
			if op == 0 {
				// A request on a stream id used before: what the
				// server sends from now on is for it.
				fr.mu.Lock()
				if s := fr.streams[id]; s != nil {
					s.events = append(s.events, "(the client's HEADERS again)")
					s.ended, s.reset = false, false
				}
				fr.mu.Unlock()
				delete(ended, id)
			}
			b := block(fs)
			end := flags&1 != 0
			if flags&2 != 0 && len(b) > 1 {
				framer.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: b[:len(b)/2], EndStream: end})
				framer.WriteContinuation(id, true, b[len(b)/2:])
			} else {
				framer.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: b, EndStream: end, EndHeaders: true})
			}
			if end {
				ended[id] = true
			}
			if op == 0 && answersAtOnce(fs) {
				// net/http answers such a request without waiting for its
				// body: wait for the answer, so that later frames on the
				// stream do not race with it.
				fr.wait(func() bool { s := fr.streams[id]; return s != nil && s.ended }, 2*time.Second, deadline)
			}
		case 1: // DATA
			id, n, flags := pick(next()), dataSizes[int(next())%len(dataSizes)], next()
			settle(id)
			if flags&2 != 0 {
				framer.WriteDataPadded(id, flags&1 != 0, bytes.Repeat([]byte{'p'}, n), make([]byte, 3))
			} else {
				framer.WriteData(id, flags&1 != 0, bytes.Repeat([]byte{'d'}, n))
			}
			if flags&1 != 0 {
				ended[id] = true
			}
		case 2:
			id := pick(next())
			framer.WriteRSTStream(id, http2.ErrCode(next()%15))
			reset[id] = true
		case 3:
			id := pick(next())
			settle(id)
			framer.WriteWindowUpdate(id, windowIncrements[int(next())%len(windowIncrements)])
		case 4:
			framer.WritePing(next()%2 == 1, [8]byte{'f', 'u', 'z', 'z'})
		case 5:
			id, dep := pick(next()), pick(next())
			settle(id)
			framer.WritePriority(id, http2.PriorityParam{StreamDep: dep, Exclusive: dep%2 == 0, Weight: next()})
		case 6:
			framer.WriteSettings(settings[int(next())%len(settings)])
		case 8: // frames no well-behaved client sends
			switch next() % 9 {
			case 0:
				framer.WriteData(0, false, []byte("x"))
			case 1:
				framer.WriteHeaders(http2.HeadersFrameParam{StreamID: 2, BlockFragment: block(requestTemplates[0]), EndStream: true, EndHeaders: true})
			case 2:
				settle(cur)
				framer.WriteRawFrame(0xfa, 0, cur, []byte("unknown"))
			case 3:
				settle(cur)
				framer.WriteContinuation(cur, true, block(fields("x-a", "1")))
			case 4:
				framer.WriteGoAway(cur, http2.ErrCodeNo, nil)
				// The server may close the connection at once if no
				// stream is open: whether it reads what follows is timing.
				i = len(data)
			case 5:
				framer.WriteRawFrame(http2.FrameSettings, http2.FlagSettingsAck, 0, []byte{0, 0, 0, 0, 0, 0})
			case 6:
				settle(cur)
				framer.WritePushPromise(http2.PushPromiseParam{StreamID: cur, PromiseID: 2, BlockFragment: block(requestTemplates[0]), EndHeaders: true})
			case 7:
				framer.WriteRawFrame(http2.FrameWindowUpdate, 0, 0, []byte{0, 0})
			case 8:
				settle(nextID)
				framer.WriteRawFrame(http2.FrameHeaders, http2.FlagHeadersEndHeaders|http2.FlagHeadersPadded, nextID, []byte{200})
				nextID += 2
			}
		case 9:
			syncAll()
		}
	}
	// End every request the client left open, so that handlers reading
	// the body return, then wait for all the answers.
	for _, id := range slices.Sorted(maps.Keys(opened)) {
		if !ended[id] && !reset[id] {
			framer.WriteData(id, true, nil)
			ended[id] = true
		}
	}
	p := [8]byte{'f', 'i', 'n', 'a', 'l'}
	framer.WritePing(false, p)
	fr.wait(answered(p), time.Second, deadline)
	fr.mu.Lock()
	defer fr.mu.Unlock()

	var out strings.Builder
	if !fr.errGoAway {
		// After a connection error, which streams were answered before
		// it is timing: only the GOAWAY counts then.
		for _, id := range slices.Sorted(maps.Keys(fr.streams)) {
			s := fr.streams[id]
			if reset[id] {
				continue // answered or not, by timing
			}
			ev := s.events
			if s.data.Len() > 0 {
				ev = append(ev, "data "+shown(s.data.Bytes())+" (open)")
			}
			if len(ev) > 0 {
				fmt.Fprintf(&out, "stream %d:\n  %s\n", id, strings.Join(ev, "\n  "))
			}
		}
	}
	for _, g := range fr.goaways {
		if fr.errGoAway && strings.HasPrefix(g, "goaway NO_ERROR") {
			// net/http folds a graceful GOAWAY not yet written into a
			// later one for an error.
			continue
		}
		out.WriteString(g + "\n")
	}
	// After a GOAWAY the server closes the connection sooner or later;
	// only a close without one is an outcome.
	if fr.closed != "" && len(fr.goaways) == 0 {
		fmt.Fprintf(&out, "closed (%s)\n", fr.closed)
	}
	return out.String()
}

// answersAtOnce reports whether net/http answers a request with these
// fields itself, without reading its body: a 400 for a connection-specific
// field, or OPTIONS *.
func answersAtOnce(fs []field) bool {
	var method, path string
	for _, f := range fs {
		switch strings.ToLower(f.Name) {
		case ":method":
			method = f.Value
		case ":path":
			path = f.Value
		case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade":
			return true
		case "te":
			if f.Value != "trailers" {
				return true
			}
		}
	}
	return method == "OPTIONS" && path == "*"
}

// Frame program steps, for the seeds.
func req(tmpl, extra, flags byte) []byte { return []byte{0, flags, tmpl, extra} }
func data(sel, size, flags byte) []byte  { return []byte{1, sel, size, flags} }
func rst(sel, code byte) []byte          { return []byte{2, sel, code} }
func winUpdate(sel, inc byte) []byte     { return []byte{3, sel, inc} }
func setting(n byte) []byte              { return []byte{6, n} }
func trailers(n byte) []byte             { return []byte{7, 0, n} }
func odd(n byte) []byte                  { return []byte{8, n} }

var syncStep = []byte{9}

const (
	endStream = 1
	split     = 2
	sameID    = 4
	evenID    = 8
	prepend   = 16
)

var frameSeeds = [][]byte{
	nil,
	req(0, 0, endStream),       // GET
	req(0, 0, endStream|split), // GET in HEADERS + CONTINUATION
	req(2, 0, endStream),       // HEAD
	steps(req(1, 0, 0), data(0, 2, endStream)),                // POST with its 5 bytes
	steps(req(1, 0, 0), data(0, 3, endStream)),                // POST, 3 of 5 bytes
	steps(req(1, 0, 0), data(0, 1, 0), data(0, 5, endStream)), // POST, too many bytes
	steps(req(1, 0, 0), data(0, 2, 2|endStream)),              // padded DATA
	req(1, 0, endStream),                                      // POST with content-length and no body
	steps(req(3, 0, 0), data(0, 2, endStream)),                // expect: 100-continue
	steps(req(0, 0, 0), trailers(0)),                          // trailers
	steps(req(0, 0, 0), data(0, 1, 0), trailers(1)),           // a pseudo-header in trailers
	steps(req(0, 23, 0), data(0, 1, 0), trailers(0)),          // declared trailer
	steps(req(0, 0, 0), trailers(4)),                          // empty trailers
	req(4, 0, endStream),                                      // CONNECT
	req(5, 0, endStream),                                      // OPTIONS *
	req(6, 0, endStream),                                      // no :path
	req(7, 0, endStream),                                      // :authority and host
	req(9, 0, endStream),                                      // dot segments, bad escape, fragment
	req(10, 0, endStream),                                     // extended CONNECT without the setting
	steps(setting(12), req(10, 0, endStream)),                 // ... with it (set by the client: ignored)
	req(11, 0, endStream),                                     // :scheme http with host
	req(12, 0, endStream),                                     // relative :path
	req(13, 0, endStream),                                     // lower-case method
	req(15, 0, endStream),                                     // no :authority
	req(0, 2, endStream),                                      // X-Upper
	req(0, 3, endStream),                                      // connection: close
	req(0, 4, endStream),                                      // te: trailers
	req(0, 5, endStream),                                      // te: gzip
	req(0, 6, endStream),                                      // invalid name
	req(0, 7, endStream),                                      // CR LF in a value
	req(0, 10, endStream),                                     // content-length "1, 1"
	req(0, 11, endStream),                                     // host
	steps(req(0, 12, 0), data(0, 0, endStream)),               // cookie
	req(0, 13, endStream),                                     // unknown pseudo-header
	req(0, 14, endStream),                                     // duplicate :method
	req(0, 14, endStream|prepend),                             // a regular field before the pseudo-headers
	req(0, 15, endStream),                                     // transfer-encoding
	req(0, 17, endStream),                                     // upgrade
	req(0, 19, endStream),                                     // NUL in a value
	req(0, 21, endStream),                                     // 20000-byte value
	req(0, 25, endStream),                                     // :status in a request
	req(0, 28, endStream),                                     // empty name
	req(0, 29, endStream),                                     // content-length -1
	req(0, 30, endStream),                                     // padded value
	steps(req(0, 0, endStream), req(0, 0, endStream)),         // two requests
	steps(req(0, 0, endStream), syncStep, req(0, 0, endStream|sameID)), // a closed stream's id again
	req(0, 0, endStream|evenID),                                        // an even stream id
	steps(req(0, 0, 0), rst(0, 8)),                                     // the client cancels
	rst(2, 8),                                                          // RST_STREAM on an idle stream
	steps(req(0, 0, endStream), syncStep, data(0, 1, 0)),               // DATA after the stream ended
	data(1, 1, 0),                                                      // DATA on stream 0
	data(2, 1, 0),                                                      // DATA on an idle stream
	steps(req(1, 0, 0), data(0, 8, endStream)),                         // more DATA than the window
	steps(req(1, 0, 0), data(0, 6, endStream)),                         // a frame over the maximum size
	steps(winUpdate(1, 0)),                                             // zero WINDOW_UPDATE on the connection
	steps(req(0, 0, 0), winUpdate(0, 0)),                               // ... on a stream
	steps(winUpdate(1, 3), winUpdate(1, 3)),                            // connection window overflow
	steps(req(0, 0, 0), winUpdate(0, 3), winUpdate(0, 3)),              // stream window overflow
	steps(setting(0), req(0, 0, endStream), syncStep, winUpdate(3, 2)), // window 0, then opened
	steps(setting(1)),                                                  // window too large
	steps(setting(3)), steps(setting(4)), steps(setting(7)),            // bad settings
	steps(setting(6), req(0, 0, endStream)),  // header table size 0
	steps(setting(9), req(0, 0, endStream)),  // a tiny header list size
	steps(setting(10), req(0, 0, endStream)), // max concurrent streams 0
	steps(setting(11)),                       // an unknown setting
	[]byte{4, 0}, []byte{4, 1},               // PING, and an unsolicited PING ACK
	steps(req(0, 0, 0), []byte{5, 0, 0, 16}, data(0, 0, endStream)),  // PRIORITY on itself
	steps(req(0, 0, 0), []byte{5, 2, 1, 255}, data(0, 0, endStream)), // PRIORITY on an idle stream
	odd(0), odd(1), odd(2), odd(3), odd(4), odd(5), odd(6), odd(7), odd(8),
	steps(req(0, 0, endStream), syncStep, odd(4), req(0, 0, endStream)), // GOAWAY from the client, then a request
	steps(req(0, 0, split), []byte{4, 0}),                               // PING between HEADERS and CONTINUATION
	steps(req(0, 0, 0), trailers(6)),                                    // host in trailers
	steps(req(8, 0, 0), data(0, 1, endStream)),                          // content-length 0 and a byte
	steps(req(14, 0, endStream)),                                        // POST, content-length 5, no body
}

func FuzzFramesMatchNetHTTP(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add(s)
	}
	ca, cfg := testTLS(f)
	ours := startOurs(f, cfg, http.HandlerFunc(frameEcho))
	ref := startRef(f, cfg, http.HandlerFunc(frameEcho))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := sendFrames(t, ca, ref, data)
		got := sendFrames(t, ca, ours, data)
		if want, got = mask(want), mask(got); want != got {
			t.Fatalf("frames %x\nnet/http:\n%s\nh2server:\n%s", data, want, got)
		}
	})
}

// errClass names how reading the connection ended, the same for both
// servers where the same thing happened.
func errClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "connection reset"):
		return "reset"
	}
	return "error"
}
