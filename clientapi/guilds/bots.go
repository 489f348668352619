package guilds

import (
	"context"
	"database/sql"
	"errors"

	"concord/clientapi/httperr"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// AddBot implements accounts.BotAdder on the event core: the authorizing
// user adds the bot (member.add, which the rules allow with MANAGE_GUILD)
// and, when permissions asks for any, a role named after the bot holding
// them, as Discord's managed role does, in one atomic submission. Adding a
// bot already there succeeds.
func (a *API) AddBot(ctx context.Context, guildID, botUserID, actorUserID snowflake.ID, permissions uint64) error {
	bits := perm.Bits(permissions)
	if bits&^perm.All != 0 {
		return httperr.Field("permissions", "PERMISSIONS_INVALID", "Contains undefined permission bits.")
	}
	group := []room.Local{{Type: guild.TypeMemberAdd, Content: guild.MemberAdd{UserID: botUserID, Bot: true}}}
	if bits != 0 {
		var name string
		err := a.db.Reader().QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, int64(botUserID)).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return httperr.UnknownUser
		}
		if err != nil {
			return err
		}
		// The role goes at the bottom; the rules check the actor may make it.
		roleID := a.core.NewID()
		group = append(group,
			room.Local{Type: guild.TypeRoleCreate, Content: guild.RoleChange{ID: roleID, RoleFields: guild.RoleFields{Name: &name, Permissions: &bits}}},
			room.Local{Type: guild.TypeMemberUpdate, Content: guild.MemberUpdate{UserID: botUserID, RolesAdd: []snowflake.ID{roleID}}})
	}
	_, err := a.core.SendAll(ctx, guildID, actorUserID, group)
	if refused(err, guild.ReasonAlreadyApplied) {
		return nil
	}
	return eventError(guild.TypeMemberAdd, err)
}
