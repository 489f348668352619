package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"concord/federation/snowflake"
)

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
		u = map[*session]struct{}{}
		g.users[s.caller.UserID] = u
	}
	u[s] = struct{}{}
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

// attach binds c to s (identify or resume) and tells the live state of
// the connection. A connection still attached is replaced (its client has
// gone elsewhere) and returned; the live state counts it as the same one.
func (g *Gateway) attach(s *session, c *conn) (old *conn) {
	g.mu.Lock()
	s.mu.Lock()
	old = s.conn
	if s.expiry != nil {
		s.expiry.Stop()
		s.expiry = nil
	}
	s.conn = c
	presence := s.presence
	s.mu.Unlock()
	g.mu.Unlock()
	if old == nil {
		g.live.Connect(s.caller.UserID, presence)
	}
	return old
}

// detach unbinds c from s after its connection ended; end says the session
// ends too, otherwise it waits ResumeWindow for a resume.
// The live state hears of it, and shows the user offline once none of
// their connections is left.
func (g *Gateway) detach(s *session, c *conn, end bool) {
	g.mu.Lock()
	s.mu.Lock()
	if s.conn != c || s.ended {
		s.mu.Unlock()
		g.mu.Unlock()
		return
	}
	s.conn = nil
	s.queue, s.queueBytes, s.replaying = nil, 0, 0
	if !end {
		s.expiry = time.AfterFunc(g.cfg.ResumeWindow, func() { g.expire(s) })
	}
	s.mu.Unlock()
	if end {
		g.remove(s)
	}
	g.mu.Unlock()
	g.live.Disconnect(s.caller.UserID)
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
		delete(u, s)
		if len(u) == 0 {
			delete(g.users, s.caller.UserID)
		}
	}
}

// EndSessions ends the gateway sessions of userID opened with a credential
// that was just revoked: those of login session authSession, or, when it
// is zero, those a bot token opened (its token was reset). Their
// connections are closed with 4004 (authentication failed, do not
// reconnect) and their resume state is dropped, so the revoked credential
// hears nothing more.
func (g *Gateway) EndSessions(userID, authSession snowflake.ID) {
	g.mu.Lock()
	var conns []*conn
	for s := range g.users[userID] {
		if s.caller.Session != authSession {
			continue
		}
		s.mu.Lock()
		c := s.conn
		s.conn = nil
		if s.expiry != nil {
			s.expiry.Stop()
			s.expiry = nil
		}
		s.mu.Unlock()
		if c != nil {
			conns = append(conns, c)
		}
		g.remove(s)
	}
	g.mu.Unlock()
	for _, c := range conns {
		g.live.Disconnect(userID)
		c.closeAsync(CloseAuthenticationFailed, "authentication failed")
	}
}

// Close ends every session and connection and stops the gateway's timers;
// for shutdown and tests. Clients are told 4000 so that they reconnect, to
// another node or to this one restarted. The live state is not told: the
// node closes it too.
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
	clear(g.users)
	g.mu.Unlock()
	for _, c := range conns {
		c.close(CloseUnknownError, "shutting down")
	}
}
