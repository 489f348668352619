package perm

import "concord/federation/snowflake"

// Role is what the permission model needs of a guild role.
type Role struct {
	ID          snowflake.ID
	Position    int
	Permissions Bits
}

// OverwriteType says whom an overwrite targets.
type OverwriteType int

// Overwrite targets, numbered as on Discord's wire.
const (
	OverwriteRole   OverwriteType = 0
	OverwriteMember OverwriteType = 1
)

// Overwrite is a channel permission overwrite for one role or member.
type Overwrite struct {
	ID    snowflake.ID
	Type  OverwriteType
	Allow Bits
	Deny  Bits
}

// Guild is what the permission model needs of a guild. Roles is keyed by role
// ID and includes @everyone, whose ID is the guild's.
type Guild struct {
	ID      snowflake.ID
	OwnerID snowflake.ID
	Roles   map[snowflake.ID]Role
}

// Member is what the permission model needs of a guild member.
type Member struct {
	UserID snowflake.ID
	Roles  []snowflake.ID
	// TimedOutUntil is the end of the member's timeout in Unix milliseconds;
	// 0 means none.
	TimedOutUntil int64
}

// Base is Discord's compute_base_permissions: the guild-level permissions
// before overwrites and before any timeout. The owner and holders of
// ADMINISTRATOR get All. Roles the member lists that the guild lacks (deleted
// ones) grant nothing.
func Base(g *Guild, m *Member) Bits {
	if m.UserID == g.OwnerID {
		return All
	}
	p := g.Roles[g.ID].Permissions
	for _, id := range m.Roles {
		p |= g.Roles[id].Permissions
	}
	if p&Administrator != 0 {
		return All
	}
	return p
}

// InGuild is what a member may do guild-wide at nowMs (Unix ms): Base with
// the timeout rule applied. Use it for guild-level actions such as kicking,
// banning and managing roles.
func InGuild(g *Guild, m *Member, nowMs int64) Bits {
	base := Base(g, m)
	if base&Administrator == 0 && m.TimedOutUntil > nowMs {
		return base & timedOut
	}
	return base
}

// Compute is the member's permissions in a channel with the given overwrites
// at nowMs (Unix ms): Base followed by InChannel.
func Compute(g *Guild, m *Member, overwrites []Overwrite, nowMs int64) Bits {
	return InChannel(g, m, overwrites, Base(g, m), nowMs)
}

// InChannel is Discord's compute_overwrites followed by the implicit denies
// and the timeout rule (spec/permissions.md, "Algorithm"). base must be
// Base(g, m); it is a parameter so that one base serves many channels.
// Overwrite bits outside ChannelMask are ignored, and the result does not
// depend on the order of overwrites.
func InChannel(g *Guild, m *Member, overwrites []Overwrite, base Bits, nowMs int64) Bits {
	return inChannel(g, m, overwrites, base, nowMs, SendMessages)
}

// InThread is the member's permissions in a thread whose parent channel has
// the given overwrites. Threads inherit the parent's permissions except
// SEND_MESSAGES, which is cleared: posting in a thread needs
// SEND_MESSAGES_IN_THREADS, and that bit, not SEND_MESSAGES, gates the
// implicit denies of attachments, embeds and the rest.
func InThread(g *Guild, m *Member, parentOverwrites []Overwrite, base Bits, nowMs int64) Bits {
	return inChannel(g, m, parentOverwrites, base, nowMs, SendMessagesInThreads) &^ SendMessages
}

func inChannel(g *Guild, m *Member, overwrites []Overwrite, base Bits, nowMs int64, send Bits) Bits {
	if base&Administrator != 0 {
		return All
	}
	// Gather each tier in one pass; duplicate overwrites for one target merge
	// rather than depend on their order.
	var everyoneAllow, everyoneDeny, roleAllow, roleDeny, memberAllow, memberDeny Bits
	for i := range overwrites {
		o := &overwrites[i]
		switch {
		case o.Type == OverwriteRole && o.ID == g.ID:
			everyoneAllow |= o.Allow
			everyoneDeny |= o.Deny
		case o.Type == OverwriteRole && hasRole(g, m, o.ID):
			roleAllow |= o.Allow
			roleDeny |= o.Deny
		case o.Type == OverwriteMember && o.ID == m.UserID:
			memberAllow |= o.Allow
			memberDeny |= o.Deny
		}
	}
	p := base
	p = p&^(everyoneDeny&ChannelMask) | everyoneAllow&ChannelMask
	p = p&^(roleDeny&ChannelMask) | roleAllow&ChannelMask
	p = p&^(memberDeny&ChannelMask) | memberAllow&ChannelMask

	if m.TimedOutUntil > nowMs {
		p &= timedOut
	}
	if p&ViewChannel == 0 {
		return None
	}
	if p&send == 0 {
		p &^= sendImplied
	}
	return p
}

// hasRole reports whether m holds role id and the role still exists.
func hasRole(g *Guild, m *Member, id snowflake.ID) bool {
	for _, r := range m.Roles {
		if r == id {
			_, ok := g.Roles[id]
			return ok
		}
	}
	return false
}
