package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"concord/clientapi/gateway"
	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// translate publishes the dispatches of one committed event.
func (tr *Translator) translate(ctx context.Context, acc *room.Accepted) {
	ev := acc.Event
	if acc.State && !acc.Applied && len(acc.Changes) == 0 {
		// State resolution set it aside and nothing visible changed. (A
		// fork's refold reports every change on one event of the batch,
		// which may itself be set aside.)
		return
	}
	t := &translation{tr: tr, ctx: ctx, acc: acc, after: acc.After, sink: tr.sink, gid: ev.GuildID, dm: objects.IsDM(acc.After)}
	var err error
	switch ev.Type {
	case guild.TypeMessageCreate, guild.TypeMessageEdit:
		err = t.message()
	case guild.TypeMessageDelete, guild.TypeMessageBulkDelete:
		err = t.messageDelete()
	case guild.TypeReactionAdd, guild.TypeReactionRemove, guild.TypeReactionRemoveAll:
		err = t.reaction()
	case guild.TypePinAdd, guild.TypePinRemove:
		err = t.pins()
	default:
		err = t.state()
	}
	if err == nil && len(acc.Removed) > 0 && ev.Type != guild.TypeMessageDelete && ev.Type != guild.TypeMessageBulkDelete {
		err = t.removed()
	}
	if err != nil {
		tr.log.Error("dispatch: translate event", "type", ev.Type, "guild", ev.GuildID, "err", err)
	}
}

// translation renders one event from what it carries and from the state
// right after it (after): never from the room's current state, which may
// already hold later events.
type translation struct {
	tr    *Translator
	ctx   context.Context
	acc   *room.Accepted
	after *guild.State
	sink  Sink
	gid   snowflake.ID
	dm    bool
}

// publish renders payload and sends it. A guild event's payload carries
// guild_id; the caller's structs say so themselves.
func (t *translation) publish(typ string, channel snowflake.ID, intent gateway.Intents, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("render %s: %w", typ, err)
	}
	t.sink.Publish(gateway.Dispatch{Type: typ, GuildID: t.gid, ChannelID: channel, Intent: intent, Payload: data})
	return nil
}

// guildID is the payload's guild_id: absent in DMs.
func (t *translation) guildID() *snowflake.ID {
	if t.dm {
		return nil
	}
	return &t.gid
}

func (t *translation) pick(guildIntent, dmIntent gateway.Intents) gateway.Intents {
	if t.dm {
		return dmIntent
	}
	return guildIntent
}

// message renders MESSAGE_CREATE from the event itself, and MESSAGE_UPDATE
// from the message as stored once the edit's batch committed: an edit
// carries only what it changes, and one that lost to a newer edit shows the
// message as that one left it.
func (t *translation) message() error {
	if t.acc.Hidden {
		return nil // a banned sender's message no node shows
	}
	ev := t.acc.Event
	place := objects.Place{Room: t.gid, DM: t.dm}
	var row objects.MessageRow
	typ, fresh := "MESSAGE_CREATE", true
	if ev.Type == guild.TypeMessageCreate {
		c, err := guild.Decode[guild.MessageCreate](ev.Content)
		if err != nil {
			return err
		}
		if slices.Contains(t.acc.Removed, c.ID) {
			return nil // erased as it came, by a ban's window
		}
		place.Channel = c.ChannelID
		row = objects.RowFromCreate(place, ev.Sender, c, ev.OriginTS)
	} else {
		c, err := guild.Decode[guild.MessageEdit](ev.Content)
		if err != nil {
			return err
		}
		place.Channel, typ, fresh = c.ChannelID, "MESSAGE_UPDATE", false
		if row, err = t.tr.objects.Message(t.ctx, place, c.ID); errors.Is(err, httperr.UnknownMessage) {
			return nil // deleted since: its MESSAGE_DELETE follows
		} else if err != nil {
			return err
		}
	}
	objs, err := t.tr.objects.Render(t.ctx, place, 0, []objects.MessageRow{row}, t.members, fresh)
	if err != nil {
		return err
	}
	o := objs[0]
	full, err := json.Marshal(o)
	if err != nil {
		return err
	}
	d := gateway.Dispatch{Type: typ, GuildID: t.gid, ChannelID: place.Channel, Intent: gateway.IntentDirectMessages, Payload: full}
	if !t.dm {
		// Bots without MESSAGE_CONTENT see content only of their own
		// messages and of those that mention them.
		d.Intent = gateway.IntentGuildMessages
		bare := o
		bare.Content, bare.Embeds, bare.Attachments = "", []json.RawMessage{}, []objects.Attachment{}
		if d.PayloadNoContent, err = json.Marshal(bare); err != nil {
			return err
		}
		d.ContentUsers = []snowflake.ID{row.AuthorID}
		for _, u := range o.Mentions {
			d.ContentUsers = append(d.ContentUsers, u.ID)
		}
	}
	t.sink.Publish(d)
	return nil
}

func (t *translation) messageDelete() error {
	intent := t.pick(gateway.IntentGuildMessages, gateway.IntentDirectMessages)
	if t.acc.Event.Type == guild.TypeMessageDelete {
		c, err := guild.Decode[guild.MessageTarget](t.acc.Event.Content)
		if err != nil {
			return err
		}
		return t.publish("MESSAGE_DELETE", c.ChannelID, intent, map[string]any{"id": c.ID, "channel_id": c.ChannelID, "guild_id": t.guildID()})
	}
	c, err := guild.Decode[guild.MessageBulkDelete](t.acc.Event.Content)
	if err != nil {
		return err
	}
	return t.publish("MESSAGE_DELETE_BULK", c.ChannelID, intent, map[string]any{"ids": c.IDs, "channel_id": c.ChannelID, "guild_id": t.guildID()})
}

// removed announces messages an event took from view besides a delete: a
// ban that hides its member's messages, an erasure.
func (t *translation) removed() error {
	ids := t.acc.Removed
	rows, err := t.tr.db.Reader().QueryContext(t.ctx, `SELECT id, channel_id FROM messages WHERE guild_id = ? AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`,
		append([]any{int64(t.acc.Event.GuildID)}, objects.Int64Args(ids)...)...)
	if err != nil {
		return fmt.Errorf("removed messages: %w", err)
	}
	byChannel := map[snowflake.ID][]snowflake.ID{}
	for rows.Next() {
		var id, ch int64
		if err := rows.Scan(&id, &ch); err != nil {
			rows.Close()
			return fmt.Errorf("removed messages: %w", err)
		}
		byChannel[snowflake.ID(ch)] = append(byChannel[snowflake.ID(ch)], snowflake.ID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("removed messages: %w", err)
	}
	intent := t.pick(gateway.IntentGuildMessages, gateway.IntentDirectMessages)
	for ch, ids := range byChannel {
		slices.Sort(ids)
		if err := t.publish("MESSAGE_DELETE_BULK", ch, intent, map[string]any{"ids": ids, "channel_id": ch, "guild_id": t.guildID()}); err != nil {
			return err
		}
	}
	return nil
}

type reactionEvent struct {
	UserID    snowflake.ID           `json:"user_id,omitempty"`
	ChannelID snowflake.ID           `json:"channel_id"`
	MessageID snowflake.ID           `json:"message_id"`
	GuildID   *snowflake.ID          `json:"guild_id,omitempty"`
	Emoji     *objects.ReactionEmoji `json:"emoji,omitempty"`
	Member    *objects.Member        `json:"member,omitempty"`
	Burst     bool                   `json:"burst"`
	Type      int                    `json:"type"`
}

func EmojiOf(e guild.Emoji) *objects.ReactionEmoji {
	return &objects.ReactionEmoji{ID: objects.NonZero(e.ID), Name: e.Name}
}

func (t *translation) reaction() error {
	ev := t.acc.Event
	intent := t.pick(gateway.IntentGuildMessageReactions, gateway.IntentDirectMessageReactions)
	if ev.Type == guild.TypeReactionRemoveAll {
		c, err := guild.Decode[guild.ReactionRemoveAll](ev.Content)
		if err != nil {
			return err
		}
		p := reactionEvent{ChannelID: c.ChannelID, MessageID: c.MessageID, GuildID: t.guildID()}
		if c.Emoji == nil {
			return t.publish("MESSAGE_REACTION_REMOVE_ALL", c.ChannelID, intent, p)
		}
		p.Emoji = objects.EmojiOf(*c.Emoji)
		return t.publish("MESSAGE_REACTION_REMOVE_EMOJI", c.ChannelID, intent, p)
	}
	c, err := guild.Decode[guild.Reaction](ev.Content)
	if err != nil {
		return err
	}
	user := c.UserID
	if user == 0 {
		user = ev.Sender
	}
	p := reactionEvent{UserID: user, ChannelID: c.ChannelID, MessageID: c.MessageID, GuildID: t.guildID(), Emoji: objects.EmojiOf(c.Emoji)}
	typ := "MESSAGE_REACTION_REMOVE"
	if ev.Type == guild.TypeReactionAdd {
		typ = "MESSAGE_REACTION_ADD"
		if m := t.after.Members[user]; m != nil && !t.dm {
			members := []objects.Member{objects.RenderMember(m)}
			if t.tr.objects.WithUsers(t.ctx, members) == nil {
				p.Member = &members[0]
			}
		}
	}
	return t.publish(typ, c.ChannelID, intent, p)
}

func (t *translation) pins() error {
	c, err := guild.Decode[guild.Pin](t.acc.Event.Content)
	if err != nil {
		return err
	}
	var last *string
	if t.acc.Event.Type == guild.TypePinAdd {
		ts := objects.ISOTime(t.acc.Event.OriginTS)
		last = &ts
	}
	return t.publish("CHANNEL_PINS_UPDATE", c.ChannelID, t.pick(gateway.IntentGuilds, gateway.IntentDirectMessages),
		map[string]any{"guild_id": t.guildID(), "channel_id": c.ChannelID, "last_pin_timestamp": last})
}

// members renders the members among ids as the event found them.
func (t *translation) members(ids []snowflake.ID) map[snowflake.ID]objects.Member {
	out := map[snowflake.ID]objects.Member{}
	for _, id := range ids {
		if m := t.after.Members[id]; m != nil {
			out[id] = objects.RenderMember(m)
		}
	}
	return out
}
