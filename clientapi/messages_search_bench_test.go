package clientapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// BenchmarkMessageSearch searches a guild of 100,000 messages (1,000,000
// with BENCH=long) in 10 channels, written through the event core by 64
// concurrent senders: each op is one GET /messages/search over HTTP for
// one or two words of a 5,000-word vocabulary (each word is in about one
// message in 500), on every backend. It reports the p99 latency.
func BenchmarkMessageSearch(b *testing.B) {
	total := 100_000
	if os.Getenv("BENCH") == "long" {
		total = 1_000_000
	}
	for name, cfg := range storagetest.Backends(b) {
		b.Run(fmt.Sprintf("%s/%d", name, total), func(b *testing.B) {
			h := newHarness(b, storagetest.Open(b, cfg), func(c *testConfig) { c.APIPerMinute = 1 << 30 })
			f := newChat(h)
			vocab := make([]string, 5000)
			for i := range vocab {
				vocab[i] = fmt.Sprintf("w%dx", i)
			}
			channels := []snowflake.ID{f.c}
			for i := range 9 {
				id, name := h.core.NewID(), fmt.Sprintf("c%d", i)
				h.sendAs(f.g, f.owner.UserID, guild.TypeChannelCreate, guild.ChannelCreate{ID: id, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})
				channels = append(channels, id)
			}
			start := time.Now()
			fillMessages(b, h, f, channels, vocab, total)
			b.Logf("%d messages written through the event core in %v", total, time.Since(start).Round(time.Millisecond))
			if name == storage.Postgres {
				// What autovacuum does soon after a bulk load; without it the
				// planner thinks the table empty and skips the GIN index.
				if err := h.db.Write(context.Background(), func(q storage.Querier) error {
					_, err := q.ExecContext(context.Background(), `ANALYZE messages`)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}

			rng := rand.New(rand.NewPCG(1, 2))
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				words := vocab[rng.IntN(len(vocab))]
				if rng.IntN(4) == 0 {
					words += " " + vocab[rng.IntN(len(vocab))]
				}
				t0 := time.Now()
				st, body := h.do("GET", "/guilds/"+f.g.String()+"/messages/search?"+url.Values{"content": {words}}.Encode(), f.other.Token, nil)
				lat = append(lat, time.Since(t0))
				if st != 200 {
					b.Fatalf("search: %d %s", st, body)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// fillMessages sends total messages of ten random words through
// core.Send from 64 goroutines, so that the room's writer batches them.
func fillMessages(b *testing.B, h *harness, f chatFixture, channels []snowflake.ID, vocab []string, total int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			author := f.owner.UserID
			if w%2 == 1 {
				author = f.other.UserID
			}
			words := make([]string, 10)
			for next.Add(1) <= int64(total) {
				for i := range words {
					words[i] = vocab[rng.IntN(len(vocab))]
				}
				_, err := h.core.Send(context.Background(), f.g, author, guild.TypeMessageCreate, guild.MessageCreate{
					ID: h.core.NewID(), ChannelID: channels[rng.IntN(len(channels))], Content: strings.Join(words, " ")})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}
