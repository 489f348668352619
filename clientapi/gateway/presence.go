package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"concord/federation/snowflake"
)

// presenceData is the d of op 3, and identify's presence.
type presenceData struct {
	Since      *int64          `json:"since"`
	Activities json.RawMessage `json:"activities"`
	Status     string          `json:"status"`
	AFK        bool            `json:"afk"`
}

var statuses = map[string]bool{"online": true, "idle": true, "dnd": true, "invisible": true, "offline": true}

// setPresence records what a session asked for; the latest request of any
// of a user's sessions wins, as on Discord.
func (g *Gateway) setPresence(userID snowflake.ID, p presenceData) {
	if !statuses[p.Status] {
		return
	}
	if p.Status == "offline" {
		p.Status = "invisible"
	}
	acts := p.Activities
	if len(acts) == 0 || bytes.Equal(acts, []byte("null")) {
		acts = json.RawMessage("[]")
	}
	g.mu.Lock()
	if u := g.users[userID]; u != nil {
		u.status, u.activities = p.Status, acts
	}
	g.mu.Unlock()
	g.presenceChanged(userID)
}

// presenceChanged broadcasts userID's presence to their guilds if what
// others see has changed.
func (g *Gateway) presenceChanged(userID snowflake.ID) {
	g.mu.Lock()
	u := g.users[userID]
	if u == nil {
		g.mu.Unlock()
		return
	}
	if u.online == 0 && u.grace != nil {
		g.mu.Unlock()
		return // still shown as before until the grace period ends
	}
	status := u.status
	if u.online == 0 || status == "invisible" {
		status = "offline"
	}
	acts := u.activities
	if status == "offline" || acts == nil {
		acts = json.RawMessage("[]")
	}
	if status == u.shown && string(acts) == u.shownAct {
		g.mu.Unlock()
		return
	}
	u.shown, u.shownAct = status, string(acts)
	var guilds []snowflake.ID
	for s := range u.sessions {
		for _, r := range s.rooms {
			if r.guild && !containsID(guilds, r.id) {
				guilds = append(guilds, r.id)
			}
		}
	}
	if len(guilds) == 0 {
		guilds = u.guilds
	}
	g.mu.Unlock()
	g.broadcastPresence(userID, status, acts, guilds)
}

type presenceUpdate struct {
	User struct {
		ID snowflake.ID `json:"id"`
	} `json:"user"`
	GuildID      snowflake.ID      `json:"guild_id,omitempty"`
	Status       string            `json:"status"`
	Activities   json.RawMessage   `json:"activities"`
	ClientStatus map[string]string `json:"client_status"`
}

func renderPresence(userID, guildID snowflake.ID, status string, acts json.RawMessage) json.RawMessage {
	p := presenceUpdate{GuildID: guildID, Status: status, Activities: acts, ClientStatus: map[string]string{}}
	p.User.ID = userID
	if status != "offline" {
		p.ClientStatus["desktop"] = status
	}
	data, _ := json.Marshal(p) // plain data always marshals
	return data
}

func (g *Gateway) broadcastPresence(userID snowflake.ID, status string, acts json.RawMessage, guilds []snowflake.ID) {
	for _, id := range guilds {
		g.Publish(Dispatch{Type: "PRESENCE_UPDATE", GuildID: id, Intent: IntentGuildPresences,
			Payload: renderPresence(userID, id, status, acts)})
	}
}

// offline runs PresenceGrace after a user's last connection went: they
// show offline and leave voice unless a connection came back.
func (g *Gateway) offline(userID snowflake.ID) {
	g.mu.Lock()
	u := g.users[userID]
	if u == nil || u.online > 0 {
		g.mu.Unlock()
		return
	}
	u.grace = nil
	var left []*voiceState
	for _, m := range g.voice {
		if v := m[userID]; v != nil {
			delete(m, userID)
			left = append(left, v)
		}
	}
	g.mu.Unlock()
	g.presenceChanged(userID)
	for _, v := range left {
		v.ChannelID = nil
		g.publishVoice(v)
	}
	g.mu.Lock()
	if u := g.users[userID]; u != nil && len(u.sessions) == 0 && u.online == 0 && u.grace == nil {
		delete(g.users, userID)
	}
	g.mu.Unlock()
}

// presencesOf renders the presences of up to limit online members of
// guildID, for GUILD_CREATE: people with a session on this node.
func (g *Gateway) presencesOf(guildID snowflake.ID, limit int) []json.RawMessage {
	g.mu.RLock()
	defer g.mu.RUnlock()
	r := g.rooms[guildID]
	if r == nil {
		return nil
	}
	var out []json.RawMessage
	seen := map[snowflake.ID]bool{}
	for s := range r.all {
		if len(out) >= limit {
			break
		}
		uid := s.caller.UserID
		if seen[uid] {
			continue
		}
		seen[uid] = true
		if u := g.users[uid]; u != nil && u.shown != "" && u.shown != "offline" {
			out = append(out, renderPresence(uid, 0, u.shown, json.RawMessage(u.shownAct)))
		}
	}
	return out
}

// Typing sends TYPING_START; typing is never stored. For a DM, guildID is
// the DM room's ID, which equals channelID.
func (g *Gateway) Typing(guildID, channelID, userID snowflake.ID) {
	dm := guildID == channelID
	p := struct {
		ChannelID snowflake.ID    `json:"channel_id"`
		GuildID   snowflake.ID    `json:"guild_id,omitempty"`
		UserID    snowflake.ID    `json:"user_id"`
		Timestamp int64           `json:"timestamp"`
		Member    json.RawMessage `json:"member,omitempty"`
	}{ChannelID: channelID, GuildID: guildID, UserID: userID, Timestamp: time.Now().Unix()}
	intent := IntentGuildMessageTyping
	if dm {
		p.GuildID, intent = 0, IntentDirectMessageTyping
	} else if members, _, err := g.p.Members(context.Background(), guildID, MemberQuery{UserIDs: []snowflake.ID{userID}}); err == nil && len(members) == 1 {
		p.Member = members[0] // Discord sends the typist's member object in guilds
	}
	data, _ := json.Marshal(p) // plain data always marshals
	g.Publish(Dispatch{Type: "TYPING_START", GuildID: guildID, ChannelID: channelID, Intent: intent, Payload: data})
}
