package gateway

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"concord/federation/snowflake"
)

// The benchmarks hold their sessions in a child process (this test binary
// again, see TestMain) so that the parent's memory figures are the
// server's alone.

const benchChildEnv = "CONCORD_GATEWAY_BENCH_CHILD"

// fanoutMembers is how many sessions can see the fan-out channel.
const fanoutMembers = 10_000

func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) != "" {
		os.Exit(benchChild())
	}
	os.Exit(m.Run())
}

func raiseFileLimit(tb testing.TB) {
	lim := syscall.Rlimit{Cur: 1 << 20, Max: 1 << 20}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		return
	}
	// Without CAP_SYS_RESOURCE (a container), the hard limit is the most.
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		if tb != nil {
			tb.Logf("RLIMIT_NOFILE stays at %d: no permission to raise the hard limit", lim.Max)
		}
	}
}

// benchSessions is 10,000, or under BENCH=long the 100,000 — as
// many as the file descriptor limit allows (each process holds one
// descriptor per connection).
func benchSessions() int {
	n := 10_000
	if os.Getenv("BENCH") == "long" {
		n = 100_000
	}
	raiseFileLimit(nil)
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < uint64(n)+1000 {
		n = int(lim.Cur) - 1000
	}
	return n
}

// children drives a child process of clients.
type children struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startClients(b *testing.B, url string, n int, zlibStream bool) *children {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1", "BENCH_URL="+url, "BENCH_N="+strconv.Itoa(n))
	if zlibStream {
		cmd.Env = append(cmd.Env, "BENCH_ZLIB=1")
	}
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &children{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	b.Cleanup(func() {
		c.in.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return c
}

// line reads the child's next report line.
func (c *children) line(b *testing.B) string {
	if !c.out.Scan() {
		b.Fatalf("bench child ended: %v", c.out.Err())
	}
	return c.out.Text()
}

type memSnap struct{ heap, rss uint64 }

func snapshot() memSnap {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnap{heap: ms.HeapInuse + ms.StackInuse, rss: rssBytes()}
}

func rssBytes() uint64 {
	data, _ := os.ReadFile("/proc/self/status")
	for l := range strings.Lines(string(data)) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchServer starts a gateway with n users (tokens u0…) in guildA.
func benchServer(b *testing.B, n int) *testServer {
	raiseFileLimit(b)
	// Bench clients heartbeat once (which trims their replay buffers) and
	// then stay silent: a long interval keeps them connected.
	ts := newTestServer(b, Config{HeartbeatInterval: time.Hour})
	for i := range n {
		ts.p.addUser("u"+strconv.Itoa(i), Caller{UserID: snowflake.ID(i + 1)}, guildA)
		if i >= fanoutMembers {
			// The fan-out goes to 10,000 members of one channel however
			// many sessions the guild holds.
			ts.p.hidden[[2]snowflake.ID{chanA, snowflake.ID(i + 1)}] = true
		}
	}
	return ts
}

// BenchmarkSessions holds identified idle sessions, reports the server's
// memory per session, then times the fan-out of messages to all of them
// (one guild, one channel).
func BenchmarkSessions(b *testing.B) {
	n := benchSessions()
	ts := benchServer(b, n)
	before := snapshot()
	start := time.Now()
	c := startClients(b, ts.wsURL+"?v=10&encoding=json", n, false)
	if l := c.line(b); l != "READY" {
		b.Fatalf("child: %s", l)
	}
	connect := time.Since(start)
	time.Sleep(500 * time.Millisecond) // let the writers finish and exit
	after := snapshot()
	b.ReportMetric(float64(n), "sessions")
	b.ReportMetric(float64(after.heap-before.heap)/float64(n), "heap+stack-B/session")
	b.ReportMetric(float64(after.rss-before.rss)/float64(n), "rss-B/session")
	b.ReportMetric(float64(n)/connect.Seconds(), "identifies/s")

	const msgs = 20
	for i := range msgs {
		ts.g.Publish(timedMessage(i))
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintln(c.in, "REPORT", msgs)
	var p50, p99, max float64
	var got int
	if _, err := fmt.Sscanf(c.line(b), "LAT %d %f %f %f", &got, &p50, &p99, &max); err != nil {
		b.Fatal(err)
	}
	if want := min(n, fanoutMembers) * msgs; got != want {
		b.Errorf("fan-out delivered %d of %d", got, want)
	}
	b.ReportMetric(p50, "fanout-p50-ms")
	b.ReportMetric(p99, "fanout-p99-ms")
	b.ReportMetric(max, "fanout-max-ms")
}

// BenchmarkSessionsZlibStream is the idle figure with zlib-stream
// connections (the client side inflates).
func BenchmarkSessionsZlibStream(b *testing.B) {
	n := min(benchSessions(), 10_000)
	ts := benchServer(b, n)
	before := snapshot()
	c := startClients(b, ts.wsURL+"?v=10&encoding=json&compress=zlib-stream", n, true)
	if l := c.line(b); l != "READY" {
		b.Fatalf("child: %s", l)
	}
	time.Sleep(500 * time.Millisecond)
	after := snapshot()
	b.ReportMetric(float64(n), "sessions")
	b.ReportMetric(float64(after.heap-before.heap)/float64(n), "heap+stack-B/session")
	b.ReportMetric(float64(after.rss-before.rss)/float64(n), "rss-B/session")
}

func timedMessage(i int) Dispatch {
	p := fmt.Sprintf(`{"id":"%d","channel_id":"%d","guild_id":"%d","content":"fan-out","nonce":"%d","author":{"id":"7","username":"u7"}}`,
		i+1, chanA, guildA, time.Now().UnixNano())
	return Dispatch{Type: "MESSAGE_CREATE", GuildID: guildA, ChannelID: chanA, Intent: IntentGuildMessages, Payload: json.RawMessage(p)}
}

// benchChild connects BENCH_N sessions, prints READY, and on "REPORT m"
// waits for m messages on every session and prints their latencies.
func benchChild() int {
	raiseFileLimit(nil)
	url := os.Getenv("BENCH_URL")
	n, _ := strconv.Atoi(os.Getenv("BENCH_N"))
	zlibStream := os.Getenv("BENCH_ZLIB") == "1"
	// One slot per expected delivery, filled lock-free: the child shares
	// the server's cores and must not distort its latency.
	lats := make([]float64, n*64)
	var got atomic.Int64
	var ready sync.WaitGroup
	sem := make(chan struct{}, 128)
	ready.Add(n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			ws, next, err := benchIdentify(url, i, zlibStream)
			<-sem
			if err != nil {
				fmt.Fprintf(os.Stderr, "client %d: %v\n", i, err)
				os.Exit(1)
			}
			ready.Done()
			defer ws.Close()
			for {
				data, err := next()
				if err != nil {
					return
				}
				if j := bytes.Index(data, []byte(`"nonce":"`)); j >= 0 {
					rest := data[j+9:]
					ts, _ := strconv.ParseInt(string(rest[:bytes.IndexByte(rest, '"')]), 10, 64)
					if k := got.Add(1) - 1; int(k) < len(lats) {
						lats[k] = float64(time.Now().UnixNano()-ts) / 1e6
					}
				}
			}
		}()
	}
	ready.Wait()
	fmt.Println("READY")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var m int
		if _, err := fmt.Sscanf(in.Text(), "REPORT %d", &m); err != nil {
			continue
		}
		deadline := time.Now().Add(30 * time.Second)
		for int(got.Load()) < min(n, fanoutMembers)*m && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		l := slices.Clone(lats[:min(int(got.Load()), len(lats))])
		slices.Sort(l)
		q := func(f float64) float64 {
			if len(l) == 0 {
				return 0
			}
			return l[min(len(l)-1, int(f*float64(len(l))))]
		}
		fmt.Printf("LAT %d %.2f %.2f %.2f\n", len(l), q(0.5), q(0.99), q(1))
	}
	return 0
}

// benchIdentify connects client i from one of several loopback source
// addresses (so 100,000 connections do not exhaust one address's
// ephemeral ports), identifies, and acknowledges READY and GUILD_CREATE.
// It returns a reader of the following payloads.
func benchIdentify(url string, i int, zlibStream bool) (*websocket.Conn, func() ([]byte, error), error) {
	src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%16))}
	d := websocket.Dialer{NetDial: (&net.Dialer{LocalAddr: src, Timeout: 30 * time.Second}).Dial,
		ReadBufferSize: 1024, WriteBufferSize: 1024, HandshakeTimeout: 30 * time.Second}
	var ws *websocket.Conn
	var err error
	for try := 0; try < 5; try++ {
		if ws, _, err = d.Dial(url, nil); err == nil {
			break
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	if err != nil {
		return nil, nil, err
	}
	next := func() ([]byte, error) {
		_, data, err := ws.ReadMessage()
		return data, err
	}
	if zlibStream {
		zr, err := zlib.NewReader(&benchMsgReader{ws: ws})
		if err != nil {
			return nil, nil, err
		}
		dec := json.NewDecoder(zr)
		next = func() ([]byte, error) {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			return raw, err
		}
	}
	if _, err := next(); err != nil { // hello
		return nil, nil, err
	}
	id := fmt.Sprintf(`{"op":2,"d":{"token":"u%d","intents":%d,"properties":{"os":"linux","browser":"bench","device":"bench"}}}`,
		i, IntentGuilds|IntentGuildMessages|IntentMessageContent)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(id)); err != nil {
		return nil, nil, err
	}
	for {
		data, err := next()
		if err != nil {
			return nil, nil, err
		}
		if bytes.Contains(data, []byte(`"t":"GUILD_CREATE"`)) {
			break
		}
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":1,"d":2}`)); err != nil {
		return nil, nil, err
	}
	if _, err := next(); err != nil { // the ack
		return nil, nil, err
	}
	return ws, next, nil
}

type benchMsgReader struct {
	ws  *websocket.Conn
	buf []byte
}

func (m *benchMsgReader) Read(p []byte) (int, error) {
	if len(m.buf) == 0 {
		_, data, err := m.ws.ReadMessage()
		if err != nil {
			return 0, err
		}
		m.buf = data
	}
	n := copy(p, m.buf)
	m.buf = m.buf[n:]
	return n, nil
}
