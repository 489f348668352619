package guild

import (
	"bytes"
	"encoding/json"
	"fmt"

	"concord/federation/perm"
	"concord/federation/snowflake"
)

// ID is a snowflake carried in content.
type ID = snowflake.ID

// Ref is a reference to a channel that may be cleared: "0" means none.
// (A plain ID refuses 0, which is never a snowflake.)
type Ref snowflake.ID

// MarshalJSON writes the reference as a JSON string.
func (r Ref) MarshalJSON() ([]byte, error) { return snowflake.ID(r).MarshalJSON() }

// UnmarshalJSON accepts "0" or a snowflake.
func (r *Ref) UnmarshalJSON(b []byte) error {
	if string(b) == `"0"` {
		*r = 0
		return nil
	}
	return (*snowflake.ID)(r).UnmarshalJSON(b)
}

// Recipient binds a DM participant to their home node.
type Recipient struct {
	UserID ID     `json:"user_id"`
	Origin string `json:"origin"`
	Bot    bool   `json:"bot,omitempty"` // a bot: it may answer interactions here
}

// GuildCreate starts a guild or DM room. Its sender is the owner.
type GuildCreate struct {
	ID                  ID          `json:"id"`
	Kind                string      `json:"kind"`
	Name                string      `json:"name"`
	Icon                *string     `json:"icon,omitempty"`
	Description         *string     `json:"description,omitempty"`
	EveryonePermissions *perm.Bits  `json:"everyone_permissions,omitempty"`
	Recipients          []Recipient `json:"recipients,omitempty"`
}

// GuildUpdate replaces the fields it carries.
type GuildUpdate struct {
	Name                        *string `json:"name,omitempty"`
	Icon                        *string `json:"icon,omitempty"`
	Description                 *string `json:"description,omitempty"`
	VerificationLevel           *int    `json:"verification_level,omitempty"`
	DefaultMessageNotifications *int    `json:"default_message_notifications,omitempty"`
	ExplicitContentFilter       *int    `json:"explicit_content_filter,omitempty"`
	SystemChannelID             *Ref    `json:"system_channel_id,omitempty"` // "0" clears
	AFKChannelID                *Ref    `json:"afk_channel_id,omitempty"`    // "0" clears
	AFKTimeout                  *int    `json:"afk_timeout,omitempty"`
}

// GuildTransfer hands ownership to another member.
type GuildTransfer struct {
	NewOwnerID ID `json:"new_owner_id"`
}

// MemberJoin is a user joining through an invite (whose invite.create event
// is an auth event).
type MemberJoin struct {
	InviteCode string `json:"invite_code"`
}

// MemberAdd adds a user from the event's own node without an invite: a bot
// authorised by a manager, or a recipient added to a group DM.
type MemberAdd struct {
	UserID ID   `json:"user_id"`
	Bot    bool `json:"bot,omitempty"`
	// Origin is the added user's home when it is another node than the
	// adding one: only a group DM adds users of other nodes.
	Origin string `json:"origin,omitempty"`
}

// MemberTarget names the member a moderation acts on.
type MemberTarget struct {
	UserID ID     `json:"user_id"`
	Reason string `json:"reason,omitempty"`
}

// MemberBan bans a user (member or not) and optionally erases their recent
// messages.
type MemberBan struct {
	UserID               ID     `json:"user_id"`
	Reason               string `json:"reason,omitempty"`
	DeleteMessageSeconds int64  `json:"delete_message_seconds,omitempty"`
}

// MemberUpdate changes a member. Roles are added and removed by ID, not
// replaced, so that concurrent edits by different moderators compose.
type MemberUpdate struct {
	UserID                     ID      `json:"user_id"`
	Nick                       *string `json:"nick,omitempty"` // "" clears
	RolesAdd                   []ID    `json:"roles_add,omitempty"`
	RolesRemove                []ID    `json:"roles_remove,omitempty"`
	Mute                       *bool   `json:"mute,omitempty"`
	Deaf                       *bool   `json:"deaf,omitempty"`
	CommunicationDisabledUntil *int64  `json:"communication_disabled_until,omitempty"` // unix ms; 0 clears
}

// RoleFields are the settable fields of a role.
type RoleFields struct {
	Name         *string    `json:"name,omitempty"`
	Color        *int       `json:"color,omitempty"`
	Hoist        *bool      `json:"hoist,omitempty"`
	Mentionable  *bool      `json:"mentionable,omitempty"`
	Permissions  *perm.Bits `json:"permissions,omitempty"`
	Position     *int       `json:"position,omitempty"`
	Icon         *string    `json:"icon,omitempty"`
	UnicodeEmoji *string    `json:"unicode_emoji,omitempty"`
}

// RoleChange creates or updates the role ID.
type RoleChange struct {
	ID ID `json:"id"`
	RoleFields
}

// RoleDelete removes a role.
type RoleDelete struct {
	ID ID `json:"id"`
}

// RolePosition is one entry of a reorder.
type RolePosition struct {
	ID       ID  `json:"id"`
	Position int `json:"position"`
}

// RoleReorder moves several roles at once, as Discord's PATCH does.
type RoleReorder struct {
	Positions []RolePosition `json:"positions"`
}

// OverwriteFields is a permission overwrite as carried in content.
type OverwriteFields struct {
	ID    ID                 `json:"id"`
	Type  perm.OverwriteType `json:"type"`
	Allow perm.Bits          `json:"allow"`
	Deny  perm.Bits          `json:"deny"`
}

// ChannelFields are the settable fields of a channel.
type ChannelFields struct {
	Name             *string            `json:"name,omitempty"`
	Topic            *string            `json:"topic,omitempty"`
	Position         *int               `json:"position,omitempty"`
	ParentID         *Ref               `json:"parent_id,omitempty"` // "0" clears
	NSFW             *bool              `json:"nsfw,omitempty"`
	RateLimitPerUser *int               `json:"rate_limit_per_user,omitempty"`
	Bitrate          *int               `json:"bitrate,omitempty"`
	UserLimit        *int               `json:"user_limit,omitempty"`
	Overwrites       *[]OverwriteFields `json:"permission_overwrites,omitempty"`
}

// ChannelCreate creates a channel of Type.
type ChannelCreate struct {
	ID   ID  `json:"id"`
	Type int `json:"type"`
	ChannelFields
}

// ChannelUpdate changes a channel.
type ChannelUpdate struct {
	ID ID `json:"id"`
	ChannelFields
}

// ChannelDelete removes a channel.
type ChannelDelete struct {
	ID ID `json:"id"`
}

// ChannelOverwrite sets one overwrite on a channel.
type ChannelOverwrite struct {
	ChannelID ID `json:"channel_id"`
	OverwriteFields
}

// ChannelOverwriteDelete removes one overwrite.
type ChannelOverwriteDelete struct {
	ChannelID ID `json:"channel_id"`
	ID        ID `json:"id"`
}

// InviteCreate creates an invite code to a channel.
type InviteCreate struct {
	Code      string `json:"code"`
	ChannelID ID     `json:"channel_id"`
	MaxAge    int64  `json:"max_age"`  // seconds, 0 = never expires
	MaxUses   int    `json:"max_uses"` // 0 = unlimited
	Temporary bool   `json:"temporary,omitempty"`
}

// InviteRevoke deletes an invite.
type InviteRevoke struct {
	Code string `json:"code"`
}

// EmojiCreate adds a custom emoji whose image is a blob reference.
type EmojiCreate struct {
	ID       ID     `json:"id"`
	Name     string `json:"name"`
	Animated bool   `json:"animated,omitempty"`
	Image    string `json:"image"` // content hash of the image blob
	Roles    []ID   `json:"roles,omitempty"`
}

// EmojiDelete removes a custom emoji.
type EmojiDelete struct {
	ID ID `json:"id"`
}

// WebhookCreate makes an incoming webhook in a channel. Its token never
// travels: the origin node keeps it, and only that node posts as it.
type WebhookCreate struct {
	ID        ID     `json:"id"`
	ChannelID ID     `json:"channel_id"`
	Name      string `json:"name"`
	Avatar    string `json:"avatar,omitempty"` // content hash of the image blob
}

// WebhookUpdate renames a webhook, changes its avatar ("" removes it) or
// moves it to another channel.
type WebhookUpdate struct {
	ID        ID      `json:"id"`
	ChannelID *ID     `json:"channel_id,omitempty"`
	Name      *string `json:"name,omitempty"`
	Avatar    *string `json:"avatar,omitempty"`
}

// WebhookDelete removes a webhook; it names the channel the webhook posts
// in, so that whoever sees the event knows where it was.
type WebhookDelete struct {
	ID        ID `json:"id"`
	ChannelID ID `json:"channel_id"`
}

// WebhookAuthor is how a webhook's message shows its author: the name and
// avatar it was posted with, which the message keeps whatever later
// becomes of the webhook.
type WebhookAuthor struct {
	Name   string `json:"name"`
	Avatar string `json:"avatar,omitempty"` // the webhook's avatar blob, when it has one
	// AvatarURL is the picture the poster asked for instead, kept as given.
	AvatarURL string `json:"avatar_url,omitempty"`
}

// Attachment is a file carried by reference.
type Attachment struct {
	ID          ID     `json:"id"`
	Filename    string `json:"filename"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	Blob        string `json:"blob"` // content hash; the bytes travel over a stream
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// MessageReference points a reply at another message.
type MessageReference struct {
	MessageID ID `json:"message_id"`
	ChannelID ID `json:"channel_id,omitempty"`
}

// MessageCreate posts a message.
type MessageCreate struct {
	ID              ID                `json:"id"`
	ChannelID       ID                `json:"channel_id"`
	Content         string            `json:"content"`
	Nonce           string            `json:"nonce,omitempty"`
	TTS             bool              `json:"tts,omitempty"`
	Embeds          []json.RawMessage `json:"embeds,omitempty"`
	Attachments     []Attachment      `json:"attachments,omitempty"`
	Mentions        []ID              `json:"mentions,omitempty"`
	MentionRoles    []ID              `json:"mention_roles,omitempty"`
	MentionEveryone bool              `json:"mention_everyone,omitempty"`
	Reference       *MessageReference `json:"message_reference,omitempty"`
	Flags           int               `json:"flags,omitempty"`
	// Components are a bot's buttons and selects under the message.
	Components []ActionRow `json:"components,omitempty"`
	// Interaction is set when a bot's message answers an interaction.
	Interaction *MessageInteraction `json:"interaction,omitempty"`
	// Webhook is set, and only set, when the sender is a webhook.
	Webhook *WebhookAuthor `json:"webhook,omitempty"`
}

// FlagLoading marks a bot's deferred answer to an interaction: empty until
// the bot edits it, which clears the flag.
const FlagLoading = 1 << 7

// MessageInteraction says which interaction a bot's message answers, so
// that clients can show who asked for it.
type MessageInteraction struct {
	ID     ID     `json:"id"`
	Type   int    `json:"type"`           // 2 a command, 3 a component, 5 a modal
	Name   string `json:"name,omitempty"` // the command, with its subcommands
	UserID ID     `json:"user_id"`        // who started it
}

// MessageEdit changes a message's content, embeds or flags.
type MessageEdit struct {
	ID        ID                 `json:"id"`
	ChannelID ID                 `json:"channel_id"`
	Content   *string            `json:"content,omitempty"`
	Embeds    *[]json.RawMessage `json:"embeds,omitempty"`
	Flags     *int               `json:"flags,omitempty"`
	// Components replaces the message's components; an empty list clears them.
	Components *[]ActionRow `json:"components,omitempty"`
	// Attachments replaces the message's files: those it keeps, and new ones.
	Attachments *[]Attachment `json:"attachments,omitempty"`
}

// MessageTarget names one message.
type MessageTarget struct {
	ID        ID `json:"id"`
	ChannelID ID `json:"channel_id"`
}

// MessageBulkDelete deletes several messages of one channel.
type MessageBulkDelete struct {
	ChannelID ID   `json:"channel_id"`
	IDs       []ID `json:"ids"`
}

// Emoji names a reaction: a unicode emoji by Name, or a custom one by ID.
type Emoji struct {
	ID   ID     `json:"id,omitempty"`
	Name string `json:"name"`
}

// Key is the emoji's identity for reaction counting.
func (e Emoji) Key() string {
	if e.ID != 0 {
		return e.ID.String()
	}
	return e.Name
}

// Reaction adds or removes one user's reaction. UserID other than the
// sender removes someone else's reaction.
type Reaction struct {
	MessageID ID    `json:"message_id"`
	ChannelID ID    `json:"channel_id"`
	Emoji     Emoji `json:"emoji"`
	UserID    ID    `json:"user_id,omitempty"`
}

// ReactionRemoveAll clears every reaction, or every reaction of one emoji.
type ReactionRemoveAll struct {
	MessageID ID     `json:"message_id"`
	ChannelID ID     `json:"channel_id"`
	Emoji     *Emoji `json:"emoji,omitempty"`
}

// Pin pins or unpins a message.
type Pin struct {
	MessageID ID `json:"message_id"`
	ChannelID ID `json:"channel_id"`
}

// Decode reads content strictly: unknown fields are an error, so two
// implementations never disagree about what an event says.
func Decode[T any](content []byte) (*T, error) {
	v := new(T)
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadContent, err)
	}
	return v, nil
}
