package gateway

import (
	"encoding/json"

	"concord/federation/snowflake"
)

// voiceState is a member's place in voice, held in memory only: media
// arrives with the SFU, which will read these.
type voiceState struct {
	GuildID        snowflake.ID  `json:"guild_id"`
	ChannelID      *snowflake.ID `json:"channel_id"`
	UserID         snowflake.ID  `json:"user_id"`
	SessionID      string        `json:"session_id"`
	Deaf           bool          `json:"deaf"`
	Mute           bool          `json:"mute"`
	SelfDeaf       bool          `json:"self_deaf"`
	SelfMute       bool          `json:"self_mute"`
	SelfVideo      bool          `json:"self_video"`
	Suppress       bool          `json:"suppress"`
	RequestToSpeak *string       `json:"request_to_speak_timestamp"`
}

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
	if d.ChannelID != nil && !g.p.CanView(d.GuildID, *d.ChannelID, uid) {
		return 0, ""
	}
	v := &voiceState{GuildID: d.GuildID, ChannelID: d.ChannelID, UserID: uid, SessionID: s.id,
		SelfDeaf: d.SelfDeaf, SelfMute: d.SelfMute, SelfVideo: d.SelfVideo}
	g.mu.Lock()
	m := g.voice[d.GuildID]
	if d.ChannelID == nil {
		delete(m, uid)
	} else {
		if m == nil {
			m = map[snowflake.ID]*voiceState{}
			g.voice[d.GuildID] = m
		}
		m[uid] = v
	}
	g.mu.Unlock()
	g.publishVoice(v)
	return 0, ""
}

func (g *Gateway) publishVoice(v *voiceState) {
	data, _ := json.Marshal(v) // plain data always marshals
	g.Publish(Dispatch{Type: "VOICE_STATE_UPDATE", GuildID: v.GuildID, Intent: IntentGuildVoiceStates, Payload: data})
}

// voiceStatesOf renders the voice states of guildID for GUILD_CREATE.
func (g *Gateway) voiceStatesOf(guildID snowflake.ID) []json.RawMessage {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []json.RawMessage
	for _, v := range g.voice[guildID] {
		data, _ := json.Marshal(v) // plain data always marshals
		out = append(out, data)
	}
	return out
}

// VoiceStates lists who is in voice channelID of guildID, for the SFU.
func (g *Gateway) VoiceStates(guildID, channelID snowflake.ID) []snowflake.ID {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []snowflake.ID
	for uid, v := range g.voice[guildID] {
		if v.ChannelID != nil && *v.ChannelID == channelID {
			out = append(out, uid)
		}
	}
	return out
}
