package p2p

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestSyncWithWhom: a round asks the topic's peers, and when the topic
// shows fewer than syncPeers, other connected peers to make up the number.
func TestSyncWithWhom(t *testing.T) {
	ids := []peer.ID{"a", "b", "c", "d", "e"}
	if got := syncWithWhom(ids, ids); len(got) != syncPeers {
		t.Errorf("a full topic: %v", got)
	}
	got := syncWithWhom(ids[:1], ids)
	if len(got) != syncPeers || got[0] != "a" || slices.Contains(got[1:], "a") {
		t.Errorf("one topic peer among five connected: %v", got)
	}
	if got := syncWithWhom(nil, ids[:2]); len(got) != 2 {
		t.Errorf("an empty topic, two connected: %v", got)
	}
	if got := syncWithWhom(nil, nil); len(got) != 0 {
		t.Errorf("alone: %v", got)
	}
}
