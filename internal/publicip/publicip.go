// Package publicip decides whether an IP address is on the public
// internet, following the IANA IPv4 and IPv6 Special-Purpose Address
// Registries: an address in a block the registries mark "Globally
// Reachable: False" (or not applicable) is not public, whatever the family.
// The documentation ranges, for example, are refused in both (192.0.2.0/24,
// 198.51.100.0/24 and 203.0.113.0/24 as well as 2001:db8::/32 and
// 3fff::/20).
//
// Beyond the registries: multicast is never a unicast target; IPv6 outside
// 2000::/3 (the only block allocated for global unicast) is not public; and
// IPv6 forms that carry an IPv4 address a gateway forwards to
// (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged as that IPv4
// address, so 64:ff9b::7f00:1 is 127.0.0.1.
package publicip

import (
	"net/netip"
)

// block is one registry entry: a prefix and whether the registry says it
// is globally reachable. The most specific block containing an address
// decides.
type block struct {
	prefix    netip.Prefix
	reachable bool
	name      string
}

func b(p string, reachable bool, name string) block {
	return block{netip.MustParsePrefix(p), reachable, name}
}

// ipv4 is the IANA IPv4 Special-Purpose Address Registry, plus multicast.
var ipv4 = []block{
	b("0.0.0.0/8", false, "this network"),
	b("10.0.0.0/8", false, "private use"),
	b("100.64.0.0/10", false, "shared address space (carrier-grade NAT)"),
	b("127.0.0.0/8", false, "loopback"),
	b("169.254.0.0/16", false, "link local"),
	b("172.16.0.0/12", false, "private use"),
	b("192.0.0.0/24", false, "IETF protocol assignments"),
	b("192.0.0.9/32", true, "port control protocol anycast"),
	b("192.0.0.10/32", true, "traversal using relays around NAT anycast"),
	b("192.0.2.0/24", false, "documentation (TEST-NET-1)"),
	b("192.31.196.0/24", true, "AS112-v4"),
	b("192.52.193.0/24", true, "automatic multicast tunneling"),
	b("192.88.99.0/24", false, "deprecated 6to4 relay anycast"),
	b("192.168.0.0/16", false, "private use"),
	b("192.175.48.0/24", true, "direct delegation AS112 service"),
	b("198.18.0.0/15", false, "benchmarking"),
	b("198.51.100.0/24", false, "documentation (TEST-NET-2)"),
	b("203.0.113.0/24", false, "documentation (TEST-NET-3)"),
	b("224.0.0.0/4", false, "multicast"),
	b("240.0.0.0/4", false, "reserved"),
	b("255.255.255.255/32", false, "limited broadcast"),
}

// ipv6 is the IANA IPv6 Special-Purpose Address Registry, plus multicast
// and the deprecated site-local block. The blocks that embed an IPv4
// address are handled before this table is read.
var ipv6 = []block{
	b("::/128", false, "unspecified"),
	b("::1/128", false, "loopback"),
	b("64:ff9b:1::/48", false, "local-use IPv4/IPv6 translation"),
	b("100::/64", false, "discard-only"),
	b("100:0:0:1::/64", false, "dummy IPv6 prefix"),
	b("2001::/23", false, "IETF protocol assignments"),
	b("2001::/32", false, "Teredo"),
	b("2001:1::1/128", true, "port control protocol anycast"),
	b("2001:1::2/128", true, "traversal using relays around NAT anycast"),
	b("2001:1::3/128", true, "DNS-SD service registration protocol anycast"),
	b("2001:2::/48", false, "benchmarking"),
	b("2001:3::/32", true, "automatic multicast tunneling"),
	b("2001:4:112::/48", true, "AS112-v6"),
	b("2001:10::/28", false, "deprecated ORCHID"),
	b("2001:20::/28", true, "ORCHIDv2"),
	b("2001:30::/28", true, "drone remote ID protocol entity tags"),
	b("2001:db8::/32", false, "documentation"),
	b("2620:4f:8000::/48", true, "direct delegation AS112 service"),
	b("3fff::/20", false, "documentation"),
	b("5f00::/16", false, "segment routing (SRv6) SIDs"),
	b("fc00::/7", false, "unique local"),
	b("fe80::/10", false, "link local"),
	b("fec0::/10", false, "deprecated site local"),
	b("ff00::/8", false, "multicast"),
}

var (
	v4Mapped      = netip.MustParsePrefix("::ffff:0:0/96")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// IsPublic reports whether ip is a globally reachable unicast address.
func IsPublic(ip netip.Addr) bool {
	ok, _ := Classify(ip)
	return ok
}

// Classify is IsPublic with the name of the block that decided, for logs
// ("loopback", "documentation (TEST-NET-1)"); the name is empty for an
// ordinary public address.
func Classify(ip netip.Addr) (public bool, block string) {
	if !ip.IsValid() {
		return false, "invalid"
	}
	if ip.Zone() != "" {
		return false, "scoped (zone)"
	}
	ip = embeddedIPv4(ip)
	table := ipv4
	if ip.Is6() {
		table = ipv6
	}
	best := -1
	for i, bl := range table {
		if bl.prefix.Contains(ip) && (best < 0 || bl.prefix.Bits() > table[best].prefix.Bits()) {
			best = i
		}
	}
	if best >= 0 {
		return table[best].reachable, table[best].name
	}
	if ip.Is6() && !globalUnicast.Contains(ip) {
		return false, "unallocated"
	}
	return true, ""
}

// embeddedIPv4 returns the IPv4 address an IPv4-mapped, NAT64 or 6to4
// address carries, or ip itself.
func embeddedIPv4(ip netip.Addr) netip.Addr {
	if !ip.Is6() {
		return ip
	}
	b := ip.As16()
	switch {
	case v4Mapped.Contains(ip), nat64.Contains(ip):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
	}
	return ip
}
