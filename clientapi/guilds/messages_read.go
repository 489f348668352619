package guilds

import (
	"context"
	"net/http"
	"slices"
	"time"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// historyArgs is one page request: at most one of around, before, after.
type historyArgs struct {
	around, before, after snowflake.ID
	limit                 int
}

func readHistoryArgs(r *http.Request) (historyArgs, error) {
	var h historyArgs
	var err error
	var form httperr.Form
	if h.limit, err = params.Int(r, "limit", 50, 1, 100); err != nil {
		form.Add("limit", "NUMBER_TYPE_MAX", "Value must be between 1 and 100.")
	}
	for _, p := range []struct {
		name string
		dst  *snowflake.ID
	}{{"around", &h.around}, {"before", &h.before}, {"after", &h.after}} {
		if *p.dst, err = params.Snowflake(r, p.name); err != nil {
			form.Add(p.name, "NUMBER_TYPE_COERCE", "Value is not snowflake.")
		}
	}
	return h, form.Err()
}

// history reads a page of a channel, newest first as Discord returns it.
func (a *API) history(ctx context.Context, p objects.Place, h historyArgs) ([]objects.MessageRow, error) {
	base := objects.VisibleMessage
	switch {
	case h.around != 0:
		older, err := a.objects.Query(ctx, p, base+` AND id <= ? ORDER BY id DESC LIMIT ?`, int64(h.around), (h.limit+1)/2)
		if err != nil {
			return nil, err
		}
		newer, err := a.objects.Query(ctx, p, base+` AND id > ? ORDER BY id ASC LIMIT ?`, int64(h.around), h.limit-len(older))
		if err != nil {
			return nil, err
		}
		slices.Reverse(newer)
		return append(newer, older...), nil
	case h.before != 0:
		return a.objects.Query(ctx, p, base+` AND id < ? ORDER BY id DESC LIMIT ?`, int64(h.before), h.limit)
	case h.after != 0:
		rows, err := a.objects.Query(ctx, p, base+` AND id > ? ORDER BY id ASC LIMIT ?`, int64(h.after), h.limit)
		slices.Reverse(rows)
		return rows, err
	}
	return a.objects.Query(ctx, p, base+` ORDER BY id DESC LIMIT ?`, h.limit)
}

// backfillWait is how long a short page of older history waits for a room
// joined with partial state to backfill more.
const backfillWait = 10 * time.Second

// historyBackfilled is history, except that a short page of older
// messages of a room still backfilling (spec/federation.md, "Joining with
// partial state") waits, up to backfillWait, for backfill to bring more:
// a client takes a short page for the start of the channel.
func (a *API) historyBackfilled(ctx context.Context, at where, h historyArgs) ([]objects.MessageRow, error) {
	deadline := time.Now().Add(backfillWait)
	for {
		rows, err := a.history(ctx, at.place(), h)
		if err != nil || len(rows) == h.limit || h.after != 0 || time.Now().After(deadline) {
			return rows, err
		}
		if partial, err := a.core.Partial(ctx, at.guildID); err != nil || !partial {
			return rows, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
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
		jsonio.Write(w, http.StatusOK, []objects.Message{})
		return nil
	}
	rows, err := a.historyBackfilled(r.Context(), at, args)
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
func (a *API) messageFor(r *http.Request, need perm.Bits) (where, objects.MessageRow, error) {
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return where{}, objects.MessageRow{}, err
	}
	at, err := a.channelFor(r.Context(), channelID, auth.From(r).UserID, perm.ViewChannel)
	if err != nil {
		return at, objects.MessageRow{}, err
	}
	id, err := params.ID(r, "message_id", httperr.UnknownMessage)
	if err != nil {
		return at, objects.MessageRow{}, err
	}
	m, err := a.objects.Message(r.Context(), at.place(), id)
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

func (a *API) writeMessage(w http.ResponseWriter, r *http.Request, at where, m objects.MessageRow, status int) error {
	out, err := a.renderMessages(r.Context(), at, auth.From(r).UserID, []objects.MessageRow{m})
	if err != nil {
		return err
	}
	jsonio.Write(w, status, out[0])
	return nil
}
