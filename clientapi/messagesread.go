package clientapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// loadMessage reads one visible message of a channel; any other answers
// Unknown Message.
func (a *API) loadMessage(ctx context.Context, channel, id snowflake.ID) (messageRow, error) {
	m, err := scanMessage(a.db.Reader().QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE id = ? AND channel_id = ? AND `+visibleMessage, int64(id), int64(channel)))
	if errors.Is(err, sql.ErrNoRows) {
		return m, httperr.UnknownMessage
	}
	if err != nil {
		return m, fmt.Errorf("load message %s: %w", id, err)
	}
	return m, nil
}

func (a *API) queryMessages(ctx context.Context, query string, args ...any) ([]messageRow, error) {
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var out []messageRow
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// renderMessages renders rows as viewer sees them: users, members (in
// guilds), reactions with "me", and for replies the message replied to.
func (a *API) renderMessages(ctx context.Context, w where, viewer snowflake.ID, rows []messageRow) ([]messageObject, error) {
	return a.render(ctx, w, viewer, rows, false)
}

// render is renderMessages; fresh rows were just sent and cannot have
// reactions yet, which saves a send a query.
func (a *API) render(ctx context.Context, w where, viewer snowflake.ID, rows []messageRow, fresh bool) ([]messageObject, error) {
	out := make([]messageObject, len(rows))
	mentions := make([][]snowflake.ID, len(rows))
	var users, refs []snowflake.ID
	for i, m := range rows {
		out[i], mentions[i] = a.renderRow(m, w.dm)
		users = append(users, m.AuthorID)
		users = append(users, mentions[i]...)
		if m.ReferenceID != 0 {
			refs = append(refs, m.ReferenceID)
		}
	}
	refObjs := map[snowflake.ID]*messageObject{}
	if len(refs) > 0 {
		refRows, err := a.queryMessages(ctx, `channel_id = ? AND `+visibleMessage+` AND id IN (?`+strings.Repeat(", ?", len(refs)-1)+`)`,
			append([]any{int64(w.channel)}, int64Args(refs)...)...)
		if err != nil {
			return nil, err
		}
		for _, m := range refRows {
			o, _ := a.renderRow(m, w.dm)
			refObjs[m.ID] = &o
			users = append(users, m.AuthorID)
		}
	}
	slices.Sort(users)
	users = slices.Compact(users)
	byID, err := a.loadUsers(ctx, users)
	if err != nil {
		return nil, err
	}
	members := map[snowflake.ID]memberObject{}
	if !w.dm {
		a.core.View(ctx, w.guildID, func(s *guild.State) error {
			for _, id := range users {
				if m := s.Members[id]; m != nil {
					o := renderMember(m)
					o.User = nil // a message's member is partial: the user is the author
					members[id] = o
				}
			}
			return nil
		})
	}
	fill := func(o *messageObject) {
		o.Author = byID[o.Author.ID]
		if m, ok := members[o.Author.ID]; ok {
			o.Member = &m
		}
	}
	reactions := map[snowflake.ID][]reactionObject{}
	if !fresh {
		if reactions, err = a.loadReactions(ctx, viewer, rows); err != nil {
			return nil, err
		}
	}
	for i := range out {
		fill(&out[i])
		for _, id := range mentions[i] {
			out[i].Mentions = append(out[i].Mentions, byID[id])
		}
		out[i].Reactions = reactions[out[i].ID]
		if ref := rows[i].ReferenceID; ref != 0 {
			r := refObjs[ref]
			if r != nil {
				cp := *r
				fill(&cp)
				r = &cp
			}
			out[i].ReferencedMessage = &r
		}
	}
	return out, nil
}

func int64Args(ids []snowflake.ID) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// historyArgs is one page request: at most one of around, before, after.
type historyArgs struct {
	around, before, after snowflake.ID
	limit                 int
}

func readHistoryArgs(r *http.Request) (historyArgs, error) {
	var h historyArgs
	var err error
	var form httperr.Form
	if h.limit, err = queryInt(r, "limit", 50, 1, 100); err != nil {
		form.Add("limit", "NUMBER_TYPE_MAX", "Value must be between 1 and 100.")
	}
	for _, p := range []struct {
		name string
		dst  *snowflake.ID
	}{{"around", &h.around}, {"before", &h.before}, {"after", &h.after}} {
		if *p.dst, err = querySnowflake(r, p.name); err != nil {
			form.Add(p.name, "NUMBER_TYPE_COERCE", "Value is not snowflake.")
		}
	}
	return h, form.Err()
}

// history reads a page of a channel, newest first as Discord returns it.
func (a *API) history(ctx context.Context, channel snowflake.ID, h historyArgs) ([]messageRow, error) {
	base := `channel_id = ? AND ` + visibleMessage
	ch := int64(channel)
	switch {
	case h.around != 0:
		older, err := a.queryMessages(ctx, base+` AND id <= ? ORDER BY id DESC LIMIT ?`, ch, int64(h.around), (h.limit+1)/2)
		if err != nil {
			return nil, err
		}
		newer, err := a.queryMessages(ctx, base+` AND id > ? ORDER BY id ASC LIMIT ?`, ch, int64(h.around), h.limit-len(older))
		if err != nil {
			return nil, err
		}
		slices.Reverse(newer)
		return append(newer, older...), nil
	case h.before != 0:
		return a.queryMessages(ctx, base+` AND id < ? ORDER BY id DESC LIMIT ?`, ch, int64(h.before), h.limit)
	case h.after != 0:
		rows, err := a.queryMessages(ctx, base+` AND id > ? ORDER BY id ASC LIMIT ?`, ch, int64(h.after), h.limit)
		slices.Reverse(rows)
		return rows, err
	}
	return a.queryMessages(ctx, base+` ORDER BY id DESC LIMIT ?`, ch, h.limit)
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	channelID, err := pathID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := caller(r).UserID
	at, err := a.channelFor(r.Context(), channelID, user, perm.ViewChannel)
	if err != nil {
		return err
	}
	args, err := readHistoryArgs(r)
	if err != nil {
		return err
	}
	if !at.have.Has(perm.ReadMessageHistory) {
		// Discord lists nothing, rather than refusing, without history.
		jsonio.Write(w, http.StatusOK, []messageObject{})
		return nil
	}
	rows, err := a.history(r.Context(), channelID, args)
	if err != nil {
		return err
	}
	out, err := a.renderMessages(r.Context(), at, user, rows)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// messageFor resolves {channel_id}/{message_id} to a visible message the
// caller may act on with need.
func (a *API) messageFor(r *http.Request, need perm.Bits) (where, messageRow, error) {
	channelID, err := pathID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return where{}, messageRow{}, err
	}
	at, err := a.channelFor(r.Context(), channelID, caller(r).UserID, perm.ViewChannel)
	if err != nil {
		return at, messageRow{}, err
	}
	id, err := pathID(r, "message_id", httperr.UnknownMessage)
	if err != nil {
		return at, messageRow{}, err
	}
	m, err := a.loadMessage(r.Context(), channelID, id)
	if err != nil {
		return at, m, err
	}
	if !at.have.Has(need) {
		return at, m, httperr.MissingPermissions
	}
	return at, m, nil
}

func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	at, m, err := a.messageFor(r, perm.ViewChannel|perm.ReadMessageHistory)
	if err != nil {
		return err
	}
	return a.writeMessage(w, r, at, m, http.StatusOK)
}

func (a *API) writeMessage(w http.ResponseWriter, r *http.Request, at where, m messageRow, status int) error {
	out, err := a.renderMessages(r.Context(), at, caller(r).UserID, []messageRow{m})
	if err != nil {
		return err
	}
	jsonio.Write(w, status, out[0])
	return nil
}
