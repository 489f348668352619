package room_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"concord/federation/guild"
	"concord/storage"
	"concord/storage/storagetest"
)

// A commit that fails answers its callers with an error, never leaves them
// waiting, and the room is reloaded from storage afterwards.
func TestFailedCommitAnswers(t *testing.T) {
	dir := t.TempDir()
	cfg := storage.Config{Driver: storage.SQLite, DSN: filepath.Join(dir, "c.db")}
	db := storagetest.Open(t, cfg)
	f := newFixture(t, db)
	db.Close() // every write from now on fails

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 3 {
		_, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
			guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "lost"})
		if err == nil {
			t.Fatalf("send %d after the database closed succeeded", i)
		}
		if ctx.Err() != nil {
			t.Fatalf("send %d waited for its context: %v", i, err)
		}
	}
}
