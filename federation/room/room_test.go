package room_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// fixture is a node's event core on a real database with one guild.
type fixture struct {
	t     *testing.T
	db    *storage.DB
	core  *room.Core
	guild snowflake.ID
	owner snowflake.ID
	text  snowflake.ID
}

func newKey(t testing.TB) crypto.PrivKey {
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCore(t testing.TB, store room.Store, key crypto.PrivKey, opts ...room.Options) *room.Core {
	origin, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ids := snowflake.NewGenerator(snowflake.WorkerFor([]byte(origin)))
	c, err := room.New(store, key, ids, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newFixture(t *testing.T, db *storage.DB) *fixture {
	return fixtureOn(t, db, newCore(t, db, newKey(t)))
}

// fixtureOn makes the fixture's guild with core c.
func fixtureOn(t *testing.T, db *storage.DB, c *room.Core) *fixture {
	f := &fixture{t: t, db: db, core: c}
	f.guild, f.owner = f.core.NewID(), f.core.NewID()
	f.send(f.owner, guild.TypeGuildCreate, guild.GuildCreate{ID: f.guild, Kind: guild.KindGuild, Name: "test guild"})
	f.text = f.core.NewID()
	name := "general"
	f.send(f.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: f.text, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})
	return f
}

func (f *fixture) send(sender snowflake.ID, typ string, content any) string {
	f.t.Helper()
	ev, err := f.core.Send(context.Background(), f.guild, sender, typ, content)
	if err != nil {
		f.t.Fatalf("send %s: %v", typ, err)
	}
	return ev.ID()
}

func (f *fixture) join(user snowflake.ID) {
	f.t.Helper()
	code := "c" + f.core.NewID().String()
	f.send(f.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: code, ChannelID: f.text})
	f.send(user, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: code})
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Reader().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestMessagesAndProjections(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		member := f.core.NewID()
		f.join(member)
		msg := f.core.NewID()
		f.send(member, guild.TypeMessageCreate, guild.MessageCreate{ID: msg, ChannelID: f.text, Content: "hello"})
		edited := "hello, edited"
		f.send(member, guild.TypeMessageEdit, guild.MessageEdit{ID: msg, ChannelID: f.text, Content: &edited})
		f.send(f.owner, guild.TypeReactionAdd, guild.Reaction{MessageID: msg, ChannelID: f.text, Emoji: guild.Emoji{Name: "👍"}})
		f.send(f.owner, guild.TypePinAdd, guild.Pin{MessageID: msg, ChannelID: f.text})

		var content string
		var pinned bool
		if err := db.Reader().QueryRowContext(context.Background(), `SELECT content, pinned FROM messages WHERE id = ?`, int64(msg)).Scan(&content, &pinned); err != nil {
			t.Fatal(err)
		}
		if content != edited || !pinned {
			t.Fatalf("message = %q pinned %v", content, pinned)
		}
		if n := f.count(`SELECT COUNT(*) FROM reactions WHERE message_id = ? AND present = TRUE`, int64(msg)); n != 1 {
			t.Fatalf("reactions = %d", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM guild_members WHERE guild_id = ?`, int64(f.guild)); n != 2 {
			t.Fatalf("members = %d", n)
		}

		// A member without MANAGE_MESSAGES may not delete another's message.
		other := f.core.NewID()
		f.join(other)
		_, err := f.core.Send(context.Background(), f.guild, other, guild.TypeMessageDelete, guild.MessageTarget{ID: msg, ChannelID: f.text})
		var rej *guild.Rejection
		if !errors.As(err, &rej) || rej.Reason != guild.ReasonMissingPerm {
			t.Fatalf("delete by other = %v", err)
		}
		f.send(member, guild.TypeMessageDelete, guild.MessageTarget{ID: msg, ChannelID: f.text})
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE id = ? AND deleted = TRUE AND content = ''`, int64(msg)); n != 1 {
			t.Fatal("deleted message kept its content")
		}
		if n := f.count(`SELECT COUNT(*) FROM events WHERE target_id = ? AND redacted = FALSE AND type IN ('message.create', 'message.edit')`, int64(msg)); n != 0 {
			t.Fatalf("%d message events not redacted", n)
		}
	})
}

func TestDeletedTextLeavesTheDatabaseFiles(t *testing.T) {
	dir := t.TempDir()
	db := storagetest.Open(t, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(dir, "concord.db")})
	f := newFixture(t, db)
	secret := "the launch code is 0451-swordfish"
	msg := f.core.NewID()
	f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: msg, ChannelID: f.text, Content: secret})
	edited := secret + " (edited)"
	f.send(f.owner, guild.TypeMessageEdit, guild.MessageEdit{ID: msg, ChannelID: f.text, Content: &edited})
	if !filesContain(t, dir, secret) {
		t.Fatal("test is broken: the text was never in the files")
	}
	f.send(f.owner, guild.TypeMessageDelete, guild.MessageTarget{ID: msg, ChannelID: f.text})
	f.core.Close()
	db.Close()
	if filesContain(t, dir, secret) {
		t.Fatal("a deleted message's text is still in the database files")
	}
}

func filesContain(t *testing.T, dir, text string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(text)) {
			return true
		}
	}
	return false
}
