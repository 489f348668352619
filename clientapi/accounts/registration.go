package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"concord/clientapi/httperr"
	"concord/clientapi/ratelimit"
	"concord/storage"
)

// Registration modes ([node] registration).
const (
	RegistrationOpen   = "open"   // anyone may register
	RegistrationInvite = "invite" // a registration carries a guild invite or an operator's token
	RegistrationClosed = "closed" // only operators make accounts (concord user create)
)

// Invites tells whether a guild invite still admits someone; the guild
// routes implement it.
type Invites interface {
	InviteUsable(ctx context.Context, code string) (bool, error)
}

// registrationClosed is the answer of a node that takes no registrations.
var registrationClosed = &httperr.Error{Status: http.StatusForbidden, Code: httperr.CodeGeneral,
	Message: "Registration is closed on this node."}

// registrations counts accounts made per client address per day.
func newRegistrationLimit(perDay int, now func() time.Time) *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Config{Limit: perDay, Window: 24 * time.Hour, Now: now})
}

// admit checks, before any work, whether this registration may go ahead:
// the node's mode and the address's daily allowance. A token is checked
// and spent later, in the transaction that makes the account (spendToken).
func (a *API) admit(ctx context.Context, r *http.Request, body *registerBody) error {
	ip, _ := ratelimit.ClientIP(r)
	if a.registrations.Left(ip) == 0 {
		return httperr.Field("username", "REGISTRATION_RATE_LIMITED", "Too many accounts were made from this address today.")
	}
	switch a.cfg.Registration {
	case RegistrationClosed:
		return registrationClosed
	case RegistrationInvite:
		if body.RegistrationToken != "" {
			return nil
		}
		if body.Invite == "" || a.invites == nil {
			return httperr.Field("invite", "REGISTRATION_INVITE_REQUIRED", "An invite or a registration token is required.")
		}
		ok, err := a.invites.InviteUsable(ctx, body.Invite)
		if err != nil {
			return err
		}
		if !ok {
			return httperr.Field("invite", "INVITE_INVALID", "Unknown or expired invite.")
		}
	}
	return nil
}

// spendToken uses up one use of a registration token inside the
// transaction that makes the account.
func spendToken(ctx context.Context, q storage.Querier, token string, now time.Time) error {
	sum := sha256.Sum256([]byte(token))
	res, err := q.ExecContext(ctx, `UPDATE registration_tokens SET uses_left = uses_left - 1
		WHERE hash = ? AND uses_left > 0 AND expires_at > ?`, sum[:], now.UnixMilli())
	if err != nil {
		return fmt.Errorf("spend registration token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return httperr.Field("registration_token", "REGISTRATION_TOKEN_INVALID", "Unknown, spent or expired registration token.")
	}
	return nil
}

// NewRegistrationToken stores a token good for uses registrations until
// ttl has passed, and returns it; only its SHA-256 is kept.
func NewRegistrationToken(ctx context.Context, db *storage.DB, uses int, ttl time.Duration, now time.Time) (string, error) {
	var b [24]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(token))
	err := db.Write(ctx, func(q storage.Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO registration_tokens (hash, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?)`,
			sum[:], now.UnixMilli(), now.Add(ttl).UnixMilli(), uses)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store registration token: %w", err)
	}
	return token, nil
}
