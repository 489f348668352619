package clientapi

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
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

// benchGuild is a guild on SQLite with one text channel and n members who
// joined through an invite, each with a token.
func benchGuild(b *testing.B, n int) (*harness, snowflake.ID, snowflake.ID, []string) {
	return benchGuildOn(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "db")}, n)
}

// benchGuildOn is benchGuild on the database cfg names.
func benchGuildOn(b *testing.B, cfg storage.Config, n int) (*harness, snowflake.ID, snowflake.ID, []string) {
	db := storagetest.Open(b, cfg)
	h := newHarness(b, db, func(c *testConfig) {
		c.AuthPerMinute, c.APIPerMinute, c.MessagesPer10s = 1<<30, 1<<30, 1<<30
	})
	owner := h.register("owner")
	g, c := h.core.NewID(), h.core.NewID()
	h.sendAs(g, owner.UserID, guild.TypeGuildCreate, guild.GuildCreate{ID: g, Kind: guild.KindGuild, Name: "bench"})
	name := "general"
	h.sendAs(g, owner.UserID, guild.TypeChannelCreate, guild.ChannelCreate{ID: c, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})
	h.sendAs(g, owner.UserID, guild.TypeInviteCreate, guild.InviteCreate{Code: "bench", ChannelID: c})
	tokens := []string{owner.Token}
	for i := 1; i < n; i++ {
		p := h.register(fmt.Sprint("sender", i))
		h.sendAs(g, p.UserID, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: "bench"})
		tokens = append(tokens, p.Token)
	}
	return h, g, c, tokens
}

func p99(lat []time.Duration) float64 {
	slices.Sort(lat)
	return float64(lat[len(lat)*99/100]) / float64(time.Millisecond)
}

// BenchmarkSendMessage is POST /channels/{id}/messages over HTTP from 50
// concurrent senders, each a different user, into one channel, on each
// backend (goal: ≥ 5,000/s on SQLite, ≥ 4,000/s on PostgreSQL, p99 < 50 ms).
func BenchmarkSendMessage(b *testing.B) {
	for name := range storagetest.Backends(b) {
		// Each run of the benchmark on a database of its own.
		b.Run(name, func(b *testing.B) { benchSend(b, storagetest.Backends(b)[name]) })
	}
}

func benchSend(b *testing.B, cfg storage.Config) {
	const senders = 50
	h, _, c, tokens := benchGuildOn(b, cfg, senders)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	url := h.srv.URL + "/api/v10/channels/" + c.String() + "/messages"
	send := func(token string) error {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"content":"hello, benchmark"}`))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	rate, lat := hammer(b, senders, func(i int) error { return send(tokens[i]) })
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(p99(lat), "p99-ms")
}

// hammer runs b.N calls of do spread over workers goroutines (do's
// argument says which) and returns the calls per second and each call's
// latency; a failed call fails the benchmark.
func hammer(b *testing.B, workers int, do func(worker int) error) (float64, []time.Duration) {
	lat := make([][]time.Duration, workers)
	var next atomic.Int64
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t := time.Now()
				if err := do(i); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	return float64(len(all)) / elapsed.Seconds(), all
}

// BenchmarkHistoryPage is GET /channels/{id}/messages?limit=100 at random
// points of a channel of 100,000 messages (1,000,000 with BENCH=long),
// inserted through the event core (goal: p99 < 5 ms at 1,000,000).
func BenchmarkHistoryPage(b *testing.B) {
	total := 100_000
	if os.Getenv("BENCH") == "long" {
		total = 1_000_000
	}
	h, g, c, tokens := benchGuild(b, 1)
	sender := ownerID(b, h, tokens[0]) // the guild's owner sends every message
	ids := make([]snowflake.ID, total)
	var wg sync.WaitGroup
	var next atomic.Int64
	ctx := context.Background()
	for range 256 { // many writers let the core batch its commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				id := h.core.NewID()
				if _, err := h.core.Send(ctx, g, sender, guild.TypeMessageCreate, guild.MessageCreate{ID: id, ChannelID: c, Content: fmt.Sprint("message ", i)}); err != nil {
					b.Error(err)
					return
				}
				ids[i] = id
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	slices.Sort(ids)
	client := &http.Client{}
	base := h.srv.URL + "/api/v10/channels/" + c.String() + "/messages?limit=100&before="
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		before := ids[100+rand.IntN(total-100)]
		req, _ := http.NewRequest("GET", base+before.String(), nil)
		req.Header.Set("Authorization", tokens[0])
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t))
		if resp.StatusCode != 200 || n < 100*100 {
			b.Fatalf("page: %d, %d bytes", resp.StatusCode, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(p99(lat), "p99-ms")
	b.ReportMetric(float64(total), "messages")
}

func ownerID(b *testing.B, h *harness, token string) snowflake.ID {
	var me struct {
		ID snowflake.ID `json:"id"`
	}
	st, body := h.do("GET", "/users/@me", token, nil)
	h.want(st, 200, body, &me)
	return me.ID
}
