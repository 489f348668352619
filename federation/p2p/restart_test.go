package p2p_test

import (
	"fmt"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
)

// TestRestartAndCreatorGone: a node stopped mid-conversation catches up on
// everything it missed when it starts again; then the guild's creator
// leaves for good, and the others go on, admitting a new node by the
// creator's invite.
func TestRestartAndCreatorGone(t *testing.T) {
	a, b, c, g, ub, uc := line(t, storage.SQLite)

	c.stop()
	var missed []string
	for i := range 30 {
		missed = append(missed, message(t, a, g, g.owner, fmt.Sprintf("while c was down %d", i)))
		missed = append(missed, message(t, b, g, ub, fmt.Sprintf("b while c was down %d", i)))
	}
	c = startMember(t, "c", c.key, c.db, c.worker)
	connect(t, c, b)
	waitFor(t, "c to catch up", func() bool { return c.holds(g.id, missed...) })
	converged(t, g.id, a, b, c)

	a.stop()
	late := message(t, c, g, uc, "a is gone")
	waitFor(t, "b to hear c without a", func() bool { return b.holds(g.id, late) })
	d := newMember(t, storage.SQLite, "d", 4)
	connect(t, d, c)
	ud := join(t, d, g)
	waitFor(t, "b and c to admit d's user", func() bool { return b.isMember(g.id, ud) && c.isMember(g.id, ud) })
	converged(t, g.id, b, c, d)
}

// TestPartitionConflicts: during a partition the owner renames a role and
// bans one of c's users while b's admin renames the same role and c's user
// keeps writing; after healing every node holds every event and the same
// state: one name won, the ban holds, and c's messages are kept (hidden
// where the ban did not see them). c keeps a second user: a node none of
// whose users is a member any more is no longer served the room.
func TestPartitionConflicts(t *testing.T) {
	for _, driver := range drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, b, c, g, ub, uc := line(t, driver)
			stays := c.core.NewID()
			c.send(t, g.id, stays, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: g.invite})
			waitFor(t, "a to admit c's users", func() bool { return a.isMember(g.id, uc) && a.isMember(g.id, stays) })
			admins, members := a.core.NewID(), a.core.NewID()
			all, two, name := perm.Administrator, 2, "members"
			a.send(t, g.id, g.owner, guild.TypeRoleCreate, guild.RoleChange{ID: admins, RoleFields: guild.RoleFields{Permissions: &all, Position: &two}})
			a.send(t, g.id, g.owner, guild.TypeRoleCreate, guild.RoleChange{ID: members, RoleFields: guild.RoleFields{Name: &name}})
			granted := a.send(t, g.id, g.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: ub, RolesAdd: []snowflake.ID{admins}})
			waitFor(t, "b to hold its admin role", func() bool { return b.holds(g.id, granted) && c.holds(g.id, granted) })

			cut(a, b, c)
			var written []string
			fromA, fromB := "renamed by a", "renamed by b"
			written = append(written,
				a.send(t, g.id, g.owner, guild.TypeRoleUpdate, guild.RoleChange{ID: members, RoleFields: guild.RoleFields{Name: &fromA}}),
				a.send(t, g.id, g.owner, guild.TypeMemberBan, guild.MemberBan{UserID: uc}),
				b.send(t, g.id, ub, guild.TypeRoleUpdate, guild.RoleChange{ID: members, RoleFields: guild.RoleFields{Name: &fromB}}))
			for i := range 10 {
				written = append(written, message(t, c, g, uc, fmt.Sprintf("c during the partition %d", i)),
					message(t, a, g, g.owner, fmt.Sprintf("a during the partition %d", i)))
			}
			heal(t, a, b, c)
			converged(t, g.id, a, b, c)
			holdAll(t, g.id, written, a, b, c)
			for _, m := range []*member{a, b, c} {
				if m.isMember(g.id, uc) {
					t.Errorf("%s: c's user is still a member after the ban", m.name)
				}
			}
		})
	}
}
