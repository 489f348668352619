package sfu

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// grant is what a voice token proves: that a gateway session of the user
// joined voice in the guild. It lasts while that voice state does, so that
// a client may identify again after a failed resume; one never used
// expires after TokenTTL.
type grant struct {
	token     string
	guild     snowflake.ID
	user      snowflake.ID
	sessionID string
	issued    time.Time
	used      bool
}

// issue makes a grant for v's join and tells the user's client where to
// connect. It runs on the SFU's goroutine, never under a live-state
// callback: the hub may not be called from inside one.
func (s *SFU) issue(v live.VoiceState) {
	var b [24]byte
	rand.Read(b[:])
	g := &grant{token: hex.EncodeToString(b[:]), guild: v.GuildID, user: v.UserID, sessionID: v.SessionID, issued: time.Now()}
	k := voiceKey{v.GuildID, v.UserID}
	s.mu.Lock()
	if old := s.grants[k]; old != nil {
		delete(s.tokens, old.token)
	}
	s.grants[k], s.tokens[g.token] = g, g
	s.mu.Unlock()
	s.live.SetVoiceServer(live.VoiceServer{GuildID: v.GuildID, UserID: v.UserID, SessionID: v.SessionID,
		Token: g.token, Endpoint: s.cfg.Endpoint})
}

// revoke forgets the grant for k. s.mu is held.
func (s *SFU) revoke(k voiceKey) {
	if g := s.grants[k]; g != nil {
		delete(s.tokens, g.token)
		delete(s.grants, k)
	}
}

// check finds the grant token proves for the guild, user and gateway
// session an identify names.
func (s *SFU) check(token string, guildID, userID snowflake.ID, sessionID string) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.tokens[token]
	if g == nil || g.guild != guildID || g.user != userID || g.sessionID != sessionID ||
		!g.used && time.Since(g.issued) > s.cfg.TokenTTL {
		return nil
	}
	g.used = true
	return g
}
