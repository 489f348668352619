package guild

import (
	"concord/federation/perm"
)

func roleRules() map[string]rule {
	return map[string]rule{
		TypeRoleCreate:  typed(checkRoleCreate, applyRoleChange),
		TypeRoleUpdate:  typed(checkRoleUpdate, applyRoleChange),
		TypeRoleDelete:  typed(checkRoleDelete, applyRoleDelete),
		TypeRoleReorder: typed(checkRoleReorder, applyRoleReorder),
	}
}

func guildOnly(s *State, op *Op) error {
	if s.Kind != KindGuild {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "only guilds have this")
	}
	return nil
}

// checkRoleContent checks the values a role edit sets.
func checkRoleContent(f *RoleFields) error {
	if f.Name != nil {
		if err := checkName("name", *f.Name, 1, MaxNameRunes); err != nil {
			return err
		}
	}
	if f.Color != nil && (*f.Color < 0 || *f.Color > 0xffffff) {
		return invalid(ReasonBadContent, "color", "color must be 0 to 0xffffff")
	}
	if f.Position != nil && *f.Position < 1 {
		return invalid(ReasonBadContent, "position", "position must be at least 1")
	}
	if f.Permissions != nil && *f.Permissions&^perm.All != 0 {
		return invalid(ReasonBadContent, "permissions", "permissions has undefined bits")
	}
	return nil
}

// checkRoleGrant checks that a role edit grants only what the actor holds.
func checkRoleGrant(s *State, op *Op, f *RoleFields) error {
	if f.Permissions == nil {
		return nil
	}
	if have := s.Permissions(op.Sender, 0, op.TS); !perm.CanGrant(have, *f.Permissions) {
		return reject(ReasonMissingPerm, CodeMissingPermissions, "%s may not grant %s", op.Sender, (*f.Permissions &^ have).String())
	}
	return nil
}

func canManage(s *State, op *Op, r perm.Role) error {
	if !perm.CanManageRole(&s.perm, &s.Members[op.Sender].Member, r, op.TS) {
		return reject(ReasonHierarchy, CodeMissingPermissions, "%s may not manage role %s", op.Sender, r.ID)
	}
	return nil
}

func checkRoleCreate(s *State, op *Op, c *RoleChange) error {
	if err := guildOnly(s, op); err != nil {
		return err
	}
	if c.ID == 0 || s.Roles[c.ID] != nil || c.ID == s.ID {
		return invalid(ReasonIDInUse, "id", "role %s", c.ID)
	}
	if len(s.Roles) >= MaxRoles {
		return reject(ReasonLimit, CodeMaxRoles, "a guild has at most %d roles", MaxRoles)
	}
	if err := checkRoleContent(&c.RoleFields); err != nil {
		return err
	}
	if err := checkRoleGrant(s, op, &c.RoleFields); err != nil {
		return err
	}
	return canManage(s, op, newRole(c).Role)
}

func newRole(c *RoleChange) *Role {
	r := &Role{Role: perm.Role{ID: c.ID, Position: 1}, Name: "new role"}
	fillRole(r, &c.RoleFields)
	return r
}

func fillRole(r *Role, f *RoleFields) {
	set(&r.Name, f.Name)
	set(&r.Color, f.Color)
	set(&r.Hoist, f.Hoist)
	set(&r.Mentionable, f.Mentionable)
	set(&r.Permissions, f.Permissions)
	set(&r.Position, f.Position)
	set(&r.Icon, f.Icon)
	set(&r.UnicodeEmoji, f.UnicodeEmoji)
}

// checkRoleUpdate asks whether the sender may manage the role right after
// it exists, before what the edit sets, as the client API does.
func checkRoleUpdate(s *State, op *Op, c *RoleChange) error {
	if err := guildOnly(s, op); err != nil {
		return err
	}
	old := s.Roles[c.ID]
	if old == nil {
		return reject(ReasonUnknownTarget, CodeUnknownRole, "role %s", c.ID)
	}
	if err := canManage(s, op, old.Role); err != nil {
		return err
	}
	if c.ID == s.ID && (c.Position != nil || c.Name != nil) {
		field := "name"
		if c.Name == nil {
			field = "position"
		}
		return invalid(ReasonBadContent, field, "@everyone keeps its name and position")
	}
	if err := checkRoleContent(&c.RoleFields); err != nil {
		return err
	}
	if err := checkRoleGrant(s, op, &c.RoleFields); err != nil {
		return err
	}
	if c.Position != nil {
		moved := old.Role
		moved.Position = *c.Position
		return canManage(s, op, moved)
	}
	return nil
}

func applyRoleChange(s *State, op *Op, c *RoleChange, ch *Changes) {
	r, ok := s.Roles[c.ID]
	if !ok {
		r = newRole(c)
	} else {
		fillRole(r, &c.RoleFields)
	}
	s.setRole(r)
	ch.add("role", c.ID)
}

func checkRoleDelete(s *State, op *Op, c *RoleDelete) error {
	if err := guildOnly(s, op); err != nil {
		return err
	}
	if c.ID == s.ID {
		// The client API names the route's role_id, as Discord does.
		return invalid(ReasonUnknownTarget, "role_id", "@everyone cannot be deleted")
	}
	r := s.Roles[c.ID]
	if r == nil {
		return reject(ReasonUnknownTarget, CodeUnknownRole, "role %s", c.ID)
	}
	return canManage(s, op, r.Role)
}

func applyRoleDelete(s *State, op *Op, c *RoleDelete, ch *Changes) {
	for id, m := range s.Members {
		if containsID(m.Roles, c.ID) {
			ch.add("member", id)
		}
	}
	for id, channel := range s.Channels {
		for _, o := range channel.Overwrites {
			if o.ID == c.ID && o.Type == perm.OverwriteRole {
				ch.add("channel", id)
			}
		}
	}
	s.deleteRole(c.ID)
	ch.add("role", c.ID)
}

// checkRoleReorder looks at every entry before asking whether the sender
// may move any, so that an unknown role is reported as such.
func checkRoleReorder(s *State, op *Op, c *RoleReorder) error {
	if err := guildOnly(s, op); err != nil {
		return err
	}
	if len(c.Positions) == 0 || len(c.Positions) > MaxRoles {
		return invalid(ReasonBadContent, "", "positions must list 1 to %d roles", MaxRoles)
	}
	seen := map[ID]bool{}
	for _, p := range c.Positions {
		if s.Roles[p.ID] == nil || p.ID == s.ID || seen[p.ID] {
			return reject(ReasonUnknownTarget, CodeUnknownRole, "role %s", p.ID)
		}
		seen[p.ID] = true
		if p.Position < 1 {
			return invalid(ReasonBadContent, "position", "position must be at least 1")
		}
	}
	for _, p := range c.Positions {
		r := s.Roles[p.ID]
		moved := r.Role
		moved.Position = p.Position
		if err := canManage(s, op, r.Role); err != nil {
			return err
		}
		if err := canManage(s, op, moved); err != nil {
			return err
		}
	}
	return nil
}

func applyRoleReorder(s *State, op *Op, c *RoleReorder, ch *Changes) {
	for _, p := range c.Positions {
		r := s.Roles[p.ID]
		r.Position = p.Position
		s.setRole(r)
		ch.add("role", p.ID)
	}
}

func containsID(list []ID, id ID) bool {
	for _, v := range list {
		if v == id {
			return true
		}
	}
	return false
}
