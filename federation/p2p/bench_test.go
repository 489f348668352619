package p2p_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
)

// BenchmarkPropagation measures how long a message takes from its send on
// one node to its commit on each other node of a loopback cluster (5
// nodes, 10 with BENCH=long; CONCORD_BENCH_NODES sets 3–10), each
// connected to its two neighbours on a ring and one node across. It reports the median and the
// 99th percentile over every (message, receiving node) pair.
func BenchmarkPropagation(b *testing.B) {
	n := 5
	if os.Getenv("BENCH") == "long" {
		n = 10
	}
	if s := os.Getenv("CONCORD_BENCH_NODES"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v >= 3 && v <= 10 {
			n = v
		}
	}
	nodes := newCluster(b, storage.SQLite, n)
	for i, m := range nodes {
		connect(b, m, nodes[(i+1)%n])
		if across := (i + n/2) % n; across != i && n > 3 {
			connect(b, m, nodes[across])
		}
	}
	g := newGuild(b, nodes[0])
	users := []snowflake.ID{g.owner}
	for i, m := range nodes[1:] {
		u := join(b, m, g)
		users = append(users, u)
		waitFor(b, "the guild's nodes to admit "+m.name, func() bool {
			for _, o := range nodes[:i+2] {
				if !o.isMember(g.id, u) {
					return false
				}
			}
			return true
		})
	}

	var (
		mu      sync.Mutex
		arrived = map[string]int{}
		sentAt  = map[string]time.Time{}
		lat     []time.Duration
		done    = make(chan string, 1)
	)
	for _, m := range nodes {
		unsub := m.core.Subscribe(func(a *room.Accepted) {
			if a.Event.Origin == m.core.Origin() {
				return
			}
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			id := a.Event.ID()
			lat = append(lat, now.Sub(sentAt[id]))
			if arrived[id]++; arrived[id] == n-1 {
				done <- id
			}
		})
		b.Cleanup(unsub)
	}
	b.ResetTimer()
	for i := range b.N {
		from := i % n
		mu.Lock() // so that no arrival is timed before its send is noted
		start := time.Now()
		id := message(b, nodes[from], g, users[from], "ping "+strconv.Itoa(i))
		sentAt[id] = start
		mu.Unlock()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("message %d never reached every node", i)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.Logf("%d nodes, %d deliveries: p50 %v, p99 %v", n, len(lat), p50, p99)
}

// BenchmarkHealPartition measures convergence after a partition: c is cut
// off from a three-node line while 1000 messages are written on each side
// (100 with -short), then the link returns, and the clock runs until all
// three hold identical state and every message.
func BenchmarkHealPartition(b *testing.B) {
	per := 1000
	if testing.Short() {
		per = 100
	}
	for range b.N {
		b.StopTimer()
		a, mid, c, g, _, uc := line(b, storage.SQLite)
		cut(c, mid, a)
		var written []string
		for i := range per {
			written = append(written, message(b, a, g, g.owner, "a "+strconv.Itoa(i)), message(b, c, g, uc, "c "+strconv.Itoa(i)))
		}
		b.StartTimer()
		start := time.Now()
		heal(b, c, mid, a)
		converged(b, g.id, a, mid, c)
		holdAll(b, g.id, written, a, mid, c)
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/heal")
	}
}

// BenchmarkThroughput measures sustained message throughput in one guild
// of three fully connected nodes: every node's user sends concurrently
// (eight senders per node), and the clock stops when every node has
// committed every message. It reports messages per second delivered to
// all three.
func BenchmarkThroughput(b *testing.B) {
	a, x, y, g, ux, uy := triangle(b, storage.SQLite)
	nodes, users := []*member{a, x, y}, []snowflake.ID{g.owner, ux, uy}
	var mu sync.Mutex
	arrived := map[*member]int{}
	all := make(chan struct{})
	total := 3 * (b.N / 3)
	for _, m := range nodes {
		unsub := m.core.Subscribe(func(ac *room.Accepted) {
			if ac.Event.Type != guild.TypeMessageCreate {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			arrived[m]++
			if arrived[nodes[0]] == total && arrived[nodes[1]] == total && arrived[nodes[2]] == total {
				close(all)
			}
		})
		b.Cleanup(unsub)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, m := range nodes {
		wg.Go(func() { sendMessages(b, m, g, users[i], total/3) })
	}
	wg.Wait()
	if total > 0 {
		select {
		case <-all:
		case <-time.After(time.Minute):
			b.Fatalf("not every message arrived everywhere: %v", arrived)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "msg/s")
}

// BenchmarkJoin measures a new node joining a guild of 10,000 messages
// (with BENCH=long the guild: 10,000 members and 100,000 events
// in all) through one peer: from the invite to the guild usable on the
// new node, its whole log fetched and accepted.
func BenchmarkJoin(b *testing.B) {
	members, messages := 0, 10_000
	if os.Getenv("BENCH") == "long" {
		members, messages = 10_000, 90_000
	}
	a := newMember(b, storage.SQLite, "a", 1)
	g := newGuild(b, a)
	joinMembers(b, a, g, members)
	sendMessages(b, a, g, g.owner, messages)
	b.ResetTimer()
	for i := range b.N {
		joiner := newMember(b, storage.SQLite, "joiner", uint16(2+i))
		connect(b, joiner, a)
		start := time.Now()
		join(b, joiner, g)
		// The guild and its channels show once the join is through; its
		// older history comes by backfill meanwhile.
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/join")
		waitFor(b, "backfill", func() bool {
			partial, err := joiner.core.Partial(context.Background(), g.id)
			return err == nil && !partial
		})
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/whole")
	}
}

// joinMembers joins count new users of m to the guild by its invite.
func joinMembers(b *testing.B, m *member, g guildFixture, count int) {
	eightAtATime(b, count, func(int) error {
		_, err := m.core.Send(context.Background(), g.id, m.core.NewID(), guild.TypeMemberJoin, guild.MemberJoin{InviteCode: g.invite})
		return err
	})
}

// sendMessages sends count messages as user of m and returns when all
// are committed. Unlike message it may run on any goroutine: it fails the
// benchmark with Error.
func sendMessages(b *testing.B, m *member, g guildFixture, user snowflake.ID, count int) {
	eightAtATime(b, count, func(k int) error {
		_, err := m.core.Send(context.Background(), g.id, user, guild.TypeMessageCreate,
			guild.MessageCreate{ID: m.core.NewID(), ChannelID: g.channel, Content: "load " + strconv.Itoa(k)})
		return err
	})
}

// eightAtATime runs do for 0 to count-1, eight at a time; an error fails
// the benchmark and stops that worker.
func eightAtATime(b *testing.B, count int, do func(k int) error) {
	const workers = 8
	var wg sync.WaitGroup
	for s := range workers {
		wg.Go(func() {
			for k := s; k < count; k += workers {
				if err := do(k); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
