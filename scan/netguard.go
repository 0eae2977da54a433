package scan

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/httpsguard/httpsguard/internal/publicip"
)

// ErrDeniedAddress is returned (wrapped) when DenyPrivate is set and a
// connection would go to an address that is not on the public internet.
var ErrDeniedAddress = errors.New("address refused by --deny-private")

// IsPublicAddr reports whether ip is an address DenyPrivate lets through: a
// globally reachable unicast address by the IANA IPv4 and IPv6
// special-purpose address registries (package internal/publicip, which the
// web checker's own address test uses too). Loopback, private, unique-local,
// link-local (the 169.254.169.254 metadata service), carrier-grade NAT,
// documentation, benchmarking, multicast and reserved ranges are refused;
// IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged as the IPv4 address
// they carry, since a gateway forwards them there.
func IsPublicAddr(ip netip.Addr) bool { return publicip.IsPublic(ip) }

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
