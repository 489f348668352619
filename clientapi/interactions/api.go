// Package interactions is the bot platform of Discord's API: application
// commands (slash, user and message commands) that a bot registers, the
// interactions a user starts by invoking one or by clicking a component,
// and the bot's answers to them (callbacks, follow-ups, the original
// response), which become messages. Commands live on the node of their
// application; an interaction is held in memory on that node for the 15
// minutes its token lives. A person on another node invokes through their
// own node, which forwards the invocation to the application's (Remote)
// and delivers to the person what only they may see. Package clientapi
// mounts its routes; node builds it.
package interactions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/auth"
	"concord/clientapi/guilds"
	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
)

// Config tunes the bot platform.
type Config struct {
	Now func() time.Time // tests move the clock; nil means time.Now
}

// Events delivers events to one user's gateway sessions: INTERACTION_CREATE
// to a bot, an ephemeral answer to the user who asked; the gateway
// implements it.
type Events interface {
	UserEvent(userID snowflake.ID, eventType string, payload any)
}

// Deps are the node's shared services.
type Deps struct {
	DB      *storage.DB
	Log     *slog.Logger
	IDs     *snowflake.Generator
	Core    *room.Core // guild state: who is in a guild, and their permissions
	Guilds  *guilds.API
	Objects *objects.Renderer
	Events  Events
	Remote  Remote // nil: a node alone
}

// API serves the bot platform's routes. Build it with New.
type API struct {
	cfg      Config
	db       *storage.DB
	log      *slog.Logger
	ids      *snowflake.Generator
	core     *room.Core
	guilds   *guilds.API
	objects  *objects.Renderer
	events   Events
	remote   Remote
	live     *registry
	forwards forwards // interactions of this node's users with other nodes' bots
}

// New builds the bot platform.
func New(cfg Config, deps Deps) (*API, error) {
	if deps.DB == nil || deps.IDs == nil || deps.Core == nil || deps.Guilds == nil || deps.Objects == nil || deps.Events == nil {
		return nil, errors.New("interactions: DB, IDs, Core, Guilds, Objects and Events are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	return &API{cfg: cfg, db: deps.DB, log: deps.Log, ids: deps.IDs, core: deps.Core, guilds: deps.Guilds,
		objects: deps.Objects, events: deps.Events, remote: deps.Remote, live: newRegistry()}, nil
}

// Close stops the timers of interactions still waiting for their bots.
func (a *API) Close() error {
	a.live.close()
	return nil
}

// Routes serves the routes that need a caller; r already requires one.
func (a *API) Routes(r chi.Router) {
	// {id} is the application, named as the account routes name it.
	for _, scope := range []string{"/applications/{id}/commands", "/applications/{id}/guilds/{guild_id}/commands"} {
		r.Get(scope, a.serve(a.listCommands))
		r.Post(scope, a.serve(a.createCommand))
		r.Put(scope, a.serve(a.overwriteCommands))
		r.Get(scope+"/{command_id}", a.serve(a.getCommand))
		r.Patch(scope+"/{command_id}", a.serve(a.patchCommand))
		r.Delete(scope+"/{command_id}", a.serve(a.deleteCommand))
	}
	r.Get("/applications/{id}/guilds/{guild_id}/commands/permissions", a.serve(a.listPermissions))
	r.Get("/applications/{id}/guilds/{guild_id}/commands/{command_id}/permissions", a.serve(a.getPermissions))
	r.Put("/applications/{id}/guilds/{guild_id}/commands/{command_id}/permissions", a.serve(a.putPermissions))
	r.Get("/guilds/{guild_id}/application-command-index", a.serve(a.guildCommandIndex))
	r.Get("/channels/{channel_id}/application-command-index", a.serve(a.channelCommandIndex))
	r.Post("/interactions", a.serve(a.invoke))
}

// Tokens serves the routes whose token is in the path and which take no
// Authorization: a bot's answers to an interaction, and what guild
// webhooks share with them.
func (a *API) Tokens(r chi.Router) {
	r.Post("/interactions/{interaction_id}/{token}/callback", a.serve(a.callback))
	// An interaction's webhook and a guild's incoming webhook share these.
	r.Post("/webhooks/{webhook_id}/{token}", a.orIncoming(a.followup, a.guilds.ExecuteWebhook))
	r.Get("/webhooks/{webhook_id}/{token}/messages/{message_id}", a.orIncoming(a.getMessage, a.guilds.WebhookMessage))
	r.Patch("/webhooks/{webhook_id}/{token}/messages/{message_id}", a.orIncoming(a.editMessage, a.guilds.EditWebhookMessage))
	r.Delete("/webhooks/{webhook_id}/{token}/messages/{message_id}", a.orIncoming(a.deleteMessage, a.guilds.DeleteWebhookMessage))
}

// orIncoming serves h when {webhook_id}/{token} names a live interaction,
// and a guild's incoming webhook route otherwise.
func (a *API) orIncoming(h, incoming httperr.Handler) http.HandlerFunc {
	return a.serve(func(w http.ResponseWriter, r *http.Request) error {
		if app, err := snowflake.Parse(chi.URLParam(r, "webhook_id")); err == nil &&
			a.live.find(app, chi.URLParam(r, "token"), a.cfg.Now()) != nil {
			return h(w, r)
		}
		return incoming(w, r)
	})
}

func (a *API) serve(h httperr.Handler) http.HandlerFunc { return httperr.Serve(a.log, h) }

func (a *API) nowMs() int64 { return a.cfg.Now().UnixMilli() }

// scope is the application and guild (0: global) a command route names.
type scope struct {
	app, guild snowflake.ID
}

// appScope resolves {id} and {guild_id} for a caller who may manage the
// application's commands: its bot, or its owner. A guild scope needs the
// bot in the guild, as Discord needs its applications.commands grant.
func (a *API) appScope(r *http.Request) (scope, error) {
	app, err := params.ID(r, "id", httperr.UnknownApplication)
	if err != nil {
		return scope{}, err
	}
	c := auth.From(r)
	if c.UserID != app {
		var owner int64
		err := a.db.Reader().QueryRowContext(r.Context(), `SELECT owner_id FROM applications WHERE id = ?`, int64(app)).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return scope{}, httperr.UnknownApplication
		}
		if err != nil {
			return scope{}, fmt.Errorf("load application %s: %w", app, err)
		}
		if c.Bot || snowflake.ID(owner) != c.UserID {
			return scope{}, httperr.MissingAccess
		}
	}
	s := scope{app: app}
	if chi.URLParam(r, "guild_id") == "" {
		return s, nil
	}
	if s.guild, err = params.ID(r, "guild_id", httperr.UnknownGuild); err != nil {
		return scope{}, err
	}
	return s, a.inGuild(r.Context(), s.guild, app)
}

// inGuild answers Missing Access unless user is a member of the guild.
func (a *API) inGuild(ctx context.Context, guildID, user snowflake.ID) error {
	member := false
	err := a.core.View(ctx, guildID, func(s *guild.State) error {
		member = !s.Deleted && s.Kind == guild.KindGuild && s.Members[user] != nil
		return nil
	})
	if errors.Is(err, room.ErrUnknownRoom) || err == nil && !member {
		return httperr.MissingAccess
	}
	return err
}
