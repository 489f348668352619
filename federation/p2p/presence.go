package p2p

import (
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/snowflake"
)

// Presence across nodes (spec/federation.md, "Live signals").
const (
	presenceRefresh = time.Minute     // how often a node announces its online users again
	presenceTTL     = 3 * time.Minute // how long a remote user stays shown without news
	greetWait       = 5 * time.Second // how long a greeting waits for the new node on the live topic
	maxGreeters     = 16              // greetings waiting at once; beyond, the next refresh tells
)

// greeting is a member.join this node has committed. When a user of
// another node joined, and they are the first of that node in the room,
// this node tells it who of its own users is online there; when a user of
// this node joined, it tells the room whether they are online. Until then
// each would show offline to the other until the next refresh.
type greeting struct {
	gid  snowflake.ID
	node peer.ID      // the joining user's home
	user snowflake.ID // the joining user
}

// presenceStatuses are the statuses a presence signal may carry: what
// others see, never invisible.
var presenceStatuses = map[string]bool{live.StatusOnline: true, live.StatusIdle: true, live.StatusDND: true, live.StatusOffline: true}

// publishPresence announces this node's users' presence in every room
// they are members of: at once when it changes, and every presenceRefresh
// for those online, so that other nodes can forget users whose node went
// silent. It also answers greetings and sends the profile signals
// ProfileChanged queues.
func (f *Federation) publishPresence() {
	t := time.NewTicker(presenceRefresh)
	defer t.Stop()
	greeters := make(chan struct{}, maxGreeters)
	for {
		select {
		case <-f.ctx.Done():
			return
		case p := <-f.presenceOut:
			f.announce(f.rooms(), func(user snowflake.ID) (live.Presence, bool) { return p, user == p.UserID })
		case v := <-f.voiceOut:
			if tp := f.lookup(v.GuildID); tp != nil && tp.live != nil && f.homeOf(f.ctx, v.GuildID, v.UserID, 0) == f.host.ID().String() {
				f.publishSignal(tp, voiceSignalOf(v))
			}
		case <-t.C:
			rooms := f.rooms()
			f.announce(rooms, f.online)
			f.announceVoice(rooms)
		case user := <-f.profileOut:
			for _, tp := range f.homedIn(user) {
				f.publishSignal(tp, signal{Type: profileSignal, GuildID: tp.gid, UserID: user, TS: time.Now().UnixMilli()})
			}
		case g := <-f.greetings:
			tp := f.lookup(g.gid)
			if tp == nil || tp.live == nil {
				break
			}
			select {
			case greeters <- struct{}{}:
				f.goRun(func() {
					defer func() { <-greeters }()
					f.greet(tp, g)
				})
			default: // the next refresh tells it
			}
		}
	}
}

// online is the presence of a user of this node unless they are offline.
func (f *Federation) online(user snowflake.ID) (live.Presence, bool) {
	p := f.cfg.Live.Presence(user)
	return p, p.Status != live.StatusOffline
}

// greet answers a greeting (see there) once the room's live topic has the
// node to tell, or any peer for a join of this node's own, waiting at
// most greetWait.
func (f *Federation) greet(tp *topic, g greeting) {
	self := g.node == f.host.ID()
	members := 0
	f.core.View(f.ctx, tp.gid, func(s *guild.State) error {
		for uid := range s.Members {
			if s.Homes[uid] == g.node.String() {
				members++
			}
		}
		return nil
	})
	if !self && members != 1 {
		return // not new to the room: it has heard the announcements
	}
	ready := func() bool {
		peers := tp.live.ListPeers()
		return len(peers) > 0 && (self || slices.Contains(peers, g.node))
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(greetWait); !ready(); {
		select {
		case <-f.ctx.Done():
			return
		case now := <-tick.C:
			if now.After(deadline) {
				return // the next refresh tells it
			}
		}
	}
	if self {
		f.announce([]*topic{tp}, func(user snowflake.ID) (live.Presence, bool) {
			p, ok := f.online(user)
			return p, ok && user == g.user
		})
		return
	}
	f.announce([]*topic{tp}, f.online)
	f.announceVoice([]*topic{tp})
}

// announceVoice publishes, in each of rooms, the voice state of each user
// of this node in voice there.
func (f *Federation) announceVoice(rooms []*topic) {
	for _, tp := range rooms {
		if tp.live == nil {
			continue
		}
		for _, v := range f.cfg.Live.VoiceStates(tp.gid) {
			if v.Home == "" {
				f.publishSignal(tp, voiceSignalOf(v))
			}
		}
	}
}

// announce publishes, in each of rooms, the presence of each member homed
// here for whom which says so.
func (f *Federation) announce(rooms []*topic, which func(user snowflake.ID) (live.Presence, bool)) {
	self := f.host.ID().String()
	for _, tp := range rooms {
		if tp.live == nil {
			continue
		}
		var out []live.Presence
		f.core.View(f.ctx, tp.gid, func(s *guild.State) error {
			for uid := range s.Members {
				if p, ok := which(uid); ok && s.Homes[uid] == self {
					out = append(out, p)
				}
			}
			return nil
		})
		for _, p := range out {
			f.publishSignal(tp, signal{Type: presenceSignal, GuildID: tp.gid, UserID: p.UserID, Status: p.Status,
				Activities: p.Activities, TS: time.Now().UnixMilli()})
		}
	}
}

// remoteWord keeps what remote homes say of their users, key by key (a
// user's presence; a user's voice state in a room): only a signal newer
// than the last of its key is taken, and a key whose home said nothing
// for presenceTTL is forgotten.
type remoteWord[K comparable] struct {
	mu    sync.Mutex
	items map[K]*heardAt
}

type heardAt struct {
	ts     int64 // the newest signal's
	expire *time.Timer
}

func newRemoteWord[K comparable]() *remoteWord[K] {
	return &remoteWord[K]{items: map[K]*heardAt{}}
}

// heard takes a signal of k made at ts; gone says that it ends k (offline,
// out of voice). Unless the signal is old news, or k is new and the bound
// of maxRateLimits keys is reached, apply shows it in the live state,
// told whether k was held before; it runs under the lock, so that the
// signals of one key, coming from several rooms' topics at once, apply in
// order. forget runs if k expires.
func (r *remoteWord[K]) heard(k K, ts int64, gone bool, apply func(held bool), forget func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.items[k]
	held := w != nil
	if held && ts <= w.ts {
		return // older news, from another room's topic or reordered
	}
	switch {
	case gone && held:
		w.expire.Stop()
		delete(r.items, k)
	case gone:
	case !held:
		if len(r.items) >= maxRateLimits {
			return // a bound on what is shown from elsewhere
		}
		w = &heardAt{ts: ts}
		w.expire = time.AfterFunc(presenceTTL, func() { r.expire(k, w, forget) })
		r.items[k] = w
	default:
		w.ts = ts
		w.expire.Reset(presenceTTL)
	}
	apply(held)
}

// expire forgets k, whose home went silent, unless newer news replaced w.
func (r *remoteWord[K]) expire(k K, w *heardAt, forget func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.items[k] == w {
		delete(r.items, k)
		forget()
	}
}

// stop ends every timer.
func (r *remoteWord[K]) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.items {
		w.expire.Stop()
	}
}

type voiceKey struct{ guild, user snowflake.ID }

// heardPresence shows a remote user in the node's live state as if they
// were connected while their home says they are online (a verified
// presence signal), and for at most presenceTTL after it last said so.
func (f *Federation) heardPresence(s *signal) {
	hub, user := f.cfg.Live, s.UserID
	req := live.Request{Status: s.Status, Activities: s.Activities}
	gone := s.Status == live.StatusOffline
	f.presences.heard(user, s.TS, gone, func(held bool) {
		switch {
		case gone && held:
			hub.Disconnect(user)
		case gone:
		case !held:
			hub.Connect(user, &req)
		default:
			hub.SetPresence(user, req)
		}
	}, func() { hub.Disconnect(user) })
}

// heardVoice shows a remote user's voice state (a verified voice signal)
// as their home says, for at most presenceTTL after it last said so.
func (f *Federation) heardVoice(s *signal) {
	hub, v := f.cfg.Live, s.voiceState()
	f.voices.heard(voiceKey{v.GuildID, v.UserID}, s.TS, v.ChannelID == 0, func(bool) { hub.SetRemoteVoice(v) },
		func() { hub.SetRemoteVoice(live.VoiceState{GuildID: v.GuildID, UserID: v.UserID}) })
}
