package room_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/storage"
	"concord/storage/storagetest"
)

// BenchmarkLocalSend measures local events accepted per second on SQLite:
// build, sign, auth and commit of message.create from 256 concurrent senders
// into one guild.
func BenchmarkLocalSend(b *testing.B) {
	db := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "c.db")})
	f := newFixture(&testing.T{}, db)
	ctx := context.Background()
	const senders = 256
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
					guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "benchmark message"}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkRemoteAccept measures events from another node parsed, verified,
// checked and committed per second on SQLite.
func BenchmarkRemoteAccept(b *testing.B) {
	src := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "src.db")})
	f := newFixture(&testing.T{}, src)
	ctx := context.Background()
	var raws [][]byte
	rows, err := src.Reader().QueryContext(ctx, `SELECT body FROM events ORDER BY seq`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var body []byte
		rows.Scan(&body)
		raws = append(raws, body)
	}
	rows.Close()
	for range b.N {
		ev, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
			guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "benchmark message"})
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, event.Marshal(ev))
	}
	dst := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "dst.db")})
	core := newCore(b, dst, newKey(b))
	for _, raw := range raws[:2] {
		if _, err := core.Accept(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
	raws = raws[2:]
	b.ResetTimer()
	start := time.Now()
	for i, err := range core.AcceptBatch(ctx, raws) {
		if err != nil {
			b.Fatalf("event %d: %v", i, err)
		}
	}
	b.ReportMetric(float64(len(raws))/time.Since(start).Seconds(), "events/s")
}
