package gateway

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// fakeProvider is a Provider over plain data: the gateway's unit under
// test. The adapter over storage has its own end-to-end test.
type fakeProvider struct {
	mu      sync.Mutex
	tokens  map[string]Caller
	guilds  map[snowflake.ID][]snowflake.ID // user → guilds
	members map[snowflake.ID][]snowflake.ID // guild → users
	hidden  map[[2]snowflake.ID]bool        // (channel, user) without VIEW_CHANNEL
	live    *live.Hub                       // for the presences of members
	revoked map[snowflake.ID]bool           // users whose credential StillValid refuses
}

func newFakeProvider() *fakeProvider {
	return &fakeProvider{tokens: map[string]Caller{}, guilds: map[snowflake.ID][]snowflake.ID{},
		members: map[snowflake.ID][]snowflake.ID{}, hidden: map[[2]snowflake.ID]bool{},
		revoked: map[snowflake.ID]bool{}}
}

// addUser registers token for a user (or bot) in guilds.
func (p *fakeProvider) addUser(token string, c Caller, guilds ...snowflake.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens[token] = c
	p.guilds[c.UserID] = append(p.guilds[c.UserID], guilds...)
	for _, g := range guilds {
		p.members[g] = append(p.members[g], c.UserID)
	}
}

func (p *fakeProvider) Authenticate(_ context.Context, token string) (Caller, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.tokens[token]
	if !ok {
		c, ok = p.tokens[strings.TrimPrefix(token, "Bot ")]
	}
	if !ok {
		return Caller{}, ErrBadToken
	}
	return c, nil
}

func (p *fakeProvider) Ready(_ context.Context, userID snowflake.ID) (ReadyData, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	user := fmt.Sprintf(`{"id":"%d","username":"u%d","discriminator":"0","global_name":null,"avatar":null,"bot":false}`, userID, userID)
	return ReadyData{User: json.RawMessage(user), Guilds: append([]snowflake.ID(nil), p.guilds[userID]...), ApplicationID: userID}, nil
}

func (p *fakeProvider) GuildCreate(_ context.Context, guildID, _ snowflake.ID, _ GuildCreateOptions) (json.RawMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return json.RawMessage(fmt.Sprintf(`{"id":"%d","name":"guild %d","owner_id":"1","channels":[{"id":"%d","type":0,"name":"general","guild_id":"%d"}],"roles":[],"members":[],"member_count":%d,"large":false,"presences":[],"voice_states":[]}`,
		guildID, guildID, guildID+1, guildID, len(p.members[guildID]))), nil
}

func (p *fakeProvider) Members(_ context.Context, guildID snowflake.ID, q MemberQuery) (Members, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out Members
	add := func(id snowflake.ID) {
		out.Members = append(out.Members, json.RawMessage(fmt.Sprintf(`{"user":{"id":"%d","username":"u%d"},"roles":[],"joined_at":"2026-01-01T00:00:00Z","deaf":false,"mute":false}`, id, id)))
		if pr := p.live.Presence(id); q.Presences && pr.Status != live.StatusOffline {
			out.Presences = append(out.Presences, json.RawMessage(fmt.Sprintf(`{"user":{"id":"%d"},"status":%q}`, id, pr.Status)))
		}
	}
	if len(q.UserIDs) > 0 {
		for _, id := range q.UserIDs {
			if slices.Contains(p.members[guildID], id) {
				add(id)
			} else {
				out.NotFound = append(out.NotFound, id)
			}
		}
		return out, nil
	}
	for _, id := range p.members[guildID] {
		if strings.HasPrefix(fmt.Sprintf("u%d", id), q.Query) && (q.Limit == 0 || len(out.Members) < q.Limit) {
			add(id)
		}
	}
	return out, nil
}

// revoke makes StillValid refuse token's caller from now on.
func (p *fakeProvider) revoke(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked[p.tokens[token].UserID] = true
}

func (p *fakeProvider) StillValid(_ context.Context, c Caller) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.revoked[c.UserID], nil
}

func (p *fakeProvider) CanView(_, channelID, userID snowflake.ID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.hidden[[2]snowflake.ID{channelID, userID}]
}

// testServer is a Gateway on an httptest server, with the REST handlers
// under /api/v9 and /api/v10 and the WebSocket at /gateway.
type testServer struct {
	g     *Gateway
	p     *fakeProvider
	live  *live.Hub
	srv   *httptest.Server
	wsURL string
}

func newTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	p := newFakeProvider()
	p.live = live.New(20 * time.Millisecond)
	ts := &testServer{p: p, live: p.live}
	mux := http.NewServeMux()
	ts.srv = httptest.NewServer(mux)
	ts.wsURL = "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/gateway"
	cfg.PublicURL = ts.wsURL
	g, err := New(cfg, p, p.live, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.g = g
	gw, bot := g.RESTHandlers("")
	for _, v := range []string{"9", "10"} {
		mux.HandleFunc("GET /api/v"+v+"/gateway", gw)
		mux.HandleFunc("GET /api/v"+v+"/gateway/bot", bot)
	}
	// discordgo appends a slash to the URL it is given; discord.js does not.
	mux.Handle("/gateway", g)
	mux.Handle("/gateway/", g)
	t.Cleanup(func() {
		g.Close()
		p.live.Close()
		ts.srv.CloseClientConnections()
		ts.srv.Close()
	})
	return ts
}

// wire is a frame as a client reads it.
type wire struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s"`
	T  *string         `json:"t"`
}

func (w wire) typ() string {
	if w.T == nil {
		return ""
	}
	return *w.T
}

// client is a raw gateway client.
type client struct {
	t   testing.TB
	ws  *websocket.Conn
	dec *json.Decoder // zlib-stream: one inflate context for the connection
	seq int64
}

func dial(t testing.TB, url string) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &client{t: t, ws: ws}
	if strings.Contains(url, "compress=zlib-stream") {
		zr, err := zlib.NewReader(&messageReader{c: c})
		if err != nil {
			t.Fatalf("zlib stream: %v", err)
		}
		c.dec = json.NewDecoder(zr)
	}
	return c
}

// messageReader joins binary messages into one stream, checking that each
// ends in a sync flush, as zlib-stream clients require.
type messageReader struct {
	c   *client
	buf []byte
}

func (m *messageReader) Read(p []byte) (int, error) {
	if len(m.buf) == 0 {
		typ, data, err := m.c.ws.ReadMessage()
		if err != nil {
			return 0, err
		}
		if typ != websocket.BinaryMessage || !bytes.HasSuffix(data, []byte{0, 0, 0xff, 0xff}) {
			return 0, fmt.Errorf("zlib-stream message of type %d does not end 00 00 ff ff", typ)
		}
		m.buf = data
	}
	n := copy(p, m.buf)
	m.buf = m.buf[n:]
	return n, nil
}

func (c *client) read() (wire, error) {
	c.ws.SetReadDeadline(time.Now().Add(3 * time.Second))
	var w wire
	if c.dec != nil {
		err := c.dec.Decode(&w)
		if w.S != nil {
			c.seq = *w.S
		}
		return w, err
	}
	typ, data, err := c.ws.ReadMessage()
	if err != nil {
		return w, err
	}
	if typ == websocket.BinaryMessage { // per-payload compression
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return w, err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return w, err
		}
	}
	err = json.Unmarshal(data, &w)
	if w.S != nil {
		c.seq = *w.S
	}
	return w, err
}

func (c *client) next() wire {
	c.t.Helper()
	w, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return w
}

// expect reads until a dispatch of type typ, skipping presence updates.
func (c *client) expect(typ string) wire {
	c.t.Helper()
	for {
		w := c.next()
		if w.typ() == typ {
			return w
		}
		if w.typ() != "PRESENCE_UPDATE" {
			c.t.Fatalf("want %s, got op %d %s %s", typ, w.Op, w.typ(), w.D)
		}
	}
}

func (c *client) send(op int, d any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(map[string]any{"op": op, "d": d}); err != nil {
		c.t.Fatalf("send op %d: %v", op, err)
	}
}

// hello reads op 10.
func (c *client) hello() {
	c.t.Helper()
	if w := c.next(); w.Op != opHello {
		c.t.Fatalf("first frame op %d, want hello", w.Op)
	}
}

// identify says hello, identifies and reads READY and n GUILD_CREATEs.
func (c *client) identify(token string, intents Intents, guilds int) (ready map[string]any) {
	c.t.Helper()
	c.hello()
	c.send(opIdentify, map[string]any{"token": token, "intents": intents,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"}})
	w := c.expect("READY")
	if err := json.Unmarshal(w.D, &ready); err != nil {
		c.t.Fatal(err)
	}
	for range guilds {
		c.expect("GUILD_CREATE")
	}
	return ready
}

// expectClose reads until the server closes, and checks the code.
func (c *client) expectClose(code int) {
	c.t.Helper()
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != code {
			c.t.Fatalf("want close %d, got %v", code, err)
		}
		return
	}
}

// mark publishes a dispatch every session of guildA gets: reading it
// first proves nothing else was sent before it.
func (ts *testServer) mark() {
	ts.g.Publish(Dispatch{Type: "TEST_MARK", GuildID: guildA, Payload: json.RawMessage(`{}`)})
}

const (
	guildA = snowflake.ID(1000 << 22)
	guildB = snowflake.ID(2000 << 22)
	chanA  = guildA + 1
)

func message(id int, content string) Dispatch {
	p := fmt.Sprintf(`{"id":"%d","channel_id":"%d","guild_id":"%d","content":%q,"author":{"id":"7","username":"u7"}}`, id, chanA, guildA, content)
	nc := fmt.Sprintf(`{"id":"%d","channel_id":"%d","guild_id":"%d","content":"","author":{"id":"7","username":"u7"}}`, id, chanA, guildA)
	return Dispatch{Type: "MESSAGE_CREATE", GuildID: guildA, ChannelID: chanA, Intent: IntentGuildMessages,
		Payload: json.RawMessage(p), PayloadNoContent: json.RawMessage(nc), ContentUsers: []snowflake.ID{7}}
}
