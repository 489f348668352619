package p2p_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/p2p"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// member is one node of a test cluster: its database, event core, libp2p
// host and federation, all real, on loopback.
type member struct {
	name string
	key  crypto.PrivKey
	reg  *prometheus.Registry
	db   *storage.DB
	core *room.Core
	host *p2p.Host
	fed  *p2p.Federation
	live *live.Hub

	worker uint16
}

// testConfig makes sync rounds frequent, so that tests of healing are quick.
var testConfig = p2p.Config{SyncEvery: 500 * time.Millisecond, ReadyWait: 2 * time.Second}

// newCluster starts n nodes on databases of the backend cfg names (a fresh
// database each), none connected yet.
func newCluster(t testing.TB, driver string, n int) []*member {
	t.Helper()
	out := make([]*member, n)
	for i := range out {
		out[i] = newMember(t, driver, string(rune('a'+i)), uint16(i+1))
	}
	return out
}

// newMember starts a new node on a fresh database of driver's backend.
// worker is its snowflake worker, distinct per node.
func newMember(t testing.TB, driver, name string, worker uint16) *member {
	t.Helper()
	db := storagetest.Open(t, storagetest.Backends(t)[driver])
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	return startMember(t, name, key, db, worker)
}

// startMember starts a node on key and db: a new node, or one restarting.
func startMember(t testing.TB, name string, key crypto.PrivKey, db *storage.DB, worker uint16) *member {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	core, err := room.New(db, key, snowflake.NewGenerator(worker), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	reg := prometheus.NewRegistry()
	host, err := p2p.NewHost(key, p2p.HostConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}}, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	hub := live.New(100 * time.Millisecond)
	t.Cleanup(hub.Close)
	cfg := testConfig
	cfg.Live = hub
	fed, err := p2p.New(host, core, cfg, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fed.Close() })
	return &member{name: name, key: key, reg: reg, db: db, core: core, host: host, fed: fed, live: hub, worker: worker}
}

// stop stops m's federation, host and core; its database stays.
func (m *member) stop() {
	m.fed.Close()
	m.host.Close()
	m.core.Close()
}

// connect dials b from a.
func connect(t testing.TB, a, b *member) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.host.Connect(ctx, peer.AddrInfo{ID: b.host.ID(), Addrs: b.host.Addrs()}); err != nil {
		t.Fatalf("connect %s to %s: %v", a.name, b.name, err)
	}
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send sends an event as a local user of m.
func (m *member) send(t testing.TB, gid, user snowflake.ID, typ string, content any) string {
	t.Helper()
	ev, err := m.core.Send(context.Background(), gid, user, typ, content)
	if err != nil {
		t.Fatalf("%s: send %s: %v", m.name, typ, err)
	}
	return ev.ID()
}

// holds reports whether m holds every event of ids.
func (m *member) holds(gid snowflake.ID, ids ...string) bool {
	for chunk := range slices.Chunk(ids, room.MaxEventsRead) {
		got, err := m.core.Events(context.Background(), gid, chunk)
		if err != nil || len(got) != len(chunk) {
			return false
		}
	}
	return true
}

// isMember reports whether user is a member of the room on m.
func (m *member) isMember(gid, user snowflake.ID) bool {
	ok := false
	m.core.View(context.Background(), gid, func(s *guild.State) error {
		ok = s.Members[user] != nil
		return nil
	})
	return ok
}

// state is m's state hash of the room and its forward extremities.
func (m *member) state(t testing.TB, gid snowflake.ID) string {
	t.Helper()
	var sum [32]byte
	if err := m.core.View(context.Background(), gid, func(s *guild.State) error {
		sum = s.Hash()
		return nil
	}); err != nil {
		return err.Error()
	}
	ext, err := m.core.Extremities(context.Background(), gid)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x %v", sum[:8], ext)
}

// guildFixture is a guild made on its creator's node, with a text channel
// and an invite.
type guildFixture struct {
	id, owner, channel snowflake.ID
	invite             string
}

func newGuild(t testing.TB, m *member) guildFixture {
	t.Helper()
	g := guildFixture{id: m.core.NewID(), owner: m.core.NewID(), channel: m.core.NewID(), invite: "Join" + m.name}
	m.send(t, g.id, g.owner, guild.TypeGuildCreate, guild.GuildCreate{ID: g.id, Kind: guild.KindGuild, Name: "federated"})
	name := "general"
	m.send(t, g.id, g.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: g.channel, ChannelFields: guild.ChannelFields{Name: &name}})
	m.send(t, g.id, g.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: g.invite, ChannelID: g.channel})
	return g
}

// join joins a new user of m to the guild by its invite, as POST
// /invites/{code} does, and returns the user.
func join(t testing.TB, m *member, g guildFixture) snowflake.ID {
	t.Helper()
	gid, err := m.fed.FetchInvite(context.Background(), g.invite)
	if err != nil {
		t.Fatalf("%s: fetch invite: %v", m.name, err)
	}
	if gid != g.id {
		t.Fatalf("%s: invite names guild %s, want %s", m.name, gid, g.id)
	}
	user := m.core.NewID()
	m.send(t, g.id, user, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: g.invite})
	return user
}

func message(t testing.TB, m *member, g guildFixture, user snowflake.ID, text string) string {
	t.Helper()
	return m.send(t, g.id, user, guild.TypeMessageCreate, guild.MessageCreate{ID: m.core.NewID(), ChannelID: g.channel, Content: text})
}

// converged waits until every node holds the same state and extremities.
func converged(t testing.TB, gid snowflake.ID, nodes ...*member) {
	t.Helper()
	waitFor(t, "convergence", func() bool {
		first := nodes[0].state(t, gid)
		for _, m := range nodes[1:] {
			if m.state(t, gid) != first {
				return false
			}
		}
		return true
	})
}

// line starts three nodes in a line, a–b–c, with a guild made on a that a
// user of b and then one of c joined by its invite (c through b, the one
// node it dialled), and waits until every node admitted both.
func line(t testing.TB, driver string) (a, b, c *member, g guildFixture, ub, uc snowflake.ID) {
	t.Helper()
	nodes := newCluster(t, driver, 3)
	a, b, c = nodes[0], nodes[1], nodes[2]
	connect(t, b, a)
	connect(t, c, b)
	g = newGuild(t, a)
	ub = join(t, b, g)
	waitFor(t, "a to admit b's user", func() bool { return a.isMember(g.id, ub) })
	uc = join(t, c, g)
	waitFor(t, "a and b to admit c's user", func() bool { return a.isMember(g.id, uc) && b.isMember(g.id, uc) })
	return a, b, c, g, ub, uc
}

// triangle starts three fully connected nodes with a guild made on a that
// a user of b and one of c joined, and waits until every node admitted
// both and gossips with the others.
func triangle(t testing.TB, driver string) (a, b, c *member, g guildFixture, ub, uc snowflake.ID) {
	t.Helper()
	nodes := newCluster(t, driver, 3)
	a, b, c = nodes[0], nodes[1], nodes[2]
	connect(t, b, a)
	connect(t, c, a)
	connect(t, c, b)
	g = newGuild(t, a)
	ub, uc = join(t, b, g), join(t, c, g)
	waitFor(t, "everyone to admit everyone", func() bool {
		for _, m := range nodes {
			if !m.isMember(g.id, ub) || !m.isMember(g.id, uc) {
				return false
			}
		}
		return true
	})
	// A node whose subscription reached another before its join did is
	// reconnected once that one admits it; wait until gossip has settled.
	waitFor(t, "every node to count the others among the topic's peers", func() bool {
		for _, m := range nodes {
			for _, o := range nodes {
				if o != m && !slices.Contains(m.fed.TopicPeers(g.id), o.host.ID()) {
					return false
				}
			}
		}
		return true
	})
	return a, b, c, g, ub, uc
}

// TestClusterJoinMessagePartition runs three nodes in a line, a–b–c: b and
// c join a's guild by its invite (c through b, which it alone is connected
// to), a message sent on any node reaches the others, and after c is cut
// off and both sides write, healing the link makes the three identical.
func TestClusterJoinMessagePartition(t *testing.T) {
	for _, driver := range drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, b, c, g, ub, uc := line(t, driver)
			nodes := []*member{a, b, c}

			for _, sent := range []struct {
				from *member
				user snowflake.ID
			}{{a, g.owner}, {b, ub}, {c, uc}} {
				id := message(t, sent.from, g, sent.user, "hello from "+sent.from.name)
				waitFor(t, "a message from "+sent.from.name+" everywhere", func() bool {
					return a.holds(g.id, id) && b.holds(g.id, id) && c.holds(g.id, id)
				})
			}
			converged(t, g.id, a, b, c)

			// Cut c off, write on both sides, heal.
			cut(c, b, a)
			var sent []string
			for i := range 20 {
				sent = append(sent, message(t, a, g, g.owner, fmt.Sprintf("a %d", i)))
				sent = append(sent, message(t, c, g, uc, fmt.Sprintf("c %d", i)))
			}
			name := "renamed while c was away"
			a.send(t, g.id, g.owner, guild.TypeChannelUpdate, guild.ChannelUpdate{ID: g.channel, ChannelFields: guild.ChannelFields{Name: &name}})
			if c.holds(g.id, sent[0]) || a.holds(g.id, sent[1]) {
				t.Fatal("events crossed the partition")
			}
			heal(t, c, b, a)
			converged(t, g.id, a, b, c)
			holdAll(t, g.id, sent, nodes...)
			for _, m := range nodes {
				// An event is observed just after its commit, which holds
				// already showed.
				waitFor(t, m.name+" to measure the lag of the 20 events the other side wrote", func() bool {
					return counter(t, m, "concord_federation_event_lag_seconds", nil) >= 20
				})
				if len(series(t, m, "concord_federation_guild_lag_seconds", map[string]string{"guild": g.id.String()})) == 0 {
					t.Errorf("%s shows no lag for the guild", m.name)
				}
			}
		})
	}
}

// cut partitions x from the others: each blocks the other, so that
// neither a direct connection nor one the DHT finds crosses.
func cut(x *member, others ...*member) {
	for _, y := range others {
		x.host.Gate().Block(y.host.ID())
		y.host.Gate().Block(x.host.ID())
	}
}

// heal undoes cut and dials the first of the others from x again.
func heal(t testing.TB, x *member, others ...*member) {
	t.Helper()
	for _, y := range others {
		x.host.Gate().Unblock(y.host.ID())
		y.host.Gate().Unblock(x.host.ID())
	}
	connect(t, x, others[0])
}

// holdAll checks that every node holds every event of ids.
func holdAll(t testing.TB, gid snowflake.ID, ids []string, nodes ...*member) {
	t.Helper()
	for _, m := range nodes {
		if !m.holds(gid, ids...) {
			t.Errorf("%s lacks events written during the partition", m.name)
		}
	}
}

// drivers are the storage backends this run tests on.
func drivers(t testing.TB) []string {
	var out []string
	for d := range storagetest.Backends(t) {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
