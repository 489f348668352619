package udp

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"concord/sfu/media"
)

// Conn is one client's UDP voice connection. It is bound to an address by
// the client's IP discovery (and follows the client to a new address
// when a packet from there authenticates), and carries media once Select
// has chosen its mode and key.
type Conn struct {
	srv     *Server
	ssrc    uint32
	owner   uint64
	publish func(*Track)

	state    atomic.Pointer[state] // where to send, and how to seal
	speaking atomic.Bool           // the client's op 5 says it speaks

	mu     sync.Mutex
	addr   *net.UDPAddr
	crypt  Crypt
	mic    *Track
	flood  *media.Flood // only the socket's goroutine uses it
	sinks  map[media.Track]*sink
	closed bool
}

type state struct {
	addr  *net.UDPAddr
	crypt Crypt
}

// SSRC is the connection's: the client sends with it.
func (c *Conn) SSRC() uint32 { return c.ssrc }

// Bound reports whether the client's IP discovery (or an authenticated
// packet) told the connection where the client is.
func (c *Conn) Bound() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr != nil
}

// Select sets the encryption mode, with a fresh key, which it returns.
// It can be done once.
func (c *Conn) Select(mode string) ([KeySize]byte, error) {
	var key [KeySize]byte
	rand.Read(key[:])
	cr, err := NewCrypt(mode, &key)
	if err != nil {
		return key, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crypt != nil {
		return key, errors.New("the encryption mode is already selected")
	}
	c.crypt = cr
	c.publishState()
	return key, nil
}

// SetSpeaking takes the client's op 5: while it says it speaks, the
// audio it sends counts as speech (bots send no audio level).
func (c *Conn) SetSpeaking(on bool) { c.speaking.Store(on) }

// Close stops sending and receiving; the published track ends.
func (c *Conn) Close() {
	c.srv.forget(c)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	mic, sinks := c.mic, c.sinks
	c.sinks = map[media.Track]*sink{}
	c.state.Store(nil)
	c.mu.Unlock()
	for t, s := range sinks {
		t.Unsubscribe(s)
	}
	if mic != nil {
		close(mic.done)
	}
}

// bind sets the client's address from its IP discovery; a connection
// already bound elsewhere keeps its address.
func (c *Conn) bind(addr *net.UDPAddr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.addr != nil && !same(c.addr, addr) {
		return false
	}
	c.addr = addr
	c.publishState()
	return true
}

func same(a, b *net.UDPAddr) bool { return a.IP.Equal(b.IP) && a.Port == b.Port }

// publishState makes addr and crypt what sinks read. c.mu is held.
func (c *Conn) publishState() {
	if c.addr != nil && c.crypt != nil && !c.closed {
		c.state.Store(&state{addr: c.addr, crypt: c.crypt})
	}
}

// receive takes one RTP packet from the client, on the socket's
// goroutine: it must authenticate, come from where the client is (or move
// the client there), carry Opus, and fit the flood limit.
func (c *Conn) receive(p []byte, from *net.UDPAddr) {
	st := c.state.Load()
	if st == nil || p[1]&0x7f != opusPayload {
		return
	}
	payload, ok := st.crypt.Open(p)
	if !ok || len(payload) == 0 {
		return
	}
	now := time.Now()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if !same(c.addr, from) {
		c.addr = from // the client's NAT moved it
		c.publishState()
	}
	mic, fresh := c.mic, false
	if mic == nil {
		info := media.Info{ID: strconv.FormatUint(c.owner, 10) + "-udp", Owner: c.owner, Kind: media.Audio,
			Source: media.Microphone, Codec: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}
		mic = &Track{Fanout: media.NewFanout(info, nil), done: make(chan struct{})}
		c.mic, c.flood, fresh = mic, media.NewFlood(media.Audio), true
	}
	flood := c.flood
	c.mu.Unlock()
	if fresh {
		c.publish(mic)
	}
	if !flood.Allow(len(p), now) {
		return
	}
	// Bots send no audio level: what they send while they say they
	// speak is speech, but for Opus's 3-byte silence frames.
	level := uint8(127)
	if c.speaking.Load() && len(payload) > 3 {
		level = 30
	}
	mic.Write(&media.Packet{Header: rtp.Header{Version: 2, Marker: p[1]&0x80 != 0, PayloadType: opusPayload,
		SequenceNumber: binary.BigEndian.Uint16(p[2:4]), Timestamp: binary.BigEndian.Uint32(p[4:8]), SSRC: c.ssrc},
		Payload: payload, HasLevel: true, Level: level, Voice: level < 127})
}

// Track is the audio a client sends: its microphone.
type Track struct {
	*media.Fanout
	done chan struct{}
}

// Done is closed when the connection closes.
func (t *Track) Done() <-chan struct{} { return t.done }

// ErrAudioOnly refuses a video track: the UDP protocol here carries audio.
var ErrAudioOnly = errors.New("the UDP voice protocol carries audio only")

// Add starts sending t to the client, with an SSRC of its own (op 5 tells
// the client whose it is: SSRCOf).
func (c *Conn) Add(t media.Track) error {
	if t.Info().Kind != media.Audio {
		return ErrAudioOnly
	}
	c.mu.Lock()
	if c.closed || c.sinks[t] != nil {
		c.mu.Unlock()
		return nil
	}
	s := &sink{c: c, info: t.Info()}
	for s.ssrc == 0 || s.ssrc == c.ssrc || c.taken(s.ssrc) {
		s.ssrc = randomSSRC()
	}
	c.sinks[t] = s
	c.mu.Unlock()
	t.Subscribe(s)
	return nil
}

// taken reports whether a sink sends with ssrc. c.mu is held.
func (c *Conn) taken(ssrc uint32) bool {
	for _, s := range c.sinks {
		if s.ssrc == ssrc {
			return true
		}
	}
	return false
}

// Remove stops sending t.
func (c *Conn) Remove(t media.Track) {
	c.mu.Lock()
	s := c.sinks[t]
	delete(c.sinks, t)
	c.mu.Unlock()
	if s != nil {
		t.Unsubscribe(s)
	}
}

// SSRCOf is the SSRC the client receives user's microphone with, 0 when
// it receives none.
func (c *Conn) SSRCOf(user uint64) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sinks {
		if s.info.Owner == user && s.info.Source == media.Microphone {
			return s.ssrc
		}
	}
	return 0
}

// sink sends one track to the client.
type sink struct {
	c    *Conn
	info media.Info
	ssrc uint32
	buf  []byte // one source writes at a time
}

var errNotReady = errors.New("the client has not bound its address and mode yet")

func (s *sink) Write(p *media.Packet) error {
	st := s.c.state.Load()
	if st == nil {
		return errNotReady
	}
	var h [headerSize]byte
	h[0], h[1] = 0x80, opusPayload
	if p.Marker {
		h[1] |= 0x80
	}
	binary.BigEndian.PutUint16(h[2:], p.SequenceNumber)
	binary.BigEndian.PutUint32(h[4:], p.Timestamp)
	binary.BigEndian.PutUint32(h[8:], s.ssrc)
	s.buf = st.crypt.Seal(s.buf[:0], h[:], p.Payload)
	_, err := s.c.srv.conn.WriteToUDP(s.buf, st.addr)
	return err
}

func (s *sink) Bitrate() uint64 { return 0 }
