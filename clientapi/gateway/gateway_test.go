package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"concord/federation/live"
	"concord/federation/snowflake"
)

const userIntents = IntentGuilds | IntentGuildMessages | IntentGuildMessageTyping | IntentGuildVoiceStates | IntentMessageContent

func TestIdentifyReadyGuildCreate(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("tok1", Caller{UserID: 1}, guildA, guildB)
	c := dial(t, ts.wsURL+"?v=10&encoding=json")
	c.hello()
	c.send(opIdentify, map[string]any{"token": "tok1", "intents": userIntents, "properties": map[string]string{}})
	w := c.next()
	if w.typ() != "READY" || w.S == nil || *w.S != 1 {
		t.Fatalf("first dispatch %s s=%v, want READY s=1", w.typ(), w.S)
	}
	var ready struct {
		V         int    `json:"v"`
		SessionID string `json:"session_id"`
		Resume    string `json:"resume_gateway_url"`
		User      struct{ ID snowflake.ID }
		Guilds    []unavailable
		Private   []any `json:"private_channels"`
	}
	if err := json.Unmarshal(w.D, &ready); err != nil {
		t.Fatal(err)
	}
	if ready.V != 10 || ready.SessionID == "" || ready.Resume != ts.wsURL || ready.User.ID != 1 ||
		len(ready.Guilds) != 2 || !ready.Guilds[0].Unavailable || ready.Private == nil {
		t.Fatalf("READY %s", w.D)
	}
	got := map[snowflake.ID]bool{}
	for range 2 {
		w := c.expect("GUILD_CREATE")
		var gc struct {
			ID          snowflake.ID
			Channels    []any
			Presences   []any `json:"presences"`
			VoiceStates []any `json:"voice_states"`
		}
		if err := json.Unmarshal(w.D, &gc); err != nil {
			t.Fatalf("GUILD_CREATE %s: %v", w.D, err)
		}
		if len(gc.Channels) != 1 || gc.Presences == nil || gc.VoiceStates == nil {
			t.Fatalf("GUILD_CREATE %s", w.D)
		}
		got[gc.ID] = true
	}
	if !got[guildA] || !got[guildB] {
		t.Fatalf("GUILD_CREATE for %v", got)
	}
	c.send(opHeartbeat, 3)
	if w := c.next(); w.Op != opHeartbeatACK {
		t.Fatalf("heartbeat answered with op %d", w.Op)
	}
}

func TestDispatchReachesSecondSession(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("tok1", Caller{UserID: 1}, guildA)
	ts.p.addUser("tok2", Caller{UserID: 2}, guildA)
	a, b := dial(t, ts.wsURL+"?v=10"), dial(t, ts.wsURL+"?v=9&encoding=json")
	a.identify("tok1", userIntents, 1)
	b.identify("tok2", userIntents, 1)
	start := time.Now()
	ts.g.Publish(message(10, "hello"))
	w := b.expect("MESSAGE_CREATE")
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("MESSAGE_CREATE took %v", d)
	}
	if !strings.Contains(string(w.D), `"hello"`) {
		t.Fatalf("payload %s", w.D)
	}
	a.expect("MESSAGE_CREATE")
}

func TestResumeMissesNothing(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("tok1", Caller{UserID: 1}, guildA)
	c := dial(t, ts.wsURL)
	ready := c.identify("tok1", userIntents, 1)
	for i := range 3 {
		ts.g.Publish(message(100+i, "before"))
	}
	c.expect("MESSAGE_CREATE")
	c.send(opHeartbeat, c.seq) // acknowledges what was read; the rest stays replayable
	lastSeen := c.seq
	c.ws.UnderlyingConn().Close() // a dropped connection, no close frame
	time.Sleep(20 * time.Millisecond)
	for i := range 3 {
		ts.g.Publish(message(200+i, "during"))
	}

	r := dial(t, ts.wsURL)
	r.hello()
	r.send(opResume, map[string]any{"token": "tok1", "session_id": ready["session_id"], "seq": lastSeen})
	var ids []string
	want := lastSeen + 1
	for {
		w := r.next()
		if w.S == nil || *w.S != want {
			t.Fatalf("op %d %s s=%v, want s=%d", w.Op, w.typ(), w.S, want)
		}
		want++
		if w.typ() == "RESUMED" {
			break
		}
		var m struct{ ID string }
		json.Unmarshal(w.D, &m)
		ids = append(ids, m.ID)
	}
	if got := strings.Join(ids, ","); got != "101,102,200,201,202" {
		t.Fatalf("replayed %s", got)
	}
	ts.g.Publish(message(300, "after"))
	if w := r.expect("MESSAGE_CREATE"); *w.S != want {
		t.Fatalf("after resume s=%d, want %d", *w.S, want)
	}
}

func TestResumeUnknownOrEnded(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("tok1", Caller{UserID: 1}, guildA)
	c := dial(t, ts.wsURL)
	ready := c.identify("tok1", userIntents, 1)
	c.ws.WriteControl(8, []byte{0x03, 0xe8}, time.Now().Add(time.Second)) // close 1000 ends the session
	c.ws.Close()
	time.Sleep(50 * time.Millisecond)
	for _, id := range []any{ready["session_id"], "nope"} {
		r := dial(t, ts.wsURL)
		r.hello()
		r.send(opResume, map[string]any{"token": "tok1", "session_id": id, "seq": 1})
		if w := r.next(); w.Op != opInvalidSession || string(w.D) != "false" {
			t.Fatalf("resume of %v: op %d %s, want op 9 false", id, w.Op, w.D)
		}
		// The connection stays open for an identify.
		r.send(opIdentify, map[string]any{"token": "tok1", "intents": userIntents})
		r.expect("READY")
	}
}

func TestIntentsAndVisibility(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("user", Caller{UserID: 1}, guildA)
	ts.p.addUser("bot", Caller{UserID: 2, Bot: true}, guildA)
	ts.p.addUser("quiet", Caller{UserID: 3, Bot: true}, guildA)
	ts.p.addUser("blind", Caller{UserID: 4}, guildA)
	ts.p.addUser("privileged", Caller{UserID: 5, Bot: true, AppFlags: AppFlagGatewayMessageContentLimited}, guildA)
	ts.p.hidden[[2]snowflake.ID{chanA, 4}] = true

	u, bot, quiet, blind, priv := dial(t, ts.wsURL), dial(t, ts.wsURL), dial(t, ts.wsURL), dial(t, ts.wsURL), dial(t, ts.wsURL)
	u.identify("user", userIntents, 1)
	bot.identify("Bot bot", IntentGuilds|IntentGuildMessages, 1)
	quiet.identify("Bot quiet", IntentGuilds, 1)
	blind.identify("blind", userIntents, 1)
	priv.identify("privileged", IntentGuilds|IntentGuildMessages|IntentMessageContent, 1)

	ts.g.Publish(message(10, "secret"))
	if w := u.expect("MESSAGE_CREATE"); !strings.Contains(string(w.D), "secret") {
		t.Fatalf("user got %s", w.D)
	}
	if w := bot.expect("MESSAGE_CREATE"); strings.Contains(string(w.D), "secret") {
		t.Fatalf("bot without MESSAGE_CONTENT got content: %s", w.D)
	}
	if w := priv.expect("MESSAGE_CREATE"); !strings.Contains(string(w.D), "secret") {
		t.Fatalf("bot with MESSAGE_CONTENT got %s", w.D)
	}
	ts.mark()
	quiet.expect("TEST_MARK")
	blind.expect("TEST_MARK")

	// A permission change re-asks the provider.
	ts.p.mu.Lock()
	delete(ts.p.hidden, [2]snowflake.ID{chanA, 4})
	ts.p.mu.Unlock()
	ts.g.Publish(Dispatch{Type: "GUILD_ROLE_UPDATE", GuildID: guildA, Intent: IntentGuilds, Payload: json.RawMessage(`{}`)})
	blind.expect("GUILD_ROLE_UPDATE")
	ts.g.Publish(message(11, "now visible"))
	blind.expect("MESSAGE_CREATE")
}

func TestIntentCloseCodes(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("bot", Caller{UserID: 2, Bot: true}, guildA)
	ts.p.addUser("user", Caller{UserID: 1}, guildA)
	for _, tc := range []struct {
		name, token string
		intents     any
		code        int
	}{
		{"privileged without flag", "Bot bot", IntentGuilds | IntentGuildMembers, CloseDisallowedIntents},
		{"message content without flag", "Bot bot", IntentMessageContent, CloseDisallowedIntents},
		{"unknown bit", "Bot bot", 1 << 30, CloseInvalidIntents},
		{"negative", "user", -1, CloseInvalidIntents},
		{"missing on v10", "user", nil, CloseInvalidIntents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.wsURL+"?v=10")
			c.hello()
			d := map[string]any{"token": tc.token}
			if tc.intents != nil {
				d["intents"] = tc.intents
			}
			c.send(opIdentify, d)
			c.expectClose(tc.code)
		})
	}
	// People's own clients are not limited by privileged intents.
	c := dial(t, ts.wsURL)
	c.identify("user", allIntents, 1)
}

func TestZlibStream(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("tok1", Caller{UserID: 1}, guildA, guildB)
	c := dial(t, ts.wsURL+"?v=10&encoding=json&compress=zlib-stream")
	c.identify("tok1", userIntents, 2)
	for i := range 5 {
		ts.g.Publish(message(10+i, strings.Repeat("zlib ", 50)))
	}
	for range 5 {
		if w := c.expect("MESSAGE_CREATE"); !strings.Contains(string(w.D), "zlib zlib") {
			t.Fatalf("payload %s", w.D)
		}
	}
	c.send(opHeartbeat, c.seq)
	if w := c.next(); w.Op != opHeartbeatACK {
		t.Fatalf("op %d", w.Op)
	}
}

func TestPayloadCompression(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("tok1", Caller{UserID: 1}, guildA)
	c := dial(t, ts.wsURL)
	c.hello()
	c.send(opIdentify, map[string]any{"token": "tok1", "intents": userIntents, "compress": true})
	c.expect("READY")
	c.expect("GUILD_CREATE")
	ts.g.Publish(message(10, "packed"))
	if w := c.expect("MESSAGE_CREATE"); !strings.Contains(string(w.D), "packed") {
		t.Fatalf("payload %s", w.D)
	}
}

// TestLiveStateAndMembers checks what the gateway tells the live state:
// connections, op 3 and op 4 (its dispatches are rendered elsewhere), and
// op 8 with presences.
func TestLiveStateAndMembers(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("watcher", Caller{UserID: 1}, guildA)
	ts.p.addUser("other", Caller{UserID: 2}, guildA)
	ts.p.hidden[[2]snowflake.ID{chanA + 1, 2}] = true
	w := dial(t, ts.wsURL)
	w.identify("watcher", allIntents, 1)

	o := dial(t, ts.wsURL)
	o.hello()
	o.send(opIdentify, map[string]any{"token": "other", "intents": userIntents,
		"presence": map[string]any{"status": "dnd", "activities": []any{map[string]any{"name": "chess", "type": 0}}}})
	ready := o.expect("READY")
	o.expect("GUILD_CREATE")
	waitFor(t, "dnd with chess", func() bool {
		p := ts.live.Presence(2)
		return p.Status == live.StatusDND && strings.Contains(string(p.Activities), "chess")
	})
	o.send(opPresenceUpdate, map[string]any{"status": "idle", "activities": nil, "since": nil, "afk": false})
	waitFor(t, "idle", func() bool { return ts.live.Presence(2).Status == live.StatusIdle })

	o.send(opVoiceStateUpdate, map[string]any{"guild_id": guildA, "channel_id": chanA + 1, "self_mute": true}) // hidden: ignored
	o.send(opVoiceStateUpdate, map[string]any{"guild_id": guildB, "channel_id": chanA})                        // not in guildB: ignored
	o.send(opVoiceStateUpdate, map[string]any{"guild_id": guildA, "channel_id": chanA, "self_mute": true})
	waitFor(t, "in voice", func() bool { return len(ts.live.InChannel(guildA, chanA)) == 1 })
	if v := ts.live.VoiceStates(guildA); len(v) != 1 || v[0].UserID != 2 || !v[0].SelfMute {
		t.Fatalf("voice states %+v", v)
	}

	w.send(opRequestGuildMembers, map[string]any{"guild_id": guildA, "user_ids": []any{"2", "99"}, "presences": true, "nonce": "n1"})
	ch := w.expect("GUILD_MEMBERS_CHUNK")
	var chunk struct {
		Members   []any
		NotFound  []snowflake.ID `json:"not_found"`
		Presences []any
		Nonce     string
	}
	json.Unmarshal(ch.D, &chunk)
	if len(chunk.Members) != 1 || len(chunk.NotFound) != 1 || chunk.NotFound[0] != 99 || len(chunk.Presences) != 1 || chunk.Nonce != "n1" {
		t.Fatalf("chunk %s", ch.D)
	}
	w.send(opRequestGuildMembers, map[string]any{"guild_id": guildA, "query": "u", "limit": 10})
	json.Unmarshal(w.expect("GUILD_MEMBERS_CHUNK").D, &chunk)
	if len(chunk.Members) != 2 {
		t.Fatalf("query chunk has %d members", len(chunk.Members))
	}

	// A dropped connection that resumes in time shows what it asked for,
	// and nobody saw it go.
	var rd struct {
		SessionID string `json:"session_id"`
	}
	json.Unmarshal(ready.D, &rd)
	o.ws.UnderlyingConn().Close()
	seq := o.seq
	o = dial(t, ts.wsURL)
	o.hello()
	o.send(opResume, map[string]any{"token": "other", "session_id": rd.SessionID, "seq": seq})
	o.expect("RESUMED")
	time.Sleep(40 * time.Millisecond) // past the grace period
	if p := ts.live.Presence(2); p.Status != live.StatusIdle {
		t.Fatalf("after resume: %+v", p)
	}

	// Gone for good: after the grace period, offline and out of voice.
	o.ws.WriteControl(8, []byte{0x03, 0xe8}, time.Now().Add(time.Second))
	waitFor(t, "offline", func() bool { return ts.live.Presence(2).Status == live.StatusOffline })
	waitFor(t, "out of voice", func() bool { return len(ts.live.VoiceStates(guildA)) == 0 })
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 200 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("waited for %s", what)
}

func TestRESTHandlers(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("bot", Caller{UserID: 2, Bot: true}, guildA)
	get := func(path, auth string) (int, string) {
		req, _ := http.NewRequest("GET", ts.srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := get("/api/v10/gateway", ""); st != 200 || b != `{"url":"`+ts.wsURL+`"}` {
		t.Fatalf("gateway: %d %s", st, b)
	}
	if st, _ := get("/api/v10/gateway/bot", ""); st != 401 {
		t.Fatalf("gateway/bot without token: %d", st)
	}
	st, b := get("/api/v10/gateway/bot", "Bot bot")
	var gb struct {
		URL    string
		Shards int
		Limit  struct {
			Total          int `json:"total"`
			Remaining      int `json:"remaining"`
			ResetAfter     int `json:"reset_after"`
			MaxConcurrency int `json:"max_concurrency"`
		} `json:"session_start_limit"`
	}
	json.Unmarshal([]byte(b), &gb)
	if st != 200 || gb.URL != ts.wsURL || gb.Shards != 1 || gb.Limit.Total != 1000 || gb.Limit.Remaining != 1000 || gb.Limit.MaxConcurrency != 1 {
		t.Fatalf("gateway/bot: %d %s", st, b)
	}
	if got := PublicURL("https://chat.example.org/"); got != "wss://chat.example.org/gateway" {
		t.Fatalf("PublicURL = %s", got)
	}
}

func TestMembershipAndUserEvents(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("tok1", Caller{UserID: 1}, guildA)
	ts.p.addUser("tok2", Caller{UserID: 2}, guildA)
	c := dial(t, ts.wsURL)
	c.identify("tok1", userIntents|IntentDirectMessages|IntentDirectMessageTyping, 1)
	other := dial(t, ts.wsURL)
	other.identify("tok2", userIntents, 1)

	ts.g.JoinGuild(t.Context(), guildB, 1)
	var gc struct{ ID snowflake.ID }
	json.Unmarshal(c.expect("GUILD_CREATE").D, &gc)
	if gc.ID != guildB {
		t.Fatalf("joined guild %d", gc.ID)
	}
	ts.g.LeaveGuild(guildA, 1)
	if w := c.expect("GUILD_DELETE"); string(w.D) != `{"id":"`+guildA.String()+`"}` {
		t.Fatalf("GUILD_DELETE %s", w.D)
	}
	ts.g.Publish(message(1, "not for you"))
	ts.g.UserEvent(1, "RELATIONSHIP_ADD", map[string]any{"id": "2", "type": 1})
	c.expect("RELATIONSHIP_ADD") // and no MESSAGE_CREATE before it
	other.expect("MESSAGE_CREATE")

	const dm = snowflake.ID(555 << 22)
	ts.g.AddRoom(dm, 1)
	ts.g.Publish(Dispatch{Type: "TYPING_START", GuildID: dm, ChannelID: dm, Intent: IntentDirectMessageTyping,
		Payload: json.RawMessage(`{"channel_id":"` + dm.String() + `","user_id":"2"}`)})
	if w := c.expect("TYPING_START"); !strings.Contains(string(w.D), dm.String()) {
		t.Fatalf("DM typing %s", w.D)
	}
}
