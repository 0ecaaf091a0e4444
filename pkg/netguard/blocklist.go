package netguard

import (
	"fmt"
	"net/netip"
)

// rangeRule pairs a prefix with the reason reported when an address is in it.
type rangeRule struct {
	prefix netip.Prefix
	reason string
}

func rule(cidr, reason string) rangeRule {
	return rangeRule{prefix: netip.MustParsePrefix(cidr), reason: reason}
}

// The general policy is: block everything the IANA special-purpose address
// registries mark as not globally reachable, plus cloud metadata endpoints
// and multicast/broadcast. Documentation ranges are blocked too: they are
// never routed on the internet, so a legitimate webhook can never live there,
// while some networks reuse them internally.
//
// The first matching rule wins, so the metadata addresses come before the
// ranges that contain them to get the more useful reason.
var blockedIPv4 = []rangeRule{
	rule("169.254.169.254/32", "cloud metadata service (AWS, GCP, Azure, ...)"),
	rule("100.100.100.200/32", "cloud metadata service (Alibaba)"),
	rule("192.0.0.192/32", "cloud metadata service (Oracle)"),
	rule("0.0.0.0/8", "unspecified/\"this network\" address"),
	rule("10.0.0.0/8", "private network (RFC 1918)"),
	rule("100.64.0.0/10", "carrier-grade NAT shared address space (RFC 6598)"),
	rule("127.0.0.0/8", "loopback address"),
	rule("169.254.0.0/16", "link-local address"),
	rule("172.16.0.0/12", "private network (RFC 1918)"),
	rule("192.0.0.0/24", "IETF protocol assignment (RFC 6890)"),
	rule("192.0.2.0/24", "documentation address (RFC 5737)"),
	rule("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
	rule("192.168.0.0/16", "private network (RFC 1918)"),
	rule("198.18.0.0/15", "benchmarking address (RFC 2544)"),
	rule("198.51.100.0/24", "documentation address (RFC 5737)"),
	rule("203.0.113.0/24", "documentation address (RFC 5737)"),
	rule("224.0.0.0/4", "multicast address"),
	rule("255.255.255.255/32", "broadcast address"),
	rule("240.0.0.0/4", "reserved address (RFC 1112)"),
}

var blockedIPv6 = []rangeRule{
	rule("fd00:ec2::254/128", "cloud metadata service (AWS)"),
	rule("fd20:ce::254/128", "cloud metadata service (GCP)"),
	rule("::/128", "unspecified address"),
	rule("::1/128", "loopback address"),
	rule("64:ff9b:1::/48", "local-use NAT64 prefix (RFC 8215)"),
	rule("100::/64", "discard-only address (RFC 6666)"),
	rule("2001:2::/48", "benchmarking address (RFC 5180)"),
	rule("2001:db8::/32", "documentation address (RFC 3849)"),
	rule("3fff::/20", "documentation address (RFC 9637)"),
	rule("5f00::/16", "SRv6 SID block (RFC 9602)"),
	rule("fc00::/7", "unique-local address"),
	rule("fe80::/10", "link-local address"),
	rule("fec0::/10", "deprecated site-local address"),
	rule("ff00::/8", "multicast address"),
}

// Prefixes whose addresses carry an IPv4 address that the network may end up
// delivering to. The embedded address is checked against blockedIPv4.
var (
	ipv4Compatible = netip.MustParsePrefix("::/96")
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	teredo         = netip.MustParsePrefix("2001::/32")
	globalUnicast  = netip.MustParsePrefix("2000::/3")
)

// ietfProtocolAssignments is 2001::/23 (RFC 2928), which the IANA registry
// marks not globally reachable as a whole. It contains Teredo (2001::/32),
// which IsBlocked checks first, by the address it embeds. The few
// assignments in it that IANA lists as reachable (PCP and TURN anycast,
// AMT, AS112, ORCHIDv2, DRIP) are anycast or identifier spaces where no
// webhook receiver lives, so the rest of the block is refused whole.
var ietfProtocolAssignments = netip.MustParsePrefix("2001::/23")

// IsBlocked reports whether ip must never be dialled when private networks
// are not allowed, and if so why. Zones are ignored. IPv6 addresses that
// embed an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo)
// are blocked when the embedded address is blocked.
func IsBlocked(ip netip.Addr) (reason string, blocked bool) {
	if !ip.IsValid() {
		return "invalid address", true
	}
	ip = ip.WithZone("")

	// ::ffff:a.b.c.d is dialled as plain IPv4 by the kernel.
	if ip.Is4In6() {
		return checkEmbedded("IPv4-mapped", ip.Unmap())
	}
	if ip.Is4() {
		return match(blockedIPv4, ip)
	}

	if reason, blocked := match(blockedIPv6, ip); blocked {
		return reason, true
	}

	b := ip.As16()
	switch {
	case ipv4Compatible.Contains(ip):
		if reason, blocked := checkEmbedded("IPv4-compatible", v4(b[12:16])); blocked {
			return reason, true
		}
		// Deprecated by RFC 4291; nothing legitimate uses it any more.
		return "deprecated IPv4-compatible address (RFC 4291)", true
	case nat64WellKnown.Contains(ip):
		// A NAT64 gateway translates this to the embedded IPv4 address, so it
		// is exactly as safe as that address.
		return checkEmbedded("NAT64", v4(b[12:16]))
	case sixToFour.Contains(ip):
		return checkEmbedded("6to4", v4(b[2:6]))
	case teredo.Contains(ip):
		// The Teredo client address is stored obfuscated (bitwise inverted).
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return checkEmbedded("Teredo", netip.AddrFrom4(client))
	case ietfProtocolAssignments.Contains(ip):
		return "IETF protocol assignment (RFC 2928)", true
	case !globalUnicast.Contains(ip):
		// Only 2000::/3 is allocated for global unicast; everything else is
		// reserved and has no business being a webhook destination.
		return "reserved address outside 2000::/3 global unicast", true
	}
	return "", false
}

func match(rules []rangeRule, ip netip.Addr) (reason string, blocked bool) {
	for _, r := range rules {
		if r.prefix.Contains(ip) {
			return r.reason, true
		}
	}
	return "", false
}

func checkEmbedded(kind string, embedded netip.Addr) (reason string, blocked bool) {
	reason, blocked = match(blockedIPv4, embedded)
	if !blocked {
		return "", false
	}
	return fmt.Sprintf("%s address embedding %s: %s", kind, embedded, reason), true
}

func v4(b []byte) netip.Addr {
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}
