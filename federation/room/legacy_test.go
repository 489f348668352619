package room_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestLoggedEventsTodaysRulesRefuse writes into a guild's log, as a node of
// older rules would have accepted them, a message with a bell in it and a
// nick with a bidi override: the room loads with them, takes events on top
// of them, and rebuilds, and neither has any effect (spec/accept.md,
// "Events today's rules refuse").
func TestLoggedEventsTodaysRulesRefuse(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		key := newKey(t)
		f := fixtureOn(t, db, newCore(t, db, key, room.Options{IdleAfter: 20 * time.Millisecond}))
		before, _ := stateHash(t, f.core, f.guild)
		waitUnloaded(t, f.core)

		legacy := f.core.NewID()
		logAsOlderNode(t, f, key, guild.TypeMessageCreate, guild.MessageCreate{ID: legacy, ChannelID: f.text, Content: "ring \x07"})
		nick := "a\u202eb"
		logAsOlderNode(t, f, key, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: f.owner, Nick: &nick})

		after := f.core.NewID()
		f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: after, ChannelID: f.text, Content: "after"})
		if h, _ := stateHash(t, f.core, f.guild); h != before {
			t.Error("the refused nick took effect on load")
		}
		if err := f.core.Rebuild(ctx, f.guild); err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		if h, _ := stateHash(t, f.core, f.guild); h != before {
			t.Error("the refused nick took effect in the rebuild")
		}
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE guild_id = ? AND id = ?`, int64(f.guild), int64(legacy)); n != 0 {
			t.Error("the refused message is projected after the rebuild")
		}
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE guild_id = ? AND id = ?`, int64(f.guild), int64(after)); n != 1 {
			t.Error("the message after them is not projected")
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE guild_id = ? AND action = ?`, int64(f.guild), guild.TypeMemberUpdate); n != 0 {
			t.Error("the refused nick is in the audit log")
		}
		if n := f.count(`SELECT COUNT(*) FROM events WHERE guild_id = ?`, int64(f.guild)); n != 5 {
			t.Errorf("the log holds %d events, want 5", n)
		}
		f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "and on"})
	})
}

// logAsOlderNode signs an event of the fixture's owner on top of the
// guild's heads and writes it straight into the log, past today's rules.
func logAsOlderNode(t *testing.T, f *fixture, key crypto.PrivKey, typ string, content any) {
	t.Helper()
	ctx := context.Background()
	body, err := json.Marshal(content)
	if err != nil {
		t.Fatal(err)
	}
	var create, lastState string
	var rank int64
	if err := f.db.Reader().QueryRowContext(ctx, `SELECT event_id FROM events WHERE guild_id = ? AND type = ?`,
		int64(f.guild), guild.TypeGuildCreate).Scan(&create); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Reader().QueryRowContext(ctx, `SELECT event_id, auth_rank FROM events WHERE guild_id = ? AND is_state
		ORDER BY seq DESC LIMIT 1`, int64(f.guild)).Scan(&lastState, &rank); err != nil {
		t.Fatal(err)
	}
	prevs, depth := headsOf(t, f.db, f.guild)
	ev := signed(t, &event.Event{GuildID: f.guild, Type: typ, Sender: f.owner, OriginTS: time.Now().UnixMilli(),
		PrevEvents: prevs, AuthEvents: []string{create}, Depth: depth, Content: body}, key)
	state := guild.IsState(typ)
	if err := f.db.Write(ctx, func(q storage.Querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO events (event_id, guild_id, type, sender, origin_ts, depth,
			is_state, state_parents, auth_rank, target_id, redacted, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			ev.ID(), int64(f.guild), typ, int64(f.owner), ev.OriginTS, depth, state, lastState, rank, false, event.Marshal(ev)); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM guild_extremities WHERE guild_id = ?`, int64(f.guild)); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO guild_extremities (guild_id, event_id) VALUES (?, ?)`, int64(f.guild), ev.ID())
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
