package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"time"

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
	// One frame naming a guild many times must not fan out into as many
	// answers.
	slices.Sort(guilds)
	guilds = slices.Compact(guilds)
	slices.Sort(users)
	users = slices.Compact(users)
	s, g := c.sess, c.g
	if len(guilds) > g.cfg.MemberGuilds {
		return CloseDecodeError, "too many guilds"
	}
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
		if ok, wait := g.memberAsks.take(s.caller.UserID, time.Now()); !ok {
			g.rateLimited(s, opRequestGuildMembers, wait, map[string]any{"guild_id": gid, "nonce": d.Nonce})
			continue
		}
		found := Members{NotFound: users}
		if !denied {
			ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
			var err error
			found, err = g.p.Members(ctx, gid, MemberQuery{Query: d.Query, Limit: limit, UserIDs: users, Presences: d.Presences})
			cancel()
			if err != nil {
				g.log.Error("gateway: request members", "guild", gid, "err", err)
				found = Members{NotFound: users}
			}
		}
		g.sendChunks(s, gid, found, d.Presences && !denied, d.Nonce)
	}
	return 0, ""
}

// rateLimited tells s that a request with opcode op was refused, with
// Discord's RATE_LIMITED dispatch: the client learns when to ask again and
// which request (meta) went unanswered, rather than being disconnected.
func (g *Gateway) rateLimited(s *session, op int, retryAfter time.Duration, meta map[string]any) {
	data, _ := json.Marshal(map[string]any{"opcode": op, "retry_after": retryAfter.Seconds(), "meta": meta})
	s.send(newBody("RATE_LIMITED", data))
	g.m.dispatch("RATE_LIMITED", 1)
}

// sendChunks sends found in chunks of chunkSize; each chunk carries the
// presences of its own members.
func (g *Gateway) sendChunks(s *session, gid snowflake.ID, found Members, presences bool, nonce string) {
	members := found.Members
	count := max(1, (len(members)+chunkSize-1)/chunkSize)
	for i := range count {
		part := members[min(i*chunkSize, len(members)):min((i+1)*chunkSize, len(members))]
		ch := memberChunk{GuildID: gid, Members: part, ChunkIndex: i, ChunkCount: count, Nonce: nonce}
		if ch.Members == nil {
			ch.Members = []json.RawMessage{}
		}
		if i == 0 {
			ch.NotFound = found.NotFound
		}
		if presences {
			ch.Presences = presencesFor(part, found.Presences)
		}
		data, _ := json.Marshal(ch) // members came from the provider as JSON
		s.send(newBody("GUILD_MEMBERS_CHUNK", data))
	}
	g.m.dispatch("GUILD_MEMBERS_CHUNK", count)
}

// presencesFor picks, from all the presences found, those of the users
// among members.
func presencesFor(members, all []json.RawMessage) []json.RawMessage {
	type ref struct {
		User struct{ ID snowflake.ID } `json:"user"`
	}
	byUser := make(map[snowflake.ID]json.RawMessage, len(all))
	for _, p := range all {
		var r ref
		if json.Unmarshal(p, &r) == nil {
			byUser[r.User.ID] = p
		}
	}
	out := []json.RawMessage{}
	for _, m := range members {
		var r ref
		if json.Unmarshal(m, &r) == nil && byUser[r.User.ID] != nil {
			out = append(out, byUser[r.User.ID])
		}
	}
	return out
}
