package sfu

import (
	"context"
	"errors"
	"time"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/perm"
)

// Why the voice gateway refuses a user a channel; each closes the
// connection with closeDisconnected and this reason.
var (
	errNotVoice  = errors.New("not a voice channel")
	errNoConnect = errors.New("missing CONNECT permission")
	errFull      = errors.New("the channel is full")
)

// access is what a user may do in the voice channel they are in.
type access struct {
	speak, stream, priority bool
	mute, deaf              bool // the member's server mute and deafen
}

// admit checks, against the guild's current state, that v's user may
// connect to v's channel with present others already in it: a voice
// channel, VIEW_CHANNEL and CONNECT, and room under the user limit unless
// they have MOVE_MEMBERS (as on Discord).
func (s *SFU) admit(v live.VoiceState, present int) (access, error) {
	var a access
	err := s.guilds.View(context.Background(), v.GuildID, func(st *guild.State) error {
		ch := st.Channels[v.ChannelID]
		if ch == nil || ch.Type != guild.ChannelVoice {
			return errNotVoice
		}
		p := st.Permissions(v.UserID, v.ChannelID, time.Now().UnixMilli())
		if !p.Has(perm.ViewChannel | perm.Connect) {
			return errNoConnect
		}
		if ch.UserLimit > 0 && present >= ch.UserLimit && !p.Has(perm.MoveMembers) {
			return errFull
		}
		a.speak, a.stream, a.priority = p.Has(perm.Speak), p.Has(perm.Stream), p.Has(perm.PrioritySpeaker)
		if m := st.Members[v.UserID]; m != nil {
			a.mute, a.deaf = m.Mute, m.Deaf
		}
		return nil
	})
	return a, err
}
