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
		return reject(ReasonIDInUse, "guild already created")
	}
	if c.ID != op.GuildID {
		return reject(ReasonBadContent, "id %s is not the event's guild %s", c.ID, op.GuildID)
	}
	if c.EveryonePermissions != nil && *c.EveryonePermissions&^perm.All != 0 {
		return reject(ReasonBadContent, "everyone_permissions has undefined bits")
	}
	switch c.Kind {
	case KindGuild:
		if len(c.Recipients) != 0 {
			return reject(ReasonBadContent, "a guild has no recipients")
		}
		return checkName("name", c.Name, 2, MaxNameRunes)
	case KindDM, KindGroupDM:
		if c.EveryonePermissions != nil {
			return reject(ReasonBadContent, "a DM's permissions are fixed")
		}
		if c.Kind == KindDM && len(c.Recipients) != 2 {
			return reject(ReasonBadContent, "a DM has exactly two recipients")
		}
		if len(c.Recipients) < 1 || len(c.Recipients) > MaxGroupDM {
			return reject(ReasonLimit, "a group DM has 1 to %d recipients", MaxGroupDM)
		}
		seen := map[ID]bool{}
		self := false
		for _, r := range c.Recipients {
			if r.UserID == 0 || r.Origin == "" || seen[r.UserID] {
				return reject(ReasonBadContent, "recipients must be distinct users with a home node")
			}
			seen[r.UserID] = true
			if r.UserID == op.Sender {
				if r.Origin != op.Origin {
					return reject(ReasonWrongOrigin, "the sender's home is the event's origin")
				}
				self = true
			}
		}
		if !self {
			return reject(ReasonBadContent, "the sender must be a recipient")
		}
		return checkName("name", c.Name, 0, MaxNameRunes)
	}
	return reject(ReasonBadContent, "kind %q is not guild, dm or group_dm", c.Kind)
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
			s.Members[r.UserID] = &Member{Member: perm.Member{UserID: r.UserID}, JoinedAt: op.TS}
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

func checkGuildUpdate(s *State, op *Op, c *GuildUpdate) error {
	if s.Kind == KindDM {
		return reject(ReasonNotInThisKind, "a DM has no settings")
	}
	if err := need(s, op, 0, perm.ManageGuild); err != nil {
		return err
	}
	if c.Name != nil {
		if err := checkName("name", *c.Name, 2, MaxNameRunes); err != nil {
			return err
		}
	}
	for _, id := range []*Ref{c.SystemChannelID, c.AFKChannelID} {
		if id != nil && *id != 0 && s.Channels[ID(*id)] == nil {
			return reject(ReasonUnknownTarget, "channel %s", ID(*id))
		}
	}
	for _, v := range []*int{c.VerificationLevel, c.DefaultMessageNotifications, c.ExplicitContentFilter} {
		if v != nil && (*v < 0 || *v > 4) {
			return reject(ReasonBadContent, "setting out of range")
		}
	}
	if c.AFKTimeout != nil && (*c.AFKTimeout < 60 || *c.AFKTimeout > 3600) {
		return reject(ReasonBadContent, "afk_timeout must be 60 to 3600")
	}
	return nil
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
	if op.Sender != s.OwnerID() {
		return reject(ReasonOwnerOnly, "only the owner may %s", op.Type)
	}
	if s.Kind == KindDM {
		return reject(ReasonNotInThisKind, "a DM has no owner")
	}
	return nil
}

func applyGuildDelete(s *State, op *Op, _ *struct{}, ch *Changes) {
	s.Deleted = true
	ch.add("guild", s.ID)
}

func checkGuildTransfer(s *State, op *Op, c *GuildTransfer) error {
	if err := checkOwnerOnly(s, op, c); err != nil {
		return err
	}
	m := s.Members[c.NewOwnerID]
	if m == nil || m.Bot || c.NewOwnerID == op.Sender {
		return reject(ReasonUnknownTarget, "new owner %s must be another member who is not a bot", c.NewOwnerID)
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
