package p2p_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	dto "github.com/prometheus/client_model/go"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/p2p"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
)

// forge signs an event on top of m's forward extremities with key, as a
// node that runs other code than ours could.
func forge(t *testing.T, m *member, gid snowflake.ID, key crypto.PrivKey, sender snowflake.ID, typ string, content any) *event.Event {
	t.Helper()
	ctx := context.Background()
	ext, err := m.core.Extremities(ctx, gid)
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := m.core.Events(ctx, gid, ext)
	if err != nil {
		t.Fatal(err)
	}
	var depth int64
	for _, b := range bodies {
		ev, err := event.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		depth = max(depth, ev.Depth+1)
	}
	var create string
	m.core.View(ctx, gid, func(s *guild.State) error { create = s.CreateEvent; return nil })
	body, err := json.Marshal(content)
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{GuildID: gid, Type: typ, Sender: sender, OriginTS: time.Now().UnixMilli(), PrevEvents: ext,
		AuthEvents: []string{create}, Depth: depth, Content: body}
	if err := event.Sign(ev, key); err != nil {
		t.Fatal(err)
	}
	return ev
}

func fakeEventID() string {
	var b [32]byte
	rand.Read(b[:])
	return "$" + base64.RawURLEncoding.EncodeToString(b[:])
}

// TestHostileNode: a member node publishes forged signatures, events for
// another node's user, a permission escalation, garbage, another room's
// event, an oversized event, fake ancestry and replays. The honest nodes
// accept none of it, cut the hostile node off, and go on converging.
func TestHostileNode(t *testing.T) {
	a, b, m, g, _, um := triangle(t, storage.SQLite)
	legit := message(t, m, g, um, "an honest start")
	waitFor(t, "m's honest message", func() bool { return a.holds(g.id, legit) && b.holds(g.id, legit) })
	other := newGuild(t, m)
	ctx := context.Background()
	replay, err := m.core.Events(ctx, g.id, []string{legit})
	if err != nil {
		t.Fatal(err)
	}

	msg := func(text string) guild.MessageCreate {
		return guild.MessageCreate{ID: m.core.NewID(), ChannelID: g.channel, Content: text}
	}
	var bad [][]byte
	var badIDs []string
	add := func(ev *event.Event) {
		bad, badIDs = append(bad, event.Marshal(ev)), append(badIDs, ev.ID())
	}
	for i := range 4 {
		ev := forge(t, m, g.id, m.key, um, guild.TypeMessageCreate, msg(fmt.Sprintf("forged %d", i)))
		ev.Signature[0] ^= 1
		add(ev)
	}
	add(forge(t, m, g.id, m.key, g.owner, guild.TypeMessageCreate, msg("i am the owner")))
	admin := perm.Administrator
	add(forge(t, m, g.id, m.key, um, guild.TypeRoleCreate, guild.RoleChange{ID: m.core.NewID(), RoleFields: guild.RoleFields{Permissions: &admin}}))
	add(forge(t, m, other.id, m.key, other.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: m.core.NewID(), ChannelID: other.channel, Content: "wrong room"}))
	bad = append(bad, []byte("not an event"), []byte(`{"guild_id":"1"}`),
		[]byte(`{"content":{"content":"`+strings.Repeat("x", event.MaxSize)+`"}}`))
	fake := forge(t, m, g.id, m.key, um, guild.TypeMessageCreate, msg("from nowhere"))
	fake.PrevEvents = []string{fakeEventID(), fakeEventID()}
	event.Sign(fake, m.key)
	for _, data := range append(bad, event.Marshal(fake), event.Marshal(fake), replay[legit]) {
		if err := m.fed.PublishRaw(ctx, g.id, data); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a and b to cut m off", func() bool {
		return a.host.Network().Connectedness(m.host.ID()) != network.Connected &&
			b.host.Network().Connectedness(m.host.ID()) != network.Connected
	})
	for _, h := range []*member{a, b} {
		for _, id := range append(badIDs, fake.ID()) {
			if h.holds(g.id, id) {
				t.Errorf("%s accepted hostile event %s", h.name, id)
			}
		}
	}
	if counter(t, a, "concord_federation_gossip_in_total", map[string]string{"verdict": "rejected"}) == 0 {
		t.Error("a counted no rejected gossip")
	}
	after := message(t, a, g, g.owner, "life goes on")
	waitFor(t, "b to hear a without m", func() bool { return b.holds(g.id, after) })
	converged(t, g.id, a, b)
}

// counter reads a counter of m's metrics (or a histogram's count of
// samples), summed over the series whose labels include want.
// counter sums m's series of a counter or histogram (their sample counts)
// whose labels include want.
func counter(t *testing.T, m *member, name string, want map[string]string) float64 {
	t.Helper()
	sum := 0.0
	for _, s := range series(t, m, name, want) {
		sum += s.GetCounter().GetValue() + float64(s.GetHistogram().GetSampleCount())
	}
	return sum
}

// series lists m's series of metric name whose labels include want.
func series(t *testing.T, m *member, name string, want map[string]string) []*dto.Metric {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.Metric
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
					continue series
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// TestStreamBounds: a peer that declares a huge frame is reset at once,
// one that opens more streams than are served at once has the rest reset,
// and the node serves honest peers throughout.
func TestStreamBounds(t *testing.T) {
	nodes := newCluster(t, storage.SQLite, 3)
	a, b, m := nodes[0], nodes[1], nodes[2]
	connect(t, b, a)
	connect(t, m, a)
	g := newGuild(t, a)
	join(t, b, g)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	s, err := m.host.NewStream(ctx, a.host.ID(), p2p.ProtoHeads)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(binary.AppendUvarint(nil, 1<<30))
	if _, err := io.ReadAll(s); err == nil {
		t.Error("a frame of 1 GiB was not refused")
	}

	var stalled []network.Stream
	for range 40 {
		s, err := m.host.NewStream(ctx, a.host.ID(), p2p.ProtoMissing)
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte{0x10}) // a length, then nothing
		stalled = append(stalled, s)
	}
	waitFor(t, "streams beyond the bound to be refused", func() bool {
		return counter(t, a, "concord_federation_streams_refused_total", nil) >= 8
	})
	after := message(t, a, g, g.owner, "still serving")
	waitFor(t, "b to hear a", func() bool { return b.holds(g.id, after) })
	for _, s := range stalled {
		s.Reset()
	}
}
