package gateway

import (
	"encoding/json"

	"concord/federation/live"
	"concord/federation/snowflake"
)

type voiceUpdate struct {
	GuildID   snowflake.ID  `json:"guild_id"`
	ChannelID *snowflake.ID `json:"channel_id"`
	SelfMute  bool          `json:"self_mute"`
	SelfDeaf  bool          `json:"self_deaf"`
	SelfVideo bool          `json:"self_video"`
}

// voiceStateUpdate handles op 4: join, move or leave (channel_id null) a
// voice channel the user can see in one of the session's guilds. Requests
// for anything else are ignored, as Discord does.
func (c *conn) voiceStateUpdate(raw json.RawMessage) (int, string) {
	var d voiceUpdate
	if json.Unmarshal(raw, &d) != nil {
		return CloseDecodeError, "decode error"
	}
	s, g := c.sess, c.g
	g.mu.RLock()
	isGuild, _ := s.rooms.get(d.GuildID)
	g.mu.RUnlock()
	if !isGuild {
		return 0, ""
	}
	uid := s.caller.UserID
	v := live.VoiceState{GuildID: d.GuildID, UserID: uid, SessionID: s.id, SelfDeaf: d.SelfDeaf, SelfMute: d.SelfMute, SelfVideo: d.SelfVideo}
	if d.ChannelID != nil {
		if !g.p.CanView(d.GuildID, *d.ChannelID, uid) {
			return 0, ""
		}
		v.ChannelID = *d.ChannelID
	}
	g.live.SetVoice(v)
	return 0, ""
}
