package clientapi

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/ratelimit"
	"concord/federation/snowflake"
)

// APIRoots are the prefixes Discord's libraries use; each serves the same
// routes.
var APIRoots = []string{"/api/v10", "/api/v9", "/api"}

// Mount serves the API under every root in APIRoots, the JWKS at
// /.well-known/jwks.json, and avatars at /avatars/… and message files at
// /attachments/… (Discord's CDN paths).
func (a *API) Mount(r chi.Router) {
	h := a.Handler()
	for _, root := range APIRoots {
		r.Mount(root, h)
	}
	r.Get("/.well-known/jwks.json", a.jwks)
	r.Get("/avatars/{user_id}/{file}", a.serve(a.getAvatar))
	if a.core != nil {
		r.Get("/icons/{guild_id}/{file}", a.serve(a.getIcon))
	}
	r.Get("/attachments/{channel_id}/{attachment_id}/{filename}", a.serve(a.getAttachment))
	if a.gw != nil {
		// discordgo dials the URL it was given with a slash appended.
		r.Handle("/gateway", a.gw)
		r.Handle("/gateway/", a.gw)
	}
}

// Handler serves the routes relative to an API root.
func (a *API) Handler() http.Handler {
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) { httperr.Write(w, httperr.NotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) { httperr.Write(w, httperr.MethodNotAllowed) })

	if a.gw != nil {
		// /gateway needs no token; /gateway/bot checks its own.
		gw, bot := a.gw.RESTHandlers(a.cfg.GatewayURL)
		r.Get("/gateway", gw)
		r.Get("/gateway/bot", bot)
	}

	r.Group(func(r chi.Router) {
		r.Use(a.authLimit.Middleware("auth", ratelimit.ClientIP))
		r.Post("/auth/register", a.serve(a.register))
		r.Post("/auth/login", a.serve(a.login))
		r.Post("/auth/refresh", a.serve(a.refresh))
	})

	r.Group(func(r chi.Router) {
		r.Use(a.auth.Require, a.apiLimit.Middleware("api", callerKey))
		r.Post("/auth/logout", a.serve(a.logout))
		r.Get("/auth/sessions", a.serve(a.listSessions))
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
		r.Get("/oauth2/applications/@me", a.serve(a.getOwnApplication))
		r.Get("/applications/{id}", a.serve(a.getApplication))
		r.Patch("/applications/{id}", a.serve(a.patchApplication))
		r.Post("/applications/{id}/bot/reset", a.serve(a.resetBotToken))
		r.Post("/oauth2/authorize", a.serve(a.authorizeBot))
		a.guildRoutes(r)
		a.messageRoutes(r)
	})
	return r
}

func (a *API) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	jsonio.Write(w, http.StatusOK, a.auth.Keys().JWKS())
}

// handler is a route that returns its failure instead of writing it, so
// every error reaches the client through httperr in one place.
type handler func(w http.ResponseWriter, r *http.Request) error

func (a *API) serve(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			var e *httperr.Error
			if !errors.As(err, &e) {
				a.log.Error("client api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			httperr.Write(w, err)
		}
	}
}

func callerKey(r *http.Request) (string, bool) {
	c, ok := auth.CallerFrom(r.Context())
	return c.UserID.String(), ok
}

// caller is the authenticated caller; routes behind Require always have one.
func caller(r *http.Request) auth.Caller {
	c, _ := auth.CallerFrom(r.Context())
	return c
}

// userCaller refuses bots, for the routes Discord keeps to people.
func userCaller(r *http.Request) (auth.Caller, error) {
	c := caller(r)
	if c.Bot {
		return c, httperr.BotsCannotUse
	}
	return c, nil
}

// pathID parses the {name} path segment as a snowflake; a malformed one
// answers notFound, since no object has that ID.
func pathID(r *http.Request, name string, notFound error) (snowflake.ID, error) {
	id, err := snowflake.Parse(chi.URLParam(r, name))
	if err != nil {
		return 0, notFound
	}
	return id, nil
}
