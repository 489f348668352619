package objects

import (
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// webhookIncoming is Discord's type of a webhook that posts what it is
// sent; Concord has no other kind.
const webhookIncoming = 1

// Webhook is Discord's webhook object.
type Webhook struct {
	Type          int           `json:"type"`
	ID            snowflake.ID  `json:"id"`
	GuildID       snowflake.ID  `json:"guild_id"`
	ChannelID     snowflake.ID  `json:"channel_id"`
	Name          string        `json:"name"`
	Avatar        *string       `json:"avatar"`
	ApplicationID *snowflake.ID `json:"application_id"`
	// User is who made it; a caller using the token alone is not told.
	User *User `json:"user,omitempty"`
	// Token and URL are shown once, to whoever made the webhook: the node
	// keeps only the token's hash.
	Token string `json:"token,omitempty"`
	URL   string `json:"url,omitempty"`
}

// RenderWebhook renders w of guild gid; creator nil leaves the user out.
func RenderWebhook(gid snowflake.ID, w *guild.Webhook, creator *User) Webhook {
	o := Webhook{Type: webhookIncoming, ID: w.ID, GuildID: gid, ChannelID: w.ChannelID, Name: w.Name,
		Avatar: NonEmpty(IconHash(w.Avatar)), User: creator}
	if w.ApplicationID != 0 {
		app := w.ApplicationID
		o.ApplicationID = &app
	}
	return o
}

// WebhookUser is the author of a webhook's message: the name and avatar
// (a blob key, "" for none) it was posted with, marked a bot as on
// Discord.
func WebhookUser(id snowflake.ID, name, avatar string) User {
	return User{ID: id, Username: name, Discriminator: "0000", Avatar: NonEmpty(IconHash(avatar)), Bot: true}
}
