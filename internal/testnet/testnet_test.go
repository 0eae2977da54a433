package testnet

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
)

func TestClosedAddrRefusesConnections(t *testing.T) {
	for range 20 {
		addr, err := ClosedAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		if port, _ := strconv.Atoi(p); port < lowPort || port >= highPort {
			t.Fatalf("port %d outside [%d, %d)", port, lowPort, highPort)
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			t.Fatalf("%s accepted a connection", addr)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: %v, want connection refused", addr, err)
		}
	}
}
