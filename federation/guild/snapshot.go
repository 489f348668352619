package guild

import (
	"slices"

	"concord/federation/snowflake"
)

// Snapshot returns a partial deep copy of s: what a subscriber needs to
// render the effect of one event after later events have changed s. It
// holds the guild's own fields; for each key in keys the object it names,
// absent when that object no longer exists; every role and emoji when keys
// name the guild (a rendered guild lists them); every emoji when keys name
// one (emoji changes are told as the whole list); and those of members
// that are present. Its maps hold nothing else and are nil when empty, so
// that the snapshot of a message costs a few small copies: a snapshot is
// read, never changed. Permissions and Authority read objects it may lack
// and must not be used on it; OwnerID may.
func (s *State) Snapshot(keys Changes, members []ID) *State {
	c := *s
	c.perm.Roles = nil // the owner is kept; the permission view is not
	c.Roles, c.Channels, c.Members, c.Bans, c.Invites, c.Emojis, c.Homes, c.Webhooks = nil, nil, nil, nil, nil, nil, nil, nil
	for _, k := range keys {
		if k.Kind == "invite" {
			if inv := s.Invites[k.ID]; inv != nil {
				if c.Invites == nil {
					c.Invites = map[string]*Invite{}
				}
				v := *inv
				c.Invites[k.ID] = &v
			}
			continue
		}
		id, err := snowflake.Parse(k.ID)
		if err != nil {
			continue // no object of s has this key
		}
		switch k.Kind {
		case "guild":
			for _, r := range s.Roles {
				snapRole(&c, r)
			}
			snapEmojis(&c, s)
		case "emoji":
			snapEmojis(&c, s)
		case "role":
			if r := s.Roles[id]; r != nil {
				snapRole(&c, r)
			}
		case "channel":
			if ch := s.Channels[id]; ch != nil {
				if c.Channels == nil {
					c.Channels = map[ID]*Channel{}
				}
				v := *ch
				v.Overwrites = slices.Clone(ch.Overwrites)
				c.Channels[id] = &v
			}
		case "member":
			snapMember(&c, s, id)
		case "webhook":
			if wh := s.Webhooks[id]; wh != nil {
				if c.Webhooks == nil {
					c.Webhooks = map[ID]*Webhook{}
				}
				v := *wh
				c.Webhooks[id] = &v
			}
		case "ban":
			if b := s.Bans[id]; b != nil {
				if c.Bans == nil {
					c.Bans = map[ID]*Ban{}
				}
				v := *b
				v.Others = slices.Clone(b.Others)
				c.Bans[id] = &v
			}
		}
	}
	for _, id := range members {
		snapMember(&c, s, id)
	}
	return &c
}

func snapRole(c *State, r *Role) {
	if c.Roles == nil {
		c.Roles = map[ID]*Role{}
	}
	v := *r
	c.Roles[r.ID] = &v
}

func snapEmojis(c, s *State) {
	if c.Emojis != nil || len(s.Emojis) == 0 {
		return
	}
	c.Emojis = make(map[ID]*CustomEmoji, len(s.Emojis))
	for id, e := range s.Emojis {
		v := *e
		v.Roles = slices.Clone(e.Roles)
		c.Emojis[id] = &v
	}
}

func snapMember(c, s *State, id ID) {
	m := s.Members[id]
	if m == nil {
		return
	}
	if c.Members == nil {
		c.Members = map[ID]*Member{}
	}
	v := *m
	v.Roles = slices.Clone(m.Roles)
	c.Members[id] = &v
}

// Delta is what some events changed in a state: the guild's own fields and
// the objects its keys name, as they were after the events. The event core
// takes one per committed batch and applies it to the state its readers
// see, so that they never see what is not stored yet.
type Delta struct {
	keys  Changes
	after *State
}

// Delta captures the objects keys name in s, and the guild's own fields.
func (s *State) Delta(keys Changes) *Delta {
	after := s.Snapshot(keys, nil)
	for _, k := range keys {
		if k.Kind != "member" {
			continue
		}
		if id, err := snowflake.Parse(k.ID); err == nil {
			if home, ok := s.Homes[id]; ok {
				if after.Homes == nil {
					after.Homes = map[ID]string{}
				}
				after.Homes[id] = home
			}
		}
	}
	return &Delta{keys: keys, after: after}
}

// ApplyDelta brings s to the state d was taken from, given that s held
// that state's objects as they were before the events d covers. The
// objects d holds are copied, so s never shares memory with another state.
func (s *State) ApplyDelta(d *Delta) {
	a := d.after
	roles, channels, members, bans, invites, emojis, homes, hooks, pr := s.Roles, s.Channels, s.Members, s.Bans, s.Invites, s.Emojis, s.Homes, s.Webhooks, s.perm.Roles
	*s = *a
	s.Roles, s.Channels, s.Members, s.Bans, s.Invites, s.Emojis, s.Homes, s.Webhooks = roles, channels, members, bans, invites, emojis, homes, hooks
	s.perm.Roles = pr
	for _, k := range d.keys {
		if k.Kind == "invite" {
			putOrDelete(s.Invites, k.ID, a.Invites[k.ID], func(v Invite) Invite { return v })
			continue
		}
		id, err := snowflake.Parse(k.ID)
		if err != nil {
			continue
		}
		switch k.Kind {
		case "role":
			putOrDelete(s.Roles, id, a.Roles[id], func(v Role) Role { return v })
			if r := s.Roles[id]; r != nil {
				s.perm.Roles[id] = r.Role
			} else {
				delete(s.perm.Roles, id)
			}
		case "channel":
			putOrDelete(s.Channels, id, a.Channels[id], func(v Channel) Channel {
				v.Overwrites = slices.Clone(v.Overwrites)
				return v
			})
		case "member":
			putOrDelete(s.Members, id, a.Members[id], func(v Member) Member {
				v.Roles = slices.Clone(v.Roles)
				return v
			})
			if home, ok := a.Homes[id]; ok {
				s.Homes[id] = home
			}
		case "ban":
			putOrDelete(s.Bans, id, a.Bans[id], func(v Ban) Ban {
				v.Others = slices.Clone(v.Others)
				return v
			})
		case "webhook":
			putOrDelete(s.Webhooks, id, a.Webhooks[id], func(v Webhook) Webhook { return v })
		case "emoji":
			// Emoji changes snapshot every emoji: the set is replaced whole.
			clear(s.Emojis)
			for eid, e := range a.Emojis {
				v := *e
				v.Roles = slices.Clone(e.Roles)
				s.Emojis[eid] = &v
			}
		}
	}
}

func putOrDelete[K comparable, V any](m map[K]*V, k K, v *V, cp func(V) V) {
	if v == nil {
		delete(m, k)
		return
	}
	c := cp(*v)
	m[k] = &c
}
