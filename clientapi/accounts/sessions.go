package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/params"
	"concord/clientapi/password"
	"concord/clientapi/ratelimit"
	"concord/federation/snowflake"
	"concord/storage"
)

type registerBody struct {
	Username string  `json:"username"`
	Password string  `json:"password"`
	Email    *string `json:"email"`
	// One of these is needed where registration is by invite.
	Invite            string `json:"invite"`
	RegistrationToken string `json:"registration_token"`
}

// register creates an account and its first session in one transaction.
func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	pair, err := a.doRegister(r)
	a.metrics.registrations.WithLabelValues(outcome(err)).Inc()
	if err != nil {
		return busy(w, err)
	}
	jsonio.Write(w, http.StatusCreated, pair)
	return nil
}

func (a *API) doRegister(r *http.Request) (auth.Pair, error) {
	var body registerBody
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return auth.Pair{}, err
	}
	username := strings.ToLower(body.Username)
	var form httperr.Form
	if err := checkUsername(username); err != nil {
		form.Add("username", "USERNAME_INVALID", err.Error())
	}
	if err := password.Check(body.Password, username); err != nil {
		form.Add("password", "PASSWORD_INVALID", err.Error())
	}
	var email *string
	if body.Email != nil && *body.Email != "" {
		e := strings.TrimSpace(*body.Email)
		if !validEmail(e) {
			form.Add("email", "EMAIL_TYPE_INVALID_EMAIL", "Not a well formed email address.")
		}
		email = &e
	}
	if err := form.Err(); err != nil {
		return auth.Pair{}, err
	}
	if err := a.admit(r.Context(), r, &body); err != nil {
		return auth.Pair{}, err
	}
	// Hash before the transaction: the write lock is not held for 50 ms.
	hash, err := a.hasher.Hash(r.Context(), body.Password)
	if err != nil {
		return auth.Pair{}, err
	}
	uid := a.ids.Next()
	var pair auth.Pair
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		if a.cfg.Registration == RegistrationInvite && body.RegistrationToken != "" {
			if err := spendToken(r.Context(), q, body.RegistrationToken, a.cfg.Now()); err != nil {
				return err
			}
		}
		if err := usernameFree(r.Context(), q, username, 0); err != nil {
			return err
		}
		if email != nil {
			var n int
			if err := q.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM users WHERE lower(email) = lower(?)`, *email).Scan(&n); err != nil {
				return fmt.Errorf("check email: %w", err)
			}
			if n > 0 {
				return httperr.Field("email", "EMAIL_ALREADY_REGISTERED", "Email is already registered.")
			}
		}
		if _, err := q.ExecContext(r.Context(), `INSERT INTO users (id, username, email, password_hash, created_at)
			VALUES (?, ?, ?, ?, ?)`, int64(uid), username, email, hash, a.cfg.Now().UnixMilli()); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		pair, err = a.auth.StartSession(r.Context(), q, uid, remoteHost(r), r.UserAgent())
		return err
	})
	if err == nil {
		ip, _ := ratelimit.ClientIP(r)
		a.registrations.Allow(ip)
	}
	return pair, err
}

type loginBody struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// invalidLogin is the one answer for an unknown account, a bot account and
// a wrong password alike, as Discord words it.
var invalidLogin = func() error {
	var f httperr.Form
	f.Add("login", "INVALID_LOGIN", "Login or password is invalid.")
	f.Add("password", "INVALID_LOGIN", "Login or password is invalid.")
	return f.Err()
}()

// login checks a password and opens a session. Unknown accounts cost one
// dummy Argon2id so that timing does not tell them apart.
func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var body loginBody
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	account := strings.ToLower(strings.TrimSpace(body.Login))
	if wait := a.backoff.wait(account); wait > 0 {
		a.metrics.logins.WithLabelValues(outcomeRejected).Inc()
		ratelimit.WriteTooMany(w, wait)
		return nil
	}
	pair, err := a.doLogin(r, body)
	switch {
	case err == invalidLogin:
		a.backoff.fail(account)
		a.metrics.logins.WithLabelValues(outcomeRejected).Inc()
	case err == nil:
		a.backoff.succeed(account)
		a.metrics.logins.WithLabelValues(outcomeOK).Inc()
	default:
		a.metrics.logins.WithLabelValues(outcome(err)).Inc()
	}
	if err != nil {
		return busy(w, err)
	}
	jsonio.Write(w, http.StatusOK, pair)
	return nil
}

func (a *API) doLogin(r *http.Request, body loginBody) (auth.Pair, error) {
	var form httperr.Form
	if body.Login == "" {
		form.Add("login", "BASE_TYPE_REQUIRED", "This field is required")
	}
	if body.Password == "" {
		form.Add("password", "BASE_TYPE_REQUIRED", "This field is required")
	}
	if err := form.Err(); err != nil {
		return auth.Pair{}, err
	}
	ctx := r.Context()
	column := "username"
	if strings.Contains(body.Login, "@") {
		column = "email"
	}
	var (
		uid  snowflake.ID
		hash *string
	)
	err := a.db.Reader().QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE lower(`+column+`) = lower(?)
		AND disabled_at IS NULL`,
		strings.TrimSpace(body.Login)).Scan(&uid, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return auth.Pair{}, fmt.Errorf("load account: %w", err)
	}
	if hash == nil {
		if err := a.hasher.VerifyDummy(ctx, body.Password); err != nil {
			return auth.Pair{}, err
		}
		return auth.Pair{}, invalidLogin
	}
	ok, rehash, err := a.hasher.Verify(ctx, body.Password, *hash)
	if err != nil {
		return auth.Pair{}, fmt.Errorf("verify password of %s: %w", uid, err)
	}
	if !ok {
		return auth.Pair{}, invalidLogin
	}
	var newHash string
	if rehash {
		if newHash, err = a.hasher.Hash(ctx, body.Password); err != nil {
			return auth.Pair{}, err
		}
	}
	var pair auth.Pair
	err = a.db.Write(ctx, func(q storage.Querier) error {
		if newHash != "" {
			if _, err := q.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, newHash, int64(uid)); err != nil {
				return fmt.Errorf("rehash password: %w", err)
			}
		}
		pair, err = a.auth.StartSession(ctx, q, uid, remoteHost(r), r.UserAgent())
		return err
	})
	return pair, err
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	var limited time.Duration
	pair, err := a.auth.Refresh(r.Context(), body.RefreshToken, func(sid snowflake.ID) error {
		if res := a.refreshLimit.Allow(sid.String()); !res.Allowed {
			limited = res.ResetAfter
			return errRefreshLimited
		}
		return nil
	})
	var reuse *auth.ReuseError
	if errors.As(err, &reuse) {
		a.endLive(reuse.UserID, reuse.Session)
	}
	switch {
	case errors.Is(err, errRefreshLimited):
		ratelimit.WriteTooMany(w, limited)
		return nil
	case errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrRefreshReused):
		return httperr.Unauthorized
	case err != nil:
		return err
	}
	jsonio.Write(w, http.StatusOK, pair)
	return nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	return a.endSession(w, r.Context(), c.UserID, c.SessionID)
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	list, err := a.auth.Sessions(r.Context(), c.UserID, c.SessionID)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, list)
	return nil
}

func (a *API) revokeSession(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	sid, err := params.ID(r, "id", httperr.UnknownSession)
	if err != nil {
		return err
	}
	return a.endSession(w, r.Context(), c.UserID, sid)
}

// revokeOtherSessions is DELETE /auth/sessions: log out everywhere but
// here.
func (a *API) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	if err := a.endOtherSessions(r.Context(), c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endOtherSessions revokes every session of c's user but c's own, and
// closes their gateway connections.
func (a *API) endOtherSessions(ctx context.Context, c auth.Caller) error {
	ended, err := a.auth.RevokeOthers(ctx, c.UserID, c.SessionID)
	if err != nil {
		return err
	}
	for _, sid := range ended {
		a.endLive(c.UserID, sid)
	}
	return nil
}

func (a *API) endSession(w http.ResponseWriter, ctx context.Context, userID, sid snowflake.ID) error {
	err := a.auth.Revoke(ctx, userID, sid)
	if errors.Is(err, auth.ErrUnknownSession) {
		return httperr.UnknownSession
	}
	if err != nil {
		return err
	}
	a.endLive(userID, sid)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// outcome labels a registration or login result for the metrics.
func outcome(err error) string {
	var e *httperr.Error
	switch {
	case err == nil:
		return outcomeOK
	case errors.As(err, &e) && e.Status < 500:
		return outcomeInvalid
	default:
		return outcomeError
	}
}

// busy answers 503 with Retry-After when the password hasher is full, and
// passes any other error on.
func busy(w http.ResponseWriter, err error) error {
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		return httperr.Busy
	}
	return err
}

// errRefreshLimited stops a refresh whose session spent its limit.
var errRefreshLimited = errors.New("accounts: refresh rate limited")

// remoteHost is the connection's peer address, recorded with a session so
// its owner can recognise it.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && len(e) <= 254 && local != "" && strings.Contains(domain, ".") &&
		!strings.ContainsAny(e, " \t\r\n<>()[]\\,;:\"") && !strings.Contains(domain, "@")
}
