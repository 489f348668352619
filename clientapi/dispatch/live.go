package dispatch

import (
	"context"
	"encoding/json"

	"concord/clientapi/gateway"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/snowflake"
	"concord/storage"
)

type presenceUpdate struct {
	User struct {
		ID snowflake.ID `json:"id"`
	} `json:"user"`
	GuildID      snowflake.ID      `json:"guild_id,omitempty"`
	Status       string            `json:"status"`
	Activities   json.RawMessage   `json:"activities"`
	ClientStatus map[string]string `json:"client_status"`
}

// renderPresence renders PRESENCE_UPDATE's d, or (guildID zero) a presence
// as GUILD_CREATE and member chunks list them.
func renderPresence(p live.Presence, guildID snowflake.ID) json.RawMessage {
	u := presenceUpdate{GuildID: guildID, Status: p.Status, Activities: p.Activities, ClientStatus: map[string]string{}}
	u.User.ID = p.UserID
	if p.Status != live.StatusOffline {
		u.ClientStatus["desktop"] = p.Status
	}
	data, _ := json.Marshal(u) // plain data always marshals
	return data
}

// presence tells the guilds and the friends of the user what others now
// see of them; friends hear it without a guild_id, as on Discord.
func (t *Translator) presence(ctx context.Context, p live.Presence) {
	guilds, err := guildsOf(ctx, t.db, p.UserID)
	if err != nil {
		t.log.Error("dispatch: presence guilds", "user", p.UserID, "err", err)
		return
	}
	for _, id := range guilds {
		t.sink.Publish(gateway.Dispatch{Type: "PRESENCE_UPDATE", GuildID: id, Intent: gateway.IntentGuildPresences,
			Payload: renderPresence(p, id)})
	}
	friends, err := friendsOf(ctx, t.db, p.UserID)
	if err != nil {
		t.log.Error("dispatch: presence friends", "user", p.UserID, "err", err)
		return
	}
	if len(friends) > 0 {
		t.sink.Publish(gateway.Dispatch{Type: "PRESENCE_UPDATE", UserIDs: friends, Payload: renderPresence(p, 0)})
	}
}

// friendsOf lists the users userID is friends with.
func friendsOf(ctx context.Context, db *storage.DB, userID snowflake.ID) ([]snowflake.ID, error) {
	rows, err := db.Reader().QueryContext(ctx, `SELECT peer_id FROM relationships WHERE user_id = ? AND type = ? ORDER BY peer_id`,
		int64(userID), relationshipFriend)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []snowflake.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, snowflake.ID(id))
	}
	return out, rows.Err()
}

// relationshipFriend is Discord's relationship type for a friend.
const relationshipFriend = 1

// typing sends TYPING_START. For a DM the room's ID is the channel's.
func (t *Translator) typing(ctx context.Context, ty live.Typing) {
	p := struct {
		ChannelID snowflake.ID    `json:"channel_id"`
		GuildID   snowflake.ID    `json:"guild_id,omitempty"`
		UserID    snowflake.ID    `json:"user_id"`
		Timestamp int64           `json:"timestamp"`
		Member    *objects.Member `json:"member,omitempty"`
	}{ChannelID: ty.ChannelID, GuildID: ty.RoomID, UserID: ty.UserID, Timestamp: ty.At.Unix()}
	intent := gateway.IntentGuildMessageTyping
	if ty.RoomID == ty.ChannelID {
		p.GuildID, intent = 0, gateway.IntentDirectMessageTyping
	} else {
		// Discord sends the typist's member object in guilds.
		var members []objects.Member
		t.core.View(ctx, ty.RoomID, func(s *guild.State) error {
			if m := s.Members[ty.UserID]; m != nil {
				members = append(members, objects.RenderMember(m))
			}
			return nil
		})
		if len(members) == 1 && t.objects.WithUsers(ctx, members) == nil {
			p.Member = &members[0]
		}
	}
	data, _ := json.Marshal(p) // plain data always marshals
	t.sink.Publish(gateway.Dispatch{Type: "TYPING_START", GuildID: ty.RoomID, ChannelID: ty.ChannelID, Intent: intent, Payload: data})
}

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
	SelfStream     bool          `json:"self_stream"`
	Suppress       bool          `json:"suppress"`
	RequestToSpeak *string       `json:"request_to_speak_timestamp"`
}

// renderVoice renders a voice state; channel_id is null once the user left.
func renderVoice(v live.VoiceState) json.RawMessage {
	data, _ := json.Marshal(voiceState{GuildID: v.GuildID, ChannelID: objects.NonZero(v.ChannelID), UserID: v.UserID,
		SessionID: v.SessionID, Deaf: v.Deaf, Mute: v.Mute, SelfDeaf: v.SelfDeaf, SelfMute: v.SelfMute,
		SelfVideo: v.SelfVideo, SelfStream: v.SelfStream, Suppress: v.Suppress}) // plain data always marshals
	return data
}

func (t *Translator) voice(v live.VoiceState) {
	t.sink.Publish(gateway.Dispatch{Type: "VOICE_STATE_UPDATE", GuildID: v.GuildID, Intent: gateway.IntentGuildVoiceStates,
		Payload: renderVoice(v)})
}

// voiceServer sends VOICE_SERVER_UPDATE to the user's sessions; the one
// that asked matches it to its voice state by guild.
func (t *Translator) voiceServer(s live.VoiceServer) {
	data, _ := json.Marshal(struct {
		Token    string       `json:"token"`
		GuildID  snowflake.ID `json:"guild_id"`
		Endpoint string       `json:"endpoint"`
	}{s.Token, s.GuildID, s.Endpoint}) // plain data always marshals
	t.sink.Publish(gateway.Dispatch{Type: "VOICE_SERVER_UPDATE", UserIDs: []snowflake.ID{s.UserID}, Payload: data})
}
