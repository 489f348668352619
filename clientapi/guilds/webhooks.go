package guilds

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
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
	"concord/storage"
)

// Incoming webhooks are guild state (webhook.create, .update and .delete,
// spec/events-types.md): every node knows a guild's webhooks. Their tokens
// are not: the node a webhook was made on keeps the token's SHA-256
// (webhook_tokens), shows the token once, and is the one node that posts
// as the webhook. These are the routes of the
// guild's managers; webhooks_token.go has those its token opens.

// maxWebhookBody bounds a webhook create or edit: a name and an avatar
// (a data URI of up to images.MaxBytes, base64) fit well within it.
const maxWebhookBody = 12 << 20

// webhookBody is a webhook create or PATCH.
type webhookBody struct {
	Name      jsonio.Optional[string]       `json:"name"`
	Avatar    jsonio.Optional[string]       `json:"avatar"`
	ChannelID jsonio.Optional[snowflake.ID] `json:"channel_id"`
}

// newWebhookToken is a webhook's secret: 68 characters, as Discord's are.
func newWebhookToken() string {
	b := make([]byte, 51)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// createWebhook is POST /channels/{channel_id}/webhooks.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	var body webhookBody
	if err := jsonio.Decode(r, maxWebhookBody, &body); err != nil {
		return err
	}
	if !body.Name.Set || body.Name.Null {
		return httperr.Field("name", "BASE_TYPE_REQUIRED", "This field is required")
	}
	gid, err := a.channelRoom(ctx, channelID, auth.From(r).UserID, a.seesGuildChannel(auth.From(r).UserID))
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	create := guild.WebhookCreate{ID: a.core.NewID(), ChannelID: channelID, Name: body.Name.V}
	// Ask first: an avatar is stored only for a caller who may make one.
	if err := a.check(ctx, gid, user, guild.TypeWebhookCreate, create); err != nil {
		return err
	}
	avatar, err := a.storeImage(r, "avatar", body.Avatar)
	if err != nil {
		return err
	}
	if avatar != nil {
		create.Avatar = *avatar
	}
	token := newWebhookToken()
	hash := sha256.Sum256([]byte(token))
	if err := a.db.Write(ctx, func(q storage.Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO webhook_tokens (webhook_id, guild_id, token_hash) VALUES (?, ?, ?)`,
			int64(create.ID), int64(gid), hash[:])
		return err
	}); err != nil {
		return fmt.Errorf("store webhook token: %w", err)
	}
	if err := a.send(ctx, gid, user, guild.TypeWebhookCreate, create); err != nil {
		a.forgetToken(context.WithoutCancel(ctx), create.ID)
		return err
	}
	hook := guild.Webhook{ID: create.ID, ChannelID: channelID, Name: create.Name, Avatar: create.Avatar, CreatorID: user}
	out, err := a.renderWebhooks(r.Context(), gid, []guild.Webhook{hook}, true)
	if err != nil {
		return err
	}
	// The one time the token is shown: the node keeps only its hash.
	out[0].Token, out[0].URL = token, a.webhookURL(r, hook.ID, token)
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// forgetToken drops the token of a webhook that is gone, or never came to be.
func (a *API) forgetToken(ctx context.Context, id snowflake.ID) {
	if err := a.db.Write(ctx, func(q storage.Querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM webhook_tokens WHERE webhook_id = ?`, int64(id))
		return err
	}); err != nil {
		a.log.Warn("forget webhook token", "webhook", id, "err", err)
	}
}

// listChannelWebhooks is GET /channels/{channel_id}/webhooks.
func (a *API) listChannelWebhooks(w http.ResponseWriter, r *http.Request) error {
	channelID, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	var gid snowflake.ID
	var hooks []guild.Webhook
	err = a.inChannel(r.Context(), channelID, auth.From(r).UserID, func(s *guild.State, _ *guild.Channel, have perm.Bits) error {
		if !have.Has(perm.ManageWebhooks) {
			return httperr.MissingPermissions
		}
		gid = s.ID
		hooks = webhooksWhere(s, func(wh *guild.Webhook) bool { return wh.ChannelID == channelID })
		return nil
	})
	if err != nil {
		return err
	}
	return a.writeWebhooks(w, r, gid, hooks)
}

// listGuildWebhooks is GET /guilds/{guild_id}/webhooks.
func (a *API) listGuildWebhooks(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	var hooks []guild.Webhook
	err = a.inGuild(r.Context(), gid, user, func(s *guild.State, _ *guild.Member) error {
		if err := a.needGuild(s, user, perm.ManageWebhooks); err != nil {
			return err
		}
		// An overwrite may still hide a channel, and its webhooks with it.
		hooks = webhooksWhere(s, func(wh *guild.Webhook) bool {
			return s.Permissions(user, wh.ChannelID, a.nowMs()).Has(perm.ViewChannel | perm.ManageWebhooks)
		})
		return nil
	})
	if err != nil {
		return err
	}
	return a.writeWebhooks(w, r, gid, hooks)
}

func (a *API) writeWebhooks(w http.ResponseWriter, r *http.Request, gid snowflake.ID, hooks []guild.Webhook) error {
	out, err := a.renderWebhooks(r.Context(), gid, hooks, true)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// webhooksWhere copies the webhooks of s that keep selects, oldest first.
func webhooksWhere(s *guild.State, keep func(*guild.Webhook) bool) []guild.Webhook {
	out := []guild.Webhook{}
	for _, wh := range s.Webhooks {
		if keep(wh) {
			out = append(out, *wh)
		}
	}
	slices.SortFunc(out, func(x, y guild.Webhook) int { return cmp.Compare(x.ID, y.ID) })
	return out
}

// managedWebhook runs fn on webhook {webhook_id}, which the caller may
// manage: it holds MANAGE_WEBHOOKS in the webhook's channel. Any other
// webhook is unknown to it. Two rooms may carry one ID: the first the
// caller can see is the one meant.
func (a *API) managedWebhook(r *http.Request, fn func(s *guild.State, wh *guild.Webhook) error) (snowflake.ID, error) {
	id, err := params.ID(r, "webhook_id", httperr.UnknownWebhook)
	if err != nil {
		return 0, err
	}
	guilds, err := a.webhookGuilds(r.Context(), id)
	if err != nil {
		return 0, err
	}
	user := auth.From(r).UserID
	for _, gid := range guilds {
		err = a.inGuild(r.Context(), gid, user, func(s *guild.State, _ *guild.Member) error {
			wh := s.Webhooks[id]
			if wh == nil || !s.Permissions(user, wh.ChannelID, a.nowMs()).Has(perm.ViewChannel) {
				return httperr.UnknownWebhook
			}
			if !s.Permissions(user, wh.ChannelID, a.nowMs()).Has(perm.ManageWebhooks) {
				return httperr.MissingPermissions
			}
			return fn(s, wh)
		})
		if !errors.Is(err, httperr.UnknownGuild) && !errors.Is(err, httperr.UnknownWebhook) {
			return gid, err
		}
	}
	return 0, httperr.UnknownWebhook
}

// webhookGuilds lists the guilds holding a webhook of this ID, from the
// projection, oldest first.
func (a *API) webhookGuilds(ctx context.Context, id snowflake.ID) ([]snowflake.ID, error) {
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT guild_id FROM webhooks WHERE id = ? ORDER BY guild_id LIMIT 16`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("find webhook %s: %w", id, err)
	}
	defer rows.Close()
	var out []snowflake.ID
	for rows.Next() {
		var gid int64
		if err := rows.Scan(&gid); err != nil {
			return nil, fmt.Errorf("find webhook %s: %w", id, err)
		}
		out = append(out, snowflake.ID(gid))
	}
	return out, rows.Err()
}

// getWebhook is GET /webhooks/{webhook_id}.
func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	var hook guild.Webhook
	gid, err := a.managedWebhook(r, func(_ *guild.State, wh *guild.Webhook) error {
		hook = *wh
		return nil
	})
	if err != nil {
		return err
	}
	return a.writeWebhook(w, r, gid, hook, true)
}

func (a *API) writeWebhook(w http.ResponseWriter, r *http.Request, gid snowflake.ID, hook guild.Webhook, withUser bool) error {
	out, err := a.renderWebhooks(r.Context(), gid, []guild.Webhook{hook}, withUser)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// patchWebhook is PATCH /webhooks/{webhook_id}: a new name, avatar or
// channel.
func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request) error {
	var gid snowflake.ID
	_, err := a.managedWebhook(r, func(s *guild.State, _ *guild.Webhook) error {
		gid = s.ID
		return nil
	})
	if err != nil {
		return err
	}
	return a.updateWebhook(w, r, gid, auth.From(r).UserID, true)
}

// updateWebhook applies a webhook PATCH as sender, the caller or the
// webhook itself, and answers with the webhook as it became.
func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request, gid, sender snowflake.ID, withUser bool) error {
	ctx := r.Context()
	id, _ := params.ID(r, "webhook_id", httperr.UnknownWebhook) // checked by the caller
	var body webhookBody
	if err := jsonio.Decode(r, maxWebhookBody, &body); err != nil {
		return err
	}
	update := guild.WebhookUpdate{ID: id}
	if body.Name.Set {
		if body.Name.Null {
			return httperr.Field("name", "BASE_TYPE_REQUIRED", "This field is required")
		}
		update.Name = &body.Name.V
	}
	if body.ChannelID.Set && !body.ChannelID.Null {
		update.ChannelID = &body.ChannelID.V
	}
	if body.Avatar.Set {
		// Ask first: an avatar is stored only for a caller who may set it.
		probe := update
		probe.Avatar = new(string)
		if err := a.check(ctx, gid, sender, guild.TypeWebhookUpdate, probe); err != nil {
			return err
		}
		var err error
		if update.Avatar, err = a.storeImage(r, "avatar", body.Avatar); err != nil {
			return err
		}
	}
	if update.Name != nil || update.Avatar != nil || update.ChannelID != nil {
		if err := a.send(ctx, gid, sender, guild.TypeWebhookUpdate, update); err != nil {
			return err
		}
	}
	var hook guild.Webhook
	err := a.core.View(ctx, gid, func(s *guild.State) error {
		if wh := s.Webhooks[id]; wh != nil {
			hook = *wh
			return nil
		}
		return httperr.UnknownWebhook
	})
	if err != nil {
		return err
	}
	return a.writeWebhook(w, r, gid, hook, withUser)
}

// deleteWebhook is DELETE /webhooks/{webhook_id}.
func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	var del guild.WebhookDelete
	gid, err := a.managedWebhook(r, func(_ *guild.State, wh *guild.Webhook) error {
		del = guild.WebhookDelete{ID: wh.ID, ChannelID: wh.ChannelID}
		return nil
	})
	if err != nil {
		return err
	}
	return a.removeWebhook(w, r, gid, auth.From(r).UserID, del)
}

// removeWebhook sends del as sender and forgets the webhook's token.
func (a *API) removeWebhook(w http.ResponseWriter, r *http.Request, gid, sender snowflake.ID, del guild.WebhookDelete) error {
	if err := a.send(r.Context(), gid, sender, guild.TypeWebhookDelete, del); err != nil {
		return err
	}
	a.forgetToken(r.Context(), del.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renderWebhooks renders hooks of guild gid, with who made each when
// withUser.
func (a *API) renderWebhooks(ctx context.Context, gid snowflake.ID, hooks []guild.Webhook, withUser bool) ([]objects.Webhook, error) {
	var users map[snowflake.ID]objects.User
	if withUser {
		creators := make([]snowflake.ID, len(hooks))
		for i, h := range hooks {
			creators[i] = h.CreatorID
		}
		var err error
		if users, err = a.objects.Users(ctx, creators); err != nil {
			return nil, err
		}
	}
	out := make([]objects.Webhook, len(hooks))
	for i := range hooks {
		var creator *objects.User
		if u, ok := users[hooks[i].CreatorID]; ok {
			creator = &u
		}
		out[i] = objects.RenderWebhook(gid, &hooks[i], creator)
	}
	return out, nil
}

// webhookURL is where a webhook is executed: under [http] public_url, or
// else the address the caller used.
func (a *API) webhookURL(r *http.Request, id snowflake.ID, token string) string {
	base := a.objects.PublicURL()
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/api/webhooks/" + id.String() + "/" + token
}
