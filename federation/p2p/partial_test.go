package p2p_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"concord/federation/guild"
	"concord/federation/p2p"
	"concord/federation/snowflake"
)

// A node joins a guild with a long history with partial state: it holds
// the state and the newest events at once, its user can write, and
// backfill brings the rest newest first, across a restart, until its
// messages are the joined node's, edits and deletes of old messages
// included.
func TestPartialJoinAndBackfill(t *testing.T) {
	defer p2p.SetJoinRecent(20)()
	for _, driver := range drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, b := newMember(t, driver, "a", 1), newMember(t, driver, "b", 2)
			connect(t, b, a)
			g := newGuild(t, a)
			var old []string
			for i := range 300 {
				old = append(old, message(t, a, g, g.owner, fmt.Sprint("old ", i)))
			}
			ids := messageIDs(t, a, g.id)
			edited := "edited long after"
			a.send(t, g.id, g.owner, guild.TypeMessageEdit, guild.MessageEdit{ID: ids[3], ChannelID: g.channel, Content: &edited})
			a.send(t, g.id, g.owner, guild.TypeMessageDelete, guild.MessageTarget{ID: ids[5], ChannelID: g.channel})
			a.send(t, g.id, g.owner, guild.TypePinAdd, guild.Pin{MessageID: ids[7], ChannelID: g.channel})
			newest := message(t, a, g, g.owner, "newest")

			user := join(t, b, g)
			if !b.holds(g.id, newest) {
				t.Fatal("the newest message is not there right after the join")
			}
			said := message(t, b, g, user, "hello from b")
			waitFor(t, "a to hear b", func() bool { return a.holds(g.id, said) })

			b.stop()
			b = startMember(t, "b", b.key, b.db, b.worker)
			connect(t, b, a)
			waitFor(t, "backfill", func() bool {
				partial, err := b.core.Partial(ctx, g.id)
				return err == nil && !partial && b.holds(g.id, old...)
			})
			want, got := messagesOf(t, a, g.id), messagesOf(t, b, g.id)
			if !slices.Equal(want, got) {
				t.Fatalf("b's messages after backfill differ from a's:\n%v\n%v", got, want)
			}
			converged(t, g.id, a, b)
		})
	}
}

// messageIDs lists a guild's message IDs on m, oldest first.
func messageIDs(t *testing.T, m *member, gid snowflake.ID) []snowflake.ID {
	t.Helper()
	rows, err := m.db.Reader().QueryContext(context.Background(), `SELECT id FROM messages WHERE guild_id = ? ORDER BY id`, int64(gid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []snowflake.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, snowflake.ID(id))
	}
	return out
}

// messagesOf renders every message row of a guild on m.
func messagesOf(t *testing.T, m *member, gid snowflake.ID) []string {
	t.Helper()
	rows, err := m.db.Reader().QueryContext(context.Background(), `SELECT id, content, deleted, hidden, pinned, edited_at
		FROM messages WHERE guild_id = ? ORDER BY id`, int64(gid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, edited int64
		var content string
		var deleted, hidden, pinned bool
		if err := rows.Scan(&id, &content, &deleted, &hidden, &pinned, &edited); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(id, content, deleted, hidden, pinned, edited))
	}
	return out
}
