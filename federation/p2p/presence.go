package p2p

import (
	"sync"
	"time"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/snowflake"
)

// Presence across nodes (spec/federation.md, "Live signals").
const (
	presenceRefresh = time.Minute     // how often a node announces its online users again
	presenceTTL     = 3 * time.Minute // how long a remote user stays shown without news
)

// presenceStatuses are the statuses a presence signal may carry: what
// others see, never invisible.
var presenceStatuses = map[string]bool{live.StatusOnline: true, live.StatusIdle: true, live.StatusDND: true, live.StatusOffline: true}

// publishPresence announces this node's users' presence in every room
// they are members of: at once when it changes, and every presenceRefresh
// for those online, so that other nodes can forget users whose node went
// silent.
func (f *Federation) publishPresence() {
	t := time.NewTicker(presenceRefresh)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case p := <-f.presenceOut:
			f.announce(func(user snowflake.ID) (live.Presence, bool) { return p, user == p.UserID })
		case <-t.C:
			f.announce(func(user snowflake.ID) (live.Presence, bool) {
				p := f.cfg.Live.Presence(user)
				return p, p.Status != live.StatusOffline
			})
		}
	}
}

// announce publishes, in every room, the presence of each member homed
// here for whom which says so.
func (f *Federation) announce(which func(user snowflake.ID) (live.Presence, bool)) {
	self := f.host.ID().String()
	for _, tp := range f.rooms() {
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

// remotePresences shows remote users in the node's live state as if they
// were connected while their home says they are online, and for at most
// presenceTTL after it last said so.
type remotePresences struct {
	mu    sync.Mutex
	users map[snowflake.ID]*remotePresence
}

type remotePresence struct {
	ts     int64 // the newest signal's
	expire *time.Timer
}

// heard applies a verified presence signal of a remote user to hub.
func (r *remotePresences) heard(hub *live.Hub, s *signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.users[s.UserID]
	if u != nil && s.TS <= u.ts {
		return // older news, from another room's topic or reordered
	}
	req := live.Request{Status: s.Status, Activities: s.Activities}
	switch {
	case s.Status == live.StatusOffline && u != nil:
		u.expire.Stop()
		delete(r.users, s.UserID)
		hub.Disconnect(s.UserID)
	case s.Status == live.StatusOffline:
	case u == nil:
		if len(r.users) >= maxRateLimits {
			return // a bound on users shown from elsewhere
		}
		u = &remotePresence{ts: s.TS}
		u.expire = time.AfterFunc(presenceTTL, func() { r.forget(hub, s.UserID, u) })
		r.users[s.UserID] = u
		hub.Connect(s.UserID, &req)
	default:
		u.ts = s.TS
		u.expire.Reset(presenceTTL)
		hub.SetPresence(s.UserID, req)
	}
}

// forget takes a remote user whose home went silent out of the live state.
func (r *remotePresences) forget(hub *live.Hub, user snowflake.ID, u *remotePresence) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.users[user] == u {
		delete(r.users, user)
		hub.Disconnect(user)
	}
}

// stop ends every remote user's timer.
func (r *remotePresences) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.users {
		u.expire.Stop()
	}
}
