package p2p

import (
	"context"
	"encoding/json"

	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// A group DM may add a user of another node: its member.add names their
// home (spec/federation.md, "DMs across nodes"). The adding node pushes
// the member.add to that home, which, as the home of a member now, fetches
// the room from it and subscribes.

// addedTo returns the home a member.add names for the user it adds, and
// the user.
func addedTo(ev *event.Event) (peer.ID, snowflake.ID, bool) {
	if ev.Type != guild.TypeMemberAdd {
		return "", 0, false
	}
	var c guild.MemberAdd
	if json.Unmarshal(ev.Content, &c) != nil || c.Origin == "" {
		return "", 0, false
	}
	p, err := peer.Decode(c.Origin)
	if err != nil {
		return "", 0, false
	}
	return p, c.UserID, true
}

// added takes a pushed member.add that adds a user of this node to a room
// this node does not hold: signed by its origin, and by a sender the user
// is friends with and neither blocked nor is blocked by, it has the room
// fetched from the pushing node in the background. done is false for any
// other member.add, which is accepted as usual.
func (f *Federation) added(ctx context.Context, ev *event.Event, from peer.ID) (verdict string, done bool) {
	home, user, ok := addedTo(ev)
	if !ok || home != f.host.ID() || f.core.View(ctx, ev.GuildID, func(*guild.State) error { return nil }) == nil {
		return "", false
	}
	if event.Verify(ev) != nil || !f.mayReach(ctx, user, ev.Sender, true) {
		return "rejected", true
	}
	f.mu.Lock()
	_, fetching := f.via[ev.GuildID]
	if !fetching {
		f.via[ev.GuildID] = from
	}
	f.mu.Unlock()
	if fetching {
		return "duplicate", true
	}
	f.goRun(func() { f.fetchAdded(ev.GuildID, from, user) })
	return "accepted", true
}

// fetchAdded brings in the group DM that added user, from p, and
// subscribes to it.
func (f *Federation) fetchAdded(gid snowflake.ID, p peer.ID, user snowflake.ID) {
	ctx, cancel := context.WithTimeout(f.ctx, joinTimeout)
	defer cancel()
	group := func(ev *event.Event) bool {
		var c guild.GuildCreate
		return json.Unmarshal(ev.Content, &c) == nil && c.Kind == guild.KindGroupDM
	}
	if err := f.fetchRoom(ctx, gid, p, "", group); err != nil {
		f.mu.Lock()
		delete(f.via, gid)
		f.mu.Unlock()
		f.log.Warn("federation: fetch a group DM a user was added to", "guild", gid, "peer", p, "err", err)
		return
	}
	in := false
	f.core.View(ctx, gid, func(s *guild.State) error {
		in = s.Members[user] != nil && s.Homes[user] == f.host.ID().String()
		return nil
	})
	if !in {
		f.log.Warn("federation: a fetched group DM does not hold the user it was said to add", "guild", gid, "peer", p, "user", user)
	}
	f.wantProfiles(ctx, gid)
	f.subscribeJoined(gid, nil)
}

// unwanted takes a user of this node out of a group DM another node added
// them to, when the sender may not add them (mayReach): the group holds the
// member.add for everyone, and the user's own member.leave follows it, as
// their home may send.
func (f *Federation) unwanted(gid, user, sender snowflake.ID, ts int64) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	if f.mayReach(ctx, user, sender, true) {
		return
	}
	still := false
	f.core.View(ctx, gid, func(s *guild.State) error {
		m := s.Members[user]
		still = m != nil && m.JoinedAt == ts
		return nil
	})
	if !still {
		return
	}
	if _, err := f.core.Send(ctx, gid, user, guild.TypeMemberLeave, struct{}{}); err != nil {
		f.log.Warn("federation: leave a group DM a user was added to unasked", "guild", gid, "user", user, "err", err)
	}
}
