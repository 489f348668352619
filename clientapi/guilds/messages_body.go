package guilds

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// messageBody is the JSON of a message create, or the payload_json part of
// a multipart one (parseMessageForm in attachments.go fills it).
type messageBody struct {
	Content          string            `json:"content"`
	Nonce            json.RawMessage   `json:"nonce"` // string or integer, echoed back as sent
	TTS              bool              `json:"tts"`
	Embeds           []embedBody       `json:"embeds"`
	AllowedMentions  *allowedMentions  `json:"allowed_mentions"`
	MessageReference *messageRefBody   `json:"message_reference"`
	Flags            int               `json:"flags"`
	Attachments      []attachmentBody  `json:"attachments"`
	Components       []guild.ActionRow `json:"components"`
	// EnforceNonce asks that a repeat of the same nonce return the message
	// the first send made instead of a second one.
	EnforceNonce bool `json:"enforce_nonce"`
}

type allowedMentions struct {
	Parse       []string       `json:"parse"`
	Users       []snowflake.ID `json:"users"`
	Roles       []snowflake.ID `json:"roles"`
	RepliedUser bool           `json:"replied_user"`
}

type messageRefBody struct {
	MessageID       snowflake.ID  `json:"message_id"`
	ChannelID       *snowflake.ID `json:"channel_id"`
	GuildID         *snowflake.ID `json:"guild_id"`
	FailIfNotExists *bool         `json:"fail_if_not_exists"`
}

// attachmentBody describes an uploaded file in payload_json: id is the
// index of its files[n] part.
type attachmentBody struct {
	ID          json.RawMessage `json:"id"`
	Filename    string          `json:"filename"`
	Description string          `json:"description"`
}

// Message flags a sender may set: SUPPRESS_EMBEDS and, on create,
// SUPPRESS_NOTIFICATIONS. Discord ignores the rest.
const (
	flagSuppressEmbeds        = 1 << 2
	flagSuppressNotifications = 1 << 12
)

const maxNonce = 25

// nonceString checks a nonce (a string of at most 25 characters or an
// integer) and returns the form the event carries.
func nonceString(raw json.RawMessage, form *httperr.Form) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if utf8.RuneCountInString(s) > maxNonce {
			form.Add("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		return s
	}
	if _, err := strconv.ParseInt(string(raw), 10, 64); err != nil {
		form.Add("nonce", "BASE_TYPE_BAD_TYPE", "Must be a string or an integer.")
		return ""
	}
	return string(raw)
}

// create checks the body and turns it into the event's content, without
// ID, mentions or reference, which need the channel's state.
func (b *messageBody) create(channel snowflake.ID, files []guild.Attachment) (guild.MessageCreate, error) {
	var form httperr.Form
	c := guild.MessageCreate{ChannelID: channel, Content: b.Content, TTS: b.TTS, Attachments: files,
		Flags: b.Flags & (flagSuppressEmbeds | flagSuppressNotifications)}
	if utf8.RuneCountInString(b.Content) > guild.MaxContentRunes {
		form.Add("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
	}
	c.Nonce = nonceString(b.Nonce, &form)
	c.Embeds = embedsJSON(b.Embeds, &form)
	if am := b.AllowedMentions; am != nil {
		checkAllowedMentions(am, &form)
	}
	if err := form.Err(); err != nil {
		return c, err
	}
	c.Components = b.Components
	if strings.TrimSpace(c.Content) == "" && len(c.Embeds) == 0 && len(c.Attachments) == 0 && len(c.Components) == 0 {
		return c, httperr.EmptyMessage
	}
	return c, nil
}

// editBody is a message PATCH; null content or embeds clear them.
type editBody struct {
	Content         jsonio.Optional[string]            `json:"content"`
	Embeds          jsonio.Optional[[]embedBody]       `json:"embeds"`
	Flags           *int                               `json:"flags"`
	AllowedMentions *allowedMentions                   `json:"allowed_mentions"`
	Components      jsonio.Optional[[]guild.ActionRow] `json:"components"`
	// Attachments lists the files to keep by ID; files uploaded with the
	// edit are added. Absent, every file stays.
	Attachments jsonio.Optional[[]attachmentBody] `json:"attachments"`
}

// edit checks the body and turns it into the event's content; files are
// the ones uploaded with it.
func (b *editBody) edit(m objects.MessageRow, files []guild.Attachment) (guild.MessageEdit, error) {
	var form httperr.Form
	e := guild.MessageEdit{ID: m.ID, ChannelID: m.ChannelID}
	if b.Content.Set {
		v := b.Content.V
		if utf8.RuneCountInString(v) > guild.MaxContentRunes {
			form.Add("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
		}
		e.Content = &v
	}
	if b.Embeds.Set {
		embeds := embedsJSON(b.Embeds.V, &form)
		if embeds == nil {
			embeds = []json.RawMessage{}
		}
		e.Embeds = &embeds
	}
	if b.Components.Set {
		rows := b.Components.V
		if rows == nil {
			rows = []guild.ActionRow{}
		}
		e.Components = &rows
	}
	if b.Attachments.Set || len(files) > 0 {
		list := b.keep(m)
		if len(list)+len(files) > guild.MaxAttachments {
			form.Add("attachments", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
		}
		list = append(list, files...)
		e.Attachments = &list
	}
	if b.Flags != nil {
		// Only SUPPRESS_EMBEDS changes; the other bits stay as they are.
		f := m.Flags&^flagSuppressEmbeds | *b.Flags&flagSuppressEmbeds
		e.Flags = &f
	}
	if m.Flags&guild.FlagLoading != 0 {
		// A bot's deferred answer is done "thinking" once it says something.
		f := m.Flags &^ guild.FlagLoading
		if e.Flags != nil {
			f = *e.Flags &^ guild.FlagLoading
		}
		e.Flags = &f
	}
	if b.AllowedMentions != nil {
		checkAllowedMentions(b.AllowedMentions, &form)
	}
	if err := form.Err(); err != nil {
		return e, err
	}
	// An edit may not leave a message with nothing in it.
	content, embeds := m.Content, m.Embeds != "[]" && m.Embeds != ""
	if e.Content != nil {
		content = *e.Content
	}
	if e.Embeds != nil {
		embeds = len(*e.Embeds) > 0
	}
	components := m.Components != "[]" && m.Components != ""
	if e.Components != nil {
		components = len(*e.Components) > 0
	}
	attached := m.Attachments != "[]" && m.Attachments != ""
	if e.Attachments != nil {
		attached = len(*e.Attachments) > 0
	}
	if strings.TrimSpace(content) == "" && !embeds && !components && !attached {
		return e, httperr.EmptyMessage
	}
	return e, nil
}

// keep is the message's files the edit keeps: those its attachments list
// names by ID, or all of them when it has no list. Entries naming an
// upload of the edit by index are the new files, added by the caller.
func (b *editBody) keep(m objects.MessageRow) []guild.Attachment {
	var current []guild.Attachment
	json.Unmarshal([]byte(m.Attachments), &current)
	if !b.Attachments.Set {
		return current
	}
	keep := []guild.Attachment{}
	for _, want := range b.Attachments.V {
		id, err := snowflake.Parse(strings.Trim(string(want.ID), `"`))
		if err != nil {
			continue
		}
		for _, at := range current {
			if at.ID == id {
				keep = append(keep, at)
			}
		}
	}
	return keep
}
