// Package channel is one voice channel as the SFU sees it: who is in it,
// the tracks each publishes, and who receives what. It decides forwarding
// (a muted member's audio is paused, a deafened member receives no audio,
// a screen share goes to those who watch it, nobody receives their own
// tracks) and tells members who joins, leaves,
// speaks and publishes. Members are endpoints of any kind — a WebRTC
// client, a recorder, a WHIP publisher, a WHEP viewer, a relay to another
// node's SFU, a user of another node whose tracks come through one — seen
// only through Receiver and Observer. Only the sfu packages import it.
package channel

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	"concord/sfu/media"
)

// Receiver is what a member receives tracks through; a member that only
// publishes has none.
type Receiver interface {
	Add(t media.Track) error
	Remove(t media.Track)
}

// Observer hears what happens in the channel. Its methods are called with
// the channel's lock held, in order: they must only queue.
type Observer interface {
	// Joined says who joined: to a member who joins, every member already
	// there at once; to the others, the one who came.
	Joined(userIDs []uint64)
	Left(userID uint64)
	// Speaking says that userID started or stopped speaking; priority
	// while they speak as a priority speaker.
	Speaking(userID uint64, on, priority bool)
	Published(info media.Info)
	Unpublished(info media.Info)
	// Recording says that by started (on) or stopped recording the
	// channel; a member who joins while it records hears it too.
	Recording(by uint64, on bool)
	// Viewers lists who watches streamer's screen share, by user ID:
	// when it changes while streamer shares, when a share starts, and
	// to a member who joins during one.
	Viewers(streamer uint64, viewers []uint64)
}

// State is what decides a member's forwarding.
type State struct {
	Mute, Deaf         bool // by a moderator
	SelfMute, SelfDeaf bool
	NoSpeak            bool // lacks SPEAK in the channel
	Priority           bool // speaks as a priority speaker
}

// muted reports whether the member's audio is not forwarded. Deafened
// members are muted too, as on Discord.
func (s State) muted() bool { return s.Mute || s.SelfMute || s.NoSpeak || s.Deaf || s.SelfDeaf }
func (s State) deaf() bool  { return s.Deaf || s.SelfDeaf }

// Member is one endpoint in the channel: the channel knows it by its
// pointer, so one user may be in it through several (a voice client and
// a WHIP stream). Hidden members (recorders, viewers) are not announced to
// the others.
type Member struct {
	UserID uint64
	Hidden bool
	// Remote marks a user of another node, whose tracks came through a
	// relay from their home's SFU.
	Remote bool
	// Relay marks a hidden member that carries this node's tracks to
	// another node's SFU: it receives every track of the members that
	// are not Remote (their users' own nodes send those), whoever
	// watches or is deafened here.
	Relay    bool
	Receiver Receiver // nil: receives nothing
	Observer Observer // nil: hears nothing
	State    State

	tracks   []*published
	watching map[uint64]bool // the users whose screen share it receives
}

type published struct {
	media.Track
	pause func(bool) // nil when the track cannot be paused
}

// Pausable is a track that can stop forwarding, as media.Fanout can.
type Pausable interface{ SetPaused(bool) }

// Speaker is an audio track that knows whether someone speaks on it.
type Speaker interface{ Speaking(now time.Time) bool }

// Channel is one voice channel. Build it with New and Close it when empty.
type Channel struct {
	mu       sync.Mutex
	members  map[*Member]bool
	speaking map[*Member]bool // who speaks, and whether as a priority speaker
	stop     chan struct{}
	wg       sync.WaitGroup
	recorder *Member // the hidden member recording, if any
}

// SpeakingPoll is how often the channel looks at who speaks.
const SpeakingPoll = 50 * time.Millisecond

// New returns an empty channel, watching who speaks until Close.
func New() *Channel {
	c := &Channel{members: map[*Member]bool{}, speaking: map[*Member]bool{}, stop: make(chan struct{})}
	c.wg.Add(1)
	go c.watch()
	return c
}

// Close stops watching; members must have left.
func (c *Channel) Close() {
	close(c.stop)
	c.wg.Wait()
}

// Users adds the users in the channel to set, by their visible members:
// a user in it twice (a voice client and a WHIP stream) is one.
func (c *Channel) Users(set map[uint64]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for m := range c.members {
		if !m.Hidden {
			set[m.UserID] = true
		}
	}
}

// Join adds m, which starts receiving what the others publish.
func (c *Channel) Join(m *Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.members[m] {
		return
	}
	c.members[m] = true
	if c.recorder != nil && m.Observer != nil {
		m.Observer.Recording(c.recorder.UserID, true)
	}
	var here []uint64
	for _, o := range c.sorted() {
		if o == m {
			continue
		}
		if !m.Hidden && o.Observer != nil {
			o.Observer.Joined([]uint64{m.UserID})
		}
		if !o.Hidden {
			here = append(here, o.UserID)
		}
	}
	if m.Observer != nil && len(here) > 0 {
		m.Observer.Joined(here)
	}
	for _, o := range c.sorted() {
		if o == m {
			continue
		}
		for _, t := range o.tracks {
			c.route(t, o, m)
			if m.Observer != nil && !o.Hidden {
				m.Observer.Published(t.Info())
			}
		}
	}
	if m.Observer != nil {
		for _, u := range c.streamers() {
			m.Observer.Viewers(u, c.viewersOf(u))
		}
		for o, priority := range c.speaking {
			if !o.Hidden {
				m.Observer.Speaking(o.UserID, true, priority)
			}
		}
	}
}

// Record adds rec, a hidden member that receives every track, and tells
// everyone that by records the channel. It reports false when the channel
// already records.
func (c *Channel) Record(rec *Member) bool {
	c.mu.Lock()
	if c.recorder != nil {
		c.mu.Unlock()
		return false
	}
	rec.Hidden = true
	c.recorder = rec
	for o := range c.members {
		if o.Observer != nil {
			o.Observer.Recording(rec.UserID, true)
		}
	}
	c.mu.Unlock()
	c.Join(rec)
	return true
}

// Leave takes m out, with its tracks.
func (c *Channel) Leave(m *Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.members[m] {
		c.leave(m)
	}
}

func (c *Channel) leave(m *Member) {
	for _, t := range slices.Clone(m.tracks) {
		c.unpublish(m, t)
	}
	delete(c.members, m)
	delete(c.speaking, m)
	for u := range m.watching {
		c.viewers(u)
	}
	if m == c.recorder {
		c.recorder = nil
		for o := range c.members {
			if o.Observer != nil {
				o.Observer.Recording(m.UserID, false)
			}
		}
	}
	for o := range c.members {
		for _, t := range o.tracks {
			if m.Receiver != nil {
				m.Receiver.Remove(t)
			}
		}
		if !m.Hidden && o.Observer != nil {
			o.Observer.Left(m.UserID)
		}
	}
}

// Publish adds a track of m's and sends it to the others.
func (c *Channel) Publish(m *Member, t media.Track) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.members[m] {
		return
	}
	p := &published{Track: t}
	if pt, ok := t.(Pausable); ok {
		p.pause = pt.SetPaused
	}
	m.tracks = append(m.tracks, p)
	c.pause(m, p)
	for o := range c.members {
		if o != m {
			c.route(p, m, o)
			if o.Observer != nil && !m.Hidden {
				o.Observer.Published(t.Info())
			}
		}
	}
	if t.Info().Source == media.Screen {
		c.viewers(m.UserID)
	}
}

// Watch starts (on) or stops m receiving user's screen share (its screen
// and screen audio), and tells everyone who watches it. Watching lasts
// while m is in the channel: a share user starts later reaches m too.
// Only a user in the channel can be watched, so that what m watches stays
// bounded by who came.
func (c *Channel) Watch(m *Member, user uint64, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	here := slices.ContainsFunc(c.sorted(), func(o *Member) bool { return o.UserID == user && !o.Hidden })
	if !c.members[m] || m.watching[user] == on || user == m.UserID || on && !here {
		return
	}
	if on {
		if m.watching == nil {
			m.watching = map[uint64]bool{}
		}
		m.watching[user] = true
	} else {
		delete(m.watching, user)
	}
	for o := range c.members {
		if o.UserID == user {
			for _, p := range o.tracks {
				c.route(p, o, m)
			}
		}
	}
	c.viewers(user)
}

// shared reports whether p is part of a screen share.
func shared(p *published) bool {
	s := p.Info().Source
	return s == media.Screen || s == media.ScreenAudio
}

// streamers lists the users sharing a screen, in user ID order.
func (c *Channel) streamers() []uint64 {
	var out []uint64
	for _, m := range c.sorted() {
		for _, p := range m.tracks {
			if p.Info().Source == media.Screen && !slices.Contains(out, m.UserID) {
				out = append(out, m.UserID)
			}
		}
	}
	return out
}

// viewersOf lists who watches user's screen share, in user ID order.
func (c *Channel) viewersOf(user uint64) []uint64 {
	out := []uint64{}
	for _, m := range c.sorted() {
		if m.watching[user] && !m.Hidden && !slices.Contains(out, m.UserID) {
			out = append(out, m.UserID)
		}
	}
	return out
}

// viewers tells everyone who watches user's screen share, if user shares
// one.
func (c *Channel) viewers(user uint64) {
	if !slices.Contains(c.streamers(), user) {
		return
	}
	list := c.viewersOf(user)
	for o := range c.members {
		if o.Observer != nil {
			o.Observer.Viewers(user, list)
		}
	}
}

// Unpublish removes a track of m's.
func (c *Channel) Unpublish(m *Member, t media.Track) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.members[m] {
		return
	}
	if i := slices.IndexFunc(m.tracks, func(p *published) bool { return p.Track == t }); i >= 0 {
		c.unpublish(m, m.tracks[i])
	}
}

func (c *Channel) unpublish(m *Member, p *published) {
	m.tracks = slices.DeleteFunc(m.tracks, func(q *published) bool { return q == p })
	for o := range c.members {
		if o != m && o.Receiver != nil {
			o.Receiver.Remove(p.Track)
		}
		if o != m && o.Observer != nil && !m.Hidden {
			o.Observer.Unpublished(p.Info())
		}
	}
}

// Tracks lists what the members publish, by user ID order of their
// publishers.
func (c *Channel) Tracks() []media.Track {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []media.Track
	for _, m := range c.sorted() {
		for _, p := range m.tracks {
			out = append(out, p.Track)
		}
	}
	return out
}

// SetState changes what decides m's forwarding.
func (c *Channel) SetState(m *Member, s State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.members[m] || m.State == s {
		return
	}
	wasDeaf := m.State.deaf()
	m.State = s
	for _, p := range m.tracks {
		c.pause(m, p)
	}
	if s.deaf() == wasDeaf || m.Receiver == nil {
		return
	}
	for o := range c.members {
		for _, p := range o.tracks {
			if o != m && p.Info().Kind == media.Audio {
				c.route(p, o, m)
			}
		}
	}
}

// route adds or removes p (published by from) to to's receiver as the
// rules say: a screen share goes to those who watch it, audio to those
// not deafened, everything to the recorder.
func (c *Channel) route(p *published, from, to *Member) {
	if to.Receiver == nil || from == to || to.Relay && from.Remote {
		return
	}
	switch {
	case to == c.recorder, to.Relay:
	case shared(p) && !to.watching[from.UserID], p.Info().Kind == media.Audio && to.State.deaf():
		to.Receiver.Remove(p.Track)
		return
	}
	to.Receiver.Add(p.Track)
}

// pause pauses a muted member's audio.
func (c *Channel) pause(m *Member, p *published) {
	if p.pause != nil && p.Info().Kind == media.Audio {
		p.pause(m.State.muted())
	}
}

// sorted lists the members by user ID, so that observers hear of them in
// a stable order.
func (c *Channel) sorted() []*Member {
	out := slices.Collect(maps.Keys(c.members))
	slices.SortFunc(out, func(a, b *Member) int { return cmp.Compare(a.UserID, b.UserID) })
	return out
}
