package dispatch

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"concord/clientapi/gateway"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// sink records dispatches; while gate is held, Publish waits.
type sink struct {
	gate sync.Mutex
	mu   sync.Mutex
	got  []string
}

func (s *sink) Publish(d gateway.Dispatch) {
	s.gate.Lock()
	s.gate.Unlock()
	s.mu.Lock()
	s.got = append(s.got, d.Type+" "+string(d.Payload))
	s.mu.Unlock()
}

func (s *sink) JoinGuild(context.Context, snowflake.ID, snowflake.ID) {}
func (s *sink) LeaveGuild(snowflake.ID, snowflake.ID)                 {}
func (s *sink) AddRoom(snowflake.ID, snowflake.ID)                    {}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func newTranslator(t *testing.T, queue int, out Sink) (*Translator, *live.Hub, *prometheus.Registry) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	core, err := room.New(db, key, snowflake.NewGenerator(1), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	hub := live.New(time.Hour)
	t.Cleanup(hub.Close)
	reg := prometheus.NewRegistry()
	tr, err := NewTranslator(Config{Queue: queue, Log: log, Metrics: reg},
		Deps{DB: db, Core: core, Objects: objects.NewRenderer(db.Reader(), "", nil), Live: hub}, out)
	if err != nil {
		t.Fatal(err)
	}
	return tr, hub, reg
}

// TestQueueIsBounded holds the sink so that changes pile up: past the
// queue's size the producer waits (and the wait is counted) instead of the
// queue growing, and nothing is lost or reordered.
func TestQueueIsBounded(t *testing.T) {
	out := &sink{}
	tr, hub, reg := newTranslator(t, 2, out)
	out.gate.Lock()
	const n = 6
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			const dm = snowflake.ID(77)
			hub.Typing(live.Typing{RoomID: dm, ChannelID: dm, UserID: snowflake.ID(i + 1), At: time.Unix(0, 0)})
		}
	}()
	// One is being rendered, two wait in the queue, the producer waits.
	deadline := time.Now().Add(2 * time.Second)
	for testutil.ToFloat64(tr.waits) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := testutil.ToFloat64(tr.waits); got == 0 {
		t.Fatal("the producer never waited")
	}
	if depth := len(tr.queue); depth > 2 {
		t.Fatalf("queue holds %d, more than its size", depth)
	}
	out.gate.Unlock()
	<-done
	for out.count() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	tr.Close()
	if len(out.got) != n {
		t.Fatalf("published %d of %d", len(out.got), n)
	}
	for i, s := range out.got {
		var p struct {
			UserID snowflake.ID `json:"user_id"`
		}
		json.Unmarshal([]byte(s[len("TYPING_START "):]), &p)
		if p.UserID != snowflake.ID(i+1) {
			t.Fatalf("dispatch %d is %s", i, s)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "concord_dispatch_queue_depth", "concord_dispatch_queue_waits_total"); err != nil || n != 2 {
		t.Fatalf("metrics: %d, %v", n, err)
	}
}

// TestCloseRendersWhatIsQueued stops the translator with changes queued:
// they are still published, and nothing is heard after Close.
func TestCloseRendersWhatIsQueued(t *testing.T) {
	out := &sink{}
	tr, hub, _ := newTranslator(t, 16, out)
	out.gate.Lock()
	for i := range 5 {
		hub.SetVoice(live.VoiceState{GuildID: 1, ChannelID: 2, UserID: snowflake.ID(i + 1)})
	}
	out.gate.Unlock()
	tr.Close()
	if out.count() != 5 {
		t.Fatalf("published %d of 5", out.count())
	}
	hub.SetVoice(live.VoiceState{GuildID: 1, ChannelID: 3, UserID: 9})
	time.Sleep(10 * time.Millisecond)
	if out.count() != 5 {
		t.Fatalf("heard after Close: %v", out.got)
	}
}

// TestDispatchShowsWhatEachEventDid sends a role's creation and an update of
// it in one commit: each dispatch shows the role as its own event left it,
// not as the room is by the time the translator renders it.
func TestDispatchShowsWhatEachEventDid(t *testing.T) {
	out := &sink{}
	tr, _, _ := newTranslator(t, 16, out)
	core := tr.core
	ctx := context.Background()
	g, owner, role := core.NewID(), snowflake.ID(1), core.NewID()
	first, second := "first", "second"
	_, err := core.SendAll(ctx, g, owner, []room.Local{
		{Type: guild.TypeGuildCreate, Content: guild.GuildCreate{ID: g, Kind: guild.KindGuild, Name: "dispatch"}},
		{Type: guild.TypeRoleCreate, Content: guild.RoleChange{ID: role, RoleFields: guild.RoleFields{Name: &first}}},
		{Type: guild.TypeRoleUpdate, Content: guild.RoleChange{ID: role, RoleFields: guild.RoleFields{Name: &second}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	var got []string
	for _, s := range out.got {
		var p struct {
			Role struct{ Name string } `json:"role"`
		}
		typ, payload, _ := strings.Cut(s, " ")
		if strings.HasPrefix(typ, "GUILD_ROLE_") && json.Unmarshal([]byte(payload), &p) == nil {
			got = append(got, typ+" "+p.Role.Name)
		}
	}
	if want := []string{"GUILD_ROLE_CREATE first", "GUILD_ROLE_UPDATE second"}; !slices.Equal(got, want) {
		t.Fatalf("dispatches %q, want %q", got, want)
	}
}
