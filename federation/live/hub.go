package live

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	"concord/federation/snowflake"
)

// DefaultGrace is how long a user stays shown as before after their last
// connection went, so that a reconnect does not flicker them offline.
const DefaultGrace = 5 * time.Second

// Hub holds a node's live state. Build it with New; it is safe for
// concurrent use.
type Hub struct {
	grace time.Duration

	mu     sync.Mutex
	users  map[snowflake.ID]*user                        // users with a connection, or in their grace period
	voice  map[snowflake.ID]map[snowflake.ID]*VoiceState // guild → user → state
	subs   []Listener
	out    []change // made but not yet heard, oldest first
	closed bool

	// deliver is held by whoever hands out to listeners, so that they hear
	// changes in the order they were made without mu being held meanwhile.
	deliver sync.Mutex
}

type user struct {
	conns int
	asked Request
	shown Presence    // what listeners last heard
	grace *time.Timer // running while conns is 0
}

// change is one entry of the outbox: exactly one field is set.
type change struct {
	presence *Presence
	typing   *Typing
	voice    *VoiceState
	server   *VoiceServer
}

// New returns an empty hub; grace zero means DefaultGrace.
func New(grace time.Duration) *Hub {
	if grace <= 0 {
		grace = DefaultGrace
	}
	return &Hub{grace: grace, users: map[snowflake.ID]*user{}, voice: map[snowflake.ID]map[snowflake.ID]*VoiceState{}}
}

// Subscribe adds l; the returned func removes it.
func (h *Hub) Subscribe(l Listener) (unsubscribe func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs = append(slices.Clip(h.subs), l)
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if i := slices.Index(h.subs, l); i >= 0 {
			h.subs = slices.Delete(slices.Clip(h.subs), i, i+1)
		}
	}
}

// Close stops the grace timers and forgets everything; listeners hear
// nothing more. For shutdown: nobody is told that users went offline.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, u := range h.users {
		if u.grace != nil {
			u.grace.Stop()
		}
	}
	clear(h.users)
	clear(h.voice)
	h.subs, h.out = nil, nil
}

// Connect counts a connection of userID, shown with req when it is not nil
// (a gateway identify's presence) or as before. A user's first connection
// shows them online.
func (h *Hub) Connect(userID snowflake.ID, req *Request) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	u := h.users[userID]
	if u == nil {
		u = &user{asked: Request{Status: StatusOnline, Activities: emptyList}, shown: offline(userID)}
		h.users[userID] = u
	}
	u.conns++
	if u.grace != nil {
		u.grace.Stop()
		u.grace = nil
	}
	if req != nil {
		u.ask(*req)
	}
	h.show(userID, u)
	h.mu.Unlock()
	h.flush()
}

// Disconnect uncounts a connection. After the last one the user is shown
// as before for the grace period; then they go offline and leave voice.
func (h *Hub) Disconnect(userID snowflake.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[userID]
	if h.closed || u == nil || u.conns == 0 {
		return
	}
	u.conns--
	if u.conns == 0 {
		u.grace = time.AfterFunc(h.grace, func() { h.expire(userID, u) })
	}
}

// expire ends u's grace period, unless a connection came back meanwhile.
func (h *Hub) expire(userID snowflake.ID, u *user) {
	h.mu.Lock()
	if h.closed || h.users[userID] != u || u.conns > 0 {
		h.mu.Unlock()
		return
	}
	u.grace = nil
	h.show(userID, u)
	// In guild order, so that listeners hear the same thing every time.
	for _, guildID := range slices.Sorted(maps.Keys(h.voice)) {
		if v := h.voice[guildID][userID]; v != nil {
			h.leave(guildID, userID)
			h.leftVoice(v)
		}
	}
	delete(h.users, userID)
	h.mu.Unlock()
	h.flush()
}

// SetPresence records what a connected user asks to show; the latest
// request of any of their connections wins, as on Discord. An unknown
// status is ignored, as is a user with no connection.
func (h *Hub) SetPresence(userID snowflake.ID, req Request) {
	h.mu.Lock()
	if u := h.users[userID]; u != nil && !h.closed && u.ask(req) {
		h.show(userID, u)
	}
	h.mu.Unlock()
	h.flush()
}

var statuses = map[string]bool{StatusOnline: true, StatusIdle: true, StatusDND: true, StatusInvisible: true, StatusOffline: true}

var emptyList = json.RawMessage("[]")

// ask takes req when its status is known; offline asks to be invisible.
func (u *user) ask(req Request) bool {
	if !statuses[req.Status] {
		return false
	}
	if req.Status == StatusOffline {
		req.Status = StatusInvisible
	}
	if len(req.Activities) == 0 || bytes.Equal(req.Activities, []byte("null")) {
		req.Activities = emptyList
	}
	u.asked = req
	return true
}

func offline(userID snowflake.ID) Presence {
	return Presence{UserID: userID, Status: StatusOffline, Activities: emptyList}
}

// show queues u's presence if what others see of it changed. h.mu is held.
func (h *Hub) show(userID snowflake.ID, u *user) {
	if u.conns == 0 && u.grace != nil {
		return // shown as before until the grace period ends
	}
	p := Presence{UserID: userID, Status: u.asked.Status, Activities: u.asked.Activities}
	if u.conns == 0 || p.Status == StatusInvisible {
		p = offline(userID)
	}
	if p.Status == u.shown.Status && bytes.Equal(p.Activities, u.shown.Activities) {
		return
	}
	u.shown = p
	h.out = append(h.out, change{presence: &p})
}

// Presence is what others see of userID now.
func (h *Hub) Presence(userID snowflake.ID) Presence {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := h.users[userID]; u != nil {
		return u.shown
	}
	return offline(userID)
}

// Presences lists, in user ID order, up to limit presences that are not
// offline of the users that are keys of members (a guild's members, say).
// It walks whichever of members and the hub's users is smaller.
func Presences[V any](h *Hub, members map[snowflake.ID]V, limit int) []Presence {
	h.mu.Lock()
	var out []Presence
	add := func(u *user) {
		if u != nil && u.shown.Status != StatusOffline {
			out = append(out, u.shown)
		}
	}
	if len(members) < len(h.users) {
		for id := range members {
			add(h.users[id])
		}
	} else {
		for id, u := range h.users {
			if _, ok := members[id]; ok {
				add(u)
			}
		}
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b Presence) int { return cmp.Compare(a.UserID, b.UserID) })
	return out[:min(limit, len(out))]
}

// Typing tells listeners that a user is typing. Nothing is kept.
func (h *Hub) Typing(t Typing) {
	h.mu.Lock()
	if !h.closed {
		h.out = append(h.out, change{typing: &t})
	}
	h.mu.Unlock()
	h.flush()
}

// SetVoice puts a user in a voice channel of a guild, moves them, changes
// their own mute and deafen flags, or (ChannelID zero) takes them out.
// What the server holds — Mute, Deaf, Suppress, and SelfStream within one
// channel — is kept from the user's current state: a client's request
// carries only its own flags. Leaving when not in voice changes nothing.
func (h *Hub) SetVoice(v VoiceState) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	m := h.voice[v.GuildID]
	switch {
	case v.ChannelID != 0:
		if m == nil {
			m = map[snowflake.ID]*VoiceState{}
			h.voice[v.GuildID] = m
		}
		if old := m[v.UserID]; old != nil {
			v.Mute, v.Deaf, v.Suppress = old.Mute, old.Deaf, old.Suppress
			v.SelfStream = old.SelfStream && old.ChannelID == v.ChannelID
		}
		m[v.UserID] = &v
		h.out = append(h.out, change{voice: &v})
	case m[v.UserID] != nil:
		h.leave(v.GuildID, v.UserID)
		h.out = append(h.out, change{voice: &v})
	}
	h.mu.Unlock()
	h.flush()
}

// SetRemoteVoice puts v, a voice state a user's home node announced, as
// it is (ChannelID zero: the user left voice), and tells listeners if it
// changed anything.
func (h *Hub) SetRemoteVoice(v VoiceState) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	m := h.voice[v.GuildID]
	switch old := m[v.UserID]; {
	case v.ChannelID == 0 && old != nil:
		h.leave(v.GuildID, v.UserID)
		h.out = append(h.out, change{voice: &v})
	case v.ChannelID != 0 && (old == nil || *old != v):
		if m == nil {
			m = map[snowflake.ID]*VoiceState{}
			h.voice[v.GuildID] = m
		}
		m[v.UserID] = &v
		h.out = append(h.out, change{voice: &v})
	}
	h.mu.Unlock()
	h.flush()
}

// UpdateVoice changes the voice state of a user who is in voice in a
// guild with fn, which must not change who or where; listeners hear of it
// if anything changed. It reports whether the user was in voice.
func (h *Hub) UpdateVoice(guildID, userID snowflake.ID, fn func(v *VoiceState)) bool {
	h.mu.Lock()
	old := h.voice[guildID][userID]
	if h.closed || old == nil {
		h.mu.Unlock()
		return false
	}
	v := *old
	fn(&v)
	v.GuildID, v.UserID, v.ChannelID = old.GuildID, old.UserID, old.ChannelID
	if v != *old {
		*old = v
		h.out = append(h.out, change{voice: &v})
	}
	h.mu.Unlock()
	h.flush()
	return true
}

// SetVoiceServer tells listeners where a user's client connects its voice
// for a guild. Nothing is kept.
func (h *Hub) SetVoiceServer(s VoiceServer) {
	h.mu.Lock()
	if !h.closed {
		h.out = append(h.out, change{server: &s})
	}
	h.mu.Unlock()
	h.flush()
}

// LeaveGuild takes a user who left a guild (or was removed) out of its
// voice.
func (h *Hub) LeaveGuild(guildID, userID snowflake.ID) {
	h.mu.Lock()
	if m := h.voice[guildID]; m != nil && m[userID] != nil && !h.closed {
		v := m[userID]
		h.leave(guildID, userID)
		h.leftVoice(v)
	}
	h.mu.Unlock()
	h.flush()
}

// DropGuild forgets the voice states of a deleted guild; nobody is left to
// tell.
func (h *Hub) DropGuild(guildID snowflake.ID) {
	h.mu.Lock()
	delete(h.voice, guildID)
	h.mu.Unlock()
}

// leave takes userID out of guildID's voice. h.mu is held.
func (h *Hub) leave(guildID, userID snowflake.ID) {
	m := h.voice[guildID]
	delete(m, userID)
	if len(m) == 0 {
		delete(h.voice, guildID)
	}
}

// leftVoice queues the news that v's user left v's channel. h.mu is held.
func (h *Hub) leftVoice(v *VoiceState) {
	left := *v
	left.ChannelID = 0
	h.out = append(h.out, change{voice: &left})
}

// VoiceStates lists who is in voice in a guild, in user ID order.
func (h *Hub) VoiceStates(guildID snowflake.ID) []VoiceState {
	h.mu.Lock()
	out := make([]VoiceState, 0, len(h.voice[guildID]))
	for _, v := range h.voice[guildID] {
		out = append(out, *v)
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b VoiceState) int { return cmp.Compare(a.UserID, b.UserID) })
	return out
}

// InChannel lists the users in one voice channel, in ID order.
func (h *Hub) InChannel(guildID, channelID snowflake.ID) []snowflake.ID {
	h.mu.Lock()
	var out []snowflake.ID
	for id, v := range h.voice[guildID] {
		if v.ChannelID == channelID {
			out = append(out, id)
		}
	}
	h.mu.Unlock()
	slices.Sort(out)
	return out
}

// flush hands queued changes to the listeners, in order. It runs after
// every change, outside mu: a listener may then read the hub, and one that
// blocks holds up only the callers that made changes.
func (h *Hub) flush() {
	h.deliver.Lock()
	defer h.deliver.Unlock()
	for {
		h.mu.Lock()
		out, subs := h.out, h.subs
		h.out = nil
		h.mu.Unlock()
		if len(out) == 0 {
			return
		}
		for _, c := range out {
			for _, l := range subs {
				switch {
				case c.presence != nil:
					l.Presence(*c.presence)
				case c.typing != nil:
					l.Typing(*c.typing)
				case c.server != nil:
					l.VoiceServer(*c.server)
				default:
					l.Voice(*c.voice)
				}
			}
		}
	}
}
