package interactions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/params"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
)

// maxCommandBody bounds one command's JSON; a PUT holds up to 130 of them
// (100 chat, 15 user, 15 message commands).
const (
	maxCommandBody = 64 << 10
	maxCommandList = 130 * maxCommandBody / 8
	dayMs          = 24 * 3600 * 1000
)

func (a *API) listCommands(w http.ResponseWriter, r *http.Request) error {
	s, err := a.appScope(r)
	if err != nil {
		return err
	}
	list, err := loadCommands(r.Context(), a.db.Reader(), s, 0)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, list)
	return nil
}

func (a *API) getCommand(w http.ResponseWriter, r *http.Request) error {
	s, id, err := a.commandPath(r)
	if err != nil {
		return err
	}
	c, err := loadCommand(r.Context(), a.db.Reader(), s, id)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, c)
	return nil
}

func (a *API) commandPath(r *http.Request) (scope, snowflake.ID, error) {
	s, err := a.appScope(r)
	if err != nil {
		return s, 0, err
	}
	id, err := params.ID(r, "command_id", httperr.UnknownCommand)
	return s, id, err
}

// createCommand is POST …/commands: a command with the name (and type) of
// an existing one replaces it, answering 200; a new one answers 201.
func (a *API) createCommand(w http.ResponseWriter, r *http.Request) error {
	s, err := a.appScope(r)
	if err != nil {
		return err
	}
	var c Command
	if err := jsonio.Decode(r, maxCommandBody, &c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	created := false
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		var err error
		created, err = a.upsert(r.Context(), q, s, &c)
		return err
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	jsonio.Write(w, status, c)
	return nil
}

// upsert stores c in scope s: over the command of the same type and name,
// keeping its ID, or as a new one within the scope's limits. It fills in
// c's IDs and version.
func (a *API) upsert(ctx context.Context, q storage.Querier, s scope, c *Command) (created bool, err error) {
	var id int64
	err = q.QueryRowContext(ctx, `SELECT id FROM application_commands
		WHERE application_id = ? AND guild_id = ? AND type = ? AND name = ?`, int64(s.app), int64(s.guild), c.Type, c.Name).Scan(&id)
	switch {
	case err == nil:
		c.ID = snowflake.ID(id)
		return false, a.store(ctx, q, s, c, false)
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("find command: %w", err)
	}
	if err := a.mayCreate(ctx, q, s, c.Type, 1); err != nil {
		return false, err
	}
	c.ID = a.ids.Next()
	return true, a.store(ctx, q, s, c, true)
}

// mayCreate refuses n more commands of typ in s past the scope's limit of
// that type (30032) or the day's creations (30034).
func (a *API) mayCreate(ctx context.Context, q storage.Querier, s scope, typ, n int) error {
	var have int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_commands
		WHERE application_id = ? AND guild_id = ? AND type = ?`, int64(s.app), int64(s.guild), typ).Scan(&have); err != nil {
		return fmt.Errorf("count commands: %w", err)
	}
	if have+n > limitFor(typ) {
		return httperr.MaxCommands
	}
	return a.mayCreateToday(ctx, q, s, n)
}

// store writes c (whose ID is set) in s with a new version; created also
// counts it against the day's creations.
func (a *API) store(ctx context.Context, q storage.Querier, s scope, c *Command, created bool) error {
	c.ApplicationID, c.Version, c.GuildID = s.app, a.ids.Next(), nil
	if s.guild != 0 {
		g := s.guild
		c.GuildID = &g
		c.DMPermission = nil // only global commands have it
	}
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if created {
		if _, err := q.ExecContext(ctx, `INSERT INTO application_command_creations (application_id, guild_id, created_at)
			VALUES (?, ?, ?)`, int64(s.app), int64(s.guild), a.nowMs()); err != nil {
			return fmt.Errorf("count command creation: %w", err)
		}
	}
	_, err = q.ExecContext(ctx, `INSERT INTO application_commands (id, application_id, guild_id, type, name, version, body)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name,
		version = excluded.version, body = excluded.body`,
		int64(c.ID), int64(s.app), int64(s.guild), c.Type, c.Name, int64(c.Version), string(body))
	if err != nil {
		return fmt.Errorf("store command: %w", err)
	}
	return nil
}

// overwriteCommands is PUT …/commands: the list becomes the scope's whole
// set. A command whose type and name are already there keeps its ID; the
// others are deleted or created. Nothing changes unless all is valid.
func (a *API) overwriteCommands(w http.ResponseWriter, r *http.Request) error {
	s, err := a.appScope(r)
	if err != nil {
		return err
	}
	var list []Command
	if err := jsonio.Decode(r, maxCommandList, &list); err != nil {
		return err
	}
	var form httperr.Form
	perType := map[int]int{}
	names := map[[2]string]bool{}
	for i := range list {
		if err := list[i].check(); err != nil {
			var e *httperr.Error
			if errors.As(err, &e) {
				for field, fe := range e.Errors {
					for _, x := range fe.Errors {
						form.Add(fmt.Sprintf("%d.%s", i, field), x.Code, x.Message)
					}
				}
			}
			continue
		}
		key := [2]string{fmt.Sprint(list[i].Type), list[i].Name}
		if names[key] {
			form.Add(fmt.Sprintf("%d.name", i), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		names[key] = true
		perType[list[i].Type]++
	}
	if err := form.Err(); err != nil {
		return err
	}
	for typ, n := range perType {
		if n > limitFor(typ) {
			return httperr.MaxCommands
		}
	}
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		old, err := loadCommands(r.Context(), q, s, 0)
		if err != nil {
			return err
		}
		byKey := map[[2]string]snowflake.ID{}
		for _, c := range old {
			byKey[[2]string{fmt.Sprint(c.Type), c.Name}] = c.ID
		}
		fresh := 0
		for _, c := range list {
			if byKey[[2]string{fmt.Sprint(c.Type), c.Name}] == 0 {
				fresh++
			}
		}
		if err := a.mayCreateToday(r.Context(), q, s, fresh); err != nil {
			return err
		}
		keep := map[snowflake.ID]bool{}
		for i := range list {
			c := &list[i]
			c.ID = byKey[[2]string{fmt.Sprint(c.Type), c.Name}]
			created := c.ID == 0
			if created {
				c.ID = a.ids.Next()
			}
			keep[c.ID] = true
			if err := a.store(r.Context(), q, s, c, created); err != nil {
				return err
			}
		}
		for _, c := range old {
			if !keep[c.ID] {
				if err := deleteCommand(r.Context(), q, s, c.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if list == nil {
		list = []Command{}
	}
	jsonio.Write(w, http.StatusOK, list)
	return nil
}

// mayCreateToday refuses n creations past the day's limit.
func (a *API) mayCreateToday(ctx context.Context, q storage.Querier, s scope, n int) error {
	var today int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_command_creations
		WHERE application_id = ? AND guild_id = ? AND created_at > ?`, int64(s.app), int64(s.guild), a.nowMs()-dayMs).Scan(&today); err != nil {
		return fmt.Errorf("count command creations: %w", err)
	}
	if n > 0 && today+n > maxDailyCreates {
		return httperr.MaxDailyCommands
	}
	return nil
}

// patchBody is PATCH …/commands/{id}: every field optional.
type patchBody struct {
	Name                     *string                            `json:"name"`
	NameLocalizations        jsonio.Optional[map[string]string] `json:"name_localizations"`
	Description              *string                            `json:"description"`
	DescriptionLocalizations jsonio.Optional[map[string]string] `json:"description_localizations"`
	Options                  jsonio.Optional[[]Option]          `json:"options"`
	DefaultMemberPermissions jsonio.Optional[perm.Bits]         `json:"default_member_permissions"`
	DMPermission             *bool                              `json:"dm_permission"`
	NSFW                     *bool                              `json:"nsfw"`
	Contexts                 jsonio.Optional[[]int]             `json:"contexts"`
	IntegrationTypes         jsonio.Optional[[]int]             `json:"integration_types"`
}

func (a *API) patchCommand(w http.ResponseWriter, r *http.Request) error {
	s, id, err := a.commandPath(r)
	if err != nil {
		return err
	}
	var body patchBody
	if err := jsonio.Decode(r, maxCommandBody, &body); err != nil {
		return err
	}
	var c Command
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		var err error
		if c, err = loadCommand(r.Context(), q, s, id); err != nil {
			return err
		}
		body.apply(&c)
		if err := c.check(); err != nil {
			return err
		}
		var other int64
		err = q.QueryRowContext(r.Context(), `SELECT id FROM application_commands WHERE application_id = ? AND guild_id = ?
			AND type = ? AND name = ? AND id <> ?`, int64(s.app), int64(s.guild), c.Type, c.Name, int64(id)).Scan(&other)
		if err == nil {
			return httperr.Field("name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find command: %w", err)
		}
		return a.store(r.Context(), q, s, &c, false)
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, c)
	return nil
}

// apply merges a PATCH into c; null clears what may be cleared.
func (b *patchBody) apply(c *Command) {
	if b.Name != nil {
		c.Name = *b.Name
	}
	if b.NameLocalizations.Set {
		c.NameLocalizations = b.NameLocalizations.V
	}
	if b.Description != nil {
		c.Description = *b.Description
	}
	if b.DescriptionLocalizations.Set {
		c.DescriptionLocalizations = b.DescriptionLocalizations.V
	}
	if b.Options.Set {
		c.Options = b.Options.V
	}
	if b.DefaultMemberPermissions.Set {
		c.DefaultMemberPermissions = nil
		if !b.DefaultMemberPermissions.Null {
			c.DefaultMemberPermissions = &b.DefaultMemberPermissions.V
		}
	}
	if b.DMPermission != nil {
		c.DMPermission = b.DMPermission
	}
	if b.NSFW != nil {
		c.NSFW = *b.NSFW
	}
	if b.Contexts.Set {
		c.Contexts = b.Contexts.V
	}
	if b.IntegrationTypes.Set {
		c.IntegrationTypes = b.IntegrationTypes.V
	}
}

func (a *API) deleteCommand(w http.ResponseWriter, r *http.Request) error {
	s, id, err := a.commandPath(r)
	if err != nil {
		return err
	}
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		if _, err := loadCommand(r.Context(), q, s, id); err != nil {
			return err
		}
		return deleteCommand(r.Context(), q, s, id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func deleteCommand(ctx context.Context, q storage.Querier, s scope, id snowflake.ID) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM application_commands WHERE id = ? AND application_id = ?`, int64(id), int64(s.app)); err != nil {
		return fmt.Errorf("delete command: %w", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM application_command_permissions WHERE application_id = ? AND command_id = ?`,
		int64(s.app), int64(id)); err != nil {
		return fmt.Errorf("delete command permissions: %w", err)
	}
	return nil
}

// loadCommands lists the commands of scope s in ID order; only, when not
// zero, keeps just that one.
func loadCommands(ctx context.Context, q storage.Querier, s scope, only snowflake.ID) ([]Command, error) {
	query := `SELECT body FROM application_commands WHERE application_id = ? AND guild_id = ?`
	args := []any{int64(s.app), int64(s.guild)}
	if only != 0 {
		query += ` AND id = ?`
		args = append(args, int64(only))
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list commands: %w", err)
	}
	defer rows.Close()
	out := []Command{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("list commands: %w", err)
		}
		var c Command
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			return nil, fmt.Errorf("stored command: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// loadCommand reads one command of scope s; Unknown application command
// when it has none with that ID.
func loadCommand(ctx context.Context, q storage.Querier, s scope, id snowflake.ID) (Command, error) {
	list, err := loadCommands(ctx, q, s, id)
	if err != nil {
		return Command{}, err
	}
	if len(list) == 0 {
		return Command{}, httperr.UnknownCommand
	}
	return list[0], nil
}
