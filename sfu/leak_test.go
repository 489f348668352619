package sfu

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"concord/federation/live"
)

// TestJoinLeaveLeaks joins and leaves many times and checks that
// goroutines and file descriptors come back to where they were. BENCH=long
// makes it the 1,000 rounds of the issue; CI runs 50.
func TestJoinLeaveLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rounds := 50
	if n, err := strconv.Atoi(os.Getenv("ROUNDS")); err == nil {
		rounds = n
	}
	if os.Getenv("BENCH") == "long" {
		rounds = 1000
	}
	r := newRig(t, 3, nil)
	listener := r.connect(t, 3, testVoice) // someone to forward to, and to be sent
	listener.speak("l", 3, 127)
	round := func() {
		c := r.connect(t, 2, testVoice)
		c.speak("x", 2, 30)
		r.hub.SetVoice(live.VoiceState{GuildID: testGuild, UserID: 2, SessionID: "gw-2"})
		wantClose(t, c, closeDisconnected)
		c.close()
	}
	round() // warm up pools and timers
	g0, f0 := settle(t)
	start := time.Now()
	for range rounds {
		round()
	}
	elapsed := time.Since(start)
	listener.mu.Lock()
	if listener.closed != nil {
		t.Fatalf("the listener was disconnected: %v", listener.closed)
	}
	listener.mu.Unlock()
	waitFor(t, "sessions closed", 5*time.Second, func() bool { return r.sfu.Sessions() == 1 })
	g1, f1 := settle(t)
	t.Logf("%d rounds in %v: goroutines %d → %d, fds %d → %d", rounds, elapsed, g0, g1, f0, f1)
	// A little slack for timers and pools that come and go.
	if g1 > g0+10 || f1 > f0+5 {
		t.Errorf("after %d rounds: goroutines %d → %d, fds %d → %d", rounds, g0, g1, f0, f1)
	}
}

// TestCascadeLeaks: a user of another node joins and leaves a channel
// again and again, each time opening relays both ways and ending them;
// goroutines and file descriptors come back to where they were.
func TestCascadeLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rigs := cascadeRigs(t, 5, "node-a", "node-b")
	a, b := rigs[0], rigs[1]
	alice := a.connect(t, 2, testVoice)
	b.tell("node-a", 2, testVoice)
	go alice.speak("a", 250, 30) // 5 s of speech while rounds run
	round := func() {
		bob := b.connect(t, 3, testVoice)
		a.tell("node-b", 3, testVoice)
		bob.speak("b", 3, 30)
		waitFor(t, "alice's audio at bob", 5*time.Second, func() bool { return len(bob.got(2, "microphone")) > 0 })
		b.hub.SetVoice(live.VoiceState{GuildID: testGuild, UserID: 3, SessionID: "gw-3"})
		a.tell("node-b", 3, 0)
		wantClose(t, bob, closeDisconnected)
		bob.close()
		waitFor(t, "the relays to end", 5*time.Second, func() bool {
			ao, ai := a.relays()
			bo, bi := b.relays()
			return ao+ai+bo+bi == 0
		})
	}
	round()
	g0, f0 := settle(t)
	for range 10 {
		round()
	}
	g1, f1 := settle(t)
	t.Logf("10 rounds: goroutines %d → %d, fds %d → %d", g0, g1, f0, f1)
	if g1 > g0+10 || f1 > f0+5 {
		t.Errorf("after 10 rounds: goroutines %d → %d, fds %d → %d", g0, g1, f0, f1)
	}
}

// settle waits a second for what ends to end and counts goroutines and
// file descriptors.
func settle(t *testing.T) (int, int) {
	var g, f int
	for range 50 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		g, f = runtime.NumGoroutine(), fds(t)
	}
	return g, f
}

func fds(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(es)
}
