package clientapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// auditActions maps our event types to Discord's audit log action types.
// Joins, leaves, guild creation and deletion are not audited by Discord.
// The log does not keep content, so an overwrite is always "create" (13),
// a member change always "update" (24) and a reorder a role update (31).
var auditActions = map[string]int{
	guild.TypeGuildUpdate: 1, guild.TypeGuildTransfer: 1,
	guild.TypeChannelCreate: 10, guild.TypeChannelUpdate: 11, guild.TypeChannelDelete: 12,
	guild.TypeChannelOverwrite: 13, guild.TypeChannelOverwriteDelete: 15,
	guild.TypeMemberKick: 20, guild.TypeMemberBan: 22, guild.TypeMemberUnban: 23,
	guild.TypeMemberUpdate: 24, guild.TypeMemberAdd: 28,
	guild.TypeRoleCreate: 30, guild.TypeRoleUpdate: 31, guild.TypeRoleReorder: 31, guild.TypeRoleDelete: 32,
	guild.TypeInviteCreate: 40, guild.TypeInviteRevoke: 42,
	guild.TypeEmojiCreate: 60, guild.TypeEmojiDelete: 62,
}

type auditEntry struct {
	ID         snowflake.ID `json:"id"`
	UserID     snowflake.ID `json:"user_id"`
	TargetID   *string      `json:"target_id"`
	ActionType int          `json:"action_type"`
	Reason     *string      `json:"reason,omitempty"`
	Changes    []struct{}   `json:"changes"`
	Options    *struct{}    `json:"options"`
}

type auditLog struct {
	Entries              []auditEntry `json:"audit_log_entries"`
	Users                []User       `json:"users"`
	Webhooks             []struct{}   `json:"webhooks"`
	Integrations         []struct{}   `json:"integrations"`
	Threads              []struct{}   `json:"threads"`
	ApplicationCommands  []struct{}   `json:"application_commands"`
	AutoModerationRules  []struct{}   `json:"auto_moderation_rules"`
	GuildScheduledEvents []struct{}   `json:"guild_scheduled_events"`
}

// getAuditLog is GET /guilds/{id}/audit-logs?user_id=&action_type=&limit=
// (VIEW_AUDIT_LOG), newest first. An entry's ID is a snowflake of its time
// whose low 22 bits are the log's sequence number, so IDs sort like entries.
func (a *API) getAuditLog(w http.ResponseWriter, r *http.Request) error {
	c := caller(r)
	gid, err := pathID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 50, 1, 100)
	if err != nil {
		return err
	}
	userID, err := querySnowflake(r, "user_id")
	if err != nil {
		return err
	}
	action, err := queryInt(r, "action_type", 0, 0, 1<<16)
	if err != nil {
		return err
	}
	err = a.inGuild(r.Context(), gid, c.UserID, func(s *guild.State, _ *guild.Member) error {
		return a.needGuild(s, c.UserID, perm.ViewAuditLog)
	})
	if err != nil {
		return err
	}
	var types []any
	for t, n := range auditActions {
		if action == 0 || n == action {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		jsonio.Write(w, http.StatusOK, auditLog{Entries: []auditEntry{}, Users: []User{}})
		return nil
	}
	q := `SELECT seq, user_id, action, target_id, reason, created_at FROM audit_log
		WHERE guild_id = ? AND action IN (?` + strings.Repeat(", ?", len(types)-1) + `)`
	args := append([]any{int64(gid)}, types...)
	if userID != 0 {
		q += ` AND user_id = ?`
		args = append(args, int64(userID))
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), q+` ORDER BY seq DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	out := auditLog{Entries: []auditEntry{}}
	var users []snowflake.ID
	seen := map[snowflake.ID]bool{}
	for rows.Next() {
		var seq, user, at int64
		var typ, target, why string
		if err := rows.Scan(&seq, &user, &typ, &target, &why, &at); err != nil {
			rows.Close()
			return fmt.Errorf("audit log: %w", err)
		}
		id := snowflake.ID(uint64(at-snowflake.Epoch)<<22 | uint64(seq)&(1<<22-1))
		out.Entries = append(out.Entries, auditEntry{ID: id, UserID: snowflake.ID(user), TargetID: nonEmpty(target),
			ActionType: auditActions[typ], Reason: nonEmpty(why), Changes: []struct{}{}})
		if !seen[snowflake.ID(user)] {
			seen[snowflake.ID(user)] = true
			users = append(users, snowflake.ID(user))
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	byID, err := a.loadUsers(r.Context(), users)
	if err != nil {
		return err
	}
	for _, id := range users {
		out.Users = append(out.Users, byID[id])
	}
	if out.Users == nil {
		out.Users = []User{}
	}
	out.Webhooks, out.Integrations, out.Threads = []struct{}{}, []struct{}{}, []struct{}{}
	out.ApplicationCommands, out.AutoModerationRules, out.GuildScheduledEvents = []struct{}{}, []struct{}{}, []struct{}{}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}
