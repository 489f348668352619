// Package guilds is Discord's REST API for everything that lives in a
// guild's or a DM's history: guilds, channels, roles, members, bans,
// invites, the audit log, messages, reactions, pins, attachments and
// search, and DMs, which are small rooms on the same machinery. Every
// write is an event sent through the event core (federation/room), whose
// rules decide; reads come from the room's state and the projections the
// core keeps. Package clientapi mounts its routes; node builds it.
package guilds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/objects"
	"concord/clientapi/signedurl"
	"concord/federation/live"
	"concord/federation/p2p"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/blob"
)

// Config is what the guild routes take from node.toml.
type Config struct {
	DataDir string // [node] data_dir: uploads are spooled under it
	// MessagesPer10s is [limits] channel_messages_per_10s: messages one user
	// may send to one channel per 10 seconds; 0 means Discord's 10.
	MessagesPer10s int
	// WebhookMessagesPer2s is what one webhook may post per 2 seconds; 0
	// means Discord's 5.
	WebhookMessagesPer2s int
	// MaxUploadBytes is [limits] max_upload_bytes: the largest file, and
	// the most all files of one message may add up to; 0 means 25 MiB.
	MaxUploadBytes int64
	// QuotaBytes is [limits] storage_quota_bytes: the most bytes of files
	// one author's messages may carry in all; 0 means no quota.
	QuotaBytes int64
	Now        func() time.Time // tests move the clock; nil means time.Now
}

// Deps are the node's shared services.
type Deps struct {
	DB      *storage.DB
	Log     *slog.Logger
	Metrics prometheus.Registerer // nil: metrics are not registered
	IDs     *snowflake.Generator
	Core    *room.Core // the only path by which these routes write
	Blobs   blob.Store
	Objects *objects.Renderer
	Live    *live.Hub         // hears who types
	Signer  *signedurl.Signer // checks attachment URLs, which Objects signs with it
	Remote  Remote            // guilds held by other nodes; nil when the node federates with none
}

// Remote reaches guilds other nodes hold (federation/p2p).
type Remote interface {
	// FetchInvite finds a node holding invite code, brings its guild
	// into the event core, and returns the guild's ID.
	FetchInvite(ctx context.Context, code string) (snowflake.ID, error)
	// PreviewInvite asks the node holding invite code what it admits to.
	PreviewInvite(ctx context.Context, code string) (snowflake.ID, *p2p.InvitePreview, error)
	// FetchFile writes to w the file of key, size bytes, that a message
	// of the room names, from a node that holds it.
	FetchFile(ctx context.Context, room snowflake.ID, key string, size int64, w io.WriterAt) error
	// FetchImage writes to w the image of key that the room's state
	// names (its icon), from a node that holds it, and returns its size.
	FetchImage(ctx context.Context, room snowflake.ID, key string, w io.WriterAt) (int64, error)
}

// API serves the guild, channel and message routes. Build it with New.
type API struct {
	cfg      Config
	db       *storage.DB
	log      *slog.Logger
	ids      *snowflake.Generator
	core     *room.Core
	blobs    blob.Store
	objects  *objects.Renderer
	live     *live.Hub
	remote   Remote
	signer   *signedurl.Signer
	msgs     *messaging
	uploads  *uploads
	channels channelIndex // which rooms hold a channel ID
	images   *images.Fetcher

	fetching singleflight.Group // files being fetched from other nodes, by blob
}

// New builds the guild routes.
func New(cfg Config, deps Deps) (*API, error) {
	if deps.DB == nil || deps.IDs == nil || deps.Core == nil || deps.Blobs == nil || deps.Objects == nil || deps.Live == nil || deps.Signer == nil ||
		cfg.DataDir == "" {
		return nil, errors.New("guilds: DB, IDs, Core, Blobs, Objects, Live, Signer and DataDir are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	a := &API{cfg: cfg, db: deps.DB, log: deps.Log, ids: deps.IDs, core: deps.Core, blobs: deps.Blobs,
		objects: deps.Objects, live: deps.Live, remote: deps.Remote, signer: deps.Signer,
		images: images.NewFetcher(deps.Blobs)}
	var err error
	if a.msgs, err = newMessaging(cfg, deps); err != nil {
		return nil, err
	}
	if a.uploads, err = newUploads(cfg, deps.Blobs, deps.DB); err != nil {
		return nil, fmt.Errorf("guilds: %w", err)
	}
	return a, nil
}

// Routes serves the guild, channel, message and DM routes; r already
// requires a caller.
func (a *API) Routes(r chi.Router) {
	r.Post("/guilds", a.serve(a.createGuild))
	r.Get("/users/@me/guilds", a.serve(a.listMyGuilds))
	r.Delete("/users/@me/guilds/{guild_id}", a.serve(a.leaveGuild))
	r.Get("/users/@me/guilds/{guild_id}/member", a.serve(a.getMyMember))
	r.Get("/users/@me/channels", a.serve(a.listDMs))
	r.Post("/users/@me/channels", a.serve(a.createDM))

	r.Route("/guilds/{guild_id}", func(r chi.Router) {
		r.Get("/", a.serve(a.getGuild))
		r.Patch("/", a.serve(a.patchGuild))
		r.Delete("/", a.serve(a.deleteGuild))
		r.Get("/audit-logs", a.serve(a.getAuditLog))
		r.Get("/emojis", a.serve(a.listEmojis))
		r.Post("/emojis", a.serve(a.createEmoji))
		r.Get("/emojis/{emoji_id}", a.serve(a.getEmoji))
		r.Delete("/emojis/{emoji_id}", a.serve(a.deleteEmoji))
		r.Get("/messages/search", a.serve(a.searchMessages))

		r.Get("/channels", a.serve(a.listChannels))
		r.Post("/channels", a.serve(a.createChannel))
		r.Patch("/channels", a.serve(a.reorderChannels))

		r.Get("/roles", a.serve(a.listRoles))
		r.Post("/roles", a.serve(a.createRole))
		r.Patch("/roles", a.serve(a.reorderRoles))
		r.Get("/roles/{role_id}", a.serve(a.getRole))
		r.Patch("/roles/{role_id}", a.serve(a.patchRole))
		r.Delete("/roles/{role_id}", a.serve(a.deleteRole))

		r.Get("/members", a.serve(a.listMembers))
		r.Get("/members/search", a.serve(a.searchMembers))
		r.Patch("/members/@me", a.serve(a.patchMyMember))
		r.Patch("/members/@me/nick", a.serve(a.patchMyMember)) // the older route discordgo calls
		r.Get("/members/{user_id}", a.serve(a.getMember))
		r.Patch("/members/{user_id}", a.serve(a.patchMember))
		r.Delete("/members/{user_id}", a.serve(a.kickMember))
		r.Put("/members/{user_id}/roles/{role_id}", a.serve(a.memberRole(true)))
		r.Delete("/members/{user_id}/roles/{role_id}", a.serve(a.memberRole(false)))

		r.Get("/bans", a.serve(a.listBans))
		r.Get("/bans/{user_id}", a.serve(a.getBan))
		r.Put("/bans/{user_id}", a.serve(a.putBan))
		r.Delete("/bans/{user_id}", a.serve(a.deleteBan))

		r.Get("/invites", a.serve(a.listGuildInvites))
		r.Get("/webhooks", a.serve(a.listGuildWebhooks))
	})

	r.Get("/webhooks/{webhook_id}", a.serve(a.getWebhook))
	r.Patch("/webhooks/{webhook_id}", a.serve(a.patchWebhook))
	r.Delete("/webhooks/{webhook_id}", a.serve(a.deleteWebhook))

	r.Post("/invites/{code}", a.serve(a.acceptInvite))
	r.Delete("/invites/{code}", a.serve(a.deleteInvite))

	r.Route("/channels/{channel_id}", func(r chi.Router) {
		r.Get("/", a.serve(a.getChannel))
		r.Patch("/", a.serve(a.patchChannel))
		r.Delete("/", a.serve(a.deleteChannel))
		r.Put("/permissions/{overwrite_id}", a.serve(a.putOverwrite))
		r.Delete("/permissions/{overwrite_id}", a.serve(a.deleteOverwrite))
		r.Get("/invites", a.serve(a.listChannelInvites))
		r.Post("/invites", a.serve(a.createInvite))
		r.Get("/webhooks", a.serve(a.listChannelWebhooks))
		r.Post("/webhooks", a.serve(a.createWebhook))

		r.Put("/recipients/{user_id}", a.serve(a.addRecipient))
		r.Post("/typing", a.serve(a.triggerTyping))
		r.Get("/messages", a.serve(a.listMessages))
		r.Post("/messages", a.serve(a.createMessage))
		r.Post("/messages/bulk-delete", a.serve(a.bulkDelete))
		r.Post("/messages/bulk_delete", a.serve(a.bulkDelete)) // the older spelling some libraries use
		r.Get("/messages/{message_id}", a.serve(a.getMessage))
		r.Patch("/messages/{message_id}", a.serve(a.editMessage))
		r.Delete("/messages/{message_id}", a.serve(a.deleteMessage))

		const re = "/messages/{message_id}/reactions"
		r.Delete(re, a.serve(a.removeReactions))
		r.Get(re+"/{emoji}", a.serve(a.listReactionUsers))
		r.Delete(re+"/{emoji}", a.serve(a.removeReactions))
		r.Put(re+"/{emoji}/@me", a.serve(a.addReaction))
		r.Delete(re+"/{emoji}/{user_id}", a.serve(a.removeReaction))

		r.Get("/pins", a.serve(a.listPins))
		r.Get("/messages/pins", a.serve(a.listPinsPaged))
		r.Put("/messages/pins/{message_id}", a.serve(a.pin(true)))
		r.Delete("/messages/pins/{message_id}", a.serve(a.pin(false)))
		r.Put("/pins/{message_id}", a.serve(a.pin(true)))
		r.Delete("/pins/{message_id}", a.serve(a.pin(false)))
	})
}

// Tokens serves the routes of incoming webhooks whose token is in the path
// and which take no Authorization. Posting, and a posted message's routes,
// are shared with interactions' webhooks: package interactions serves
// them and hands on to ExecuteWebhook, WebhookMessage, EditWebhookMessage
// and DeleteWebhookMessage what is not an interaction's.
func (a *API) Tokens(r chi.Router) {
	r.Get("/webhooks/{webhook_id}/{token}", a.serve(a.getWebhookByToken))
	r.Patch("/webhooks/{webhook_id}/{token}", a.serve(a.patchWebhookByToken))
	r.Delete("/webhooks/{webhook_id}/{token}", a.serve(a.deleteWebhookByToken))
	r.Post("/webhooks/{webhook_id}/{token}/slack", a.serve(a.SlackWebhook))
	r.Post("/webhooks/{webhook_id}/{token}/github", a.serve(a.GitHubWebhook))
}

// Previews serves what Discord answers without a token: an invite's
// preview, which invite cards and join pages fetch before anyone signs in.
// The caller puts a per-address limit in front of it.
func (a *API) Previews(r chi.Router) {
	r.Get("/invites/{code}", a.serve(a.getInvite))
}

// Files serves guild and role icons, custom emojis and message attachments
// at Discord's CDN paths.
func (a *API) Files(r chi.Router) {
	r.Get("/icons/{guild_id}/{file}", a.serve(a.getIcon))
	r.Get("/emojis/{file}", a.serve(a.getEmojiImage))
	r.Get("/role-icons/{role_id}/{file}", a.serve(a.getRoleIcon))
	r.Get("/attachments/{channel_id}/{attachment_id}/{filename}", a.serve(a.getAttachment))
}

func (a *API) serve(h httperr.Handler) http.HandlerFunc { return httperr.Serve(a.log, h) }
