package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"concord/federation/snowflake"
)

// JoinGuild subscribes userID's sessions to guildID and sends each its
// GUILD_CREATE; the adapter calls it when the user joins (after publishing
// GUILD_MEMBER_ADD to the others).
func (g *Gateway) JoinGuild(ctx context.Context, guildID, userID snowflake.ID) {
	for _, s := range g.sessionsOf(userID) {
		if !inShard(guildID, s.shard) {
			continue
		}
		g.mu.Lock()
		_, had := s.rooms.get(guildID)
		if !had {
			g.subscribe(s, guildID, true)
		}
		g.mu.Unlock()
		if had {
			continue
		}
		gc, err := g.guildCreate(ctx, s, guildID)
		if err != nil {
			g.log.Error("gateway: guild create", "guild", guildID, "err", err)
			continue
		}
		s.send(newBody("GUILD_CREATE", gc))
		g.m.dispatch("GUILD_CREATE", 1)
	}
}

// LeaveGuild sends GUILD_DELETE to userID's sessions in guildID and
// unsubscribes them: the user left, was kicked or banned.
func (g *Gateway) LeaveGuild(guildID, userID snowflake.ID) {
	payload, _ := json.Marshal(map[string]snowflake.ID{"id": guildID}) // plain data always marshals
	b := newBody("GUILD_DELETE", payload)
	for _, s := range g.sessionsOf(userID) {
		g.mu.Lock()
		_, had := s.rooms.get(guildID)
		g.unsubscribe(s, guildID)
		g.mu.Unlock()
		if had && s.send(b) {
			g.m.dispatch("GUILD_DELETE", 1)
		}
	}
}

// AddRoom subscribes userID's sessions to a DM room created after their
// READY; the adapter then publishes CHANNEL_CREATE to the recipients.
func (g *Gateway) AddRoom(roomID, userID snowflake.ID) {
	for _, s := range g.sessionsOf(userID) {
		if s.shard[0] != 0 {
			continue
		}
		g.mu.Lock()
		if _, had := s.rooms.get(roomID); !had {
			g.subscribe(s, roomID, false)
		}
		g.mu.Unlock()
	}
}

// identifyLimit is Discord's: 1000 identifies per user per 24 hours. It is
// reported in session_start_limit, not enforced.
const (
	identifyLimit  = 1000
	identifyPeriod = 24 * time.Hour
)

type startCount struct {
	n     int
	reset time.Time
}

func (g *Gateway) countStart(userID snowflake.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sc := g.starts[userID]
	if sc == nil || time.Now().After(sc.reset) {
		sc = &startCount{reset: time.Now().Add(identifyPeriod)}
		g.starts[userID] = sc
	}
	sc.n++
}

func (g *Gateway) startsLeft(userID snowflake.ID) (remaining int, resetAfter time.Duration) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	sc := g.starts[userID]
	if sc == nil || time.Now().After(sc.reset) {
		return g.cfg.IdentifyLimit, identifyPeriod
	}
	return max(0, g.cfg.IdentifyLimit-sc.n), time.Until(sc.reset)
}

// RESTHandlers returns the handlers of GET /gateway and GET /gateway/bot,
// which clientapi mounts under each API version. publicWSURL is the
// WebSocket URL to hand out (ws(s)://host/gateway); empty means
// Config.PublicURL.
func (g *Gateway) RESTHandlers(publicWSURL string) (gateway, gatewayBot http.HandlerFunc) {
	if publicWSURL == "" {
		publicWSURL = g.cfg.PublicURL
	}
	var once sync.Once
	var plain []byte
	gateway = func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { plain, _ = json.Marshal(map[string]string{"url": publicWSURL}) })
		writeJSON(w, http.StatusOK, plain)
	}
	gatewayBot = func(w http.ResponseWriter, r *http.Request) {
		caller, err := g.p.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, []byte(`{"message": "401: Unauthorized", "code": 0}`))
			return
		}
		left, reset := g.startsLeft(caller.UserID)
		body, _ := json.Marshal(map[string]any{
			"url": publicWSURL, "shards": 1,
			"session_start_limit": map[string]any{
				"total": g.cfg.IdentifyLimit, "remaining": left, "reset_after": reset.Milliseconds(), "max_concurrency": 1,
			},
		})
		writeJSON(w, http.StatusOK, body)
	}
	return gateway, gatewayBot
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// PublicURL derives the gateway's WebSocket URL from the node's public
// HTTP URL: http→ws, https→wss, path /gateway.
func PublicURL(httpURL string) string {
	u := strings.TrimSuffix(httpURL, "/")
	switch {
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + strings.TrimPrefix(u, "http://")
	}
	return fmt.Sprintf("%s/gateway", u)
}
