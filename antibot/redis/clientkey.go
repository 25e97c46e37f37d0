package redis

import "net/netip"

// ClientKey is the value to rate-limit a client IP under: an IPv4 address as
// is (IPv4-mapped IPv6 too), an IPv6 address as its /64 prefix
// ("2001:db8:1:2::/64"), since one subscriber usually holds a whole /64, and
// "invalid" for anything unparsable (all such requests share one budget).
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "invalid"
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return "invalid"
	}
	return p.String()
}
