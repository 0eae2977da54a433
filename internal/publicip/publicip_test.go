package publicip

import (
	"net/netip"
	"testing"
)

func TestIsPublic(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		// Public unicast.
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"192.0.0.9", true}, // a globally reachable /32 inside a refused /24
		{"192.31.196.1", true},
		{"2606:4700:4700::1111", true},
		{"2001:4:112::1", true},
		{"2001:1::1", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"::ffff:8.8.8.8", true},
		// Documentation, in both families.
		{"192.0.2.1", false},
		{"198.51.100.7", false},
		{"203.0.113.200", false},
		{"2001:db8::1", false},
		{"3fff::1", false},
		// Everything else the registries refuse.
		{"0.0.0.0", false},
		{"10.1.2.3", false},
		{"100.64.0.1", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"169.254.169.254", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.8", false},
		{"192.0.0.170", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"::", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"64:ff9b::7f00:1", false},   // NAT64 of 127.0.0.1
		{"64:ff9b::a00:1", false},    // NAT64 of 10.0.0.1
		{"64:ff9b:1::1", false},      // local-use NAT64
		{"2002:7f00:1::1", false},    // 6to4 of 127.0.0.1
		{"2002:c000:0201::1", false}, // 6to4 of 192.0.2.1
		{"100::1", false},
		{"2001::1", false}, // Teredo
		{"2001:2::1", false},
		{"2001:10::1", false},
		{"5f00::1", false},
		{"fc00::1", false},
		{"fd00:ec2::254", false},
		{"fe80::1", false},
		{"fec0::1", false},
		{"ff02::1", false},
		{"4000::1", false}, // outside 2000::/3: unallocated
		{"fe80::1%eth0", false},
	} {
		ip := netip.MustParseAddr(tc.addr)
		if got, block := Classify(ip); got != tc.want {
			t.Errorf("IsPublic(%s) = %v (%s), want %v", tc.addr, got, block, tc.want)
		}
	}
}

func FuzzIsPublic(f *testing.F) {
	for _, s := range []string{"8.8.8.8", "::1", "64:ff9b::7f00:1", "2002:7f00:1::1", "::ffff:10.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		pub := IsPublic(ip)
		// An address and the IPv4-mapped form of it are judged alike.
		if ip.Is4() && IsPublic(netip.AddrFrom16(ip.As16())) != pub {
			t.Errorf("%s and its IPv4-mapped form disagree", ip)
		}
		if pub && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified()) {
			t.Errorf("%s is public but netip says otherwise", ip)
		}
	})
}
