package room_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// memory is the process's resident set and the Go heap in use, after a
// collection has returned what it can to the system.
func memory(b *testing.B) (rss, heap uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Skip("no /proc/self/statm:", err)
	}
	f := strings.Fields(string(statm))
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return pages * uint64(os.Getpagesize()), ms.HeapInuse
}

func idleCore(b *testing.B, db *storage.DB, idle time.Duration) *room.Core {
	return newCore(b, db, newKey(b), room.Options{IdleAfter: idle})
}

// BenchmarkIdleRoomMemory loads 10,000 rooms (5,000 guilds with a channel
// and a message, 5,000 DMs), lets them go idle, and reports what each
// costs the process once idle, and while loaded; then as much again, and
// what each room of the second 10,000 added once idle. The resident set
// includes SQLite's page caches, which grow with the database up to
// cache_size on each connection, whatever the number of rooms; the second
// figure shows what stays per room once they are full. BENCH=long: it
// takes a minute.
func BenchmarkIdleRoomMemory(b *testing.B) {
	if os.Getenv("BENCH") != "long" {
		b.Skip("BENCH=long")
	}
	const rooms = 10000
	db := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "c.db")})
	c := idleCore(b, db, time.Second)
	rssBase, heapBase := memory(b)
	b.ResetTimer()
	loadRooms(b, c, rooms)
	rssLoaded, heapLoaded := memory(b)
	waitIdle(b, c)
	rssIdle, heapIdle := memory(b)
	loadRooms(b, c, rooms)
	waitIdle(b, c)
	rssMore, heapMore := memory(b)
	b.StopTimer()
	per := func(v, base uint64) float64 { return (float64(v) - float64(base)) / rooms }
	b.ReportMetric(per(rssIdle, rssBase), "rss-B/idle-room")
	b.ReportMetric(per(heapIdle, heapBase), "heap-B/idle-room")
	b.ReportMetric(per(rssLoaded, rssBase), "rss-B/loaded-room")
	b.ReportMetric(per(heapLoaded, heapBase), "heap-B/loaded-room")
	b.ReportMetric(per(rssMore, rssIdle), "rss-B/next-idle-room")
	b.ReportMetric(per(heapMore, heapIdle), "heap-B/next-idle-room")
}

// loadRooms makes n rooms at once: every other one a guild with a channel
// and a message, the others DMs.
func loadRooms(b *testing.B, c *room.Core, n int) {
	ctx := context.Background()
	origin := c.Origin().String()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				gid, owner := c.NewID(), c.NewID()
				var err error
				if i%2 == 0 {
					ch, name := c.NewID(), "general"
					_, err = c.SendAll(ctx, gid, owner, []room.Local{
						{Type: guild.TypeGuildCreate, Content: guild.GuildCreate{ID: gid, Kind: guild.KindGuild, Name: "guild"}},
						{Type: guild.TypeChannelCreate, Content: guild.ChannelCreate{ID: ch, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}}},
					})
					if err == nil {
						_, err = c.Send(ctx, gid, owner, guild.TypeMessageCreate, guild.MessageCreate{ID: c.NewID(), ChannelID: ch, Content: "hello"})
					}
				} else {
					_, err = c.Send(ctx, gid, owner, guild.TypeGuildCreate, guild.GuildCreate{ID: gid, Kind: guild.KindDM,
						Recipients: []guild.Recipient{{UserID: owner, Origin: origin}, {UserID: c.NewID(), Origin: origin}}})
				}
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

func waitIdle(b *testing.B, c *room.Core) {
	for deadline := time.Now().Add(time.Minute); c.Loaded() > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d rooms still loaded", c.Loaded())
		}
	}
}

// BenchmarkMillionEventGuild fills one guild with 1,000,000 events (10,000
// members joining, each posting 99 messages), then loads it afresh in a
// new core: it reports the time to load it and what the loaded room adds
// to the process, and again after a send touched its caches; then the time
// to purge one deleted message from the database files (merging the text
// index of 990,000 messages). BENCH=long.
func BenchmarkMillionEventGuild(b *testing.B) {
	if os.Getenv("BENCH") != "long" {
		b.Skip("BENCH=long")
	}
	const members, posts = 10000, 99
	db := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "c.db")})
	key := newKey(b)
	f := fixtureOn(&testing.T{}, db, newCore(b, db, key))
	ctx := context.Background()
	var wg sync.WaitGroup
	work := make(chan snowflake.ID)
	code := "million"
	f.send(f.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: code, ChannelID: f.text})
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for user := range work {
				if _, err := f.core.Send(ctx, f.guild, user, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: code}); err != nil {
					b.Error(err)
					return
				}
				for range posts {
					if _, err := f.core.Send(ctx, f.guild, user, guild.TypeMessageCreate,
						guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "a message of the million"}); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	for range members {
		work <- f.core.NewID()
	}
	close(work)
	wg.Wait()
	f.core.Close()

	c := newCore(b, db, key) // the same node, started again
	rssBase, heapBase := memory(b)
	b.ResetTimer()
	start := time.Now()
	if err := c.View(ctx, f.guild, func(s *guild.State) error { return nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "load-ms")
	rss, heap := memory(b)
	if _, err := c.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
		guild.MessageCreate{ID: c.NewID(), ChannelID: f.text, Content: "one more"}); err != nil {
		b.Fatal(err)
	}
	rssSent, heapSent := memory(b)
	var first int64
	if err := db.Reader().QueryRowContext(ctx, `SELECT MIN(id) FROM messages WHERE guild_id = ?`, int64(f.guild)).Scan(&first); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Send(ctx, f.guild, f.owner, guild.TypeMessageDelete,
		guild.MessageTarget{ID: snowflake.ID(first), ChannelID: f.text}); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if err := db.Purge(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "purge-ms")
	b.StopTimer()
	mib := func(v, base uint64) float64 { return (float64(v) - float64(base)) / (1 << 20) }
	b.ReportMetric(mib(rss, rssBase), "rss-MiB-loaded")
	b.ReportMetric(mib(heap, heapBase), "heap-MiB-loaded")
	b.ReportMetric(mib(rssSent, rssBase), "rss-MiB-after-send")
	b.ReportMetric(mib(heapSent, heapBase), "heap-MiB-after-send")
}
