// Package testnet gives tests loopback addresses where nothing listens.
package testnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// The ports ClosedAddr picks from lie below the kernels' ephemeral ranges
// (Linux 32768-60999, macOS and Windows 49152-65535).
const lowPort, highPort = 20000, 32000

// ClosedAddr returns a loopback address, "127.0.0.1:PORT", on which nothing
// listened a moment ago: for a test of what happens when a server is down,
// or one that starts a server there later.
//
// A port released by a listener on port 0 is the usual choice, and a flaky
// one: the kernel may hand that very port to the next listener on port 0,
// in the same test binary or in another that go test runs at the same
// time, and the test then reaches a stranger instead of nothing. A port
// below the ephemeral range is never handed out that way.
func ClosedAddr() (string, error) {
	port, err := ClosedPort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// ClosedPort is ClosedAddr's port.
func ClosedPort() (int, error) {
	for range 100 {
		port := lowPort + rand.IntN(highPort-lowPort)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken
		}
		if err := ln.Close(); err != nil {
			return 0, fmt.Errorf("testnet: %w", err)
		}
		return port, nil
	}
	return 0, errors.New("testnet: no free loopback port between 20000 and 32000")
}
