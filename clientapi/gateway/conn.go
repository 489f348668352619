package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one WebSocket connection. Its reader runs in ServeHTTP's
// goroutine; writes come from there (hello, acks) and from the session's
// writer, serialised by wmu.
type conn struct {
	g    *Gateway
	ws   *websocket.Conn
	v    int
	mode compression
	dead atomic.Bool

	wmu     sync.Mutex
	started bool // the zlib stream header went out

	// Reader-only state.
	identifyBy  time.Time // the deadline for identify or resume
	checked     time.Time // when the credential was last checked
	sess        *session
	windowStart time.Time
	windowN     int
}

// ServeHTTP upgrades a gateway connection and serves it until it ends.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := g.cfg.ClientKey(r)
	if !g.admit(client) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many gateway connections from this address", http.StatusTooManyRequests)
		return
	}
	ws, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		g.leave(client)
		return // the upgrader has answered
	}
	now := time.Now()
	c := &conn{g: g, ws: ws, windowStart: now, identifyBy: now.Add(g.cfg.IdentifyTimeout)}
	// A fresh goroutine serves the connection so that net/http's, with its
	// deep stack, request and 4 KiB buffers, ends now: an idle session
	// keeps only a small stack and gorilla's own buffer.
	go func() {
		defer g.leave(client)
		c.run(r.URL.Query())
	}()
}

// admit counts a connection of client, unless it has ConnsPerClient open.
func (g *Gateway) admit(client string) bool {
	g.clientMu.Lock()
	defer g.clientMu.Unlock()
	if g.clients[client] >= g.cfg.ConnsPerClient {
		return false
	}
	g.clients[client]++
	return true
}

// leave uncounts a connection of client.
func (g *Gateway) leave(client string) {
	g.clientMu.Lock()
	defer g.clientMu.Unlock()
	if g.clients[client]--; g.clients[client] <= 0 {
		delete(g.clients, client)
	}
}

func (c *conn) run(q url.Values) {
	g, ws := c.g, c.ws
	g.m.conns.Inc()
	defer g.m.conns.Dec()
	defer ws.Close()
	// Our own MaxPayload check closes with 4002; this only stops a giant
	// frame early (gorilla answers 1009).
	ws.SetReadLimit(int64(max(1<<20, 2*g.cfg.MaxPayload)))
	if code, reason := c.params(q); code != 0 {
		c.close(code, reason)
		return
	}
	if c.mode == compressStream {
		ws.EnableWriteCompression(false) // deflating deflate gains nothing
	}
	hello := controlFrame(opHello, map[string]int64{"heartbeat_interval": g.cfg.HeartbeatInterval.Milliseconds()})
	if c.writeControl(hello) != nil {
		return
	}
	c.extend()
	c.serve()
}

// params reads ?v=&encoding=&compress=.
func (c *conn) params(q url.Values) (int, string) {
	switch q.Get("v") {
	case "", "10":
		c.v = 10
	case "9":
		c.v = 9
	default:
		return CloseInvalidAPIVersion, "invalid API version"
	}
	if e := q.Get("encoding"); e != "" && e != "json" {
		return CloseDecodeError, "unsupported encoding: only json"
	}
	switch q.Get("compress") {
	case "":
	case "zlib-stream":
		c.mode = compressStream
	default:
		return CloseDecodeError, "unsupported compress: only zlib-stream"
	}
	return 0, ""
}

// extend moves the heartbeat deadline: a client silent for 1.5 intervals
// is gone (Discord's own margin over the interval it asks for). Until it
// identifies, heartbeats do not move it past identifyBy: a connection
// cannot be held open without a session.
func (c *conn) extend() {
	d := time.Now().Add(c.g.cfg.HeartbeatInterval * 3 / 2)
	if c.sess == nil && c.identifyBy.Before(d) {
		d = c.identifyBy
	}
	_ = c.ws.SetReadDeadline(d)
}

// frame is an inbound payload.
type frame struct {
	Op *int            `json:"op"`
	D  json.RawMessage `json:"d"`
}

func (c *conn) serve() {
	for {
		_, rd, err := c.ws.NextReader()
		if err != nil {
			c.ended(err)
			return
		}
		data, err := io.ReadAll(io.LimitReader(rd, int64(c.g.cfg.MaxPayload)+1))
		if err != nil {
			c.ended(err)
			return
		}
		if len(data) > c.g.cfg.MaxPayload {
			c.fail(CloseDecodeError, "payload too large")
			return
		}
		if now := time.Now(); now.Sub(c.windowStart) >= c.g.cfg.InboundWindow {
			c.windowStart, c.windowN = now, 0
		}
		c.windowN++
		if c.windowN > c.g.cfg.InboundLimit {
			c.fail(CloseRateLimited, "rate limited")
			return
		}
		var f frame
		if json.Unmarshal(data, &f) != nil || f.Op == nil {
			c.fail(CloseDecodeError, "decode error")
			return
		}
		if code, reason := c.handle(*f.Op, f.D); code != 0 {
			c.fail(code, reason)
			return
		}
	}
}

// handle runs one inbound op; a non-zero code closes the connection.
func (c *conn) handle(op int, d json.RawMessage) (int, string) {
	switch op {
	case opHeartbeat:
		c.extend()
		if c.sess != nil {
			if c.revoked() {
				return 0, "" // EndSessions closed the connection with 4004
			}
			var seq *int64
			if json.Unmarshal(d, &seq) == nil && seq != nil {
				c.sess.ack(*seq)
			}
		}
		_ = c.writeControl(controlFrame(opHeartbeatACK, nil))
		return 0, ""
	case opIdentify:
		if c.sess != nil {
			return CloseAlreadyAuthenticated, "already authenticated"
		}
		code, reason := c.identify(d)
		c.extend()
		return code, reason
	case opResume:
		if c.sess != nil {
			return CloseAlreadyAuthenticated, "already authenticated"
		}
		code, reason := c.resume(d)
		c.extend()
		return code, reason
	case opPresenceUpdate, opVoiceStateUpdate, opRequestGuildMembers:
		if c.sess == nil {
			return CloseNotAuthenticated, "not authenticated"
		}
		switch op {
		case opPresenceUpdate:
			var p presenceData
			if json.Unmarshal(d, &p) != nil {
				return CloseDecodeError, "decode error"
			}
			req, err := p.request(time.Now())
			if err != nil {
				return CloseDecodeError, "invalid activities"
			}
			c.sess.setPresence(req)
			return 0, ""
		case opVoiceStateUpdate:
			return c.voiceStateUpdate(d)
		default:
			return c.requestMembers(d)
		}
	default:
		return CloseUnknownOpcode, "unknown opcode"
	}
}

// revoked rechecks, at most every RecheckInterval, that the connection's
// credential still holds, and ends its sessions when it does not: a
// revocation this process did not make (another node on the database, the
// operator's command) is noticed within one interval.
func (c *conn) revoked() bool {
	now := time.Now()
	if c.checked.IsZero() {
		c.checked = now
	}
	if now.Sub(c.checked) < c.g.cfg.RecheckInterval {
		return false
	}
	c.checked = now
	ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
	defer cancel()
	caller := c.sess.caller
	ok, err := c.g.p.StillValid(ctx, caller)
	if err != nil {
		c.g.log.Error("gateway: recheck credential", "user", caller.UserID, "err", err)
		return false
	}
	if !ok {
		c.g.EndSessions(caller.UserID, caller.Session)
	}
	return !ok
}

// ended handles a read error: a clean close by the client (1000/1001) ends
// the session, as on Discord; a silent client times out (4009, session
// ended); anything else leaves the session waiting for a resume.
func (c *conn) ended(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway):
		c.release(true)
	case errors.As(err, &ne) && ne.Timeout() && c.sess == nil:
		c.close(CloseNotAuthenticated, "identify timed out")
	case errors.As(err, &ne) && ne.Timeout():
		c.release(true)
		c.close(CloseSessionTimedOut, "session timed out")
	default:
		c.kill()
		c.release(false)
	}
}

// fail closes with code after a protocol error. The session survives for a
// resume except after a timeout.
func (c *conn) fail(code int, reason string) {
	// Release first: once the client reads the code, the session is in
	// the state that code promises.
	c.release(code == CloseSessionTimedOut)
	c.close(code, reason)
}

func (c *conn) release(end bool) {
	if c.sess != nil {
		c.g.detach(c.sess, c, end)
	}
}

// close sends a close frame with code and drops the connection.
func (c *conn) close(code int, reason string) {
	if !c.dead.Swap(true) {
		c.sendClose(code, reason)
	}
}

// closeAsync is close for callers that must not wait for the client.
func (c *conn) closeAsync(code int, reason string) {
	if !c.dead.Swap(true) {
		go c.sendClose(code, reason)
	}
}

// sendClose tries for a second to send the close frame: a client whose
// socket is full may never get it, and the connection is dropped anyway.
func (c *conn) sendClose(code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// kill drops the connection without a close frame.
func (c *conn) kill() {
	c.dead.Store(true)
	_ = c.ws.Close()
}

func (c *conn) writeControl(f []byte) error { return c.write(f, nil) }

func (c *conn) writeDispatch(seq int64, b *body) error {
	var buf [64]byte
	return c.write(dispatchPrefix(buf[:0], b.typ, seq), b)
}

// write sends head followed by tail's bytes as one message, compressed as
// the connection asked.
func (c *conn) write(head []byte, tail *body) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.g.cfg.WriteTimeout))
	frame, bin, release := encode(c.mode, !c.started, head, tail)
	if bin {
		c.started = true
		defer release()
		return c.ws.WriteMessage(websocket.BinaryMessage, frame)
	}
	w, err := c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	if tail != nil {
		if _, err := w.Write(tail.raw); err != nil {
			return err
		}
	}
	return w.Close()
}
