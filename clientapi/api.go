// Package clientapi is the Discord-compatible client API of a node: the
// HTTP routes that Discord's clients and bot libraries call, mounted under
// /api/v10, /api/v9 and /api. This package holds accounts, sessions, users,
// settings, relationships, bot applications and the REST routes for guilds,
// channels, roles, members, bans, invites, the audit log, messages,
// reactions, pins and DMs, which write only through the event core
// (federation/room) and read its in-memory state and projections; the
// gateway joins it later. Only package node imports it;
// its sub-packages (auth, httperr, jsonio, ratelimit, blob, password) are
// shared by everything under clientapi. spec/client-api.md documents the
// routes Discord does not have.
package clientapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"concord/clientapi/auth"
	"concord/storage/blob"
	"concord/clientapi/gateway"
	"concord/clientapi/password"
	"concord/clientapi/ratelimit"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
)

// Config is what the API takes from node.toml.
type Config struct {
	DataDir       string // [node] data_dir: keys in jwt/, files in blobs/
	Issuer        string // [http] public_url, or [node] name when unset
	AuthPerMinute int    // [limits] auth_per_minute: register/login/refresh per address
	APIPerMinute  int    // [limits] api_per_minute: authenticated requests per user
	// MessagesPer10s is [limits] channel_messages_per_10s: messages one user
	// may send to one channel per 10 seconds; 0 means Discord's 10.
	MessagesPer10s int
	// PublicURL is [http] public_url, the base of attachment URLs; empty
	// gives root-relative URLs (/attachments/…).
	PublicURL string
	// GatewayURL is the gateway's WebSocket URL (ws(s)://host/gateway),
	// which GET /gateway hands out. With the event core, the API runs the
	// gateway; empty turns it off.
	GatewayURL string
	// GatewayEventsPerMinute and GatewayMaxPayload are [limits]
	// gateway_events_per_minute and gateway_max_payload_bytes: what one
	// gateway connection may send; 0 means Discord's 120 and 4096.
	GatewayEventsPerMinute int
	GatewayMaxPayload      int
	// MaxUploadBytes is [limits] max_upload_bytes: the largest file, and
	// the most all files of one message may add up to; 0 means 25 MiB.
	MaxUploadBytes int64
	KeyMaxAge      time.Duration // signing key rotation age; 0 means 30 days
	Argon2         password.Params
	Now            func() time.Time // tests move the clock; nil means time.Now
}

// BotAdder puts a bot into a guild when its owner or a guild manager
// authorizes it. The guild layer implements it; its errors should be
// *httperr.Error values (e.g. httperr.UnknownGuild, httperr.MissingAccess).
type BotAdder interface {
	AddBot(ctx context.Context, guildID, botUserID, actorUserID snowflake.ID, permissions uint64) error
}

// UserEvents delivers events meant for one user's gateway sessions
// (RELATIONSHIP_ADD, USER_UPDATE, …). The gateway implements it.
type UserEvents interface {
	Publish(userID snowflake.ID, eventType string, payload any)
}

// Deps are the node's shared services.
type Deps struct {
	DB      *storage.DB
	Log     *slog.Logger
	Metrics prometheus.Registerer // nil: metrics are not registered
	IDs     *snowflake.Generator
	Blobs   blob.Store // nil: a local store under <DataDir>/blobs
	Bots    BotAdder   // nil: the event core adds bots (Core), else Unknown Guild
	Events  UserEvents // nil: events are dropped
	Typing  Typing     // nil: typing indicators are dropped
	// Core is the event core, the only path by which guild REST routes
	// write; nil serves no guild routes and adds no bots.
	Core *room.Core
}

// API serves the client API routes. Build it with New.
type API struct {
	cfg        Config
	db         *storage.DB
	log        *slog.Logger
	ids        *snowflake.Generator
	blobs      blob.Store
	bots       BotAdder
	events     UserEvents
	core       *room.Core
	gw         *gateway.Gateway // nil without the event core
	stopEvents func()
	auth       *auth.Service
	hasher     *password.Hasher
	authLimit  *ratelimit.Limiter
	apiLimit   *ratelimit.Limiter
	metrics    metrics
	msgs       *messaging
	uploads    *uploads
}

// New builds the API, opening the signing keyring under DataDir.
func New(cfg Config, deps Deps) (*API, error) {
	if deps.DB == nil || deps.IDs == nil || cfg.DataDir == "" || cfg.Issuer == "" {
		return nil, errors.New("clientapi: DB, IDs, DataDir and Issuer are required")
	}
	if cfg.AuthPerMinute <= 0 || cfg.APIPerMinute <= 0 {
		return nil, fmt.Errorf("clientapi: rate limits must be positive (auth %d, api %d)", cfg.AuthPerMinute, cfg.APIPerMinute)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Argon2 == (password.Params{}) {
		cfg.Argon2 = password.Default
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if deps.Blobs == nil {
		local, err := blob.NewLocal(filepath.Join(cfg.DataDir, "blobs"))
		if err != nil {
			return nil, err
		}
		deps.Blobs = local
	}
	hasher, err := password.NewHasher(cfg.Argon2)
	if err != nil {
		return nil, err
	}
	svc, err := auth.New(auth.Config{
		KeyDir:    filepath.Join(cfg.DataDir, "jwt"),
		Issuer:    cfg.Issuer,
		KeyMaxAge: cfg.KeyMaxAge,
		Now:       cfg.Now,
		Log:       deps.Log,
	}, deps.DB, deps.IDs)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	a := &API{
		cfg:       cfg,
		db:        deps.DB,
		log:       deps.Log,
		ids:       deps.IDs,
		blobs:     deps.Blobs,
		bots:      deps.Bots,
		events:    deps.Events,
		core:      deps.Core,
		auth:      svc,
		hasher:    hasher,
		authLimit: ratelimit.New(ratelimit.Config{Limit: cfg.AuthPerMinute, Window: time.Minute, Now: cfg.Now}),
		apiLimit:  ratelimit.New(ratelimit.Config{Limit: cfg.APIPerMinute, Window: time.Minute, Now: cfg.Now}),
		metrics:   m,
	}
	if a.msgs, err = newMessaging(cfg, deps); err != nil {
		return nil, err
	}
	if a.uploads, err = newUploads(cfg, deps.Blobs, deps.DB); err != nil {
		return nil, err
	}
	if a.bots == nil && a.core != nil {
		a.bots = a
	}
	if a.core != nil && cfg.GatewayURL != "" {
		if err := a.startGateway(deps); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// startGateway runs the gateway on this API and the event core: it hears
// typing and user events from the REST routes and every committed event.
func (a *API) startGateway(deps Deps) error {
	gw, err := gateway.New(gateway.Config{PublicURL: a.cfg.GatewayURL, InboundLimit: a.cfg.GatewayEventsPerMinute,
		MaxPayload: a.cfg.GatewayMaxPayload}, a.GatewayProvider(), a.log, deps.Metrics)
	if err != nil {
		return fmt.Errorf("clientapi: gateway: %w", err)
	}
	a.gw = gw
	if a.events == nil {
		a.events = gateway.UserEvents{G: gw}
	}
	if a.msgs.typing == nil {
		a.msgs.typing = gw
	}
	a.stopEvents = a.GatewayEvents(gw)
	return nil
}

// Close stops the gateway: it stops hearing events, then closes every
// session.
func (a *API) Close() error {
	if a.gw != nil {
		a.stopEvents()
		a.gw.Close()
	}
	return nil
}

// Auth is the authenticator, for the gateway and later REST routes.
func (a *API) Auth() *auth.Service { return a.auth }

func (a *API) publish(userID snowflake.ID, eventType string, payload any) {
	if a.events != nil {
		a.events.Publish(userID, eventType, payload)
	}
}
