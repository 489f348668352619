package node

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
)

// TestNodeCardAndBootstrap starts two nodes, the second with the first as
// its bootstrap peer taken from the first's node card, and waits until
// they are connected.
func TestNodeCardAndBootstrap(t *testing.T) {
	a := startNode(t, testConfig(t))
	code, body := get(t, http.DefaultClient, a.URL()+"/.well-known/concord/node")
	var card struct {
		Name    string   `json:"name"`
		PeerID  string   `json:"peer_id"`
		Addrs   []string `json:"addrs"`
		Version string   `json:"version"`
	}
	if err := json.Unmarshal([]byte(body), &card); err != nil || code != http.StatusOK {
		t.Fatalf("GET /.well-known/concord/node = %d %s (%v)", code, body, err)
	}
	if card.PeerID != a.PeerID().String() || card.Name != "concord" || card.Version != Version || len(card.Addrs) == 0 {
		t.Fatalf("node card %+v", card)
	}

	cfg := testConfig(t)
	cfg.Federation.Bootstrap = card.Addrs[:1]
	b := startNode(t, cfg)
	sub, err := a.p2p.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	timeout := time.After(10 * time.Second)
	for a.p2p.Network().Connectedness(b.PeerID()) != network.Connected {
		select {
		case <-sub.Out():
		case <-timeout:
			t.Fatal("the second node never connected to its bootstrap peer")
		}
	}
}
