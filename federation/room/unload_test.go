package room_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/storage"
	"concord/storage/storagetest"
)

// idleFixture is a fixture whose rooms unload after idle.
func idleFixture(t *testing.T, db *storage.DB, idle time.Duration) *fixture {
	return fixtureOn(t, db, newCore(t, db, newKey(t), room.Options{IdleAfter: idle}))
}

func waitUnloaded(t *testing.T, c *room.Core) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.Loaded() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rooms still loaded", c.Loaded())
		}
	}
}

// An idle room unloads, and loads again on demand with the same state,
// byte for byte, and goes on taking events.
func TestIdleRoomsUnloadAndReload(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := idleFixture(t, db, 50*time.Millisecond)
		busyGuild(t, f, true, true)
		before, canon := stateHash(t, f.core, f.guild)
		waitUnloaded(t, f.core)
		if after, again := stateHash(t, f.core, f.guild); after != before {
			t.Fatalf("reloaded state differs:\n%s\nwas\n%s", again, canon)
		}
		checkRebuild(t, f)
	})
}

// Sends racing the unload of their room all succeed, once each.
func TestSendsRaceUnload(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := idleFixture(t, db, time.Millisecond)
		ctx := context.Background()
		var wg sync.WaitGroup
		const senders, each = 8, 25
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					time.Sleep(time.Duration(i%3) * time.Millisecond)
					if _, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
						guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "racing"}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE guild_id = ?`, int64(f.guild)); n != senders*each {
			t.Errorf("%d messages stored, want %d", n, senders*each)
		}
	})
}
