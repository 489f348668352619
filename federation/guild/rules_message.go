package guild

import (
	"concord/federation/perm"
)

// bulkDeleteWindow is how old a message bulk delete may reach, as on Discord.
const bulkDeleteWindow = 14 * 24 * 3600 * 1000

// MessageInfo is what the core knows of a message an event targets, read
// from that message's create event, which must be among the event's auth
// events.
type MessageInfo struct {
	ID        ID
	ChannelID ID
	AuthorID  ID
	TS        int64
}

// Targets maps message IDs to the message create events found among an
// event's auth events.
type Targets map[ID]*MessageInfo

// TargetIDs lists the message IDs a message-level event refers to; the core
// looks their create events up among the auth events.
func (op *Op) TargetIDs() []ID {
	switch b := op.body.(type) {
	case *MessageEdit:
		return []ID{b.ID}
	case *MessageTarget:
		return []ID{b.ID}
	case *MessageBulkDelete:
		return b.IDs
	case *Reaction:
		return []ID{b.MessageID}
	case *ReactionRemoveAll:
		return []ID{b.MessageID}
	case *Pin:
		return []ID{b.MessageID}
	}
	return nil
}

func (op *Op) prepareMessage() error {
	var (
		body any
		err  error
	)
	switch op.Type {
	case TypeMessageCreate:
		body, err = Decode[MessageCreate](op.Content)
	case TypeMessageEdit:
		body, err = Decode[MessageEdit](op.Content)
	case TypeMessageDelete:
		body, err = Decode[MessageTarget](op.Content)
	case TypeMessageBulkDelete:
		body, err = Decode[MessageBulkDelete](op.Content)
	case TypeReactionAdd, TypeReactionRemove:
		body, err = Decode[Reaction](op.Content)
	case TypeReactionRemoveAll:
		body, err = Decode[ReactionRemoveAll](op.Content)
	case TypePinAdd, TypePinRemove:
		body, err = Decode[Pin](op.Content)
	}
	if err != nil {
		return invalid(ReasonBadContent, "", "%s: %v", op.Type, err)
	}
	if err := storable(body); err != nil {
		return err
	}
	op.body = body
	return nil
}

// CheckMessage decides whether a message-level event is allowed by s, the
// state before it. targets holds the messages it refers to.
func CheckMessage(s *State, op *Op, targets Targets) error {
	if err := op.Prepare(); err != nil {
		return err
	}
	if !messageTypes[op.Type] {
		return invalid(ReasonUnknownType, "", "%q is not a message event", op.Type)
	}
	if s.Deleted {
		return reject(ReasonGuildDeleted, HiddenCode(op.Type), "guild %s was deleted", s.ID)
	}
	if !contains(op.AuthEvents, s.CreateEvent) {
		return reject(ReasonMissingAuth, HiddenCode(op.Type), "auth_events lacks the guild's create event")
	}
	webhook := s.Webhooks[op.Sender] // no member has a webhook's ID
	if webhook == nil {
		if err := senderIsMember(s, op); err != nil {
			return err
		}
	}
	if err := sameChannel(op, targets); err != nil {
		return err
	}
	if webhook != nil {
		return checkWebhookMessage(s, op, webhook, targets)
	}
	switch b := op.body.(type) {
	case *MessageCreate:
		return checkMessageCreate(s, op, b)
	case *MessageEdit:
		return checkMessageEdit(s, op, b, targets[b.ID])
	case *MessageTarget:
		return checkMessageDelete(s, op, b, targets[b.ID])
	case *MessageBulkDelete:
		return checkBulkDelete(s, op, b, targets)
	case *Reaction:
		return checkReaction(s, op, b, targets[b.MessageID])
	case *ReactionRemoveAll:
		return checkInChannel(s, op, b.ChannelID, targets[b.MessageID], perm.ViewChannel|perm.ManageMessages)
	case *Pin:
		return checkPin(s, op, b, targets[b.MessageID])
	}
	return invalid(ReasonUnknownType, "", "%q", op.Type)
}

// sameChannel checks that the messages op refers to are all among its
// auth events, and all of one channel.
func sameChannel(op *Op, targets Targets) error {
	var channel ID
	for _, id := range op.TargetIDs() {
		t := targets[id]
		// A target the event does not carry, or carries from elsewhere, is
		// a message this node cannot show the client.
		if t == nil {
			return reject(ReasonMissingAuth, CodeUnknownMessage, "auth_events lacks message %s", id)
		}
		if channel != 0 && t.ChannelID != channel {
			return reject(ReasonMessageMismatch, CodeUnknownMessage, "messages of several channels")
		}
		channel = t.ChannelID
	}
	return nil
}

// seeChannel checks that target (if any) lives in channel and that the
// sender can see the channel. A channel it cannot see is unknown to it, as
// in the client API, so that nothing leaks.
func seeChannel(s *State, op *Op, channel ID, target *MessageInfo) error {
	if s.Channels[channel] == nil {
		return reject(ReasonUnknownTarget, CodeUnknownChannel, "channel %s", channel)
	}
	if target != nil && target.ChannelID != channel {
		return reject(ReasonMessageMismatch, CodeUnknownMessage, "message %s is not in channel %s", target.ID, channel)
	}
	if !s.Permissions(op.Sender, channel, op.TS).Has(perm.ViewChannel) {
		return reject(ReasonMissingPerm, CodeUnknownChannel, "%s cannot see channel %s", op.Sender, channel)
	}
	return nil
}

// checkInChannel checks that target lives in channel and that the sender
// holds bits there.
func checkInChannel(s *State, op *Op, channel ID, target *MessageInfo, bits perm.Bits) error {
	if err := seeChannel(s, op, channel, target); err != nil {
		return err
	}
	return need(s, op, channel, bits)
}

// manageOthers checks that the sender may act on others' messages in
// channel. Nobody may in a DM, which Discord answers with a code of its own.
func manageOthers(s *State, op *Op, channel ID) error {
	if s.Kind != KindGuild {
		return reject(ReasonMissingPerm, CodeCannotInDM, "nobody manages another's messages in a DM")
	}
	return need(s, op, channel, perm.ViewChannel|perm.ManageMessages)
}

// checkMessageCreate asks whether the sender may post in the channel at all
// before it looks at the message, as the client API does.
func checkMessageCreate(s *State, op *Op, c *MessageCreate) error {
	if ch := s.Channels[c.ChannelID]; ch != nil && ch.Type == ChannelCategory {
		return reject(ReasonUnknownTarget, CodeUnknownChannel, "channel %s is a category", c.ChannelID)
	}
	if err := checkInChannel(s, op, c.ChannelID, nil, perm.ViewChannel|perm.SendMessages); err != nil {
		return err
	}
	if c.Webhook != nil {
		return invalid(ReasonBadContent, "webhook", "only a webhook's message shows a webhook's name")
	}
	if err := checkCreateContent(c); err != nil {
		return err
	}
	if err := checkInteraction(s, op, c.Interaction); err != nil {
		return err
	}
	var bits perm.Bits
	if len(c.Attachments) > 0 {
		bits |= perm.AttachFiles
	}
	if len(c.Embeds) > 0 {
		bits |= perm.EmbedLinks
	}
	if c.TTS {
		bits |= perm.SendTTSMessages
	}
	if c.MentionEveryone {
		bits |= perm.MentionEveryone
	}
	return need(s, op, c.ChannelID, bits)
}

// checkCreateContent checks what a new message holds, whoever posts it.
func checkCreateContent(c *MessageCreate) error {
	if c.ID == 0 {
		return invalid(ReasonBadContent, "id", "id is required")
	}
	if runeLen(c.Content) > MaxContentRunes {
		return invalid(ReasonBadContent, "content", "content is longer than %d characters", MaxContentRunes)
	}
	deferred := c.Interaction != nil && c.Flags&FlagLoading != 0 // a bot's "thinking…", edited into its answer
	if c.Content == "" && len(c.Embeds) == 0 && len(c.Attachments) == 0 && len(c.Components) == 0 && !deferred {
		return reject(ReasonBadContent, CodeEmptyMessage, "a message needs content, an embed, a file or components")
	}
	if err := checkComponents(c.Components); err != nil {
		return err
	}
	if len(c.Embeds) > MaxEmbeds {
		return invalid(ReasonLimit, "embeds", "at most %d embeds", MaxEmbeds)
	}
	if len(c.Attachments) > MaxAttachments {
		return invalid(ReasonLimit, "files", "at most %d files", MaxAttachments)
	}
	return nil
}

// checkMessageEdit asks who may edit before what the edit says, as the
// client API does.
func checkMessageEdit(s *State, op *Op, c *MessageEdit, t *MessageInfo) error {
	if err := seeChannel(s, op, c.ChannelID, t); err != nil {
		return err
	}
	if t.AuthorID != op.Sender {
		// Others may only change flags (suppress embeds), with MANAGE_MESSAGES.
		if c.Content != nil || c.Embeds != nil || c.Components != nil || c.Attachments != nil {
			return reject(ReasonNotAuthor, CodeCannotEditOthers, "only the author edits a message")
		}
		if err := need(s, op, c.ChannelID, perm.ViewChannel|perm.ManageMessages); err != nil {
			return err
		}
	}
	if err := checkEditContent(c); err != nil {
		return err
	}
	if c.Attachments != nil && len(*c.Attachments) > 0 {
		return need(s, op, c.ChannelID, perm.AttachFiles)
	}
	return nil
}

// checkEditContent checks what an edit sets, whoever makes it.
func checkEditContent(c *MessageEdit) error {
	if c.Content != nil && runeLen(*c.Content) > MaxContentRunes {
		return invalid(ReasonBadContent, "content", "content is longer than %d characters", MaxContentRunes)
	}
	if c.Embeds != nil && len(*c.Embeds) > MaxEmbeds {
		return invalid(ReasonLimit, "embeds", "at most %d embeds", MaxEmbeds)
	}
	if c.Attachments != nil && len(*c.Attachments) > MaxAttachments {
		return invalid(ReasonLimit, "attachments", "at most %d files", MaxAttachments)
	}
	if c.Components != nil {
		return checkComponents(*c.Components)
	}
	return nil
}

// checkInteraction lets only a bot say that its message answers an
// interaction: nodes cannot see interactions, which are not history, but
// they can see who claims one.
func checkInteraction(s *State, op *Op, in *MessageInteraction) error {
	if in == nil {
		return nil
	}
	if m := s.Members[op.Sender]; m == nil || !m.Bot {
		return reject(ReasonMissingPerm, CodeMissingPermissions, "only a bot answers interactions")
	}
	switch {
	case in.ID == 0 || in.UserID == 0:
		return invalid(ReasonBadContent, "interaction", "an interaction has an ID and a user")
	case in.Type != 2 && in.Type != 3 && in.Type != 5:
		return invalid(ReasonBadContent, "interaction.type", "an answered interaction is a command, a component or a modal")
	case runeLen(in.Name) > MaxNameRunes:
		return invalid(ReasonBadContent, "interaction.name", "a command's name has at most %d characters", MaxNameRunes)
	}
	return nil
}

func checkMessageDelete(s *State, op *Op, c *MessageTarget, t *MessageInfo) error {
	if err := seeChannel(s, op, c.ChannelID, t); err != nil {
		return err
	}
	if t.AuthorID == op.Sender {
		return nil
	}
	return manageOthers(s, op, c.ChannelID)
}

// checkBulkDelete asks who may delete before which messages, as the client
// API does.
func checkBulkDelete(s *State, op *Op, c *MessageBulkDelete, targets Targets) error {
	var first *MessageInfo
	if len(c.IDs) > 0 {
		first = targets[c.IDs[0]]
	}
	if err := seeChannel(s, op, c.ChannelID, first); err != nil {
		return err
	}
	if err := manageOthers(s, op, c.ChannelID); err != nil {
		return err
	}
	if len(c.IDs) < 2 || len(c.IDs) > MaxBulkDelete {
		return invalid(ReasonBadContent, "messages", "bulk delete takes 2 to %d messages", MaxBulkDelete)
	}
	seen := map[ID]bool{}
	for _, id := range c.IDs {
		if seen[id] {
			return invalid(ReasonBadContent, "messages", "message %s listed twice", id)
		}
		seen[id] = true
		if t := targets[id]; t.TS < op.TS-bulkDeleteWindow {
			return reject(ReasonBadContent, CodeBulkDeleteTooOld, "message %s is older than two weeks", id)
		}
	}
	return nil
}

func checkReaction(s *State, op *Op, c *Reaction, t *MessageInfo) error {
	e := c.Emoji
	if e.ID == 0 && (e.Name == "" || len(e.Name) > 64) {
		return reject(ReasonBadContent, CodeUnknownEmoji, "emoji needs a name of at most 64 bytes or an id")
	}
	bits := perm.ViewChannel | perm.ReadMessageHistory
	if op.Type == TypeReactionAdd {
		if c.UserID != 0 && c.UserID != op.Sender {
			return invalid(ReasonBadContent, "", "one adds only one's own reaction")
		}
		bits |= perm.AddReactions
		if e.ID != 0 && s.Emojis[e.ID] == nil {
			bits |= perm.UseExternalEmojis
		}
	} else if c.UserID != 0 && c.UserID != op.Sender {
		bits |= perm.ManageMessages
	}
	return checkInChannel(s, op, c.ChannelID, t, bits)
}

func checkPin(s *State, op *Op, c *Pin, t *MessageInfo) error {
	have := s.Permissions(op.Sender, c.ChannelID, op.TS)
	if have.Has(perm.ViewChannel | perm.ManageMessages) {
		return checkInChannel(s, op, c.ChannelID, t, perm.ViewChannel|perm.ManageMessages)
	}
	return checkInChannel(s, op, c.ChannelID, t, perm.ViewChannel|perm.PinMessages)
}

// CheckRedacted checks a message event that reached this node with its
// content already erased (spec/accept.md, "Envelope"): only what
// redaction keeps can be judged. The sender must be a member (or the
// guild's webhook) of a guild not deleted, and a message.create's kept
// channel must be one its sender may see and send in. Such an event
// changes nothing but the DAG.
func CheckRedacted(s *State, op *Op) error {
	if op.Type != TypeMessageCreate && op.Type != TypeMessageEdit {
		return invalid(ReasonBadContent, "", "a %s cannot arrive redacted", op.Type)
	}
	if s.Deleted {
		return reject(ReasonGuildDeleted, HiddenCode(op.Type), "guild %s was deleted", s.ID)
	}
	if !contains(op.AuthEvents, s.CreateEvent) {
		return reject(ReasonMissingAuth, HiddenCode(op.Type), "auth_events lacks the guild's create event")
	}
	if w := s.Webhooks[op.Sender]; w != nil {
		if w.Origin != op.Origin {
			return reject(ReasonWrongOrigin, CodeUnknownWebhook, "webhook %s belongs to %s, not %s", w.ID, w.Origin, op.Origin)
		}
		return nil
	}
	if err := senderIsMember(s, op); err != nil {
		return err
	}
	if c, ok := op.body.(*MessageCreate); ok {
		if ch := s.Channels[c.ChannelID]; ch != nil && ch.Type == ChannelCategory {
			return reject(ReasonUnknownTarget, CodeUnknownChannel, "channel %s is a category", c.ChannelID)
		}
		return checkInChannel(s, op, c.ChannelID, nil, perm.ViewChannel|perm.SendMessages)
	}
	return nil
}
