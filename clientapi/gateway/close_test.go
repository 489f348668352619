package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestCloseCodes checks each bad input closes with Discord's code, and that
// a bystander session keeps getting dispatches throughout.
func TestCloseCodes(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.p.addUser("by", Caller{UserID: 1}, guildA)
	ts.p.addUser("tok", Caller{UserID: 2}, guildA)
	by := dial(t, ts.wsURL)
	by.identify("by", userIntents, 1)
	victim := dial(t, ts.wsURL)
	ready := victim.identify("tok", userIntents, 1)

	identify := map[string]any{"token": "tok", "intents": userIntents}
	for _, tc := range []struct {
		name  string
		query string
		run   func(c *client)
		code  int
	}{
		{"non-JSON frame", "", func(c *client) { c.ws.WriteMessage(websocket.TextMessage, []byte("hello?")) }, CloseDecodeError},
		{"no op", "", func(c *client) { c.ws.WriteMessage(websocket.TextMessage, []byte(`{"d":1}`)) }, CloseDecodeError},
		{"unknown opcode", "", func(c *client) { c.send(5, nil) }, CloseUnknownOpcode},
		{"server-only opcode", "", func(c *client) { c.send(opHello, nil) }, CloseUnknownOpcode},
		{"not authenticated", "", func(c *client) { c.send(opPresenceUpdate, map[string]any{"status": "idle"}) }, CloseNotAuthenticated},
		{"bad token", "", func(c *client) { c.send(opIdentify, map[string]any{"token": "nope", "intents": 1}) }, CloseAuthenticationFailed},
		{"identify twice", "", func(c *client) {
			c.send(opIdentify, identify)
			c.expect("READY")
			c.send(opIdentify, identify)
		}, CloseAlreadyAuthenticated},
		{"resume after identify", "", func(c *client) {
			c.send(opIdentify, identify)
			c.expect("READY")
			c.send(opResume, map[string]any{"token": "tok", "session_id": ready["session_id"], "seq": 1})
		}, CloseAlreadyAuthenticated},
		{"invalid seq", "", func(c *client) {
			c.send(opResume, map[string]any{"token": "tok", "session_id": ready["session_id"], "seq": 1 << 40})
		}, CloseInvalidSeq},
		{"oversize", "", func(c *client) {
			c.send(opHeartbeat, strings.Repeat("x", maxInboundPayload))
		}, CloseDecodeError},
		{"flood", "", func(c *client) {
			for range inboundWindowN + 1 {
				c.send(opHeartbeat, nil)
			}
		}, CloseRateLimited},
		{"bad version", "?v=8", func(*client) {}, CloseInvalidAPIVersion},
		{"etf", "?v=10&encoding=etf", func(*client) {}, CloseDecodeError},
		{"unknown compression", "?compress=zstd-stream", func(*client) {}, CloseDecodeError},
		{"invalid shard", "", func(c *client) {
			c.send(opIdentify, map[string]any{"token": "tok", "intents": 1, "shard": []int{2, 2}})
		}, CloseInvalidShard},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.wsURL+tc.query)
			if tc.query == "" {
				c.hello()
			}
			tc.run(c)
			c.expectClose(tc.code)
			ts.mark()
			by.expect("TEST_MARK")
		})
	}
	// The victim's own session was never disturbed by the failed resumes.
	ts.mark()
	victim.expect("TEST_MARK")
}

func TestHeartbeatTimeout(t *testing.T) {
	ts := newTestServer(t, Config{HeartbeatInterval: 100 * time.Millisecond})
	ts.p.addUser("tok", Caller{UserID: 2}, guildA)
	c := dial(t, ts.wsURL)
	ready := c.identify("tok", userIntents, 1)
	start := time.Now()
	c.expectClose(CloseSessionTimedOut)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("closed after %v, before 1.5 intervals", d)
	}
	// A timed-out session is over.
	r := dial(t, ts.wsURL)
	r.hello()
	r.send(opResume, map[string]any{"token": "tok", "session_id": ready["session_id"], "seq": 1})
	if w := r.next(); w.Op != opInvalidSession {
		t.Fatalf("resume after timeout: op %d", w.Op)
	}
}

func TestSlowConsumerIsDropped(t *testing.T) {
	ts := newTestServer(t, Config{QueueMax: 64, ReplayBytes: 64 << 20})
	ts.p.addUser("slow", Caller{UserID: 2}, guildA)
	ts.p.addUser("fast", Caller{UserID: 3}, guildA)
	slow, fast := dial(t, ts.wsURL), dial(t, ts.wsURL)
	ready := slow.identify("slow", userIntents, 1)
	fast.identify("fast", userIntents, 1)
	const n = 400
	big := message(1, strings.Repeat("y", 60000))
	// The slow client reads nothing: once the socket buffers fill, its
	// queue overflows and it is cut off while the fast one keeps up.
	errs := make(chan error, 1)
	got := make(chan struct{}, n)
	go func() {
		for range n {
			if w, err := fast.read(); err != nil || w.typ() != "MESSAGE_CREATE" {
				errs <- fmt.Errorf("fast client: %s %v", w.typ(), err)
				return
			}
			got <- struct{}{}
		}
		errs <- nil
	}()
	// Publish no faster than the fast client reads, a few frames ahead.
	for i := range n {
		if i >= 8 {
			<-got
		}
		ts.g.Publish(big)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if got := counterValue(ts.g.m.drops); got != 1 {
		t.Fatalf("queue drops = %v, want 1", got)
	}
	// It may never see the close frame (its socket is full); it does see
	// the end of the connection.
	for {
		if _, err := slow.read(); err != nil {
			break
		}
	}
	// What it missed is still there for a resume.
	r := dial(t, ts.wsURL)
	r.hello()
	r.send(opResume, map[string]any{"token": "slow", "session_id": ready["session_id"], "seq": 2})
	for i := range n + 1 {
		w := r.next()
		if i < n && w.typ() != "MESSAGE_CREATE" || i == n && w.typ() != "RESUMED" {
			t.Fatalf("replay %d: %s", i, w.typ())
		}
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// The node's [limits] set the inbound payload size and event rate.
func TestConfiguredInboundLimits(t *testing.T) {
	ts := newTestServer(t, Config{MaxPayload: 256, InboundLimit: 5})
	ts.p.addUser("tok", Caller{UserID: 1})

	c := dial(t, ts.wsURL)
	c.hello()
	c.send(opHeartbeat, strings.Repeat("x", 300))
	c.expectClose(CloseDecodeError)

	c = dial(t, ts.wsURL)
	c.hello()
	for range 6 {
		c.send(opHeartbeat, nil)
	}
	c.expectClose(CloseRateLimited)
}
