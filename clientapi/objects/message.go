package objects

import (
	"encoding/json"

	"concord/federation/guild"
	"concord/federation/snowflake"
)

// Message types Discord numbers on the wire.
const (
	messageDefault   = 0
	messageReply     = 19
	messageChatInput = 20 // a bot's answer to a slash command
)

// Message is Discord's message object.
type Message struct {
	ID                  snowflake.ID         `json:"id"`
	ChannelID           snowflake.ID         `json:"channel_id"`
	GuildID             *snowflake.ID        `json:"guild_id,omitempty"`
	Author              User                 `json:"author"`
	Member              *Member              `json:"member,omitempty"`
	Content             string               `json:"content"`
	Timestamp           string               `json:"timestamp"`
	EditedTimestamp     *string              `json:"edited_timestamp"`
	TTS                 bool                 `json:"tts"`
	MentionEveryone     bool                 `json:"mention_everyone"`
	Mentions            []User               `json:"mentions"`
	MentionRoles        []snowflake.ID       `json:"mention_roles"`
	Attachments         []Attachment         `json:"attachments"`
	Embeds              []json.RawMessage    `json:"embeds"`
	Reactions           []Reaction           `json:"reactions,omitempty"`
	Nonce               json.RawMessage      `json:"nonce,omitempty"`
	Pinned              bool                 `json:"pinned"`
	Type                int                  `json:"type"`
	Flags               int                  `json:"flags"`
	MessageReference    *MessageRef          `json:"message_reference,omitempty"`
	ReferencedMessage   **Message            `json:"referenced_message,omitempty"` // set to nil: the reply's target was deleted
	Components          []json.RawMessage    `json:"components"`
	ApplicationID       *snowflake.ID        `json:"application_id,omitempty"`
	WebhookID           *snowflake.ID        `json:"webhook_id,omitempty"`
	Interaction         *Interaction         `json:"interaction,omitempty"`
	InteractionMetadata *InteractionMetadata `json:"interaction_metadata,omitempty"`
}

// Interaction is the older form of what a bot's message answers.
type Interaction struct {
	ID   snowflake.ID `json:"id"`
	Type int          `json:"type"`
	Name string       `json:"name"`
	User User         `json:"user"`
}

// InteractionMetadata is what a bot's message answers: which interaction,
// started by whom.
type InteractionMetadata struct {
	ID                           snowflake.ID            `json:"id"`
	Type                         int                     `json:"type"`
	Name                         string                  `json:"name,omitempty"`
	User                         User                    `json:"user"`
	AuthorizingIntegrationOwners map[string]snowflake.ID `json:"authorizing_integration_owners"`
}

// MessageRef is a reply's message_reference.
type MessageRef struct {
	Type      int           `json:"type"`
	MessageID snowflake.ID  `json:"message_id"`
	ChannelID snowflake.ID  `json:"channel_id"`
	GuildID   *snowflake.ID `json:"guild_id,omitempty"`
}

// Attachment is a file of a message.
type Attachment struct {
	ID          snowflake.ID `json:"id"`
	Filename    string       `json:"filename"`
	Size        int64        `json:"size"`
	URL         string       `json:"url"`
	ProxyURL    string       `json:"proxy_url"`
	ContentType string       `json:"content_type,omitempty"`
	Width       *int         `json:"width,omitempty"`
	Height      *int         `json:"height,omitempty"`
}

// Reaction is one emoji's reactions on a message.
type Reaction struct {
	Count        int            `json:"count"`
	CountDetails ReactionCounts `json:"count_details"`
	Me           bool           `json:"me"`
	MeBurst      bool           `json:"me_burst"`
	Emoji        ReactionEmoji  `json:"emoji"`
	BurstColors  []string       `json:"burst_colors"`
}

// ReactionCounts splits a reaction count by kind; Concord has no burst reactions.
type ReactionCounts struct {
	Burst  int `json:"burst"`
	Normal int `json:"normal"`
}

// ReactionEmoji is a partial emoji: id null for a unicode one.
type ReactionEmoji struct {
	ID   *snowflake.ID `json:"id"`
	Name string        `json:"name"`
}

// MessageRow is a row of the messages projection.
type MessageRow struct {
	ID, GuildID, ChannelID, AuthorID snowflake.ID
	CreatedAt, EditedAt              int64
	Content                          string
	Embeds, Attachments              string
	Mentions, MentionRoles           string
	MentionEveryone, TTS, Pinned     bool
	Flags                            int
	ReferenceID                      snowflake.ID
	Components                       string // JSON array of action rows
	Interaction                      string // JSON of the answered interaction, or ""
	Webhook                          string // JSON of a webhook author (guild.WebhookAuthor), or ""
}

// MessageColumns are the columns ScanMessage reads, in its order.
const MessageColumns = `id, guild_id, channel_id, author_id, created_at, edited_at, content, embeds, attachments,
	mentions, mention_roles, mention_everyone, tts, pinned, flags, reference_id, components, interaction, webhook`

// VisibleMessage is the condition for a message anyone may see
// (0003_events.sql).
const VisibleMessage = `deleted = FALSE AND hidden = FALSE`

// ScanMessage reads a row of MessageColumns, then into extra any columns
// the query selects after them.
func ScanMessage(row interface{ Scan(...any) error }, extra ...any) (MessageRow, error) {
	var m MessageRow
	var id, gid, cid, author, ref int64
	err := row.Scan(append([]any{&id, &gid, &cid, &author, &m.CreatedAt, &m.EditedAt, &m.Content, &m.Embeds, &m.Attachments,
		&m.Mentions, &m.MentionRoles, &m.MentionEveryone, &m.TTS, &m.Pinned, &m.Flags, &ref, &m.Components, &m.Interaction, &m.Webhook}, extra...)...)
	m.ID, m.GuildID, m.ChannelID, m.AuthorID, m.ReferenceID = snowflake.ID(id), snowflake.ID(gid), snowflake.ID(cid), snowflake.ID(author), snowflake.ID(ref)
	return m, err
}

// RowFromCreate is the row a message.create projects, for rendering a
// message from its event without reading it back.
func RowFromCreate(p Place, author snowflake.ID, c *guild.MessageCreate, ts int64) MessageRow {
	m := MessageRow{ID: c.ID, GuildID: p.Room, ChannelID: c.ChannelID, AuthorID: author, CreatedAt: ts,
		Content: c.Content, MentionEveryone: c.MentionEveryone, TTS: c.TTS, Flags: c.Flags,
		Embeds: "[]", Attachments: "[]", Mentions: idList(c.Mentions), MentionRoles: idList(c.MentionRoles)}
	if len(c.Embeds) > 0 {
		b, _ := json.Marshal(c.Embeds)
		m.Embeds = string(b)
	}
	if len(c.Attachments) > 0 {
		b, _ := json.Marshal(c.Attachments)
		m.Attachments = string(b)
	}
	if c.Reference != nil {
		m.ReferenceID = c.Reference.MessageID
	}
	m.Components = "[]"
	if len(c.Components) > 0 {
		b, _ := json.Marshal(c.Components)
		m.Components = string(b)
	}
	if c.Interaction != nil {
		b, _ := json.Marshal(c.Interaction)
		m.Interaction = string(b)
	}
	if c.Webhook != nil {
		b, _ := json.Marshal(c.Webhook)
		m.Webhook = string(b)
	}
	return m
}

func idList(ids []snowflake.ID) string {
	b, _ := json.Marshal(ids)
	if len(ids) == 0 {
		return "[]"
	}
	return string(b)
}
