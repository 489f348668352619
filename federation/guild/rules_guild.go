package guild

import (
	"concord/federation/perm"
)

// dmPermissions is what every participant of a DM or group DM may do in it.
const dmPermissions = perm.ViewChannel | perm.SendMessages | perm.ReadMessageHistory |
	perm.AddReactions | perm.AttachFiles | perm.EmbedLinks | perm.UseExternalEmojis |
	perm.PinMessages | perm.Connect | perm.Speak | perm.Stream | perm.UseVAD | perm.ChangeNickname

func guildRules() map[string]rule {
	return map[string]rule{
		TypeGuildCreate:   typed(checkGuildCreate, applyGuildCreate),
		TypeGuildUpdate:   typed(checkGuildUpdate, applyGuildUpdate),
		TypeGuildDelete:   typed(checkOwnerOnly[struct{}], applyGuildDelete),
		TypeGuildTransfer: typed(checkGuildTransfer, applyGuildTransfer),
	}
}

func checkGuildCreate(s *State, op *Op, c *GuildCreate) error {
	if s.CreateEvent != "" {
		return invalid(ReasonIDInUse, "id", "guild already created")
	}
	if c.ID != op.GuildID {
		return invalid(ReasonBadContent, "id", "id %s is not the event's guild %s", c.ID, op.GuildID)
	}
	if c.EveryonePermissions != nil && *c.EveryonePermissions&^perm.All != 0 {
		return invalid(ReasonBadContent, "everyone_permissions", "everyone_permissions has undefined bits")
	}
	switch c.Kind {
	case KindGuild:
		if len(c.Recipients) != 0 {
			return invalid(ReasonBadContent, "recipients", "a guild has no recipients")
		}
		return checkName("name", c.Name, 2, MaxNameRunes)
	case KindDM, KindGroupDM:
		if c.EveryonePermissions != nil {
			return invalid(ReasonBadContent, "everyone_permissions", "a DM's permissions are fixed")
		}
		if c.Kind == KindDM && len(c.Recipients) != 2 {
			return invalid(ReasonBadContent, "recipients", "a DM has exactly two recipients")
		}
		if len(c.Recipients) < 1 || len(c.Recipients) > MaxGroupDM {
			return invalid(ReasonLimit, "recipients", "a group DM has 1 to %d recipients", MaxGroupDM)
		}
		seen := map[ID]bool{}
		self := false
		for _, r := range c.Recipients {
			if r.UserID == 0 || r.Origin == "" || seen[r.UserID] {
				return invalid(ReasonBadContent, "recipients", "recipients must be distinct users with a home node")
			}
			seen[r.UserID] = true
			if r.UserID == op.Sender {
				if r.Origin != op.Origin {
					return reject(ReasonWrongOrigin, CodeMissingAccess, "the sender's home is the event's origin")
				}
				self = true
			}
		}
		if !self {
			return invalid(ReasonBadContent, "recipients", "the sender must be a recipient")
		}
		return checkName("name", c.Name, 0, MaxNameRunes)
	}
	return invalid(ReasonBadContent, "kind", "kind %q is not guild, dm or group_dm", c.Kind)
}

func applyGuildCreate(s *State, op *Op, c *GuildCreate, ch *Changes) {
	s.ID, s.Kind, s.Name, s.CreatedBy, s.CreateEvent = c.ID, c.Kind, c.Name, op.Sender, op.EventID
	s.Icon, s.Description = deref(c.Icon), deref(c.Description)
	s.perm.ID, s.perm.OwnerID = c.ID, op.Sender
	everyone := perm.DefaultEveryone
	if c.EveryonePermissions != nil {
		everyone = *c.EveryonePermissions
	}
	if c.Kind != KindGuild {
		everyone = dmPermissions
		if c.Kind == KindGroupDM {
			// Group DM members may rename it and add people, as on Discord.
			everyone |= perm.ManageGuild | perm.CreateInstantInvite
		}
		chType := ChannelDM
		if c.Kind == KindGroupDM {
			chType = ChannelGroupDM
		}
		s.Channels[c.ID] = &Channel{ID: c.ID, Type: chType, Name: c.Name}
		ch.add("channel", c.ID)
		for _, r := range c.Recipients {
			s.Members[r.UserID] = &Member{Member: perm.Member{UserID: r.UserID}, Bot: r.Bot, JoinedAt: op.TS}
			s.Homes[r.UserID] = r.Origin
			ch.add("member", r.UserID)
		}
	}
	s.setRole(&Role{Role: perm.Role{ID: c.ID, Permissions: everyone}, Name: "@everyone"})
	s.Members[op.Sender] = &Member{Member: perm.Member{UserID: op.Sender}, JoinedAt: op.TS}
	s.Homes[op.Sender] = op.Origin
	ch.add("guild", c.ID)
	ch.add("role", c.ID)
	ch.add("member", op.Sender)
}

// checkGuildUpdate weighs the permission last, after the channels named
// exist, as the client API does.
func checkGuildUpdate(s *State, op *Op, c *GuildUpdate) error {
	if s.Kind == KindDM {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "a DM has no settings")
	}
	if c.Name != nil {
		if err := checkName("name", *c.Name, 2, MaxNameRunes); err != nil {
			return err
		}
	}
	for _, id := range []*Ref{c.SystemChannelID, c.AFKChannelID} {
		if id != nil && *id != 0 && s.Channels[ID(*id)] == nil {
			return reject(ReasonUnknownTarget, CodeUnknownChannel, "channel %s", ID(*id))
		}
	}
	for _, v := range []struct {
		field string
		v     *int
	}{
		{"verification_level", c.VerificationLevel},
		{"default_message_notifications", c.DefaultMessageNotifications},
		{"explicit_content_filter", c.ExplicitContentFilter},
	} {
		if v.v != nil && (*v.v < 0 || *v.v > 4) {
			return invalid(ReasonBadContent, v.field, "%s must be 0 to 4", v.field)
		}
	}
	if c.AFKTimeout != nil && (*c.AFKTimeout < 60 || *c.AFKTimeout > 3600) {
		return invalid(ReasonBadContent, "afk_timeout", "afk_timeout must be 60 to 3600")
	}
	return need(s, op, 0, perm.ManageGuild)
}

func applyGuildUpdate(s *State, op *Op, c *GuildUpdate, ch *Changes) {
	set(&s.Name, c.Name)
	set(&s.Icon, c.Icon)
	set(&s.Description, c.Description)
	set(&s.VerificationLevel, c.VerificationLevel)
	set(&s.DefaultMessageNotifications, c.DefaultMessageNotifications)
	set(&s.ExplicitContentFilter, c.ExplicitContentFilter)
	setRef(&s.SystemChannelID, c.SystemChannelID)
	setRef(&s.AFKChannelID, c.AFKChannelID)
	set(&s.AFKTimeout, c.AFKTimeout)
	ch.add("guild", s.ID)
}

func checkOwnerOnly[T any](s *State, op *Op, _ *T) error {
	if s.Kind == KindDM {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "a DM has no owner")
	}
	if op.Sender != s.OwnerID() {
		return reject(ReasonOwnerOnly, CodeMissingPermissions, "only the owner may %s", op.Type)
	}
	return nil
}

func applyGuildDelete(s *State, op *Op, _ *struct{}, ch *Changes) {
	s.Deleted = true
	ch.add("guild", s.ID)
}

// checkGuildTransfer refuses a new owner who is not a member before asking
// whether the sender owns the guild, as the client API does; the other
// faults of the new owner come after.
func checkGuildTransfer(s *State, op *Op, c *GuildTransfer) error {
	if s.Kind == KindDM {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "a DM has no owner")
	}
	m := s.Members[c.NewOwnerID]
	if m == nil {
		return invalid(ReasonUnknownTarget, "owner_id", "new owner %s is not a member", c.NewOwnerID)
	}
	if op.Sender != s.OwnerID() {
		return reject(ReasonOwnerOnly, CodeMissingPermissions, "only the owner may %s", op.Type)
	}
	if m.Bot || c.NewOwnerID == op.Sender {
		return invalid(ReasonUnknownTarget, "owner_id", "new owner %s must be another member who is not a bot", c.NewOwnerID)
	}
	return nil
}

func applyGuildTransfer(s *State, op *Op, c *GuildTransfer, ch *Changes) {
	s.perm.OwnerID = c.NewOwnerID
	ch.add("guild", s.ID)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func setRef(dst *ID, v *Ref) {
	if v != nil {
		*dst = ID(*v)
	}
}

func deref[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}
