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
	settle := func() (int, int) {
		var g, f int
		for range 50 {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
			g, f = runtime.NumGoroutine(), fds(t)
		}
		return g, f
	}
	g0, f0 := settle()
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
	g1, f1 := settle()
	t.Logf("%d rounds in %v: goroutines %d → %d, fds %d → %d", rounds, elapsed, g0, g1, f0, f1)
	// A little slack for timers and pools that come and go.
	if g1 > g0+10 || f1 > f0+5 {
		t.Errorf("after %d rounds: goroutines %d → %d, fds %d → %d", rounds, g0, g1, f0, f1)
	}
}

func fds(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(es)
}
