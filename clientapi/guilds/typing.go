package guilds

import (
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/params"
	"concord/federation/live"
	"concord/federation/perm"
)

// triggerTyping is POST /channels/{id}/typing. Typing is ephemeral: it is
// handed to the live-state hub and never stored. For a DM the guild
// ID passed is the DM room's, which equals the channel ID.
func (a *API) triggerTyping(w http.ResponseWriter, r *http.Request) error {
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	at, err := a.channelFor(r.Context(), channelID, user, perm.ViewChannel|perm.SendMessages)
	if err != nil {
		return err
	}
	if err := a.notBlocked(r.Context(), user, at.peer); err != nil {
		return err
	}
	a.live.Typing(live.Typing{RoomID: at.guildID, ChannelID: channelID, UserID: user, At: a.cfg.Now()})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
