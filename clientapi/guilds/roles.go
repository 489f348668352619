package guilds

import (
	"database/sql"
	"errors"
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// roleBody is the body of role create and modify.
type roleBody struct {
	Name         *string                 `json:"name"`
	Permissions  *perm.Bits              `json:"permissions"`
	Color        *int                    `json:"color"`
	Hoist        *bool                   `json:"hoist"`
	Mentionable  *bool                   `json:"mentionable"`
	UnicodeEmoji *string                 `json:"unicode_emoji"`
	Icon         jsonio.Optional[string] `json:"icon"` // a data URI; null clears it
}

// roleFields checks a role body and stores its icon.
func (a *API) roleFields(r *http.Request, b *roleBody) (guild.RoleFields, error) {
	f, err := b.fields()
	if err == nil {
		f.Icon, err = a.storeImage(r, "icon", b.Icon)
	}
	return f, err
}

func (b *roleBody) fields() (guild.RoleFields, error) {
	var form httperr.Form
	if b.Name != nil {
		if n := len([]rune(*b.Name)); n < 1 || n > guild.MaxNameRunes {
			form.Add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
	}
	if b.Color != nil && (*b.Color < 0 || *b.Color > 0xffffff) {
		form.Add("color", "NUMBER_TYPE_MAX", "Must be between 0 and 16777215.")
	}
	if b.Permissions != nil && *b.Permissions&^perm.All != 0 {
		form.Add("permissions", "NUMBER_TYPE_MAX", "Holds undefined permission bits.")
	}
	return guild.RoleFields{Name: b.Name, Permissions: b.Permissions, Color: b.Color, Hoist: b.Hoist,
		Mentionable: b.Mentionable, UnicodeEmoji: b.UnicodeEmoji}, form.Err()
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) error {
	id, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var out []objects.Role
	err = a.inGuild(r.Context(), id, auth.From(r).UserID, func(s *guild.State, _ *guild.Member) error {
		out = objects.RenderRoles(s)
		return nil
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// getRole is GET /guilds/{id}/roles/{role_id}.
func (a *API) getRole(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	id, err := params.ID(r, "role_id", httperr.UnknownRole)
	if err != nil {
		return err
	}
	return a.writeRole(w, r, gid, id)
}

func (a *API) writeRole(w http.ResponseWriter, r *http.Request, gid, id snowflake.ID) error {
	var out objects.Role
	err := a.inGuild(r.Context(), gid, auth.From(r).UserID, func(s *guild.State, _ *guild.Member) error {
		role := s.Roles[id]
		if role == nil {
			return httperr.UnknownRole
		}
		out = objects.RenderRole(s, role)
		return nil
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var body roleBody
	if err := jsonio.DecodeOptional(r, images.MaxBody, &body); err != nil {
		return err
	}
	f, err := a.roleFields(r, &body)
	if err != nil {
		return err
	}
	if f.Permissions == nil {
		// Discord gives a new role @everyone's default permissions.
		p := perm.DefaultEveryone
		f.Permissions = &p
	}
	id := a.core.NewID()
	if err := a.send(r.Context(), gid, c.UserID, guild.TypeRoleCreate, guild.RoleChange{ID: id, RoleFields: f}); err != nil {
		return err
	}
	return a.writeRole(w, r, gid, id)
}

func (a *API) patchRole(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	id, err := params.ID(r, "role_id", httperr.UnknownRole)
	if err != nil {
		return err
	}
	var body roleBody
	if err := jsonio.Decode(r, images.MaxBody, &body); err != nil {
		return err
	}
	f, err := a.roleFields(r, &body)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeRoleUpdate, guild.RoleChange{ID: id, RoleFields: f}); err != nil {
		return err
	}
	return a.writeRole(w, r, gid, id)
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	id, err := params.ID(r, "role_id", httperr.UnknownRole)
	if err != nil {
		return err
	}
	if id == gid {
		return httperr.Field("role_id", "INVALID_ROLE", "@everyone cannot be deleted.")
	}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeRoleDelete, guild.RoleDelete{ID: id}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reorderRoles is PATCH /guilds/{id}/roles [{id, position}]: one
// role.reorder; answers every role.
func (a *API) reorderRoles(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var body []struct {
		ID       snowflake.ID `json:"id"`
		Position *int         `json:"position"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	if len(body) == 0 || len(body) > guild.MaxRoles {
		return httperr.Field(jsonio.BodyField, "BASE_TYPE_BAD_LENGTH", "Must list 1 to 250 roles.")
	}
	var re guild.RoleReorder
	for _, e := range body {
		if e.Position == nil || *e.Position < 1 || *e.Position > maxPosition {
			return httperr.Field("position", "NUMBER_TYPE_MAX", "Must be between 1 and 1048576.")
		}
		re.Positions = append(re.Positions, guild.RolePosition{ID: e.ID, Position: *e.Position})
	}
	if err := a.send(r.Context(), gid, c.UserID, guild.TypeRoleReorder, re); err != nil {
		return err
	}
	return a.listRoles(w, r)
}

// memberRole is PUT and DELETE /guilds/{id}/members/{user}/roles/{role}.
func (a *API) memberRole(add bool) httperr.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		c := auth.From(r)
		gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
		if err != nil {
			return err
		}
		uid, err := params.ID(r, "user_id", httperr.UnknownMember)
		if err != nil {
			return err
		}
		rid, err := params.ID(r, "role_id", httperr.UnknownRole)
		if err != nil {
			return err
		}
		u := guild.MemberUpdate{UserID: uid}
		if add {
			u.RolesAdd = []snowflake.ID{rid}
		} else {
			u.RolesRemove = []snowflake.ID{rid}
		}
		if err := a.send(r.Context(), gid, c.UserID, guild.TypeMemberUpdate, u); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// getRoleIcon serves GET /role-icons/{role_id}/{hash}.{ext}, public like
// Discord's CDN, fetched from another node of the guild the first time
// when this one lacks it.
func (a *API) getRoleIcon(w http.ResponseWriter, r *http.Request) error {
	id, err := params.ID(r, "role_id", httperr.NotFound)
	if err != nil {
		return err
	}
	hash, ok := images.FileParam(r)
	if !ok {
		return httperr.NotFound
	}
	var gid snowflake.ID
	var key string
	err = a.db.Reader().QueryRowContext(r.Context(), `SELECT guild_id, icon FROM roles WHERE id = ? AND icon <> '' ORDER BY guild_id LIMIT 1`,
		int64(id)).Scan(&gid, &key)
	if errors.Is(err, sql.ErrNoRows) || err == nil && objects.IconHash(key) != hash {
		return httperr.NotFound
	}
	if err != nil {
		return err
	}
	return a.serveImage(w, r, gid, key)
}
