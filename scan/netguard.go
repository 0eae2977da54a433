package scan

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrDeniedAddress is returned (wrapped) when DenyPrivate is set and a
// connection would go to an address that is not on the public internet.
var ErrDeniedAddress = errors.New("address refused by --deny-private")

// deniedPrefixes are the ranges DenyPrivate refuses, beyond what netip's
// predicates (loopback, private, link-local, multicast, unspecified) cover.
var deniedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),         // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),     // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),      // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),     // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),       // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),    // local-use NAT64
	netip.MustParsePrefix("fd00:ec2::254/128"), // AWS metadata over IPv6 (inside fc00::/7 too)
	netip.MustParsePrefix("2001:db8::/32"),     // documentation
}

// IPv6 ranges that carry an IPv4 address a gateway will forward to: the
// well-known NAT64 prefix (RFC 6052, the address in the last 32 bits) and
// 6to4 (RFC 3056, the address in bits 16-47). 64:ff9b::7f00:1 reaches
// 127.0.0.1 through a NAT64 gateway, so it is judged as 127.0.0.1.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// IsPublicAddr reports whether ip is an address DenyPrivate lets through:
// not loopback, private (RFC 1918), unique-local (fc00::/7), link-local
// (which holds the 169.254.169.254 metadata service), carrier-grade NAT,
// multicast, unspecified or otherwise reserved. IPv4-mapped, NAT64 and 6to4
// IPv6 addresses are judged as the IPv4 address they carry.
func IsPublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if b := ip.As16(); ip.Is6() && nat64Prefix.Contains(ip) {
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	} else if ip.Is6() && sixToFour.Contains(ip) {
		ip = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() {
		return false
	}
	for _, p := range deniedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// denyPrivateControl is a net.Dialer Control function: it runs after name
// resolution, on the exact address about to be dialled, so a name that
// resolves to a public address once and a private one the next time (DNS
// rebinding) is still refused.
func denyPrivateControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dialled address %q", ErrDeniedAddress, address)
	}
	if !IsPublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrDeniedAddress, ap.Addr())
	}
	return nil
}
