// Package accounts is the node-local half of the client API: accounts and
// their sessions (register, login, refresh, logout), users and their
// profiles and avatars, settings, relationships (friends and blocks), bot
// applications and the OAuth2 route that adds a bot to a guild. None of it
// is guild history: it lives in this node's tables, written directly in
// transactions, never through the event core. Package clientapi mounts its
// routes; node builds it.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/password"
	"concord/clientapi/ratelimit"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/blob"
)

// Config is what accounts take from node.toml.
type Config struct {
	Issuer string // [http] public_url, or [node] name: where OAuth2 sends a user back
	Argon2 password.Params
	// RefreshPerMinute is how often one session may refresh a minute
	// ([limits] auth_per_minute); 0 means 5.
	RefreshPerMinute int
	// Registration is RegistrationOpen, RegistrationInvite or
	// RegistrationClosed ([node] registration); "" means open.
	Registration string
	// RegistrationsPerDay is how many accounts one client address may make
	// a day ([limits] registrations_per_address_per_day); 0 means 10.
	RegistrationsPerDay int
	Now                 func() time.Time // tests move the clock; nil means time.Now
}

// BotAdder puts a bot into a guild when its owner or a guild manager
// authorizes it; the guild routes implement it. Its errors should be
// *httperr.Error values (Unknown Guild, Missing Permissions …).
type BotAdder interface {
	AddBot(ctx context.Context, guildID, botUserID, actorUserID snowflake.ID, permissions uint64) error
}

// Events delivers events meant for one user's gateway sessions
// (RELATIONSHIP_ADD, USER_UPDATE, …); the gateway implements it.
type Events interface {
	UserEvent(userID snowflake.ID, eventType string, payload any)
}

// Sessions ends live connections opened with a revoked credential; the
// gateway implements it.
type Sessions interface {
	// EndSessions ends userID's connections of login session authSession,
	// or those of its bot token when authSession is zero.
	EndSessions(userID, authSession snowflake.ID)
}

// Deps are the node's shared services.
type Deps struct {
	DB      *storage.DB
	Log     *slog.Logger
	Metrics prometheus.Registerer // nil: metrics are not registered
	IDs     *snowflake.Generator
	Auth    *auth.Service
	Blobs   blob.Store
	Bots    BotAdder // nil: adding a bot answers Unknown Guild
	Events  Events   // nil: events are dropped
	Live    Sessions // nil: revocations end no connections
	Invites Invites  // nil: registration by guild invite is refused
	Users   Users    // nil: nothing keeps a copy of users' profiles
	Remote  Remote   // nil: friend requests to users of other nodes answer 502
}

// Users is what keeps copies of users' profiles (objects.Renderer, other
// nodes).
type Users interface {
	// ForgetUser drops the copies of a user whose profile changed here.
	ForgetUser(id snowflake.ID)
}

// API serves the account routes. Build it with New.
type API struct {
	cfg     Config
	db      *storage.DB
	log     *slog.Logger
	ids     *snowflake.Generator
	auth    *auth.Service
	blobs   blob.Store
	bots    BotAdder
	events  Events
	users   Users
	live    Sessions
	invites Invites
	remote  Remote
	hasher  *password.Hasher
	metrics metrics

	images *images.Fetcher

	outbox chan struct{}      // kicks the friend outbox
	stop   context.CancelFunc // ends the friend outbox
	done   chan struct{}

	backoff       *backoff           // failed logins per account
	refreshLimit  *ratelimit.Limiter // refreshes per session
	registrations *ratelimit.Limiter // accounts made per address per day
}

// New builds the account routes.
func New(cfg Config, deps Deps) (*API, error) {
	if deps.DB == nil || deps.IDs == nil || deps.Auth == nil || deps.Blobs == nil || cfg.Issuer == "" {
		return nil, errors.New("accounts: DB, IDs, Auth, Blobs and Issuer are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshPerMinute <= 0 {
		cfg.RefreshPerMinute = 5
	}
	if cfg.RegistrationsPerDay <= 0 {
		cfg.RegistrationsPerDay = 10
	}
	switch cfg.Registration {
	case "":
		cfg.Registration = RegistrationOpen
	case RegistrationOpen, RegistrationInvite, RegistrationClosed:
	default:
		return nil, fmt.Errorf("accounts: registration %q is not open, invite or closed", cfg.Registration)
	}
	if cfg.Argon2 == (password.Params{}) {
		cfg.Argon2 = password.Default
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	hasher, err := password.NewHasher(cfg.Argon2)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	a := &API{cfg: cfg, db: deps.DB, log: deps.Log, ids: deps.IDs, auth: deps.Auth, blobs: deps.Blobs,
		bots: deps.Bots, events: deps.Events, users: deps.Users, live: deps.Live, invites: deps.Invites, remote: deps.Remote,
		hasher: hasher, metrics: m, backoff: newBackoff(cfg.Now),
		refreshLimit:  ratelimit.New(ratelimit.Config{Limit: cfg.RefreshPerMinute, Window: time.Minute, Now: cfg.Now}),
		registrations: newRegistrationLimit(cfg.RegistrationsPerDay, cfg.Now),
		images:        images.NewFetcher(deps.Blobs), outbox: make(chan struct{}, 1), done: make(chan struct{})}
	ctx, stop := context.WithCancel(context.Background())
	a.stop = stop
	go func() {
		defer close(a.done)
		if a.remote != nil {
			a.kickOutbox() // what an earlier run left undelivered
			a.runOutbox(ctx)
		}
	}()
	return a, nil
}

// Close stops the delivery of friend removals to other nodes; what is
// undelivered waits in the database for the next start.
func (a *API) Close() error {
	a.stop()
	<-a.done
	return nil
}

// SignIn serves register and login, which take no token. The caller puts
// its per-address limit in front of them; login adds a backoff per account.
func (a *API) SignIn(r chi.Router) {
	r.Post("/auth/register", a.serve(a.register))
	r.Post("/auth/login", a.serve(a.login))
}

// Refresh serves the token refresh, limited per session: clients sharing
// an address (behind NAT or a proxy) do not share a limit. The caller may
// put a looser per-address limit in front of it.
func (a *API) Refresh(r chi.Router) {
	r.Post("/auth/refresh", a.serve(a.refresh))
}

// Routes serves the routes that need a caller; r already requires one.
func (a *API) Routes(r chi.Router) {
	r.Post("/auth/logout", a.serve(a.logout))
	r.Get("/auth/sessions", a.serve(a.listSessions))
	r.Delete("/auth/sessions", a.serve(a.revokeOtherSessions))
	r.Delete("/auth/sessions/{id}", a.serve(a.revokeSession))

	r.Get("/users/@me", a.serve(a.getMe))
	r.Patch("/users/@me", a.serve(a.patchMe))
	r.Get("/users/search", a.serve(a.searchUsers))
	r.Get("/users/{id}", a.serve(a.getUser))

	r.Get("/users/@me/settings", a.serve(a.getSettings))
	r.Patch("/users/@me/settings", a.serve(a.patchSettings))

	r.Get("/users/@me/relationships", a.serve(a.listRelationships))
	r.Post("/users/@me/relationships", a.serve(a.addRelationshipByName))
	r.Put("/users/@me/relationships/{id}", a.serve(a.putRelationship))
	r.Delete("/users/@me/relationships/{id}", a.serve(a.deleteRelationship))

	r.Post("/applications", a.serve(a.createApplication))
	r.Get("/applications/@me", a.serve(a.getOwnApplication))
	r.Patch("/applications/@me", a.serve(a.patchOwnApplication))
	r.Get("/oauth2/applications/@me", a.serve(a.getOwnApplication))
	r.Get("/applications/{id}", a.serve(a.getApplication))
	r.Patch("/applications/{id}", a.serve(a.patchApplication))
	r.Post("/applications/{id}/bot/reset", a.serve(a.resetBotToken))
	r.Post("/oauth2/authorize", a.serve(a.authorizeBot))
}

// Files serves avatars at Discord's CDN path, public as Discord's are.
func (a *API) Files(r chi.Router) {
	r.Get("/avatars/{user_id}/{file}", a.serve(a.getAvatar))
	r.Get("/embed/avatars/{file}", a.serve(a.getDefaultAvatar))
}

func (a *API) serve(h httperr.Handler) http.HandlerFunc { return httperr.Serve(a.log, h) }

// endLive ends the connections of a revoked credential (see Sessions).
func (a *API) endLive(userID, authSession snowflake.ID) {
	if a.live != nil {
		a.live.EndSessions(userID, authSession)
	}
}

func (a *API) publish(userID snowflake.ID, eventType string, payload any) {
	if a.events != nil {
		a.events.UserEvent(userID, eventType, payload)
	}
}
