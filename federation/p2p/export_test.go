package p2p

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/snowflake"
)

// PublishRaw publishes data on a room's topic as it is, unchecked, as a
// hostile node would.
func (f *Federation) PublishRaw(ctx context.Context, gid snowflake.ID, data []byte) error {
	t, err := f.topic(gid)
	if err != nil {
		return err
	}
	return t.t.Publish(ctx, data)
}

// PublishLiveRaw publishes data on a room's live topic as it is.
func (f *Federation) PublishLiveRaw(ctx context.Context, gid snowflake.ID, data []byte) error {
	t, err := f.topic(gid)
	if err != nil {
		return err
	}
	return t.live.Publish(ctx, data)
}

// TopicPeers lists the peers gossip records as subscribed to a room's
// topic.
func (f *Federation) TopicPeers(gid snowflake.ID) []peer.ID {
	t := f.lookup(gid)
	if t == nil {
		return nil
	}
	return t.t.ListPeers()
}

// Subscribed reports whether the node is subscribed to a room's topics.
func (f *Federation) Subscribed(gid snowflake.ID) bool { return f.lookup(gid) != nil }

// SetJoinRecent sets how many of a room's newest events a join carries
// whole, and returns a function that puts it back.
func SetJoinRecent(n int) func() {
	old := joinRecent
	joinRecent = n
	return func() { joinRecent = old }
}
