package guild

import (
	"concord/federation/perm"
)

func channelRules() map[string]rule {
	return map[string]rule{
		TypeChannelCreate:          typed(checkChannelCreate, applyChannelCreate),
		TypeChannelUpdate:          typed(checkChannelUpdate, applyChannelUpdate),
		TypeChannelDelete:          typed(checkChannelDelete, applyChannelDelete),
		TypeChannelOverwrite:       typed(checkChannelOverwrite, applyChannelOverwrite),
		TypeChannelOverwriteDelete: typed(checkChannelOverwriteDelete, applyChannelOverwriteDelete),
		TypeInviteCreate:           typed(checkInviteCreate, applyInviteCreate),
		TypeInviteRevoke:           typed(checkInviteRevoke, applyInviteRevoke),
		TypeEmojiCreate:            typed(checkEmojiCreate, applyEmojiCreate),
		TypeEmojiDelete:            typed(checkEmojiDelete, applyEmojiDelete),
	}
}

// checkChannelFields checks the fields a channel create or update sets; have
// is the actor's permissions where the overwrites will apply.
func checkChannelFields(s *State, op *Op, chType int, self ID, f *ChannelFields, have perm.Bits) error {
	if f.Name != nil {
		if err := checkName("name", *f.Name, 1, MaxNameRunes); err != nil {
			return err
		}
	}
	if f.Topic != nil && runeLen(*f.Topic) > MaxTopicRunes {
		return invalid(ReasonBadContent, "topic", "topic is longer than %d", MaxTopicRunes)
	}
	if f.RateLimitPerUser != nil && (*f.RateLimitPerUser < 0 || *f.RateLimitPerUser > 21600) {
		return invalid(ReasonBadContent, "rate_limit_per_user", "rate_limit_per_user must be 0 to 21600")
	}
	if f.Position != nil && *f.Position < 0 {
		return invalid(ReasonBadContent, "position", "position must not be negative")
	}
	if f.Bitrate != nil && (*f.Bitrate < 8000 || *f.Bitrate > 384000) {
		return invalid(ReasonBadContent, "bitrate", "bitrate must be 8000 to 384000")
	}
	if f.UserLimit != nil && (*f.UserLimit < 0 || *f.UserLimit > 99) {
		return invalid(ReasonBadContent, "user_limit", "user_limit must be 0 to 99")
	}
	if f.ParentID != nil && *f.ParentID != 0 {
		p := s.Channels[ID(*f.ParentID)]
		if p == nil || p.Type != ChannelCategory || chType == ChannelCategory || ID(*f.ParentID) == self {
			return reject(ReasonUnknownTarget, CodeUnknownChannel, "parent %s is not a category", ID(*f.ParentID))
		}
	}
	if f.Overwrites != nil {
		if len(*f.Overwrites) > 100 {
			return invalid(ReasonLimit, "permission_overwrites", "at most 100 overwrites")
		}
		if !have.Has(perm.ManageRoles) && have&perm.Administrator == 0 {
			return reject(ReasonMissingPerm, CodeMissingPermissions, "%s lacks MANAGE_ROLES to set overwrites", op.Sender)
		}
		seen := map[ID]bool{}
		for i := range *f.Overwrites {
			o := &(*f.Overwrites)[i]
			if seen[o.ID] {
				return invalid(ReasonBadContent, "permission_overwrites", "two overwrites for %s", o.ID)
			}
			seen[o.ID] = true
			if err := checkOverwrite(s, op, o, have, "permission_overwrites"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOverwrite checks one overwrite. in is the request field holding it,
// or "" when the overwrite's own fields are the request's.
func checkOverwrite(s *State, op *Op, o *OverwriteFields, have perm.Bits, in string) error {
	field := func(name string) string {
		if in != "" {
			return in
		}
		return name
	}
	switch o.Type {
	case perm.OverwriteRole:
		if s.Roles[o.ID] == nil {
			return reject(ReasonUnknownTarget, CodeUnknownRole, "role %s", o.ID)
		}
	case perm.OverwriteMember:
		if o.ID == 0 {
			return reject(ReasonUnknownTarget, CodeUnknownMember, "member 0")
		}
	default:
		return invalid(ReasonBadContent, field("type"), "overwrite type must be 0 or 1")
	}
	if o.Allow&^perm.ChannelMask != 0 {
		return invalid(ReasonBadContent, field("allow"), "allow carries bits that do not apply to channels")
	}
	if o.Deny&^perm.ChannelMask != 0 {
		return invalid(ReasonBadContent, field("deny"), "deny carries bits that do not apply to channels")
	}
	if !perm.CanGrant(have, o.Allow|o.Deny) {
		return reject(ReasonMissingPerm, CodeMissingPermissions, "%s may not grant %s", op.Sender, ((o.Allow | o.Deny) &^ have).String())
	}
	return nil
}

func checkChannelCreate(s *State, op *Op, c *ChannelCreate) error {
	if err := guildOnly(s, op); err != nil {
		return err
	}
	if c.ID == 0 || s.Channels[c.ID] != nil || c.ID == s.ID {
		return invalid(ReasonIDInUse, "id", "channel %s", c.ID)
	}
	if len(s.Channels) >= MaxChannels {
		return reject(ReasonLimit, CodeMaxChannels, "a guild has at most %d channels", MaxChannels)
	}
	switch c.Type {
	case ChannelText, ChannelVoice, ChannelCategory:
	default:
		return invalid(ReasonBadContent, "type", "channel type %d", c.Type)
	}
	if c.Name == nil {
		return invalid(ReasonBadContent, "name", "name is required")
	}
	if err := need(s, op, 0, perm.ManageChannels); err != nil {
		return err
	}
	return checkChannelFields(s, op, c.Type, c.ID, &c.ChannelFields, s.Permissions(op.Sender, 0, op.TS))
}

func applyChannelCreate(s *State, op *Op, c *ChannelCreate, ch *Changes) {
	channel := &Channel{ID: c.ID, Type: c.Type}
	if c.Type == ChannelVoice {
		channel.Bitrate = 64000
	}
	fillChannel(channel, &c.ChannelFields)
	s.Channels[c.ID] = channel
	ch.add("channel", c.ID)
}

func fillChannel(channel *Channel, f *ChannelFields) {
	set(&channel.Name, f.Name)
	set(&channel.Topic, f.Topic)
	set(&channel.Position, f.Position)
	setRef(&channel.ParentID, f.ParentID)
	set(&channel.NSFW, f.NSFW)
	set(&channel.RateLimitPerUser, f.RateLimitPerUser)
	set(&channel.Bitrate, f.Bitrate)
	set(&channel.UserLimit, f.UserLimit)
	if f.Overwrites != nil {
		channel.Overwrites = nil
		for _, o := range *f.Overwrites {
			channel.Overwrites = setOverwrite(channel.Overwrites, perm.Overwrite(o))
		}
	}
}

// guildChannel is the channel id of a guild, which the sender can see. A
// channel it cannot see is unknown to it, as in the client API, so that
// nothing leaks; every rule calling this needs a permission in the channel,
// which no one lacking VIEW_CHANNEL there holds.
func guildChannel(s *State, op *Op, id ID) (*Channel, error) {
	if err := guildOnly(s, op); err != nil {
		return nil, err
	}
	channel := s.Channels[id]
	if channel == nil {
		return nil, reject(ReasonUnknownTarget, CodeUnknownChannel, "channel %s", id)
	}
	if !s.Permissions(op.Sender, id, op.TS).Has(perm.ViewChannel) {
		return nil, reject(ReasonMissingPerm, CodeUnknownChannel, "%s cannot see channel %s", op.Sender, id)
	}
	return channel, nil
}

func checkChannelUpdate(s *State, op *Op, c *ChannelUpdate) error {
	channel, err := guildChannel(s, op, c.ID)
	if err != nil {
		return err
	}
	if err := need(s, op, c.ID, perm.ManageChannels); err != nil {
		return err
	}
	return checkChannelFields(s, op, channel.Type, c.ID, &c.ChannelFields, s.Permissions(op.Sender, c.ID, op.TS))
}

func applyChannelUpdate(s *State, op *Op, c *ChannelUpdate, ch *Changes) {
	fillChannel(s.Channels[c.ID], &c.ChannelFields)
	ch.add("channel", c.ID)
}

func checkChannelDelete(s *State, op *Op, c *ChannelDelete) error {
	if _, err := guildChannel(s, op, c.ID); err != nil {
		return err
	}
	return need(s, op, c.ID, perm.ManageChannels)
}

func applyChannelDelete(s *State, op *Op, c *ChannelDelete, ch *Changes) {
	delete(s.Channels, c.ID)
	ch.add("channel", c.ID)
	for id, child := range s.Channels {
		if child.ParentID == c.ID {
			child.ParentID = 0
			ch.add("channel", id)
		}
	}
	for code, inv := range s.Invites {
		if inv.ChannelID == c.ID {
			delete(s.Invites, code)
			ch.add("invite", stringer(code))
		}
	}
	for id, w := range s.Webhooks {
		if w.ChannelID == c.ID {
			delete(s.Webhooks, id)
			ch.add("webhook", id)
		}
	}
}

func checkChannelOverwrite(s *State, op *Op, c *ChannelOverwrite) error {
	if _, err := guildChannel(s, op, c.ChannelID); err != nil {
		return err
	}
	have := s.Permissions(op.Sender, c.ChannelID, op.TS)
	if !have.Has(perm.ManageRoles) && have&perm.Administrator == 0 {
		return need(s, op, c.ChannelID, perm.ManageRoles)
	}
	return checkOverwrite(s, op, &c.OverwriteFields, have, "")
}

func applyChannelOverwrite(s *State, op *Op, c *ChannelOverwrite, ch *Changes) {
	channel := s.Channels[c.ChannelID]
	channel.Overwrites = setOverwrite(channel.Overwrites, perm.Overwrite(c.OverwriteFields))
	ch.add("channel", c.ChannelID)
}

func checkChannelOverwriteDelete(s *State, op *Op, c *ChannelOverwriteDelete) error {
	channel, err := guildChannel(s, op, c.ChannelID)
	if err != nil {
		return err
	}
	found := false
	for _, o := range channel.Overwrites {
		found = found || o.ID == c.ID
	}
	if !found {
		return reject(ReasonUnknownTarget, CodeUnknownOverwrite, "overwrite %s", c.ID)
	}
	return need(s, op, c.ChannelID, perm.ManageRoles)
}

func applyChannelOverwriteDelete(s *State, op *Op, c *ChannelOverwriteDelete, ch *Changes) {
	channel := s.Channels[c.ChannelID]
	for i, o := range channel.Overwrites {
		if o.ID == c.ID {
			channel.Overwrites = append(channel.Overwrites[:i:i], channel.Overwrites[i+1:]...)
			break
		}
	}
	ch.add("channel", c.ChannelID)
}

func checkInviteCreate(s *State, op *Op, c *InviteCreate) error {
	channel, err := guildChannel(s, op, c.ChannelID)
	if err != nil {
		return err
	}
	if channel.Type == ChannelCategory {
		return invalid(ReasonBadContent, "", "invites lead to a text or voice channel")
	}
	if len(c.Code) < 2 || len(c.Code) > 32 || !alnum(c.Code) {
		return invalid(ReasonBadContent, "code", "code must be 2 to 32 letters and digits")
	}
	if s.Invites[c.Code] != nil {
		return invalid(ReasonIDInUse, "code", "invite %q", c.Code)
	}
	if c.MaxAge < 0 || c.MaxAge > 604800 {
		return invalid(ReasonBadContent, "max_age", "max_age must be 0 to 604800")
	}
	if c.MaxUses < 0 || c.MaxUses > 100 {
		return invalid(ReasonBadContent, "max_uses", "max_uses must be 0 to 100")
	}
	return need(s, op, c.ChannelID, perm.CreateInstantInvite)
}

func applyInviteCreate(s *State, op *Op, c *InviteCreate, ch *Changes) {
	s.Invites[c.Code] = &Invite{Code: c.Code, ChannelID: c.ChannelID, InviterID: op.Sender, MaxAge: c.MaxAge,
		MaxUses: c.MaxUses, Temporary: c.Temporary, CreatedAt: op.TS, EventID: op.EventID}
	ch.add("invite", stringer(c.Code))
}

func checkInviteRevoke(s *State, op *Op, c *InviteRevoke) error {
	inv := s.Invites[c.Code]
	if inv == nil {
		return reject(ReasonUnknownTarget, CodeUnknownInvite, "invite %q", c.Code)
	}
	if inv.InviterID == op.Sender || s.Permissions(op.Sender, 0, op.TS).Has(perm.ManageGuild) {
		return nil
	}
	// The client API does not show an invite to a channel one cannot see.
	if !s.Permissions(op.Sender, inv.ChannelID, op.TS).Has(perm.ViewChannel) {
		return reject(ReasonMissingPerm, CodeUnknownInvite, "%s cannot see channel %s", op.Sender, inv.ChannelID)
	}
	return need(s, op, inv.ChannelID, perm.ManageChannels)
}

func applyInviteRevoke(s *State, op *Op, c *InviteRevoke, ch *Changes) {
	delete(s.Invites, c.Code)
	ch.add("invite", stringer(c.Code))
}

func checkEmojiCreate(s *State, op *Op, c *EmojiCreate) error {
	if err := guildOnly(s, op); err != nil {
		return err
	}
	if c.ID == 0 || s.Emojis[c.ID] != nil {
		return invalid(ReasonIDInUse, "id", "emoji %s", c.ID)
	}
	if len(s.Emojis) >= 250 {
		return reject(ReasonLimit, CodeMaxEmojis, "a guild has at most 250 emojis")
	}
	if len(c.Name) < 2 || len(c.Name) > 32 || !alnum(c.Name) {
		return invalid(ReasonBadContent, "name", "emoji name must be 2 to 32 of A-Z a-z 0-9 _")
	}
	if c.Image == "" {
		return invalid(ReasonBadContent, "image", "an emoji needs an image")
	}
	for _, r := range c.Roles {
		if s.Roles[r] == nil {
			return reject(ReasonUnknownTarget, CodeUnknownRole, "role %s", r)
		}
	}
	have := s.Permissions(op.Sender, 0, op.TS)
	if have.Has(perm.ManageGuildExpressions) || have.Has(perm.CreateGuildExpressions) {
		return nil
	}
	return need(s, op, 0, perm.ManageGuildExpressions)
}

func applyEmojiCreate(s *State, op *Op, c *EmojiCreate, ch *Changes) {
	s.Emojis[c.ID] = &CustomEmoji{ID: c.ID, Name: c.Name, Animated: c.Animated, Image: c.Image, Roles: c.Roles, CreatorID: op.Sender}
	ch.add("emoji", c.ID)
}

func checkEmojiDelete(s *State, op *Op, c *EmojiDelete) error {
	e := s.Emojis[c.ID]
	if e == nil {
		return reject(ReasonUnknownTarget, CodeUnknownEmoji, "emoji %s", c.ID)
	}
	have := s.Permissions(op.Sender, 0, op.TS)
	if have.Has(perm.ManageGuildExpressions) || (e.CreatorID == op.Sender && have.Has(perm.CreateGuildExpressions)) {
		return nil
	}
	return need(s, op, 0, perm.ManageGuildExpressions)
}

func applyEmojiDelete(s *State, op *Op, c *EmojiDelete, ch *Changes) {
	delete(s.Emojis, c.ID)
	ch.add("emoji", c.ID)
}

// alnum reports whether s holds only ASCII letters, digits and underscores.
func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
