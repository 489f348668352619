package clientapi

import (
	"encoding/json"

	"concord/federation/guild"
	"concord/federation/snowflake"
)

// Discord's message object and its parts. discordgo decodes them strictly,
// so IDs are strings and every list is present (never null).

// Message types Discord numbers on the wire.
const (
	messageDefault = 0
	messageReply   = 19
)

type messageObject struct {
	ID                snowflake.ID       `json:"id"`
	ChannelID         snowflake.ID       `json:"channel_id"`
	GuildID           *snowflake.ID      `json:"guild_id,omitempty"`
	Author            User               `json:"author"`
	Member            *memberObject      `json:"member,omitempty"`
	Content           string             `json:"content"`
	Timestamp         string             `json:"timestamp"`
	EditedTimestamp   *string            `json:"edited_timestamp"`
	TTS               bool               `json:"tts"`
	MentionEveryone   bool               `json:"mention_everyone"`
	Mentions          []User             `json:"mentions"`
	MentionRoles      []snowflake.ID     `json:"mention_roles"`
	Attachments       []attachmentObject `json:"attachments"`
	Embeds            []json.RawMessage  `json:"embeds"`
	Reactions         []reactionObject   `json:"reactions,omitempty"`
	Nonce             json.RawMessage    `json:"nonce,omitempty"`
	Pinned            bool               `json:"pinned"`
	Type              int                `json:"type"`
	Flags             int                `json:"flags"`
	MessageReference  *messageRefObject  `json:"message_reference,omitempty"`
	ReferencedMessage **messageObject    `json:"referenced_message,omitempty"` // set to nil: the reply's target was deleted
}

type messageRefObject struct {
	Type      int           `json:"type"`
	MessageID snowflake.ID  `json:"message_id"`
	ChannelID snowflake.ID  `json:"channel_id"`
	GuildID   *snowflake.ID `json:"guild_id,omitempty"`
}

type attachmentObject struct {
	ID          snowflake.ID `json:"id"`
	Filename    string       `json:"filename"`
	Size        int64        `json:"size"`
	URL         string       `json:"url"`
	ProxyURL    string       `json:"proxy_url"`
	ContentType string       `json:"content_type,omitempty"`
	Width       *int         `json:"width,omitempty"`
	Height      *int         `json:"height,omitempty"`
}

type reactionObject struct {
	Count        int                 `json:"count"`
	CountDetails reactionCounts      `json:"count_details"`
	Me           bool                `json:"me"`
	MeBurst      bool                `json:"me_burst"`
	Emoji        reactionEmojiObject `json:"emoji"`
	BurstColors  []string            `json:"burst_colors"`
}

type reactionCounts struct {
	Burst  int `json:"burst"`
	Normal int `json:"normal"`
}

// reactionEmojiObject is a partial emoji: id null for a unicode one.
type reactionEmojiObject struct {
	ID   *snowflake.ID `json:"id"`
	Name string        `json:"name"`
}

// messageRow is a row of the messages projection.
type messageRow struct {
	ID, GuildID, ChannelID, AuthorID snowflake.ID
	CreatedAt, EditedAt              int64
	Content                          string
	Embeds, Attachments              string
	Mentions, MentionRoles           string
	MentionEveryone, TTS, Pinned     bool
	Flags                            int
	ReferenceID                      snowflake.ID
}

// messageColumns are the columns scanMessage reads, in its order.
const messageColumns = `id, guild_id, channel_id, author_id, created_at, edited_at, content, embeds, attachments,
	mentions, mention_roles, mention_everyone, tts, pinned, flags, reference_id`

// visibleMessage is the condition for a message anyone may see
// (0003_events.sql).
const visibleMessage = `deleted = FALSE AND hidden = FALSE`

func scanMessage(row interface{ Scan(...any) error }) (messageRow, error) {
	var m messageRow
	var id, gid, cid, author, ref int64
	err := row.Scan(&id, &gid, &cid, &author, &m.CreatedAt, &m.EditedAt, &m.Content, &m.Embeds, &m.Attachments,
		&m.Mentions, &m.MentionRoles, &m.MentionEveryone, &m.TTS, &m.Pinned, &m.Flags, &ref)
	m.ID, m.GuildID, m.ChannelID, m.AuthorID, m.ReferenceID = snowflake.ID(id), snowflake.ID(gid), snowflake.ID(cid), snowflake.ID(author), snowflake.ID(ref)
	return m, err
}

// rowFromCreate is the row a message.create projects, for answering a send
// without reading it back.
func rowFromCreate(w where, author snowflake.ID, c *guild.MessageCreate, ts int64) messageRow {
	m := messageRow{ID: c.ID, GuildID: w.guildID, ChannelID: c.ChannelID, AuthorID: author, CreatedAt: ts,
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
	return m
}

func idList(ids []snowflake.ID) string {
	b, _ := json.Marshal(ids)
	if len(ids) == 0 {
		return "[]"
	}
	return string(b)
}

// renderRow turns a row into the object, leaving users, member, reactions
// and the referenced message to renderMessages.
func (a *API) renderRow(m messageRow, dm bool) (messageObject, []snowflake.ID) {
	o := messageObject{ID: m.ID, ChannelID: m.ChannelID, Author: User{ID: m.AuthorID}, Content: m.Content,
		Timestamp: isoTime(m.CreatedAt), TTS: m.TTS, MentionEveryone: m.MentionEveryone, Pinned: m.Pinned,
		Type: messageDefault, Flags: m.Flags, Mentions: []User{}, MentionRoles: []snowflake.ID{},
		Attachments: []attachmentObject{}, Embeds: []json.RawMessage{}}
	if !dm {
		o.GuildID = &m.GuildID
	}
	if m.EditedAt != 0 {
		t := isoTime(m.EditedAt)
		o.EditedTimestamp = &t
	}
	var mentions []snowflake.ID
	json.Unmarshal([]byte(m.Mentions), &mentions)
	json.Unmarshal([]byte(m.MentionRoles), &o.MentionRoles)
	json.Unmarshal([]byte(m.Embeds), &o.Embeds)
	if o.MentionRoles == nil {
		o.MentionRoles = []snowflake.ID{}
	}
	if o.Embeds == nil {
		o.Embeds = []json.RawMessage{}
	}
	var files []guild.Attachment
	json.Unmarshal([]byte(m.Attachments), &files)
	for _, f := range files {
		o.Attachments = append(o.Attachments, a.attachmentObject(m.ChannelID, f))
	}
	if m.ReferenceID != 0 {
		o.Type = messageReply
		o.MessageReference = &messageRefObject{MessageID: m.ReferenceID, ChannelID: m.ChannelID, GuildID: o.GuildID}
	}
	return o, mentions
}
