//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package devproxy

import (
	"net"
	"syscall"
)

// inputProbe looks for input waiting on an idle connection without reading
// it or blocking: one recv with MSG_PEEK on the socket, which Go keeps
// non-blocking. It is made once per connection, so that a look allocates
// nothing.
type inputProbe struct {
	raw     syscall.RawConn
	buf     [1]byte
	waiting bool
	peek    func(fd uintptr) bool
}

func newInputProbe(c net.Conn) *inputProbe {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &inputProbe{raw: raw}
	p.peek = func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK)
		// n > 0: bytes; n == 0 without an error: the peer closed. EAGAIN:
		// nothing, the connection is idle as it should be.
		p.waiting = n > 0 || (n == 0 && err == nil)
		return true // never wait for input
	}
	return p
}

// pending reports whether bytes or the end of the stream wait to be read.
// A nil probe (a connection that is not a socket) never finds any.
func (p *inputProbe) pending() bool {
	if p == nil {
		return false
	}
	p.waiting = false
	return p.raw.Read(p.peek) == nil && p.waiting
}
