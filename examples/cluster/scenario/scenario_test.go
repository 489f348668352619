//go:build cluster

package scenario

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// names are the users of the first nodes; the others' are user4 on.
var names = []string{"alice", "bob", "carol"}

// TestCluster is the whole scenario, in order: every step builds on the
// one before. CONCORD_CLUSTER_SEED replays a run's random schedule.
func TestCluster(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CONCORD_CLUSTER_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CONCORD_CLUSTER_SEED: %v", err)
		}
	}
	t.Logf("seed %d (CONCORD_CLUSTER_SEED=%d replays this schedule)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	nodes := clusterNodes(t)
	if len(nodes) < 3 {
		t.Fatalf("the scenario needs three nodes, CONCORD_CLUSTER names %d", len(nodes))
	}
	collectLogs(t, nodes)
	a, b, c := nodes[0], nodes[1], nodes[2]

	ready := time.Now()
	waitReady(t, nodes)
	t.Logf("cluster: %d nodes healthy and connected after %v", len(nodes), time.Since(ready).Round(time.Millisecond))

	// A user on every node; the guild lives on a, and the others join it
	// by the invite code a gave, each through their own node.
	suffix := strconv.FormatUint(seed%1_000_000, 10)
	users := make([]*user, len(nodes))
	for i, n := range nodes {
		name := fmt.Sprintf("user%d", i+1)
		if i < len(names) {
			name = names[i]
		}
		users[i] = register(t, n, name+suffix)
	}
	alice, carol := users[0], users[2]
	start := time.Now()
	gid, cid := guildWith(t, alice, users[1:]...)
	t.Logf("join: %d users of other nodes joined %s's guild by invite in %v", len(users)-1, a.name, time.Since(start).Round(time.Millisecond))
	for _, u := range users[1:] {
		u.connect(t)
	}
	members := users

	var acked []sent
	step := func(name string, limit time.Duration, fn func() []sent) {
		t.Helper()
		more := fn()
		acked = append(acked, more...)
		took := waitConverged(t, members, gid, cid, acked, limit)
		t.Logf("%s: %d messages acknowledged, all %d on every node, identical state, %v after the last write", name, len(more), len(acked), took.Round(time.Millisecond))
	}

	step("chat", 30*time.Second, func() []sent {
		out, errs := chat(rng, members, cid, 20, "chat")
		for _, err := range errs {
			t.Error(err)
		}
		return out
	})
	propagation(t, acked, users[1:])

	// A DM across nodes: alice on a opens it with carol on c; carol writes
	// once it has reached her node, as a client does on CHANNEL_CREATE. It
	// lives on their two nodes only.
	var dm struct {
		ID string `json:"id"`
	}
	opened := time.Now()
	a.api(t, "POST", "/users/@me/channels", alice.token, map[string]string{"recipient_id": carol.id}, &dm)
	waitFor(t, "the DM to reach c", 30*time.Second, func() bool {
		return c.call("GET", "/api/v10/channels/"+dm.ID, carol.token, nil, nil) == nil
	})
	t.Logf("dm: opened on a, on c %v later", time.Since(opened).Round(time.Millisecond))
	said, errs := chat(rng, []*user{alice, carol}, dm.ID, 5, "dm")
	for _, err := range errs {
		t.Error(err)
	}
	took := waitConverged(t, []*user{alice, carol}, dm.ID, dm.ID, said, 30*time.Second)
	t.Logf("dm: %d messages between %s and %s, all on both nodes, identical state, %v after the last write",
		len(said), alice.name, carol.name, took.Round(time.Millisecond))

	if undo, err := netem(t, c, "delay 50ms 20ms loss 5%"); err != nil {
		t.Logf("lossy link: skipped, netem is not available here (%v)", err)
	} else {
		step("lossy link", 60*time.Second, func() []sent {
			defer undo()
			out, errs := chat(rng, members, cid, 10, "lossy")
			for _, err := range errs {
				t.Error(err)
			}
			return out
		})
	}

	step("partition", 60*time.Second, func() []sent {
		docker(t, "network", "disconnect", fedNetwork, c.container)
		cut := time.Now()
		before, errs := chat(rng, slices.DeleteFunc(slices.Clone(users), func(u *user) bool { return u == carol }), cid, 20, "partitioned from c")
		after, errs2 := chat(rng, []*user{carol}, cid, 20, "partitioned c")
		for _, err := range append(errs, errs2...) {
			t.Error(err)
		}
		if ok, _ := converged(members, gid, cid, append(before, after...)); ok {
			t.Error("the nodes converged while c was cut off: the partition did not hold")
		}
		docker(t, "network", "connect", fedNetwork, c.container)
		t.Logf("partition: c cut off for %v", time.Since(cut).Round(time.Millisecond))
		return append(before, after...)
	})

	step("kill", 90*time.Second, func() []sent {
		// b dies a random moment into a conversation it is part of.
		var down []sent
		var errs []error
		talked := make(chan struct{})
		talk := rand.New(rand.NewPCG(rng.Uint64(), 1))
		go func() {
			defer close(talked)
			down, errs = chat(talk, []*user{alice, carol}, cid, 20, "while b dies")
		}()
		time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
		docker(t, "kill", b.container)
		<-talked
		for _, err := range errs {
			t.Error(err)
		}
		docker(t, "start", b.container)
		waitFor(t, "b to answer /health again", 60*time.Second, func() bool { return b.call("GET", "/health", "", nil, nil) == nil })
		return down
	})
	fmt.Fprintf(os.Stderr, "cluster scenario passed (seed %d)\n", seed)
}

// propagation logs how long the acknowledged messages took from their
// acknowledgement by the sender's node to their MESSAGE_CREATE on the
// other nodes' users' gateways.
// One that took over a second is named, with where it went from and to,
// so that its nodes' logs can be read around it.
func propagation(t *testing.T, acked []sent, watchers []*user) {
	lat := latencies(acked, watchers)
	t.Logf("propagation across containers, acknowledgement to MESSAGE_CREATE on another node: %d samples, p50 %s, p99 %s",
		len(lat), ms(percentile(lat, 50)), ms(percentile(lat, 99)))
	for _, d := range delivered(acked, watchers) {
		if d.took > time.Second {
			t.Logf("slow: message %s from %s (node %s), acknowledged at %s, reached %s (node %s) %s later",
				d.s.id, d.s.from.name, d.s.from.home.name, d.s.at.UTC().Format("15:04:05.000"), d.to.name, d.to.home.name, ms(d.took))
		}
	}
}
