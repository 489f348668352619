package sfu

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/sfu/peer"
	"concord/storage"
	"concord/storage/blob"
	"concord/storage/storagetest"
)

// Test IDs: one guild with a voice channel, a text channel and members.
const (
	testGuild snowflake.ID = 1000
	testVoice snowflake.ID = 1001
	testText  snowflake.ID = 1002
	testOther snowflake.ID = 1003 // a second voice channel
	owner     snowflake.ID = 1
)

// guilds is a Guilds over states a test builds and changes.
type guilds struct {
	mu   sync.Mutex
	m    map[snowflake.ID]*guild.State
	subs []func(*room.Accepted)
}

func (g *guilds) Subscribe(fn func(*room.Accepted)) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.subs = append(g.subs, fn)
	return func() {}
}

// commit changes the guild's state as an applied event that touched the
// keys would, and tells the subscribers.
func (g *guilds) commit(fn func(s *guild.State), keys ...guild.Key) {
	g.edit(fn)
	g.mu.Lock()
	acc := &room.Accepted{Event: &event.Event{GuildID: testGuild}, State: true, Applied: true, Changes: keys,
		After: g.m[testGuild].Clone()}
	subs := g.subs
	g.mu.Unlock()
	for _, fn := range subs {
		fn(acc)
	}
}

func (g *guilds) View(_ context.Context, id snowflake.ID, fn func(*guild.State) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.m[id]
	if s == nil {
		return errors.New("unknown guild")
	}
	return fn(s)
}

// edit changes the guild's state.
func (g *guilds) edit(fn func(s *guild.State)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g.m[testGuild])
}

// newGuilds makes the test guild, with members 1..n.
func newGuilds(t testing.TB, n int) *guilds {
	s := guild.New()
	apply := func(typ string, sender snowflake.ID, content any) {
		b, _ := json.Marshal(content)
		op := &guild.Op{GuildID: testGuild, Type: typ, Sender: sender, Content: b, EventID: typ}
		if err := op.Prepare(); err != nil {
			t.Fatal(err)
		}
		guild.Apply(s, op)
	}
	apply(guild.TypeGuildCreate, owner, guild.GuildCreate{ID: testGuild, Kind: guild.KindGuild, Name: "g"})
	for i := 2; i <= n; i++ {
		apply(guild.TypeMemberAdd, owner, guild.MemberAdd{UserID: snowflake.ID(i)})
	}
	name := "voice"
	apply(guild.TypeChannelCreate, owner, guild.ChannelCreate{ID: testVoice, Type: guild.ChannelVoice, ChannelFields: guild.ChannelFields{Name: &name}})
	apply(guild.TypeChannelCreate, owner, guild.ChannelCreate{ID: testOther, Type: guild.ChannelVoice, ChannelFields: guild.ChannelFields{Name: &name}})
	apply(guild.TypeChannelCreate, owner, guild.ChannelCreate{ID: testText, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})
	if s.Members[owner] == nil || s.Channels[testVoice] == nil {
		t.Fatal("test guild not built")
	}
	return &guilds{m: map[snowflake.ID]*guild.State{testGuild: s}}
}

// deny adds a member overwrite denying bits in a channel.
func (g *guilds) deny(channel, user snowflake.ID, bits perm.Bits) {
	g.edit(func(s *guild.State) {
		ch := s.Channels[channel]
		ch.Overwrites = append(ch.Overwrites, perm.Overwrite{ID: user, Type: perm.OverwriteMember, Deny: bits})
	})
}

// servers hears the VOICE_SERVER_UPDATEs the SFU makes.
type servers struct {
	mu  sync.Mutex
	got map[snowflake.ID]chan live.VoiceServer
}

func (s *servers) ch(user snowflake.ID) chan live.VoiceServer {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.got[user]
	if c == nil {
		c = make(chan live.VoiceServer, 16)
		s.got[user] = c
	}
	return c
}

func (*servers) Presence(live.Presence)           {}
func (*servers) Typing(live.Typing)               {}
func (*servers) Voice(live.VoiceState)            {}
func (s *servers) VoiceServer(v live.VoiceServer) { s.ch(v.UserID) <- v }

// rig is an SFU on loopback with its voice gateway served over HTTP.
type rig struct {
	sfu     *SFU
	hub     *live.Hub
	guilds  *guilds
	servers *servers
	blobs   blob.Store
	db      *storage.DB // the recordings tables
	url     string      // ws://host/voice
	http    string      // http://host
	remote  *remote     // the SFU runs in a process of its own; hub and the rest are nil
}

// testAuth takes "token-<user ID>".
func testAuth(_ context.Context, token string) (snowflake.ID, error) {
	id, ok := strings.CutPrefix(token, "token-")
	if !ok {
		return 0, errors.New("invalid token")
	}
	return snowflake.Parse(id)
}

func loopbackOnly(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }

func newRig(t testing.TB, members int, tune func(*Config)) *rig {
	t.Helper()
	return newRigOn(t, members, tune, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "concord.db")}, nil)
}

// newRigOn is newRig keeping recordings in the database db names, and
// cascading through relay when it is not nil.
func newRigOn(t testing.TB, members int, tune func(*Config), db storage.Config, relay Relayer) *rig {
	t.Helper()
	r := &rig{db: storagetest.Open(t, db), hub: live.New(time.Hour), guilds: newGuilds(t, members), servers: &servers{got: map[snowflake.ID]chan live.VoiceServer{}}}
	r.hub.Subscribe(r.servers)
	srv := httptest.NewUnstartedServer(nil)
	cfg := Config{Endpoint: strings.TrimPrefix(srv.Listener.Addr().String(), "http://") + "/voice",
		Peer: peer.Config{Loopback: true, IPFilter: loopbackOnly}}
	if tune != nil {
		tune(&cfg)
	}
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r.blobs = blobs
	cfg.RecordDir = t.TempDir()
	s, err := New(cfg, Deps{Live: r.hub, Guilds: r.guilds, Auth: testAuth, Blobs: blobs, DB: r.db, Relay: relay})
	if err != nil {
		t.Fatal(err)
	}
	r.sfu = s
	srv.Config.Handler = s.Handler()
	srv.Start()
	r.url = "ws://" + cfg.Endpoint
	r.http = "http://" + strings.TrimSuffix(cfg.Endpoint, "/voice")
	t.Cleanup(func() {
		srv.Close()
		s.Close()
		r.hub.Close()
	})
	return r
}

// join puts user in voice channel ch through the live state, as gateway
// op 4 does, and returns the voice server the SFU answers with.
func (r *rig) join(t testing.TB, user, ch snowflake.ID) live.VoiceServer {
	t.Helper()
	if r.remote != nil {
		return r.remote.join(t, user, ch)
	}
	r.hub.SetVoice(live.VoiceState{GuildID: testGuild, ChannelID: ch, UserID: user, SessionID: "gw-" + user.String()})
	select {
	case v := <-r.servers.ch(user):
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no voice server for", user)
	}
	return live.VoiceServer{}
}

// waitFor polls cond until it holds or the time runs out.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type guildState = guild.State

func snowflakeOf(n int) snowflake.ID { return snowflake.ID(n) }
