package h2server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// These tests attack the server as a hostile or broken client would, over
// loopback TLS, and check that it stays within its limits: handlers,
// memory and goroutines are bounded, errors are the ones RFC 9113 asks
// for, and the connection (or a new one) keeps serving.

// TestAdvRapidReset opens streams and resets them at once, thousands of
// times, while their handlers block: no more than MaxConcurrentStreams
// handlers may run at once, and the connection either keeps serving or
// ends with GOAWAY ENHANCE_YOUR_CALM.
func TestAdvRapidReset(t *testing.T) {
	for _, ctxAware := range []bool{false, true} {
		t.Run(fmt.Sprintf("ctxAware=%v", ctxAware), func(t *testing.T) {
			const maxStreams = 10
			base := goroutineBaseline()
			var running, maxRunning atomic.Int32
			release := make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := running.Add(1)
				defer running.Add(-1)
				for {
					m := maxRunning.Load()
					if n <= m || maxRunning.CompareAndSwap(m, n) {
						break
					}
				}
				if r.URL.Path == "/ok" {
					io.WriteString(w, "ok")
					return
				}
				if ctxAware {
					select {
					case <-release:
					case <-r.Context().Done():
					}
				} else {
					<-release
				}
			})
			s := startAdv(t, &Server{Handler: h, MaxConcurrentStreams: maxStreams})
			rc := s.dialRaw(t)
			rc.handshake()

			type result struct {
				ga  *http2.GoAwayFrame
				err error
			}
			frames := make(chan http2.Frame, 64)
			ended := make(chan result, 1)
			go func() {
				var ga *http2.GoAwayFrame
				for {
					f, err := rc.read()
					if err != nil {
						ended <- result{ga, err}
						close(frames)
						return
					}
					if g, ok := f.(*http2.GoAwayFrame); ok {
						cp := *g
						ga = &cp
					}
					if mh, ok := f.(*http2.MetaHeadersFrame); ok {
						select {
						case frames <- mh:
						default:
						}
					}
				}
			}()
			const n = 5000
			var id uint32 = 1
			sent := 0
			for ; sent < n; sent++ {
				if err := rc.request(id, "GET", "/block", true); err != nil {
					break
				}
				if err := rc.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeCancel) }); err != nil {
					break
				}
				id += 2
			}
			t.Logf("sent %d open+reset pairs", sent)
			if m := maxRunning.Load(); m > maxStreams {
				t.Errorf("%d handlers ran at once; MaxConcurrentStreams is %d", m, maxStreams)
			}
			close(release)

			// The connection still serves, unless it said ENHANCE_YOUR_CALM.
			okID := id
			if err := rc.request(okID, "GET", "/ok", true); err == nil {
				deadline := time.After(advTimeout)
			wait:
				for {
					select {
					case f, ok := <-frames:
						if !ok {
							break wait
						}
						if mh := f.(*http2.MetaHeadersFrame); mh.StreamID == okID {
							if st := mh.PseudoValue("status"); st != "200" {
								t.Errorf("status %q after the resets", st)
							}
							break wait
						}
					case <-deadline:
						t.Fatal("no response after the resets")
					}
				}
			}
			rc.c.Close()
			var res result
			select {
			case res = <-ended:
			case <-time.After(advTimeout):
				t.Fatal("reader did not end")
			}
			if res.ga != nil {
				if res.ga.ErrCode != http2.ErrCodeEnhanceYourCalm {
					t.Errorf("GOAWAY %v; want ENHANCE_YOUR_CALM or none", res.ga.ErrCode)
				}
			}
			s.waitServing(t)
			deadline := time.Now().Add(advTimeout)
			for running.Load() != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if r := running.Load(); r != 0 {
				t.Errorf("%d handlers still running", r)
			}
			waitGoroutines(t, base+4) // the listener's and the test's reader
			if m := maxRunning.Load(); m > maxStreams {
				t.Errorf("%d handlers ran at once; MaxConcurrentStreams is %d", m, maxStreams)
			}
		})
	}
}

// TestAdvContinuationFlood sends a HEADERS frame without END_HEADERS and
// then CONTINUATION frames without end: the server must stop it (a
// connection error, or a 431) without holding it all in memory, and must
// never give the handler a request with a truncated header list.
func TestAdvContinuationFlood(t *testing.T) {
	for _, empty := range []bool{false, true} {
		t.Run(fmt.Sprintf("empty=%v", empty), func(t *testing.T) {
			var called atomic.Int32
			s := startAdv(t, &Server{
				Handler:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Add(1) }),
				IdleTimeout: time.Second,
			})
			rc := s.dialRaw(t)
			rc.handshake()
			before := heapAlloc()
			type result struct {
				status string
				ga     *http2.GoAwayFrame
				err    error
			}
			done := make(chan result, 1)
			go func() {
				var r result
				for {
					f, err := rc.read()
					if err != nil {
						r.err = err
						done <- r
						return
					}
					switch f := f.(type) {
					case *http2.MetaHeadersFrame:
						r.status = f.PseudoValue("status")
					case *http2.GoAwayFrame:
						cp := *f
						r.ga = &cp
					}
				}
			}()
			first := rc.encode(":method", "GET", ":scheme", "https", ":authority", "127.0.0.1", ":path", "/")
			err := rc.write(func(fr *http2.Framer) error {
				return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndStream: true})
			})
			if err != nil {
				t.Fatal(err)
			}
			frag := rc.encode("x-flood", strings.Repeat("a", 8000), "x-flood2", strings.Repeat("b", 8000))
			if empty {
				frag = nil
			}
			const total = 256 << 20 // bytes of fragments at most; the empty case sends 200,000 frames
			sent, frames := 0, 0
			for sent < total && frames < 200000 {
				if err := rc.write(func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, frag) }); err != nil {
					break
				}
				sent += len(frag)
				frames++
			}
			after := heapAlloc()
			t.Logf("sent %d CONTINUATION frames, %d bytes; heap %d -> %d", frames, sent, before, after)
			if after > before+64<<20 {
				t.Errorf("heap grew by %d bytes", after-before)
			}
			if !empty && sent >= total {
				t.Errorf("the server read %d bytes of one header block", sent)
			}
			rc.c.CloseWrite()
			var r result
			select {
			case r = <-done:
			case <-time.After(advTimeout):
				rc.c.Close()
				t.Fatal("the connection did not end")
			}
			t.Logf("status %q, GOAWAY %v, end %v", r.status, r.ga, r.err)
			if r.status != "" && r.status != "431" {
				t.Errorf("status %s; want 431 or none", r.status)
			}
			if !empty && r.ga == nil && r.status == "" {
				t.Errorf("neither GOAWAY nor 431")
			}
			if c := called.Load(); c != 0 {
				t.Errorf("the handler saw %d flooded requests", c)
			}
		})
	}
}

// TestAdvControlFlood sends PINGs (or SETTINGS) without ever reading the
// answers: the server must close the connection rather than buffer the
// answers without bound or hang writing them.
func TestAdvControlFlood(t *testing.T) {
	for _, kind := range []string{"ping", "settings"} {
		t.Run(kind, func(t *testing.T) {
			s := startAdv(t, &Server{Handler: http.NotFoundHandler()})
			rc := s.dialRaw(t)
			before := heapAlloc()
			const maxFrames = 2 << 20
			n := 0
			for ; n < maxFrames; n++ {
				// A write that blocks this long means the server has
				// stopped reading: the flood is over.
				_ = rc.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
				var err error
				if kind == "ping" {
					err = rc.fr.WritePing(false, [8]byte{byte(n), byte(n >> 8)})
				} else {
					err = rc.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 16384 + uint32(n%1000)})
				}
				if err != nil {
					t.Logf("write %d: %v", n, err)
					break
				}
			}
			after := heapAlloc()
			t.Logf("sent %d frames; heap %d -> %d", n, before, after)
			if after > before+64<<20 {
				t.Errorf("heap grew by %d bytes", after-before)
			}
			// The server must end the connection by itself; the client
			// still does not read.
			s.waitServing(t)
		})
	}
}

// advPattern is the byte at offset i of the test bodies.
func advPattern(i int) byte { return byte(i*7 + i>>13) }

// TestAdvSlowReader downloads 8 MiB through a small window granted
// slowly: the body arrives whole and in order, and the handler waits for
// window rather than buffering the response.
func TestAdvSlowReader(t *testing.T) {
	const size = 8 << 20
	var written atomic.Int64
	s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 32<<10)
		for off := 0; off < size; off += len(buf) {
			for i := range buf {
				buf[i] = advPattern(off + i)
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
			written.Add(int64(len(buf)))
		}
	})})
	const window = 16 << 10
	rc := s.dialRaw(t, http2.Setting{ID: http2.SettingInitialWindowSize, Val: window})
	rc.handshake()
	if err := rc.request(1, "GET", "/", true); err != nil {
		t.Fatal(err)
	}
	var body []byte
	paused := false
	for {
		f, err := rc.read()
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(body), err)
		}
		if rs, ok := f.(*http2.RSTStreamFrame); ok {
			t.Fatalf("reset %v after %d bytes", rs.ErrCode, len(body))
		}
		df, ok := f.(*http2.DataFrame)
		if !ok || df.StreamID != 1 {
			continue
		}
		body = append(body, df.Data()...)
		if !paused && len(body) >= 64<<10 {
			// Stop granting window until the handler stops making
			// progress: it must be blocked, well short of the end.
			paused = true
			last, deadline := int64(-1), time.Now().Add(advTimeout)
			for written.Load() != last && time.Now().Before(deadline) {
				last = written.Load()
				time.Sleep(100 * time.Millisecond)
			}
			if w := written.Load(); w >= 1<<20 {
				t.Errorf("handler wrote %d bytes while the client granted %d", w, len(body))
			}
		}
		if n := uint32(len(df.Data())); n > 0 {
			time.Sleep(50 * time.Microsecond)
			if err := rc.write(func(fr *http2.Framer) error {
				if err := fr.WriteWindowUpdate(0, n); err != nil {
					return err
				}
				return fr.WriteWindowUpdate(1, n)
			}); err != nil {
				t.Fatal(err)
			}
		}
		if df.StreamEnded() {
			break
		}
	}
	if len(body) != size {
		t.Fatalf("got %d bytes, want %d", len(body), size)
	}
	for i, b := range body {
		if b != advPattern(i) {
			t.Fatalf("byte %d is %d, want %d", i, b, advPattern(i))
		}
	}
}

// TestAdvUploads sends request bodies to handlers that read them, ignore
// them, or close them early.
func TestAdvUploads(t *testing.T) {
	const size = 5 << 20
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = advPattern(i)
	}
	sum := sha256.Sum256(payload)
	s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hash":
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
		case "/ignore":
			io.WriteString(w, "ignored")
		case "/close":
			buf := make([]byte, 1000)
			io.ReadFull(r.Body, buf)
			r.Body.Close()
			if _, err := r.Body.Read(buf); err == nil {
				http.Error(w, "read after close succeeded", 500)
				return
			}
			io.WriteString(w, "closed")
		default:
			io.WriteString(w, "ok")
		}
	})})
	client, _ := s.client(t)
	post := func(path string) string {
		t.Helper()
		resp, err := client.Post(s.url(path), "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("POST %s: reading: %v", path, err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	if got, want := post("/hash"), fmt.Sprintf("%d %x", size, sum); got != want {
		t.Errorf("hash: got %q, want %q", got, want)
	}
	if got := post("/ignore"); got != "ignored" {
		t.Errorf("ignore: %q", got)
	}
	if got := post("/close"); got != "closed" {
		t.Errorf("close: %q", got)
	}
	if got := post("/hash"); got != fmt.Sprintf("%d %x", size, sum) {
		t.Errorf("hash after the others: %q", got)
	}
	if n := s.accepted.Load(); n != 1 {
		t.Errorf("%d connections; want the one reused", n)
	}

	// On the wire: a handler that answers without reading ends the stream
	// with RST_STREAM NO_ERROR, and the connection stays usable.
	rc := s.dialRaw(t)
	rc.handshake()
	if err := rc.request(1, "POST", "/ignore", false, "content-length", "100000"); err != nil {
		t.Fatal(err)
	}
	if err := rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, false, payload[:1000]) }); err != nil {
		t.Fatal(err)
	}
	status, body, err := rc.response(1)
	if err != nil || status != "200" || string(body) != "ignored" {
		t.Fatalf("ignore: %q %q %v", status, body, err)
	}
	rs := rc.waitFor(func(f http2.Frame) bool { _, ok := f.(*http2.RSTStreamFrame); return ok }).(*http2.RSTStreamFrame)
	if rs.StreamID != 1 || rs.ErrCode != http2.ErrCodeNo {
		t.Errorf("got RST_STREAM %d %v; want 1 NO_ERROR", rs.StreamID, rs.ErrCode)
	}
	// The client may still send what was in flight.
	if err := rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, true, payload[:1000]) }); err != nil {
		t.Fatal(err)
	}
	if err := rc.request(3, "GET", "/", true); err != nil {
		t.Fatal(err)
	}
	if status, body, err := rc.response(3); err != nil || status != "200" || string(body) != "ok" {
		t.Errorf("next request: %q %q %v", status, body, err)
	}
}

// TestAdvFlowControlViolations checks the errors for a peer that breaks
// flow control.
func TestAdvFlowControlViolations(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	open := func(t *testing.T, endStream bool) *rawConn {
		s := startAdv(t, &Server{Handler: h})
		rc := s.dialRaw(t)
		rc.handshake()
		if err := rc.request(1, "POST", "/", endStream); err != nil {
			t.Fatal(err)
		}
		return rc
	}
	// expect reads until a RST_STREAM on stream 1 or a GOAWAY.
	expect := func(t *testing.T, rc *rawConn, rst, goAway bool, code http2.ErrCode) {
		t.Helper()
		for {
			f, err := rc.read()
			if err != nil {
				t.Fatalf("want %v; connection ended: %v", code, err)
			}
			switch f := f.(type) {
			case *http2.RSTStreamFrame:
				if f.StreamID != 1 {
					continue
				}
				if !rst || f.ErrCode != code {
					t.Fatalf("got RST_STREAM %v", f.ErrCode)
				}
				return
			case *http2.GoAwayFrame:
				if !goAway || f.ErrCode != code {
					t.Fatalf("got GOAWAY %v", f.ErrCode)
				}
				return
			}
		}
	}
	t.Run("data beyond window", func(t *testing.T) {
		rc := open(t, false)
		chunk := make([]byte, 16<<10)
		go func() {
			for i := 0; i < (1<<20)/len(chunk)+4; i++ {
				if rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, false, chunk) }) != nil {
					return
				}
			}
		}()
		expect(t, rc, true, true, http2.ErrCodeFlowControl)
	})
	t.Run("stream window update overflow", func(t *testing.T) {
		rc := open(t, true)
		if err := rc.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(1, 1<<31-1) }); err != nil {
			t.Fatal(err)
		}
		expect(t, rc, true, false, http2.ErrCodeFlowControl)
		// The connection carries on.
		if err := rc.request(3, "GET", "/", true); err != nil {
			t.Fatal(err)
		}
		if err := rc.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{9}) }); err != nil {
			t.Fatal(err)
		}
		rc.waitFor(func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && p.IsAck() })
	})
	t.Run("connection window update overflow", func(t *testing.T) {
		rc := open(t, true)
		if err := rc.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1) }); err != nil {
			t.Fatal(err)
		}
		expect(t, rc, false, true, http2.ErrCodeFlowControl)
	})
	t.Run("initial window size overflow", func(t *testing.T) {
		rc := open(t, true)
		if err := rc.write(func(fr *http2.Framer) error {
			if err := fr.WriteWindowUpdate(1, 1<<31-1-65535); err != nil {
				return err
			}
			return fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65536})
		}); err != nil {
			t.Fatal(err)
		}
		expect(t, rc, false, true, http2.ErrCodeFlowControl)
	})
}

// TestAdvHandlerPanics checks that a panicking handler resets its stream
// with INTERNAL_ERROR, is logged unless it panicked with
// http.ErrAbortHandler, and leaves the connection usable.
func TestAdvHandlerPanics(t *testing.T) {
	s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("boom-advtest")
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/panic-after-write":
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic("late-boom-advtest")
		}
		io.WriteString(w, "ok")
	})})
	rc := s.dialRaw(t)
	rc.handshake()
	id := uint32(1)
	for _, path := range []string{"/panic", "/abort", "/panic-after-write"} {
		if err := rc.request(id, "GET", path, true); err != nil {
			t.Fatal(err)
		}
		_, _, err := rc.response(id)
		if err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
			t.Errorf("%s: got %v; want a reset with INTERNAL_ERROR", path, err)
		}
		id += 2
	}
	if err := rc.request(id, "GET", "/", true); err != nil {
		t.Fatal(err)
	}
	if status, body, err := rc.response(id); err != nil || status != "200" || string(body) != "ok" {
		t.Errorf("after the panics: %q %q %v", status, body, err)
	}
	logged := s.log.String()
	for _, want := range []string{"boom-advtest", "late-boom-advtest"} {
		if !strings.Contains(logged, want) {
			t.Errorf("the log does not mention %q:\n%s", want, logged)
		}
	}
	if n := strings.Count(logged, "panic serving"); n != 2 {
		t.Errorf("%d panics logged, want 2 (ErrAbortHandler is not logged):\n%s", n, logged)
	}
}

// TestAdvShutdown checks Shutdown, Close and IdleTimeout.
func TestAdvShutdown(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		s := startAdv(t, &Server{Handler: http.NotFoundHandler()})
		rc := s.dialRaw(t)
		rc.handshake()
		errc := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), advTimeout)
			defer cancel()
			errc <- s.srv.Shutdown(ctx)
		}()
		ga, err := rc.readUntilEnd()
		if ga == nil || ga.ErrCode != http2.ErrCodeNo {
			t.Errorf("GOAWAY %v; want NO_ERROR", ga)
		}
		if !isClosed(err) {
			t.Errorf("the connection was not closed: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	t.Run("in flight", func(t *testing.T) {
		const size = 1 << 20
		started, proceed := make(chan struct{}), make(chan struct{})
		s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-proceed
			b := make([]byte, size)
			for i := range b {
				b[i] = advPattern(i)
			}
			w.Write(b)
		})})
		rc := s.dialRaw(t)
		rc.handshake()
		if err := rc.request(1, "GET", "/", true); err != nil {
			t.Fatal(err)
		}
		<-started
		errc := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), advTimeout)
			defer cancel()
			errc <- s.srv.Shutdown(ctx)
		}()
		ga := rc.waitFor(func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }).(*http2.GoAwayFrame)
		if ga.ErrCode != http2.ErrCodeNo || ga.LastStreamID != 1 {
			t.Errorf("GOAWAY %v last %d; want NO_ERROR 1", ga.ErrCode, ga.LastStreamID)
		}
		close(proceed)
		status, body, err := rc.response(1)
		if err != nil || status != "200" || len(body) != size {
			t.Fatalf("response: %q, %d bytes, %v", status, len(body), err)
		}
		for i, b := range body {
			if b != advPattern(i) {
				t.Fatalf("byte %d wrong", i)
			}
		}
		if _, err := rc.readUntilEnd(); !isClosed(err) {
			t.Errorf("the connection was not closed: %v", err)
		}
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		case <-time.After(advTimeout):
			t.Fatal("Shutdown did not return")
		}
	})
	t.Run("close cancels", func(t *testing.T) {
		started, canceled := make(chan struct{}), make(chan struct{})
		s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			select {
			case <-r.Context().Done():
				close(canceled)
			case <-time.After(advTimeout):
			}
		})})
		rc := s.dialRaw(t)
		rc.handshake()
		if err := rc.request(1, "GET", "/", true); err != nil {
			t.Fatal(err)
		}
		<-started
		if err := s.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case <-canceled:
		case <-time.After(advTimeout):
			t.Fatal("the handler's context did not end")
		}
		if _, err := rc.readUntilEnd(); !isClosed(err) {
			t.Errorf("the connection was not closed: %v", err)
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		s := startAdv(t, &Server{Handler: http.NotFoundHandler(), IdleTimeout: 50 * time.Millisecond})
		rc := s.dialRaw(t)
		rc.handshake()
		// One request first: the timer restarts after it.
		if err := rc.request(1, "GET", "/", true); err != nil {
			t.Fatal(err)
		}
		if status, _, err := rc.response(1); err != nil || status != "404" {
			t.Fatalf("%q %v", status, err)
		}
		if _, err := rc.readUntilEnd(); !isClosed(err) {
			t.Errorf("the connection was not closed: %v", err)
		}
		s.waitServing(t)
	})
}

// TestAdvConcurrency runs many requests of several kinds at once over one
// connection; run it with -race.
func TestAdvConcurrency(t *testing.T) {
	goroutines, perG := 50, 200
	if testing.Short() {
		perG = 20
	}
	s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		switch r.URL.Path {
		case "/get":
			w.Write(bytes.Repeat([]byte{'g'}, n))
		case "/post":
			h := sha256.New()
			io.Copy(h, r.Body)
			fmt.Fprintf(w, "%x", h.Sum(nil))
		case "/trailer":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "body")
			w.Header().Set("X-Sum", strconv.Itoa(n))
		case "/flush":
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			w.Write(bytes.Repeat([]byte{'b'}, n))
			w.(http.Flusher).Flush()
			io.WriteString(w, "c")
		}
	})})
	client, _ := s.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				n := (g*perG + i) * 37 % 20000
				if err := advOne(client, s, i%4, n); err != nil {
					errs <- fmt.Errorf("goroutine %d request %d: %w", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.accepted.Load(); n != 1 {
		t.Logf("%d connections", n)
	}
}

func advOne(client *http.Client, s *advServer, kind, n int) error {
	var resp *http.Response
	var err error
	var want string
	q := "?n=" + strconv.Itoa(n)
	switch kind {
	case 0:
		resp, err = client.Get(s.url("/get" + q))
		want = strings.Repeat("g", n)
	case 1:
		body := bytes.Repeat([]byte{byte(n)}, n)
		resp, err = client.Post(s.url("/post"+q), "application/octet-stream", bytes.NewReader(body))
		want = fmt.Sprintf("%x", sha256.Sum256(body))
	case 2:
		resp, err = client.Get(s.url("/trailer" + q))
		want = "body"
	case 3:
		resp, err = client.Get(s.url("/flush" + q))
		want = "a" + strings.Repeat("b", n) + "c"
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(b) != want {
		return fmt.Errorf("kind %d: status %d, body %d bytes, want %d", kind, resp.StatusCode, len(b), len(want))
	}
	if kind == 2 && resp.Trailer.Get("X-Sum") != strconv.Itoa(n) {
		return fmt.Errorf("trailer %q, want %d", resp.Trailer.Get("X-Sum"), n)
	}
	return nil
}

