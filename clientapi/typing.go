package clientapi

import (
	"net/http"

	"concord/clientapi/httperr"
	"concord/federation/perm"
)

// triggerTyping is POST /channels/{id}/typing. Typing is ephemeral: it is
// handed to the gateway (Deps.Typing) and never stored. For a DM the guild
// ID passed is the DM room's, which equals the channel ID.
func (a *API) triggerTyping(w http.ResponseWriter, r *http.Request) error {
	channelID, err := pathID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := caller(r).UserID
	at, err := a.channelFor(r.Context(), channelID, user, perm.ViewChannel|perm.SendMessages)
	if err != nil {
		return err
	}
	if a.msgs.typing != nil {
		a.msgs.typing.Typing(at.guildID, channelID, user)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
