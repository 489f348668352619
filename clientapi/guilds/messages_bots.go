package guilds

import (
	"context"
	"encoding/json"
	"net/http"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// A bot answers an interaction with messages that have no channel route of
// their own. The bot platform (clientapi/interactions) posts, edits and
// reads them here, so that they go through the same checks as any send.

// flagEphemeral marks a message only its interaction's user sees: it never
// enters history.
const flagEphemeral = 1 << 6

// Draft is a message a bot composed for a channel: checked, not sent.
type Draft struct {
	create    guild.MessageCreate
	at        where
	ephemeral bool
}

// Ephemeral reports whether d is for its interaction's user alone.
func (d *Draft) Ephemeral() bool { return d.ephemeral }

// Place is where d goes.
func (d *Draft) Place() objects.Place { return d.at.place() }

// ComposeAs reads body, a message as the send route takes it, for author
// in channelID; files were stored by ReadForm and are held.
func (a *API) ComposeAs(ctx context.Context, author, channelID snowflake.ID, body json.RawMessage, files []guild.Attachment) (*Draft, error) {
	var b messageBody
	if len(body) > maxMessageBody {
		return nil, httperr.EntityTooLarge
	}
	if len(body) > 0 && json.Unmarshal(body, &b) != nil {
		return nil, httperr.Field("data", "BASE_TYPE_BAD_TYPE", "The message is not a JSON object.")
	}
	mc, plan, err := a.compose(ctx, channelID, author, &b, files)
	if err != nil {
		return nil, err
	}
	return &Draft{create: mc, at: plan.at, ephemeral: b.Flags&flagEphemeral != 0}, nil
}

// PostAs sends d as author's answer to the interaction in and renders it.
func (a *API) PostAs(ctx context.Context, author snowflake.ID, d *Draft, in *guild.MessageInteraction) (objects.Message, error) {
	d.create.ID, d.create.Interaction = a.core.NewID(), in
	ev, err := a.core.Send(ctx, d.at.guildID, author, guild.TypeMessageCreate, d.create)
	if err != nil {
		return objects.Message{}, eventError(guild.TypeMessageCreate, err)
	}
	a.msgs.sent.Inc()
	return a.renderDraft(ctx, author, d, ev.OriginTS, 0)
}

// Preview renders d as PostAs would, without sending it: an ephemeral
// answer, which only its user sees and which history never holds.
func (a *API) Preview(ctx context.Context, author snowflake.ID, d *Draft, in *guild.MessageInteraction) (objects.Message, error) {
	d.create.ID, d.create.Interaction = a.core.NewID(), in
	return a.renderDraft(ctx, author, d, a.nowMs(), flagEphemeral)
}

func (a *API) renderDraft(ctx context.Context, author snowflake.ID, d *Draft, ts int64, flags int) (objects.Message, error) {
	row := objects.RowFromCreate(d.at.place(), author, &d.create, ts)
	row.Flags |= flags
	out, err := a.objects.Render(ctx, d.at.place(), author, []objects.MessageRow{row}, a.members(ctx, d.at.guildID), true)
	if err != nil {
		return objects.Message{}, err
	}
	return out[0], nil
}

// DeferAs is a bot's "thinking…" answer to interaction in: an empty
// message flagged loading, which the bot's first edit fills in. An
// ephemeral one is only rendered, for its user alone.
func (a *API) DeferAs(ctx context.Context, author, channelID snowflake.ID, in *guild.MessageInteraction, ephemeral bool) (objects.Message, error) {
	at, err := a.channelFor(ctx, channelID, author, perm.ViewChannel)
	if err != nil {
		return objects.Message{}, err
	}
	d := &Draft{create: guild.MessageCreate{ChannelID: channelID, Flags: guild.FlagLoading}, at: at, ephemeral: ephemeral}
	if ephemeral {
		return a.Preview(ctx, author, d, in)
	}
	return a.PostAs(ctx, author, d, in)
}

// EditAs applies body, an edit as the edit route takes it, to author's
// message messageID in channelID.
func (a *API) EditAs(ctx context.Context, author, channelID, messageID snowflake.ID, body json.RawMessage) (objects.Message, error) {
	at, m, err := a.messageAs(ctx, author, channelID, messageID)
	if err != nil {
		return objects.Message{}, err
	}
	var b editBody
	if len(body) > maxMessageBody {
		return objects.Message{}, httperr.EntityTooLarge
	}
	if json.Unmarshal(body, &b) != nil {
		return objects.Message{}, httperr.Field("_body", "BASE_TYPE_BAD_TYPE", "The edit is not a JSON object.")
	}
	return a.edit(ctx, at, author, m, &b, nil)
}

// DeleteAs deletes author's message messageID in channelID.
func (a *API) DeleteAs(ctx context.Context, author, channelID, messageID snowflake.ID) error {
	at, m, err := a.messageAs(ctx, author, channelID, messageID)
	if err != nil {
		return err
	}
	return a.send(ctx, at.guildID, author, guild.TypeMessageDelete, guild.MessageTarget{ID: m.ID, ChannelID: m.ChannelID})
}

// MessageAs renders message messageID of channelID as viewer sees it.
func (a *API) MessageAs(ctx context.Context, viewer, channelID, messageID snowflake.ID) (objects.Message, error) {
	at, m, err := a.messageAs(ctx, viewer, channelID, messageID)
	if err != nil {
		return objects.Message{}, err
	}
	out, err := a.renderMessages(ctx, at, viewer, []objects.MessageRow{m})
	if err != nil {
		return objects.Message{}, err
	}
	return out[0], nil
}

func (a *API) messageAs(ctx context.Context, user, channelID, messageID snowflake.ID) (where, objects.MessageRow, error) {
	at, err := a.channelFor(ctx, channelID, user, perm.ViewChannel)
	if err != nil {
		return at, objects.MessageRow{}, err
	}
	m, err := a.objects.Message(ctx, at.place(), messageID)
	return at, m, err
}

// ChannelAs resolves a channel user can see: where it is, and user's
// permissions in it.
func (a *API) ChannelAs(ctx context.Context, user, channelID snowflake.ID) (objects.Place, perm.Bits, error) {
	at, err := a.channelFor(ctx, channelID, user, perm.ViewChannel)
	return at.place(), at.have, err
}

// ReadForm reads a multipart body: its payload_json into into, its files
// into the blob store, held until ReleaseFiles; they count against the
// storage quota of author, whose message they go into.
func (a *API) ReadForm(r *http.Request, author snowflake.ID, into any) ([]guild.Attachment, error) {
	return a.parseMultipart(r, author, into)
}

// ReleaseFiles gives back ReadForm's holds; accepted says whether a message
// using the files was sent.
func (a *API) ReleaseFiles(files []guild.Attachment, accepted bool) {
	a.releaseUploads(files, accepted)
}
