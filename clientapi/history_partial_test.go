package clientapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestHistoryWaitsForBackfill: on a node that joined a guild with partial
// state, a page of older messages that backfill has not brought yet waits
// for it rather than coming back short, which a client would take for the
// start of the channel.
func TestHistoryWaitsForBackfill(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		// The guild lives on another node's core.
		key, _, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			t.Fatal(err)
		}
		other, err := room.New(storagetest.Open(t, storagetest.Backends(t)[db.Driver()]), key, snowflake.NewGenerator(7),
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		gid, owner, ch := other.NewID(), other.NewID(), other.NewID()
		name, code := "general", "history"
		for _, e := range []struct {
			typ     string
			content any
		}{
			{guild.TypeGuildCreate, guild.GuildCreate{ID: gid, Kind: guild.KindGuild, Name: "old guild"}},
			{guild.TypeChannelCreate, guild.ChannelCreate{ID: ch, ChannelFields: guild.ChannelFields{Name: &name}}},
			{guild.TypeInviteCreate, guild.InviteCreate{Code: code, ChannelID: ch}},
		} {
			if _, err := other.Send(ctx, gid, owner, e.typ, e.content); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 30 {
			if _, err := other.Send(ctx, gid, owner, guild.TypeMessageCreate, guild.MessageCreate{ID: other.NewID(), ChannelID: ch,
				Content: fmt.Sprint("message ", i)}); err != nil {
				t.Fatal(err)
			}
		}

		// This node joins it with the newest 5 events whole.
		h := newHarness(t, db)
		whole, err := other.WholeFrom(ctx, gid, 5)
		if err != nil {
			t.Fatal(err)
		}
		for after := (room.Pos{}); ; {
			entries, next, err := other.JoinLog(ctx, gid, after, whole, 100, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) == 0 {
				break
			}
			for i, err := range h.core.AcceptEntries(ctx, entries) {
				if err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
			}
			after = next
		}
		reader := h.register("reader")
		if _, err := h.core.Send(ctx, gid, reader.UserID, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: code}); err != nil {
			t.Fatal(err)
		}

		// Backfill comes a moment after the page is asked for.
		const delay = 300 * time.Millisecond
		go func() {
			time.Sleep(delay)
			for before := room.End; ; {
				raws, next, err := other.Backfill(ctx, gid, before, 10, 1<<20)
				if err != nil || len(raws) == 0 {
					return
				}
				h.core.AcceptBatch(ctx, raws)
				before = next
			}
		}()
		start := time.Now()
		var page []struct{ Content string }
		st, b := h.do("GET", fmt.Sprintf("/channels/%s/messages?limit=20", ch), reader.Token, nil)
		h.want(st, 200, b, &page)
		if len(page) != 20 || page[19].Content != "message 10" {
			t.Fatalf("a page of %d messages, the last %+v; want 20 down to message 10", len(page), page[len(page)-1])
		}
		if took := time.Since(start); took < delay {
			t.Fatalf("the page came in %v, before backfill began", took)
		}
	})
}
