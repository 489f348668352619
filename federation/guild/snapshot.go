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
