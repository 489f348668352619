//go:build cluster

package scenario

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestClusterBench measures what the cluster issue names, on a cluster
// started by `make cluster-bench` (rate limits lifted): the time from
// `make cluster` to three healthy, connected nodes; message propagation
// across the containers; and convergence after a 60 s partition with
// 1,000 messages written on each side.
func TestClusterBench(t *testing.T) {
	nodes := clusterNodes(t)
	if len(nodes) < 3 {
		t.Fatalf("the benchmark needs three nodes, CONCORD_CLUSTER names %d", len(nodes))
	}
	collectLogs(t, nodes)
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitReady(t, nodes)
	if s := os.Getenv("CONCORD_CLUSTER_STARTED"); s != "" {
		ns, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("CONCORD_CLUSTER_STARTED: %v", err)
		}
		report(t, "startup: make cluster to three healthy, connected nodes: %v (goal < 30 s)",
			time.Since(time.Unix(0, ns)).Round(10*time.Millisecond))
	}

	suffix := strconv.FormatInt(time.Now().UnixNano()%1_000_000, 10)
	alice, bob, carol := register(t, a, "alice"+suffix), register(t, b, "bob"+suffix), register(t, c, "carol"+suffix)
	g, ch := guildWith(t, alice, bob, carol)
	bob.connect(t)
	carol.connect(t)
	members := []*user{alice, bob, carol}

	// Propagation: one message at a time from a, seen on b's and c's
	// gateways.
	var acked []sent
	for i := range 200 {
		s, err := alice.send(ch, fmt.Sprintf("propagation %d", i))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, s)
	}
	waitConverged(t, members, g, ch, acked, 60*time.Second)
	lat := latencies(acked, []*user{bob, carol})
	report(t, "propagation across containers, acknowledgement on a to MESSAGE_CREATE on b and c: %d samples, p50 %s, p99 %s (goal p99 < 300 ms)",
		len(lat), ms(percentile(lat, 50)), ms(percentile(lat, 99)))

	// A 60 s partition with 1,000 messages on each side.
	const partition, perSide = 60 * time.Second, 1000
	docker(t, "network", "disconnect", fedNetwork, c.container)
	cut := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, side := range [][]*user{{alice, bob}, {carol}} {
		for _, u := range side {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := flood(t, u, ch, perSide/len(side), 8)
				mu.Lock()
				acked = append(acked, out...)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	time.Sleep(partition - time.Since(cut))
	docker(t, "network", "connect", fedNetwork, c.container)
	took := waitConverged(t, members, g, ch, acked, 120*time.Second)
	report(t, "partition: %v with %d messages on each side; converged %v after the link came back, all %d messages on every node (goal < 5 s)",
		partition, perSide, took.Round(time.Millisecond), len(acked))
}

// waitReady waits until every node answers /health and is connected to the
// nodes it names to meet the cluster and those that name it (the others
// in a cluster of three): enough for every room to reach every node.
func waitReady(t *testing.T, nodes []*node) {
	t.Helper()
	for _, n := range nodes {
		waitFor(t, n.name+" to answer /health", 60*time.Second, func() bool { return n.call("GET", "/health", "", nil, nil) == nil })
	}
	waitFor(t, "every node to see the others", 60*time.Second, func() bool {
		for _, n := range nodes {
			var p struct {
				Peers []struct{} `json:"peers"`
			}
			if n.admin("/peers", &p) != nil || len(p.Peers) < min(len(nodes)-1, 4) {
				return false
			}
		}
		return true
	})
}

// guildWith makes a guild with one text channel on owner's node and joins
// the others to it by invite, each through their own node; it returns the
// guild's and the channel's IDs.
func guildWith(t *testing.T, owner *user, others ...*user) (guild, channel string) {
	t.Helper()
	var g, ch, inv struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	n := owner.home
	n.api(t, "POST", "/guilds", owner.token, map[string]string{"name": "cluster " + owner.name}, &g)
	n.api(t, "POST", "/guilds/"+g.ID+"/channels", owner.token, map[string]any{"name": "general", "type": 0}, &ch)
	n.api(t, "POST", "/channels/"+ch.ID+"/invites", owner.token, map[string]any{}, &inv)
	for _, u := range others {
		u.home.api(t, "POST", "/invites/"+inv.Code, u.token, nil, nil)
	}
	return g.ID, ch.ID
}

// flood sends n messages as u from workers goroutines and returns those
// acknowledged; a failed send fails the test.
func flood(t *testing.T, u *user, channel string, n, workers int) []sent {
	var mu sync.Mutex
	var out []sent
	var wg sync.WaitGroup
	next := make(chan int)
	go func() {
		for i := range n {
			next <- i
		}
		close(next)
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, err := u.send(channel, fmt.Sprintf("flood %d from %s", i, u.name))
				if err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				out = append(out, s)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// report logs a figure and prints it for `make bench`'s output too.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf(format, args...)
	fmt.Fprintf(os.Stderr, "cluster bench: "+format+"\n", args...)
}
