package room_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"concord/federation/event"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// The replica property holds for a node that joins with partial state
// (spec/federation.md, "Joining with partial state"): it takes the state
// events and the newest events whole and stubs for the rest from node 0,
// goes on hearing events, old messages' edits, deletes and bans among
// them, while partitions come and go, then backfills newest first; in the
// end it holds the same log, state and projections as every other node.

// joinPartially adds a node that joins from node 0 with partial state,
// taking the newest recent events whole, in pages of page entries.
func (r *replicaRun) joinPartially(cfg storage.Config, recent, page int) int {
	r.t.Helper()
	ctx := context.Background()
	n := len(r.nodes)
	r.nodes = append(r.nodes, newNode(r.t, cfg, uint16(n+1)))
	r.have = append(r.have, map[string]bool{})
	r.cutTill = append(r.cutTill, 0)
	src, dst := r.nodes[0].core, r.nodes[n].core
	whole, err := src.WholeFrom(ctx, r.gid, recent)
	if err != nil {
		r.t.Fatal(err)
	}
	stubs := 0
	for after := (room.Pos{}); ; {
		entries, next, err := src.JoinLog(ctx, r.gid, after, whole, page, 1<<20)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(entries) == 0 {
			break
		}
		for i, err := range dst.AcceptEntries(ctx, entries) {
			if err != nil {
				r.t.Fatalf("partial join: entry %d of a page: %v", i, err)
			}
			if e := entries[i]; e.Raw != nil {
				ev, _ := event.Parse(e.Raw)
				r.have[n][ev.ID()] = true
			} else {
				stubs++
			}
		}
		after = next
	}
	if partial, err := dst.Partial(ctx, r.gid); err != nil || partial != (stubs > 0) {
		r.t.Fatalf("after a join with %d stubs Partial says %v (%v)", stubs, partial, err)
	}
	if h, canon := stateHash(r.t, dst, r.gid); h != mustHash(r, 0) {
		r.t.Fatalf("the partial node's state differs from node 0's:\n%s", canon)
	}
	return n
}

func mustHash(r *replicaRun, n int) [32]byte {
	h, _ := stateHash(r.t, r.nodes[n].core, r.gid)
	return h
}

// backfill brings node n the events node 0 holds, newest first, in pages
// of page events.
func (r *replicaRun) backfill(n, page int) {
	r.t.Helper()
	ctx := context.Background()
	for before := room.End; ; {
		raws, next, err := r.nodes[0].core.Backfill(ctx, r.gid, before, page, 1<<20)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(raws) == 0 {
			break
		}
		for i, err := range r.nodes[n].core.AcceptBatch(ctx, raws) {
			ev, _ := event.Parse(raws[i])
			switch {
			case err == nil:
				r.have[n][ev.ID()] = true
			case !r.have[n][ev.ID()]:
				r.t.Fatalf("backfill of %s (depth %d): %v", ev.ID(), ev.Depth, err)
			}
		}
		before = next
	}
	if partial, err := r.nodes[n].core.Partial(ctx, r.gid); err != nil || partial {
		r.t.Fatalf("after backfill the room is still partial (%v)", err)
	}
}

// restart stops node n's core and starts another on its database.
func (r *replicaRun) restart(n int) {
	r.t.Helper()
	nd := r.nodes[n]
	if err := nd.core.Close(); err != nil {
		r.t.Fatal(err)
	}
	c, err := room.New(nd.db, nd.key, snowflake.NewGenerator(uint16(n+1)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.Close() })
	nd.core = c
}

func runPartialCases(t *testing.T, cases, events int, budget time.Duration, configs func(t *testing.T, n int) []storage.Config) {
	runCases(t, cases, budget, func(t *testing.T, rng *rand.Rand) {
		cfgs := configs(t, replicaNodes+1)
		r := newReplicaRun(t, rng, cfgs[:replicaNodes])
		r.run(events)
		n := r.joinPartially(cfgs[replicaNodes], rng.IntN(20), 1+rng.IntN(16))
		r.run(events / 4)
		r.restart(n) // the stubs, and which are deepest, outlive the core
		r.run(events / 4)
		r.backfill(n, 1+rng.IntN(16))
		r.check(true)
	})
}

func TestPartialJoinConverges(t *testing.T) {
	cases, events, budget := replicaParams()
	runPartialCases(t, cases, events, budget, sqliteNodes)
}

func TestPartialJoinConvergesPostgres(t *testing.T) {
	if os.Getenv(storagetest.EnvPostgres) == "" {
		t.Skip(storagetest.EnvPostgres + " is not set")
	}
	runPartialCases(t, 2, 40, time.Minute, postgresNodes)
}
