package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"concord/federation/snowflake"
)

// NewBotToken mints a bot token in Discord's shape — base64 of the bot
// user's ID, a dot, then 32 random bytes in base64url — and the SHA-256 the
// database keeps. The token is shown once and never stored.
func NewBotToken(botID snowflake.ID) (token string, hash []byte) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawStdEncoding.EncodeToString([]byte(botID.String())) + "." + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// checkBot resolves a bot token to its bot user.
func (s *Service) checkBot(ctx context.Context, token string) (snowflake.ID, error) {
	if len(token) > 128 {
		return 0, ErrInvalidToken
	}
	sum := sha256.Sum256([]byte(token))
	now := s.cfg.Now()
	if id, ok := s.bots.Get(sum, now); ok {
		if id == 0 {
			return 0, ErrInvalidToken
		}
		return id, nil
	}
	idPart, _, ok := strings.Cut(token, ".")
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(idPart, "="))
	if !ok || err != nil {
		return 0, ErrInvalidToken
	}
	botID, err := snowflake.Parse(string(raw))
	if err != nil {
		return 0, ErrInvalidToken
	}
	var stored []byte
	err = s.db.Reader().QueryRowContext(ctx, `SELECT bot_token_hash FROM applications WHERE id = ?`, int64(botID)).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("auth: load bot token: %w", err)
	}
	if stored == nil || subtle.ConstantTimeCompare(stored, sum[:]) != 1 {
		botID = 0
	}
	s.bots.Put(sum, botID, now)
	if botID == 0 {
		return 0, ErrInvalidToken
	}
	return botID, nil
}

// ForgetBot drops cached answers for botID's tokens; call it after a reset
// commits so the old token stops working at once.
func (s *Service) ForgetBot(botID snowflake.ID) {
	s.bots.Drop(func(_ [32]byte, id snowflake.ID) bool { return id == botID })
}
