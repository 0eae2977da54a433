package h2server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"runtime"
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
	client := s.client(t)
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
	client := s.client(t)
	// One request first, so that the others find its connection rather
	// than each dialing its own.
	if err := advOne(client, s, 0, 1); err != nil {
		t.Fatal(err)
	}
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
		t.Errorf("%d connections; want all the requests on one", n)
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

// advFuzzServer is the server FuzzFrames attacks, one per process so that
// a bug that outlives a connection shows on the next.
var (
	advFuzzOnce sync.Once
	advFuzz     *advServer
)

// advFuzzHandler reads the body and answers with its size, with a
// trailer, or panics, by path.
func advFuzzHandler(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	switch r.URL.Path {
	case "/panic":
		panic("fuzz")
	case "/trailer":
		w.Header().Set("Trailer", "X-N")
		w.Header().Set("X-N", strconv.FormatInt(n, 10))
	}
	fmt.Fprintf(w, "%d", n)
}

// advFuzzReader turns fuzz bytes into choices, with zeros once they run
// out.
type advFuzzReader struct{ b []byte }

func (r *advFuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *advFuzzReader) u16() int { return int(r.byte())<<8 | int(r.byte()) }

func (r *advFuzzReader) u32() uint32 {
	return uint32(r.byte())<<24 | uint32(r.byte())<<16 | uint32(r.byte())<<8 | uint32(r.byte())
}

func (r *advFuzzReader) bytes(n int) []byte {
	n = min(n, len(r.b))
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

// streamID is mostly one of the first few client streams, sometimes
// anything.
func (r *advFuzzReader) streamID() uint32 {
	c := r.byte()
	if c&0x80 != 0 {
		return r.u32() & (1<<31 - 1)
	}
	return uint32(c & 0x0f)
}

var advFuzzNames = []string{
	":method", ":path", ":scheme", ":authority", ":status", ":protocol", ":bogus",
	"content-length", "te", "connection", "trailer", "cookie", "host", "expect",
	"x-a", "Upper-Case", "bad name", "", "x-n", "transfer-encoding", "content-type",
}

var advFuzzValues = []string{
	"GET", "POST", "HEAD", "CONNECT", "/", "/panic", "/trailer", "*", "https", "http",
	"127.0.0.1", "0", "5", "100-continue", "trailers", "x-n", "a=b", "", "bad\x00value", "-1",
}

// fields builds a header block's fields: usually a plausible request, then
// fuzzed names and values, valid or not.
func (r *advFuzzReader) fields() []string {
	var kv []string
	if r.byte()&1 == 0 {
		kv = append(kv, ":method", advFuzzValues[int(r.byte())%4], ":scheme", "https",
			":authority", "127.0.0.1", ":path", advFuzzValues[4+int(r.byte())%3])
	}
	for n := int(r.byte() % 6); n > 0; n-- {
		c := r.byte()
		name := advFuzzNames[int(c)%len(advFuzzNames)]
		if c&0x80 != 0 {
			name = string(r.bytes(int(r.byte() % 16)))
		}
		d := r.byte()
		value := advFuzzValues[int(d)%len(advFuzzValues)]
		if d&0x80 != 0 {
			value = string(r.bytes(int(r.byte() % 32)))
		}
		kv = append(kv, name, value)
	}
	return kv
}

// advFuzzFrames writes the frames that data describes, at most 64, until
// data or the connection runs out.
func advFuzzFrames(rc *rawConn, data []byte) {
	r := &advFuzzReader{b: data}
	for i := 0; i < 64 && len(r.b) > 0; i++ {
		op := r.byte() % 13
		err := rc.write(func(fr *http2.Framer) error {
			switch op {
			case 0:
				flags := r.byte()
				n := r.u16() % (2 << 10)
				if flags&0x80 != 0 {
					n = r.u16() * 4 // up to 256 KiB: past the windows
				}
				p := make([]byte, n)
				if flags&0x08 != 0 {
					return fr.WriteDataPadded(r.streamID(), flags&1 != 0, p, make([]byte, int(r.byte())))
				}
				return fr.WriteData(r.streamID(), flags&1 != 0, p)
			case 1, 2:
				flags := r.byte()
				p := http2.HeadersFrameParam{
					StreamID:   r.streamID(),
					EndStream:  flags&1 != 0,
					EndHeaders: flags&2 == 0,
				}
				if flags&4 != 0 {
					p.Priority = http2.PriorityParam{StreamDep: r.streamID(), Exclusive: flags&8 != 0, Weight: r.byte()}
				}
				p.BlockFragment = rc.encode(r.fields()...)
				if flags&0x10 != 0 && len(p.BlockFragment) > 0 {
					p.BlockFragment = p.BlockFragment[:int(r.byte())%len(p.BlockFragment)]
				}
				return fr.WriteHeaders(p)
			case 3:
				return fr.WritePriority(r.streamID(), http2.PriorityParam{StreamDep: r.streamID(), Weight: r.byte()})
			case 4:
				return fr.WriteRSTStream(r.streamID(), http2.ErrCode(r.byte()%16))
			case 5:
				var ss []http2.Setting
				for n := int(r.byte() % 4); n > 0; n-- {
					ss = append(ss, http2.Setting{ID: http2.SettingID(r.byte() % 8), Val: r.u32()})
				}
				return fr.WriteSettings(ss...)
			case 6:
				return fr.WriteSettingsAck()
			case 7:
				return fr.WritePushPromise(http2.PushPromiseParam{StreamID: r.streamID(), PromiseID: r.streamID(), EndHeaders: true, BlockFragment: rc.encode(r.fields()...)})
			case 8:
				var d [8]byte
				copy(d[:], r.bytes(8))
				return fr.WritePing(r.byte()&1 != 0, d)
			case 9:
				return fr.WriteGoAway(r.streamID(), http2.ErrCode(r.byte()%16), nil)
			case 10:
				inc := r.u32() & (1<<31 - 1)
				if r.byte()&1 == 0 {
					inc &= 0xffff
				}
				return fr.WriteWindowUpdate(r.streamID(), inc)
			case 11:
				return fr.WriteContinuation(r.streamID(), r.byte()&1 != 0, rc.encode(r.fields()...))
			default:
				typ, flags, id := r.byte(), r.byte(), r.streamID()
				return fr.WriteRawFrame(http2.FrameType(typ), http2.Flags(flags), id, r.bytes(int(r.byte())))
			}
		})
		if err != nil {
			return
		}
	}
}

// FuzzFrames sends a fuzzed sequence of frames after a valid preface. The
// server must not panic, must end the connection's goroutines once the
// connection ends, and must still serve a new connection.
func FuzzFrames(f *testing.F) {
	seeds := [][]byte{
		{},
		{1, 0, 0, 1, 0},                    // a GET on stream 1
		{1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0},  // a POST with its body
		{1, 0, 0, 1, 0, 1, 4, 1},           // GET, then reset it
		{2, 2, 1, 0, 0, 0, 0, 11, 1, 1, 0}, // HEADERS without END_HEADERS, CONTINUATION
		{10, 0x80, 0x7f, 0xff, 0xff, 0xff, 0, 10, 0, 0x7f, 0xff, 0xff, 0xff, 1},        // window overflows
		{5, 1, 4, 0x7f, 0xff, 0xff, 0xff},                                              // huge initial window
		{1, 1, 0, 0, 0, 0x80, 0, 0, 0x80, 0xff, 0xff, 1},                               // DATA past the windows
		{1, 0, 0, 1, 1, 0, 1, 0x80, 3, 'a', 'b', 'c', 0x80, 2, 'A', 'B'},               // odd fields
		{9, 0, 0, 1, 0, 0, 1},                                                          // GOAWAY, then a request
		{12, 0xfe, 0xff, 1, 4, 1, 2, 3, 4},                                             // an unknown frame type
		{1, 0x04, 1, 1, 10, 0, 0, 1, 0},                                                // a stream depending on itself
		{1, 1, 0, 0, 2, 7, 5, 0, 0, 0, 4, 3, 1, 0, 4, 0, 0, 0, 0, 0, 0, 1, 0, 0, 5, 1}, // mixed
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		advFuzzOnce.Do(func() {
			// The server outlives this first input's test: no cleanup.
			advFuzz = startAdv(&noCleanupTB{t}, &Server{Handler: http.HandlerFunc(advFuzzHandler), MaxConcurrentStreams: 8})
		})
		s := advFuzz
		base := goroutineBaseline()
		rc := s.dialRaw(t)
		rc.fr.AllowIllegalWrites = true
		rc.noAck = true
		// Read everything while writing, so that neither side blocks;
		// the reader ends when the connection does.
		readerDone := make(chan struct{})
		pong := make(chan struct{})
		go func() {
			defer close(readerDone)
			for {
				f, err := rc.read()
				if err != nil {
					return
				}
				if p, ok := f.(*http2.PingFrame); ok && p.IsAck() && p.Data == [8]byte{'a', 'd', 'v', 'e', 'n', 'd'} {
					close(pong)
				}
			}
		}()
		advFuzzFrames(rc, data)
		// A PING answered means the server has processed every frame.
		if rc.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{'a', 'd', 'v', 'e', 'n', 'd'}) }) == nil {
			select {
			case <-pong:
			case <-readerDone:
			case <-time.After(advTimeout):
				t.Fatal("no PING answer and no end")
			}
		}
		rc.c.Close()
		<-readerDone
		s.waitServing(t)
		waitGoroutines(t, base)

		// A new connection still works.
		rc2 := s.dialRaw(t)
		rc2.handshake()
		if err := rc2.request(1, "GET", "/", true); err != nil {
			t.Fatal(err)
		}
		if status, body, err := rc2.response(1); err != nil || status != "200" || string(body) != "0" {
			t.Fatalf("a normal request after the input: %q %q %v", status, body, err)
		}
		rc2.c.Close()
		s.waitServing(t)
	})
}

// noCleanupTB is a testing.TB whose Cleanup does nothing, for a server
// that serves every input of a fuzz run.
type noCleanupTB struct{ testing.TB }

func (noCleanupTB) Cleanup(func()) {}

// TestAdvShutdownBeforePreface calls Shutdown while a connection is still
// waiting for the client's preface: the server's first frame must still
// be its SETTINGS (RFC 9113, section 3.4), whether or not a GOAWAY
// follows.
func TestAdvShutdownBeforePreface(t *testing.T) {
	s := startAdv(t, &Server{Handler: http.NotFoundHandler()})
	c, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: s.ca.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(advTimeout)
	for s.serving.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), advTimeout)
		defer cancel()
		errc <- s.srv.Shutdown(ctx)
	}()
	// Shutdown has had time to act on the connection (no assertion
	// depends on how long this is: a shorter wait only makes the test
	// pass more often).
	time.Sleep(20 * time.Millisecond)
	_ = c.SetDeadline(time.Now().Add(advTimeout))
	io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	f, err := fr.ReadFrame()
	if err == nil {
		if _, ok := f.(*http2.SettingsFrame); !ok {
			t.Errorf("the server's first frame is %v; want SETTINGS", f)
		}
	}
	if err := <-errc; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestAdvTrailersAfterReset sends a request's trailers after the server
// answered without reading the body and reset the stream with NO_ERROR,
// as a client does whose trailers were already on their way: RFC 9113,
// section 5.1 says an endpoint MUST ignore frames on a stream it has
// reset, so the connection must go on serving. (net/http's server ends
// the connection with PROTOCOL_ERROR here too: run with
// H2ADV_TARGET=nethttp.)
func TestAdvTrailersAfterReset(t *testing.T) {
	s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })})
	rc := s.dialRaw(t)
	rc.handshake()
	if err := rc.request(1, "POST", "/", false, "trailer", "x-t"); err != nil {
		t.Fatal(err)
	}
	if err := rc.write(func(fr *http2.Framer) error { return fr.WriteData(1, false, []byte("abc")) }); err != nil {
		t.Fatal(err)
	}
	if status, body, err := rc.response(1); err != nil || status != "200" || string(body) != "ok" {
		t.Fatalf("response: %q %q %v", status, body, err)
	}
	rc.waitFor(func(f http2.Frame) bool { rs, ok := f.(*http2.RSTStreamFrame); return ok && rs.StreamID == 1 })
	// The server writes RST_STREAM before it forgets the stream, and lets
	// go of its lock while writing: two PING round trips make sure it has
	// forgotten it (otherwise the trailers may still find it open).
	for i := range 2 {
		data := [8]byte{'t', byte(i)}
		if err := rc.write(func(fr *http2.Framer) error { return fr.WritePing(false, data) }); err != nil {
			t.Fatal(err)
		}
		rc.waitFor(func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && p.IsAck() && p.Data == data })
	}
	if err := rc.write(func(fr *http2.Framer) error {
		if err := fr.WriteData(1, false, []byte("def")); err != nil {
			return err
		}
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.encode("x-t", "1"), EndStream: true, EndHeaders: true})
	}); err != nil {
		t.Fatal(err)
	}
	if err := rc.request(3, "GET", "/", true); err != nil {
		t.Fatal(err)
	}
	if status, body, err := rc.response(3); err != nil || status != "200" || string(body) != "ok" {
		t.Errorf("the next request: %q %q %v", status, body, err)
	}
}

// TestAdvIdleTimeoutAfterRefusedStream refuses a stream that depends on
// itself (a stream error) on an idle connection: the connection is still
// idle, so IdleTimeout must still close it.
func TestAdvIdleTimeoutAfterRefusedStream(t *testing.T) {
	s := startAdv(t, &Server{Handler: http.NotFoundHandler(), IdleTimeout: 50 * time.Millisecond})
	rc := s.dialRaw(t)
	rc.handshake()
	if err := rc.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{
			StreamID:      1,
			BlockFragment: rc.encode(":method", "GET", ":scheme", "https", ":authority", "127.0.0.1", ":path", "/"),
			EndStream:     true,
			EndHeaders:    true,
			Priority:      http2.PriorityParam{StreamDep: 1, Weight: 15},
		})
	}); err != nil {
		t.Fatal(err)
	}
	rs := rc.waitFor(func(f http2.Frame) bool { _, ok := f.(*http2.RSTStreamFrame); return ok }).(*http2.RSTStreamFrame)
	if rs.ErrCode != http2.ErrCodeProtocol {
		t.Errorf("RST_STREAM %v; want PROTOCOL_ERROR", rs.ErrCode)
	}
	if _, err := rc.readUntilEnd(); !isClosed(err) {
		t.Errorf("the idle connection was not closed: %v", err)
	}
}

// TestAdvHeaderListTooLong sends a header list a little over
// MaxHeaderBytes in one HEADERS frame, in fields each well under it: the
// answer is a 431, and the handler never sees the request. (One field
// longer than the whole limit is a COMPRESSION_ERROR instead: x/net's
// Framer limits HPACK strings to the header list size, for net/http too.)
func TestAdvHeaderListTooLong(t *testing.T) {
	var called atomic.Int32
	s := startAdv(t, &Server{
		Handler:        http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Add(1) }),
		MaxHeaderBytes: 8 << 10,
	})
	rc := s.dialRaw(t)
	rc.handshake()
	var fields []string
	for i := range 20 {
		fields = append(fields, fmt.Sprintf("x-h%d", i), strings.Repeat("a", 500))
	}
	if err := rc.request(1, "GET", "/", true, fields...); err != nil {
		t.Fatal(err)
	}
	status, _, err := rc.response(1)
	if err != nil || status != "431" {
		t.Errorf("got %q %v; want 431", status, err)
	}
	if err := rc.request(3, "GET", "/", true); err != nil {
		t.Fatal(err)
	}
	if status, _, err := rc.response(3); err != nil || status != "200" {
		t.Errorf("next request: %q %v", status, err)
	}
	if n := called.Load(); n != 1 {
		t.Errorf("the handler saw %d requests; want only the second", n)
	}
}

// TestAdvSlowBodyReaderMemory uploads 64 MiB to a handler that reads
// slower than the client sends, so that the request body's buffer always
// holds unread data: what the server holds must stay near the stream's
// flow-control window, not grow with the bytes already read.
func TestAdvSlowBodyReaderMemory(t *testing.T) {
	const size = 64 << 20
	var peak atomic.Uint64
	s := startAdv(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 16<<10)
		var n int64
		for {
			m, err := r.Body.Read(buf)
			n += int64(m)
			if n%(4<<20) < int64(m) {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
			if err != nil {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		fmt.Fprint(w, n)
	})})
	client := s.client(t)
	before := heapAlloc()
	resp, err := client.Post(s.url("/"), "application/octet-stream", io.LimitReader(advZeros{}, size))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != strconv.Itoa(size) {
		t.Fatalf("the handler read %s bytes", body)
	}
	t.Logf("heap in use before %d, peak while reading %d", before, peak.Load())
	if p := peak.Load(); p > before+32<<20 {
		t.Errorf("the heap grew by %d bytes for a %d-byte upload through a 1 MiB window", p-before, size)
	}
}

// advZeros reads as endless zeros.
type advZeros struct{}

func (advZeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
