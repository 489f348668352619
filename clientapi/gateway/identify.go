package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"concord/federation/live"
	"concord/federation/snowflake"
)

type identifyData struct {
	Token          string        `json:"token"`
	Compress       bool          `json:"compress"`
	LargeThreshold int           `json:"large_threshold"`
	Shard          *[2]int       `json:"shard"`
	Presence       *presenceData `json:"presence"`
	Intents        *int64        `json:"intents"`
}

// providerTimeout bounds the storage work of one identify or resume.
const providerTimeout = 10 * time.Second

func (c *conn) authenticate(token string) (Caller, int, string) {
	if token == "" {
		return Caller{}, CloseAuthenticationFailed, "authentication failed"
	}
	ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
	defer cancel()
	caller, err := c.g.p.Authenticate(ctx, token)
	if errors.Is(err, ErrBadToken) {
		return Caller{}, CloseAuthenticationFailed, "authentication failed"
	}
	if err != nil {
		c.g.log.Error("gateway: authenticate", "err", err)
		return Caller{}, CloseUnknownError, "unknown error"
	}
	return caller, 0, ""
}

func (c *conn) identify(raw json.RawMessage) (int, string) {
	var d identifyData
	if json.Unmarshal(raw, &d) != nil {
		return CloseDecodeError, "decode error"
	}
	var presence *live.Request
	if d.Presence != nil {
		var err error
		if presence, err = d.Presence.request(time.Now()); err != nil {
			return CloseDecodeError, "invalid activities"
		}
	}
	caller, code, reason := c.authenticate(d.Token)
	if code != 0 {
		return code, reason
	}
	if left, _ := c.g.startsLeft(caller.UserID); left == 0 {
		return CloseRateLimited, "session start limit reached"
	}
	intents, code, reason := intentsFor(caller, d.Intents, c.v)
	if code != 0 {
		return code, reason
	}
	shard := [2]int{0, 1}
	if d.Shard != nil {
		shard = *d.Shard
		if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
			return CloseInvalidShard, "invalid shard"
		}
	}
	large := d.LargeThreshold
	if large == 0 {
		large = 50
	}
	large = min(max(large, 50), 250)

	ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
	defer cancel()
	rd, err := c.g.p.Ready(ctx, caller.UserID)
	if err != nil {
		c.g.log.Error("gateway: ready", "user", caller.UserID, "err", err)
		return CloseUnknownError, "unknown error"
	}
	if d.Compress && c.mode == compressNone {
		c.mode = compressPayload
	}
	s := &session{g: c.g, id: newSessionID(), caller: caller, intents: intents, shard: shard, large: large,
		compress: d.Compress, starting: true}
	s.presence = presence
	c.g.register(s, &rd)
	c.g.attach(s, c)
	c.sess = s
	c.g.countStart(caller.UserID)

	first := []*body{newBody("READY", c.g.renderReady(s, &rd, d.Shard != nil))}
	for _, id := range rd.Guilds {
		if !inShard(id, shard) {
			continue
		}
		gc, err := c.g.guildCreate(ctx, s, id)
		if err != nil {
			c.g.log.Error("gateway: guild create", "guild", id, "err", err)
			continue
		}
		first = append(first, newBody("GUILD_CREATE", gc))
	}
	s.start(first)
	c.g.m.dispatch("READY", 1)
	c.g.m.dispatch("GUILD_CREATE", len(first)-1)
	return 0, ""
}

// intentsFor checks the intents of an identify. v9 makes them optional:
// people then get everything, bots everything they are allowed.
func intentsFor(caller Caller, asked *int64, v int) (Intents, int, string) {
	allowed := allowedIntents(caller)
	if asked == nil {
		if v >= 10 {
			return 0, CloseInvalidIntents, "intents required"
		}
		return allowed, 0, ""
	}
	if *asked < 0 || Intents(*asked)&^allIntents != 0 {
		return 0, CloseInvalidIntents, "invalid intents"
	}
	in := Intents(*asked)
	if in&^allowed != 0 {
		return 0, CloseDisallowedIntents, "disallowed intents"
	}
	return in, 0, ""
}

type unavailable struct {
	ID          snowflake.ID `json:"id"`
	Unavailable bool         `json:"unavailable"`
}

func (g *Gateway) renderReady(s *session, rd *ReadyData, withShard bool) json.RawMessage {
	guilds := []unavailable{}
	for _, id := range rd.Guilds {
		if inShard(id, s.shard) {
			guilds = append(guilds, unavailable{id, true})
		}
	}
	pc, presences := rd.PrivateChannels, rd.Presences
	if pc == nil {
		pc = json.RawMessage("[]")
	}
	if presences == nil {
		presences = json.RawMessage("[]")
	}
	r := map[string]any{
		"v": 10, "user": rd.User, "guilds": guilds, "session_id": s.id, "session_type": "normal",
		"resume_gateway_url": g.cfg.PublicURL, "private_channels": pc,
		"relationships": []any{}, "user_settings": map[string]any{}, "presences": presences,
	}
	if withShard {
		r["shard"] = s.shard
	}
	if s.caller.Bot {
		r["application"] = map[string]any{"id": rd.ApplicationID, "flags": s.caller.AppFlags}
	}
	data, _ := json.Marshal(r) // raw messages came from the provider as JSON
	return data
}

// guildCreate renders GUILD_CREATE for s.
func (g *Gateway) guildCreate(ctx context.Context, s *session, guildID snowflake.ID) (json.RawMessage, error) {
	return g.p.GuildCreate(ctx, guildID, s.caller.UserID, GuildCreateOptions{LargeThreshold: s.large,
		Presences: s.intents&IntentGuildPresences != 0, VoiceStates: s.intents&IntentGuildVoiceStates != 0})
}

type resumeData struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	Seq       int64  `json:"seq"`
}

// resume reattaches a session and replays what its client missed, then
// RESUMED; a session that is gone or cannot replay far enough gets op 9
// with d false and the connection stays open for an identify.
func (c *conn) resume(raw json.RawMessage) (int, string) {
	var d resumeData
	if json.Unmarshal(raw, &d) != nil {
		return CloseDecodeError, "decode error"
	}
	caller, code, reason := c.authenticate(d.Token)
	if code != 0 {
		return code, reason
	}
	g := c.g
	g.mu.RLock()
	s := g.sessions[d.SessionID]
	g.mu.RUnlock()
	invalid := func() (int, string) {
		g.m.resumes.WithLabelValues(resumeInvalid).Inc()
		_ = c.writeControl(controlFrame(opInvalidSession, false))
		return 0, ""
	}
	if s == nil || s.caller.UserID != caller.UserID {
		return invalid()
	}
	s.mu.Lock()
	switch {
	case s.ended:
		s.mu.Unlock()
		return invalid()
	case d.Seq > s.seq:
		s.mu.Unlock()
		g.m.resumes.WithLabelValues(resumeInvalidSeq).Inc()
		return CloseInvalidSeq, "invalid seq"
	case d.Seq < s.lost:
		s.mu.Unlock()
		return invalid()
	}
	s.mu.Unlock()
	if s.compress && c.mode == compressNone {
		c.mode = compressPayload
	}
	if old := g.attach(s, c); old != nil {
		old.kill()
	}
	c.sess = s
	s.mu.Lock()
	if s.ended { // expired while we attached
		s.mu.Unlock()
		c.sess = nil
		return invalid()
	}
	s.queue, s.queueBytes = s.queue[:0], 0
	for _, e := range s.replay {
		if e.seq > d.Seq {
			s.queue = append(s.queue, e)
			s.queueBytes += len(e.b.raw)
		}
	}
	s.replaying = len(s.queue)
	s.push(newBody("RESUMED", json.RawMessage("{}")))
	s.mu.Unlock()
	g.m.resumes.WithLabelValues(resumeOK).Inc()
	g.m.dispatch("RESUMED", 1)
	return 0, ""
}
