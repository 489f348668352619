package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"concord/clientapi/httperr"
	"concord/federation/snowflake"
)

// Caller is who sent a request.
type Caller struct {
	UserID    snowflake.ID
	SessionID snowflake.ID // zero for bots, whose tokens have no session
	Bot       bool
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller that Require stored in ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Authenticate resolves an Authorization header value: "Bot <bot token>",
// "Bearer <access token>", or a bare access token as Discord's user clients
// send it. Every refusal is ErrInvalidToken; other errors are the
// database's.
func (s *Service) Authenticate(ctx context.Context, header string) (Caller, error) {
	if tok, ok := strings.CutPrefix(header, "Bot "); ok {
		id, err := s.checkBot(ctx, tok)
		if err != nil {
			return Caller{}, err
		}
		return Caller{UserID: id, Bot: true}, nil
	}
	tok, _ := strings.CutPrefix(header, "Bearer ")
	at, err := s.tokens.verify(tok)
	if err != nil {
		return Caller{}, err
	}
	live, err := s.SessionLive(ctx, at.userID, at.sessionID)
	if err != nil {
		return Caller{}, err
	}
	if !live {
		return Caller{}, ErrInvalidToken
	}
	return Caller{UserID: at.userID, SessionID: at.sessionID}, nil
}

// Require answers 401 with Discord's body unless the request carries a
// valid token, and otherwise stores the Caller in the request context.
func (s *Service) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Authenticate(r.Context(), r.Header.Get("Authorization"))
		switch {
		case errors.Is(err, ErrInvalidToken):
			httperr.Write(w, httperr.Unauthorized)
		case err != nil:
			s.cfg.Log.Error("authenticate", "err", err)
			httperr.Write(w, httperr.Internal)
		default:
			next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
		}
	})
}

// From is the caller of a request behind Require, which always has one.
func From(r *http.Request) Caller {
	c, _ := CallerFrom(r.Context())
	return c
}

// Person is the caller of a route Discord keeps to people: a bot is
// refused with Discord's 20001.
func Person(r *http.Request) (Caller, error) {
	c := From(r)
	if c.Bot {
		return c, httperr.BotsCannotUse
	}
	return c, nil
}
