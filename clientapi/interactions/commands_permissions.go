package interactions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
)

// Permission target types, Discord's numbering.
const (
	targetRole    = 1
	targetUser    = 2
	targetChannel = 3
)

// maxPermissionEntries is Discord's bound on one command's overrides.
const maxPermissionEntries = 100

// CommandPermissions is a guild's overrides of who may use a command, or
// (ID = the application's) all of an application's commands.
type CommandPermissions struct {
	ID            snowflake.ID        `json:"id"`
	ApplicationID snowflake.ID        `json:"application_id"`
	GuildID       snowflake.ID        `json:"guild_id"`
	Permissions   []CommandPermission `json:"permissions"`
}

// CommandPermission allows or denies a role (the guild's ID: @everyone), a
// user, or a channel (the guild's ID minus one: every channel).
type CommandPermission struct {
	ID         snowflake.ID `json:"id"`
	Type       int          `json:"type"`
	Permission bool         `json:"permission"`
}

func (a *API) listPermissions(w http.ResponseWriter, r *http.Request) error {
	s, err := a.appScope(r)
	if err != nil {
		return err
	}
	out, err := loadPermissions(r.Context(), a.db.Reader(), s.app, s.guild, 0)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

func (a *API) getPermissions(w http.ResponseWriter, r *http.Request) error {
	s, id, err := a.commandPath(r)
	if err != nil {
		return err
	}
	out, err := loadPermissions(r.Context(), a.db.Reader(), s.app, s.guild, id)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return httperr.UnknownCommandPerm
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// putPermissions sets a command's overrides in a guild. As on Discord it
// is for people who manage the guild (MANAGE_GUILD and MANAGE_ROLES), not
// for bots.
func (a *API) putPermissions(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	app, err := params.ID(r, "id", httperr.UnknownApplication)
	if err != nil {
		return err
	}
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	cmd, err := params.ID(r, "command_id", httperr.UnknownCommand)
	if err != nil {
		return err
	}
	var body struct {
		Permissions []CommandPermission `json:"permissions"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	if len(body.Permissions) > maxPermissionEntries {
		return httperr.Field("permissions", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
	err = a.core.View(r.Context(), gid, func(s *guild.State) error {
		if s.Deleted || s.Kind != guild.KindGuild || s.Members[c.UserID] == nil {
			return httperr.UnknownGuild
		}
		if !s.Permissions(c.UserID, 0, a.nowMs()).Has(perm.ManageGuild | perm.ManageRoles) {
			return httperr.MissingPermissions
		}
		for i, p := range body.Permissions {
			if p.Type < targetRole || p.Type > targetChannel {
				return httperr.Field(fmt.Sprintf("permissions.%d.type", i), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	list, err := json.Marshal(body.Permissions)
	if err != nil {
		return err
	}
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		if cmd != app {
			var one int
			err := q.QueryRowContext(r.Context(), `SELECT 1 FROM application_commands WHERE id = ? AND application_id = ?
				AND guild_id IN (0, ?)`, int64(cmd), int64(app), int64(gid)).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return httperr.UnknownCommand
			}
			if err != nil {
				return fmt.Errorf("find command: %w", err)
			}
		}
		_, err := q.ExecContext(r.Context(), `INSERT INTO application_command_permissions (application_id, guild_id, command_id, permissions)
			VALUES (?, ?, ?, ?) ON CONFLICT (application_id, guild_id, command_id) DO UPDATE SET permissions = excluded.permissions`,
			int64(app), int64(gid), int64(cmd), string(list))
		return err
	})
	if err != nil {
		return err
	}
	out := CommandPermissions{ID: cmd, ApplicationID: app, GuildID: gid, Permissions: body.Permissions}
	if out.Permissions == nil {
		out.Permissions = []CommandPermission{}
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// loadPermissions reads an application's overrides in a guild, of one
// command when cmd is not zero.
func loadPermissions(ctx context.Context, q storage.Querier, app, gid, cmd snowflake.ID) ([]CommandPermissions, error) {
	query := `SELECT command_id, permissions FROM application_command_permissions WHERE application_id = ? AND guild_id = ?`
	args := []any{int64(app), int64(gid)}
	if cmd != 0 {
		query += ` AND command_id = ?`
		args = append(args, int64(cmd))
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY command_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list command permissions: %w", err)
	}
	defer rows.Close()
	out := []CommandPermissions{}
	for rows.Next() {
		var id int64
		var list string
		if err := rows.Scan(&id, &list); err != nil {
			return nil, fmt.Errorf("list command permissions: %w", err)
		}
		p := CommandPermissions{ID: snowflake.ID(id), ApplicationID: app, GuildID: gid}
		if err := json.Unmarshal([]byte(list), &p.Permissions); err != nil {
			return nil, fmt.Errorf("stored command permissions: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
