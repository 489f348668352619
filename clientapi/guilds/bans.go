package guilds

import (
	"cmp"
	"net/http"
	"slices"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

type banObject struct {
	Reason *string      `json:"reason"`
	User   objects.User `json:"user"`
}

// bansOf lists the guild's bans when the caller may see them (BAN_MEMBERS).
func (a *API) bansOf(r *http.Request, gid snowflake.ID, keep func(snowflake.ID) bool) ([]banObject, error) {
	c := auth.From(r)
	var bans []*guild.Ban
	err := a.inGuild(r.Context(), gid, c.UserID, func(s *guild.State, _ *guild.Member) error {
		if err := a.needGuild(s, c.UserID, perm.BanMembers); err != nil {
			return err
		}
		for id, b := range s.Bans {
			if keep(id) {
				bans = append(bans, &guild.Ban{UserID: b.UserID, Reason: b.Reason})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(bans, func(x, y *guild.Ban) int { return cmp.Compare(x.UserID, y.UserID) })
	ids := make([]snowflake.ID, len(bans))
	for i, b := range bans {
		ids[i] = b.UserID
	}
	users, err := a.objects.Users(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]banObject, len(bans))
	for i, b := range bans {
		out[i] = banObject{Reason: objects.NonEmpty(b.Reason), User: users[b.UserID]}
	}
	return out, nil
}

// listBans is GET /guilds/{id}/bans?limit=&before=&after=, in user ID order.
func (a *API) listBans(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	limit, err := params.Int(r, "limit", 1000, 1, 1000)
	if err != nil {
		return err
	}
	after, err := params.Snowflake(r, "after")
	if err != nil {
		return err
	}
	before, err := params.Snowflake(r, "before")
	if err != nil {
		return err
	}
	out, err := a.bansOf(r, gid, func(id snowflake.ID) bool { return id > after && (before == 0 || id < before) })
	if err != nil {
		return err
	}
	if before != 0 && after == 0 && len(out) > limit {
		out = out[len(out)-limit:] // the page just before `before`
	}
	jsonio.Write(w, http.StatusOK, out[:min(limit, len(out))])
	return nil
}

func (a *API) getBan(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	uid, err := params.ID(r, "user_id", httperr.UnknownBan)
	if err != nil {
		return err
	}
	out, err := a.bansOf(r, gid, func(id snowflake.ID) bool { return id == uid })
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return httperr.UnknownBan
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// putBan is PUT /guilds/{id}/bans/{user} {delete_message_seconds} (or the
// older delete_message_days, in the body or the query).
func (a *API) putBan(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	uid, err := params.ID(r, "user_id", httperr.UnknownUser)
	if err != nil {
		return err
	}
	var body struct {
		DeleteMessageSeconds *int64 `json:"delete_message_seconds"`
		DeleteMessageDays    *int64 `json:"delete_message_days"`
	}
	if err := jsonio.DecodeOptional(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	days, err := params.Int(r, "delete_message_days", 0, 0, 7)
	if err != nil {
		return err
	}
	seconds := int64(days) * 86400
	switch {
	case body.DeleteMessageSeconds != nil:
		seconds = *body.DeleteMessageSeconds
	case body.DeleteMessageDays != nil:
		seconds = *body.DeleteMessageDays * 86400
	}
	if seconds < 0 || seconds > guild.MaxDeleteSeconds {
		return httperr.Field("delete_message_seconds", "NUMBER_TYPE_MAX", "Must be between 0 and 604800.")
	}
	ban := guild.MemberBan{UserID: uid, Reason: params.AuditReason(r), DeleteMessageSeconds: seconds}
	err = a.core.Check(r.Context(), gid, c.UserID, guild.TypeMemberBan, ban)
	if refused(err, guild.ReasonAlreadyApplied) {
		// Banning again changes nothing; Discord answers as for the first.
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return eventError(guild.TypeMemberBan, err)
	}
	member := false
	if err := a.inGuild(r.Context(), gid, c.UserID, func(s *guild.State, _ *guild.Member) error {
		member = s.Members[uid] != nil
		return nil
	}); err != nil {
		return err
	}
	if !member {
		// A non-member may be banned only if this node knows the user.
		if _, err := objects.LoadMe(r.Context(), a.db.Reader(), uid); err != nil {
			return err
		}
	}
	if err := a.send(r.Context(), gid, c.UserID, guild.TypeMemberBan, ban); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteBan(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	uid, err := params.ID(r, "user_id", httperr.UnknownBan)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), gid, c.UserID, guild.TypeMemberUnban, guild.MemberTarget{UserID: uid, Reason: params.AuditReason(r)}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
