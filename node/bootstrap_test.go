package node

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// TestBootstrapByURL: a node given another's URL as bootstrap reads its
// node card and connects; when the link drops it is back within seconds,
// whatever the dial backoff says (spec/federation.md, "Discovery").
func TestBootstrapByURL(t *testing.T) {
	a := startNode(t, testConfig(t))
	cfg := testConfig(t)
	cfg.Federation.Bootstrap = []string{a.URL()}
	b := startNode(t, cfg)
	waitConnected(t, a, b)

	for range 3 {
		if err := b.p2p.Network().ClosePeer(a.PeerID()); err != nil {
			t.Fatal(err)
		}
		dropped := time.Now()
		if b.p2p.Network().Connectedness(a.PeerID()) == network.Connected {
			t.Fatal("still connected after ClosePeer")
		}
		waitUntil(t, "the link to come back", func() bool {
			return b.p2p.Network().Connectedness(a.PeerID()) == network.Connected
		})
		if d := time.Since(dropped); d > 5*time.Second {
			t.Errorf("link back after %v", d)
		}
	}
}
