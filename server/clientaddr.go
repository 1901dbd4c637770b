package server

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// parseTrustedProxies reads the trusted proxies (IP addresses or CIDR prefixes).
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("server: trusted proxy %q is not an IP address or CIDR", p)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerIP works out the client's address: the peer's, or when the peer is a trusted proxy, the
// nearest address in X-Forwarded-For that is not a trusted proxy. Proxies append what they saw,
// so the left part of that header is whatever the client wrote and is never believed.
func (s *Server) peerIP(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	if !peer.IsValid() || !s.trustedProxy(peer) {
		return peer
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		peer = a.Unmap()
		if !s.trustedProxy(peer) {
			break
		}
	}
	return peer
}

// clientIP is the client's address as the request-id middleware worked it out: what the audit
// log, the device list and the access log record.
func clientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(localClientIP).(string); ok {
		return ip
	}
	return c.IP()
}

// throttleAddr is the address login failures are counted against: an IPv4 address itself, an
// IPv6 address by its /64 (one subscriber usually holds a whole /64 and could otherwise step
// through it to dodge the counters).
func throttleAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
