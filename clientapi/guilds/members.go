package guilds

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"concord/clientapi/accounts"
	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
)

// listMembers is GET /guilds/{id}/members?limit=&after=, in user ID order.
func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	limit, err := params.Int(r, "limit", 1, 1, 1000)
	if err != nil {
		return err
	}
	after, err := params.Snowflake(r, "after")
	if err != nil {
		return err
	}
	if err := a.mayListMembers(r.Context(), auth.From(r)); err != nil {
		return err
	}
	out := []objects.Member{}
	err = a.inGuild(r.Context(), gid, auth.From(r).UserID, func(s *guild.State, _ *guild.Member) error {
		ids := make([]snowflake.ID, 0, len(s.Members))
		for id := range s.Members {
			if id > after {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids[:min(limit, len(ids))] {
			out = append(out, objects.RenderMember(s.Members[id]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.objects.WithUsers(r.Context(), out); err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// searchMembers is GET /guilds/{id}/members/search?query=&limit=: members
// whose username, global name or nick starts with query (case-insensitive),
// in user ID order; limit 1–1000, default 1.
func (a *API) searchMembers(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	limit, err := params.Int(r, "limit", 1, 1, 1000)
	if err != nil {
		return err
	}
	query := strings.ToLower(r.URL.Query().Get("query"))
	if n := len([]rune(query)); n < 1 || n > 100 {
		return httperr.Field("query", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
	}
	if err := a.inGuild(r.Context(), gid, auth.From(r).UserID, func(*guild.State, *guild.Member) error { return nil }); err != nil {
		return err
	}
	prefix := storage.LikePrefix(query)
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT m.user_id FROM guild_members m LEFT JOIN users u ON u.id = m.user_id
		WHERE m.guild_id = ? AND (lower(m.nick) LIKE ? ESCAPE '\' OR lower(u.username) LIKE ? ESCAPE '\'
		OR lower(u.global_name) LIKE ? ESCAPE '\') ORDER BY m.user_id LIMIT ?`, int64(gid), prefix, prefix, prefix, limit)
	if err != nil {
		return fmt.Errorf("search members: %w", err)
	}
	var ids []snowflake.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("search members: %w", err)
		}
		ids = append(ids, snowflake.ID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search members: %w", err)
	}
	out := []objects.Member{}
	err = a.core.View(r.Context(), gid, func(s *guild.State) error {
		for _, id := range ids {
			if m := s.Members[id]; m != nil {
				out = append(out, objects.RenderMember(m))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.objects.WithUsers(r.Context(), out); err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// getMyMember is GET /users/@me/guilds/{guild_id}/member.
func (a *API) getMyMember(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	return a.writeMember(w, r, gid, auth.From(r).UserID)
}

// memberPath resolves {guild_id} and {user_id}.
func memberPath(r *http.Request) (gid, uid snowflake.ID, err error) {
	gid, err = params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return 0, 0, err
	}
	uid, err = params.ID(r, "user_id", httperr.UnknownMember)
	return gid, uid, err
}

func (a *API) writeMember(w http.ResponseWriter, r *http.Request, gid, uid snowflake.ID) error {
	var out []objects.Member
	err := a.inGuild(r.Context(), gid, auth.From(r).UserID, func(s *guild.State, _ *guild.Member) error {
		m := s.Members[uid]
		if m == nil {
			return httperr.UnknownMember
		}
		out = []objects.Member{objects.RenderMember(m)}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.objects.WithUsers(r.Context(), out); err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

func (a *API) getMember(w http.ResponseWriter, r *http.Request) error {
	gid, uid, err := memberPath(r)
	if err != nil {
		return err
	}
	return a.writeMember(w, r, gid, uid)
}

// patchMemberBody is PATCH /guilds/{id}/members/{user}. roles is the full
// list, sent as the difference from the current one so that concurrent
// edits compose; null nick and timeout clear them.
type patchMemberBody struct {
	Nick                       jsonio.Optional[string]         `json:"nick"`
	Roles                      jsonio.Optional[[]snowflake.ID] `json:"roles"`
	Mute                       *bool                           `json:"mute"`
	Deaf                       *bool                           `json:"deaf"`
	CommunicationDisabledUntil jsonio.Optional[time.Time]      `json:"communication_disabled_until"`
	// ChannelID moves a member in voice to another voice channel, or
	// (null) disconnects them: live state, not an event.
	ChannelID jsonio.Optional[snowflake.ID] `json:"channel_id"`
}

func (a *API) patchMember(w http.ResponseWriter, r *http.Request) error {
	gid, uid, err := memberPath(r)
	if err != nil {
		return err
	}
	var body patchMemberBody
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	return a.updateMember(w, r, gid, uid, body)
}

// patchMyMember is PATCH /guilds/{id}/members/@me, where Discord allows
// only nick.
func (a *API) patchMyMember(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var body struct {
		Nick jsonio.Optional[string] `json:"nick"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	return a.updateMember(w, r, gid, auth.From(r).UserID, patchMemberBody{Nick: body.Nick})
}

func (a *API) updateMember(w http.ResponseWriter, r *http.Request, gid, uid snowflake.ID, body patchMemberBody) error {
	c := auth.From(r)
	u := guild.MemberUpdate{UserID: uid, Mute: body.Mute, Deaf: body.Deaf}
	var form httperr.Form
	if body.Nick.Set {
		if len([]rune(body.Nick.V)) > 32 {
			form.Add("nick", "BASE_TYPE_BAD_LENGTH", "Must be 32 or fewer in length.")
		}
		u.Nick = &body.Nick.V
	}
	if body.CommunicationDisabledUntil.Set {
		var until int64
		if !body.CommunicationDisabledUntil.Null {
			until = body.CommunicationDisabledUntil.V.UnixMilli()
			if now := a.nowMs(); until <= now || until > now+28*24*3600*1000 {
				form.Add("communication_disabled_until", "COMMUNICATION_DISABLED_TIMESTAMP_TOO_FAR",
					"Must be in the future and at most 28 days away.")
			}
		}
		u.CommunicationDisabledUntil = &until
	}
	if err := form.Err(); err != nil {
		return err
	}
	err := a.inGuild(r.Context(), gid, c.UserID, func(s *guild.State, _ *guild.Member) error {
		m := s.Members[uid]
		if m == nil {
			return httperr.UnknownMember
		}
		if body.Roles.Set {
			want := map[snowflake.ID]bool{}
			for _, id := range body.Roles.V {
				want[id] = true // the rules refuse a role the guild lacks
			}
			for id := range want {
				if !slices.Contains(m.Roles, id) {
					u.RolesAdd = append(u.RolesAdd, id)
				}
			}
			for _, id := range m.Roles {
				if !want[id] {
					u.RolesRemove = append(u.RolesRemove, id)
				}
			}
			slices.SortFunc(u.RolesAdd, cmp.Compare)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if u.Nick != nil || u.Mute != nil || u.Deaf != nil || u.CommunicationDisabledUntil != nil || len(u.RolesAdd)+len(u.RolesRemove) > 0 {
		if err := a.send(r.Context(), gid, c.UserID, guild.TypeMemberUpdate, u); err != nil {
			return err
		}
	}
	if body.ChannelID.Set {
		if err := a.moveVoice(r.Context(), gid, c.UserID, uid, body.ChannelID); err != nil {
			return err
		}
	}
	return a.writeMember(w, r, gid, uid)
}

// kickMember is DELETE /guilds/{id}/members/{user}.
func (a *API) kickMember(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, uid, err := memberPath(r)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), gid, c.UserID, guild.TypeMemberKick, guild.MemberTarget{UserID: uid, Reason: params.AuditReason(r)}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// mayListMembers refuses a bot without the GUILD_MEMBERS privileged intent
// (its application's flag) the whole member list, as Discord does with
// 50001; people's clients are not limited.
func (a *API) mayListMembers(ctx context.Context, c auth.Caller) error {
	if !c.Bot {
		return nil
	}
	var flags int64
	err := a.db.Reader().QueryRowContext(ctx, `SELECT flags FROM applications WHERE id = ?`, int64(c.UserID)).Scan(&flags)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("application flags: %w", err)
	}
	if flags&(accounts.FlagGatewayGuildMembers|accounts.FlagGatewayGuildMembersLimited) == 0 {
		return httperr.MissingAccess
	}
	return nil
}
