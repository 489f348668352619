package guilds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"concord/clientapi/accounts"
	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// A DM or group DM is a room of its own (guild.create with kind dm or
// group_dm) whose one channel has the room's ID. Recipients must be users
// of this node; remote ones arrive with federation.

type dmBody struct {
	RecipientID *snowflake.ID  `json:"recipient_id"`
	Recipients  []snowflake.ID `json:"recipients"`
	Name        string         `json:"name"`
}

func (a *API) createDM(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	me := auth.From(r).UserID
	var body dmBody
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	others := body.Recipients
	kind := guild.KindGroupDM
	if body.RecipientID != nil {
		others, kind = []snowflake.ID{*body.RecipientID}, guild.KindDM
	}
	slices.Sort(others)
	others = slices.Compact(others)
	if len(others) == 0 {
		return httperr.Field("recipient_id", "BASE_TYPE_REQUIRED", "This field is required")
	}
	if len(others)+1 > guild.MaxGroupDM {
		return httperr.Field("recipients", "BASE_TYPE_MAX_LENGTH", "Must be 9 or fewer in length.")
	}
	if kind == guild.KindGroupDM && len([]rune(body.Name)) > guild.MaxNameRunes {
		return httperr.Field("name", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
	homes := map[snowflake.ID]string{}
	for _, id := range others {
		home, err := a.dmAllowed(ctx, me, id, kind == guild.KindGroupDM)
		if err != nil {
			return err
		}
		homes[id] = home
	}
	a.msgs.dmMu.Lock()
	defer a.msgs.dmMu.Unlock()
	id, err := a.findDM(ctx, me, others, kind)
	if err != nil {
		return err
	}
	if id == 0 {
		id = a.core.NewID()
		origin := a.core.Origin().String()
		users, err := a.objects.Users(ctx, append([]snowflake.ID{me}, others...))
		if err != nil {
			return err
		}
		c := guild.GuildCreate{ID: id, Kind: kind, Recipients: []guild.Recipient{{UserID: me, Origin: origin, Bot: users[me].Bot}}}
		if kind == guild.KindGroupDM {
			c.Name = body.Name
		}
		for _, o := range others {
			c.Recipients = append(c.Recipients, guild.Recipient{UserID: o, Origin: homes[o], Bot: users[o].Bot})
		}
		if _, err := a.core.Send(ctx, id, me, guild.TypeGuildCreate, c); err != nil {
			return eventError(guild.TypeGuildCreate, err)
		}
	}
	out, err := a.objects.DMs(ctx, me, id)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return fmt.Errorf("dm %s vanished after creation", id)
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// dmAllowed refuses a recipient who is not a user here nor a remote user
// whose profile is kept, oneself, anyone either side has blocked, and for
// a group DM anyone who is not a friend (Discord lets only friends be
// added to one); it returns the recipient's home node.
func (a *API) dmAllowed(ctx context.Context, me, other snowflake.ID, friendsOnly bool) (home string, err error) {
	if other == me {
		return "", httperr.CannotMessageUser
	}
	var one int
	err = a.db.Reader().QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, int64(other)).Scan(&one)
	home = a.core.Origin().String()
	if errors.Is(err, sql.ErrNoRows) {
		// A user of another node whose signed profile this node keeps.
		if home, err = objects.RemoteHome(ctx, a.db.Reader(), other); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", fmt.Errorf("dm recipient: %w", err)
	}
	if err := a.notBlocked(ctx, me, other); err != nil {
		return "", err
	}
	if !friendsOnly {
		return home, nil
	}
	friends, err := accounts.Friends(ctx, a.db.Reader(), me, other)
	if err != nil {
		return "", err
	}
	if !friends {
		return "", httperr.CannotMessageUser
	}
	return home, nil
}

// notBlocked refuses, with Discord's 50007, anything user does towards
// peer (a DM, a message, a reaction or typing in their DM) while either has
// blocked the other: a block made after the DM opened holds too. A zero
// peer (not a one-to-one DM) is never blocked.
func (a *API) notBlocked(ctx context.Context, user, peer snowflake.ID) error {
	if peer == 0 {
		return nil
	}
	blocked, err := accounts.Blocked(ctx, a.db.Reader(), user, peer)
	if err != nil {
		return err
	}
	if blocked {
		return httperr.CannotMessageUser
	}
	return nil
}

// dmPeer is, in a one-to-one DM, the recipient other than user; zero
// elsewhere.
func dmPeer(s *guild.State, user snowflake.ID) snowflake.ID {
	if s.Kind != guild.KindDM {
		return 0
	}
	for id := range s.Members {
		if id != user {
			return id
		}
	}
	return 0
}

// findDM returns the existing one-to-one DM between me and the other user;
// a group DM is always new, as on Discord.
func (a *API) findDM(ctx context.Context, me snowflake.ID, others []snowflake.ID, kind string) (snowflake.ID, error) {
	if kind != guild.KindDM {
		return 0, nil
	}
	var id int64
	err := a.db.Reader().QueryRowContext(ctx, `SELECT g.id FROM guilds g
		JOIN guild_members x ON x.guild_id = g.id AND x.user_id = ?
		JOIN guild_members y ON y.guild_id = g.id AND y.user_id = ?
		WHERE g.kind = ? AND g.deleted = FALSE ORDER BY g.id LIMIT 1`,
		int64(me), int64(others[0]), guild.KindDM).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find dm: %w", err)
	}
	return snowflake.ID(id), nil
}

func (a *API) listDMs(w http.ResponseWriter, r *http.Request) error {
	out, err := a.objects.DMs(r.Context(), auth.From(r).UserID, 0)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// leaveDM serves DELETE /channels/{id} when id is a DM or group DM of the
// caller, and reports whether it was: the caller leaves a group DM
// (member.leave; an owner hands the group on), and a DM closes, which
// changes nothing here (clients hide it until its next message). Either
// answers the channel as it was.
func (a *API) leaveDM(w http.ResponseWriter, r *http.Request) (bool, error) {
	id, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return false, err
	}
	me := auth.From(r).UserID
	group := false
	gid, err := a.channelRoom(r.Context(), id, me, func(s *guild.State, _ *guild.Channel) bool {
		group = s.Kind == guild.KindGroupDM
		return objects.IsDM(s)
	})
	if errors.Is(err, httperr.UnknownChannel) {
		return false, nil // a guild's channel, or none
	}
	if err != nil {
		return false, err
	}
	out, err := a.objects.DMs(r.Context(), me, gid)
	if err != nil {
		return true, err
	}
	if len(out) == 0 {
		return true, httperr.UnknownChannel
	}
	if group {
		if err := a.send(r.Context(), gid, me, guild.TypeMemberLeave, struct{}{}); err != nil {
			return true, err
		}
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return true, nil
}

// addRecipient is PUT /channels/{id}/recipients/{user_id}: a member of a
// group DM adds one of their friends (member.add, at most 10 in all, as
// on Discord). A friend of another node is added with their home named in
// the event; that node fetches the group DM once it holds the member.add.
func (a *API) addRecipient(w http.ResponseWriter, r *http.Request) error {
	id, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	other, err := params.ID(r, "user_id", httperr.UnknownUser)
	if err != nil {
		return err
	}
	me := auth.From(r).UserID
	gid, err := a.channelRoom(r.Context(), id, me, func(s *guild.State, _ *guild.Channel) bool { return s.Kind == guild.KindGroupDM })
	if err != nil {
		return err
	}
	home, err := a.dmAllowed(r.Context(), me, other, true)
	if err != nil {
		return err
	}
	add := guild.MemberAdd{UserID: other}
	if home != a.core.Origin().String() {
		add.Origin = home
	}
	if err := a.send(r.Context(), gid, me, guild.TypeMemberAdd, add); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
