package ingest

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the address of the client that sent r. X-Forwarded-For
// is honoured only when the peer is a trusted proxy: the client is then the
// right-most address of the chain that is not itself a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	chain := strings.Join(r.Header.Values("X-Forwarded-For"), ",")
	for chain != "" {
		i := strings.LastIndexByte(chain, ',')
		part := strings.TrimSpace(chain[i+1:])
		chain = chain[:max(i, 0)]
		a, err := netip.ParseAddr(part)
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
		peer = a
	}
	return peer
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
