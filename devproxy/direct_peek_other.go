//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package devproxy

import "net"

// inputProbe cannot look at a socket without reading it here: a pooled
// connection is taken as idle, and a stale one is found when the request
// is sent (roundTrip then sends it again on a new connection).
type inputProbe struct{}

func newInputProbe(net.Conn) *inputProbe { return nil }

func (*inputProbe) pending() bool { return false }
