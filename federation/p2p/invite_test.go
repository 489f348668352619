package p2p_test

import (
	"context"
	"errors"
	"testing"

	"concord/federation/guild"
	"concord/federation/p2p"
)

// A bound invite code leads only to the room it names: a peer that answers
// it with a guild of its own making is not believed, and the code still
// finds its room through an honest peer.
func TestInviteBoundToItsRoom(t *testing.T) {
	ctx := context.Background()
	nodes := newCluster(t, drivers(t)[0], 3)
	a, hostile, b := nodes[0], nodes[1], nodes[2]
	g := newGuild(t, a)
	var create string
	a.core.View(ctx, g.id, func(s *guild.State) error { create = s.CreateEvent; return nil })
	code := "Bound123" + guild.InviteTag(create)
	a.send(t, g.id, g.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: code, ChannelID: g.channel})

	fake := newGuild(t, hostile)
	hostile.send(t, fake.id, fake.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: code, ChannelID: fake.channel})
	connect(t, b, hostile)
	if _, _, err := b.fed.PreviewInvite(ctx, code); !errors.Is(err, p2p.ErrUnknownInvite) {
		t.Fatalf("preview through the hostile peer: %v, want ErrUnknownInvite", err)
	}
	if _, err := b.fed.FetchInvite(ctx, code); !errors.Is(err, p2p.ErrUnknownInvite) {
		t.Fatalf("join through the hostile peer: %v, want ErrUnknownInvite", err)
	}
	if err := b.core.View(ctx, fake.id, func(*guild.State) error { return nil }); err == nil {
		t.Fatal("the hostile peer's guild was brought in")
	}

	connect(t, b, a)
	gid, err := b.fed.FetchInvite(ctx, code)
	if err != nil || gid != g.id {
		t.Fatalf("join through the honest peer: %s, %v; want %s", gid, err, g.id)
	}
}
