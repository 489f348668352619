package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"concord/federation/snowflake"
	"concord/storage"
)

// Session errors callers branch on.
var (
	// ErrUnknownSession: no live session of this user has that ID.
	ErrUnknownSession = errors.New("auth: unknown session")
	// ErrRefreshReused: a spent refresh token came back, so it leaked; the
	// session it belonged to is now revoked.
	ErrRefreshReused = errors.New("auth: refresh token reused")
)

// Pair is what login, registration and refresh hand the client.
type Pair struct {
	UserID       snowflake.ID `json:"user_id"`
	Token        string       `json:"token"`
	RefreshToken string       `json:"refresh_token"`
	ExpiresIn    int          `json:"expires_in"` // seconds the access token lives
}

// SessionInfo describes one live session for GET /auth/sessions.
type SessionInfo struct {
	ID         snowflake.ID `json:"id"`
	CreatedAt  time.Time    `json:"created_at"`
	LastUsedAt time.Time    `json:"last_used_at"`
	IP         string       `json:"ip"`
	UserAgent  string       `json:"user_agent"`
	Current    bool         `json:"current"`
}

// newRefreshToken returns 32 random bytes in base64url and their SHA-256,
// which is all the database keeps: the token has full entropy, so a fast
// hash is enough to make a leaked table useless.
func newRefreshToken() (string, []byte) {
	var b [32]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// StartSession creates a session for userID inside the caller's transaction
// and returns its first token pair. Registration and login call it in the
// same write that checks or creates the account.
func (s *Service) StartSession(ctx context.Context, q storage.Querier, userID snowflake.ID, ip, userAgent string) (Pair, error) {
	sid := s.ids.Next()
	refresh, hash := newRefreshToken()
	now := s.cfg.Now()
	if _, err := q.ExecContext(ctx, `INSERT INTO sessions
		(id, user_id, refresh_hash, refresh_expires_at, created_at, last_used_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(sid), int64(userID), hash, now.Add(s.cfg.RefreshTTL).UnixMilli(), now.UnixMilli(), now.UnixMilli(),
		ip, truncate(userAgent, 256)); err != nil {
		return Pair{}, fmt.Errorf("auth: create session: %w", err)
	}
	return s.pair(userID, sid, refresh)
}

func (s *Service) pair(userID, sid snowflake.ID, refresh string) (Pair, error) {
	tok, err := s.tokens.Issue(userID, sid)
	if err != nil {
		return Pair{}, err
	}
	return Pair{UserID: userID, Token: tok, RefreshToken: refresh, ExpiresIn: int(s.cfg.AccessTTL / time.Second)}, nil
}

// Refresh spends a refresh token and returns a new pair for the same
// session. A token that was already spent revokes its session (a
// *ReuseError, which is ErrRefreshReused); any other unusable token gives
// ErrInvalidToken. allow is asked, once the session is known and before
// anything changes, whether that session may refresh now; its error is
// returned as it is.
func (s *Service) Refresh(ctx context.Context, refresh string, allow func(session snowflake.ID) error) (Pair, error) {
	if len(refresh) > 128 {
		return Pair{}, ErrInvalidToken
	}
	hash := hashToken(refresh)
	now := s.cfg.Now()
	var (
		pair   Pair
		reused ReuseError
	)
	err := s.db.Write(ctx, func(q storage.Querier) error {
		var (
			sid, uid snowflake.ID
			expires  int64
			revoked  *int64
		)
		err := q.QueryRowContext(ctx, `SELECT id, user_id, refresh_expires_at, revoked_at FROM sessions WHERE refresh_hash = ?`,
			hash).Scan(&sid, &uid, &expires, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return s.checkReuse(ctx, q, hash, now, &reused)
		}
		if err != nil {
			return fmt.Errorf("auth: load session: %w", err)
		}
		if revoked != nil || now.UnixMilli() >= expires {
			return ErrInvalidToken
		}
		if err := allow(sid); err != nil {
			return err
		}
		next, nextHash := newRefreshToken()
		res, err := q.ExecContext(ctx, `UPDATE sessions SET refresh_hash = ?, refresh_expires_at = ?, last_used_at = ?
			WHERE id = ? AND refresh_hash = ?`, nextHash, now.Add(s.cfg.RefreshTTL).UnixMilli(), now.UnixMilli(), int64(sid), hash)
		if err != nil {
			return fmt.Errorf("auth: rotate refresh token: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			// A concurrent refresh spent the same token first: that is a reuse.
			return s.checkReuse(ctx, q, hash, now, &reused)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO spent_refresh_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
			hash, int64(sid), expires); err != nil {
			return fmt.Errorf("auth: remember spent token: %w", err)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM spent_refresh_tokens WHERE session_id = ? AND expires_at < ?`,
			int64(sid), now.UnixMilli()); err != nil {
			return fmt.Errorf("auth: forget old tokens: %w", err)
		}
		pair, err = s.pair(uid, sid, next)
		return err
	})
	if err != nil {
		return Pair{}, err
	}
	if reused.Session != 0 {
		s.forgetSession(reused.Session)
		return Pair{}, &reused
	}
	return pair, nil
}

// ReuseError names the session a reused refresh token revoked.
type ReuseError struct {
	UserID, Session snowflake.ID
}

func (e *ReuseError) Error() string {
	return ErrRefreshReused.Error() + ": session " + e.Session.String()
}

// Is makes a ReuseError match ErrRefreshReused.
func (e *ReuseError) Is(target error) bool { return target == ErrRefreshReused }

// checkReuse revokes the session of a spent token. It returns nil after a
// revocation so the transaction commits it; *reused names the session.
func (s *Service) checkReuse(ctx context.Context, q storage.Querier, hash []byte, now time.Time, reused *ReuseError) error {
	var sid, uid snowflake.ID
	err := q.QueryRowContext(ctx, `SELECT t.session_id, s.user_id FROM spent_refresh_tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.hash = ?`, hash).Scan(&sid, &uid)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("auth: look up spent token: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
		now.UnixMilli(), int64(sid)); err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	*reused = ReuseError{UserID: uid, Session: sid}
	return nil
}

// Revoke ends session sid of userID; its access tokens stop working at once
// on this node and within CacheTTL on others sharing the database.
func (s *Service) Revoke(ctx context.Context, userID, sid snowflake.ID) error {
	err := s.db.Write(ctx, func(q storage.Querier) error {
		res, err := q.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`,
			s.cfg.Now().UnixMilli(), int64(sid), int64(userID))
		if err != nil {
			return fmt.Errorf("auth: revoke session: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrUnknownSession
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.forgetSession(sid)
	return nil
}

// RevokeOthers ends every live session of userID but keep, and returns
// the sessions it ended.
func (s *Service) RevokeOthers(ctx context.Context, userID, keep snowflake.ID) ([]snowflake.ID, error) {
	var ended []snowflake.ID
	err := s.db.Write(ctx, func(q storage.Querier) error {
		ended = nil
		rows, err := q.QueryContext(ctx, `SELECT id FROM sessions WHERE user_id = ? AND id <> ? AND revoked_at IS NULL`,
			int64(userID), int64(keep))
		if err != nil {
			return fmt.Errorf("auth: list sessions: %w", err)
		}
		for rows.Next() {
			var id snowflake.ID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ended = append(ended, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL`,
			s.cfg.Now().UnixMilli(), int64(userID), int64(keep))
		if err != nil {
			return fmt.Errorf("auth: revoke sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, sid := range ended {
		s.forgetSession(sid)
	}
	return ended, nil
}

func (s *Service) forgetSession(sid snowflake.ID) {
	s.sessions.Delete(sid)
}

// Sessions lists userID's live sessions, newest first; current marks the
// caller's own.
func (s *Service) Sessions(ctx context.Context, userID, current snowflake.ID) ([]SessionInfo, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT id, created_at, last_used_at, ip, user_agent FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND refresh_expires_at > ? ORDER BY id DESC`,
		int64(userID), s.cfg.Now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("auth: list sessions: %w", err)
	}
	defer rows.Close()
	out := []SessionInfo{}
	for rows.Next() {
		var (
			si            SessionInfo
			created, used int64
		)
		if err := rows.Scan(&si.ID, &created, &used, &si.IP, &si.UserAgent); err != nil {
			return nil, fmt.Errorf("auth: list sessions: %w", err)
		}
		si.CreatedAt, si.LastUsedAt = time.UnixMilli(created).UTC(), time.UnixMilli(used).UTC()
		si.Current = si.ID == current
		out = append(out, si)
	}
	return out, rows.Err()
}

// truncate bounds client-supplied text and makes it storable in both
// engines (PostgreSQL refuses invalid UTF-8 and NUL in TEXT).
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}
