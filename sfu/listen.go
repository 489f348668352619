package sfu

import (
	"sync"

	"concord/federation/live"
)

// listener hears the live state. It only queues: the hub may not be
// called back from inside its callbacks, and answering a join calls it.
type listener struct{ s *SFU }

func (listener) Presence(live.Presence)       {}
func (listener) Typing(live.Typing)           {}
func (listener) VoiceServer(live.VoiceServer) {}
func (l listener) Voice(v live.VoiceState)    { l.s.changes.put(func() { l.s.voice(v) }) }

// queue hands what the SFU hears (voice states, guild changes) to its
// goroutine without ever blocking the hub or the event core.
type queue struct {
	mu     sync.Mutex
	items  []func()
	ready  chan struct{} // holds a token while items is not empty
	closed chan struct{}
}

func newQueue() *queue {
	return &queue{ready: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (q *queue) put(f func()) {
	q.mu.Lock()
	q.items = append(q.items, f)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for queued work; it returns nil once the queue is closed.
// A wake-up may find nothing: an earlier take already took what its put
// had queued.
func (q *queue) take() []func() {
	for {
		select {
		case <-q.ready:
		case <-q.closed:
			return nil
		}
		q.mu.Lock()
		out := q.items
		q.items = nil
		q.mu.Unlock()
		if len(out) > 0 {
			return out
		}
	}
}

func (q *queue) close() { close(q.closed) }

// run applies what the SFU heard, in the order it heard it.
func (s *SFU) run() {
	defer s.wg.Done()
	for {
		fs := s.changes.take()
		if fs == nil {
			return
		}
		for _, f := range fs {
			f()
		}
	}
}

// voice follows one user's voice state: a join gets a token, a leave ends
// the voice connection, a move or a change of flags reaches it.
func (s *SFU) voice(v live.VoiceState) {
	defer s.cascadeGuild(v.GuildID)
	if v.Home != "" {
		return // a user of another node, in voice through their home's SFU
	}
	k := voiceKey{v.GuildID, v.UserID}
	s.mu.Lock()
	g, ss := s.grants[k], s.sessions[k]
	if v.ChannelID == 0 {
		s.revoke(k)
	}
	s.mu.Unlock()
	switch {
	case v.ChannelID == 0:
		if ss != nil {
			ss.end(closeDisconnected, "left voice", false)
		}
		return
	case g == nil || g.sessionID != v.SessionID:
		if ss != nil {
			ss.end(closeDisconnected, "voice taken over by another session", false)
		}
		s.memberFlags(v)
		s.issue(v)
		return
	}
	if ss != nil {
		ss.follow(v)
	}
}
