package gateway

import (
	"context"
	"encoding/json"

	"concord/federation/snowflake"
)

type requestMembers struct {
	GuildID   json.RawMessage `json:"guild_id"` // one snowflake or an array
	Query     string          `json:"query"`
	Limit     int             `json:"limit"`
	Presences bool            `json:"presences"`
	UserIDs   json.RawMessage `json:"user_ids"` // one snowflake or an array
	Nonce     string          `json:"nonce,omitempty"`
}

// chunkSize is Discord's: at most 1000 members per GUILD_MEMBERS_CHUNK.
const chunkSize = 1000

// ids reads a snowflake or an array of them.
func ids(raw json.RawMessage) ([]snowflake.ID, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var many []snowflake.ID
	if json.Unmarshal(raw, &many) == nil {
		return many, true
	}
	var one snowflake.ID
	if json.Unmarshal(raw, &one) == nil {
		return []snowflake.ID{one}, true
	}
	return nil, false
}

type memberChunk struct {
	GuildID    snowflake.ID      `json:"guild_id"`
	Members    []json.RawMessage `json:"members"`
	ChunkIndex int               `json:"chunk_index"`
	ChunkCount int               `json:"chunk_count"`
	NotFound   []snowflake.ID    `json:"not_found,omitempty"`
	Presences  []json.RawMessage `json:"presences,omitempty"`
	Nonce      string            `json:"nonce,omitempty"`
}

// requestMembers answers op 8 with GUILD_MEMBERS_CHUNK dispatches to this
// session. The whole member list needs GUILD_MEMBERS and presences need
// GUILD_PRESENCES; a request lacking them gets one empty chunk, so a
// client waiting on its nonce is not left hanging.
func (c *conn) requestMembers(raw json.RawMessage) (int, string) {
	var d requestMembers
	if json.Unmarshal(raw, &d) != nil {
		return CloseDecodeError, "decode error"
	}
	guilds, ok1 := ids(d.GuildID)
	users, ok2 := ids(d.UserIDs)
	if !ok1 || !ok2 || len(users) > 100 || d.Limit < 0 {
		return CloseDecodeError, "decode error"
	}
	s, g := c.sess, c.g
	denied := (len(users) == 0 && d.Query == "" && d.Limit == 0 && s.intents&IntentGuildMembers == 0) ||
		(d.Presences && s.intents&IntentGuildPresences == 0)
	limit := d.Limit
	if len(users) == 0 && d.Query != "" && (limit == 0 || limit > 100) {
		limit = 100
	}
	for _, gid := range guilds {
		g.mu.RLock()
		member, _ := s.rooms.get(gid)
		g.mu.RUnlock()
		if !member {
			continue
		}
		var members []json.RawMessage
		notFound := users
		if !denied {
			ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
			var err error
			members, notFound, err = g.p.Members(ctx, gid, MemberQuery{Query: d.Query, Limit: limit, UserIDs: users})
			cancel()
			if err != nil {
				g.log.Error("gateway: request members", "guild", gid, "err", err)
				members, notFound = nil, users
			}
		}
		g.sendChunks(s, gid, members, notFound, d.Presences && !denied, d.Nonce)
	}
	return 0, ""
}

func (g *Gateway) sendChunks(s *session, gid snowflake.ID, members []json.RawMessage, notFound []snowflake.ID, presences bool, nonce string) {
	count := max(1, (len(members)+chunkSize-1)/chunkSize)
	for i := range count {
		part := members[min(i*chunkSize, len(members)):min((i+1)*chunkSize, len(members))]
		ch := memberChunk{GuildID: gid, Members: part, ChunkIndex: i, ChunkCount: count, Nonce: nonce}
		if ch.Members == nil {
			ch.Members = []json.RawMessage{}
		}
		if i == 0 {
			ch.NotFound = notFound
		}
		if presences {
			ch.Presences = g.presencesFor(part)
		}
		data, _ := json.Marshal(ch) // members came from the provider as JSON
		s.send(newBody("GUILD_MEMBERS_CHUNK", data))
	}
	g.m.dispatch("GUILD_MEMBERS_CHUNK", count)
}

// presencesFor renders the presences of the online members among members.
func (g *Gateway) presencesFor(members []json.RawMessage) []json.RawMessage {
	out := []json.RawMessage{}
	g.mu.RLock()
	defer g.mu.RUnlock()
	for _, m := range members {
		var mm struct {
			User struct{ ID snowflake.ID } `json:"user"`
		}
		if json.Unmarshal(m, &mm) != nil {
			continue
		}
		if u := g.users[mm.User.ID]; u != nil && u.shown != "offline" {
			out = append(out, renderPresence(mm.User.ID, 0, u.shown, json.RawMessage(u.shownAct)))
		}
	}
	return out
}
