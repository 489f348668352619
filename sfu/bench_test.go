package sfu

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"concord/federation/snowflake"
)

// load is what the receivers of a benchmark measured: packets whose send
// time (inside the payload) fell in the window, and their latency.
type load struct {
	metric   string           // what its reported metrics' names begin with
	offset   int              // where in the payload the send time is
	from, to time.Time        // the measured window of send times
	cpu      [2]time.Duration // the process's CPU time as the window opens and closes
	sfu      *remote          // the SFU's process
	sfuCPU   [2]time.Duration // its CPU time likewise
	mu       sync.Mutex
	got      int64
	lat      []time.Duration
}

// cpuTime is the CPU time this process (the clients) used so far, user
// and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func (l *load) record(payload []byte) {
	if len(payload) < l.offset+8 {
		return
	}
	sent := time.Unix(0, int64(binary.BigEndian.Uint64(payload[l.offset:])))
	now := time.Now()
	l.mu.Lock()
	if !l.from.IsZero() && !sent.Before(l.from) && (l.to.IsZero() || sent.Before(l.to)) {
		l.got++
		l.lat = append(l.lat, now.Sub(sent))
	}
	l.mu.Unlock()
}

// report prints and reports pps, loss and latency percentiles.
func (l *load) report(b *testing.B, what string, expected int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.lat)
	if expected == 0 {
		expected = l.got
	}
	pct := func(p float64) time.Duration {
		if len(l.lat) == 0 {
			return 0
		}
		return l.lat[min(len(l.lat)-1, int(float64(len(l.lat))*p))]
	}
	secs := l.to.Sub(l.from).Seconds()
	loss := 100 * (1 - float64(l.got)/float64(max(expected, 1)))
	clients := (l.cpu[1] - l.cpu[0]).Seconds() / secs
	sfu := (l.sfuCPU[1] - l.sfuCPU[0]).Seconds() / secs
	pps := float64(l.got) / secs
	b.ReportMetric(pps, l.metric+"fwd-pps")
	b.ReportMetric(loss, l.metric+"loss-%")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, l.metric+"p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, l.metric+"p99-ms")
	if l.sfu != nil {
		b.ReportMetric(sfu, l.metric+"sfu-cores")
		b.ReportMetric(pps/max(sfu, 0.01), l.metric+"pps/sfu-core")
	}
	fmt.Printf("%s: %.0f packets/s forwarded, %.3f %% lost, latency p50 %v p99 %v", what, pps, loss,
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	if l.sfu != nil {
		fmt.Printf("; the SFU kept %.2f cores busy (%.0f packets/s per core, %.0f on two), its clients %.2f",
			sfu, pps/max(sfu, 0.01), 2*pps/max(sfu, 0.01), clients)
	}
	fmt.Println()
}

// listen counts what c receives from every track, through l, and keeps c
// heartbeating as a real client does: a large load takes longer to connect
// than the voice gateway waits for a silent client.
func (c *client) listen(l *load) {
	c.mu.Lock()
	c.sink = l.record
	c.mu.Unlock()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for seq := 1; ; seq++ {
			select {
			case <-c.done:
				return
			case <-t.C:
				c.send(opHeartbeat, map[string]int{"t": seq})
			}
		}
	}()
}

// audioLoad runs a channel of n members who all speak (Opus-sized
// packets, 50 a second) for d, and measures what they hear of each other.
func audioLoad(b *testing.B, n int, d time.Duration) {
	r := newRemoteRig(b, n+1)
	clients := make([]*client, n)
	l := &load{sfu: r.remote}
	for i := range n {
		c := r.connect(b, snowflake.ID(i+2), testVoice)
		c.listen(l)
		clients[i] = c
	}
	stop := make(chan struct{})
	sent, done := talk(clients, l, stop, func(int) byte { return 0 })
	// Tracks are published at their first packet: measure once everyone
	// receives everyone.
	l.measure(b, d, everyoneHears(clients, n-1), func() {})
	close(stop)
	done()
	l.report(b, fmt.Sprintf("%d speakers", n), sent.Load()*int64(n-1))
}

// talk has every client speak, Opus-sized packets 50 a second spread over
// the 20 ms interval, each carrying its send time and tag(i) after it,
// until stop closes; it counts the packets sent in l's window, and done
// waits for the speakers to stop.
func talk(clients []*client, l *load, stop chan struct{}, tag func(i int) byte) (sent *atomic.Int64, done func()) {
	sent = new(atomic.Int64)
	var wg sync.WaitGroup
	n := len(clients)
	for i, c := range clients {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 20 * time.Millisecond / time.Duration(n))
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			payload := make([]byte, 80) // a 32 kbps Opus frame
			payload[8] = tag(i)
			for seq := uint16(0); ; seq++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				now := time.Now()
				binary.BigEndian.PutUint64(payload, uint64(now.UnixNano()))
				c.mic.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq,
					Timestamp: uint32(seq) * 960}, Payload: payload})
				l.mu.Lock()
				in := !l.from.IsZero() && !now.Before(l.from) && (l.to.IsZero() || now.Before(l.to))
				l.mu.Unlock()
				if in {
					sent.Add(1)
				}
			}
		})
	}
	return sent, wg.Wait
}

// everyoneHears reports whether each client's down connection is up with
// at least tracks tracks.
func everyoneHears(clients []*client, tracks int) func() bool {
	return func() bool {
		for _, c := range clients {
			c.mu.Lock()
			down := c.down
			c.mu.Unlock()
			if down == nil || down.ConnectionState() != webrtc.PeerConnectionStateConnected || len(down.GetReceivers()) < tracks {
				return false
			}
		}
		return true
	}
}

// BenchmarkCascade is one 20-speaker channel whose users live ten on each
// of two nodes, their SFUs relaying to each other (both in this process,
// with the clients): what crosses the relay against what stays on one
// node.
func BenchmarkCascade(b *testing.B) {
	const n = 20
	for range b.N {
		names := []string{"node-a", "node-b"}
		rigs := cascadeRigs(b, n+1, names...)
		same, across := &load{}, &load{metric: "relay-"}
		clients := make([]*client, n)
		for i := range n {
			home := i % 2
			user := snowflake.ID(i + 2)
			rigs[1-home].tell(names[home], user, testVoice)
			c := rigs[home].connect(b, user, testVoice)
			c.mu.Lock()
			c.sink = func(p []byte) {
				if len(p) > 8 && int(p[8]) == home {
					same.record(p)
				} else {
					across.record(p)
				}
			}
			c.mu.Unlock()
			clients[i] = c
		}
		stop := make(chan struct{})
		sent, done := talk(clients, across, stop, func(i int) byte { return byte(i % 2) })
		across.measure(b, 5*time.Second, everyoneHears(clients, n-1), func() {
			same.mu.Lock()
			if same.from.IsZero() {
				same.from = time.Now()
			} else {
				same.to = time.Now()
			}
			same.mu.Unlock()
		})
		close(stop)
		done()
		same.report(b, "cascade, heard on the speaker's node", sent.Load()*(n/2-1))
		across.report(b, "cascade, heard across the relay", sent.Load()*n/2)
	}
}

// BenchmarkAudioChannel is one 25-speaker channel (30,000 packets a
// second forwarded), then one of 46 (103,500 a second: the goal
// is 100,000 on this machine's two cores at < 0.1 % loss and p99 < 10
// ms) and one of 50 (122,500). The SFU runs in a process of its own, and
// the clients, pion without interceptors (no NACKs, reports or
// congestion feedback: load generators), take their share of the same
// cores. BENCH=long adds 70 speakers (241,500 a second).
func BenchmarkAudioChannel(b *testing.B) {
	sizes := []int{25, 46, 50}
	if os.Getenv("BENCH") == "long" {
		sizes = append(sizes, 70)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				audioLoad(b, n, 5*time.Second)
			}
		})
	}
}

// readyWait is how long a load may take to connect before it is measured.
const readyWait = 120 * time.Second

// measure opens the window for d once ready holds, then waits for late
// packets. mark runs as the window opens and as it closes.
func (l *load) measure(b *testing.B, d time.Duration, ready func() bool, mark func()) {
	waitFor(b, "ready to measure", readyWait, ready)
	time.Sleep(time.Second)
	l.mu.Lock()
	l.from, l.cpu[0], l.sfuCPU[0] = time.Now(), cpuTime(), l.sfu.cpu()
	l.mu.Unlock()
	mark()
	time.Sleep(d)
	l.mu.Lock()
	l.to, l.cpu[1], l.sfuCPU[1] = time.Now(), cpuTime(), l.sfu.cpu()
	l.mu.Unlock()
	mark()
	time.Sleep(500 * time.Millisecond)
}

// shareLoad sends one 2.5 Mbps screen share to n viewers for d and
// reports what they received, returning the loss in percent.
func shareLoad(b *testing.B, n int, d time.Duration) float64 {
	r := newRemoteRig(b, n+2)
	pub := r.join(b, 2, testVoice)
	sharer := r.dial(b, 2)
	sharer.identify(pub)
	sharer.wait(opReady)
	screen := sharer.addVideo("screen", []int{2_500_000})
	sharer.negotiate()
	sharer.waitConnected()
	screen.run()
	defer screen.close()
	l := &load{offset: 3, sfu: r.remote}
	var marks []int64
	viewers := make([]*client, n)
	for i := range n {
		viewers[i] = r.connect(b, snowflake.ID(i+3), testVoice)
		viewers[i].listen(l)
		viewers[i].watch(2, true)
	}
	connected := func() int {
		k := 0
		for _, c := range viewers {
			c.mu.Lock()
			down := c.down
			c.mu.Unlock()
			if down != nil && down.ConnectionState() == webrtc.PeerConnectionStateConnected {
				k++
			}
		}
		return k
	}
	// An audience too large for the machine never finishes connecting:
	// that size fails, as one that loses packets does.
	for deadline := time.Now().Add(readyWait); connected() < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			fmt.Printf("2.5 Mbps share to %d viewers: only %d connected after %v\n", n, connected(), readyWait)
			return 100
		}
	}
	l.measure(b, d, func() bool { return connected() == n }, func() { marks = append(marks, screen.sent.Load()) })
	// What the camera sent in the window (a loaded machine sends fewer
	// than 30 frames a second), to each viewer.
	expected := (marks[1] - marks[0]) * int64(n)
	l.report(b, fmt.Sprintf("2.5 Mbps share to %d viewers", n), expected)
	l.mu.Lock()
	defer l.mu.Unlock()
	return 100 * (1 - float64(l.got)/float64(max(expected, 1)))
}

// BenchmarkScreenShare sends one 2.5 Mbps screen share to growing numbers
// of viewers, doubling until one loses 1 % or more, and prints the
// largest that lost less. BENCH=long goes further.
func BenchmarkScreenShare(b *testing.B) {
	sizes := []int{10, 20, 40, 80, 160}
	if os.Getenv("BENCH") == "long" {
		sizes = append(sizes, 320)
	}
	best, failed := 0, false
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			if failed {
				b.Skip("a smaller audience already lost 1 %")
			}
			for range b.N {
				if shareLoad(b, n, 5*time.Second) < 1 {
					best = max(best, n)
				} else {
					failed = true
				}
			}
		})
	}
	fmt.Printf("largest audience of a 2.5 Mbps share under 1 %% loss: %d of %v\n", best, sizes)
}
