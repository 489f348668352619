package peer

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"concord/sfu/media"
)

// Down sends one client the tracks it subscribes to. The SFU offers; each
// change of tracks is one more offer, made only once the client answered
// the last.
type Down struct {
	pc     *webrtc.PeerConnection
	offer  func(sdp string) // hands an offer to the client
	answer sdpLimits        // what the client's answers may hold
	relay  bool             // sends every simulcast layer, each an encoding of its own

	budget budget

	mu      sync.Mutex
	tracks  map[media.Track][]media.Sink // each track's Local, or a relay's pinned layers
	waiting bool                         // an offer is out
	dirty   bool                         // tracks changed since the offer that is out
	closed  bool
}

// NewDown returns a Down that hands its offers to offer (which must not
// block for long).
func (a *API) NewDown(offer func(sdp string)) (*Down, error) {
	return a.newDown(offer, answerLimits)
}

// NewRelayDown returns a Down to another node's SFU, whose answers may
// be as large as a relay's descriptions. Its tracks are added with
// AddStream, named for the relay; a simulcast track goes with every layer
// (RIDs q, h and f), so that the other node chooses for its receivers.
func (a *API) NewRelayDown(offer func(sdp string)) (*Down, error) {
	d, err := a.newDown(offer, relayLimits)
	if d != nil {
		d.relay = true
	}
	return d, err
}

func (a *API) newDown(offer func(sdp string), answer sdpLimits) (*Down, error) {
	d := &Down{offer: offer, answer: answer, tracks: map[media.Track][]media.Sink{}}
	pc, err := a.newPC(d.budget.set)
	if err != nil {
		return nil, err
	}
	d.pc = pc
	return d, nil
}

// PC is the underlying connection, for its state.
func (d *Down) PC() *webrtc.PeerConnection { return d.pc }

// Add starts sending t, after the client answered the offer that adds it;
// its stream ID is its owner's user ID.
func (d *Down) Add(t media.Track) error {
	return d.AddStream(t, ownerStream(t))
}

// AddStream is Add with the stream ID the track is sent in. The track's
// lock is taken only after d.mu is released: the track calls Bitrate
// under its own.
func (d *Down) AddStream(t media.Track, stream string) error {
	d.mu.Lock()
	if d.closed || d.tracks[t] != nil {
		d.mu.Unlock()
		return nil
	}
	info := t.Info()
	locals := []*Local{newLocal(t, &d.budget, stream)}
	sinks := []media.Sink{locals[0]}
	if d.relay && info.Kind == media.Video && info.Layers > 1 {
		locals, sinks = nil, nil
		for layer := range min(info.Layers, len(layerRIDs)) {
			l := newLocal(t, &d.budget, stream)
			l.rid, l.mid = layerRIDs[layer], d.midOf
			locals, sinks = append(locals, l), append(sinks, pinned{l, layer})
		}
	}
	// AddTrack reuses a media section whose track was removed, so that
	// the SDP does not grow with every member who ever came and went.
	sender, err := d.pc.AddTrack(locals[0])
	for _, l := range locals[1:] {
		if err == nil {
			err = sender.AddEncoding(l)
		}
	}
	if err != nil {
		if sender != nil {
			d.pc.RemoveTrack(sender)
		}
		d.mu.Unlock()
		return fmt.Errorf("add track %s: %w", info.ID, err)
	}
	for _, l := range locals {
		l.sender = sender
	}
	d.tracks[t] = sinks
	d.budget.count(info.Kind, 1)
	d.changed()
	d.mu.Unlock()
	for i, l := range locals {
		go l.readRTCP()
		t.Subscribe(sinks[i])
	}
	return nil
}

// midOf is the media section sender sends in; empty before negotiation.
func (d *Down) midOf(sender *webrtc.RTPSender) string {
	for _, tr := range d.pc.GetTransceivers() {
		if tr.Sender() == sender {
			return tr.Mid()
		}
	}
	return ""
}

// layerRIDs name the simulcast layers a relay sends, lowest first.
var layerRIDs = []string{"q", "h", "f"}

// pinned is a Local that takes one layer only (media.Pinned).
type pinned struct {
	*Local
	layer int
}

func (p pinned) Layer() int { return p.layer }

// Remove stops sending t.
func (d *Down) Remove(t media.Track) {
	d.mu.Lock()
	sinks := d.tracks[t]
	if sinks == nil {
		d.mu.Unlock()
		return
	}
	delete(d.tracks, t)
	d.budget.count(t.Info().Kind, -1)
	if !d.closed {
		d.pc.RemoveTrack(localOf(sinks[0]).sender)
		d.changed()
	}
	d.mu.Unlock()
	for _, s := range sinks {
		t.Unsubscribe(s)
	}
}

func localOf(s media.Sink) *Local {
	if p, ok := s.(pinned); ok {
		return p.Local
	}
	return s.(*Local)
}

// Waiting reports whether an offer awaits the client's answer.
func (d *Down) Waiting() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.waiting
}

// Tracks counts the tracks sent.
func (d *Down) Tracks() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.tracks)
}

// changed asks for an offer now, or after the answer that is awaited.
// d.mu is held.
func (d *Down) changed() {
	if d.waiting {
		d.dirty = true
		return
	}
	d.waiting, d.dirty = true, false
	go d.negotiate()
}

func (d *Down) negotiate() {
	offer, err := d.pc.CreateOffer(nil)
	var sdp string
	if err == nil {
		sdp, err = waitGathered(d.pc, offer)
	}
	if err != nil {
		d.mu.Lock()
		d.waiting = false
		d.mu.Unlock()
		return // closed meanwhile
	}
	d.offer(sdp)
}

// ErrNoOffer is the answer to an answer when no offer is out.
var ErrNoOffer = errors.New("no offer awaits an answer")

// SetAnswer takes the client's answer to the last offer.
func (d *Down) SetAnswer(answer string) error {
	d.mu.Lock()
	waiting := d.waiting
	d.mu.Unlock()
	if !waiting || d.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return ErrNoOffer
	}
	if err := checkSDP(answer, false, d.answer); err != nil {
		return err
	}
	if err := d.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("%w: %v", ErrSDP, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.waiting = false
	if d.dirty {
		d.changed()
	}
	return nil
}

// Close stops sending and ends the connection.
func (d *Down) Close() error {
	d.mu.Lock()
	d.closed = true
	tracks := d.tracks
	d.tracks = map[media.Track][]media.Sink{}
	d.mu.Unlock()
	for t, sinks := range tracks {
		for _, s := range sinks {
			t.Unsubscribe(s)
		}
	}
	return d.pc.Close()
}

// Local is one track as a connection sends it: a webrtc.TrackLocal bound
// to the connection and a media.Sink of the track.
type Local struct {
	track  media.Track
	budget *budget
	info   media.Info
	stream string
	rid    string // the simulcast encoding a relay sends it as; empty for one
	mid    func(*webrtc.RTPSender) string
	sender *webrtc.RTPSender

	bound atomic.Pointer[binding]
	h     rtp.Header // scratch for Write, which one source calls at a time
	level [1]byte
}

type binding struct {
	ssrc    uint32
	pt      uint8
	levelID uint8
	// A simulcast encoding's packets name their media section and RID,
	// which the receiver sorts layers by.
	midID, ridID uint8
	mid          string // looked up at the first write, once negotiated
	w            webrtc.TrackLocalWriter
	ready        atomic.Bool // DTLS is up: until then pion drops writes silently
}

// ID is the track's source: the client learns from it, and from the
// stream ID (the owner's user ID), whose what it receives.
func (l *Local) ID() string       { return string(l.info.Source) }
func (l *Local) StreamID() string { return l.stream }
func (l *Local) RID() string      { return l.rid }

// Kind is audio or video.
func (l *Local) Kind() webrtc.RTPCodecType {
	if l.info.Kind == media.Audio {
		return webrtc.RTPCodecTypeAudio
	}
	return webrtc.RTPCodecTypeVideo
}

// Bind picks the track's codec among those the client accepts.
func (l *Local) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, l.info.Codec.MimeType) {
			continue
		}
		b := &binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), w: ctx.WriteStream()}
		for _, e := range ctx.HeaderExtensions() {
			switch {
			case e.URI == audioLevelURI:
				b.levelID = uint8(e.ID)
			case e.URI == sdp.SDESMidURI && l.rid != "":
				b.midID = uint8(e.ID)
			case e.URI == sdp.SDESRTPStreamIDURI && l.rid != "":
				b.ridID = uint8(e.ID)
			}
		}
		l.bound.Store(b)
		// What was forwarded before now was lost: start from a keyframe.
		go l.track.RequestKeyframe()
		return c, nil
	}
	return webrtc.RTPCodecParameters{}, fmt.Errorf("%w: the client does not accept %s", ErrCodec, l.info.Codec.MimeType)
}

// Unbind stops writing.
func (l *Local) Unbind(webrtc.TrackLocalContext) error {
	l.bound.Store(nil)
	return nil
}

var errUnbound = errors.New("track not bound yet")

// Write sends one packet with this connection's SSRC, payload type and
// audio level extension.
func (l *Local) Write(p *media.Packet) error {
	b := l.bound.Load()
	if b == nil {
		return errUnbound
	}
	if !b.ready.Load() {
		// A keyframe written now would vanish and the forwarder would
		// believe it sent: say so instead, and it waits for the next.
		if l.sender.Transport().State() != webrtc.DTLSTransportStateConnected {
			return errUnbound
		}
		b.ready.Store(true)
	}
	h := &l.h
	ext := h.Extensions[:0]
	*h = p.Header
	h.SSRC, h.PayloadType, h.Extension, h.Extensions = b.ssrc, b.pt, false, ext
	if b.levelID != 0 && p.HasLevel {
		l.level[0] = p.Level & 0x7f
		if p.Voice {
			l.level[0] |= 0x80
		}
		h.SetExtension(b.levelID, l.level[:])
	}
	if b.ridID != 0 {
		if b.mid == "" && l.mid != nil {
			b.mid = l.mid(l.sender)
		}
		if b.mid != "" && b.midID != 0 {
			h.SetExtension(b.midID, []byte(b.mid))
		}
		h.SetExtension(b.ridID, []byte(l.rid))
	}
	_, err := b.w.WriteRTP(h, p.Payload)
	return err
}

// Bitrate is this track's share of the connection's estimate.
func (l *Local) Bitrate() uint64 { return l.budget.bitrate() }

// readRTCP reads the receiver's reports (the NACK responder needs them
// read) and passes its keyframe requests to the track.
func (l *Local) readRTCP() {
	for {
		var pkts []rtcp.Packet
		var err error
		if l.rid == "" {
			pkts, _, err = l.sender.ReadRTCP()
		} else {
			pkts, _, err = l.sender.ReadSimulcastRTCP(l.rid)
		}
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				l.track.RequestKeyframe()
			}
		}
	}
}
