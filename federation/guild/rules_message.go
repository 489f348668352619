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
		return reject(ReasonBadContent, "%s: %v", op.Type, err)
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
		return reject(ReasonUnknownType, "%q is not a message event", op.Type)
	}
	if s.Deleted {
		return reject(ReasonGuildDeleted, "guild %s was deleted", s.ID)
	}
	if !contains(op.AuthEvents, s.CreateEvent) {
		return reject(ReasonMissingAuth, "auth_events lacks the guild's create event")
	}
	if err := senderIsMember(s, op); err != nil {
		return err
	}
	var channel ID
	for _, id := range op.TargetIDs() {
		t := targets[id]
		if t == nil {
			return reject(ReasonMissingAuth, "auth_events lacks message %s", id)
		}
		if channel != 0 && t.ChannelID != channel {
			return reject(ReasonMessageMismatch, "messages of several channels")
		}
		channel = t.ChannelID
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
	return reject(ReasonUnknownType, "%q", op.Type)
}

// checkInChannel checks that target lives in channel and that the sender
// holds bits there.
func checkInChannel(s *State, op *Op, channel ID, target *MessageInfo, bits perm.Bits) error {
	if s.Channels[channel] == nil {
		return reject(ReasonUnknownTarget, "channel %s", channel)
	}
	if target != nil && target.ChannelID != channel {
		return reject(ReasonMessageMismatch, "message %s is not in channel %s", target.ID, channel)
	}
	return need(s, op, channel, bits)
}

func checkMessageCreate(s *State, op *Op, c *MessageCreate) error {
	if c.ID == 0 {
		return reject(ReasonBadContent, "id is required")
	}
	channel := s.Channels[c.ChannelID]
	if channel == nil || channel.Type == ChannelCategory {
		return reject(ReasonUnknownTarget, "channel %s", c.ChannelID)
	}
	if runeLen(c.Content) > MaxContentRunes {
		return reject(ReasonBadContent, "content is longer than %d characters", MaxContentRunes)
	}
	if c.Content == "" && len(c.Embeds) == 0 && len(c.Attachments) == 0 {
		return reject(ReasonBadContent, "a message needs content, an embed or a file")
	}
	if len(c.Embeds) > MaxEmbeds || len(c.Attachments) > MaxAttachments {
		return reject(ReasonLimit, "at most %d embeds and %d files", MaxEmbeds, MaxAttachments)
	}
	bits := perm.ViewChannel | perm.SendMessages
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

func checkMessageEdit(s *State, op *Op, c *MessageEdit, t *MessageInfo) error {
	if c.Content != nil && runeLen(*c.Content) > MaxContentRunes {
		return reject(ReasonBadContent, "content is longer than %d characters", MaxContentRunes)
	}
	if c.Embeds != nil && len(*c.Embeds) > MaxEmbeds {
		return reject(ReasonLimit, "at most %d embeds", MaxEmbeds)
	}
	if t.AuthorID != op.Sender {
		// Others may only change flags (suppress embeds), with MANAGE_MESSAGES.
		if c.Content != nil || c.Embeds != nil {
			return reject(ReasonNotAuthor, "only the author edits a message")
		}
		return checkInChannel(s, op, c.ChannelID, t, perm.ViewChannel|perm.ManageMessages)
	}
	return checkInChannel(s, op, c.ChannelID, t, perm.ViewChannel)
}

func checkMessageDelete(s *State, op *Op, c *MessageTarget, t *MessageInfo) error {
	if t.AuthorID == op.Sender {
		return checkInChannel(s, op, c.ChannelID, t, perm.ViewChannel)
	}
	return checkInChannel(s, op, c.ChannelID, t, perm.ViewChannel|perm.ManageMessages)
}

func checkBulkDelete(s *State, op *Op, c *MessageBulkDelete, targets Targets) error {
	if len(c.IDs) < 2 || len(c.IDs) > MaxBulkDelete {
		return reject(ReasonBadContent, "bulk delete takes 2 to %d messages", MaxBulkDelete)
	}
	seen := map[ID]bool{}
	for _, id := range c.IDs {
		if seen[id] {
			return reject(ReasonBadContent, "message %s listed twice", id)
		}
		seen[id] = true
		if t := targets[id]; t.TS < op.TS-bulkDeleteWindow {
			return reject(ReasonBadContent, "message %s is older than two weeks", id)
		}
	}
	return checkInChannel(s, op, c.ChannelID, targets[c.IDs[0]], perm.ViewChannel|perm.ManageMessages)
}

func checkReaction(s *State, op *Op, c *Reaction, t *MessageInfo) error {
	e := c.Emoji
	if e.ID == 0 && (e.Name == "" || len(e.Name) > 64) {
		return reject(ReasonBadContent, "emoji needs a name of at most 64 bytes or an id")
	}
	bits := perm.ViewChannel | perm.ReadMessageHistory
	if op.Type == TypeReactionAdd {
		if c.UserID != 0 && c.UserID != op.Sender {
			return reject(ReasonBadContent, "one adds only one's own reaction")
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
