package room_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// node is one node of a multi-node test: its own key, database and core.
type node struct {
	db   *storage.DB
	key  crypto.PrivKey
	core *room.Core
}

// newNode opens a fresh database from cfg and starts a core on it. worker
// is the node's snowflake worker: distinct per node, so that two nodes of
// one test never mint the same ID.
func newNode(t testing.TB, cfg storage.Config, worker uint16) *node {
	t.Helper()
	p := &node{db: storagetest.Open(t, cfg), key: newKey(t)}
	c, err := room.New(p.db, p.key, snowflake.NewGenerator(worker), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p.core = c
	return p
}

// secondConfig returns a fresh database config of the same backend as db.
func secondConfig(t testing.TB, db *storage.DB) storage.Config {
	t.Helper()
	cfg, ok := storagetest.Backends(t)[db.Driver()]
	if !ok {
		t.Fatalf("no config for backend %q", db.Driver())
	}
	return cfg
}

// logOf returns a guild's stored events in the order they were accepted.
func logOf(t testing.TB, db *storage.DB, gid snowflake.ID) [][]byte {
	t.Helper()
	rows, err := db.Reader().QueryContext(context.Background(), `SELECT body FROM events WHERE guild_id = ? ORDER BY seq`, int64(gid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// syncLog delivers every event from's database holds to core, in from's
// order, as gossip would: what core already has is skipped.
func syncLog(t testing.TB, from *storage.DB, to *room.Core, gid snowflake.ID) {
	t.Helper()
	for _, b := range logOf(t, from, gid) {
		if _, err := to.Accept(context.Background(), b); err != nil && !errors.Is(err, room.ErrDuplicate) {
			t.Fatalf("sync: %v", err)
		}
	}
}

// headsOf returns a guild's forward extremities and the depth an event on
// top of them has.
func headsOf(t testing.TB, db *storage.DB, gid snowflake.ID) ([]string, int64) {
	t.Helper()
	rows, err := db.Reader().QueryContext(context.Background(), `SELECT e.event_id, e.depth FROM guild_extremities x
		JOIN events e ON e.event_id = x.event_id WHERE x.guild_id = ?`, int64(gid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var (
		ids   []string
		depth int64
	)
	for rows.Next() {
		var id string
		var d int64
		if err := rows.Scan(&id, &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		depth = max(depth, d+1)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids, depth
}

// eventOf returns the ID of a guild's event found by a condition on the
// events table.
func eventOf(t testing.TB, db *storage.DB, gid snowflake.ID, where string, args ...any) string {
	t.Helper()
	var id string
	err := db.Reader().QueryRowContext(context.Background(), `SELECT event_id FROM events WHERE guild_id = ? AND `+where,
		append([]any{int64(gid)}, args...)...).Scan(&id)
	if err != nil {
		t.Fatalf("event where %s: %v", where, err)
	}
	return id
}

// fakeEventID is a well-formed event ID no event has.
func fakeEventID() string {
	var b [32]byte
	rand.Read(b[:])
	return "$" + base64.RawURLEncoding.EncodeToString(b[:])
}

// projectionTables selects one guild's rows of every table accept writes.
var projectionTables = []struct{ name, where string }{
	{"guilds", "id = ?"},
	{"roles", "guild_id = ?"},
	{"channels", "guild_id = ?"},
	{"guild_members", "guild_id = ?"},
	{"bans", "guild_id = ?"},
	{"invites", "guild_id = ?"},
	{"emojis", "guild_id = ?"},
	{"messages", "guild_id = ?"},
	{"reactions", "guild_id = ?"},
	{"reaction_clears", "guild_id = ?"},
	{"audit_log", "guild_id = ?"},
	{"guild_extremities", "guild_id = ?"},
	{"events", "guild_id = ?"},
}

// dump renders every row of a guild in every table accept writes, each
// table's rows sorted, the node's own log positions (seq, first_seq) left
// out.
func dump(t testing.TB, db *storage.DB, gid snowflake.ID) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tab := range projectionTables {
		out[tab.name] = dumpQuery(t, db, `SELECT * FROM `+tab.name+` WHERE `+tab.where, int64(gid))
	}
	return out
}

// dumpQuery renders the rows of a query, sorted, without log positions.
func dumpQuery(t testing.TB, db *storage.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Reader().QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, c := range cols {
			if c == "seq" || c == "first_seq" {
				continue
			}
			v := vals[i]
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", c, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// diffDumps describes how two dumps differ, "" when they are equal.
func diffDumps(a, b map[string][]string) string {
	var out strings.Builder
	for _, tab := range projectionTables {
		x, y := a[tab.name], b[tab.name]
		if slices.Equal(x, y) {
			continue
		}
		fmt.Fprintf(&out, "table %s (%d vs %d rows):\n", tab.name, len(x), len(y))
		for _, r := range x {
			if !slices.Contains(y, r) {
				fmt.Fprintf(&out, "  - %s\n", r)
			}
		}
		for _, r := range y {
			if !slices.Contains(x, r) {
				fmt.Fprintf(&out, "  + %s\n", r)
			}
		}
	}
	return out.String()
}

// stateHash is the canonical hash of a core's current state of a guild.
func stateHash(t testing.TB, c *room.Core, gid snowflake.ID) (sum [32]byte, canon []byte) {
	t.Helper()
	if err := c.View(context.Background(), gid, func(s *guild.State) error {
		sum, canon = s.Hash(), s.Canonical()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return sum, canon
}

// signed signs a hand-built event with key.
func signed(t testing.TB, ev *event.Event, key crypto.PrivKey) *event.Event {
	t.Helper()
	if err := event.Sign(ev, key); err != nil {
		t.Fatalf("sign %s: %v", ev.Type, err)
	}
	return ev
}
