package guilds

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	fedevent "concord/federation/event"
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
	guild.TypeWebhookCreate: 50, guild.TypeWebhookUpdate: 51, guild.TypeWebhookDelete: 52,
	guild.TypeEmojiCreate: 60, guild.TypeEmojiDelete: 62,
}

type auditEntry struct {
	ID         snowflake.ID  `json:"id"`
	UserID     snowflake.ID  `json:"user_id"`
	TargetID   *string       `json:"target_id"`
	ActionType int           `json:"action_type"`
	Reason     *string       `json:"reason,omitempty"`
	Changes    []auditChange `json:"changes"`
	Options    *struct{}     `json:"options"`
}

// auditChange is one field an audited event set. The log keeps the event,
// not the value before it, so only new_value is given.
type auditChange struct {
	Key      string          `json:"key"`
	NewValue json.RawMessage `json:"new_value"`
}

type auditLog struct {
	Entries              []auditEntry   `json:"audit_log_entries"`
	Users                []objects.User `json:"users"`
	Webhooks             []struct{}     `json:"webhooks"`
	Integrations         []struct{}     `json:"integrations"`
	Threads              []struct{}     `json:"threads"`
	ApplicationCommands  []struct{}     `json:"application_commands"`
	AutoModerationRules  []struct{}     `json:"auto_moderation_rules"`
	GuildScheduledEvents []struct{}     `json:"guild_scheduled_events"`
}

// getAuditLog is GET /guilds/{id}/audit-logs?user_id=&action_type=&before=
// &after=&limit= (VIEW_AUDIT_LOG), newest first. An entry's ID is a
// snowflake of its time whose low 22 bits are the log's sequence number, so
// IDs sort like entries and page with before and after.
func (a *API) getAuditLog(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	limit, err := params.Int(r, "limit", 50, 1, 100)
	if err != nil {
		return err
	}
	userID, err := params.Snowflake(r, "user_id")
	if err != nil {
		return err
	}
	action, err := params.Int(r, "action_type", 0, 0, 1<<16)
	if err != nil {
		return err
	}
	before, err := params.Snowflake(r, "before")
	if err != nil {
		return err
	}
	after, err := params.Snowflake(r, "after")
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
		jsonio.Write(w, http.StatusOK, auditLog{Entries: []auditEntry{}, Users: []objects.User{}})
		return nil
	}
	q := `SELECT seq, event_id, user_id, action, target_id, reason, created_at FROM audit_log
		WHERE guild_id = ? AND action IN (?` + strings.Repeat(", ?", len(types)-1) + `)`
	args := append([]any{int64(gid)}, types...)
	if userID != 0 {
		q += ` AND user_id = ?`
		args = append(args, int64(userID))
	}
	// An entry ID is (time, sequence mod 2^22); compare in that order.
	for _, bound := range []struct {
		id snowflake.ID
		op string
	}{{before, "<"}, {after, ">"}} {
		if bound.id != 0 {
			ts, low := int64(bound.id>>22)+snowflake.Epoch, int64(bound.id&(1<<22-1))
			q += ` AND (created_at ` + bound.op + ` ? OR (created_at = ? AND seq % 4194304 ` + bound.op + ` ?))`
			args = append(args, ts, ts, low)
		}
	}
	order := ` ORDER BY created_at DESC, seq DESC`
	if after != 0 && before == 0 {
		order = ` ORDER BY created_at, seq` // the entries just after, then newest first
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), q+order+` LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	out := auditLog{Entries: []auditEntry{}}
	var users []snowflake.ID
	var events []string
	seen := map[snowflake.ID]bool{}
	for rows.Next() {
		var seq, user, at int64
		var eventID, typ, target, why string
		if err := rows.Scan(&seq, &eventID, &user, &typ, &target, &why, &at); err != nil {
			rows.Close()
			return fmt.Errorf("audit log: %w", err)
		}
		id := snowflake.ID(uint64(at-snowflake.Epoch)<<22 | uint64(seq)&(1<<22-1))
		out.Entries = append(out.Entries, auditEntry{ID: id, UserID: snowflake.ID(user), TargetID: objects.NonEmpty(target),
			ActionType: auditActions[typ], Reason: objects.NonEmpty(why), Changes: []auditChange{}})
		events = append(events, eventID)
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
	if after != 0 && before == 0 {
		slices.Reverse(out.Entries)
		slices.Reverse(events)
	}
	changes, err := a.auditChanges(r, gid, events)
	if err != nil {
		return err
	}
	for i, id := range events {
		if c := changes[id]; c != nil {
			out.Entries[i].Changes = c
		}
	}
	byID, err := a.objects.Users(r.Context(), users)
	if err != nil {
		return err
	}
	for _, id := range users {
		out.Users = append(out.Users, byID[id])
	}
	if out.Users == nil {
		out.Users = []objects.User{}
	}
	out.Webhooks, out.Integrations, out.Threads = []struct{}{}, []struct{}{}, []struct{}{}
	out.ApplicationCommands, out.AutoModerationRules, out.GuildScheduledEvents = []struct{}{}, []struct{}{}, []struct{}{}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// auditChanges reads the fields each audited event set from its content;
// identifiers and the reason are shown elsewhere in the entry.
func (a *API) auditChanges(r *http.Request, gid snowflake.ID, events []string) (map[string][]auditChange, error) {
	out := map[string][]auditChange{}
	if len(events) == 0 {
		return out, nil
	}
	args := []any{int64(gid)}
	for _, id := range events {
		args = append(args, id)
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT event_id, body FROM events WHERE guild_id = ? AND event_id IN (?`+
		strings.Repeat(", ?", len(events)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		ev, err := fedevent.Parse(body)
		if err != nil {
			continue // a stored event always parses; nothing to show otherwise
		}
		var content map[string]json.RawMessage
		if json.Unmarshal(ev.Content, &content) != nil {
			continue
		}
		keys := slices.Sorted(maps.Keys(content))
		for _, k := range keys {
			switch k {
			case "id", "user_id", "channel_id", "reason":
				continue
			}
			out[id] = append(out[id], auditChange{Key: k, NewValue: content[k]})
		}
	}
	return out, rows.Err()
}
