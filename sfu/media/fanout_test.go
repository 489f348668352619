package media

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// sink records what it is sent.
type sink struct {
	bitrate atomic.Uint64
	got     []Packet
}

func (s *sink) Write(p *Packet) error {
	q := *p
	q.Payload = append([]byte(nil), p.Payload...)
	s.got = append(s.got, q)
	return nil
}

func (s *sink) Bitrate() uint64 { return s.bitrate.Load() }

// source writes three simulcast layers of VP8-like packets: each layer's
// sequence numbers and timestamps start elsewhere, a frame is 3 packets
// and a keyframe comes every keyEvery frames.
type source struct {
	f        *Fanout
	seq      [3]uint16
	ts       [3]uint32
	frame    int
	keyEvery int
	keys     atomic.Int32 // frames still to start with a keyframe: set by a request
}

// awaitKeyRequest waits until a keyframe was asked for.
func (s *source) awaitKeyRequest(t *testing.T) {
	for deadline := time.Now().Add(5 * time.Second); s.keys.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no keyframe asked for")
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *source) frames(n int) {
	for range n {
		s.frame++
		// A request that arrives while the frame is written is for the
		// next one: taken now, it would be spent without a keyframe.
		key := s.keys.Load() > 0
		for l := range 3 {
			s.ts[l] += 3000
			for i := range 3 {
				// Bigger layers send more: 1, 4 and 16 bytes per packet
				// stand for the bitrates.
				size := 1 << (2 * l)
				p := &Packet{Layer: l, Payload: make([]byte, 100*size)}
				p.Payload[0] = byte(l)
				p.SequenceNumber, p.Timestamp = s.seq[l], s.ts[l]
				p.Marker = i == 2
				p.Keyframe = i == 0 && (s.frame%s.keyEvery == 0 || key)
				s.seq[l]++
				s.f.Write(p)
			}
		}
		if key {
			s.keys.Add(-1)
		}
	}
}

func TestLayerSwitchesOnlyAtKeyframes(t *testing.T) {
	var src *source
	f := NewFanout(Info{Kind: Video, Layers: 3, Codec: webrtc.RTPCodecCapability{MimeType: "video/VP8", ClockRate: 90000}},
		func(int) { src.keys.Store(1) })
	src = &source{f: f, seq: [3]uint16{100, 30000, 65500}, ts: [3]uint32{5, 1 << 31, 77}, keyEvery: 1000}
	// Measure the layers before anyone subscribes.
	for range 30 {
		src.frames(1)
		time.Sleep(40 * time.Millisecond)
	}
	s := &sink{}
	f.Subscribe(s)         // no limit: the top layer
	src.awaitKeyRequest(t) // the keyframe request is asynchronous
	src.frames(10)
	s.bitrate.Store(1) // below everything: the lowest
	f.mu.Lock()
	for _, w := range f.fwd {
		w.chosen = time.Time{}
	}
	f.mu.Unlock()
	time.Sleep(KeyframeInterval)
	src.frames(1) // chooses again, asks for a keyframe of the lowest
	src.awaitKeyRequest(t)
	src.frames(10)
	if len(s.got) == 0 {
		t.Fatal("nothing forwarded")
	}
	layers := map[byte]bool{}
	for i, p := range s.got {
		layers[p.Payload[0]] = true
		if i == 0 {
			if !p.Keyframe {
				t.Fatal("started without a keyframe")
			}
			continue
		}
		prev := s.got[i-1]
		if p.SequenceNumber != prev.SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, p.SequenceNumber, prev.SequenceNumber)
		}
		if p.Payload[0] != prev.Payload[0] {
			if !p.Keyframe {
				t.Fatalf("packet %d: switched from layer %d to %d without a keyframe", i, prev.Payload[0], p.Payload[0])
			}
			if d := p.Timestamp - prev.Timestamp; d == 0 || d > 90000 {
				t.Errorf("packet %d: timestamp jumped by %d at the switch", i, d)
			}
		}
	}
	if !layers[2] || !layers[0] {
		t.Errorf("layers forwarded %v, want the top then the lowest", layers)
	}
}

func TestPauseKeepsSequenceContinuous(t *testing.T) {
	f := NewFanout(Info{Kind: Audio, Codec: webrtc.RTPCodecCapability{MimeType: "audio/opus", ClockRate: 48000}}, nil)
	s := &sink{}
	f.Subscribe(s)
	seq := uint16(65530)
	send := func(n int) {
		for range n {
			f.Write(&Packet{Header: rtpHeader(seq, uint32(seq)*960), Payload: []byte{1}})
			seq++
		}
	}
	send(5)
	f.SetPaused(true)
	send(50)
	f.SetPaused(false)
	send(5)
	if len(s.got) != 10 {
		t.Fatalf("forwarded %d packets, want 10", len(s.got))
	}
	for i := 1; i < len(s.got); i++ {
		if s.got[i].SequenceNumber != s.got[i-1].SequenceNumber+1 {
			t.Fatalf("seq %d after %d", s.got[i].SequenceNumber, s.got[i-1].SequenceNumber)
		}
	}
}

func TestIsKeyframe(t *testing.T) {
	for _, tt := range []struct {
		codec   string
		payload []byte
		want    bool
	}{
		{"video/VP8", []byte{0x10, 0x00}, true},
		{"video/VP8", []byte{0x10, 0x01}, false},
		{"video/VP8", []byte{0x00, 0x00}, false},                        // not a partition start
		{"video/VP8", []byte{0x90, 0x80, 0x81, 0x02, 0x00}, true},       // X, I with a 2-byte picture ID
		{"video/VP8", []byte{0x90, 0xe0, 0x05, 0x01, 0x20, 0x00}, true}, // X, I, L, T
		{"video/VP9", []byte{0x08}, true},
		{"video/VP9", []byte{0x48}, false},
		{"video/H264", []byte{0x65}, true},                   // IDR
		{"video/H264", []byte{0x61}, false},                  // non-IDR slice
		{"video/H264", []byte{0x7c, 0x85}, true},             // FU-A start of an IDR
		{"video/H264", []byte{0x78, 0x00, 0x01, 0x67}, true}, // STAP-A with an SPS
		{"video/H264", []byte{0x78, 0x00, 0x09}, false},      // truncated STAP-A
		{"audio/opus", []byte{0x10, 0x00}, false},
	} {
		if got := IsKeyframe(tt.codec, tt.payload); got != tt.want {
			t.Errorf("IsKeyframe(%s, % x) = %v, want %v", tt.codec, tt.payload, got, tt.want)
		}
	}
}

func rtpHeader(seq uint16, ts uint32) rtp.Header {
	return rtp.Header{SequenceNumber: seq, Timestamp: ts}
}

// vp8Packet is a VP8 packet with a 15-bit picture ID and a TL0PICIDX.
func vp8Packet(layer int, seq uint16, pic uint16, tl0 uint8, key bool) *Packet {
	hdr := byte(1) // inter frame
	if key {
		hdr = 0
	}
	payload := []byte{0x90, 0xc0, 0x80 | byte(pic>>8), byte(pic), tl0, hdr, byte(layer)}
	return &Packet{Header: rtpHeader(seq, uint32(seq)*3000), Payload: payload, Layer: layer, Keyframe: key}
}

func TestVP8PictureIDsRunOnAcrossSwitches(t *testing.T) {
	f := NewFanout(Info{Kind: Video, Layers: 2, Codec: webrtc.RTPCodecCapability{MimeType: "video/VP8", ClockRate: 90000}}, nil)
	s := &sink{}
	f.Subscribe(s) // nothing measured: the top layer
	// Each layer numbers its own pictures; a frame is one packet here.
	for i := range 5 {
		f.Write(vp8Packet(1, uint16(100+i), uint16(32760+i), uint8(250+i), i == 0))
		f.Write(vp8Packet(0, uint16(9000+i), uint16(7+i), uint8(3+i), i == 0))
	}
	f.mu.Lock()
	f.fwd[0].target = 0
	f.mu.Unlock()
	for i := 5; i < 10; i++ {
		f.Write(vp8Packet(1, uint16(100+i), uint16(32760+i), uint8(250+i), false))
		f.Write(vp8Packet(0, uint16(9000+i), uint16(7+i), uint8(3+i), i == 7))
	}
	var pics []uint16
	var tl0s []uint8
	for _, p := range s.got {
		d, ok := parseVP8(p.Payload)
		if !ok || d.picBits != 15 {
			t.Fatalf("forwarded descriptor % x", p.Payload)
		}
		pics = append(pics, uint16(p.Payload[d.pic]&0x7f)<<8|uint16(p.Payload[d.pic+1]))
		tl0s = append(tl0s, p.Payload[d.tl0])
	}
	// Layer 1's first 8 frames, then layer 0's from its keyframe (7).
	if len(pics) != 11 || s.got[7].Payload[6] != 1 || s.got[8].Payload[6] != 0 {
		t.Fatalf("forwarded %d packets; want 11, switching at the 9th", len(pics))
	}
	for i := 1; i < len(pics); i++ {
		if pics[i] != (pics[i-1]+1)&0x7fff || tl0s[i] != tl0s[i-1]+1 {
			t.Fatalf("packet %d: picture ID %d after %d, TL0PICIDX %d after %d", i, pics[i], pics[i-1], tl0s[i], tl0s[i-1])
		}
	}
	// The source's packets are left as they came, for the next sink.
	p := vp8Packet(0, 9010, 17, 13, false)
	f.Write(p)
	if p.Payload[3] != 17 || p.Payload[4] != 13 {
		t.Errorf("the source's packet was changed: % x", p.Payload)
	}
}

// A receiver whose estimate cannot show room for the next layer (GCC
// rises to at most half again what it takes) tries it after a while,
// keeps it while the estimate does not fall, and backs off when it does.
func TestProbeLayerUp(t *testing.T) {
	f := NewFanout(Info{Kind: Video, Layers: 3, Codec: webrtc.RTPCodecCapability{MimeType: "video/VP8", ClockRate: 90000}}, nil)
	s := &sink{}
	s.bitrate.Store(500_000)
	f.Subscribe(s)
	w := f.fwd[0]
	t0 := time.Now()
	steps := []struct {
		at     time.Duration
		budget uint64
		want   int
	}{
		{0, 500_000, 1},
		{3 * time.Second, 500_000, 1},
		{4 * time.Second, 500_000, 2}, // tried
		{5 * time.Second, 520_000, 2}, // not congested: kept
		{6 * time.Second, 400_000, 1}, // fell by more than a tenth: back
		{13 * time.Second, 500_000, 1},
		{14 * time.Second, 500_000, 2},   // tried again, 8 s later
		{15 * time.Second, 1_300_000, 2}, // fits now
		{30 * time.Second, 1_300_000, 2},
	}
	for _, st := range steps {
		now := t0.Add(st.at)
		for l, bps := range []uint64{150_000, 400_000, 1_200_000} {
			f.rates[l] = rate{start: now, bps: bps}
		}
		s.bitrate.Store(st.budget)
		w.target = f.chooseLayer(w, now)
		if w.target != st.want {
			t.Fatalf("at %v with %d bps: layer %d, want %d", st.at, st.budget, w.target, st.want)
		}
	}
}
