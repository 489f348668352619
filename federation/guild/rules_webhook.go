package guild

import (
	"strings"

	"concord/federation/perm"
)

// Limits on webhooks, as on Discord.
const (
	MaxWebhooksPerChannel = 15
	MaxWebhooksPerGuild   = 1000
	MaxWebhookNameRunes   = 80
	MaxAvatarURLBytes     = 2048
)

func webhookRules() map[string]rule {
	return map[string]rule{
		TypeWebhookCreate: typed(checkWebhookCreate, applyWebhookCreate),
		TypeWebhookUpdate: typed(checkWebhookUpdate, applyWebhookUpdate),
		TypeWebhookDelete: typed(checkWebhookDelete, applyWebhookDelete),
	}
}

// CheckWebhookName checks a webhook's name, or the name a message posted
// through one shows: 1 to 80 characters, and never passing for the
// service itself.
func CheckWebhookName(field, name string) error {
	if err := checkName(field, name, 1, MaxWebhookNameRunes); err != nil {
		return err
	}
	lower := strings.ToLower(name)
	for _, word := range []string{"clyde", "discord"} {
		if strings.Contains(lower, word) {
			return invalid(ReasonBadContent, field, "%s must not contain %q", field, word)
		}
	}
	return nil
}

// webhookChannel is a channel a webhook may post in, where the sender
// holds MANAGE_WEBHOOKS.
func webhookChannel(s *State, op *Op, id ID) error {
	ch, err := guildChannel(s, op, id)
	if err != nil {
		return err
	}
	if ch.Type == ChannelCategory {
		return reject(ReasonUnknownTarget, CodeUnknownChannel, "channel %s is a category", id)
	}
	return need(s, op, id, perm.ManageWebhooks)
}

func checkWebhookCreate(s *State, op *Op, c *WebhookCreate) error {
	if err := webhookChannel(s, op, c.ChannelID); err != nil {
		return err
	}
	// A webhook's ID is the author of its messages: it must name no one else.
	_, isUser := s.Homes[c.ID]
	if c.ID == 0 || s.Webhooks[c.ID] != nil || s.Members[c.ID] != nil || isUser {
		return invalid(ReasonIDInUse, "id", "webhook %s", c.ID)
	}
	if err := CheckWebhookName("name", c.Name); err != nil {
		return err
	}
	inChannel := 0
	for _, w := range s.Webhooks {
		if w.ChannelID == c.ChannelID {
			inChannel++
		}
	}
	if inChannel >= MaxWebhooksPerChannel {
		return reject(ReasonLimit, CodeMaxWebhooks, "a channel has at most %d webhooks", MaxWebhooksPerChannel)
	}
	if len(s.Webhooks) >= MaxWebhooksPerGuild {
		return reject(ReasonLimit, CodeMaxGuildWebhooks, "a guild has at most %d webhooks", MaxWebhooksPerGuild)
	}
	return nil
}

func applyWebhookCreate(s *State, op *Op, c *WebhookCreate, ch *Changes) {
	w := &Webhook{ID: c.ID, ChannelID: c.ChannelID, Name: c.Name, Avatar: c.Avatar, CreatorID: op.Sender, Origin: op.Origin}
	if m := s.Members[op.Sender]; m != nil && m.Bot {
		w.ApplicationID = op.Sender // a bot's user and application share an ID
	}
	s.Webhooks[c.ID] = w
	ch.add("webhook", c.ID)
}

// selfWebhook reports whether op is a webhook changing or deleting itself,
// which its token allows: the sender is the webhook, and the event comes
// from the node holding that token.
func selfWebhook(s *State, op *Op) bool {
	var id ID
	switch b := op.body.(type) {
	case *WebhookUpdate:
		id = b.ID
	case *WebhookDelete:
		id = b.ID
	default:
		return false
	}
	w := s.Webhooks[id]
	return w != nil && id == op.Sender && w.Origin == op.Origin
}

// managedWebhook is the webhook id, which the sender may manage: it is the
// webhook itself, or holds MANAGE_WEBHOOKS in its channel.
func managedWebhook(s *State, op *Op, id ID) (*Webhook, error) {
	w := s.Webhooks[id]
	if w == nil {
		return nil, reject(ReasonUnknownTarget, CodeUnknownWebhook, "webhook %s", id)
	}
	if op.Sender == id {
		return w, nil // selfWebhook vouched for it
	}
	if err := webhookChannel(s, op, w.ChannelID); err != nil {
		if rej, ok := err.(*Rejection); ok && rej.Code == CodeUnknownChannel {
			rej.Code = CodeUnknownWebhook // a webhook of a channel one cannot see is unknown
		}
		return nil, err
	}
	return w, nil
}

func checkWebhookUpdate(s *State, op *Op, c *WebhookUpdate) error {
	w, err := managedWebhook(s, op, c.ID)
	if err != nil {
		return err
	}
	if c.Name != nil {
		if err := CheckWebhookName("name", *c.Name); err != nil {
			return err
		}
	}
	if c.ChannelID == nil || *c.ChannelID == w.ChannelID {
		return nil
	}
	if op.Sender == c.ID {
		return reject(ReasonMissingPerm, CodeMissingPermissions, "a webhook's token does not move it")
	}
	if err := webhookChannel(s, op, *c.ChannelID); err != nil {
		return err
	}
	inChannel := 0
	for _, o := range s.Webhooks {
		if o.ChannelID == *c.ChannelID {
			inChannel++
		}
	}
	if inChannel >= MaxWebhooksPerChannel {
		return reject(ReasonLimit, CodeMaxWebhooks, "a channel has at most %d webhooks", MaxWebhooksPerChannel)
	}
	return nil
}

func applyWebhookUpdate(s *State, op *Op, c *WebhookUpdate, ch *Changes) {
	w := s.Webhooks[c.ID]
	set(&w.Name, c.Name)
	set(&w.Avatar, c.Avatar)
	set(&w.ChannelID, c.ChannelID)
	ch.add("webhook", c.ID)
}

func checkWebhookDelete(s *State, op *Op, c *WebhookDelete) error {
	w, err := managedWebhook(s, op, c.ID)
	if err != nil {
		return err
	}
	if w.ChannelID != c.ChannelID {
		return invalid(ReasonBadContent, "channel_id", "webhook %s posts in %s, not %s", c.ID, w.ChannelID, c.ChannelID)
	}
	return nil
}

func applyWebhookDelete(s *State, op *Op, c *WebhookDelete, ch *Changes) {
	delete(s.Webhooks, c.ID)
	ch.add("webhook", c.ID)
}

// checkWebhookMessage decides a message event whose sender is webhook w: it
// posts in its own channel, from the node holding its token, and edits or
// deletes only its own messages. It needs no permission: whoever made it
// held MANAGE_WEBHOOKS, and deleting it is how that is taken back.
func checkWebhookMessage(s *State, op *Op, w *Webhook, targets Targets) error {
	if w.Origin != op.Origin {
		return reject(ReasonWrongOrigin, CodeUnknownWebhook, "webhook %s belongs to %s, not %s", w.ID, w.Origin, op.Origin)
	}
	// A webhook moved to another channel still edits what it posted before.
	own := func(id, channel ID) error {
		t := targets[id]
		if t.ChannelID != channel {
			return reject(ReasonMessageMismatch, CodeUnknownMessage, "message %s is not in channel %s", id, channel)
		}
		if t.AuthorID != w.ID {
			return reject(ReasonNotAuthor, CodeUnknownMessage, "message %s is not webhook %s's", id, w.ID)
		}
		return nil
	}
	switch b := op.body.(type) {
	case *MessageCreate:
		if b.ChannelID != w.ChannelID {
			return reject(ReasonUnknownTarget, CodeUnknownChannel, "webhook %s posts in %s", w.ID, w.ChannelID)
		}
		if b.Webhook == nil {
			return invalid(ReasonBadContent, "webhook", "a webhook's message says how its author shows")
		}
		if err := CheckWebhookName("username", b.Webhook.Name); err != nil {
			return err
		}
		if len(b.Webhook.AvatarURL) > MaxAvatarURLBytes {
			return invalid(ReasonBadContent, "avatar_url", "avatar_url is longer than %d bytes", MaxAvatarURLBytes)
		}
		if b.Interaction != nil || b.Reference != nil {
			return invalid(ReasonBadContent, "", "a webhook answers no interaction and replies to nothing")
		}
		return checkCreateContent(b)
	case *MessageEdit:
		if err := own(b.ID, b.ChannelID); err != nil {
			return err
		}
		return checkEditContent(b)
	case *MessageTarget:
		return own(b.ID, b.ChannelID)
	}
	return reject(ReasonMissingPerm, CodeMissingPermissions, "a webhook only posts, edits and deletes its messages")
}
