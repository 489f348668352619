package sfu

import (
	"context"
	"errors"

	"concord/federation/live"
	"concord/federation/snowflake"
	"concord/sfu/channel"
	"concord/sfu/media"
	"concord/sfu/peer"
)

// Cascading (spec/voice.md, "Across nodes"): a voice channel with users on
// several nodes. Each user connects to their home node's SFU. Each SFU
// relays its own users' tracks to every other node with users in the
// channel, over one connection per node it sends to (relay.go), and
// publishes the tracks relayed to it as members standing for those users
// (channel.Member.Remote), so that its clients hear, see and watch them as
// they do local users; who speaks is read from the audio levels that cross
// with the packets. Who is where comes from the voice states of other
// nodes' users (federation/live), which their homes announce: nothing else
// is asked of the other node.

// Relayer carries the SFU's relay offers to other nodes' SFUs; the
// federation is one (node wires it).
type Relayer interface {
	// RelayOffer hands node peer an offer of the relay session towards
	// it and returns peer's answer. An empty offer ends the session.
	RelayOffer(ctx context.Context, peer, session, offer string) (answer string, err error)
}

// ErrNoRelay refuses a relay offer from a node with no user in a voice
// channel this node has users in, or to a node that does not cascade.
var ErrNoRelay = errors.New("no voice channel shared with that node")

// relayMember is the hidden member that carries a channel's local tracks
// to one node.
type relayMember struct {
	m   *channel.Member
	out *relayOut
}

// remoteMember stands for a user of another node in a channel, with the
// tracks their home relays here.
type remoteMember struct {
	m      *channel.Member
	tracks map[*peer.Remote]bool
}

// relayReceiver sends a channel's tracks into a relay, each in a stream
// that names its guild, channel and owner.
type relayReceiver struct {
	out            *relayOut
	guild, channel snowflake.ID
}

var errRelayFull = errors.New("the relay carries as many tracks as it may")

func (r relayReceiver) Add(t media.Track) error {
	if r.out.down.Tracks() >= peer.MaxRelayMedia {
		return errRelayFull
	}
	return r.out.down.AddStream(t, peer.RelayStream(uint64(r.guild), uint64(r.channel), t.Info().Owner))
}

func (r relayReceiver) Remove(t media.Track) { r.out.down.Remove(t) }

// cascade brings one channel's members that stand for other nodes in line
// with the voice states (cascadeChannel), then ends the relays no channel
// uses any more. It runs on the SFU's goroutine.
func (s *SFU) cascade(guildID, channelID snowflake.ID) {
	s.cascadeChannel(guildID, channelID)
	s.sweepRelays()
}

// cascadeChannel keeps, in a channel that has local members, a relay to
// each node with users in it, and a member for each of those users with
// the tracks relayed for them.
func (s *SFU) cascadeChannel(guildID, channelID snowflake.ID) {
	if s.relayer == nil {
		return
	}
	s.mu.Lock()
	r := s.channels[channelID]
	if r == nil || r.guild != guildID || s.closed {
		s.mu.Unlock()
		return
	}
	r.refs++ // held: the channel cannot close meanwhile
	ch := r.ch
	s.mu.Unlock()
	defer s.release(channelID, ch)

	here := map[snowflake.ID]live.VoiceState{}
	homes := map[string]bool{}
	for _, v := range s.remoteVoices(guildID, channelID) {
		here[v.UserID], homes[v.Home] = v, true
	}
	s.cascadeRelays(r, homes)
	s.cascadeUsers(r, here)
}

// remoteVoices lists the voice states of other nodes' users in a voice
// channel, as their homes announce them.
func (s *SFU) remoteVoices(guildID, channelID snowflake.ID) []live.VoiceState {
	var out []live.VoiceState
	for _, v := range s.live.VoiceStates(guildID) {
		if v.Home != "" && v.ChannelID == channelID {
			out = append(out, v)
		}
	}
	return out
}

// cascadeRelays keeps a relay member in r for each node of homes.
func (s *SFU) cascadeRelays(r *channelRef, homes map[string]bool) {
	for home := range homes {
		out := s.relayTo(home)
		s.mu.Lock()
		old := r.relays[home]
		s.mu.Unlock()
		if old != nil && old.out == out {
			continue
		}
		if old != nil {
			r.ch.Leave(old.m)
		}
		if out == nil {
			s.setRelay(r, home, nil)
			continue
		}
		rm := &relayMember{out: out, m: &channel.Member{Hidden: true, Relay: true,
			Receiver: relayReceiver{out: out, guild: r.guild, channel: r.id}}}
		s.setRelay(r, home, rm)
		r.ch.Join(rm.m)
	}
	s.mu.Lock()
	gone := prune(r.relays, func(home string) bool { return homes[home] })
	s.mu.Unlock()
	for _, rm := range gone {
		r.ch.Leave(rm.m)
	}
}

func (s *SFU) setRelay(r *channelRef, home string, rm *relayMember) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rm == nil {
		delete(r.relays, home)
	} else {
		r.relays[home] = rm
	}
}

// cascadeUsers keeps a member in r for each user of another node in the
// channel, publishing the tracks their home relays for them there.
func (s *SFU) cascadeUsers(r *channelRef, here map[snowflake.ID]live.VoiceState) {
	for user, v := range here {
		st := channel.State{Mute: v.Mute, Deaf: v.Deaf, SelfMute: v.SelfMute, SelfDeaf: v.SelfDeaf}
		s.mu.Lock()
		rm := r.remotes[user]
		if rm == nil {
			rm = &remoteMember{m: &channel.Member{UserID: uint64(user), Remote: true, State: st}, tracks: map[*peer.Remote]bool{}}
			r.remotes[user] = rm
			s.mu.Unlock()
			r.ch.Join(rm.m)
		} else {
			s.mu.Unlock()
			r.ch.SetState(rm.m, st)
		}
		want := s.relayed(v.Home, peer.RelayStream(uint64(r.guild), uint64(r.id), uint64(user)))
		for t := range rm.tracks {
			if !want[t] {
				delete(rm.tracks, t)
				r.ch.Unpublish(rm.m, t)
			}
		}
		for t := range want {
			if !rm.tracks[t] {
				rm.tracks[t] = true
				r.ch.Publish(rm.m, t)
			}
		}
	}
	s.mu.Lock()
	gone := prune(r.remotes, func(user snowflake.ID) bool { _, ok := here[user]; return ok })
	s.mu.Unlock()
	for _, rm := range gone {
		r.ch.Leave(rm.m)
	}
}

// relayed lists the live tracks node home relays here in stream.
func (s *SFU) relayed(home, stream string) map[*peer.Remote]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[*peer.Remote]bool{}
	if in := s.in[home]; in != nil {
		for _, t := range in.tracks {
			if t.Stream() == stream {
				out[t] = true
			}
		}
	}
	return out
}

// cascadeAll cascades every channel with local members.
func (s *SFU) cascadeAll() { s.cascadeWhere(func(snowflake.ID) bool { return true }) }

// cascadeGuild cascades the guild's channels with local members: a voice
// state there changed.
func (s *SFU) cascadeGuild(guildID snowflake.ID) {
	s.cascadeWhere(func(g snowflake.ID) bool { return g == guildID })
}

func (s *SFU) cascadeWhere(guild func(snowflake.ID) bool) {
	if s.relayer == nil {
		return
	}
	var all []*channelRef
	s.mu.Lock()
	for _, r := range s.channels {
		if guild(r.guild) {
			all = append(all, r)
		}
	}
	s.mu.Unlock()
	for _, r := range all {
		s.cascadeChannel(r.guild, r.id)
	}
	s.sweepRelays()
}

// prune deletes the entries of m whose key keep refuses, and returns them.
func prune[K comparable, V any](m map[K]V, keep func(K) bool) []V {
	var gone []V
	for k, v := range m {
		if !keep(k) {
			gone = append(gone, v)
			delete(m, k)
		}
	}
	return gone
}
