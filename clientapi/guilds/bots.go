package guilds

import (
	"context"
	"database/sql"
	"errors"

	"concord/clientapi/httperr"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// AddBot implements BotAdder on the event core: the authorizing user sends
// member.add for the bot, which the rules allow with MANAGE_GUILD, and, when
// permissions asks for any, a role named after the bot holding them, as
// Discord's managed role does. Adding a bot already there succeeds. Every
// check is made before the first event, so a refusal changes nothing.
func (a *API) AddBot(ctx context.Context, guildID, botUserID, actorUserID snowflake.ID, permissions uint64) error {
	bits := perm.Bits(permissions)
	if bits&^perm.All != 0 {
		return httperr.Field("permissions", "PERMISSIONS_INVALID", "Contains undefined permission bits.")
	}
	roleID := a.core.NewID()
	already := false
	err := a.inGuild(ctx, guildID, actorUserID, func(s *guild.State, me *guild.Member) error {
		already = s.Members[botUserID] != nil
		if already {
			return nil
		}
		if err := a.needGuild(s, actorUserID, perm.ManageGuild); err != nil {
			return err
		}
		if bits == 0 {
			return nil
		}
		// The role goes at the bottom; the actor must be able to make it.
		have := s.Permissions(actorUserID, 0, a.nowMs())
		role := perm.Role{ID: roleID, Position: 1, Permissions: bits}
		if !perm.CanGrant(have, bits) || !perm.CanManageRole(s.Perm(), &me.Member, role, a.nowMs()) {
			return httperr.MissingPermissions
		}
		return nil
	})
	if err != nil || already {
		return err
	}
	if err := a.send(ctx, guildID, actorUserID, guild.TypeMemberAdd, guild.MemberAdd{UserID: botUserID, Bot: true}); err != nil {
		return err
	}
	if bits == 0 {
		return nil
	}
	var name string
	err = a.db.Reader().QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, int64(botUserID)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return httperr.UnknownUser
	}
	if err != nil {
		return err
	}
	if err := a.send(ctx, guildID, actorUserID, guild.TypeRoleCreate,
		guild.RoleChange{ID: roleID, RoleFields: guild.RoleFields{Name: &name, Permissions: &bits}}); err != nil {
		return err
	}
	return a.send(ctx, guildID, actorUserID, guild.TypeMemberUpdate,
		guild.MemberUpdate{UserID: botUserID, RolesAdd: []snowflake.ID{roleID}})
}
