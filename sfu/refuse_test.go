package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"concord/federation/live"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

func wantClose(t *testing.T, c *client, code int) {
	t.Helper()
	ce := c.closeErr()
	if ce == nil || ce.Code != code {
		t.Fatalf("closed with %v, want %d", ce, code)
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name string
		tune func(*Config)
		run  func(t *testing.T, r *rig) *client
		code int
	}{
		{"wrong token", nil, func(t *testing.T, r *rig) *client {
			vs := r.join(t, 2, testVoice)
			c := r.dial(t, 2)
			vs.Token = "x" + vs.Token[1:]
			c.identify(vs)
			return c
		}, closeAuthFailed},
		{"token of another user", nil, func(t *testing.T, r *rig) *client {
			vs := r.join(t, 2, testVoice)
			c := r.dial(t, 3)
			vs.UserID = 3
			c.identify(vs)
			return c
		}, closeAuthFailed},
		{"expired token", func(c *Config) { c.TokenTTL = 50 * time.Millisecond }, func(t *testing.T, r *rig) *client {
			vs := r.join(t, 2, testVoice)
			time.Sleep(100 * time.Millisecond)
			c := r.dial(t, 2)
			c.identify(vs)
			return c
		}, closeAuthFailed},
		{"no CONNECT", nil, func(t *testing.T, r *rig) *client {
			r.guilds.deny(testVoice, 2, perm.Connect)
			return r.identifyIn(t, 2, testVoice)
		}, closeDisconnected},
		{"text channel", nil, func(t *testing.T, r *rig) *client {
			return r.identifyIn(t, 2, testText)
		}, closeDisconnected},
		{"channel full", nil, func(t *testing.T, r *rig) *client {
			r.guilds.edit(func(s *guildState) { s.Channels[testVoice].UserLimit = 1 })
			r.connect(t, 3, testVoice)
			return r.identifyIn(t, 2, testVoice)
		}, closeDisconnected},
		{"channel full of users of another node", nil, func(t *testing.T, r *rig) *client {
			r.guilds.edit(func(s *guildState) { s.Channels[testVoice].UserLimit = 1 })
			r.tell("node-b", 3, testVoice)
			return r.identifyIn(t, 2, testVoice)
		}, closeDisconnected},
		{"before identify", nil, func(t *testing.T, r *rig) *client {
			c := r.dial(t, 2)
			c.send(opSelectProtocol, map[string]any{"protocol": "webrtc"})
			return c
		}, closeNotAuthed},
		{"identify timeout", func(c *Config) { c.IdentifyTimeout = 100 * time.Millisecond }, func(t *testing.T, r *rig) *client {
			return r.dial(t, 2)
		}, closeNotAuthed},
		{"heartbeats without identify", func(c *Config) { c.IdentifyTimeout = 300 * time.Millisecond }, func(t *testing.T, r *rig) *client {
			c := r.dial(t, 2)
			for range 20 {
				c.send(opHeartbeat, map[string]int{"t": 1})
				time.Sleep(50 * time.Millisecond)
			}
			if len(c.ops(opHeartbeatACK)) == 0 {
				t.Error("heartbeats before identify not acknowledged")
			}
			return c
		}, closeNotAuthed},
		{"identify after a refused one", nil, func(t *testing.T, r *rig) *client {
			vs := r.join(t, 2, testVoice)
			c := r.dial(t, 2)
			c.send(opIdentify, identify{ServerID: vs.GuildID.String(), UserID: "2", SessionID: "gw-2", Token: "wrong"})
			c.identify(vs) // too late: the connection is closing
			time.Sleep(200 * time.Millisecond)
			if r.sfu.Sessions() != 0 {
				t.Error("a frame after the refusal was handled")
			}
			return c
		}, closeAuthFailed},
		{"unknown protocol", nil, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			c.send(opSelectProtocol, map[string]any{"protocol": "udp", "data": map[string]any{"address": "127.0.0.1", "port": 1, "mode": "aead_aes256_gcm_rtpsize"}})
			return c
		}, closeUnknownProtocol},
		{"malformed SDP", nil, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			c.send(opSelectProtocol, map[string]any{"protocol": "webrtc", "data": map[string]string{"sdp": "v=0\r\nnonsense"}})
			return c
		}, closeBadRequest},
		{"unsupported codec", nil, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			c.send(opSelectProtocol, map[string]any{"protocol": "webrtc", "sdp": pcmuOffer(t)})
			return c
		}, closeBadRequest},
		{"server's offer unanswered", func(c *Config) { c.ConnectTimeout = time.Second }, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			c.mu.Lock()
			c.deaf = true
			c.mu.Unlock()
			c.offer(true)
			c.waitConnected()
			r.connect(t, 3, testVoice).speak("x", 5, 127)
			return c
		}, closeTimeout},
		{"unknown simulcast RID", nil, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			c.addVideo("camera", []int{1, 1}, "q", "x")
			o, _ := c.up.CreateOffer(nil)
			c.send(opSelectProtocol, map[string]any{"protocol": "webrtc", "sdp": o.SDP})
			return c
		}, closeBadRequest},
		{"unknown opcode", nil, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			c.send(99, nil)
			return c
		}, closeUnknownOpcode},
		{"second identify", nil, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			c.send(opIdentify, identify{})
			return c
		}, closeAlreadyAuthed},
		{"frame flood", func(c *Config) { c.FramesPerMinute = 20 }, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			for range 30 {
				c.send(opHeartbeat, map[string]int{"t": 1})
			}
			return c
		}, closeRateLimited},
		{"media never connects", func(c *Config) { c.ConnectTimeout = 300 * time.Millisecond }, func(t *testing.T, r *rig) *client {
			c := r.identified(t, 2)
			// An offer whose ICE never completes: its candidates are
			// left out and the answer is never applied.
			c.send(opSelectProtocol, map[string]any{"protocol": "webrtc", "sdp": noCandidateOffer(t)})
			return c
		}, closeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, 3, tt.tune)
			c := tt.run(t, r)
			wantClose(t, c, tt.code)
			waitFor(t, "no session", 2*time.Second, func() bool { return r.sfu.Sessions() <= 1 })
		})
	}
}

// identifyIn joins user to ch and sends Identify.
func (r *rig) identifyIn(t *testing.T, user, ch snowflake.ID) *client {
	vs := r.join(t, user, ch)
	c := r.dial(t, user)
	c.identify(vs)
	return c
}

// identified is a client past Identify and Ready.
func (r *rig) identified(t *testing.T, user snowflake.ID) *client {
	c := r.identifyIn(t, user, testVoice)
	c.wait(opReady)
	return c
}

func pcmuOffer(t *testing.T) string {
	m := &webrtc.MediaEngine{}
	m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}, webrtc.RTPCodecTypeAudio)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio)
	o, _ := pc.CreateOffer(nil)
	return o.SDP
}

func noCandidateOffer(t *testing.T) string {
	pc, err := newClientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio)
	o, _ := pc.CreateOffer(nil)
	return o.SDP
}

// A client sending two tracks of one source gets one forwarded; the other
// is read and dropped, and leaving ends cleanly.
func TestSecondTrackOfASource(t *testing.T) {
	r := newRig(t, 3, nil)
	a := r.connect(t, 2, testVoice)
	b := r.connect(t, 3, testVoice)
	dup, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "microphone", "2")
	s, err := a.up.AddTrack(dup)
	if err != nil {
		t.Fatal(err)
	}
	go drain(s)
	a.negotiate()
	go func() {
		for i := range 25 {
			dup.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960)},
				Payload: []byte("dup")})
			time.Sleep(20 * time.Millisecond)
		}
	}()
	a.speak("first", 25, 127)
	waitFor(t, "a microphone", 5*time.Second, func() bool { return len(b.got(2, "microphone")) > 10 })
	kinds := map[bool]bool{}
	for _, p := range b.got(2, "microphone") {
		kinds[string(p.Payload) == "dup"] = true
	}
	if len(kinds) != 1 {
		t.Fatal("both microphones were forwarded")
	}
	r.hub.SetVoice(live.VoiceState{GuildID: testGuild, UserID: 2, SessionID: "gw-2"})
	wantClose(t, a, closeDisconnected)
	waitFor(t, "one session", 2*time.Second, func() bool { return r.sfu.Sessions() == 1 })
}

// A client flooding its microphone gets through what a real one could
// send, not the flood: 3,000 packets a second arrive as 250 a second.
func TestFloodIsBounded(t *testing.T) {
	r := newRig(t, 3, nil)
	a := r.connect(t, 2, testVoice)
	b := r.connect(t, 3, testVoice)
	a.speak("start", 25, 127)
	waitFor(t, "audio", 2*time.Second, func() bool { return len(b.got(2, "microphone")) > 10 })
	time.Sleep(time.Second) // the bucket fills again
	before := len(b.got(2, "microphone"))
	start := time.Now()
	for i := range 100 {
		for j := range 30 {
			seq := uint16(100 + i*30 + j)
			a.mic.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(seq) * 960},
				Payload: []byte("flood")})
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	got := len(b.got(2, "microphone")) - before
	// A second's burst, then 250 a second; on a starved machine the
	// socket drops some of the flood before the SFU reads it.
	most := 250 + int(250*elapsed.Seconds()) + 25
	if got > most || got < 50 {
		t.Fatalf("%d of 3000 packets forwarded in %v; want some, at most %d", got, elapsed.Round(time.Millisecond), most)
	}
	t.Logf("%d of 3000 packets forwarded in %v", got, elapsed.Round(time.Millisecond))
}
