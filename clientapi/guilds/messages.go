package guilds

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// maxMessageBody bounds a JSON message: 2000 characters of content and ten
// embeds of 6000 fit well within it.
const maxMessageBody = 256 << 10

// readMessageBody reads a message create by author in either of
// Discord's forms: JSON, or multipart/form-data with payload_json and
// files[n].
func (a *API) readMessageBody(r *http.Request, author snowflake.ID) (*messageBody, []guild.Attachment, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return a.parseMessageForm(r, author)
	}
	var b messageBody
	if err := jsonio.Decode(r, maxMessageBody, &b); err != nil {
		return nil, nil, err
	}
	return &b, nil, nil
}

// sendPlan is what a send takes from the channel's state.
type sendPlan struct {
	at       where
	slowmode int  // rate_limit_per_user, seconds
	bypass   bool // exempt from slowmode
}

func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	// Refuse who may not send here before reading (and storing) any files.
	at, err := a.channelFor(ctx, channelID, user, perm.ViewChannel|perm.SendMessages)
	if err != nil {
		return err
	}
	if err := a.notBlocked(ctx, user, at.peer); err != nil {
		return err
	}
	body, files, err := a.readMessageBody(r, user)
	if err != nil {
		return err
	}
	accepted := false
	if len(files) > 0 {
		// Files of a message that is refused must not stay behind.
		defer func() { a.releaseUploads(files, accepted) }()
	}
	if len(body.Components) > 0 && !auth.From(r).Bot {
		return errPeopleSendNoComponents
	}
	mc, plan, err := a.compose(ctx, channelID, user, body, files)
	if err != nil {
		return err
	}
	var sentID snowflake.ID
	if body.EnforceNonce && mc.Nonce != "" {
		k := nonceKey{channelID, user, mc.Nonce}
		e, first := a.msgs.claimNonce(k)
		if first {
			defer func() { a.msgs.settleNonce(k, e, sentID) }()
		} else {
			select {
			case <-e.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if e.id != 0 {
				m, err := a.objects.Message(ctx, plan.at.place(), e.id)
				if err != nil {
					return err
				}
				return a.writeMessage(w, r, plan.at, m, http.StatusOK)
			}
		}
	}
	if !a.msgs.allowSend(w, channelID, user) {
		return nil
	}
	if !plan.bypass {
		if wait := a.msgs.slowmode(channelID, user, plan.slowmode); wait > 0 {
			writeSlowmode(w, wait)
			return nil
		}
	}
	mc.ID = a.core.NewID()
	ev, err := a.core.Send(ctx, plan.at.guildID, user, guild.TypeMessageCreate, mc)
	if err != nil {
		return eventError(guild.TypeMessageCreate, err)
	}
	accepted, sentID = true, mc.ID
	a.msgs.sent.Inc()
	out, err := a.objects.Render(ctx, plan.at.place(), user, []objects.MessageRow{objects.RowFromCreate(plan.at.place(), user, &mc, ev.OriginTS)}, a.members(ctx, plan.at.guildID), true)
	if err != nil {
		return err
	}
	out[0].Nonce = body.Nonce
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// compose turns a message body user sends to channelID into its
// message.create, from the channel's state as it is: who it mentions, what
// it replies to, whether it may speak.
func (a *API) compose(ctx context.Context, channelID, user snowflake.ID, body *messageBody, files []guild.Attachment) (guild.MessageCreate, sendPlan, error) {
	mc, err := body.create(channelID, files)
	if err != nil {
		return mc, sendPlan{}, err
	}
	var plan sendPlan
	err = a.inMessageChannel(ctx, channelID, user, func(s *guild.State, ch *guild.Channel, have perm.Bits) error {
		plan = sendPlan{at: where{guildID: s.ID, channel: ch.ID, dm: objects.IsDM(s), have: have}, slowmode: ch.RateLimitPerUser,
			bypass: have.Has(perm.ManageMessages) || have.Has(perm.ManageChannels) || have.Has(perm.BypassSlowmode)}
		mc.Mentions, mc.MentionRoles, mc.MentionEveryone = mentions(s, have, mc.Content, body.AllowedMentions)
		return nil
	})
	if err != nil {
		return mc, plan, err
	}
	if mc.TTS && !plan.at.have.Has(perm.SendTTSMessages) {
		mc.TTS = false // Discord sends the message without speech
	}
	return mc, plan, a.reply(ctx, plan.at, body, &mc)
}

// reply resolves message_reference: a visible message of the same
// channel. An unknown one fails the send unless fail_if_not_exists is
// false, in which case the message goes out as a plain one, as on Discord.
func (a *API) reply(ctx context.Context, at where, body *messageBody, mc *guild.MessageCreate) error {
	ref := body.MessageReference
	if ref == nil {
		return nil
	}
	fail := ref.FailIfNotExists == nil || *ref.FailIfNotExists
	unknown := httperr.Field("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
	if ref.ChannelID != nil && *ref.ChannelID != at.channel {
		return httperr.Field("message_reference", "MESSAGE_REFERENCE_INVALID_CHANNEL", "Cannot reply to a message in another channel")
	}
	target, err := a.objects.Message(ctx, at.place(), ref.MessageID)
	if errors.Is(err, httperr.UnknownMessage) {
		if fail {
			return unknown
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !at.have.Has(perm.ReadMessageHistory) {
		return httperr.MissingPermissions
	}
	mc.Reference = &guild.MessageReference{MessageID: target.ID, ChannelID: at.channel}
	if pingsReplied(body.AllowedMentions) && !slices.Contains(mc.Mentions, target.AuthorID) {
		mc.Mentions = append(mc.Mentions, target.AuthorID)
	}
	return nil
}

func (a *API) editMessage(w http.ResponseWriter, r *http.Request) error {
	at, m, err := a.messageFor(r, perm.ViewChannel)
	if err != nil {
		return err
	}
	body, files, err := a.readEdit(r, m.AuthorID)
	if err != nil {
		return err
	}
	edited := false
	defer func() { a.releaseUploads(files, edited) }()
	c := auth.From(r)
	if len(body.Components.V) > 0 && !c.Bot {
		return errPeopleSendNoComponents
	}
	out, err := a.edit(r.Context(), at, c.UserID, m, body, files)
	if err != nil {
		return err
	}
	edited = true
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// readEdit reads an edit of a message by author in either of Discord's
// forms: JSON, or multipart/form-data with payload_json and new files,
// which are held until releaseUploads.
func (a *API) readEdit(r *http.Request, author snowflake.ID) (*editBody, []guild.Attachment, error) {
	var body editBody
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		files, err := a.parseMultipart(r, author, &body)
		return &body, files, err
	}
	return &body, nil, jsonio.Decode(r, maxMessageBody, &body)
}

// edit applies an edit body to message m as user and renders the result.
func (a *API) edit(ctx context.Context, at where, user snowflake.ID, m objects.MessageRow, body *editBody, files []guild.Attachment) (objects.Message, error) {
	e, err := body.edit(m, files)
	if err != nil {
		// Who may not edit at all hears that first, as on Discord: the
		// rules answer for a well-formed edit of the same fields.
		probe := guild.MessageEdit{ID: m.ID, ChannelID: m.ChannelID, Flags: e.Flags}
		if body.Content.Set {
			text := "x"
			probe.Content = &text
		}
		if body.Embeds.Set {
			probe.Embeds = &[]json.RawMessage{}
		}
		if cerr := a.check(ctx, at.guildID, user, guild.TypeMessageEdit, probe); cerr != nil {
			return objects.Message{}, cerr
		}
		return objects.Message{}, err
	}
	if e.Embeds != nil && len(*e.Embeds) > 0 && !at.have.Has(perm.EmbedLinks) {
		return objects.Message{}, httperr.MissingPermissions
	}
	if err := a.send(ctx, at.guildID, user, guild.TypeMessageEdit, e); err != nil {
		return objects.Message{}, err
	}
	if m, err = a.objects.Message(ctx, at.place(), m.ID); err != nil {
		return objects.Message{}, err
	}
	out, err := a.renderMessages(ctx, at, user, []objects.MessageRow{m})
	if err != nil {
		return objects.Message{}, err
	}
	return out[0], nil
}

func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	at, m, err := a.messageFor(r, perm.ViewChannel)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	err = a.send(r.Context(), at.guildID, user, guild.TypeMessageDelete, guild.MessageTarget{ID: m.ID, ChannelID: m.ChannelID})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errPeopleSendNoComponents refuses components from a person: only bots
// (and webhooks) put buttons under their messages, as on Discord.
var errPeopleSendNoComponents = httperr.Field("components", "COMPONENTS_NOT_ALLOWED", "Only bots and webhooks send components.")

// bulkDeleteAge is how old a message bulk delete may reach (the rules check
// it again against the event's timestamp).
const bulkDeleteAge = 14 * 24 * 3600 * 1000

func (a *API) bulkDelete(w http.ResponseWriter, r *http.Request) error {
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	at, err := a.channelFor(r.Context(), channelID, user, perm.ViewChannel)
	if err != nil {
		return err
	}
	if at.dm {
		return httperr.CannotInDM
	}
	if !at.have.Has(perm.ManageMessages) {
		return httperr.MissingPermissions
	}
	var body struct {
		Messages []snowflake.ID `json:"messages"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	if n := len(body.Messages); n < 2 || n > guild.MaxBulkDelete {
		return httperr.Field("messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
	}
	seen := map[snowflake.ID]bool{}
	oldest := a.nowMs() - bulkDeleteAge
	for _, id := range body.Messages {
		if seen[id] {
			return httperr.Field("messages", "BASE_TYPE_DUPLICATES", "Duplicate messages")
		}
		seen[id] = true
		if id.Time().UnixMilli() < oldest {
			return httperr.BulkDeleteTooOld
		}
	}
	// IDs that name no visible message here count toward the bounds, as on
	// Discord, but are left out of the event.
	rows, err := a.objects.Query(r.Context(), at.place(), objects.VisibleMessage+` AND id IN (?`+objects.Placeholders(len(body.Messages)-1)+`)`,
		objects.Int64Args(body.Messages)...)
	if err != nil {
		return err
	}
	ids := make([]snowflake.ID, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	switch len(ids) {
	case 0:
	case 1:
		err = a.send(r.Context(), at.guildID, user, guild.TypeMessageDelete, guild.MessageTarget{ID: ids[0], ChannelID: channelID})
	default:
		err = a.send(r.Context(), at.guildID, user, guild.TypeMessageBulkDelete, guild.MessageBulkDelete{ChannelID: channelID, IDs: ids})
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
