package gateway

import (
	"sync"
	"sync/atomic"
	"time"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// entry is one dispatch as a session numbered it.
type entry struct {
	seq int64
	b   *body
}

// session is what identify creates and resume reattaches: a sequence, a
// replay buffer, and at most one connection. Its fields after mu are
// guarded by mu; rooms by the Gateway's mu; the rest is fixed at identify.
type session struct {
	g        *Gateway
	id       string
	caller   Caller
	intents  Intents
	shard    [2]int
	large    int
	compress bool    // identify asked for per-payload compression
	rooms    roomSet // subscribed rooms

	mu          sync.Mutex
	seq         int64
	replay      []entry // dispatches the client has not acknowledged, oldest first
	replayBytes int
	lost        int64 // the highest seq no longer replayable
	conn        *conn
	queue       []entry // dispatches waiting for the writer
	queueBytes  int
	replaying   int // entries of a resume's replay in queue: exempt from QueueMax
	writing     bool
	starting    bool    // READY not sent yet: live dispatches wait in pending
	pending     []*body // live dispatches that arrived during identify
	views       map[snowflake.ID]view
	presence    *live.Request // the last presence the client asked for, shown again after a resume
	expiry      *time.Timer
	ended       bool
}

// roomSet is a session's rooms: a slice, because most users are in a few
// guilds and a map costs an idle session more than the search.
type roomSet []roomRef

type roomRef struct {
	id    snowflake.ID
	guild bool // false for a DM room
}

// get reports whether id is in the set and whether it is a guild.
func (rs roomSet) get(id snowflake.ID) (isGuild, ok bool) {
	for _, r := range rs {
		if r.id == id {
			return r.guild, true
		}
	}
	return false, false
}

func (rs *roomSet) del(id snowflake.ID) {
	for i, r := range *rs {
		if r.id == id {
			*rs = append((*rs)[:i], (*rs)[i+1:]...)
			return
		}
	}
}

// view is a cached VIEW_CHANNEL answer, valid while its room's epoch holds.
type view struct {
	epoch uint32
	ok    bool
}

// send numbers b and queues it; it never blocks. It reports whether b was
// taken.
func (s *session) send(b *body) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	if s.starting {
		s.pending = append(s.pending, b)
		return true
	}
	s.push(b)
	return true
}

// push numbers b, keeps it for resume and queues it for the connection.
// s.mu is held.
func (s *session) push(b *body) {
	cfg := &s.g.cfg
	s.seq++
	e := entry{s.seq, b}
	s.replay = append(s.replay, e)
	s.replayBytes += len(b.raw)
	for len(s.replay) > cfg.ReplayMax || s.replayBytes > cfg.ReplayBytes {
		s.lost = s.replay[0].seq
		s.replayBytes -= len(s.replay[0].b.raw)
		s.replay[0] = entry{}
		s.replay = s.replay[1:]
	}
	c := s.conn
	if c == nil || c.dead.Load() {
		return
	}
	s.queue = append(s.queue, e)
	s.queueBytes += len(b.raw)
	if len(s.queue)-s.replaying > cfg.QueueMax || (s.replaying == 0 && s.queueBytes > cfg.QueueBytes) {
		// A slow reader is cut off rather than slowing everyone's
		// fan-out; what it missed stays in the replay buffer for a resume.
		s.g.m.drops.Inc()
		s.queue, s.queueBytes, s.replaying = nil, 0, 0
		c.closeAsync(CloseRateLimited, "send queue full")
		return
	}
	s.kick()
}

// kick starts the writer if none runs. s.mu is held.
func (s *session) kick() {
	if !s.writing && s.conn != nil && len(s.queue) > 0 {
		s.writing = true
		go s.drain()
	}
}

// drain writes queued dispatches to whichever connection is attached, and
// exits when the queue is empty: an idle session holds no writer goroutine.
func (s *session) drain() {
	var batch []entry
	for {
		s.mu.Lock()
		c := s.conn
		if c == nil || len(s.queue) == 0 || c.dead.Load() {
			s.writing = false
			s.queue, s.queueBytes, s.replaying = nil, 0, 0
			s.mu.Unlock()
			return
		}
		batch = append(batch[:0], s.queue...)
		clear(s.queue)
		s.queue, s.queueBytes, s.replaying = s.queue[:0], 0, 0
		s.mu.Unlock()
		for _, e := range batch {
			if err := c.writeDispatch(e.seq, e.b); err != nil {
				c.kill()
				break
			}
		}
		clear(batch)
	}
}

// ack drops replay entries the client has seen (the seq of its heartbeat):
// a client resumes from at least there, so an idle session keeps nothing.
func (s *session) ack(seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq > s.seq {
		return
	}
	i := 0
	for i < len(s.replay) && s.replay[i].seq <= seq {
		s.replayBytes -= len(s.replay[i].b.raw)
		s.lost = s.replay[i].seq
		i++
	}
	if i == len(s.replay) {
		s.replay, s.replayBytes = nil, 0
		return
	}
	clear(s.replay[:i])
	s.replay = s.replay[i:]
}

// canView answers VIEW_CHANNEL for the session's user, from its cache while
// the room's epoch is unchanged.
func (s *session) canView(r *roomSubs, guildID, channelID snowflake.ID) bool {
	ep := atomic.LoadUint32(&r.epoch)
	s.mu.Lock()
	v, ok := s.views[channelID]
	s.mu.Unlock()
	if ok && v.epoch == ep {
		return v.ok
	}
	can := s.g.p.CanView(guildID, channelID, s.caller.UserID)
	s.mu.Lock()
	if s.views == nil {
		s.views = map[snowflake.ID]view{}
	}
	s.views[channelID] = view{ep, can}
	s.mu.Unlock()
	return can
}

// start ends identify: READY, the GUILD_CREATEs, then what was published
// meanwhile, in that order and numbered from 1.
func (s *session) start(first []*body) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range first {
		s.push(b)
	}
	for _, b := range s.pending {
		s.push(b)
	}
	s.pending, s.starting = nil, false
}
