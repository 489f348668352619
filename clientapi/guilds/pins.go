package guilds

import (
	"net/http"

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
