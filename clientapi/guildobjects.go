package clientapi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// Discord's objects for guilds, roles, channels and members. discordgo
// decodes them strictly: IDs and permissions are strings, the rest numbers.

type guildObject struct {
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
	Roles                       []roleObject  `json:"roles"`
	Emojis                      []emojiObject `json:"emojis"`
	Stickers                    []struct{}    `json:"stickers"`
	ApproximateMemberCount      *int          `json:"approximate_member_count,omitempty"`
	ApproximatePresenceCount    *int          `json:"approximate_presence_count,omitempty"`
}

type roleObject struct {
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

type emojiObject struct {
	ID            snowflake.ID   `json:"id"`
	Name          string         `json:"name"`
	Roles         []snowflake.ID `json:"roles"`
	RequireColons bool           `json:"require_colons"`
	Managed       bool           `json:"managed"`
	Animated      bool           `json:"animated"`
	Available     bool           `json:"available"`
}

type overwriteObject struct {
	ID    snowflake.ID       `json:"id"`
	Type  perm.OverwriteType `json:"type"`
	Allow perm.Bits          `json:"allow"`
	Deny  perm.Bits          `json:"deny"`
}

type channelObject struct {
	ID                   snowflake.ID      `json:"id"`
	Type                 int               `json:"type"`
	GuildID              snowflake.ID      `json:"guild_id"`
	Position             int               `json:"position"`
	PermissionOverwrites []overwriteObject `json:"permission_overwrites"`
	Name                 string            `json:"name"`
	Topic                *string           `json:"topic"`
	NSFW                 bool              `json:"nsfw"`
	LastMessageID        *snowflake.ID     `json:"last_message_id"`
	RateLimitPerUser     int               `json:"rate_limit_per_user"`
	ParentID             *snowflake.ID     `json:"parent_id"`
	Flags                int               `json:"flags"`
	Bitrate              *int              `json:"bitrate,omitempty"`
	UserLimit            *int              `json:"user_limit,omitempty"`
}

type memberObject struct {
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

func renderGuild(s *guild.State) guildObject {
	g := guildObject{
		ID: s.ID, Name: s.Name, Icon: nonEmpty(iconHash(s.Icon)), Description: nonEmpty(s.Description),
		OwnerID: s.OwnerID(), AFKChannelID: nonZero(s.AFKChannelID), AFKTimeout: s.AFKTimeout,
		SystemChannelID: nonZero(s.SystemChannelID), VerificationLevel: s.VerificationLevel,
		DefaultMessageNotifications: s.DefaultMessageNotifications, ExplicitContentFilter: s.ExplicitContentFilter,
		PreferredLocale: "en-US", Features: []string{}, Roles: renderRoles(s), Emojis: []emojiObject{}, Stickers: []struct{}{},
	}
	for _, e := range s.Emojis {
		g.Emojis = append(g.Emojis, emojiObject{ID: e.ID, Name: e.Name, Roles: orEmpty(e.Roles), RequireColons: true, Animated: e.Animated, Available: true})
	}
	slices.SortFunc(g.Emojis, func(a, b emojiObject) int { return cmp.Compare(a.ID, b.ID) })
	return g
}

// renderRoles lists the roles as Discord does: by position, then ID.
func renderRoles(s *guild.State) []roleObject {
	out := make([]roleObject, 0, len(s.Roles))
	for _, r := range s.Roles {
		out = append(out, renderRole(s, r))
	}
	slices.SortFunc(out, func(a, b roleObject) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func renderRole(s *guild.State, r *guild.Role) roleObject {
	pos := r.Position
	if r.ID == s.ID {
		pos = 0 // @everyone is always at the bottom
	}
	return roleObject{ID: r.ID, Name: r.Name, Color: r.Color, Hoist: r.Hoist, Icon: nonEmpty(r.Icon),
		UnicodeEmoji: nonEmpty(r.UnicodeEmoji), Position: pos, Permissions: r.Permissions, Mentionable: r.Mentionable}
}

func renderChannel(s *guild.State, ch *guild.Channel) channelObject {
	c := channelObject{ID: ch.ID, Type: ch.Type, GuildID: s.ID, Position: ch.Position, Name: ch.Name,
		Topic: nonEmpty(ch.Topic), NSFW: ch.NSFW, RateLimitPerUser: ch.RateLimitPerUser, ParentID: nonZero(ch.ParentID),
		PermissionOverwrites: make([]overwriteObject, 0, len(ch.Overwrites))}
	for _, o := range ch.Overwrites {
		c.PermissionOverwrites = append(c.PermissionOverwrites, overwriteObject(o))
	}
	if ch.Type == guild.ChannelVoice {
		c.Bitrate, c.UserLimit = &ch.Bitrate, &ch.UserLimit
	}
	return c
}

// visibleChannels lists the channels user may view, in Discord's order.
func visibleChannels(s *guild.State, user snowflake.ID, nowMs int64) []channelObject {
	out := []channelObject{}
	for _, ch := range s.Channels {
		if s.Permissions(user, ch.ID, nowMs).Has(perm.ViewChannel) {
			out = append(out, renderChannel(s, ch))
		}
	}
	slices.SortFunc(out, func(a, b channelObject) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// renderMember renders a member without its user, which withUsers fills
// in after the state's lock is released.
func renderMember(m *guild.Member) memberObject {
	o := memberObject{User: &User{ID: m.UserID}, Nick: nonEmpty(m.Nick), Roles: orEmpty(m.Roles),
		JoinedAt: isoTime(m.JoinedAt), Deaf: m.Deaf, Mute: m.Mute}
	if m.TimedOutUntil != 0 {
		t := isoTime(m.TimedOutUntil)
		o.CommunicationDisabledUntil = &t
	}
	return o
}

// withUsers fills each member's user object from the users table. A remote
// user this node has no row for is shown by ID, with the ID as name.
func (a *API) withUsers(ctx context.Context, members []memberObject) error {
	ids := make([]snowflake.ID, len(members))
	for i, m := range members {
		ids[i] = m.User.ID
	}
	users, err := a.loadUsers(ctx, ids)
	if err != nil {
		return err
	}
	for i := range members {
		u := users[members[i].User.ID]
		members[i].User = &u
	}
	return nil
}

// loadUsers reads users by ID; every ID gets an entry (see withUsers).
func (a *API) loadUsers(ctx context.Context, ids []snowflake.ID) (map[snowflake.ID]User, error) {
	out := make(map[snowflake.ID]User, len(ids))
	for _, id := range ids {
		out[id] = User{ID: id, Username: id.String(), Discriminator: "0"}
	}
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = int64(id)
		}
		rows, err := a.db.Reader().QueryContext(ctx, `SELECT `+meColumns+` FROM users WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
		for rows.Next() {
			m, err := scanMe(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("load users: %w", err)
			}
			out[m.ID] = m.User
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
	}
	return out, nil
}

func isoTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonZero(id snowflake.ID) *snowflake.ID {
	if id == 0 {
		return nil
	}
	return &id
}

func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return slices.Clone(list)
}
