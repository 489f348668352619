package p2p

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// Gate is the host's connection gater: it refuses every connection to and
// from a blocked peer. It cuts off a hostile peer, and tests partition a
// cluster with it.
type Gate struct {
	host host.Host

	mu      sync.RWMutex
	blocked map[peer.ID]bool
}

func newGate() *Gate { return &Gate{blocked: map[peer.ID]bool{}} }

// Block refuses p from now on and closes the connections to it.
func (g *Gate) Block(p peer.ID) {
	g.mu.Lock()
	g.blocked[p] = true
	g.mu.Unlock()
	if g.host != nil {
		g.host.Network().ClosePeer(p)
	}
}

// Unblock lets p connect again.
func (g *Gate) Unblock(p peer.ID) {
	g.mu.Lock()
	delete(g.blocked, p)
	g.mu.Unlock()
}

func (g *Gate) allowed(p peer.ID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return !g.blocked[p]
}

// InterceptPeerDial refuses to dial a blocked peer.
func (g *Gate) InterceptPeerDial(p peer.ID) bool { return g.allowed(p) }

// InterceptAddrDial refuses to dial a blocked peer.
func (g *Gate) InterceptAddrDial(p peer.ID, _ multiaddr.Multiaddr) bool { return g.allowed(p) }

// InterceptAccept lets every connection reach the handshake, which names
// the peer.
func (g *Gate) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured refuses a blocked peer once the handshake named it.
func (g *Gate) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allowed(p)
}

// InterceptUpgraded allows what InterceptSecured allowed.
func (g *Gate) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
