package dispatch

import (
	"encoding/json"
	"maps"
	"slices"

	"concord/clientapi/gateway"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// Dispatches for state events, driven by the keys an event changed rather
// than by its type, so that cascades (a channel delete revoking invites, a
// role delete updating members) are announced too.

type guildRoleEvent struct {
	GuildID snowflake.ID  `json:"guild_id"`
	Role    *objects.Role `json:"role,omitempty"`
	RoleID  *snowflake.ID `json:"role_id,omitempty"`
}

type guildMemberEvent struct {
	objects.Member
	GuildID snowflake.ID `json:"guild_id"`
}

type guildUserEvent struct {
	GuildID snowflake.ID `json:"guild_id"`
	User    objects.User `json:"user"`
}

type inviteEvent struct {
	ChannelID snowflake.ID  `json:"channel_id,omitempty"`
	Code      string        `json:"code"`
	GuildID   snowflake.ID  `json:"guild_id"`
	CreatedAt string        `json:"created_at,omitempty"`
	Inviter   *objects.User `json:"inviter,omitempty"`
	MaxAge    *int64        `json:"max_age,omitempty"`
	MaxUses   *int          `json:"max_uses,omitempty"`
	Temporary *bool         `json:"temporary,omitempty"`
	Uses      *int          `json:"uses,omitempty"`
	inviterID snowflake.ID
}

// out is one dispatch waiting for user objects.
type out struct {
	typ     string
	channel snowflake.ID
	intent  gateway.Intents
	payload any
}

func (t *translation) state() error {
	ev := t.acc.Event
	switch {
	case ev.Type == guild.TypeGuildDelete:
		t.tr.live.DropGuild(t.gid)
		return t.publish("GUILD_DELETE", 0, gateway.IntentGuilds, map[string]any{"id": t.gid})
	case ev.Type == guild.TypeGuildCreate && t.dm:
		return t.dmCreated()
	case ev.Type == guild.TypeGuildCreate:
		t.sink.JoinGuild(t.ctx, t.gid, ev.Sender)
		return nil
	case t.dm && ev.Type == guild.TypeMemberLeave && t.acc.Applied:
		return t.dmLeft(ev.Sender)
	case t.dm && ev.Type == guild.TypeMemberAdd && t.acc.Applied:
		return t.dmAdded(ev.Content)
	case t.dm:
		return nil // DM rooms change only by messages, and by leaving
	}
	var outs []out
	var joined, left []snowflake.ID
	var users []snowflake.ID
	nowMs := t.tr.nowMs()
	seen := map[guild.Key]bool{}
	s := t.after
	for _, k := range t.acc.Changes {
		if seen[k] {
			continue
		}
		seen[k] = true
		id, _ := snowflake.Parse(k.ID)
		switch k.Kind {
		case "guild":
			outs = append(outs, out{"GUILD_UPDATE", 0, gateway.IntentGuilds, objects.RenderGuild(s)})
		case "role":
			if r := s.Roles[id]; r != nil {
				typ := "GUILD_ROLE_UPDATE"
				if ev.Type == guild.TypeRoleCreate {
					typ = "GUILD_ROLE_CREATE"
				}
				ro := objects.RenderRole(s, r)
				outs = append(outs, out{typ, 0, gateway.IntentGuilds, guildRoleEvent{GuildID: t.gid, Role: &ro}})
			} else {
				outs = append(outs, out{"GUILD_ROLE_DELETE", 0, gateway.IntentGuilds, guildRoleEvent{GuildID: t.gid, RoleID: &id}})
			}
		case "channel":
			if ch := s.Channels[id]; ch != nil {
				typ := "CHANNEL_UPDATE"
				if ev.Type == guild.TypeChannelCreate {
					typ = "CHANNEL_CREATE"
				}
				outs = append(outs, out{typ, id, gateway.IntentGuilds, objects.RenderChannel(s, ch)})
			} else {
				// Sent guild-wide: the channel is gone, so visibility
				// can no longer be computed; only its ID is told.
				outs = append(outs, out{"CHANNEL_DELETE", 0, gateway.IntentGuilds,
					map[string]any{"id": id, "guild_id": t.gid, "type": 0}})
			}
		case "member":
			users = append(users, id)
			if m := s.Members[id]; m != nil {
				typ := "GUILD_MEMBER_UPDATE"
				if ev.Type == guild.TypeMemberJoin || ev.Type == guild.TypeMemberAdd {
					typ = "GUILD_MEMBER_ADD"
					joined = append(joined, id)
				}
				outs = append(outs, out{typ, 0, gateway.IntentGuildMembers, &guildMemberEvent{objects.RenderMember(m), t.gid}})
			} else {
				left = append(left, id)
				outs = append(outs, out{"GUILD_MEMBER_REMOVE", 0, gateway.IntentGuildMembers, &guildUserEvent{GuildID: t.gid, User: objects.User{ID: id}}})
			}
		case "ban":
			users = append(users, id)
			typ := "GUILD_BAN_REMOVE"
			if s.Bans[id] != nil {
				typ = "GUILD_BAN_ADD"
			}
			outs = append(outs, out{typ, 0, gateway.IntentGuildModeration, &guildUserEvent{GuildID: t.gid, User: objects.User{ID: id}}})
		case "invite":
			if inv := s.Invites[k.ID]; inv != nil && usable(inv, nowMs) {
				maxAge, maxUses, temp, uses := inv.MaxAge, inv.MaxUses, inv.Temporary, inv.Uses
				users = append(users, inv.InviterID)
				outs = append(outs, out{"INVITE_CREATE", inv.ChannelID, gateway.IntentGuildInvites, &inviteEvent{
					ChannelID: inv.ChannelID, Code: inv.Code, GuildID: t.gid, CreatedAt: objects.ISOTime(inv.CreatedAt),
					MaxAge: &maxAge, MaxUses: &maxUses, Temporary: &temp, Uses: &uses, inviterID: inv.InviterID}})
			} else {
				outs = append(outs, out{"INVITE_DELETE", 0, gateway.IntentGuildInvites, &inviteEvent{Code: k.ID, GuildID: t.gid}})
			}
		case "webhook":
			channel := webhookChannel(s, ev.Type, ev.Content, id)
			if key := (guild.Key{Kind: "webhooks", ID: channel.String()}); channel != 0 && !seen[key] {
				seen[key] = true
				outs = append(outs, out{"WEBHOOKS_UPDATE", channel, gateway.IntentGuildWebhooks,
					map[string]any{"guild_id": t.gid, "channel_id": channel}})
			}
		case "emoji":
			if !seen[guild.Key{Kind: "emojis"}] {
				seen[guild.Key{Kind: "emojis"}] = true
				outs = append(outs, out{"GUILD_EMOJIS_UPDATE", 0, gateway.IntentGuildExpressions,
					map[string]any{"guild_id": t.gid, "emojis": objects.RenderGuild(s).Emojis}})
			}
		}
	}
	slices.Sort(users)
	byID, err := t.tr.objects.Users(t.ctx, slices.Compact(users))
	if err != nil {
		return err
	}
	for _, o := range outs {
		switch p := o.payload.(type) {
		case *guildMemberEvent:
			u := byID[p.User.ID]
			p.User = &u
		case *guildUserEvent:
			p.User = byID[p.User.ID]
		case *inviteEvent:
			if p.inviterID != 0 {
				u := byID[p.inviterID]
				p.Inviter = &u
			}
		}
		if err := t.publish(o.typ, o.channel, o.intent, o.payload); err != nil {
			return err
		}
	}
	// Others hear of a join before the joiner gets the guild, and a
	// leaver's GUILD_DELETE follows GUILD_MEMBER_REMOVE, as on Discord.
	for _, id := range joined {
		t.sink.JoinGuild(t.ctx, t.gid, id)
	}
	for _, id := range left {
		t.sink.LeaveGuild(t.gid, id)
		t.tr.live.LeaveGuild(t.gid, id)
	}
	return nil
}

// dmCreated subscribes a new DM's recipients and sends each its
// CHANNEL_CREATE (the recipients listed are the others).
func (t *translation) dmCreated() error {
	for uid := range t.after.Members {
		t.sink.AddRoom(t.gid, uid)
	}
	return t.toEachMember("CHANNEL_CREATE")
}

// dmLeft tells of a user who left a group DM: they get CHANNEL_DELETE and
// no more of it; the others get CHANNEL_RECIPIENT_REMOVE, and the group as
// it is now (CHANNEL_UPDATE), whose owner may have changed.
func (t *translation) dmLeft(user snowflake.ID) error {
	t.sink.LeaveGuild(t.gid, user)
	gone, err := json.Marshal(map[string]any{"id": t.gid, "type": 3})
	if err != nil {
		return err
	}
	t.sink.Publish(gateway.Dispatch{Type: "CHANNEL_DELETE", Payload: gone, UserIDs: []snowflake.ID{user}})
	users, err := t.tr.objects.Users(t.ctx, []snowflake.ID{user})
	if err != nil {
		return err
	}
	if err := t.publish("CHANNEL_RECIPIENT_REMOVE", 0, 0, map[string]any{"channel_id": t.gid, "user": users[user]}); err != nil {
		return err
	}
	return t.toEachMember("CHANNEL_UPDATE")
}

// dmAdded tells of a user added to a group DM: they get it
// (CHANNEL_CREATE) and its events from now on; the others get
// CHANNEL_RECIPIENT_ADD.
func (t *translation) dmAdded(content json.RawMessage) error {
	var add guild.MemberAdd
	if err := json.Unmarshal(content, &add); err != nil {
		return err
	}
	users, err := t.tr.objects.Users(t.ctx, []snowflake.ID{add.UserID})
	if err != nil {
		return err
	}
	if err := t.publish("CHANNEL_RECIPIENT_ADD", 0, 0, map[string]any{"channel_id": t.gid, "user": users[add.UserID]}); err != nil {
		return err
	}
	t.sink.AddRoom(t.gid, add.UserID)
	return t.toMember("CHANNEL_CREATE", add.UserID)
}

// toEachMember sends each member of a DM room the room as they see it.
func (t *translation) toEachMember(typ string) error {
	for _, uid := range slices.Sorted(maps.Keys(t.after.Members)) {
		if err := t.toMember(typ, uid); err != nil {
			return err
		}
	}
	return nil
}

// toMember sends one member of a DM room the room as they see it.
func (t *translation) toMember(typ string, uid snowflake.ID) error {
	dms, err := t.tr.objects.DMs(t.ctx, uid, t.gid)
	if err != nil || len(dms) == 0 {
		return err
	}
	data, err := json.Marshal(dms[0])
	if err != nil {
		return err
	}
	t.sink.Publish(gateway.Dispatch{Type: typ, Payload: data, UserIDs: []snowflake.ID{uid}})
	return nil
}

// usable reports whether an invite still admits someone at nowMs.
func usable(inv *guild.Invite, nowMs int64) bool {
	return (inv.MaxAge == 0 || nowMs <= inv.CreatedAt+inv.MaxAge*1000) && (inv.MaxUses == 0 || inv.Uses < inv.MaxUses)
}

// webhookChannel is the channel whose webhooks changed: the webhook's
// own, or the one a webhook.delete names. A webhook that went with its
// channel is told of by CHANNEL_DELETE alone, as on Discord.
func webhookChannel(s *guild.State, typ string, content []byte, id snowflake.ID) snowflake.ID {
	if w := s.Webhooks[id]; w != nil {
		return w.ChannelID
	}
	if typ != guild.TypeWebhookDelete {
		return 0
	}
	var del guild.WebhookDelete
	json.Unmarshal(content, &del)
	return del.ChannelID
}
