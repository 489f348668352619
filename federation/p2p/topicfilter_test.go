package p2p_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/p2p"
	"concord/federation/snowflake"
	"concord/storage"
)

// TestTopicKeptAmongMembers: a node that is no member's home subscribes
// to a guild's topics and is connected to every member node, yet hears
// none of the guild's events or live signals, and no member node counts
// it among the topic's peers. A node whose last member leaves stops
// hearing the guild's events too, and leaves its topics until a user of
// it joins again.
func TestTopicKeptAmongMembers(t *testing.T) {
	a, b, c, g, ub, uc := triangle(t, storage.SQLite)

	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// An outsider that speaks the guild's gossip as its nodes do.
	ps, err := pubsub.NewGossipSub(t.Context(), h, pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return string(m.Data) }))
	if err != nil {
		t.Fatal(err)
	}
	var subs []*pubsub.Subscription
	for _, name := range []string{p2p.TopicName(g.id), p2p.LiveTopicName(g.id)} {
		tp, err := ps.Join(name)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := tp.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	for _, m := range []*member{a, b, c} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		if err := h.Connect(ctx, peer.AddrInfo{ID: m.host.ID(), Addrs: m.host.Addrs()}); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	heard := make(chan string, 16)
	for _, sub := range subs {
		go func() {
			for {
				msg, err := sub.Next(t.Context())
				if err != nil {
					return
				}
				heard <- string(msg.Data)
			}
		}()
	}

	// The guild goes on: events and typing from every member node.
	var sent []string
	for m, user := range map[*member]snowflake.ID{a: g.owner, b: ub, c: uc} {
		sent = append(sent, message(t, m, g, user, "not for outsiders"))
		m.live.Typing(live.Typing{RoomID: g.id, ChannelID: g.channel, UserID: user, At: time.Now()})
	}
	waitFor(t, "every member node to hold every event", func() bool { return a.holds(g.id, sent...) && b.holds(g.id, sent...) && c.holds(g.id, sent...) })
	select {
	case data := <-heard:
		t.Fatalf("the outsider heard %.80s", data)
	case <-time.After(2 * time.Second):
	}
	for _, m := range []*member{a, b, c} {
		if slices.Contains(m.fed.TopicPeers(g.id), h.ID()) {
			t.Errorf("%s counts the outsider among the topic's peers", m.name)
		}
	}

	// c's only member leaves: a and b stop sending c the guild's events.
	c.send(t, g.id, uc, guild.TypeMemberLeave, struct{}{})
	waitFor(t, "a and b to see c's user leave", func() bool { return !a.isMember(g.id, uc) && !b.isMember(g.id, uc) })
	waitFor(t, "a and b to drop c from the topic", func() bool {
		return !slices.Contains(a.fed.TopicPeers(g.id), c.host.ID()) && !slices.Contains(b.fed.TopicPeers(g.id), c.host.ID())
	})
	waitFor(t, "c to leave the guild's topics", func() bool { return !c.fed.Subscribed(g.id) })
	after := message(t, a, g, g.owner, "after c left")
	waitFor(t, "b to hold a's message", func() bool { return b.holds(g.id, after) })
	time.Sleep(2 * time.Second)
	if c.holds(g.id, after) {
		t.Error("c, home to no member, still hears the guild")
	}

	// A user of c joins again: c subscribes again and hears the guild.
	back := join(t, c, g)
	waitFor(t, "a to admit c's new user", func() bool { return a.isMember(g.id, back) })
	again := message(t, a, g, g.owner, "welcome back")
	waitFor(t, "c to hear the guild again", func() bool { return c.fed.Subscribed(g.id) && c.holds(g.id, again, after) })
}
