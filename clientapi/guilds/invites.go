package guilds

import (
	"cmp"
	"crypto/rand"
	"errors"
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/p2p"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// inviteObject is Discord's invite with its metadata.
type inviteObject struct {
	Code                     string        `json:"code"`
	Type                     int           `json:"type"`
	GuildID                  snowflake.ID  `json:"guild_id"`
	Guild                    inviteGuild   `json:"guild"`
	Channel                  inviteChannel `json:"channel"`
	Inviter                  *objects.User `json:"inviter,omitempty"`
	Uses                     int           `json:"uses"`
	MaxUses                  int           `json:"max_uses"`
	MaxAge                   int64         `json:"max_age"`
	Temporary                bool          `json:"temporary"`
	CreatedAt                string        `json:"created_at"`
	ExpiresAt                *string       `json:"expires_at"`
	ApproximateMemberCount   *int          `json:"approximate_member_count,omitempty"`
	ApproximatePresenceCount *int          `json:"approximate_presence_count,omitempty"`
	inviterID                snowflake.ID  // filled into Inviter outside the state lock
}

type inviteGuild struct {
	ID                snowflake.ID `json:"id"`
	Name              string       `json:"name"`
	Icon              *string      `json:"icon"`
	Splash            *string      `json:"splash"`
	Banner            *string      `json:"banner"`
	Description       *string      `json:"description"`
	Features          []string     `json:"features"`
	VerificationLevel int          `json:"verification_level"`
	NSFWLevel         int          `json:"nsfw_level"`
}

type inviteChannel struct {
	ID   snowflake.ID `json:"id"`
	Name string       `json:"name"`
	Type int          `json:"type"`
}

func renderInvite(s *guild.State, inv *guild.Invite, counts bool) inviteObject {
	ch := s.Channels[inv.ChannelID]
	o := inviteObject{Code: inv.Code, GuildID: s.ID, Uses: inv.Uses, MaxUses: inv.MaxUses, MaxAge: inv.MaxAge,
		Temporary: inv.Temporary, CreatedAt: objects.ISOTime(inv.CreatedAt), inviterID: inv.InviterID,
		Guild: inviteGuild{ID: s.ID, Name: s.Name, Icon: objects.NonEmpty(s.Icon), Description: objects.NonEmpty(s.Description),
			Features: []string{}, VerificationLevel: s.VerificationLevel},
		Channel: inviteChannel{ID: ch.ID, Name: ch.Name, Type: ch.Type}}
	if inv.MaxAge > 0 {
		t := objects.ISOTime(inv.CreatedAt + inv.MaxAge*1000)
		o.ExpiresAt = &t
	}
	if counts {
		n, online := len(s.Members), 0
		o.ApproximateMemberCount, o.ApproximatePresenceCount = &n, &online
	}
	return o
}

// renderRemoteInvite renders an invite another node previewed.
func renderRemoteInvite(code string, gid snowflake.ID, p *p2p.InvitePreview, counts bool) inviteObject {
	s := &guild.State{ID: gid, Name: p.GuildName, Icon: p.Icon, Description: p.Description, VerificationLevel: p.VerificationLevel,
		Channels: map[snowflake.ID]*guild.Channel{p.ChannelID: {ID: p.ChannelID, Name: p.ChannelName, Type: p.ChannelType}}}
	o := renderInvite(s, &guild.Invite{Code: code, ChannelID: p.ChannelID, InviterID: p.InviterID, MaxAge: p.MaxAge,
		MaxUses: p.MaxUses, Uses: p.Uses, Temporary: p.Temporary, CreatedAt: p.CreatedAt}, false)
	if counts {
		n, online := p.Members, 0
		o.ApproximateMemberCount, o.ApproximatePresenceCount = &n, &online
	}
	return o
}

// withInviters fills in the inviters' user objects.
func (a *API) withInviters(r *http.Request, invites []inviteObject) error {
	ids := make([]snowflake.ID, len(invites))
	for i, inv := range invites {
		ids[i] = inv.inviterID
	}
	users, err := a.objects.Users(r.Context(), ids)
	if err != nil {
		return err
	}
	for i := range invites {
		u := users[invites[i].inviterID]
		invites[i].Inviter = &u
	}
	return nil
}

// newInviteCode is a bound code of the room whose guild.create is
// createID: 8 random letters and digits, then the room's tag
// (guild.InviteTag). 62^8 random parts make guessing a code hopeless and a
// collision (refused by the rules) negligible.
func newInviteCode(createID string) string {
	code := make([]byte, 0, guild.BoundInviteLen)
	var buf [16]byte
	for len(code) < guild.InviteRandomLen {
		rand.Read(buf[:])
		for _, b := range buf {
			// 248 = 4*62: dropping larger bytes keeps every letter equally likely.
			if b < 248 && len(code) < guild.InviteRandomLen {
				code = append(code, guild.InviteAlphabet[b%62])
			}
		}
	}
	return string(code) + guild.InviteTag(createID)
}

// createInvite is POST /channels/{id}/invites {max_age, max_uses,
// temporary, unique}. Every invite is unique here: codes are never reused.
func (a *API) createInvite(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		MaxAge    *int64 `json:"max_age"`
		MaxUses   int    `json:"max_uses"`
		Temporary bool   `json:"temporary"`
		Unique    bool   `json:"unique"`
	}
	if err := jsonio.DecodeOptional(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	maxAge := int64(86400)
	if body.MaxAge != nil {
		maxAge = *body.MaxAge
	}
	var form httperr.Form
	if maxAge < 0 || maxAge > 604800 {
		form.Add("max_age", "NUMBER_TYPE_MAX", "Must be between 0 and 604800.")
	}
	if body.MaxUses < 0 || body.MaxUses > 100 {
		form.Add("max_uses", "NUMBER_TYPE_MAX", "Must be between 0 and 100.")
	}
	if err := form.Err(); err != nil {
		return err
	}
	gid, id, err := a.channelPath(r)
	if err != nil {
		return err
	}
	var createID string
	if err := a.core.View(r.Context(), gid, func(s *guild.State) error { createID = s.CreateEvent; return nil }); err != nil {
		return err
	}
	code := newInviteCode(createID)
	inv := guild.InviteCreate{Code: code, ChannelID: id, MaxAge: maxAge, MaxUses: body.MaxUses, Temporary: body.Temporary}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeInviteCreate, inv); err != nil {
		return err
	}
	out, err := a.invite(r, gid, code, false)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// invite renders one invite of a guild, for anyone: an invite is its own
// credential.
func (a *API) invite(r *http.Request, gid snowflake.ID, code string, counts bool) (inviteObject, error) {
	var out []inviteObject
	err := a.core.View(r.Context(), gid, func(s *guild.State) error {
		inv := s.Invites[code]
		if s.Deleted || inv == nil || !inv.Usable(a.nowMs()) {
			return httperr.UnknownInvite
		}
		out = []inviteObject{renderInvite(s, inv, counts)}
		return nil
	})
	if errors.Is(err, room.ErrUnknownRoom) {
		return inviteObject{}, httperr.UnknownInvite
	}
	if err != nil {
		return inviteObject{}, err
	}
	return out[0], a.withInviters(r, out)
}

// inviteRooms lists the rooms holding an invite with code {code}, the one
// whose invite this node stored first first: rooms are keyed apart, and two
// may carry one code (spec/client-api.md, "IDs in routes").
func (a *API) inviteRooms(r *http.Request) (string, []snowflake.ID, error) {
	code := chi.URLParam(r, "code")
	gids, err := a.roomsOf(r.Context(), `SELECT guild_id FROM invites WHERE code = ? ORDER BY first_seq, guild_id`, code)
	return code, gids, err
}

// usableInvite resolves {code} to the first of its rooms where the invite
// still admits someone, and renders it: an invite is its own credential,
// so anyone sees it, and one that is unusable never hides a usable one.
func (a *API) usableInvite(r *http.Request, counts bool) (string, snowflake.ID, inviteObject, error) {
	code, gids, err := a.inviteRooms(r)
	if err != nil {
		return "", 0, inviteObject{}, err
	}
	for _, gid := range gids {
		out, err := a.invite(r, gid, code, counts)
		if errors.Is(err, httperr.UnknownInvite) {
			continue
		}
		return code, gid, out, err
	}
	return "", 0, inviteObject{}, httperr.UnknownInvite
}

// getInvite is GET /invites/{code}?with_counts=true, a preview for anyone.
// An invite no room here holds is previewed by the node that holds it.
func (a *API) getInvite(w http.ResponseWriter, r *http.Request) error {
	counts := params.Bool(r, "with_counts")
	_, _, out, err := a.usableInvite(r, counts)
	if errors.Is(err, httperr.UnknownInvite) && a.remote != nil {
		code := chi.URLParam(r, "code")
		if gid, p, perr := a.remote.PreviewInvite(r.Context(), code); perr == nil {
			invites := []inviteObject{renderRemoteInvite(code, gid, p, counts)}
			out, err = invites[0], a.withInviters(r, invites)
		}
	}
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// acceptInvite is POST /invites/{code}: member.join as the caller. A
// member accepting again gets the invite, as on Discord. An invite no
// room here holds is looked for on other nodes, whose guild is then
// fetched (spec/federation.md, "Invites and joins").
func (a *API) acceptInvite(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	code, gid, out, err := a.usableInvite(r, true)
	if errors.Is(err, httperr.UnknownInvite) && a.remote != nil {
		if _, ferr := a.remote.FetchInvite(r.Context(), chi.URLParam(r, "code")); ferr == nil {
			code, gid, out, err = a.usableInvite(r, true)
		}
	}
	if err != nil {
		return err
	}
	_, err = a.core.Send(r.Context(), gid, c.UserID, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: code})
	if err != nil && !refused(err, guild.ReasonAlreadyApplied) {
		return eventError(guild.TypeMemberJoin, err)
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// deleteInvite is DELETE /invites/{code}: the inviter, MANAGE_GUILD, or
// MANAGE_CHANNELS in its channel. The invite is that of the first room
// where the caller is a member who sees its channel; to anyone else it is
// unknown.
func (a *API) deleteInvite(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	code, gids, err := a.inviteRooms(r)
	if err != nil {
		return err
	}
	var gid snowflake.ID
	var out []inviteObject
	for _, g := range gids {
		err = a.inGuild(r.Context(), g, c.UserID, func(s *guild.State, _ *guild.Member) error {
			inv := s.Invites[code]
			if inv == nil || !s.Permissions(c.UserID, inv.ChannelID, a.nowMs()).Has(perm.ViewChannel) {
				return httperr.UnknownInvite
			}
			out = []inviteObject{renderInvite(s, inv, false)}
			return nil
		})
		if errors.Is(err, httperr.UnknownGuild) || errors.Is(err, httperr.UnknownInvite) {
			continue
		}
		if err != nil {
			return err
		}
		gid = g
		break
	}
	if out == nil {
		return httperr.UnknownInvite
	}
	if err := a.send(r.Context(), gid, c.UserID, guild.TypeInviteRevoke, guild.InviteRevoke{Code: code}); err != nil {
		return err
	}
	if err := a.withInviters(r, out); err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// listInvites answers the invites for which keep holds, once the caller
// holds need (in channel, or guild-wide when channel is 0).
func (a *API) listInvites(w http.ResponseWriter, r *http.Request, gid, channel snowflake.ID, need perm.Bits) error {
	c := auth.From(r)
	out := []inviteObject{}
	err := a.inGuild(r.Context(), gid, c.UserID, func(s *guild.State, _ *guild.Member) error {
		if !s.Permissions(c.UserID, channel, a.nowMs()).Has(need) {
			return httperr.MissingPermissions
		}
		for _, inv := range s.Invites {
			if channel == 0 || inv.ChannelID == channel {
				out = append(out, renderInvite(s, inv, false))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(out, func(x, y inviteObject) int { return cmp.Compare(x.Code, y.Code) })
	if err := a.withInviters(r, out); err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

func (a *API) listGuildInvites(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	return a.listInvites(w, r, gid, 0, perm.ManageGuild)
}

func (a *API) listChannelInvites(w http.ResponseWriter, r *http.Request) error {
	gid, id, _, err := a.visibleChannel(r)
	if err != nil {
		return err
	}
	return a.listInvites(w, r, gid, id, perm.ManageChannels)
}
