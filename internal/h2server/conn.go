package h2server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The values net/http uses, so that clients see the same settings.
const (
	defaultMaxStreams     = 250
	maxReadFrameSize      = 1 << 20 // SETTINGS_MAX_FRAME_SIZE advertised
	streamWindow          = 1 << 20 // SETTINGS_INITIAL_WINDOW_SIZE advertised
	connWindow            = 1 << 20 // the connection's receive window
	initialWindow         = 65535   // both windows before any setting or update
	minRefresh            = 4 << 10 // smallest WINDOW_UPDATE sent before the window runs out
	handlerChunkWriteSize = 4 << 10 // a response's buffer
	prefaceTimeout        = 10 * time.Second
	maxSettingsPerFrame   = 100
	// goAwayLinger is how long a connection stays open after its last
	// stream once it has sent GOAWAY, for the client to close first
	// (closing with unread data makes the kernel reset the connection,
	// which can destroy the last responses before the client reads
	// them). net/http waits a second; on loopback the client's close
	// arrives in microseconds, and a development server's Ctrl-C should
	// not wait.
	goAwayLinger = 50 * time.Millisecond
	// A client that does not read what it makes the server answer
	// (PING, SETTINGS) fills the write buffer: past this, the connection
	// is closed. Responses wait instead (maxBuffered).
	maxControlBuffered = 1 << 20
	// maxBuffered is how much response data waits in the connection's
	// buffer while another goroutine writes, before handlers wait.
	maxBuffered = 64 << 10
)

var (
	errClientDisconnected = errors.New("client disconnected")
	errStreamClosed       = errors.New("http2: stream closed")
	errHandlerComplete    = errors.New("http2: request body closed due to handler exiting")
	errHandlerPanicked    = errors.New("http2: handler panicked")
	errClosedBody         = errors.New("body closed by handler")
	errPrefaceMismatch    = errors.New("bogus greeting")
)

type streamState int

const (
	stateOpen streamState = iota
	stateHalfClosedRemote
	stateClosed
)

// serverConn is one HTTP/2 connection. Its read loop runs on the goroutine
// that called ServeConn; every other goroutine (handlers, timers,
// Shutdown) only takes mu.
type serverConn struct {
	srv        *Server
	conn       net.Conn
	tlsState   *tls.ConnectionState
	remoteAddr string
	baseCtx    context.Context
	rfr        *http2.Framer // read side, read loop only
	canon      map[string]string

	mu   sync.Mutex
	cond sync.Cond // flow control, buffer space, stream closes; on mu

	// Write side: frames are appended to out and written by whichever
	// goroutine finds no other writing.
	out       appendBuffer
	spare     []byte
	wfr       *http2.Framer // writes into out
	henc      *hpack.Encoder
	hbuf      bytes.Buffer
	writing   bool
	inReader  bool  // the read loop holds mu
	werr      error // the connection can no longer be written
	peerFrame uint32
	peerInit  int32 // the peer's SETTINGS_INITIAL_WINDOW_SIZE
	sendConn  int32 // connection send window

	streams       map[uint32]*stream
	maxClientID   uint32
	curStreams    uint32
	curHandlers   uint32
	unstarted     []*stream
	inflow        inflow // connection receive window
	unackedSet    int
	goAwaySent    bool
	closing       bool // serve is ending
	idleTimer     *time.Timer
	lingerTimer   *time.Timer
	gotFirstFrame bool
	sentSettings  bool
	resetIDs      [32]uint32 // streams reset while open, the latest ones
	resetNext     int
}

// stream is one request and its response. Fields are guarded by sc.mu
// unless noted.
type stream struct {
	sc       *serverConn
	id       uint32
	state    streamState
	send     int32 // send window
	inflow   inflow
	body     *pipe // nil without a request body; has its own lock
	declLen  int64 // declared Content-Length, -1 if none
	gotLen   int64
	gotTrail bool
	// wroteHeaders: a header block went out on the stream.
	wroteHeaders bool
	trailer      http.Header // request trailers received, for the handler
	reqTrail     http.Header // the request's Trailer map
	closeErr     error
	ctx          context.Context
	cancel       context.CancelFunc
	// Set by the read loop before the handler starts, then only read.
	req     *http.Request
	handler func(http.ResponseWriter, *http.Request)

	readTimer, writeTimer *time.Timer
}

// appendBuffer is an io.Writer that appends to a byte slice.
type appendBuffer struct{ b []byte }

func (a *appendBuffer) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

type connStater interface {
	ConnectionState() tls.ConnectionState
}

func newServerConn(s *Server, ctx context.Context, c net.Conn) *serverConn {
	sc := &serverConn{
		srv:        s,
		conn:       c,
		remoteAddr: c.RemoteAddr().String(),
		streams:    make(map[uint32]*stream),
		peerFrame:  16384,
		peerInit:   initialWindow,
		sendConn:   initialWindow,
	}
	if cs, ok := c.(connStater); ok {
		state := cs.ConnectionState()
		sc.tlsState = &state
	}
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.LocalAddr())
	sc.baseCtx = ctx
	sc.cond.L = &sc.mu
	sc.inflow.init(initialWindow)
	sc.rfr = http2.NewFramer(nil, c)
	sc.rfr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	sc.rfr.MaxHeaderListSize = s.maxHeaderListSize()
	sc.rfr.SetMaxReadFrameSize(maxReadFrameSize)
	sc.rfr.SetReuseFrames()
	sc.wfr = http2.NewFramer(&sc.out, nil)
	sc.henc = hpack.NewEncoder(&sc.hbuf)
	return sc
}

// serve is the read loop.
func (sc *serverConn) serve() {
	defer sc.end()
	if sc.tlsState != nil && sc.tlsState.Version < tls.VersionTLS12 {
		// RFC 9113, section 9.2; net/http refuses it the same way.
		sc.rlock()
		sc.sentSettings = true
		sc.writeLocked(func(fr *http2.Framer) error {
			return fr.WriteGoAway(0, http2.ErrCodeInadequateSecurity, []byte("TLS version too low"))
		})
		sc.flushLocked()
		sc.runlock()
		return
	}
	if err := sc.readPreface(); err != nil {
		if !errors.Is(err, io.EOF) {
			sc.srv.logf("http2: server: error reading preface from client %v: %v", sc.remoteAddr, err)
		}
		return
	}
	sc.rlock()
	sc.writeLocked(func(fr *http2.Framer) error {
		if err := fr.WriteSettings(
			http2.Setting{ID: http2.SettingMaxFrameSize, Val: maxReadFrameSize},
			http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: sc.srv.maxStreams()},
			http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: sc.srv.maxHeaderListSize()},
			http2.Setting{ID: http2.SettingHeaderTableSize, Val: 4096},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow},
		); err != nil {
			return err
		}
		return fr.WriteWindowUpdate(0, connWindow-initialWindow)
	})
	sc.unackedSet++
	sc.sentSettings = true
	sc.inflow.init(connWindow)
	if sc.srv.IdleTimeout > 0 {
		sc.idleTimer = time.AfterFunc(sc.srv.IdleTimeout, sc.onIdleTimer)
	}
	sc.flushLocked()
	sc.runlock()

	for {
		f, err := sc.rfr.ReadFrame()
		if err != nil {
			if !sc.readError(err) {
				return
			}
			continue
		}
		if err := sc.processFrame(f); err != nil {
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				// As net/http: the GOAWAY's last stream is at least the
				// one the offending frame named, and the error is logged.
				sc.rlock()
				sc.maxClientID = max(sc.maxClientID, f.Header().StreamID)
				sc.runlock()
				sc.srv.logf("http2: server connection error from %v: %v", sc.remoteAddr, ce)
			}
			if !sc.frameError(err) {
				return
			}
		}
	}
}

func (sc *serverConn) readPreface() error {
	if err := sc.conn.SetReadDeadline(time.Now().Add(prefaceTimeout)); err != nil {
		return err
	}
	buf := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(sc.conn, buf); err != nil {
		return err
	}
	if string(buf) != http2.ClientPreface {
		return errPrefaceMismatch
	}
	return sc.conn.SetReadDeadline(time.Time{})
}

// readError handles an error from ReadFrame; false ends the connection.
func (sc *serverConn) readError(err error) bool {
	var se http2.StreamError
	switch {
	case errors.As(err, &se):
		// A malformed header block (decoded in full, so HPACK's state
		// is intact) or a bad frame on one stream.
		return sc.frameError(se)
	case errors.Is(err, http2.ErrFrameTooLarge):
		sc.goAway(http2.ErrCodeFrameSize)
		return false
	}
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		sc.goAway(http2.ErrCode(ce))
		return false
	}
	// The connection broke or was closed (Close, Shutdown, timeouts).
	return false
}

// frameError acts on an error from processing a frame; false ends the
// connection.
func (sc *serverConn) frameError(err error) bool {
	var se http2.StreamError
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &se):
		sc.rlock()
		sc.resetStreamLocked(se.StreamID, se.Code, se)
		sc.runlock()
		return true
	case errors.As(err, &ce):
		sc.goAway(http2.ErrCode(ce))
		return false
	default:
		return false
	}
}

// goAway sends GOAWAY with an error code; the connection then ends.
func (sc *serverConn) goAway(code http2.ErrCode) {
	sc.rlock()
	if !sc.goAwaySent || code != http2.ErrCodeNo {
		sc.goAwaySent = true
		last := sc.maxClientID
		sc.writeLocked(func(fr *http2.Framer) error { return fr.WriteGoAway(last, code, nil) })
		sc.flushLocked()
	}
	sc.runlock()
}

// end tears the connection down: every stream still open ends with
// errClientDisconnected, and handlers' writes fail from now on.
func (sc *serverConn) end() {
	sc.mu.Lock()
	sc.closing = true
	for _, st := range sc.streams {
		sc.closeStreamLocked(st, errClientDisconnected)
	}
	sc.unstarted = nil
	if sc.werr == nil {
		sc.werr = errClientDisconnected
	}
	if sc.idleTimer != nil {
		sc.idleTimer.Stop()
	}
	if sc.lingerTimer != nil {
		sc.lingerTimer.Stop()
	}
	sc.cond.Broadcast()
	writing := sc.writing
	sc.mu.Unlock()
	if writing {
		// Let the goroutine writing finish the frames already queued
		// (a GOAWAY with an error, say) rather than cut it off; it is
		// bounded: the connection is closed below in any case.
		sc.waitWrite(time.Second)
	}
	sc.conn.Close()
}

func (sc *serverConn) waitWrite(d time.Duration) {
	t := time.AfterFunc(d, func() { sc.conn.Close() })
	defer t.Stop()
	sc.mu.Lock()
	for sc.writing {
		sc.cond.Wait()
	}
	sc.mu.Unlock()
}

// shutdown starts a graceful shutdown: GOAWAY now, close once no stream
// is left.
func (sc *serverConn) shutdown() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.startGracefulLocked()
}

func (sc *serverConn) startGracefulLocked() {
	if sc.closing {
		return
	}
	if !sc.sentSettings {
		// Still waiting for the client's preface: a GOAWAY may not be
		// the first frame, and there is nothing to finish.
		sc.conn.Close()
		return
	}
	if !sc.goAwaySent {
		sc.goAwaySent = true
		last := sc.maxClientID
		sc.writeLocked(func(fr *http2.Framer) error { return fr.WriteGoAway(last, http2.ErrCodeNo, nil) })
		sc.flushLocked()
	}
	if len(sc.streams) == 0 {
		sc.lingerLocked()
	}
}

// lingerLocked closes the connection shortly, once it has said GOAWAY
// and has no streams left.
func (sc *serverConn) lingerLocked() {
	if sc.lingerTimer == nil {
		sc.lingerTimer = time.AfterFunc(goAwayLinger, func() { sc.conn.Close() })
	}
}

func (sc *serverConn) onIdleTimer() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.streams) == 0 && sc.curHandlers == 0 {
		sc.startGracefulLocked()
	}
}

// ---------------------------------------------------------------- writing

// writeLocked appends frames to the buffer. It reports false if the
// connection can no longer be written.
func (sc *serverConn) writeLocked(fn func(fr *http2.Framer) error) bool {
	if sc.werr != nil {
		return false
	}
	if err := fn(sc.wfr); err != nil {
		// The Framer refuses only frames built wrong, a bug of ours:
		// the connection cannot go on, the server can.
		sc.srv.logf("http2: server: internal error writing a frame: %v", err)
		sc.werr = errClientDisconnected
		sc.conn.Close()
		return false
	}
	return true
}

// rlock and runlock are mu's Lock and Unlock for the read loop.
func (sc *serverConn) rlock() {
	sc.mu.Lock()
	sc.inReader = true
}

func (sc *serverConn) runlock() {
	sc.inReader = false
	sc.mu.Unlock()
}

// flushLocked writes the buffer unless another goroutine is writing it,
// in which case that one writes what was just added before it stops. It
// returns with mu held, but releases it while writing. Called by the read
// loop, it starts a goroutine to write instead.
func (sc *serverConn) flushLocked() {
	if sc.writing {
		if len(sc.out.b) > maxControlBuffered {
			// The client does not read what it makes us write.
			sc.werr = errClientDisconnected
			sc.conn.Close()
		}
		return
	}
	if sc.werr != nil || len(sc.out.b) == 0 {
		return
	}
	sc.writing = true
	if sc.inReader {
		// The read loop never writes itself: a client that writes
		// without reading until its own writes complete (which a full
		// receive buffer here would stop) must not deadlock us both.
		go func() {
			sc.mu.Lock()
			sc.writeOutLocked()
			sc.mu.Unlock()
		}()
		return
	}
	sc.writeOutLocked()
}

// writeOutLocked writes the buffer until it is empty; writing is set.
func (sc *serverConn) writeOutLocked() {
	for len(sc.out.b) > 0 {
		buf := sc.out.b
		sc.out.b = sc.spare[:0]
		sc.spare = nil
		sc.mu.Unlock()
		_, err := sc.conn.Write(buf)
		sc.mu.Lock()
		if cap(buf) <= 4*maxBuffered {
			sc.spare = buf[:0]
		}
		if err != nil {
			if sc.werr == nil {
				sc.werr = errClientDisconnected
			}
			sc.out.b = sc.out.b[:0]
			sc.conn.Close()
			break
		}
	}
	sc.writing = false
	sc.cond.Broadcast()
}

// waitRoomLocked waits while the buffer is full and being written.
func (sc *serverConn) waitRoomLocked() {
	for sc.writing && len(sc.out.b) >= maxBuffered && sc.werr == nil {
		sc.cond.Wait()
	}
}

// writeHeadersLocked encodes a header block and appends it as HEADERS
// and CONTINUATION frames, once there is room in the buffer. It fails
// if the stream or the connection ended, possibly while it waited.
func (sc *serverConn) writeHeadersLocked(st *stream, endStream bool, encode func(enc *hpack.Encoder)) error {
	sc.waitRoomLocked()
	if st.state == stateClosed {
		return st.closeErr
	}
	if sc.werr != nil {
		return errClientDisconnected
	}
	st.wroteHeaders = true
	sc.hbuf.Reset()
	encode(sc.henc)
	block := sc.hbuf.Bytes()
	ok := sc.writeLocked(func(fr *http2.Framer) error {
		first := true
		for first || len(block) > 0 {
			frag := block
			if len(frag) > int(sc.peerFrame) {
				frag = frag[:sc.peerFrame]
			}
			block = block[len(frag):]
			var err error
			if first {
				err = fr.WriteHeaders(http2.HeadersFrameParam{
					StreamID:      st.id,
					BlockFragment: frag,
					EndStream:     endStream,
					EndHeaders:    len(block) == 0,
				})
				first = false
			} else {
				err = fr.WriteContinuation(st.id, len(block) == 0, frag)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if !ok {
		return errClientDisconnected
	}
	if endStream {
		sc.wroteEndStreamLocked(st)
	}
	return nil
}

// wroteEndStreamLocked moves a stream on once the response is complete:
// closed if the request was too, otherwise reset with NO_ERROR so that the
// client stops sending a body nobody will read (RFC 9113, section 8.1).
func (sc *serverConn) wroteEndStreamLocked(st *stream) {
	switch st.state {
	case stateOpen:
		sc.resetStreamLocked(st.id, http2.ErrCodeNo, nil)
	case stateHalfClosedRemote:
		sc.closeStreamLocked(st, errHandlerComplete)
	}
}

// writeDataLocked sends p on a stream within the flow control windows,
// waiting for window or buffer space as needed (mu is released while it
// waits), and writes the buffer.
func (sc *serverConn) writeDataLocked(st *stream, p []byte, endStream bool) error {
	for {
		if st.state == stateClosed {
			return st.closeErr
		}
		if sc.werr != nil {
			return errClientDisconnected
		}
		if len(p) == 0 {
			if endStream {
				sc.writeLocked(func(fr *http2.Framer) error { return fr.WriteData(st.id, true, nil) })
				sc.wroteEndStreamLocked(st)
			}
			sc.flushLocked()
			return nil
		}
		n := min(int32(len(p)), st.send, sc.sendConn, int32(sc.peerFrame))
		if n <= 0 {
			if len(sc.out.b) > 0 && !sc.writing {
				// Out of window: what is buffered must go out, or the
				// client may never send the WINDOW_UPDATE. Writing
				// releases mu, and the update may come meanwhile:
				// look again before waiting for it.
				sc.flushLocked()
				continue
			}
			sc.cond.Wait()
			continue
		}
		if sc.writing && len(sc.out.b) >= maxBuffered {
			sc.waitRoomLocked()
			continue
		}
		chunk := p[:n]
		p = p[n:]
		end := endStream && len(p) == 0
		st.send -= n
		sc.sendConn -= n
		sc.writeLocked(func(fr *http2.Framer) error { return fr.WriteData(st.id, end, chunk) })
		if end {
			sc.wroteEndStreamLocked(st)
		}
		if len(p) == 0 {
			sc.flushLocked()
			return nil
		}
	}
}

// ---------------------------------------------------------------- reading

func (sc *serverConn) processFrame(f http2.Frame) error {
	if !sc.gotFirstFrame {
		// The client's preface ends with a SETTINGS frame.
		sc.gotFirstFrame = true
		if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
	}
	switch f := f.(type) {
	case *http2.SettingsFrame:
		return sc.processSettings(f)
	case *http2.MetaHeadersFrame:
		return sc.processHeaders(f)
	case *http2.DataFrame:
		return sc.processData(f)
	case *http2.WindowUpdateFrame:
		return sc.processWindowUpdate(f)
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		data := f.Data
		sc.rlock()
		sc.writeLocked(func(fr *http2.Framer) error { return fr.WritePing(true, data) })
		sc.flushLocked()
		sc.runlock()
		return nil
	case *http2.RSTStreamFrame:
		return sc.processResetStream(f)
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeProtocol}
		}
		return nil
	case *http2.GoAwayFrame:
		if f.ErrCode != http2.ErrCodeNo {
			sc.srv.logf("http2: received GOAWAY %+v, starting graceful shutdown", f)
		}
		sc.rlock()
		sc.startGracefulLocked()
		sc.runlock()
		return nil
	case *http2.PushPromiseFrame:
		// Clients cannot push.
		return http2.ConnectionError(http2.ErrCodeProtocol)
	default:
		// Unknown frame types (and stray CONTINUATION, which the Framer
		// refuses before this) are ignored, as RFC 9113 requires.
		return nil
	}
}

func (sc *serverConn) processSettings(f *http2.SettingsFrame) error {
	sc.rlock()
	defer sc.runlock()
	if f.IsAck() {
		sc.unackedSet--
		if sc.unackedSet < 0 {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
		return nil
	}
	// A setting may repeat; the last value counts (RFC 9113, section
	// 6.5.3; net/http refuses repeats).
	if f.NumSettings() > maxSettingsPerFrame {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingHeaderTableSize:
			sc.henc.SetMaxDynamicTableSize(s.Val)
		case http2.SettingInitialWindowSize:
			// A change applies to every open stream's window (RFC 9113,
			// section 6.9.2), which may not overflow.
			delta := int32(s.Val) - sc.peerInit
			for _, st := range sc.streams {
				if !addWindow(&st.send, delta) {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
			sc.peerInit = int32(s.Val)
			sc.cond.Broadcast()
		case http2.SettingMaxFrameSize:
			sc.peerFrame = s.Val
		}
		return nil
	})
	if err != nil {
		return err
	}
	sc.writeLocked(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
	sc.flushLocked()
	return nil
}

// addWindow adds delta to a send window, reporting false on overflow.
func addWindow(w *int32, delta int32) bool {
	sum := int64(*w) + int64(delta)
	if sum > 1<<31-1 {
		return false
	}
	*w = int32(sum)
	return true
}

func (sc *serverConn) processWindowUpdate(f *http2.WindowUpdateFrame) error {
	sc.rlock()
	defer sc.runlock()
	if f.StreamID == 0 {
		if !addWindow(&sc.sendConn, int32(f.Increment)) {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		sc.cond.Broadcast()
		return nil
	}
	if f.StreamID > sc.maxClientID {
		return http2.ConnectionError(http2.ErrCodeProtocol) // idle stream
	}
	st := sc.streams[f.StreamID]
	if st == nil {
		return nil
	}
	if !addWindow(&st.send, int32(f.Increment)) {
		return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeFlowControl}
	}
	sc.cond.Broadcast()
	return nil
}

func (sc *serverConn) processResetStream(f *http2.RSTStreamFrame) error {
	sc.rlock()
	defer sc.runlock()
	if f.StreamID > sc.maxClientID {
		return http2.ConnectionError(http2.ErrCodeProtocol) // idle stream
	}
	if st := sc.streams[f.StreamID]; st != nil {
		sc.closeStreamLocked(st, http2.StreamError{StreamID: f.StreamID, Code: f.ErrCode})
	}
	return nil
}

// resetStreamLocked sends RST_STREAM and closes the stream if it is open.
func (sc *serverConn) resetStreamLocked(id uint32, code http2.ErrCode, cause error) {
	sc.writeLocked(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
	sc.flushLocked()
	if st := sc.streams[id]; st != nil {
		if st.state == stateOpen {
			// The client may have more of the request on its way.
			sc.resetIDs[sc.resetNext%len(sc.resetIDs)] = id
			sc.resetNext++
		}
		if cause == nil {
			cause = http2.StreamError{StreamID: id, Code: code}
		}
		sc.closeStreamLocked(st, cause)
	}
}

// wasReset reports whether the server recently reset stream id while the
// client could still be sending on it.
func (sc *serverConn) wasReset(id uint32) bool {
	return slices.Contains(sc.resetIDs[:], id) && id != 0
}

// closeStreamLocked ends a stream: its handler's context ends, its
// request body reports err after what was already received, and its
// writes fail.
func (sc *serverConn) closeStreamLocked(st *stream, err error) {
	if st.state == stateClosed {
		return
	}
	st.state = stateClosed
	sc.curStreams--
	delete(sc.streams, st.id)
	if st.readTimer != nil {
		st.readTimer.Stop()
	}
	if st.writeTimer != nil {
		st.writeTimer.Stop()
	}
	if p := st.body; p != nil {
		// Data received and not read will never be: give its window
		// back to the connection now.
		sc.sendWindowUpdateLocked(nil, p.closeWithError(err))
	}
	var se http2.StreamError
	if errors.As(err, &se) {
		if se.Cause != nil {
			err = se.Cause
		} else {
			err = errStreamClosed
		}
	}
	st.closeErr = err
	st.cancel()
	sc.cond.Broadcast()
	if len(sc.streams) == 0 && !sc.closing {
		if sc.idleTimer != nil {
			sc.idleTimer.Reset(sc.srv.IdleTimeout)
		}
		if sc.goAwaySent {
			sc.lingerLocked()
		}
	}
}

// sendWindowUpdateLocked returns n bytes of receive window to the client,
// for the connection (st nil) or a stream, once enough has accumulated.
func (sc *serverConn) sendWindowUpdateLocked(st *stream, n int) {
	if n <= 0 {
		return
	}
	var id uint32
	var send int32
	if st == nil {
		send = sc.inflow.add(n)
	} else {
		id = st.id
		send = st.inflow.add(n)
	}
	if send == 0 {
		return
	}
	sc.writeLocked(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(id, uint32(send)) })
	sc.flushLocked()
}

func (sc *serverConn) processData(f *http2.DataFrame) error {
	id := f.StreamID
	data := f.Data()
	sc.rlock()
	defer sc.runlock()
	if id > sc.maxClientID {
		return http2.ConnectionError(http2.ErrCodeProtocol) // idle stream
	}
	st := sc.streams[id]
	if st == nil || st.state != stateOpen || st.gotTrail {
		// The stream is gone (or the client already ended it): the
		// frame still counts against the connection's window, which is
		// given back at once.
		if !sc.inflow.take(f.Length) {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		sc.sendWindowUpdateLocked(nil, int(f.Length))
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeStreamClosed}
	}
	if st.declLen != -1 && st.gotLen+int64(len(data)) > st.declLen {
		if !sc.inflow.take(f.Length) {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		sc.sendWindowUpdateLocked(nil, int(f.Length))
		st.body.closeWithError(fmt.Errorf("sender tried to send more than declared Content-Length of %d bytes", st.declLen))
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	}
	if f.Length > 0 {
		if !sc.inflow.take(f.Length) {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		if !st.inflow.take(f.Length) {
			sc.sendWindowUpdateLocked(nil, int(f.Length))
			return http2.StreamError{StreamID: id, Code: http2.ErrCodeFlowControl}
		}
		if len(data) > 0 {
			st.gotLen += int64(len(data))
			if !st.body.write(data) {
				// The handler closed the body (or returned): nobody
				// will read this.
				sc.sendWindowUpdateLocked(nil, len(data))
			}
		}
		// Padding is never read: return its window now.
		if pad := int(f.Length) - len(data); pad > 0 {
			sc.sendWindowUpdateLocked(nil, pad)
			sc.sendWindowUpdateLocked(st, pad)
		}
	}
	if f.StreamEnded() {
		sc.endRequestLocked(st)
	}
	return nil
}

// endRequestLocked marks the end of a request body.
func (sc *serverConn) endRequestLocked(st *stream) {
	if st.declLen != -1 && st.declLen != st.gotLen {
		st.body.closeWithError(fmt.Errorf("request declared a Content-Length of %d but only wrote %d bytes", st.declLen, st.gotLen))
	} else {
		trailer, reqTrail := st.trailer, st.reqTrail
		st.body.closeWithEOF(func() {
			for k, vv := range trailer {
				if _, ok := reqTrail[k]; ok {
					reqTrail[k] = vv
				}
			}
		})
	}
	st.state = stateHalfClosedRemote
}

// giveBackWindow returns the receive window of n request bytes the
// handler has done with: the connection's always, and the stream's too
// when the handler read them (bytes it dropped by closing the body are
// not asked for again). A closed stream's bytes were given back when it
// closed.
func (sc *serverConn) giveBackWindow(st *stream, n int, read bool) {
	if n <= 0 {
		return
	}
	sc.mu.Lock()
	if st.state != stateClosed {
		sc.sendWindowUpdateLocked(nil, n)
		if read && st.state == stateOpen {
			sc.sendWindowUpdateLocked(st, n)
		}
	}
	sc.mu.Unlock()
}

func (sc *serverConn) processHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 != 1 {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	sc.rlock()
	defer sc.runlock()
	if st := sc.streams[id]; st != nil {
		if st.state == stateHalfClosedRemote {
			return http2.StreamError{StreamID: id, Code: http2.ErrCodeStreamClosed}
		}
		return sc.processTrailersLocked(st, f)
	}
	if sc.wasReset(id) {
		// Trailers the client sent before it saw our RST_STREAM: ignored
		// (RFC 9113, section 5.1; net/http ends the connection here).
		return nil
	}
	if id <= sc.maxClientID {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	sc.maxClientID = id
	if sc.goAwaySent {
		// After GOAWAY, streams the client opens anyway are ignored; it
		// retries them on a new connection.
		return nil
	}
	if sc.curStreams+1 > sc.srv.maxStreams() {
		if sc.unackedSet == 0 {
			return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
		}
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeRefusedStream}
	}
	if f.HasPriority() && f.Priority.StreamDep == id {
		// A stream cannot depend on itself. Refused before it counts,
		// so an idle connection stays idle.
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	}
	if sc.idleTimer != nil {
		sc.idleTimer.Stop()
	}
	ctx, cancel := context.WithCancel(sc.baseCtx)
	st := &stream{
		sc:     sc,
		id:     id,
		state:  stateOpen,
		send:   sc.peerInit,
		ctx:    ctx,
		cancel: cancel,
	}
	st.inflow.init(streamWindow)
	if f.StreamEnded() {
		st.state = stateHalfClosedRemote
	}
	sc.streams[id] = st
	sc.curStreams++

	req, err := sc.newRequest(st, f)
	if err != nil {
		return err
	}
	st.req = req
	st.reqTrail = req.Trailer
	if st.reqTrail != nil {
		st.trailer = make(http.Header)
	}
	st.declLen = req.ContentLength
	st.handler = sc.srv.Handler.ServeHTTP
	if req.RequestURI == "*" && req.Method == http.MethodOptions {
		st.handler = globalOptions
	}
	if f.Truncated {
		st.handler = headerListTooLong
	} else if err := checkRequestHeaders(req.Header); err != nil {
		st.handler = badRequest(err)
	}
	return sc.scheduleHandlerLocked(st)
}

func (sc *serverConn) processTrailersLocked(st *stream, f *http2.MetaHeadersFrame) error {
	if st.gotTrail {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	st.gotTrail = true
	if !f.StreamEnded() || len(f.PseudoFields()) > 0 {
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	}
	if st.trailer != nil {
		for _, hf := range f.RegularFields() {
			key := sc.canonicalHeader(hf.Name)
			if !httpguts.ValidTrailerHeader(key) {
				return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
			}
			st.trailer[key] = append(st.trailer[key], hf.Value)
		}
	}
	sc.endRequestLocked(st)
	return nil
}

// scheduleHandlerLocked starts a stream's handler, or queues it until
// one of the connection's handlers returns: a client that resets streams
// as fast as it opens them (the rapid-reset attack) cannot make more than
// MaxConcurrentStreams handlers run at once.
func (sc *serverConn) scheduleHandlerLocked(st *stream) error {
	max := sc.srv.maxStreams()
	if sc.curHandlers < max {
		sc.curHandlers++
		go sc.runHandler(st)
		return nil
	}
	if len(sc.unstarted) > int(4*max) {
		return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
	}
	sc.unstarted = append(sc.unstarted, st)
	return nil
}

func (sc *serverConn) handlerDoneLocked() {
	sc.curHandlers--
	i := 0
	for ; i < len(sc.unstarted); i++ {
		st := sc.unstarted[i]
		if st.state == stateClosed {
			continue // reset before it started
		}
		if sc.curHandlers >= sc.srv.maxStreams() {
			break
		}
		sc.curHandlers++
		go sc.runHandler(st)
		sc.unstarted[i] = nil
	}
	sc.unstarted = sc.unstarted[i:]
	if len(sc.unstarted) == 0 {
		sc.unstarted = nil
	}
	if len(sc.streams) == 0 && sc.curHandlers == 0 && sc.idleTimer != nil && !sc.closing {
		sc.idleTimer.Reset(sc.srv.IdleTimeout)
	}
}

// runHandler runs on its own goroutine.
func (sc *serverConn) runHandler(st *stream) {
	rw := newResponseWriter(st)
	defer func() {
		e := recover()
		st.cancel()
		if st.req.MultipartForm != nil {
			_ = st.req.MultipartForm.RemoveAll()
		}
		if e != nil {
			// Logged before the reset, so that a client that saw the
			// reset can find the reason in the log.
			if e != http.ErrAbortHandler {
				const size = 64 << 10
				buf := make([]byte, size)
				buf = buf[:runtime.Stack(buf, false)]
				sc.srv.logf("http2: panic serving %v: %v\n%s", sc.remoteAddr, e, buf)
			}
			sc.mu.Lock()
			if st.state != stateClosed {
				sc.resetStreamLocked(st.id, http2.ErrCodeInternal, errHandlerPanicked)
			}
			sc.handlerDoneLocked()
			sc.mu.Unlock()
			rw.release()
			return
		}
		rw.finish()
		sc.mu.Lock()
		sc.handlerDoneLocked()
		sc.mu.Unlock()
	}()
	st.handler(rw, st.req)
}

// onReadTimeout and onWriteTimeout implement the ResponseController's
// deadlines.
func (st *stream) onReadTimeout() {
	if st.body != nil {
		st.body.closeWithError(fmt.Errorf("%w", os.ErrDeadlineExceeded))
	}
}

func (st *stream) onWriteTimeout() {
	sc := st.sc
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if st.state != stateClosed {
		sc.resetStreamLocked(st.id, http2.ErrCodeInternal, http2.StreamError{
			StreamID: st.id, Code: http2.ErrCodeInternal, Cause: os.ErrDeadlineExceeded,
		})
	}
}

// inflow is a receive window: what the client may still send, and what
// has been read but not yet given back.
type inflow struct {
	avail  int32
	unsent int32
}

func (f *inflow) init(n int32) { f.avail = n }

// take consumes n bytes of window, reporting false if the client sent
// more than it was allowed.
func (f *inflow) take(n uint32) bool {
	if n > uint32(f.avail) {
		return false
	}
	f.avail -= int32(n)
	return true
}

// add notes n bytes read and returns how much window to give back now:
// nothing until enough has accumulated, unless the client would
// otherwise run out.
func (f *inflow) add(n int) int32 {
	unsent := int64(f.unsent) + int64(n)
	if unsent+int64(f.avail) > 1<<31-1 {
		// More given back than ever taken: a bug of ours, not the
		// client's. Cap rather than overflow.
		unsent = 1<<31 - 1 - int64(f.avail)
	}
	f.unsent = int32(unsent)
	if f.unsent < minRefresh && f.unsent < f.avail {
		return 0
	}
	f.avail += f.unsent
	f.unsent = 0
	return int32(unsent)
}
