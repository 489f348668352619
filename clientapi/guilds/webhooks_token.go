package guilds

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// The routes a webhook's token opens, without Authorization: posting as
// the webhook, editing and deleting what it posted, and renaming or
// deleting the webhook itself. Each event is sent with the webhook as its
// sender, from this node, which alone holds the token.

// webhookBits is what a webhook may do in its channel: post with files,
// embeds and speech, and mention anyone, as on Discord.
const webhookBits = perm.ViewChannel | perm.SendMessages | perm.EmbedLinks | perm.AttachFiles |
	perm.MentionEveryone | perm.SendTTSMessages | perm.ReadMessageHistory

// webhookByToken resolves {webhook_id}/{token}: the guild of a webhook this
// node holds the token of, and the webhook as it is.
func (a *API) webhookByToken(r *http.Request) (snowflake.ID, guild.Webhook, error) {
	ctx := r.Context()
	id, err := params.ID(r, "webhook_id", httperr.UnknownWebhook)
	if err != nil {
		return 0, guild.Webhook{}, err
	}
	var hash []byte
	var gid sql.NullInt64
	err = a.db.Reader().QueryRowContext(ctx, `SELECT t.token_hash, w.guild_id FROM webhook_tokens t
		LEFT JOIN webhooks w ON w.guild_id = t.guild_id AND w.id = t.webhook_id WHERE t.webhook_id = ?`, int64(id)).Scan(&hash, &gid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, guild.Webhook{}, httperr.UnknownWebhook
	}
	if err != nil {
		return 0, guild.Webhook{}, err
	}
	given := sha256.Sum256([]byte(chi.URLParam(r, "token")))
	if subtle.ConstantTimeCompare(hash, given[:]) != 1 {
		return 0, guild.Webhook{}, httperr.InvalidWebhookToken
	}
	var hook guild.Webhook
	if gid.Valid {
		err = a.core.View(ctx, snowflake.ID(gid.Int64), func(s *guild.State) error {
			if wh := s.Webhooks[id]; wh != nil && !s.Deleted {
				hook = *wh
			}
			return nil
		})
		if err != nil && !errors.Is(err, room.ErrUnknownRoom) {
			return 0, guild.Webhook{}, err
		}
	}
	if hook.ID == 0 {
		// Deleted by a manager, with its channel, or with the guild: the
		// token opens nothing any more.
		a.forgetToken(context.WithoutCancel(ctx), id)
		return 0, guild.Webhook{}, httperr.UnknownWebhook
	}
	return snowflake.ID(gid.Int64), hook, nil
}

// getWebhookByToken is GET /webhooks/{webhook_id}/{token}.
func (a *API) getWebhookByToken(w http.ResponseWriter, r *http.Request) error {
	gid, hook, err := a.webhookByToken(r)
	if err != nil {
		return err
	}
	return a.writeWebhook(w, r, gid, hook, false)
}

// patchWebhookByToken is PATCH /webhooks/{webhook_id}/{token}: a new name
// or avatar; only a manager moves a webhook.
func (a *API) patchWebhookByToken(w http.ResponseWriter, r *http.Request) error {
	gid, hook, err := a.webhookByToken(r)
	if err != nil {
		return err
	}
	return a.updateWebhook(w, r, gid, hook.ID, false)
}

// deleteWebhookByToken is DELETE /webhooks/{webhook_id}/{token}.
func (a *API) deleteWebhookByToken(w http.ResponseWriter, r *http.Request) error {
	gid, hook, err := a.webhookByToken(r)
	if err != nil {
		return err
	}
	return a.removeWebhook(w, r, gid, hook.ID, guild.WebhookDelete{ID: hook.ID, ChannelID: hook.ChannelID})
}

// executeBody is a message posted through a webhook: a message as the
// send route takes it, and how its author shows.
type executeBody struct {
	messageBody
	Username   string `json:"username"`
	AvatarURL  string `json:"avatar_url"`
	ThreadName string `json:"thread_name"`
}

// ExecuteWebhook is POST /webhooks/{webhook_id}/{token}[?wait=true]: a
// message posted as the webhook. Without wait it answers 204 once the
// message is accepted.
func (a *API) ExecuteWebhook(w http.ResponseWriter, r *http.Request) error {
	gid, hook, err := a.posting(w, r)
	if err != nil || hook.ID == 0 {
		return err
	}
	var body executeBody
	var files []guild.Attachment
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		files, err = a.parseMultipart(r, hook.ID, &body)
	} else {
		err = jsonio.Decode(r, maxMessageBody, &body)
	}
	if err != nil {
		return err
	}
	return a.postAsWebhook(w, r, gid, hook, &body, files)
}

// posting resolves the webhook a post names and spends one of its posts
// before the body is read; a zero webhook means a 429 was written.
func (a *API) posting(w http.ResponseWriter, r *http.Request) (snowflake.ID, guild.Webhook, error) {
	gid, hook, err := a.webhookByToken(r)
	if err != nil {
		return 0, hook, err
	}
	if !a.msgs.allowWebhook(w, hook.ID) {
		return 0, guild.Webhook{}, nil
	}
	return gid, hook, nil
}

// postAsWebhook sends body as webhook hook of guild gid, whose post
// posting allowed, and answers as Execute Webhook does; files were stored
// by parseMultipart.
func (a *API) postAsWebhook(w http.ResponseWriter, r *http.Request, gid snowflake.ID, hook guild.Webhook, body *executeBody, files []guild.Attachment) error {
	ctx := r.Context()
	accepted := false
	defer func() { a.releaseUploads(files, accepted) }()
	if r.URL.Query().Get("thread_id") != "" || body.ThreadName != "" {
		return httperr.Field("thread_id", "CHANNEL_TYPE_INVALID", "Concord has no threads.")
	}
	mc, at, err := a.composeAsWebhook(ctx, gid, hook.ID, body, files)
	if err != nil {
		return err
	}
	mc.ID = a.core.NewID()
	ev, err := a.core.Send(ctx, gid, hook.ID, guild.TypeMessageCreate, mc)
	if err != nil {
		return eventError(guild.TypeMessageCreate, err)
	}
	accepted = true
	a.msgs.sent.Inc()
	if !params.Bool(r, "wait") {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	out, err := a.objects.Render(ctx, at.place(), hook.ID, []objects.MessageRow{objects.RowFromCreate(at.place(), hook.ID, &mc, ev.OriginTS)}, nil, true)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// composeAsWebhook turns what a webhook was sent into its message.create,
// from the guild's state as it is.
func (a *API) composeAsWebhook(ctx context.Context, gid, hookID snowflake.ID, body *executeBody, files []guild.Attachment) (guild.MessageCreate, where, error) {
	var form httperr.Form
	if body.AvatarURL != "" {
		if u, err := url.Parse(body.AvatarURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			form.Add("avatar_url", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
		}
	}
	linkButtonsOnly(body.Components, &form)
	if err := form.Err(); err != nil {
		return guild.MessageCreate{}, where{}, err
	}
	body.MessageReference = nil // a webhook replies to nothing
	mc, err := body.create(0, files)
	if err != nil {
		return mc, where{}, err
	}
	var at where
	err = a.core.View(ctx, gid, func(s *guild.State) error {
		wh := s.Webhooks[hookID]
		if wh == nil || s.Deleted {
			return httperr.UnknownWebhook
		}
		at = where{guildID: gid, channel: wh.ChannelID, have: webhookBits}
		mc.ChannelID = wh.ChannelID
		mc.Mentions, mc.MentionRoles, mc.MentionEveryone = mentions(s, webhookBits, mc.Content, body.AllowedMentions)
		mc.Webhook = &guild.WebhookAuthor{Name: wh.Name, Avatar: wh.Avatar, AvatarURL: body.AvatarURL}
		if body.Username != "" {
			mc.Webhook.Name = body.Username
		}
		return nil
	})
	return mc, at, err
}

// linkButtonsOnly refuses components a webhook cannot send: anything
// but a link button would start an interaction no bot answers.
func linkButtonsOnly(rows []guild.ActionRow, form *httperr.Form) {
	for _, row := range rows {
		for _, c := range row.Components {
			if c.Type != guild.ComponentButton || c.Style != guild.ButtonLink {
				form.Add("components", "COMPONENT_INVALID", "A webhook sends link buttons only; interactive components need a bot.")
				return
			}
		}
	}
}

// tokenMessage resolves {webhook_id}/{token} and {message_id}: a message
// the webhook posted, and where it is.
func (a *API) tokenMessage(r *http.Request) (guild.Webhook, where, objects.MessageRow, error) {
	gid, hook, err := a.webhookByToken(r)
	if err != nil {
		return hook, where{}, objects.MessageRow{}, err
	}
	id, err := params.ID(r, "message_id", httperr.UnknownMessage)
	if err != nil {
		return hook, where{}, objects.MessageRow{}, err
	}
	var channel int64
	err = a.db.Reader().QueryRowContext(r.Context(), `SELECT channel_id FROM messages WHERE guild_id = ? AND id = ? AND author_id = ?`,
		int64(gid), int64(id), int64(hook.ID)).Scan(&channel)
	if errors.Is(err, sql.ErrNoRows) {
		return hook, where{}, objects.MessageRow{}, httperr.UnknownMessage
	}
	if err != nil {
		return hook, where{}, objects.MessageRow{}, err
	}
	at := where{guildID: gid, channel: snowflake.ID(channel), have: webhookBits}
	m, err := a.objects.Message(r.Context(), at.place(), id)
	if err != nil {
		return hook, where{}, objects.MessageRow{}, err
	}
	return hook, at, m, nil
}

// WebhookMessage is GET /webhooks/{webhook_id}/{token}/messages/{message_id}.
func (a *API) WebhookMessage(w http.ResponseWriter, r *http.Request) error {
	hook, at, m, err := a.tokenMessage(r)
	if err != nil {
		return err
	}
	out, err := a.renderMessages(r.Context(), at, hook.ID, []objects.MessageRow{m})
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// EditWebhookMessage is PATCH /webhooks/{webhook_id}/{token}/messages/{message_id}.
func (a *API) EditWebhookMessage(w http.ResponseWriter, r *http.Request) error {
	hook, at, m, err := a.tokenMessage(r)
	if err != nil {
		return err
	}
	body, files, err := a.readEdit(r, m.AuthorID)
	if err != nil {
		return err
	}
	edited := false
	defer func() { a.releaseUploads(files, edited) }()
	var form httperr.Form
	if linkButtonsOnly(body.Components.V, &form); form.Err() != nil {
		return form.Err()
	}
	out, err := a.edit(r.Context(), at, hook.ID, m, body, files)
	if err != nil {
		return err
	}
	edited = true
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// DeleteWebhookMessage is DELETE /webhooks/{webhook_id}/{token}/messages/{message_id}.
func (a *API) DeleteWebhookMessage(w http.ResponseWriter, r *http.Request) error {
	hook, at, m, err := a.tokenMessage(r)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), at.guildID, hook.ID, guild.TypeMessageDelete, guild.MessageTarget{ID: m.ID, ChannelID: m.ChannelID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
