package room

import (
	"context"
	"encoding/json"
	"fmt"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// project returns the statement that rewrites one state object's row from
// s: an upsert when it exists, a delete when it does not. seq is the log
// position to record as the object's first_seq, or nil for the room's
// newest event.
func project(s *guild.State, k guild.Key, seq any) (string, []any, error) {
	gid := int64(s.ID)
	var id int64
	if k.Kind != "invite" {
		v, err := snowflake.Parse(k.ID)
		if err != nil {
			return "", nil, fmt.Errorf("room: projection key %v: %w", k, err)
		}
		id = int64(v)
	}
	switch k.Kind {
	case "guild":
		return stmt(`INSERT INTO guilds (id, kind, name, icon, description, owner_id, verification_level,
			default_message_notifications, explicit_content_filter, system_channel_id, afk_channel_id, afk_timeout, deleted, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, icon = excluded.icon,
			description = excluded.description, owner_id = excluded.owner_id, verification_level = excluded.verification_level,
			default_message_notifications = excluded.default_message_notifications,
			explicit_content_filter = excluded.explicit_content_filter, system_channel_id = excluded.system_channel_id,
			afk_channel_id = excluded.afk_channel_id, afk_timeout = excluded.afk_timeout, deleted = excluded.deleted`,
			gid, s.Kind, s.Name, s.Icon, s.Description, int64(s.OwnerID()), s.VerificationLevel,
			s.DefaultMessageNotifications, s.ExplicitContentFilter, int64(s.SystemChannelID), int64(s.AFKChannelID),
			s.AFKTimeout, s.Deleted, int64(s.CreatedBy))
	case "role":
		r := s.Roles[snowflake.ID(id)]
		if r == nil {
			return stmt(`DELETE FROM roles WHERE guild_id = ? AND id = ?`, gid, id)
		}
		return stmt(`INSERT INTO roles (guild_id, id, name, color, hoist, mentionable, permissions, position, icon, unicode_emoji)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (guild_id, id) DO UPDATE SET name = excluded.name, color = excluded.color, hoist = excluded.hoist,
			mentionable = excluded.mentionable, permissions = excluded.permissions, position = excluded.position,
			icon = excluded.icon, unicode_emoji = excluded.unicode_emoji`,
			gid, id, r.Name, r.Color, r.Hoist, r.Mentionable, int64(r.Permissions), r.Position, r.Icon, r.UnicodeEmoji)
	case "channel":
		c := s.Channels[snowflake.ID(id)]
		if c == nil {
			return stmt(`DELETE FROM channels WHERE id = ? AND guild_id = ?`, id, gid)
		}
		return stmt(`INSERT INTO channels (id, guild_id, type, name, topic, position, parent_id, nsfw,
			rate_limit_per_user, bitrate, user_limit, overwrites, first_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, `+firstSeq+`)
			ON CONFLICT (guild_id, id) DO UPDATE SET type = excluded.type, name = excluded.name, topic = excluded.topic,
			position = excluded.position, parent_id = excluded.parent_id, nsfw = excluded.nsfw,
			rate_limit_per_user = excluded.rate_limit_per_user, bitrate = excluded.bitrate,
			user_limit = excluded.user_limit, overwrites = excluded.overwrites`,
			id, gid, c.Type, c.Name, c.Topic, c.Position, int64(c.ParentID), c.NSFW, c.RateLimitPerUser, c.Bitrate,
			c.UserLimit, jsonText(overwritesJSON(c)), seq, gid)
	case "member":
		m := s.Members[snowflake.ID(id)]
		if m == nil {
			return stmt(`DELETE FROM guild_members WHERE guild_id = ? AND user_id = ?`, gid, id)
		}
		return stmt(`INSERT INTO guild_members (guild_id, user_id, nick, roles, joined_at, mute, deaf, bot,
			timed_out_until, home) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (guild_id, user_id) DO UPDATE SET nick = excluded.nick, roles = excluded.roles,
			joined_at = excluded.joined_at, mute = excluded.mute, deaf = excluded.deaf, bot = excluded.bot,
			timed_out_until = excluded.timed_out_until, home = excluded.home`,
			gid, id, m.Nick, jsonText(idStrings(m.Roles)), m.JoinedAt, m.Mute, m.Deaf, m.Bot, m.TimedOutUntil,
			s.Homes[snowflake.ID(id)])
	case "ban":
		b := s.Bans[snowflake.ID(id)]
		if b == nil {
			return stmt(`DELETE FROM bans WHERE guild_id = ? AND user_id = ?`, gid, id)
		}
		return stmt(`INSERT INTO bans (guild_id, user_id, reason, event_id) VALUES (?, ?, ?, ?)
			ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason, event_id = excluded.event_id`,
			gid, id, b.Reason, b.EventID)
	case "invite":
		inv := s.Invites[k.ID]
		if inv == nil {
			return stmt(`DELETE FROM invites WHERE code = ? AND guild_id = ?`, k.ID, gid)
		}
		return stmt(`INSERT INTO invites (code, guild_id, channel_id, inviter_id, max_age, max_uses, uses,
			temporary, created_at, first_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, `+firstSeq+`)
			ON CONFLICT (guild_id, code) DO UPDATE SET uses = excluded.uses, max_uses = excluded.max_uses, max_age = excluded.max_age`,
			inv.Code, gid, int64(inv.ChannelID), int64(inv.InviterID), inv.MaxAge, inv.MaxUses, inv.Uses, inv.Temporary, inv.CreatedAt, seq, gid)
	case "emoji":
		e := s.Emojis[snowflake.ID(id)]
		if e == nil {
			return stmt(`DELETE FROM emojis WHERE guild_id = ? AND id = ?`, gid, id)
		}
		return stmt(`INSERT INTO emojis (guild_id, id, name, animated, image, roles, creator_id)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, id) DO UPDATE SET name = excluded.name, roles = excluded.roles`,
			gid, id, e.Name, e.Animated, e.Image, jsonText(idStrings(e.Roles)), int64(e.CreatorID))
	case "webhook":
		w := s.Webhooks[snowflake.ID(id)]
		if w == nil {
			return stmt(`DELETE FROM webhooks WHERE guild_id = ? AND id = ?`, gid, id)
		}
		return stmt(`INSERT INTO webhooks (id, guild_id, channel_id, name, avatar, creator_id, application_id, origin)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, id) DO UPDATE SET channel_id = excluded.channel_id,
			name = excluded.name, avatar = excluded.avatar`,
			id, gid, int64(w.ChannelID), w.Name, w.Avatar, int64(w.CreatorID), int64(w.ApplicationID), w.Origin)
	}
	return "", nil, fmt.Errorf("room: unknown projection kind %q", k.Kind)
}

func stmt(query string, args ...any) (string, []any, error) { return query, args, nil }

// firstSeq is where in the node's log an object that routes name by a bare
// ID (channels, invites) was first stored: the room's newest event when its
// row is inserted, its events being written first, or the position given
// when the log is replayed. An upsert keeps it, so that of two rooms'
// objects with one ID, the one stored first stays first (spec/client-api.md,
// "IDs in routes").
const firstSeq = `COALESCE(?, (SELECT MAX(seq) FROM events WHERE guild_id = ?))`

func overwritesJSON(c *guild.Channel) []guild.OverwriteFields {
	out := make([]guild.OverwriteFields, len(c.Overwrites))
	for i, o := range c.Overwrites {
		out[i] = guild.OverwriteFields(o)
	}
	return out
}

func idStrings(ids []snowflake.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain values are passed
	}
	return string(b)
}

func rawList(list []json.RawMessage) string {
	if list == nil {
		return "[]"
	}
	return jsonText(list)
}

// messageRow is a message.create to project.
type messageRow struct {
	id     int64
	values []any
}

func newMessageRow(ev *event.Event, c *guild.MessageCreate, hidden bool) messageRow {
	var ref int64
	if c.Reference != nil {
		ref = int64(c.Reference.MessageID)
	}
	attachments, components, interaction, webhook := "[]", "[]", "", ""
	if len(c.Attachments) > 0 {
		attachments = jsonText(c.Attachments)
	}
	if len(c.Components) > 0 {
		components = jsonText(c.Components)
	}
	if c.Interaction != nil {
		interaction = jsonText(c.Interaction)
	}
	if c.Webhook != nil {
		webhook = jsonText(c.Webhook)
	}
	return messageRow{id: int64(c.ID), values: []any{int64(c.ID), int64(ev.GuildID), int64(c.ChannelID), int64(ev.Sender),
		ev.ID(), ev.Depth, ev.OriginTS, c.Content, rawList(c.Embeds), attachments, jsonText(idStrings(c.Mentions)),
		jsonText(idStrings(c.MentionRoles)), c.MentionEveryone, c.TTS, c.Flags, c.Nonce, ref, components, interaction, webhook, hidden}}
}

// writeMessages projects message.create events. Two creations of one
// message ID (a collision between nodes) keep the one with the smaller
// event ID.
func writeMessages(ctx context.Context, q Querier, msgs []messageRow) error {
	rows := make([][]any, len(msgs))
	for i, m := range msgs {
		rows[i] = m.values
	}
	return bulkInsert(ctx, q, `INSERT INTO messages (id, guild_id, channel_id, author_id, event_id, depth, created_at,
		content, embeds, attachments, mentions, mention_roles, mention_everyone, tts, flags, nonce, reference_id,
		components, interaction, webhook, edited_at, edit_order, pinned, pin_order, pinned_at, hidden, deleted)`,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', FALSE, '', 0, ?, FALSE)`,
		`ON CONFLICT (guild_id, id) DO UPDATE SET channel_id = excluded.channel_id,
		author_id = excluded.author_id, event_id = excluded.event_id, depth = excluded.depth, created_at = excluded.created_at,
		content = excluded.content, embeds = excluded.embeds, attachments = excluded.attachments,
		mentions = excluded.mentions, mention_roles = excluded.mention_roles, mention_everyone = excluded.mention_everyone,
		tts = excluded.tts, flags = excluded.flags, nonce = excluded.nonce, reference_id = excluded.reference_id,
		components = excluded.components, interaction = excluded.interaction, webhook = excluded.webhook,
		hidden = excluded.hidden
		WHERE messages.event_id > excluded.event_id`,
		rows, func(i int) int64 { return msgs[i].id })
}

func editMessage(ctx context.Context, q Querier, ev *event.Event, c *guild.MessageEdit) error {
	var content, embeds, components, attachments *string
	if c.Content != nil {
		content = c.Content
	}
	if c.Embeds != nil {
		e := rawList(*c.Embeds)
		embeds = &e
	}
	if c.Components != nil {
		list := "[]"
		if len(*c.Components) > 0 {
			list = jsonText(*c.Components)
		}
		components = &list
	}
	if c.Attachments != nil {
		list := "[]"
		if len(*c.Attachments) > 0 {
			list = jsonText(*c.Attachments)
		}
		attachments = &list
	}
	_, err := q.ExecContext(ctx, `UPDATE messages SET content = COALESCE(?, content), embeds = COALESCE(?, embeds),
		flags = COALESCE(?, flags), components = COALESCE(?, components), attachments = COALESCE(?, attachments),
		edited_at = ?, edit_order = ? WHERE guild_id = ? AND id = ? AND edit_order < ? AND deleted = FALSE`,
		content, embeds, c.Flags, components, attachments, ev.OriginTS, order(ev), int64(ev.GuildID), int64(c.ID), order(ev))
	return err
}

func setReaction(ctx context.Context, q Querier, guildID snowflake.ID, c *guild.Reaction, user snowflake.ID, present bool, ord string) error {
	var cleared int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM reaction_clears WHERE guild_id = ? AND message_id = ?
		AND emoji IN (?, '') AND decided_by > ?`, int64(guildID), int64(c.MessageID), c.Emoji.Key(), ord).Scan(&cleared); err != nil {
		return err
	}
	if cleared > 0 {
		present = false
	}
	_, err := q.ExecContext(ctx, `INSERT INTO reactions (guild_id, message_id, emoji, user_id, emoji_id, emoji_name, present, decided_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (guild_id, message_id, emoji, user_id) DO UPDATE SET present = excluded.present, decided_by = excluded.decided_by
		WHERE reactions.decided_by < excluded.decided_by`,
		int64(guildID), int64(c.MessageID), c.Emoji.Key(), int64(user), int64(c.Emoji.ID), c.Emoji.Name, present, ord)
	return err
}

func clearReactions(ctx context.Context, q Querier, guildID snowflake.ID, c *guild.ReactionRemoveAll, ord string) error {
	emoji := ""
	if c.Emoji != nil {
		emoji = c.Emoji.Key()
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO reaction_clears (guild_id, message_id, emoji, decided_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (guild_id, message_id, emoji) DO UPDATE SET decided_by = excluded.decided_by
		WHERE reaction_clears.decided_by < excluded.decided_by`, int64(guildID), int64(c.MessageID), emoji, ord); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE reactions SET present = FALSE WHERE guild_id = ? AND message_id = ?
		AND (? = '' OR emoji = ?) AND decided_by < ?`, int64(guildID), int64(c.MessageID), emoji, emoji, ord)
	return err
}

func setPin(ctx context.Context, q Querier, guildID, id snowflake.ID, pinned bool, ts int64, ord string) error {
	_, err := q.ExecContext(ctx, `UPDATE messages SET pinned = ?, pinned_at = ?, pin_order = ?
		WHERE guild_id = ? AND id = ? AND pin_order < ?`, pinned, ts, ord, int64(guildID), int64(id), ord)
	return err
}
