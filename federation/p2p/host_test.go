package p2p_test

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"concord/storage"
)

// TestFindPeerThroughDHT: a knows only b, b knows c; a reaches c by its
// peer ID alone, through the DHT.
func TestFindPeerThroughDHT(t *testing.T) {
	nodes := newCluster(t, storage.SQLite, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	connect(t, a, b)
	connect(t, c, b)
	// Whatever a has already heard of c through b (identify, the DHT's
	// own refresh, both racing this line), it forgets: it must find c by
	// peer ID alone.
	a.host.Network().ClosePeer(c.host.ID())
	a.host.Peerstore().ClearAddrs(c.host.ID())
	waitFor(t, "a to reach c by peer ID", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return a.host.Connect(ctx, peer.AddrInfo{ID: c.host.ID()}) == nil
	})
}
