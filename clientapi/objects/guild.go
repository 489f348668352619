package objects

import (
	"cmp"
	"slices"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// Guild is Discord's guild object as REST returns it.
type Guild struct {
	ID                          snowflake.ID  `json:"id"`
	Name                        string        `json:"name"`
	Icon                        *string       `json:"icon"`
	Splash                      *string       `json:"splash"`
	DiscoverySplash             *string       `json:"discovery_splash"`
	Banner                      *string       `json:"banner"`
	Description                 *string       `json:"description"`
	OwnerID                     snowflake.ID  `json:"owner_id"`
	AFKChannelID                *snowflake.ID `json:"afk_channel_id"`
	AFKTimeout                  int           `json:"afk_timeout"`
	SystemChannelID             *snowflake.ID `json:"system_channel_id"`
	SystemChannelFlags          int           `json:"system_channel_flags"`
	RulesChannelID              *snowflake.ID `json:"rules_channel_id"`
	PublicUpdatesChannelID      *snowflake.ID `json:"public_updates_channel_id"`
	VerificationLevel           int           `json:"verification_level"`
	DefaultMessageNotifications int           `json:"default_message_notifications"`
	ExplicitContentFilter       int           `json:"explicit_content_filter"`
	MFALevel                    int           `json:"mfa_level"`
	NSFWLevel                   int           `json:"nsfw_level"`
	PremiumTier                 int           `json:"premium_tier"`
	PreferredLocale             string        `json:"preferred_locale"`
	VanityURLCode               *string       `json:"vanity_url_code"`
	ApplicationID               *snowflake.ID `json:"application_id"`
	Features                    []string      `json:"features"`
	Roles                       []Role        `json:"roles"`
	Emojis                      []Emoji       `json:"emojis"`
	Stickers                    []struct{}    `json:"stickers"`
	ApproximateMemberCount      *int          `json:"approximate_member_count,omitempty"`
	ApproximatePresenceCount    *int          `json:"approximate_presence_count,omitempty"`
}

// Role is Discord's role object.
type Role struct {
	ID           snowflake.ID `json:"id"`
	Name         string       `json:"name"`
	Color        int          `json:"color"`
	Hoist        bool         `json:"hoist"`
	Icon         *string      `json:"icon"`
	UnicodeEmoji *string      `json:"unicode_emoji"`
	Position     int          `json:"position"`
	Permissions  perm.Bits    `json:"permissions"`
	Managed      bool         `json:"managed"`
	Mentionable  bool         `json:"mentionable"`
	Flags        int          `json:"flags"`
}

// Emoji is a guild's custom emoji.
type Emoji struct {
	ID            snowflake.ID   `json:"id"`
	Name          string         `json:"name"`
	Roles         []snowflake.ID `json:"roles"`
	RequireColons bool           `json:"require_colons"`
	Managed       bool           `json:"managed"`
	Animated      bool           `json:"animated"`
	Available     bool           `json:"available"`
}

// Overwrite is one of a channel's permission overwrites.
type Overwrite struct {
	ID    snowflake.ID       `json:"id"`
	Type  perm.OverwriteType `json:"type"`
	Allow perm.Bits          `json:"allow"`
	Deny  perm.Bits          `json:"deny"`
}

// Channel is Discord's guild channel object.
type Channel struct {
	ID                   snowflake.ID  `json:"id"`
	Type                 int           `json:"type"`
	GuildID              snowflake.ID  `json:"guild_id"`
	Position             int           `json:"position"`
	PermissionOverwrites []Overwrite   `json:"permission_overwrites"`
	Name                 string        `json:"name"`
	Topic                *string       `json:"topic"`
	NSFW                 bool          `json:"nsfw"`
	LastMessageID        *snowflake.ID `json:"last_message_id"`
	RateLimitPerUser     int           `json:"rate_limit_per_user"`
	ParentID             *snowflake.ID `json:"parent_id"`
	Flags                int           `json:"flags"`
	Bitrate              *int          `json:"bitrate,omitempty"`
	UserLimit            *int          `json:"user_limit,omitempty"`
}

// Member is Discord's guild member object.
type Member struct {
	User                       *User          `json:"user,omitempty"`
	Nick                       *string        `json:"nick"`
	Avatar                     *string        `json:"avatar"`
	Roles                      []snowflake.ID `json:"roles"`
	JoinedAt                   string         `json:"joined_at"`
	PremiumSince               *string        `json:"premium_since"`
	Deaf                       bool           `json:"deaf"`
	Mute                       bool           `json:"mute"`
	Flags                      int            `json:"flags"`
	Pending                    bool           `json:"pending"`
	CommunicationDisabledUntil *string        `json:"communication_disabled_until"`
}

// RenderGuild renders a guild with its roles and emojis.
func RenderGuild(s *guild.State) Guild {
	g := Guild{
		ID: s.ID, Name: s.Name, Icon: NonEmpty(IconHash(s.Icon)), Description: NonEmpty(s.Description),
		OwnerID: s.OwnerID(), AFKChannelID: NonZero(s.AFKChannelID), AFKTimeout: s.AFKTimeout,
		SystemChannelID: NonZero(s.SystemChannelID), VerificationLevel: s.VerificationLevel,
		DefaultMessageNotifications: s.DefaultMessageNotifications, ExplicitContentFilter: s.ExplicitContentFilter,
		PreferredLocale: "en-US", Features: []string{}, Roles: RenderRoles(s), Emojis: []Emoji{}, Stickers: []struct{}{},
	}
	for _, e := range s.Emojis {
		g.Emojis = append(g.Emojis, Emoji{ID: e.ID, Name: e.Name, Roles: OrEmpty(e.Roles), RequireColons: true, Animated: e.Animated, Available: true})
	}
	slices.SortFunc(g.Emojis, func(a, b Emoji) int { return cmp.Compare(a.ID, b.ID) })
	return g
}

// RenderRoles lists the roles as Discord does: by position, then ID.
func RenderRoles(s *guild.State) []Role {
	out := make([]Role, 0, len(s.Roles))
	for _, r := range s.Roles {
		out = append(out, RenderRole(s, r))
	}
	slices.SortFunc(out, func(a, b Role) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// RenderRole renders one role; @everyone is always at position 0.
func RenderRole(s *guild.State, r *guild.Role) Role {
	pos := r.Position
	if r.ID == s.ID {
		pos = 0 // @everyone is always at the bottom
	}
	return Role{ID: r.ID, Name: r.Name, Color: r.Color, Hoist: r.Hoist, Icon: NonEmpty(IconHash(r.Icon)),
		UnicodeEmoji: NonEmpty(r.UnicodeEmoji), Position: pos, Permissions: r.Permissions, Mentionable: r.Mentionable}
}

// RenderChannel renders a channel of a guild.
func RenderChannel(s *guild.State, ch *guild.Channel) Channel {
	c := Channel{ID: ch.ID, Type: ch.Type, GuildID: s.ID, Position: ch.Position, Name: ch.Name,
		Topic: NonEmpty(ch.Topic), NSFW: ch.NSFW, RateLimitPerUser: ch.RateLimitPerUser, ParentID: NonZero(ch.ParentID),
		PermissionOverwrites: make([]Overwrite, 0, len(ch.Overwrites))}
	for _, o := range ch.Overwrites {
		c.PermissionOverwrites = append(c.PermissionOverwrites, Overwrite(o))
	}
	if ch.Type == guild.ChannelVoice {
		c.Bitrate, c.UserLimit = &ch.Bitrate, &ch.UserLimit
	}
	return c
}

// VisibleChannels lists the channels user may view, in Discord's order.
func VisibleChannels(s *guild.State, user snowflake.ID, nowMs int64) []Channel {
	out := []Channel{}
	for _, ch := range s.Channels {
		if s.Permissions(user, ch.ID, nowMs).Has(perm.ViewChannel) {
			out = append(out, RenderChannel(s, ch))
		}
	}
	slices.SortFunc(out, func(a, b Channel) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// RenderMember renders a member with only its user's ID: WithUsers fills
// in the rest once the state's lock is released.
func RenderMember(m *guild.Member) Member {
	o := Member{User: &User{ID: m.UserID}, Nick: NonEmpty(m.Nick), Roles: OrEmpty(m.Roles),
		JoinedAt: ISOTime(m.JoinedAt), Deaf: m.Deaf, Mute: m.Mute}
	if m.TimedOutUntil != 0 {
		t := ISOTime(m.TimedOutUntil)
		o.CommunicationDisabledUntil = &t
	}
	return o
}

// IsDM reports whether a room is a DM or group DM rather than a guild.
func IsDM(s *guild.State) bool { return s.Kind == guild.KindDM || s.Kind == guild.KindGroupDM }
