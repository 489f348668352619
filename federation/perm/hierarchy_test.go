package perm

import (
	"concord/federation/snowflake"
	"math"
	"testing"
)

func TestHierarchy(t *testing.T) {
	g := testGuild()
	owner := member(ownerID)
	admin := member(20, adminRole)
	mod := member(21, modRole)
	helper := member(22, helpRole)
	quiet := member(23, quietRole)
	plain := member(24)
	plain2 := member(25, goneRole)

	for _, tc := range []struct {
		name          string
		actor, target *Member
		want          bool
	}{
		{"owner over admin", owner, admin, true},
		{"admin not over owner", admin, owner, false},
		{"admin over mod by position", admin, mod, true},
		{"not over self", mod, mod, false},
		{"owner not over self", owner, owner, false},
		{"tie: lower role ID ranks higher", mod, helper, true},
		{"tie: higher role ID ranks lower", helper, mod, false},
		{"any role over @everyone only", quiet, plain, true},
		{"equal @everyone-only members", plain, plain2, false},
	} {
		if got := Outranks(g, tc.actor, tc.target); got != tc.want {
			t.Errorf("Outranks %s = %v", tc.name, got)
		}
	}

	for _, tc := range []struct {
		m    *Member
		want int
	}{{owner, math.MaxInt}, {admin, 3}, {mod, 2}, {plain, 0}, {plain2, 0}} {
		if got := HighestPosition(g, tc.m); got != tc.want {
			t.Errorf("HighestPosition(%d) = %d, want %d", tc.m.UserID, got, tc.want)
		}
	}

	roles := g.Roles
	for _, tc := range []struct {
		name  string
		actor *Member
		role  Role
		want  bool
	}{
		{"owner manages top role", owner, roles[adminRole], true},
		{"admin manages lower role", admin, roles[modRole], true},
		{"admin not own top role", admin, roles[adminRole], false},
		{"mod manages lower role", mod, roles[quietRole], true},
		{"mod manages tied role with higher ID", mod, roles[helpRole], true},
		{"mod manages @everyone", mod, roles[everyone], true},
		{"mod not own role", mod, roles[modRole], false},
		{"mod not higher role", mod, roles[adminRole], false},
		{"no MANAGE_ROLES", helper, roles[quietRole], false},
	} {
		if got := CanManageRole(g, tc.actor, tc.role, now); got != tc.want {
			t.Errorf("CanManageRole %s = %v", tc.name, got)
		}
	}
	timedOutMod := member(26, modRole)
	timedOutMod.TimedOutUntil = now + 1
	if CanManageRole(g, timedOutMod, roles[quietRole], now) {
		t.Error("timed-out mod manages roles")
	}

	for _, tc := range []struct {
		name          string
		actor, target *Member
		need          Bits
		want          bool
	}{
		{"mod kicks plain", mod, plain, KickMembers, true},
		{"mod bans tied helper", mod, helper, BanMembers, true},
		{"plain cannot kick", plain, quiet, KickMembers, false},
		{"helper renames quiet", helper, quiet, ManageNicknames, true},
		{"helper cannot rename mod", helper, mod, ManageNicknames, false},
		{"mod cannot kick admin", mod, admin, KickMembers, false},
		{"admin kicks mod", admin, mod, KickMembers, true},
		{"owner kicks admin", owner, admin, KickMembers, true},
		{"owner cannot time out admin", owner, admin, ModerateMembers, false},
		{"mod times out plain", mod, plain, ModerateMembers, true},
		{"nobody acts on owner", admin, owner, KickMembers, false},
		{"timed-out mod cannot kick", timedOutMod, plain, KickMembers, false},
	} {
		if got := CanModerate(g, tc.actor, tc.target, tc.need, now); got != tc.want {
			t.Errorf("CanModerate %s = %v", tc.name, got)
		}
	}
}

func TestCanGrant(t *testing.T) {
	for _, tc := range []struct {
		actor, grant Bits
		want         bool
	}{
		{All, All, true},
		{Administrator, BanMembers, true},
		{ManageRoles | KickMembers, KickMembers, true},
		{ManageRoles | KickMembers, KickMembers | BanMembers, false},
		{ManageRoles, Administrator, false},
		{ManageRoles, None, true},
	} {
		if got := CanGrant(tc.actor, tc.grant); got != tc.want {
			t.Errorf("CanGrant(%d, %d) = %v", tc.actor, tc.grant, got)
		}
	}
}

func TestAuthority(t *testing.T) {
	g := testGuild()
	// A low admin role: ADMINISTRATOR outweighs position.
	g.Roles[700] = Role{ID: 700, Position: 1, Permissions: Administrator}
	descending := []*Member{
		member(ownerID),
		member(20, adminRole),
		member(21, 700),
		member(22, modRole, quietRole),
		member(24, quietRole),
		member(25),
	}
	for i := 1; i < len(descending); i++ {
		hi, lo := Authority(g, descending[i-1]), Authority(g, descending[i])
		if hi <= lo {
			t.Errorf("Authority(%d) = %#x not above Authority(%d) = %#x",
				descending[i-1].UserID, hi, descending[i].UserID, lo)
		}
	}
	if a, b := Authority(g, member(30)), Authority(g, member(31, goneRole)); a != b {
		t.Errorf("equal members differ: %#x %#x", a, b)
	}
	// A position tie is a tie: state resolution breaks it by event ID.
	if a, b := Authority(g, member(22, modRole)), Authority(g, member(23, helpRole)); a != b {
		t.Errorf("roles of one position rank differently: %#x %#x", a, b)
	}
	// Creating roles below one's own does not raise one's authority.
	before := Authority(g, member(22, modRole))
	for i := range 5 {
		g.Roles[snowflake.ID(900+i)] = Role{ID: snowflake.ID(900 + i), Position: 1}
	}
	if after := Authority(g, member(22, modRole)); after != before {
		t.Errorf("authority moved from %#x to %#x with roles added below", before, after)
	}
}
