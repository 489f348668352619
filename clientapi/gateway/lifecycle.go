package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"concord/federation/snowflake"
)

// userSessions is what the gateway holds per connected user: their sessions
// and presence. Guarded by the Gateway's mu.
type userSessions struct {
	sessions   map[*session]struct{}
	online     int    // attached connections
	status     string // asked for: online, idle, dnd, invisible
	activities json.RawMessage
	shown      string         // what others last saw
	shownAct   string         // the activities they last saw
	grace      *time.Timer    // pending offline
	guilds     []snowflake.ID // guilds when the last connection went, for the offline broadcast
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// register makes s known and subscribes it to its rooms, while s is still
// starting so that nothing published from here on is lost.
func (g *Gateway) register(s *session, rd *ReadyData) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sessions[s.id] = s
	u := g.users[s.caller.UserID]
	if u == nil {
		u = &userSessions{sessions: map[*session]struct{}{}, status: "online", shown: "offline"}
		g.users[s.caller.UserID] = u
	}
	u.sessions[s] = struct{}{}
	for _, id := range rd.Guilds {
		if inShard(id, s.shard) {
			g.subscribe(s, id, true)
		}
	}
	if s.shard[0] == 0 {
		for _, id := range rd.DMRooms {
			g.subscribe(s, id, false)
		}
	}
}

// attach binds c to s (identify or resume). A connection still attached is
// replaced: its client has gone elsewhere.
func (g *Gateway) attach(s *session, c *conn) (old *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.users[s.caller.UserID]
	s.mu.Lock()
	old = s.conn
	if s.expiry != nil {
		s.expiry.Stop()
		s.expiry = nil
	}
	s.conn = c
	s.mu.Unlock()
	if old == nil {
		u.online++
	}
	if u.grace != nil {
		u.grace.Stop()
		u.grace = nil
	}
	return old
}

// detach unbinds c from s after its connection ended; end says the session
// ends too, otherwise it waits ResumeWindow for a resume.
func (g *Gateway) detach(s *session, c *conn, end bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.mu.Lock()
	if s.conn != c || s.ended {
		s.mu.Unlock()
		return
	}
	s.conn = nil
	s.queue, s.queueBytes, s.replaying = nil, 0, 0
	if !end {
		s.expiry = time.AfterFunc(g.cfg.ResumeWindow, func() { g.expire(s) })
	}
	s.mu.Unlock()
	u := g.users[s.caller.UserID]
	u.online--
	if u.online == 0 {
		u.guilds = u.guilds[:0]
		for s := range u.sessions {
			for _, r := range s.rooms {
				if r.guild && !containsID(u.guilds, r.id) {
					u.guilds = append(u.guilds, r.id)
				}
			}
		}
		uid := s.caller.UserID
		u.grace = time.AfterFunc(g.cfg.PresenceGrace, func() { g.offline(uid) })
	}
	if end {
		g.remove(s)
	}
}

// expire ends s if no resume came within the window.
func (g *Gateway) expire(s *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.mu.Lock()
	gone := s.conn == nil && !s.ended
	s.mu.Unlock()
	if gone {
		g.remove(s)
	}
}

// remove forgets s. g.mu is held.
func (g *Gateway) remove(s *session) {
	s.mu.Lock()
	s.ended = true
	s.replay, s.queue, s.pending, s.views = nil, nil, nil, nil
	s.mu.Unlock()
	delete(g.sessions, s.id)
	for _, r := range slices.Clone(s.rooms) {
		g.unsubscribe(s, r.id)
	}
	if u := g.users[s.caller.UserID]; u != nil {
		delete(u.sessions, s)
		if len(u.sessions) == 0 && u.online == 0 && u.grace == nil {
			delete(g.users, s.caller.UserID)
		}
	}
}

// Close ends every session and connection and stops the gateway's timers;
// for shutdown and tests. Clients are told 4000 so that they reconnect, to
// another node or to this one restarted.
func (g *Gateway) Close() {
	g.mu.Lock()
	var conns []*conn
	for _, s := range g.sessions {
		s.mu.Lock()
		if s.conn != nil {
			conns = append(conns, s.conn)
		}
		if s.expiry != nil {
			s.expiry.Stop()
		}
		s.mu.Unlock()
		g.remove(s)
	}
	for _, u := range g.users {
		if u.grace != nil {
			u.grace.Stop()
		}
	}
	clear(g.users)
	g.mu.Unlock()
	for _, c := range conns {
		c.close(CloseUnknownError, "shutting down")
	}
}

func containsID(ids []snowflake.ID, id snowflake.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
