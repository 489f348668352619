package guilds

import (
	"fmt"
	"net/http"
	"time"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
)

// maxPins is how many messages one channel may have pinned, as on Discord.
const maxPins = 50

func (a *API) listPins(w http.ResponseWriter, r *http.Request) error {
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	at, err := a.channelFor(r.Context(), channelID, user, perm.ViewChannel)
	if err != nil {
		return err
	}
	if !at.have.Has(perm.ReadMessageHistory) {
		jsonio.Write(w, http.StatusOK, []objects.Message{}) // as history: nothing, not a refusal
		return nil
	}
	rows, err := a.objects.Query(r.Context(), at.place(), `pinned = TRUE AND `+objects.VisibleMessage+`
		ORDER BY pinned_at DESC, id DESC LIMIT ?`, maxPins)
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

// listPinsPaged is GET /channels/{id}/messages/pins?before=&limit=, the
// form newer libraries use: {items: [{pinned_at, message}], has_more},
// newest pin first; before is a timestamp.
func (a *API) listPinsPaged(w http.ResponseWriter, r *http.Request) error {
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	limit, err := params.Int(r, "limit", maxPins, 1, maxPins)
	if err != nil {
		return err
	}
	before := int64(1<<63 - 1)
	if v := r.URL.Query().Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return httperr.Field("before", "DATE_TIME_TYPE_PARSE", "Could not parse the timestamp.")
		}
		before = t.UnixMilli()
	}
	user := auth.From(r).UserID
	at, err := a.channelFor(r.Context(), channelID, user, perm.ViewChannel)
	if err != nil {
		return err
	}
	type item struct {
		PinnedAt string          `json:"pinned_at"`
		Message  objects.Message `json:"message"`
	}
	out := struct {
		Items   []item `json:"items"`
		HasMore bool   `json:"has_more"`
	}{Items: []item{}}
	if !at.have.Has(perm.ReadMessageHistory) {
		jsonio.Write(w, http.StatusOK, out)
		return nil
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT `+objects.MessageColumns+`, pinned_at FROM messages
		WHERE channel_id = ? AND pinned = TRUE AND `+objects.VisibleMessage+` AND pinned_at < ?
		ORDER BY pinned_at DESC, id DESC LIMIT ?`, int64(channelID), before, limit+1)
	if err != nil {
		return fmt.Errorf("list pins: %w", err)
	}
	var msgs []objects.MessageRow
	var pinned []int64
	for rows.Next() {
		var at int64
		m, err := objects.ScanMessage(rows, &at)
		if err != nil {
			rows.Close()
			return fmt.Errorf("list pins: %w", err)
		}
		msgs, pinned = append(msgs, m), append(pinned, at)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list pins: %w", err)
	}
	if len(msgs) > limit {
		msgs, out.HasMore = msgs[:limit], true
	}
	rendered, err := a.renderMessages(r.Context(), at, user, msgs)
	if err != nil {
		return err
	}
	for i, m := range rendered {
		out.Items = append(out.Items, item{PinnedAt: objects.ISOTime(pinned[i]), Message: m})
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// pin pins (or unpins) a message. Pinning needs MANAGE_MESSAGES or
// PIN_MESSAGES, which every DM participant holds; the rules decide.
func (a *API) pin(add bool) httperr.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		at, m, err := a.messageFor(r, perm.ViewChannel)
		if err != nil {
			return err
		}
		if !at.have.Has(perm.ManageMessages) && !at.have.Has(perm.PinMessages) {
			return httperr.MissingPermissions
		}
		if m.Pinned == add {
			w.WriteHeader(http.StatusNoContent) // already so: nothing to write
			return nil
		}
		typ := guild.TypePinRemove
		if add {
			typ = guild.TypePinAdd
			var n int
			if err := a.db.Reader().QueryRowContext(r.Context(), `SELECT COUNT(*) FROM messages
				WHERE guild_id = ? AND channel_id = ? AND pinned = TRUE AND `+objects.VisibleMessage,
				int64(at.guildID), int64(m.ChannelID)).Scan(&n); err != nil {
				return err
			}
			if n >= maxPins {
				return httperr.MaxPins
			}
		}
		err = a.send(r.Context(), at.guildID, auth.From(r).UserID, typ, guild.Pin{MessageID: m.ID, ChannelID: m.ChannelID})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
