package objects

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"concord/federation/guild"
	"concord/federation/snowflake"
)

// DMChannel is Discord's DM (type 1) or group DM (type 3) channel.
type DMChannel struct {
	ID            snowflake.ID  `json:"id"`
	Type          int           `json:"type"`
	LastMessageID *snowflake.ID `json:"last_message_id"`
	Flags         int           `json:"flags"`
	Name          *string       `json:"name,omitempty"`
	Icon          *string       `json:"icon,omitempty"`
	OwnerID       *snowflake.ID `json:"owner_id,omitempty"`
	Recipients    []User        `json:"recipients"`
}

// DMs renders the DMs and group DMs user is in, newest activity first;
// only is one DM's ID, or 0 for all.
func (r *Renderer) DMs(ctx context.Context, user, only snowflake.ID) ([]DMChannel, error) {
	query := `SELECT g.id, g.kind, g.name, g.owner_id,
		COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.guild_id = g.id AND m.channel_id = g.id
			AND m.deleted = FALSE AND m.hidden = FALSE), 0)
		FROM guilds g JOIN guild_members me ON me.guild_id = g.id AND me.user_id = ?
		WHERE g.kind IN (?, ?) AND g.deleted = FALSE`
	args := []any{int64(user), guild.KindDM, guild.KindGroupDM}
	if only != 0 {
		query += ` AND g.id = ?`
		args = append(args, int64(only))
	}
	rows, err := r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list dms: %w", err)
	}
	var out []DMChannel
	for rows.Next() {
		var id, owner, last int64
		var kind, name string
		if err := rows.Scan(&id, &kind, &name, &owner, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list dms: %w", err)
		}
		o := DMChannel{ID: snowflake.ID(id), Type: guild.ChannelDM, LastMessageID: NonZero(snowflake.ID(last)), Recipients: []User{}}
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
		return []DMChannel{}, nil
	}
	ids := make([]snowflake.ID, len(out))
	for i, o := range out {
		ids[i] = o.ID
	}
	members, err := r.db.QueryContext(ctx, `SELECT guild_id, user_id FROM guild_members
		WHERE user_id <> ? AND guild_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY guild_id, user_id`,
		append([]any{int64(user)}, Int64Args(ids)...)...)
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
	users, err := r.Users(ctx, slices.Compact(everyone))
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, u := range byDM[out[i].ID] {
			out[i].Recipients = append(out[i].Recipients, users[u])
		}
	}
	slices.SortFunc(out, func(x, y DMChannel) int {
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
