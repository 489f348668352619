package sfu

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"concord/federation/snowflake"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// The token travels in identify, never in a cookie: a cross-origin
	// page gains nothing by connecting.
	CheckOrigin: func(*http.Request) bool { return true },
}

// serveVoice runs one voice gateway connection: Hello, then identify or
// resume within IdentifyTimeout, then the session's opcodes until the
// connection ends. A client address with as many open as Admit allows is
// refused with 429.
func (s *SFU) serveVoice(w http.ResponseWriter, r *http.Request) {
	if s.admitConn != nil {
		release, ok := s.admitConn(r)
		if !ok {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many voice connections from this address", http.StatusTooManyRequests)
			return
		}
		defer release()
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := newConn(ws)
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		c.localIP = a.IP.String()
	}
	hello, _ := json.Marshal(map[string]any{"v": voiceGatewayVersion, "heartbeat_interval": s.cfg.HeartbeatInterval.Milliseconds()})
	c.send(marshal(opHello, hello, nil))

	c.limit = newWindow(s.cfg.FramesPerMinute, time.Minute)
	ws.SetReadDeadline(time.Now().Add(s.cfg.IdentifyTimeout))
	ss, code, reason := s.read(c)
	switch {
	case ss == nil:
		c.close(code, reason)
	case code == 0:
		ss.detach(c) // dropped: the session waits for a resume
	case code == closeDecode || code == closeRateLimited:
		c.close(code, reason)
		ss.detach(c)
	default:
		c.close(code, reason)
		ss.end(code, reason, code == closeDisconnected)
	}
}

// read handles c's frames until one ends the connection, and says how
// (0: it dropped), with the session once identified or resumed. No frame
// is handled after the one that ends it.
func (s *SFU) read(c *wsConn) (*session, int, string) {
	var ss *session
	for {
		_, data, err := c.ws.ReadMessage()
		switch {
		case err != nil && ss == nil:
			return nil, closeNotAuthed, "identify timed out"
		case err != nil:
			return ss, 0, ""
		case !c.limit.allow(time.Now()):
			return ss, closeRateLimited, "too many frames"
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			return ss, closeDecode, "decode error"
		}
		switch {
		case ss == nil && f.Op == opHeartbeat:
			// Answered, but it does not put off the identify deadline.
			heartbeatACK(c, f)
			continue
		case ss == nil:
			var code int
			var reason string
			if ss, code, reason = s.authenticate(c, f); code != 0 {
				return nil, code, reason
			}
		default:
			if code, reason := ss.handle(c, f); code != 0 {
				return ss, code, reason
			}
		}
		// A client sends a heartbeat at least every interval.
		c.ws.SetReadDeadline(time.Now().Add(s.cfg.HeartbeatInterval * 3 / 2))
	}
}

// authenticate handles the first frame: identify or resume.
func (s *SFU) authenticate(c *wsConn, f frame) (*session, int, string) {
	switch f.Op {
	case opIdentify:
		var d identify
		if json.Unmarshal(f.D, &d) != nil {
			return nil, closeDecode, "decode error"
		}
		guildID, err1 := snowflake.Parse(d.ServerID)
		userID, err2 := snowflake.Parse(d.UserID)
		if err1 != nil || err2 != nil {
			return nil, closeAuthFailed, "invalid server_id or user_id"
		}
		g := s.check(d.Token, guildID, userID, d.SessionID)
		if g == nil {
			return nil, closeAuthFailed, "invalid or expired token"
		}
		return s.open(g, c)
	case opResume:
		var d resume
		if json.Unmarshal(f.D, &d) != nil {
			return nil, closeDecode, "decode error"
		}
		return s.resume(c, d)
	}
	return nil, closeNotAuthed, "not authenticated"
}

// handle is one frame of an identified connection.
func (ss *session) handle(c *wsConn, f frame) (int, string) {
	switch f.Op {
	case opHeartbeat:
		if seqAck := heartbeatACK(c, f); seqAck != nil {
			ss.ack(*seqAck)
		}
	case opSelectProtocol:
		var d selectProtocol
		if json.Unmarshal(f.D, &d) != nil {
			return closeDecode, "decode error"
		}
		switch d.Protocol {
		case "webrtc":
			return ss.offer(d.offer())
		case "udp":
			return ss.selectUDP(d.Data)
		}
		return closeUnknownProtocol, "the protocols served are webrtc and udp"
	case opSessionDesc:
		var d sessionDesc
		if json.Unmarshal(f.D, &d) != nil {
			return closeDecode, "decode error"
		}
		switch d.Type {
		case "offer":
			return ss.offer(d.SDP)
		case "answer":
			return ss.answer(c, d.SDP)
		}
		return closeBadRequest, "session description type must be offer or answer"
	case opIdentify, opResume:
		return closeAlreadyAuthed, "already authenticated"
	case opSpeaking:
		// Who speaks is read from the audio itself; a WebRTC client says
		// only whether it speaks as a priority speaker. A UDP client's
		// audio has no level: its word says whether it speaks. A
		// malformed op 5 is no reason to close.
		var d speaking
		json.Unmarshal(f.D, &d)
		ss.setSpeaking(int(d.Speaking))
	case opWatch:
		var d watch
		if json.Unmarshal(f.D, &d) != nil {
			return closeDecode, "decode error"
		}
		user, err := snowflake.Parse(d.UserID)
		if err != nil {
			return closeDecode, "decode error"
		}
		ss.watch(user, d.Watch)
	case opVideo, opClientFlags, opClientPlatform:
		// What a client sends is read from its SDP.
	default:
		return closeUnknownOpcode, "unknown opcode " + strconv.Itoa(f.Op)
	}
	return 0, ""
}

// heartbeatACK answers a heartbeat and returns the seq_ack it carries.
func heartbeatACK(c *wsConn, f frame) *int64 {
	var d heartbeat
	if json.Unmarshal(f.D, &d) != nil || d.T == nil {
		// v4 and older: d is the nonce itself.
		d.T = f.D
	}
	ack, _ := json.Marshal(map[string]json.RawMessage{"t": d.T})
	c.send(marshal(opHeartbeatACK, ack, nil))
	return d.SeqAck
}

func marshal(op int, d json.RawMessage, seq *int64) []byte {
	b, _ := json.Marshal(frame{Op: op, D: d, Seq: seq}) // plain data always marshals
	return b
}

// window counts frames in a fixed window of time.
type window struct {
	max   int
	span  time.Duration
	start time.Time
	n     int
}

func newWindow(max int, span time.Duration) *window { return &window{max: max, span: span} }

// refund uncounts a frame: one the server asked for.
func (w *window) refund() { w.n-- }

func (w *window) allow(now time.Time) bool {
	if now.Sub(w.start) >= w.span {
		w.start, w.n = now, 0
	}
	w.n++
	return w.n <= w.max
}
