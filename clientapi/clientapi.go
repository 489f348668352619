// Package clientapi is Discord's client API as a node serves it. Its parts
// are packages of their own, which node builds and this package mounts
// under /api/v10, /api/v9 and /api with the middleware they share:
//
//   - accounts: accounts, sessions, users, settings, relationships, bot
//     applications (node-local tables);
//   - guilds: guilds, channels, roles, members, messages and DMs (written
//     only through the event core);
//   - interactions: application commands, interactions and the answers
//     bots give them;
//   - dispatch: committed events and live state as gateway dispatches, and
//     the gateway's provider;
//   - gateway: Discord's gateway wire protocol;
//   - objects: Discord's JSON objects, shared by REST and dispatches;
//   - web: the node's own client, served at /;
//   - auth, httperr, jsonio, params, images, password, ratelimit, signedurl: helpers
//     any of them may use.
//
// Besides the routes it serves the JWKS, the gateway's WebSocket,
// Discord's CDN paths and the web client. Only node imports it. spec/client-api.md documents
// the routes Discord does not have.
package clientapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/accounts"
	"concord/clientapi/auth"
	"concord/clientapi/gateway"
	"concord/clientapi/guilds"
	"concord/clientapi/httperr"
	"concord/clientapi/interactions"
	"concord/clientapi/jsonio"
	"concord/clientapi/ratelimit"
	"concord/clientapi/web"
)

// Roots are the prefixes Discord's libraries use; each serves the same
// routes.
var Roots = []string{"/api/v10", "/api/v9", "/api"}

// Config is what the mounted API takes from node.toml.
type Config struct {
	AuthPerMinute int    // [limits] auth_per_minute: register/login per address
	APIPerMinute  int    // [limits] api_per_minute: authenticated requests per user, refreshes per address
	GatewayURL    string // the gateway's WebSocket URL, which GET /gateway hands out
	// Proxies are the reverse proxies whose forwarding headers name the
	// client ([http] trusted_proxies).
	Proxies ratelimit.Proxies
	Now     func() time.Time
}

// Parts are the pieces node built.
type Parts struct {
	Auth         *auth.Service
	Accounts     *accounts.API
	Guilds       *guilds.API
	Interactions *interactions.API
	Gateway      *gateway.Gateway
}

// Mount serves parts on r: the API under every root in Roots, the JWKS at
// /.well-known/jwks.json, the gateway at /gateway, the CDN paths (avatars,
// icons, attachments) and the web client at /.
func Mount(r chi.Router, cfg Config, p Parts) error {
	if p.Auth == nil || p.Accounts == nil || p.Guilds == nil || p.Interactions == nil || p.Gateway == nil {
		return errors.New("clientapi: every part is required")
	}
	if cfg.AuthPerMinute <= 0 || cfg.APIPerMinute <= 0 {
		return fmt.Errorf("clientapi: rate limits must be positive (auth %d, api %d)", cfg.AuthPerMinute, cfg.APIPerMinute)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	authLimit := ratelimit.New(ratelimit.Config{Limit: cfg.AuthPerMinute, Window: time.Minute, Now: cfg.Now})
	refreshLimit := ratelimit.New(ratelimit.Config{Limit: cfg.APIPerMinute, Window: time.Minute, Now: cfg.Now})
	filesLimit := ratelimit.New(ratelimit.Config{Limit: FilesPerMinute, Window: time.Minute, Now: cfg.Now})
	heavy := ratelimit.NewConcurrency(HeavyPerUser, jsonio.MaxBody)
	previewLimit := ratelimit.New(ratelimit.Config{Limit: cfg.APIPerMinute, Window: time.Minute, Now: cfg.Now})
	apiLimit := ratelimit.New(ratelimit.Config{Limit: cfg.APIPerMinute, Window: time.Minute, Now: cfg.Now})
	botLimit := ratelimit.New(ratelimit.Config{Limit: BotRequestsPerSecond, Window: time.Second, Now: cfg.Now})

	api := chi.NewRouter()
	api.Use(cfg.Proxies.RealIP)
	api.NotFound(func(w http.ResponseWriter, _ *http.Request) { httperr.Write(w, httperr.NotFound) })
	api.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) { httperr.Write(w, httperr.MethodNotAllowed) })
	// /gateway needs no token; /gateway/bot checks its own.
	gw, bot := p.Gateway.RESTHandlers(cfg.GatewayURL)
	api.Get("/gateway", gw)
	api.Get("/gateway/bot", bot)
	api.Group(func(r chi.Router) {
		r.Use(authLimit.Middleware("auth", ratelimit.ClientIP))
		p.Accounts.SignIn(r)
	})
	api.Group(func(r chi.Router) {
		r.Use(refreshLimit.Middleware("refresh", ratelimit.ClientIP))
		p.Accounts.Refresh(r)
	})
	api.Group(func(r chi.Router) {
		r.Use(previewLimit.Middleware("preview", ratelimit.ClientIP))
		p.Guilds.Previews(r)
	})
	// The token in the path is the credential.
	p.Interactions.Tokens(api)
	p.Guilds.Tokens(api)
	api.Group(func(r chi.Router) {
		r.Use(p.Auth.Require, botLimit.Global(botKey), apiLimit.Middleware("api", callerKey), heavy.Middleware(callerKey))
		p.Accounts.Routes(r)
		p.Guilds.Routes(r)
		p.Interactions.Routes(r)
	})
	for _, root := range Roots {
		r.Mount(root, api)
	}

	r.Get("/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		jsonio.Write(w, http.StatusOK, p.Auth.Keys().JWKS())
	})
	// discordgo dials the URL it was given with a slash appended.
	ws := cfg.Proxies.RealIP(p.Gateway)
	r.Handle("/gateway", ws)
	r.Handle("/gateway/", ws)
	r.Group(func(r chi.Router) {
		r.Use(cfg.Proxies.RealIP, filesLimit.Middleware("cdn", ratelimit.ClientIP))
		p.Accounts.Files(r)
		p.Guilds.Files(r)
	})
	client, err := web.New()
	if err != nil {
		return err
	}
	client.Mount(r)
	return nil
}

// FilesPerMinute is how many files (attachments, avatars, icons) one client
// address may fetch a minute.
const FilesPerMinute = 600

// HeavyPerUser is how many requests with a body over jsonio.MaxBody (or of
// unknown length: uploads, images) one user may have in flight.
const HeavyPerUser = 2

// BotRequestsPerSecond is Discord's global limit on one bot's requests;
// the routes a token in the path authorizes (interaction answers) are not
// counted, as on Discord.
const BotRequestsPerSecond = 50

// botKey counts bots, and only bots, against the global limit.
func botKey(r *http.Request) (string, bool) {
	c, ok := auth.CallerFrom(r.Context())
	return c.UserID.String(), ok && c.Bot
}

// ClientKey names a request's client for per-address limits outside the
// REST routes (the gateway's connection cap): ratelimit.ClientIP's key.
func ClientKey(r *http.Request) string {
	k, _ := ratelimit.ClientIP(r)
	return k
}

func callerKey(r *http.Request) (string, bool) {
	c, ok := auth.CallerFrom(r.Context())
	return c.UserID.String(), ok
}
