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
	"concord/federation/snowflake"
)

// A DM or group DM is a room of its own (guild.create with kind dm or
// group_dm) whose one channel has the room's ID. Recipients must be users
// of this node; remote ones arrive with federation.

// dmChannelObject is Discord's DM (type 1) or group DM (type 3) channel.
type dmChannelObject struct {
	ID            snowflake.ID  `json:"id"`
	Type          int           `json:"type"`
	LastMessageID *snowflake.ID `json:"last_message_id"`
	Flags         int           `json:"flags"`
	Name          *string       `json:"name,omitempty"`
	Icon          *string       `json:"icon,omitempty"`
	OwnerID       *snowflake.ID `json:"owner_id,omitempty"`
	Recipients    []User        `json:"recipients"`
}

type dmBody struct {
	RecipientID *snowflake.ID  `json:"recipient_id"`
	Recipients  []snowflake.ID `json:"recipients"`
	Name        string         `json:"name"`
}

func (a *API) createDM(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	me := caller(r).UserID
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
	for _, id := range others {
		if err := a.dmAllowed(ctx, me, id); err != nil {
			return err
		}
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
		c := guild.GuildCreate{ID: id, Kind: kind, Recipients: []guild.Recipient{{UserID: me, Origin: origin}}}
		if kind == guild.KindGroupDM {
			c.Name = body.Name
		}
		for _, o := range others {
			c.Recipients = append(c.Recipients, guild.Recipient{UserID: o, Origin: origin})
		}
		if _, err := a.core.Send(ctx, id, me, guild.TypeGuildCreate, c); err != nil {
			return eventError(err, httperr.UnknownUser)
		}
	}
	out, err := a.loadDMs(ctx, me, id)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return fmt.Errorf("dm %s vanished after creation", id)
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// dmAllowed refuses a recipient who is not a user here, oneself, or anyone
// either side has blocked.
func (a *API) dmAllowed(ctx context.Context, me, other snowflake.ID) error {
	if other == me {
		return httperr.CannotMessageUser
	}
	var one int
	err := a.db.Reader().QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, int64(other)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return httperr.UnknownUser
	}
	if err != nil {
		return fmt.Errorf("dm recipient: %w", err)
	}
	blocked, err := Blocked(ctx, a.db.Reader(), me, other)
	if err != nil {
		return err
	}
	if blocked {
		return httperr.CannotMessageUser
	}
	return nil
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
	out, err := a.loadDMs(r.Context(), caller(r).UserID, 0)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// loadDMs renders the DMs and group DMs user is in, newest activity first;
// only is one DM's ID, or 0 for all.
func (a *API) loadDMs(ctx context.Context, user, only snowflake.ID) ([]dmChannelObject, error) {
	query := `SELECT g.id, g.kind, g.name, g.owner_id,
		COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.channel_id = g.id AND m.deleted = FALSE AND m.hidden = FALSE), 0)
		FROM guilds g JOIN guild_members me ON me.guild_id = g.id AND me.user_id = ?
		WHERE g.kind IN (?, ?) AND g.deleted = FALSE`
	args := []any{int64(user), guild.KindDM, guild.KindGroupDM}
	if only != 0 {
		query += ` AND g.id = ?`
		args = append(args, int64(only))
	}
	rows, err := a.db.Reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list dms: %w", err)
	}
	var out []dmChannelObject
	for rows.Next() {
		var id, owner, last int64
		var kind, name string
		if err := rows.Scan(&id, &kind, &name, &owner, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list dms: %w", err)
		}
		o := dmChannelObject{ID: snowflake.ID(id), Type: guild.ChannelDM, LastMessageID: nonZero(snowflake.ID(last)), Recipients: []User{}}
		if kind == guild.KindGroupDM {
			o.Type = guild.ChannelGroupDM
			ownerID := snowflake.ID(owner)
			o.Name, o.OwnerID = &name, &ownerID
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dms: %w", err)
	}
	if len(out) == 0 {
		return []dmChannelObject{}, nil
	}
	ids := make([]snowflake.ID, len(out))
	for i, o := range out {
		ids[i] = o.ID
	}
	members, err := a.db.Reader().QueryContext(ctx, `SELECT guild_id, user_id FROM guild_members
		WHERE user_id <> ? AND guild_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY guild_id, user_id`,
		append([]any{int64(user)}, int64Args(ids)...)...)
	if err != nil {
		return nil, fmt.Errorf("list dm recipients: %w", err)
	}
	byDM := map[snowflake.ID][]snowflake.ID{}
	var everyone []snowflake.ID
	for members.Next() {
		var g, u int64
		if err := members.Scan(&g, &u); err != nil {
			members.Close()
			return nil, fmt.Errorf("list dm recipients: %w", err)
		}
		byDM[snowflake.ID(g)] = append(byDM[snowflake.ID(g)], snowflake.ID(u))
		everyone = append(everyone, snowflake.ID(u))
	}
	members.Close()
	if err := members.Err(); err != nil {
		return nil, fmt.Errorf("list dm recipients: %w", err)
	}
	slices.Sort(everyone)
	users, err := a.loadUsers(ctx, slices.Compact(everyone))
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, u := range byDM[out[i].ID] {
			out[i].Recipients = append(out[i].Recipients, users[u])
		}
	}
	slices.SortFunc(out, func(x, y dmChannelObject) int {
		return cmpNewest(x.LastMessageID, x.ID, y.LastMessageID, y.ID)
	})
	return out, nil
}

// cmpNewest orders DMs by last message, else by creation, newest first.
func cmpNewest(xl *snowflake.ID, x snowflake.ID, yl *snowflake.ID, y snowflake.ID) int {
	if xl != nil {
		x = *xl
	}
	if yl != nil {
		y = *yl
	}
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return 0
}
