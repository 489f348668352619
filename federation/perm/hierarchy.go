package perm

import "math"

// above reports whether role a ranks strictly above role b in guild g.
// @everyone ranks below every other role whatever its position; equal
// positions rank the lower (older) ID higher, as Discord sorts them. The order
// is total over distinct roles.
func above(g *Guild, a, b Role) bool {
	switch {
	case a.ID == b.ID || a.ID == g.ID:
		return false
	case b.ID == g.ID:
		return true
	case a.Position != b.Position:
		return a.Position > b.Position
	default:
		return a.ID < b.ID
	}
}

// highest is m's top-ranked role, @everyone when it holds no other.
func highest(g *Guild, m *Member) Role {
	top, ok := g.Roles[g.ID]
	if !ok {
		top = Role{ID: g.ID}
	}
	for _, id := range m.Roles {
		if r, ok := g.Roles[id]; ok && above(g, r, top) {
			top = r
		}
	}
	return top
}

// HighestPosition is the position of m's highest role: @everyone's (normally
// 0) when it holds no other, and math.MaxInt for the owner, who outranks
// every role.
func HighestPosition(g *Guild, m *Member) int {
	if m.UserID == g.OwnerID {
		return math.MaxInt
	}
	return highest(g, m).Position
}

// Outranks reports whether actor stands above target in the hierarchy: the
// owner outranks everyone else, nobody outranks the owner, and otherwise
// actor's highest role must rank strictly above target's. A member never
// outranks itself. ADMINISTRATOR does not change the hierarchy.
func Outranks(g *Guild, actor, target *Member) bool {
	switch {
	case actor.UserID == target.UserID || target.UserID == g.OwnerID:
		return false
	case actor.UserID == g.OwnerID:
		return true
	default:
		return above(g, highest(g, actor), highest(g, target))
	}
}

// CanManageRole reports whether actor may edit, delete, assign or unassign
// role at nowMs: the owner always may; anyone else needs MANAGE_ROLES (or
// ADMINISTRATOR) guild-wide and a highest role ranking strictly above role.
// What the edit may grant is limited separately by CanGrant.
func CanManageRole(g *Guild, actor *Member, role Role, nowMs int64) bool {
	if actor.UserID == g.OwnerID {
		return true
	}
	return InGuild(g, actor, nowMs)&ManageRoles != 0 && above(g, highest(g, actor), role)
}

// CanModerate reports whether actor may take a hierarchy-bound action on
// target at nowMs, the action needing the permissions in need: KICK_MEMBERS,
// BAN_MEMBERS, MODERATE_MEMBERS (timeout) or MANAGE_NICKNAMES. actor must hold
// need guild-wide and outrank target. A timeout, like Discord's, cannot be
// put on a member holding ADMINISTRATOR, who would be immune to it anyway.
func CanModerate(g *Guild, actor, target *Member, need Bits, nowMs int64) bool {
	if !InGuild(g, actor, nowMs).Has(need) || !Outranks(g, actor, target) {
		return false
	}
	return need&ModerateMembers == 0 || Base(g, target)&Administrator == 0
}

// CanGrant reports whether a member holding actor may give grant to a role or
// put it in an overwrite's allow or deny: only bits it holds itself, unless
// it holds ADMINISTRATOR (the owner's Base does). For roles pass the actor's
// InGuild; for overwrites its permissions in that channel.
func CanGrant(actor, grant Bits) bool {
	return actor&Administrator != 0 || grant&^actor == 0
}

// Authority classes, in the top two bits of an Authority value.
const (
	classMember uint64 = iota << 62
	classAdmin
	classOwner
)

// Authority ranks a member for state resolution: the owner above holders of
// ADMINISTRATOR, they above everyone else, and within a class by highest role
// (spec/permissions.md, "Authority"). The top two bits hold the class; the
// rest the position of the member's highest role, which the member cannot
// raise itself. Members with the same class and highest position are equal;
// callers break that tie themselves. Timeouts do not change authority.
func Authority(g *Guild, m *Member) uint64 {
	class := classMember
	switch {
	case m.UserID == g.OwnerID:
		class = classOwner
	case Base(g, m)&Administrator != 0:
		class = classAdmin
	}
	// The highest role's position, not how many roles rank below it: a
	// member may create roles below its own, and must not raise its rank
	// for state resolution by doing so.
	pos := HighestPosition(g, m)
	return class | uint64(min(max(pos, 0), 1<<40))
}
