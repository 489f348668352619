package sfu

import (
	"concord/federation/snowflake"
	"concord/sfu/channel"
)

// channel returns voice channel id of the guild, made if need be; each
// call is paired with a release. A channel made anew is joined by the
// users and relays of other nodes in it (cascade.go).
func (s *SFU) channel(guildID, id snowflake.ID) *channel.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.channels[id]
	if r == nil {
		r = &channelRef{ch: channel.New(), guild: guildID, id: id, relays: map[string]*relayMember{}, remotes: map[snowflake.ID]*remoteMember{}}
		s.channels[id] = r
		s.changes.put(func() { s.cascade(guildID, id) })
	}
	r.refs++
	return r.ch
}

// release drops a reference to a channel; the last one takes out the
// members that stand for other nodes and closes it.
func (s *SFU) release(id snowflake.ID, ch *channel.Channel) {
	s.mu.Lock()
	r := s.channels[id]
	if r == nil || r.ch != ch {
		s.mu.Unlock()
		return
	}
	r.refs--
	if r.refs > 0 {
		s.mu.Unlock()
		return
	}
	delete(s.channels, id)
	others := r.cascaded()
	s.mu.Unlock()
	for _, m := range others {
		ch.Leave(m)
	}
	ch.Close()
	// A relay that carries no channel any more ends.
	s.changes.put(s.sweepRelays)
}

// channelRef counts the holders of a channel: sessions in it and calls
// between channel and release. The members standing for other nodes — a
// relay to each node with users in the channel, and each of those users —
// hold no reference.
type channelRef struct {
	ch      *channel.Channel
	guild   snowflake.ID
	id      snowflake.ID
	refs    int
	relays  map[string]*relayMember        // by the node they carry to
	remotes map[snowflake.ID]*remoteMember // by user
}

// cascaded lists the members standing for other nodes. s.mu is held.
func (r *channelRef) cascaded() []*channel.Member {
	var out []*channel.Member
	for _, m := range r.relays {
		out = append(out, m.m)
	}
	for _, m := range r.remotes {
		out = append(out, m.m)
	}
	return out
}

// present counts who other than user is in voice channel id of the guild:
// the channel's users here, and users of other nodes whom their homes
// put there, though none of this node's is in it yet. A user's own new
// connection, or their WHIP stream, takes no place from them.
func (s *SFU) present(guildID, id, user snowflake.ID) int {
	users := map[uint64]bool{}
	s.mu.Lock()
	r := s.channels[id]
	s.mu.Unlock()
	if r != nil {
		r.ch.Users(users)
	}
	for _, v := range s.remoteVoices(guildID, id) {
		users[uint64(v.UserID)] = true
	}
	delete(users, uint64(user))
	return len(users)
}
