package room_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"concord/federation/guild"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestErasureLeavesNoTrace deletes one message and erases another by a
// ban's window, purges, and reads every file of the data directory: no
// word of the erased messages is left in any, lower-case (as the text
// index keeps words) or as written, while a message that stays is found.
func TestErasureLeavesNoTrace(t *testing.T) {
	dir := t.TempDir()
	db := storagetest.Open(t, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(dir, "concord.db")})
	f := newFixture(t, db)
	ctx := context.Background()
	spammer := f.core.NewID()
	f.join(spammer)
	deleted, banned := f.core.NewID(), f.core.NewID()
	f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: deleted, ChannelID: f.text, Content: "Zorbulate the Quixotrix"})
	f.send(spammer, guild.TypeMessageCreate, guild.MessageCreate{ID: banned, ChannelID: f.text, Content: "Flumpernickel wobbletrons"})
	f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "Keepsakeword stays"})
	for i := range 200 { // enough for the text index to hold several segments
		f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: strings.Repeat("filler ", i%7+1)})
	}
	f.send(f.owner, guild.TypeMessageDelete, guild.MessageTarget{ID: deleted, ChannelID: f.text})
	f.send(f.owner, guild.TypeMemberBan, guild.MemberBan{UserID: spammer, DeleteMessageSeconds: 3600})
	if err := db.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, e := range files {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"zorbulate", "quixotrix", "Zorbulate", "Quixotrix", "flumpernickel", "wobbletrons",
			"Flumpernickel", "keepsakeword", "Keepsakeword"} {
			if bytes.Contains(b, []byte(w)) {
				found[w] = true
			}
		}
	}
	for w := range found {
		if !strings.HasPrefix(strings.ToLower(w), "keepsake") {
			t.Errorf("%q of an erased message is still in the data directory", w)
		}
	}
	if !found["keepsakeword"] || !found["Keepsakeword"] {
		t.Errorf("the control word was not found (%v): the search is blind", found)
	}
}
