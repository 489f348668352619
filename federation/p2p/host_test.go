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
	if len(a.host.Peerstore().Addrs(c.host.ID())) != 0 {
		t.Fatal("a already knows c's addresses")
	}
	waitFor(t, "a to reach c by peer ID", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return a.host.Connect(ctx, peer.AddrInfo{ID: c.host.ID()}) == nil
	})
}
