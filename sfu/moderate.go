package sfu

import (
	"context"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// guildChanged follows a state event into the voice connections of its
// guild: a member's server mute and deafen become their voice state's,
// and a change of roles, channels or members may take permissions away.
// It runs on the SFU's goroutine.
func (s *SFU) guildChanged(acc *room.Accepted) {
	gid := acc.Event.GuildID
	s.mu.Lock()
	var here []*session
	for k, ss := range s.sessions {
		if k.guild == gid {
			here = append(here, ss)
		}
	}
	s.mu.Unlock()
	if len(here) == 0 {
		return
	}
	for _, k := range acc.Changes {
		if k.Kind != "member" {
			continue
		}
		id, err := snowflake.Parse(k.ID)
		if m := acc.After.Members[id]; err == nil && m != nil {
			s.holdFlags(gid, id, m)
		}
	}
	// Permissions are asked again of every connection in the guild: few,
	// and a role or overwrite can touch any of them.
	for _, ss := range here {
		ss.readmit()
	}
}

// holdFlags makes a member's voice state show their server mute and
// deafen.
func (s *SFU) holdFlags(guildID, userID snowflake.ID, m *guild.Member) {
	s.live.UpdateVoice(guildID, userID, func(v *live.VoiceState) { v.Mute, v.Deaf = m.Mute, m.Deaf })
}

// memberFlags applies a joining member's server mute and deafen to their
// voice state.
func (s *SFU) memberFlags(v live.VoiceState) {
	var m guild.Member
	found := s.guilds.View(context.Background(), v.GuildID, func(st *guild.State) error {
		if x := st.Members[v.UserID]; x != nil {
			m = *x
		}
		return nil
	}) == nil
	if found && (m.Mute != v.Mute || m.Deaf != v.Deaf) {
		s.holdFlags(v.GuildID, v.UserID, &m)
	}
}
