package enrich

import "net/netip"

// AnonymizeIP returns ip with its host part zeroed: the last octet of an IPv4
// address (a /24 remains) and the last 80 bits of an IPv6 address (a /48
// remains), the common practice for analytics that must not keep a visitor's
// address. An IPv4-mapped IPv6 address is treated as the IPv4 address it
// maps and returned in IPv4 form; a zone is dropped. Invalid input returns "".
func AnonymizeIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	return anonymize(addr.Unmap().WithZone("")).String()
}

// anonymize zeroes the host part of addr, which is unmapped and has no zone.
func anonymize(addr netip.Addr) netip.Addr {
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, _ := addr.Prefix(bits) // cannot fail: bits fits either family
	return p.Addr()
}
