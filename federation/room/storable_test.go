package room_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// unstorable are strings each text field refuses, by the kind of field
// (spec/auth-rules.md, "Storable content").
var unstorable = map[string][]string{
	"text":  {"a\x00b", "a\x1bb", "a\x07"},
	"line":  {"a\x00b", "a\tb", "a\nb", "a\u0085b"},
	"emoji": {"a\x00b", "a\tb", "a\u0085b", "a\u202eb", "a\u200bb", "a\u2066b"},
	"name":  {"a\x00b", "a\tb", "a\nb", "a\u0085b", "a\u202eb", "a\u200bb", "a\u200db", "a\u2066b"},
}

// TestUnstorableRemote sends node a events from node b with every refused
// character in every text field, while a's owner posts: each event is
// refused as bad content, and every message beside them is accepted.
func TestUnstorableRemote(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		p := newPair(t, db)
		ctx := context.Background()
		target := p.b.core.NewID()
		created, err := p.b.core.Send(ctx, p.guild, p.member, guild.TypeMessageCreate, guild.MessageCreate{ID: target, ChannelID: p.text, Content: "target"})
		if err != nil {
			t.Fatal(err)
		}
		syncLog(t, p.b.db, p.core, p.guild)

		type field struct {
			kind, typ string
			content   func(s string) any
			auth      string
		}
		str := func(s string) *string { return &s }
		fields := map[string]field{
			"message content": {"text", guild.TypeMessageCreate, func(s string) any { return p.message(s) }, ""},
			"message nonce": {"line", guild.TypeMessageCreate, func(s string) any {
				m := p.message("hi")
				m.Nonce = s
				return m
			}, ""},
			"embed": {"text", guild.TypeMessageCreate, func(s string) any {
				m := p.message("hi")
				e, _ := json.Marshal(map[string]string{"title": s})
				m.Embeds = []json.RawMessage{e}
				return m
			}, ""},
			"file name": {"name", guild.TypeMessageCreate, func(s string) any {
				m := p.message("")
				m.Attachments = []guild.Attachment{{ID: p.b.core.NewID(), Filename: s, Size: 1, Blob: "sha256:x"}}
				return m
			}, ""},
			"edit": {"text", guild.TypeMessageEdit, func(s string) any {
				return guild.MessageEdit{ID: target, ChannelID: p.text, Content: &s}
			}, created.ID()},
			"channel name": {"name", guild.TypeChannelCreate, func(s string) any {
				return guild.ChannelCreate{ID: p.b.core.NewID(), Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &s}}
			}, ""},
			"topic": {"text", guild.TypeChannelUpdate, func(s string) any {
				return guild.ChannelUpdate{ID: p.text, ChannelFields: guild.ChannelFields{Topic: &s}}
			}, ""},
			"role name": {"name", guild.TypeRoleUpdate, func(s string) any {
				return guild.RoleChange{ID: p.mod, RoleFields: guild.RoleFields{Name: &s}}
			}, ""},
			"nick": {"name", guild.TypeMemberUpdate, func(s string) any {
				return guild.MemberUpdate{UserID: p.member, Nick: &s}
			}, ""},
			"guild name": {"name", guild.TypeGuildUpdate, func(s string) any { return guild.GuildUpdate{Name: &s} }, ""},
			"guild description": {"text", guild.TypeGuildUpdate, func(s string) any {
				return guild.GuildUpdate{Name: str("fine name"), Description: &s}
			}, ""},
			"ban reason": {"text", guild.TypeMemberBan, func(s string) any {
				return guild.MemberBan{UserID: p.b.core.NewID(), Reason: s}
			}, ""},
			"reaction": {"emoji", guild.TypeReactionAdd, func(s string) any {
				return guild.Reaction{MessageID: target, ChannelID: p.text, Emoji: guild.Emoji{Name: s}}
			}, created.ID()},
		}
		var wg sync.WaitGroup
		posted := make(chan error, 1000)
		stop := make(chan struct{})
		wg.Add(1)
		go func() { // the owner keeps posting meanwhile
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := p.core.Send(ctx, p.guild, p.owner, guild.TypeMessageCreate,
					guild.MessageCreate{ID: p.core.NewID(), ChannelID: p.text, Content: "meanwhile"})
				posted <- err
			}
		}()
		for name, f := range fields {
			for _, bad := range unstorable[f.kind] {
				ev := p.draft(p.member, f.typ, f.content(bad))
				if f.auth != "" {
					ev.AuthEvents = append(ev.AuthEvents, f.auth)
					slices.Sort(ev.AuthEvents)
				}
				_, err := p.core.Accept(ctx, event.Marshal(signed(t, ev, p.b.key)))
				if !isReason(guild.ReasonBadContent)(err) {
					t.Errorf("%s %q: Accept = %v, want bad_content", name, bad, err)
				}
			}
		}
		close(stop)
		wg.Wait()
		close(posted)
		n := 0
		for err := range posted {
			n++
			if err != nil {
				t.Errorf("a concurrent message failed: %v", err)
			}
		}
		if got := p.count(`SELECT COUNT(*) FROM messages WHERE guild_id = ? AND content = 'meanwhile'`, int64(p.guild)); got != n {
			t.Errorf("%d concurrent messages stored, %d sent", got, n)
		}
	})
}

// poison makes the database refuse to store one message's content, as a
// projection no rule foresaw would fail.
func poison(t *testing.T, db *storage.DB, word string) {
	t.Helper()
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER poison BEFORE INSERT ON messages
		WHEN new.content = '%s' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`, word)}
	if db.Driver() == storage.Postgres {
		stmts = []string{fmt.Sprintf(`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.content = '%s' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$`, word),
			`CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()`}
	}
	if err := db.Write(context.Background(), func(q storage.Querier) error {
		for _, s := range stmts {
			if _, err := q.ExecContext(context.Background(), s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestOneEventFailsAlone poisons one message among many sent at once: its
// batch fails to commit, and then every other message of the batch is
// committed all the same, and only the poisoned one is refused.
func TestOneEventFailsAlone(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		poison(t, db, "poison")
		users := make([]snowflake.ID, 8)
		for i := range users {
			users[i] = f.core.NewID()
			f.join(users[i])
		}
		ctx := context.Background()
		for round := range 5 {
			var wg sync.WaitGroup
			errs := make([]error, 40)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					content := fmt.Sprintf("round %d message %d", round, i)
					if i == 20 {
						content = "poison"
					}
					_, errs[i] = f.core.Send(ctx, f.guild, users[i%len(users)], guild.TypeMessageCreate,
						guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: content})
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if (err == nil) == (i == 20) {
					t.Errorf("round %d: message %d: Send = %v", round, i, err)
				}
			}
		}
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE guild_id = ?`, int64(f.guild)); n != 5*39 {
			t.Errorf("%d messages stored, want %d", n, 5*39)
		}
		// The room goes on from what was stored.
		f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "after"})
	})
}
