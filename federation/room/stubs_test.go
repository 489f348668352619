package room_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// joinAll takes every entry of f's room from f into c, with the newest
// recent events whole, and returns the entries.
func joinAll(t *testing.T, f *fixture, c *room.Core, recent int) []room.Entry {
	return joinFrom(t, f.core, f.guild, c, recent)
}

// joinFrom takes every entry of room gid from src into dst, with the
// newest recent events whole, and returns the entries.
func joinFrom(t *testing.T, src *room.Core, gid snowflake.ID, dst *room.Core, recent int) []room.Entry {
	t.Helper()
	ctx := context.Background()
	whole, err := src.WholeFrom(ctx, gid, recent)
	if err != nil {
		t.Fatal(err)
	}
	var all []room.Entry
	for after := (room.Pos{}); ; {
		entries, next, err := src.JoinLog(ctx, gid, after, whole, 3, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			return all
		}
		for i, err := range dst.AcceptEntries(ctx, entries) {
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
		}
		all, after = append(all, entries...), next
	}
}

// A partial room takes only stubs that could be true, fills only its
// deepest stubs, refuses an event its stub misdescribed, and passes its
// stubs on to a node joining through it.
func TestStubsChecked(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		member := f.core.NewID()
		f.join(member)
		var msgs []string
		for i := range 4 {
			msgs = append(msgs, f.send(member, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text,
				Content: fmt.Sprint("old ", i)}))
		}
		f.send(member, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "newest"})
		other := newNode(t, secondConfig(t, db), 9)
		var one *room.Stub
		stubs := 0
		for _, e := range joinAll(t, f, other.core, 1) {
			if e.Stub != nil {
				stubs++
				one = e.Stub
			}
		}
		if stubs != len(msgs) {
			t.Fatalf("%d stubs, want one per old message (%d)", stubs, len(msgs))
		}
		// A third node joins through the partial one, which passes its
		// stubs on, and backfills from the first.
		third := newNode(t, secondConfig(t, db), 11)
		if got := joinFrom(t, other.core, f.guild, third.core, 1); len(got) != len(joinAll(t, f, newNode(t, secondConfig(t, db), 12).core, 1)) {
			t.Fatalf("a join through the partial node carried %d entries", len(got))
		}
		if h, _ := stateHash(t, third.core, f.guild); h != mustHashOf(t, f) {
			t.Fatal("the third node's state differs")
		}
		for before := room.End; ; {
			raws, next, err := f.core.Backfill(ctx, f.guild, before, 2, 1<<20)
			if err != nil || len(raws) == 0 {
				break
			}
			third.core.AcceptBatch(ctx, raws)
			before = next
		}
		if partial, err := third.core.Partial(ctx, f.guild); err != nil || partial {
			t.Fatalf("the third node is still partial after backfill (%v)", err)
		}
		if d := diffDumps(dump(t, f.db, f.guild), dump(t, third.db, f.guild)); d != "" {
			t.Errorf("the third node differs after backfill:\n%s", d)
		}

		bad := func(change func(s *room.Stub)) room.Entry {
			s := *one
			s.ID = fakeEventID()
			change(&s)
			return room.Entry{Stub: &s}
		}
		for name, e := range map[string]room.Entry{
			"known event":          {Stub: one},
			"state type":           bad(func(s *room.Stub) { s.Type = guild.TypeMemberBan; s.Message, s.Channel = 0, 0 }),
			"unknown state parent": bad(func(s *room.Stub) { s.StateParents = []string{fakeEventID()} }),
			"not an event ID":      bad(func(s *room.Stub) { s.ID = "$short" }),
			"message without ID":   bad(func(s *room.Stub) { s.Message = 0 }),
			"another guild":        bad(func(s *room.Stub) { s.GuildID++ }),
		} {
			if err := other.core.AcceptEntries(ctx, []room.Entry{e})[0]; err == nil {
				t.Errorf("%s: stub taken", name)
			}
		}

		raws, err := f.core.Events(ctx, f.guild, msgs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.core.Accept(ctx, raws[msgs[0]]); !errors.Is(err, room.ErrMissingEvents) {
			t.Errorf("the oldest stub filled while deeper ones wait: %v", err)
		}
		for i := len(msgs) - 1; i >= 0; i-- {
			if _, err := other.core.Accept(ctx, raws[msgs[i]]); err != nil {
				t.Fatalf("fill %d: %v", i, err)
			}
		}
		if partial, err := other.core.Partial(ctx, f.guild); err != nil || partial {
			t.Fatalf("still partial after every stub was filled (%v)", err)
		}
		if got := dumpQuery(t, other.db, `SELECT content FROM messages WHERE guild_id = ?`, int64(f.guild)); len(got) != len(msgs)+1 {
			t.Fatalf("messages after backfill: %v", got)
		}

		// A stub that names another sender: its event is refused.
		liar := newNode(t, secondConfig(t, db), 10)
		entries, _, err := f.core.JoinLog(ctx, f.guild, room.Pos{}, math.MaxInt64, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Stub != nil && e.Stub.ID == msgs[len(msgs)-1] {
				e.Stub.Sender = f.owner
			}
		}
		for i, err := range liar.core.AcceptEntries(ctx, entries) {
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
		}
		var rej *guild.Rejection
		if _, err := liar.core.Accept(ctx, raws[msgs[len(msgs)-1]]); !errors.As(err, &rej) || rej.Reason != guild.ReasonBadContent {
			t.Fatalf("an event its stub misdescribed: %v", err)
		}
	})
}

func mustHashOf(t *testing.T, f *fixture) [32]byte {
	h, _ := stateHash(t, f.core, f.guild)
	return h
}

// A room still partial rebuilds to the same projections: stubs stay, the
// tombstone of an old message deleted before backfill brought it comes
// back, and backfill goes on after.
func TestRebuildPartialRoom(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		var ids []snowflake.ID
		var evs []string
		for i := range 6 {
			ids = append(ids, f.core.NewID())
			evs = append(evs, f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: ids[i], ChannelID: f.text,
				Content: fmt.Sprint("old ", i)}))
		}
		other := newNode(t, secondConfig(t, db), 9)
		joinAll(t, f, other.core, 1)
		later := []string{
			f.send(f.owner, guild.TypeMessageDelete, guild.MessageTarget{ID: ids[1], ChannelID: f.text}),
			f.send(f.owner, guild.TypeReactionAdd, guild.Reaction{MessageID: ids[2], ChannelID: f.text, Emoji: guild.Emoji{Name: "👍"}}),
		}
		raws, err := f.core.Events(ctx, f.guild, append(later, evs...))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range later {
			if _, err := other.core.Accept(ctx, raws[id]); err != nil {
				t.Fatal(err)
			}
		}
		before := dump(t, other.db, f.guild)
		if err := other.core.Rebuild(ctx, f.guild); err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		if d := diffDumps(before, dump(t, other.db, f.guild)); d != "" {
			t.Errorf("projections differ after rebuilding a partial room:\n%s", d)
		}
		for i := len(evs) - 2; i >= 0; i-- { // the newest was whole
			if _, err := other.core.Accept(ctx, raws[evs[i]]); err != nil {
				t.Fatalf("fill %d after the rebuild: %v", i, err)
			}
		}
		if d := diffDumps(dump(t, f.db, f.guild), dump(t, other.db, f.guild)); d != "" {
			t.Errorf("after backfill the nodes differ:\n%s", d)
		}
	})
}
