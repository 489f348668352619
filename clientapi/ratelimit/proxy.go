package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose forwarding headers are believed
// ([http] trusted_proxies). A request from anywhere else is counted
// against its own peer address, whatever headers it carries.
type Proxies []netip.Prefix

// ParseProxies reads addresses ("10.0.0.1") and networks ("10.0.0.0/8").
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or network", s)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or network", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RealIP sets r.RemoteAddr to the client's address when the request came
// through a trusted proxy: the last address of Forwarded (RFC 7239) or,
// without it, X-Forwarded-For that is not itself a trusted proxy. Reading
// from the right means a client cannot choose its address by sending the
// header itself: the proxy appends what it saw. Everything downstream
// (limits, a session's recorded address, the gateway's per-address cap)
// reads RemoteAddr.
func (ps Proxies) RealIP(next http.Handler) http.Handler {
	if len(ps) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if peer, ok := peerAddr(r.RemoteAddr); ok && ps.trusted(peer) {
			if client, ok := ps.forwardedFor(r.Header); ok {
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(client, 0).String()
				r = &r2
			}
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedFor walks the forwarding chain from the nearest hop outwards
// and returns the first address that is not a trusted proxy.
func (ps Proxies) forwardedFor(h http.Header) (netip.Addr, bool) {
	var hops []string
	if fwd := h.Values("Forwarded"); len(fwd) > 0 {
		for _, v := range fwd {
			for _, elem := range strings.Split(v, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						hops = append(hops, strings.Trim(val, `"`))
					}
				}
			}
		}
	} else {
		for _, v := range h.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := hopAddr(strings.TrimSpace(hops[i]))
		if !ok {
			return netip.Addr{}, false
		}
		last = a
		if !ps.trusted(a) {
			return a, true
		}
	}
	return last, last.IsValid()
}

// hopAddr reads one hop: "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]" or
// "[2001:db8::1]:4711".
func hopAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap(), true
	}
	return peerAddr(s)
}

func peerAddr(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
