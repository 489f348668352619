package interactions

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// An interaction's token also names a webhook whose ID is the
// application's: through it the bot edits its first answer (@original) and
// posts follow-ups for 15 minutes, without Authorization.

// answer posts a bot's message answer, or shows it to its user alone when
// it is ephemeral. i.mu is held.
func (a *API) answer(ctx context.Context, i *interaction, data json.RawMessage, files []guild.Attachment, in *guild.MessageInteraction) (objects.Message, error) {
	d, err := a.guilds.ComposeAs(ctx, i.app, i.channel, data, files)
	if err != nil {
		return objects.Message{}, err
	}
	if !d.Ephemeral() {
		m, err := a.guilds.PostAs(ctx, i.app, d, in)
		if err == nil {
			i.keep(m.ID, nil)
		}
		return m, err
	}
	m, err := a.guilds.Preview(ctx, i.app, d, in)
	if err != nil {
		return m, err
	}
	i.keep(m.ID, &m)
	a.tell(i, "MESSAGE_CREATE", m)
	return m, nil
}

// deferAnswer is callback 5: the bot is thinking. i.mu is held.
func (a *API) deferAnswer(ctx context.Context, i *interaction, data json.RawMessage, in *guild.MessageInteraction) (objects.Message, error) {
	var d struct {
		Flags int `json:"flags"`
	}
	json.Unmarshal(data, &d) // absent data defers a public answer
	ephemeral := d.Flags&flagEphemeral != 0
	m, err := a.guilds.DeferAs(ctx, i.app, i.channel, in, ephemeral)
	if err != nil {
		return m, err
	}
	if ephemeral {
		i.keep(m.ID, &m)
		a.tell(i, "MESSAGE_CREATE", m)
	} else {
		i.keep(m.ID, nil)
	}
	return m, nil
}

// keep records a message of i's; an ephemeral one is kept whole, since
// history does not hold it. i.mu is held.
func (i *interaction) keep(id snowflake.ID, ephemeral *objects.Message) {
	if i.ephemeral == nil {
		i.ephemeral = map[snowflake.ID]objects.Message{}
	}
	if ephemeral != nil {
		i.ephemeral[id] = *ephemeral
	} else {
		i.ephemeral[id] = objects.Message{} // a public message, read from history
	}
}

// webhookInteraction resolves {webhook_id}/{token} to a live interaction.
func (a *API) webhookInteraction(r *http.Request) (*interaction, error) {
	app, err := params.ID(r, "webhook_id", httperr.UnknownWebhook)
	if err != nil {
		return nil, err
	}
	i := a.live.find(app, chi.URLParam(r, "token"), a.cfg.Now())
	if i == nil {
		return nil, httperr.UnknownWebhook
	}
	return i, nil
}

// target is the message {message_id} names among i's: @original is the
// first answer, or the component's message once the bot updates it.
// i.mu is held.
func (i *interaction) target(r *http.Request) (id snowflake.ID, ephemeral *objects.Message, err error) {
	raw := chi.URLParam(r, "message_id")
	switch {
	case raw == "@original" && i.updatesComponentMsg:
		if m, ok := i.ephemeral[i.message]; ok {
			return i.message, &m, nil
		}
		return i.message, nil, nil
	case raw == "@original":
		id = i.original
	default:
		if id, err = snowflake.Parse(raw); err != nil {
			return 0, nil, httperr.UnknownMessage
		}
	}
	m, ok := i.ephemeral[id]
	if id == 0 || !ok {
		return 0, nil, httperr.UnknownMessage
	}
	if m.ID != 0 {
		return id, &m, nil
	}
	return id, nil, nil
}

// followup is POST /webhooks/{application}/{token}: another message,
// after the first answer.
func (a *API) followup(w http.ResponseWriter, r *http.Request) error {
	i, err := a.webhookInteraction(r)
	if err != nil {
		return err
	}
	var data json.RawMessage
	files, err := a.readBody(r, i, &data)
	if err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	sent := false
	defer func() { a.guilds.ReleaseFiles(files, sent) }()
	if !i.answered {
		return httperr.UnknownMessage // follow-ups come after the first answer, as on Discord
	}
	m, err := a.answer(r.Context(), i, data, files, i.metadata())
	if err != nil {
		return err
	}
	sent = true
	jsonio.Write(w, http.StatusOK, m)
	return nil
}

// getMessage is GET /webhooks/{application}/{token}/messages/{id|@original}.
func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	i, err := a.webhookInteraction(r)
	if err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	id, ephemeral, err := i.target(r)
	if err != nil {
		return err
	}
	if ephemeral != nil {
		jsonio.Write(w, http.StatusOK, ephemeral)
		return nil
	}
	m, err := a.guilds.MessageAs(r.Context(), i.app, i.channel, id)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, m)
	return nil
}

// editMessage is PATCH /webhooks/{application}/{token}/messages/{id|@original}.
func (a *API) editMessage(w http.ResponseWriter, r *http.Request) error {
	i, err := a.webhookInteraction(r)
	if err != nil {
		return err
	}
	var data json.RawMessage
	if err := jsonio.Decode(r, maxCallbackBody, &data); err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	id, ephemeral, err := i.target(r)
	if err != nil {
		return err
	}
	m, err := a.edit(r.Context(), i, id, ephemeral, data)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, m)
	return nil
}

// edit changes one of i's messages: an ephemeral one for its user alone,
// any other through history. i.mu is held.
func (a *API) edit(ctx context.Context, i *interaction, id snowflake.ID, ephemeral *objects.Message, data json.RawMessage) (objects.Message, error) {
	if ephemeral != nil {
		return a.reviseEphemeral(ctx, i, ephemeral, data)
	}
	return a.guilds.EditAs(ctx, i.app, i.channel, id, data)
}

// readBody reads a callback's or a follow-up's body, JSON or multipart
// with files, into into; the files, held until guilds.ReleaseFiles, count
// against the storage quota of i's application, whose messages they go
// into.
func (a *API) readBody(r *http.Request, i *interaction, into any) ([]guild.Attachment, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return a.guilds.ReadForm(r, i.app, into)
	}
	return nil, jsonio.Decode(r, maxCallbackBody, into)
}

// reviseEphemeral edits a message only its user sees: the fields the edit
// names replace the old ones, and the user's client hears MESSAGE_UPDATE.
// i.mu is held.
func (a *API) reviseEphemeral(ctx context.Context, i *interaction, old *objects.Message, edit json.RawMessage) (objects.Message, error) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(edit, &fields) != nil {
		return objects.Message{}, httperr.Field("_body", "BASE_TYPE_BAD_TYPE", "The edit is not a JSON object.")
	}
	merged := map[string]any{"content": old.Content, "embeds": old.Embeds, "components": old.Components, "flags": flagEphemeral}
	for k, v := range fields {
		switch k {
		case "content", "embeds", "components", "allowed_mentions":
			merged[k] = v
		}
	}
	body, _ := json.Marshal(merged) // values came from JSON
	d, err := a.guilds.ComposeAs(ctx, i.app, i.channel, body, nil)
	if err != nil {
		return objects.Message{}, err
	}
	m, err := a.guilds.Preview(ctx, i.app, d, i.metadata())
	if err != nil {
		return m, err
	}
	m.ID, m.Timestamp = old.ID, old.Timestamp
	stamp := objects.ISOTime(a.nowMs())
	m.EditedTimestamp = &stamp
	i.ephemeral[old.ID] = m
	a.tell(i, "MESSAGE_UPDATE", m)
	return m, nil
}

// deleteMessage is DELETE /webhooks/{application}/{token}/messages/{id|@original}.
func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	i, err := a.webhookInteraction(r)
	if err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	id, ephemeral, err := i.target(r)
	if err != nil {
		return err
	}
	if ephemeral != nil {
		delete(i.ephemeral, id)
		a.tell(i, "MESSAGE_DELETE", map[string]any{"id": id, "channel_id": i.channel, "guild_id": objects.NonZero(i.guild)})
	} else if err := a.guilds.DeleteAs(r.Context(), i.app, i.channel, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
