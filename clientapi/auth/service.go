package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"concord/clientapi/shortcache"
	"concord/federation/snowflake"
	"concord/storage"
)

// Config sets token lifetimes and where keys live.
type Config struct {
	KeyDir     string        // <data_dir>/jwt
	Issuer     string        // the node's public URL, or its name
	KeyMaxAge  time.Duration // rotate the signing key when older; 0 means 30 days
	AccessTTL  time.Duration // 0 means 1 hour
	RefreshTTL time.Duration // 0 means 7 days
	CacheTTL   time.Duration // staleness bound for session and bot checks; 0 means 2 s
	Now        func() time.Time
	Log        *slog.Logger
}

// Service authenticates callers and manages sessions. It is safe for
// concurrent use.
type Service struct {
	cfg      Config
	db       *storage.DB
	ids      *snowflake.Generator
	keys     *Keyring
	tokens   *Tokens
	sessions *shortcache.Cache[snowflake.ID, sessionState]
	bots     *shortcache.Cache[[32]byte, snowflake.ID]
}

type sessionState struct {
	userID snowflake.ID
	live   bool
}

// New opens the keyring under cfg.KeyDir and returns the service.
func New(cfg Config, db *storage.DB, ids *snowflake.Generator) (*Service, error) {
	if cfg.KeyDir == "" || cfg.Issuer == "" {
		return nil, errors.New("auth: KeyDir and Issuer are required")
	}
	if cfg.KeyMaxAge <= 0 {
		cfg.KeyMaxAge = 30 * 24 * time.Hour
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = time.Hour
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 7 * 24 * time.Hour
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	keys, err := OpenKeyring(cfg.KeyDir, cfg.KeyMaxAge, cfg.AccessTTL, cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Service{
		cfg:      cfg,
		db:       db,
		ids:      ids,
		keys:     keys,
		tokens:   newTokens(keys, cfg.Issuer, cfg.AccessTTL, cfg.Now),
		sessions: shortcache.New[snowflake.ID, sessionState](cfg.CacheTTL, 100_000),
		bots:     shortcache.New[[32]byte, snowflake.ID](cfg.CacheTTL, 10_000),
	}, nil
}

// Keys is the signing keyring (JWKS, manual rotation).
func (s *Service) Keys() *Keyring { return s.keys }

// AccessTTL is how long an access token lives.
func (s *Service) AccessTTL() time.Duration { return s.cfg.AccessTTL }

// SessionLive reports whether session sid of userID is unrevoked, from the
// cache when its answer is fresh (CacheTTL).
func (s *Service) SessionLive(ctx context.Context, userID, sid snowflake.ID) (bool, error) {
	now := s.cfg.Now()
	st, ok := s.sessions.Get(sid, now)
	if !ok {
		var (
			uid     snowflake.ID
			revoked *int64
		)
		err := s.db.Reader().QueryRowContext(ctx,
			`SELECT user_id, revoked_at FROM sessions WHERE id = ?`, int64(sid)).Scan(&uid, &revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			st = sessionState{}
		case err != nil:
			return false, fmt.Errorf("auth: load session %s: %w", sid, err)
		default:
			st = sessionState{userID: uid, live: revoked == nil}
		}
		s.sessions.Put(sid, st, now)
	}
	return st.live && st.userID == userID, nil
}
