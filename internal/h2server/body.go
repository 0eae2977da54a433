package h2server

import (
	"io"
	"sync"
)

// pipe holds a request body between the read loop, which writes what
// arrives, and the handler, which reads it. Flow control bounds what it
// holds: the stream's window.
type pipe struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    []byte
	off    int
	err    error  // returned once buf is drained (io.EOF at the end)
	onEOF  func() // run by the reader as it reaches io.EOF
	broken bool   // the handler closed the body: drop what arrives
}

func newPipe() *pipe {
	p := &pipe{}
	p.cond.L = &p.mu
	return p
}

// write appends data, reporting false if nobody will read it.
func (p *pipe) write(data []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken || p.err != nil {
		return false
	}
	if p.off > 0 && p.off >= len(p.buf)/2 {
		// Reclaim what was read, so that the buffer stays near the
		// flow-control window however long the body is (copying at
		// most as much as was read since the last time).
		n := copy(p.buf, p.buf[p.off:])
		p.buf, p.off = p.buf[:n], 0
	}
	p.buf = append(p.buf, data...)
	p.cond.Signal()
	return true
}

// read blocks until there is data or an error.
func (p *pipe) read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.broken {
			return 0, errClosedBody
		}
		if p.off < len(p.buf) {
			n := copy(b, p.buf[p.off:])
			p.off += n
			return n, nil
		}
		if p.err != nil {
			if p.onEOF != nil {
				p.onEOF()
				p.onEOF = nil
			}
			return 0, p.err
		}
		p.cond.Wait()
	}
}

// closeWithError makes reads return err once what was received is read.
// It returns how many received bytes were still unread.
func (p *pipe) closeWithError(err error) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
	p.cond.Broadcast()
	if p.broken {
		return 0
	}
	return len(p.buf) - p.off
}

// closeWithEOF ends the body; fn runs on the reader's goroutine as it
// reaches the end, before Read returns io.EOF (the request's trailers are
// filled in then, so that the handler reads them without a race).
func (p *pipe) closeWithEOF(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = io.EOF
		p.onEOF = fn
	}
	p.cond.Broadcast()
}

// breakOff is the handler's Close: what arrives from now on is dropped,
// and reads fail. It returns the unread bytes dropped.
func (p *pipe) breakOff() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return 0
	}
	p.broken = true
	n := len(p.buf) - p.off
	p.buf, p.off = nil, 0
	p.cond.Broadcast()
	return n
}

// requestBody is a request's Body.
type requestBody struct {
	st            *stream
	pipe          *pipe
	closeOnce     sync.Once
	sawEOF        bool
	needsContinue bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.needsContinue {
		b.needsContinue = false
		b.st.sc.write100Continue(b.st)
	}
	if b.pipe == nil || b.sawEOF {
		return 0, io.EOF
	}
	n, err := b.pipe.read(p)
	if err == io.EOF {
		b.sawEOF = true
	}
	b.st.sc.giveBackWindow(b.st, n, true)
	return n, err
}

func (b *requestBody) Close() error {
	b.closeOnce.Do(func() {
		if b.pipe != nil {
			// Dropped bytes were received: the connection's window
			// gets them back.
			b.st.sc.giveBackWindow(b.st, b.pipe.breakOff(), false)
		}
	})
	return nil
}
