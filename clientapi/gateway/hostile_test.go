package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"concord/federation/snowflake"
)

// chunks reads GUILD_MEMBERS_CHUNKs until one with nonce last, and counts
// them by nonce; a RATE_LIMITED dispatch is counted under "limited:"
// plus its nonce.
func (c *client) chunks(last string) map[string]int {
	c.t.Helper()
	n := map[string]int{}
	for {
		w := c.next()
		var d struct {
			Nonce string
			Meta  struct{ Nonce string }
		}
		json.Unmarshal(w.D, &d)
		switch w.typ() {
		case "GUILD_MEMBERS_CHUNK":
			n[d.Nonce]++
			if d.Nonce == last {
				return n
			}
		case "RATE_LIMITED":
			n["limited:"+d.Meta.Nonce]++
			if "limited:"+d.Meta.Nonce == last {
				return n
			}
		}
	}
}

// One op 8 naming a guild many times is answered once; more guilds than
// the cap close 4002; a user over the per-minute budget gets RATE_LIMITED
// for the guilds refused, and stays connected.
func TestRequestMembersBounded(t *testing.T) {
	ts := newTestServer(t, Config{MemberGuilds: 10, MemberGuildsPerMin: 2})
	ts.p.addUser("u", Caller{UserID: 1}, guildA, guildB)
	c := dial(t, ts.wsURL)
	c.identify("u", allIntents, 2)

	many := make([]string, 200)
	for i := range many {
		many[i] = guildA.String()
	}
	c.send(opRequestGuildMembers, map[string]any{"guild_id": many, "query": "", "limit": 0, "nonce": "dup"})
	c.send(opRequestGuildMembers, map[string]any{"guild_id": []any{guildA, guildB}, "query": "", "limit": 0, "nonce": "two"})
	got := c.chunks("limited:two")
	if got["dup"] != 1 || got["two"] != 1 || got["limited:two"] != 1 {
		t.Fatalf("answers by nonce %v: want dup once, then one guild of two and a RATE_LIMITED", got)
	}

	ids := make([]string, 11)
	for i := range ids {
		ids[i] = fmt.Sprint(guildA + snowflake.ID(i)<<22)
	}
	c.send(opRequestGuildMembers, map[string]any{"guild_id": ids, "query": "", "limit": 0})
	c.expectClose(CloseDecodeError)
}

// A connection that never identifies is closed 4003 once the identify
// timeout passes, heartbeats or not.
func TestIdentifyTimeout(t *testing.T) {
	ts := newTestServer(t, Config{IdentifyTimeout: 300 * time.Millisecond})
	c := dial(t, ts.wsURL)
	c.hello()
	start := time.Now()
	for range 3 {
		c.send(opHeartbeat, nil)
		time.Sleep(50 * time.Millisecond)
	}
	c.expectClose(CloseNotAuthenticated)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("closed after %v", took)
	}
	// One that identified in time stays.
	ts.p.addUser("u", Caller{UserID: 1}, guildA)
	ok := dial(t, ts.wsURL)
	ok.identify("u", allIntents, 1)
	time.Sleep(400 * time.Millisecond)
	ok.send(opHeartbeat, nil)
	if w := ok.next(); w.Op != opHeartbeatACK {
		t.Fatalf("after the timeout an identified connection got op %d", w.Op)
	}
}

// One address may hold ConnsPerClient connections; the next is refused
// before the upgrade, and a slot frees when one closes.
func TestConnectionsPerAddress(t *testing.T) {
	ts := newTestServer(t, Config{ConnsPerClient: 2})
	a, b := dial(t, ts.wsURL), dial(t, ts.wsURL)
	a.hello()
	b.hello()
	_, resp, err := websocket.DefaultDialer.Dial(ts.wsURL, nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection: %v %v, want 429", err, resp)
	}
	a.ws.Close()
	waitFor(t, "a slot", func() bool {
		ws, _, err := websocket.DefaultDialer.Dial(ts.wsURL, nil)
		if err == nil {
			ws.Close()
		}
		return err == nil
	})
}

// Identifies beyond session_start_limit are refused with 4008, and
// GET /gateway/bot says none remain.
func TestSessionStartLimit(t *testing.T) {
	ts := newTestServer(t, Config{IdentifyLimit: 2})
	ts.p.addUser("bot", Caller{UserID: 5, Bot: true}, guildA)
	for range 2 {
		c := dial(t, ts.wsURL)
		c.identify("Bot bot", IntentGuilds, 1)
		c.ws.Close()
	}
	c := dial(t, ts.wsURL)
	c.hello()
	c.send(opIdentify, map[string]any{"token": "Bot bot", "intents": IntentGuilds})
	c.expectClose(CloseRateLimited)

	req, _ := http.NewRequest("GET", ts.srv.URL+"/api/v10/gateway/bot", nil)
	req.Header.Set("Authorization", "Bot bot")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Limit struct{ Total, Remaining int } `json:"session_start_limit"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if body.Limit.Total != 2 || body.Limit.Remaining != 0 {
		t.Fatalf("session_start_limit %+v", body.Limit)
	}
}

// Activities are checked and re-rendered: discordgo's shape (created_at as
// an RFC 3339 string) is taken and relayed with created_at in
// milliseconds, unknown fields are dropped, and a bad type, an overlong
// name or a javascript: URL close 4002.
func TestPresenceActivitiesChecked(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("u", Caller{UserID: 1}, guildA)
	c := dial(t, ts.wsURL)
	c.identify("u", allIntents, 1)
	c.send(opPresenceUpdate, map[string]any{"status": "online", "activities": []any{map[string]any{
		"name": "chess", "type": 1, "url": "https://example.org/live", "created_at": "0001-01-01T00:00:00Z",
		"secrets": map[string]any{"join": "x"}, "buttons": []any{"evil"},
	}}})
	waitFor(t, "chess", func() bool { return strings.Contains(string(ts.live.Presence(1).Activities), "chess") })
	var acts []map[string]any
	if err := json.Unmarshal(ts.live.Presence(1).Activities, &acts); err != nil || len(acts) != 1 {
		t.Fatalf("activities %s: %v", ts.live.Presence(1).Activities, err)
	}
	if _, ok := acts[0]["created_at"].(float64); !ok || acts[0]["secrets"] != nil || acts[0]["buttons"] != nil {
		t.Fatalf("relayed %v: want created_at a number and nothing unknown", acts[0])
	}

	for name, act := range map[string]map[string]any{
		"javascript url": {"name": "x", "type": 1, "url": "javascript:alert(1)"},
		"unknown type":   {"name": "x", "type": 99},
		"long name":      {"name": strings.Repeat("x", 129), "type": 0},
		"no name":        {"type": 0},
		"control chars":  {"name": "a\u0007b", "type": 0},
		"type as text":   {"name": "x", "type": "0"},
	} {
		c := dial(t, ts.wsURL)
		c.identify("u", allIntents, 1)
		c.send(opPresenceUpdate, map[string]any{"status": "online", "activities": []any{act}})
		c.expectClose(CloseDecodeError)
		t.Log(name, "closed 4002")
	}
	c = dial(t, ts.wsURL)
	c.hello()
	c.send(opIdentify, map[string]any{"token": "u", "intents": allIntents,
		"presence": map[string]any{"status": "online", "activities": []any{map[string]any{"name": "x", "type": 0, "url": "data:,x"}}}})
	c.expectClose(CloseDecodeError)
}

// A credential revoked where this gateway did not hear of it (another
// process on the database) is noticed at the next heartbeat after
// RecheckInterval: the connection closes 4004 and cannot be resumed.
func TestRecheckEndsRevokedSessions(t *testing.T) {
	ts := newTestServer(t, Config{RecheckInterval: 50 * time.Millisecond})
	ts.p.addUser("u", Caller{UserID: 1, Session: 7}, guildA)
	c := dial(t, ts.wsURL)
	ready := c.identify("u", allIntents, 1)
	c.send(opHeartbeat, nil)
	if w := c.next(); w.Op != opHeartbeatACK {
		t.Fatalf("heartbeat answered op %d", w.Op)
	}
	ts.p.revoke("u")
	time.Sleep(60 * time.Millisecond)
	c.send(opHeartbeat, nil)
	c.expectClose(CloseAuthenticationFailed)
	ts.g.mu.RLock()
	_, kept := ts.g.sessions[ready["session_id"].(string)]
	ts.g.mu.RUnlock()
	if kept {
		t.Fatal("the revoked session is still there to resume")
	}
}
