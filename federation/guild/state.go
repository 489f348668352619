package guild

import (
	"cmp"
	"maps"
	"slices"

	"concord/federation/perm"
)

// Role is a guild role.
type Role struct {
	perm.Role
	Name         string
	Color        int
	Hoist        bool
	Mentionable  bool
	Icon         string
	UnicodeEmoji string
}

// Channel is a guild channel with its overwrites, kept sorted by target ID.
type Channel struct {
	ID               ID
	Type             int
	Name             string
	Topic            string
	Position         int
	ParentID         ID
	NSFW             bool
	RateLimitPerUser int
	Bitrate          int
	UserLimit        int
	Overwrites       []perm.Overwrite
}

// Member is a guild member. Roles are kept sorted.
type Member struct {
	perm.Member
	Nick     string
	Mute     bool
	Deaf     bool
	Bot      bool
	JoinedAt int64 // unix ms, the join event's origin_ts
}

// Ban records who was banned by which event.
type Ban struct {
	UserID        ID
	Reason        string
	EventID       string
	DeleteSeconds int64
	TS            int64
	// Others are later-folded bans of the same user, concurrent with
	// EventID; an unban must descend from each of them too.
	Others []string
}

// Invite is an invite code and its use count.
type Invite struct {
	Code      string
	ChannelID ID
	InviterID ID
	MaxAge    int64
	MaxUses   int
	Uses      int
	Temporary bool
	CreatedAt int64
	EventID   string
}

// Usable reports whether the invite still admits someone at nowMs (unix
// ms): it has not expired and is not used up.
func (inv *Invite) Usable(nowMs int64) bool {
	expired := inv.MaxAge > 0 && nowMs > inv.CreatedAt+inv.MaxAge*1000
	usedUp := inv.MaxUses > 0 && inv.Uses >= inv.MaxUses
	return !expired && !usedUp
}

// CustomEmoji is a guild's own emoji.
type CustomEmoji struct {
	ID        ID
	Name      string
	Animated  bool
	Image     string
	Roles     []ID
	CreatorID ID
}

// Webhook is an incoming webhook: a name and avatar that post into one
// channel. Its token is held by its origin node alone, so its messages come
// from that node.
type Webhook struct {
	ID            ID
	ChannelID     ID
	Name          string
	Avatar        string // blob key, "" for none
	CreatorID     ID
	ApplicationID ID // the creator, when a bot made it
	Origin        string
}

// State is one guild's (or DM room's) state. Maps are never shared between
// two States: Clone copies deeply.
type State struct {
	ID                          ID
	Kind                        string
	Name                        string
	Icon                        string
	Description                 string
	VerificationLevel           int
	DefaultMessageNotifications int
	ExplicitContentFilter       int
	SystemChannelID             ID
	AFKChannelID                ID
	AFKTimeout                  int
	CreatedBy                   ID
	Deleted                     bool
	CreateEvent                 string

	perm     perm.Guild // OwnerID and the permission view of Roles
	Roles    map[ID]*Role
	Channels map[ID]*Channel
	Members  map[ID]*Member
	Bans     map[ID]*Ban
	Invites  map[string]*Invite
	Emojis   map[ID]*CustomEmoji
	Homes    map[ID]string // user → home node, bound by their first event here
	// Webhooks is absent from Canonical while empty, so that the state
	// hashes of guilds that never had one are what they were before
	// webhooks existed.
	Webhooks map[ID]*Webhook `json:",omitempty"`
}

func newState() *State {
	return &State{
		perm:     perm.Guild{Roles: map[ID]perm.Role{}},
		Roles:    map[ID]*Role{},
		Channels: map[ID]*Channel{},
		Members:  map[ID]*Member{},
		Bans:     map[ID]*Ban{},
		Invites:  map[string]*Invite{},
		Emojis:   map[ID]*CustomEmoji{},
		Homes:    map[ID]string{},
		Webhooks: map[ID]*Webhook{},
	}
}

// OwnerID is the guild's owner.
func (s *State) OwnerID() ID { return s.perm.OwnerID }

// Perm is the view the permission functions take. Callers must not modify it.
func (s *State) Perm() *perm.Guild { return &s.perm }

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := *s
	c.perm = perm.Guild{ID: s.perm.ID, OwnerID: s.perm.OwnerID, Roles: maps.Clone(s.perm.Roles)}
	c.Roles = cloneMap(s.Roles, func(r Role) Role { return r })
	c.Channels = cloneMap(s.Channels, func(ch Channel) Channel {
		ch.Overwrites = slices.Clone(ch.Overwrites)
		return ch
	})
	c.Members = cloneMap(s.Members, func(m Member) Member {
		m.Roles = slices.Clone(m.Roles)
		return m
	})
	c.Bans = cloneMap(s.Bans, func(b Ban) Ban {
		b.Others = slices.Clone(b.Others)
		return b
	})
	c.Invites = cloneMap(s.Invites, func(i Invite) Invite { return i })
	c.Emojis = cloneMap(s.Emojis, func(e CustomEmoji) CustomEmoji {
		e.Roles = slices.Clone(e.Roles)
		return e
	})
	c.Homes = maps.Clone(s.Homes)
	c.Webhooks = cloneMap(s.Webhooks, func(w Webhook) Webhook { return w })
	return &c
}

func cloneMap[K comparable, V any](m map[K]*V, cp func(V) V) map[K]*V {
	out := make(map[K]*V, len(m))
	for k, v := range m {
		c := cp(*v)
		out[k] = &c
	}
	return out
}

// Permissions is what user may do in channel (0 for the guild level) at
// nowMs. Non-members have none.
func (s *State) Permissions(user, channel ID, nowMs int64) perm.Bits {
	m := s.Members[user]
	if m == nil || s.Deleted {
		return 0
	}
	if s.Kind != KindGuild {
		// A DM room's permissions are the same for everyone in it; its
		// creator gains nothing over the others but, in a group DM, the
		// owner's right to remove people.
		p := s.perm.Roles[s.ID].Permissions
		if s.Kind == KindGroupDM && user == s.OwnerID() {
			p |= perm.KickMembers
		}
		if channel != 0 && s.Channels[channel] == nil {
			return 0
		}
		return p
	}
	if channel == 0 {
		return perm.InGuild(&s.perm, &m.Member, nowMs)
	}
	ch := s.Channels[channel]
	if ch == nil {
		return 0
	}
	return perm.Compute(&s.perm, &m.Member, ch.Overwrites, nowMs)
}

// Authority ranks user for state resolution (perm.Authority); non-members
// rank lowest.
func (s *State) Authority(user ID) uint64 {
	m := s.Members[user]
	if m == nil {
		return 0
	}
	return perm.Authority(&s.perm, &m.Member)
}

func (s *State) setRole(r *Role) {
	s.Roles[r.ID] = r
	s.perm.Roles[r.ID] = r.Role
}

func (s *State) deleteRole(id ID) {
	delete(s.Roles, id)
	delete(s.perm.Roles, id)
	for _, m := range s.Members {
		m.Roles = removeID(m.Roles, id)
	}
	for _, ch := range s.Channels {
		ch.Overwrites = slices.DeleteFunc(ch.Overwrites, func(o perm.Overwrite) bool {
			return o.Type == perm.OverwriteRole && o.ID == id
		})
	}
}

func addID(list []ID, id ID) []ID {
	i, found := slices.BinarySearch(list, id)
	if found {
		return list
	}
	return slices.Insert(list, i, id)
}

func removeID(list []ID, id ID) []ID {
	i, found := slices.BinarySearch(list, id)
	if !found {
		return list
	}
	return slices.Delete(list, i, i+1)
}

func setOverwrite(list []perm.Overwrite, o perm.Overwrite) []perm.Overwrite {
	i, found := slices.BinarySearchFunc(list, o.ID, func(a perm.Overwrite, id ID) int { return cmp.Compare(a.ID, id) })
	if found {
		list[i] = o
		return list
	}
	return slices.Insert(list, i, o)
}
