package p2p_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"concord/federation/p2p"
	"concord/storage"
)

// voiceDesk answers relay offers as an SFU would, remembering who offered.
type voiceDesk struct{ origins chan string }

func (d voiceDesk) AnswerRelay(_ context.Context, origin, session, offer string) (string, error) {
	d.origins <- origin
	if session == "refuse" {
		return "", errors.New("no voice channel shared with that node")
	}
	return "answer to " + offer, nil
}

// TestVoiceRelayOffers: an offer reaches the other node's SFU named by
// the stream's own peer, whatever the offer says; its answer or refusal
// comes back; a node serving no voice refuses; a flood of offers is cut.
func TestVoiceRelayOffers(t *testing.T) {
	ms := newCluster(t, storage.SQLite, 2)
	a, b := ms[0], ms[1]
	connect(t, a, b)
	ctx := context.Background()
	if _, err := a.fed.RelayOffer(ctx, b.host.ID().String(), "s", "offer"); !errors.Is(err, p2p.ErrVoiceRefused) {
		t.Fatalf("offer to a node serving no voice: %v", err)
	}
	desk := voiceDesk{origins: make(chan string, 100)}
	b.fed.ServeVoice(desk)
	answer, err := a.fed.RelayOffer(ctx, b.host.ID().String(), "s", "offer")
	if err != nil || answer != "answer to offer" {
		t.Fatalf("answer %q, %v", answer, err)
	}
	if origin := <-desk.origins; origin != a.host.ID().String() {
		t.Fatalf("offer from %s, want %s", origin, a.host.ID())
	}
	if _, err := a.fed.RelayOffer(ctx, b.host.ID().String(), "refuse", "offer"); !errors.Is(err, p2p.ErrVoiceRefused) ||
		!strings.Contains(err.Error(), "no voice channel shared") {
		t.Fatalf("refusal: %v", err)
	}
	refused := 0
	for range 40 {
		if _, err := a.fed.RelayOffer(ctx, b.host.ID().String(), "s", "offer"); err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Error("40 offers at once were all answered")
	}
}
