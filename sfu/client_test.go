package sfu

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// client is a pure-Go voice client: Discord's voice gateway over a
// WebSocket, and pion PeerConnections for what it sends and receives.
type client struct {
	t    testing.TB
	user snowflake.ID
	ws   *websocket.Conn
	api  *webrtc.API
	up   *webrtc.PeerConnection
	down *webrtc.PeerConnection
	mic  *webrtc.TrackLocalStaticRTP
	vs   live.VoiceServer // what it identified with

	wmu sync.Mutex // one writer on ws

	mu       sync.Mutex
	frames   []frame
	closed   *websocket.CloseError
	received map[string][]*rtp.Packet // by sender's stream ID (user) and track ID
	sink     func(payload []byte)     // when set, takes payloads instead of received
	answers  chan string
	done     chan struct{}
	deaf     bool // leaves the server's offers unanswered
	micSeq   atomic.Uint32
}

func newClientAPI(t testing.TB) *webrtc.API { return newClientAPIOn(t, nil, true) }

// newClientAPIOn builds the client's pion API on vn, a virtual network,
// or on loopback when vn is nil. Without interceptors the client sends no
// NACKs, reports or congestion feedback: a benchmark's load generator,
// leaving the cores to the SFU.
func newClientAPIOn(t testing.TB, vn *vnet.Net, interceptors bool) *webrtc.API {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio)
	reg := &interceptor.Registry{}
	if interceptors {
		if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
			t.Fatal(err)
		}
	}
	// The client's complaints about packets racing a renegotiation are
	// noise here; what a test checks is what arrives.
	logs := logging.NewDefaultLoggerFactory()
	logs.DefaultLogLevel = logging.LogLevelDisabled
	s := webrtc.SettingEngine{LoggerFactory: logs}
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if vn != nil {
		s.SetNet(vn)
	} else {
		s.SetIncludeLoopbackCandidate(true)
		s.SetIPFilter(loopbackOnly)
	}
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s))
}

// dial opens the voice gateway and reads Hello.
func (r *rig) dial(t testing.TB, user snowflake.ID) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(r.url+"?v=8", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, user: user, ws: ws, api: newClientAPIOn(t, nil, r.remote == nil), received: map[string][]*rtp.Packet{},
		answers: make(chan string, 4), done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	c.wait(opHello)
	return c
}

// connect joins user to ch and runs the whole handshake: identify, Ready,
// an offer with a microphone track, the answer, and connected media.
func (r *rig) connect(t testing.TB, user, ch snowflake.ID) *client {
	t.Helper()
	vs := r.join(t, user, ch)
	c := r.dial(t, user)
	c.identify(vs)
	c.wait(opReady)
	c.offer(true)
	c.waitConnected()
	return c
}

func (c *client) send(op int, d any) {
	b, _ := json.Marshal(d)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.WriteMessage(websocket.TextMessage, marshal(op, b, nil))
}

func (c *client) identify(vs live.VoiceServer) {
	c.vs = vs
	c.send(opIdentify, identify{ServerID: vs.GuildID.String(), UserID: vs.UserID.String(), SessionID: "gw-" + vs.UserID.String(), Token: vs.Token})
}

// watch starts (or stops) receiving user's screen share.
func (c *client) watch(user snowflake.ID, on bool) {
	c.send(opWatch, watch{UserID: user.String(), Watch: on})
}

// offer opens the up connection, with a microphone track if mic, sends
// op 1 and applies the answer.
func (c *client) offer(mic bool) {
	c.t.Helper()
	c.newUp()
	if mic {
		c.mic, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "microphone", c.user.String())
		s, err := c.up.AddTrack(c.mic)
		if err != nil {
			c.t.Fatal(err)
		}
		go drain(s)
	}
	c.negotiate()
}

func (c *client) newUp() {
	if c.up != nil {
		return
	}
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.up = pc
}

// negotiate offers the up connection as it is now: op 1 the first time,
// op 4 after.
func (c *client) negotiate() {
	c.t.Helper()
	pc := c.up
	o, _ := pc.CreateOffer(nil)
	done := webrtc.GatheringCompletePromise(pc)
	pc.SetLocalDescription(o)
	<-done
	if pc.RemoteDescription() == nil {
		c.send(opSelectProtocol, map[string]any{"protocol": "webrtc", "data": map[string]string{"sdp": pc.LocalDescription().SDP}})
	} else {
		c.send(opSessionDesc, sessionDesc{Type: "offer", SDP: pc.LocalDescription().SDP})
	}
	select {
	case a := <-c.answers:
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a}); err != nil {
			c.t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		c.t.Fatal("no answer; close:", c.closeErr())
	}
}

func drain(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

func (c *client) waitConnected() {
	c.t.Helper()
	waitFor(c.t, "media connected", 20*time.Second, func() bool {
		return c.up.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
}

// read runs the client's side of the gateway: frames are kept, offers of
// the down connection answered.
func (c *client) read() {
	defer close(c.done)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			if ce, ok := err.(*websocket.CloseError); ok {
				c.closed = ce
			}
			c.mu.Unlock()
			return
		}
		var f frame
		json.Unmarshal(b, &f)
		if f.Op == opSessionDesc {
			var d sessionDesc
			json.Unmarshal(f.D, &d)
			c.mu.Lock()
			deaf := c.deaf
			c.mu.Unlock()
			switch {
			case d.Type == "answer":
				c.answers <- d.SDP
			case !deaf:
				c.answerDown(d.SDP)
			}
		}
		c.mu.Lock()
		c.frames = append(c.frames, f)
		c.mu.Unlock()
	}
}

// answerDown applies the SFU's offer of what this client receives.
func (c *client) answerDown(offer string) {
	if c.down == nil {
		pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return
		}
		pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			key := tr.StreamID() + "/" + tr.ID()
			buf := make([]byte, 1500)
			var scratch rtp.Packet // a benchmark's sink reads it in place
			for {
				n, _, err := tr.Read(buf)
				if err != nil {
					return
				}
				c.mu.Lock()
				sink := c.sink
				c.mu.Unlock()
				if sink != nil {
					if scratch.Unmarshal(buf[:n]) == nil {
						sink(scratch.Payload)
					}
					continue
				}
				p := &rtp.Packet{}
				if p.Unmarshal(append([]byte(nil), buf[:n]...)) != nil {
					continue
				}
				c.mu.Lock()
				c.received[key] = append(c.received[key], p)
				c.mu.Unlock()
			}
		})
		c.mu.Lock()
		c.down = pc
		c.mu.Unlock()
	}
	if err := c.down.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return
	}
	a, _ := c.down.CreateAnswer(nil)
	done := webrtc.GatheringCompletePromise(c.down)
	c.down.SetLocalDescription(a)
	<-done
	c.send(opSessionDesc, sessionDesc{Type: "answer", SDP: c.down.LocalDescription().SDP})
}

// wait returns the first frame with op, waiting for it.
func (c *client) wait(op int) frame {
	c.t.Helper()
	var f frame
	waitFor(c.t, fmt.Sprint("op ", op), 5*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, x := range c.frames {
			if x.Op == op {
				f = x
				return true
			}
		}
		return c.closed != nil
	})
	if f.D == nil {
		c.t.Fatalf("no op %d; closed: %v", op, c.closeErr())
	}
	return f
}

// ops lists the frames with op received so far.
func (c *client) ops(op int) []frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []frame
	for _, f := range c.frames {
		if f.Op == op {
			out = append(out, f)
		}
	}
	return out
}

// closeErr waits briefly for the connection to close and says how.
func (c *client) closeErr() *websocket.CloseError {
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// got returns the packets received from user's track id.
func (c *client) got(user snowflake.ID, id string) []*rtp.Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*rtp.Packet(nil), c.received[user.String()+"/"+id]...)
}

// speak sends n Opus packets 20 ms apart, with payload text+seq and the
// given audio level. Sequence numbers and timestamps go on from the last
// call: the server's SRTP drops what repeats them as replays.
func (c *client) speak(text string, n int, level uint8) {
	ext, _ := rtp.AudioLevelExtension{Level: level, Voice: level < 127}.Marshal()
	levelID := 0
	for _, e := range c.upSender().GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			levelID = e.ID
		}
	}
	for i := range n {
		seq := c.micSeq.Add(1)
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(seq), Timestamp: uint32(seq * 960)},
			Payload: []byte(fmt.Sprintf("%s:%d", text, i))}
		if levelID != 0 {
			p.Header.SetExtension(uint8(levelID), ext)
		}
		c.mic.WriteRTP(p)
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *client) upSender() *webrtc.RTPSender {
	for _, s := range c.up.GetSenders() {
		if s.Track() != nil {
			return s
		}
	}
	c.t.Fatal("no sender")
	return nil
}

func (c *client) close() {
	c.ws.Close()
	<-c.done
	for _, pc := range []*webrtc.PeerConnection{c.up, c.down} {
		if pc != nil {
			pc.Close()
		}
	}
}
