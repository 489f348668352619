package gateway

import (
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"

	"concord/federation/snowflake"
)

// Publish fans d out to every session allowed to see it. It never blocks on
// a client: each session gets the shared body on its own bounded queue. The
// recipients are listed under the gateway's lock and served after it is
// released, so that a visibility check that must ask the provider holds up
// nobody else.
func (g *Gateway) Publish(d Dispatch) {
	b := newBody(d.Type, d.Payload)
	var nc *body
	if d.PayloadNoContent != nil {
		nc = newBody(d.Type, d.PayloadNoContent)
	}
	buf := recipients.Get().(*[]*session)
	list := (*buf)[:0]
	var r *roomSubs
	g.mu.RLock()
	if d.GuildID != 0 {
		if r = g.rooms[d.GuildID]; r != nil {
			if permissionTypes[d.Type] {
				atomic.AddUint32(&r.epoch, 1)
			}
			set := r.all
			if d.Intent&IntentGuildPresences != 0 {
				set = r.presence
			}
			for s := range set {
				list = append(list, s)
			}
		}
	} else {
		for _, uid := range d.UserIDs {
			for s := range g.users[uid] {
				list = append(list, s)
			}
		}
	}
	g.mu.RUnlock()
	n := 0
	for _, s := range list {
		switch {
		case r != nil:
			if s.deliver(&d, r, b, nc) {
				n++
			}
		// User events go to shard 0, like DMs on Discord.
		case s.shard[0] == 0 && s.intents&d.Intent == d.Intent && s.send(b):
			n++
		}
	}
	clear(list)
	*buf = list[:0]
	recipients.Put(buf)
	g.m.dispatch(d.Type, n)
	if d.Type == "GUILD_DELETE" && d.GuildID != 0 {
		g.dropRoom(d.GuildID)
	}
}

// recipients pools the lists Publish makes, which can be as long as a
// guild's sessions.
var recipients = sync.Pool{New: func() any { return new([]*session) }}

// deliver sends d to s if its intents and VIEW_CHANNEL allow, choosing the
// payload without content for bots lacking MESSAGE_CONTENT.
func (s *session) deliver(d *Dispatch, r *roomSubs, b, nc *body) bool {
	if s.intents&d.Intent != d.Intent {
		return false
	}
	if d.ChannelID != 0 && d.ChannelID != d.GuildID && !s.canView(r, d.GuildID, d.ChannelID) {
		return false
	}
	if nc != nil && s.caller.Bot && s.intents&IntentMessageContent == 0 && !slices.Contains(d.ContentUsers, s.caller.UserID) {
		b = nc
	}
	return s.send(b)
}

// UserEvent sends one user-scoped event (RELATIONSHIP_ADD, USER_UPDATE, …)
// to all of userID's sessions.
func (g *Gateway) UserEvent(userID snowflake.ID, eventType string, payload any) {
	data, err := json.Marshal(payload)
	if err != nil {
		g.log.Error("gateway: render user event", "type", eventType, "err", err)
		return
	}
	g.Publish(Dispatch{Type: eventType, Payload: data, UserIDs: []snowflake.ID{userID}})
}

// subscribe adds s to room. g.mu is held for writing.
func (g *Gateway) subscribe(s *session, room snowflake.ID, isGuild bool) {
	r := g.rooms[room]
	if r == nil {
		r = &roomSubs{all: map[*session]struct{}{}, presence: map[*session]struct{}{}}
		g.rooms[room] = r
	}
	r.all[s] = struct{}{}
	if s.intents&IntentGuildPresences != 0 {
		r.presence[s] = struct{}{}
	}
	if _, ok := s.rooms.get(room); !ok {
		s.rooms = append(s.rooms, roomRef{room, isGuild})
	}
}

// unsubscribe removes s from room. g.mu is held for writing.
func (g *Gateway) unsubscribe(s *session, room snowflake.ID) {
	if r := g.rooms[room]; r != nil {
		delete(r.all, s)
		delete(r.presence, s)
		if len(r.all) == 0 {
			delete(g.rooms, room)
		}
	}
	s.rooms.del(room)
}

func (g *Gateway) dropRoom(room snowflake.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.rooms[room]; r != nil {
		for s := range r.all {
			s.rooms.del(room)
		}
		delete(g.rooms, room)
	}
}

// sessionsOf lists userID's sessions.
func (g *Gateway) sessionsOf(userID snowflake.ID) []*session {
	g.mu.RLock()
	defer g.mu.RUnlock()
	u := g.users[userID]
	if u == nil {
		return nil
	}
	out := make([]*session, 0, len(u))
	for s := range u {
		out = append(out, s)
	}
	return out
}

// inShard reports whether guildID's events belong to shard (Discord's
// formula: (guild_id >> 22) % num_shards).
func inShard(guildID snowflake.ID, shard [2]int) bool {
	return shard[1] <= 1 || int((uint64(guildID)>>22)%uint64(shard[1])) == shard[0]
}
