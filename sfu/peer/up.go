package peer

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"concord/sfu/media"
)

// Up receives what one client publishes. Each track it receives becomes a
// Remote, a media.Track the SFU forwards: one per source at a time, so a
// client offering more media sections than it has sources gets the rest
// read and dropped.
type Up struct {
	pc     *webrtc.PeerConnection
	owner  uint64
	stream bool      // a Go Live stream (WHIP): its tracks are the screen's
	relay  bool      // another node's SFU: each track's stream names its owner (RelayStream)
	limits sdpLimits // what an offer may hold

	mu      sync.Mutex
	tracks  map[*webrtc.RTPReceiver]*Remote // a receiver's simulcast layers are one track
	sources map[string]bool                 // taken by a live track: its stream ID and source
	closed  bool
	publish func(*Remote)
}

// NewUp returns an Up for owner's tracks; publish hears of each new track
// once its first packet arrived, from the track's own goroutine. The
// tracks of a stream (a WHIP ingest) show the screen, whatever their IDs.
func (a *API) NewUp(owner uint64, stream bool, publish func(*Remote)) (*Up, error) {
	return a.newUp(&Up{owner: owner, stream: stream, limits: offerLimits}, publish)
}

// NewRelayUp returns an Up for what another node's SFU relays: each
// track's stream ID says whose it is and where it belongs (RelayStream),
// and Remote.Stream tells it.
func (a *API) NewRelayUp(publish func(*Remote)) (*Up, error) {
	return a.newUp(&Up{relay: true, limits: relayLimits}, publish)
}

func (a *API) newUp(u *Up, publish func(*Remote)) (*Up, error) {
	pc, err := a.newPC(nil)
	if err != nil {
		return nil, err
	}
	u.pc, u.publish = pc, publish
	u.tracks, u.sources = map[*webrtc.RTPReceiver]*Remote{}, map[string]bool{}
	pc.OnTrack(u.onTrack)
	return u, nil
}

// RelayStream is the stream ID a relay sends a track in: the guild, voice
// channel and user it belongs to, in decimal, joined by "-".
func RelayStream(guild, channel, user uint64) string {
	return fmt.Sprintf("%d-%d-%d", guild, channel, user)
}

// ParseRelayStream reads a RelayStream.
func ParseRelayStream(s string) (guild, channel, user uint64, ok bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var ids [3]uint64
	for i, p := range parts {
		id, err := strconv.ParseUint(p, 10, 64)
		if err != nil || id == 0 {
			return 0, 0, 0, false
		}
		ids[i] = id
	}
	return ids[0], ids[1], ids[2], true
}

// PC is the underlying connection, for its state.
func (u *Up) PC() *webrtc.PeerConnection { return u.pc }

// Answer takes the client's offer and returns the SFU's answer, with all
// its candidates.
func (u *Up) Answer(offer string) (string, error) {
	if err := checkSDP(offer, true, u.limits); err != nil {
		return "", err
	}
	if err := u.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrSDP, err)
	}
	ans, err := u.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSDP, err)
	}
	return waitGathered(u.pc, ans)
}

// Close ends the connection; its tracks end with it.
func (u *Up) Close() error {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	return u.pc.Close()
}

// Remote is one track a client publishes: a media.Track whose packets
// come from the client.
type Remote struct {
	*media.Fanout
	up        *Up
	stream    string        // the relay's stream ID; empty for a client's track
	slot      string        // its stream ID and source, in up.sources
	ssrc      []webrtc.SSRC // per layer; u.mu guards it and readers
	readers   int           // layers being read
	announced atomic.Bool
	done      chan struct{}
}

// Done is closed when the track ended (the client stopped sending it or
// the connection closed).
func (r *Remote) Done() <-chan struct{} { return r.done }

// Stream is the relay's stream ID the track came in (RelayStream); empty
// for a client's track.
func (r *Remote) Stream() string { return r.stream }

// Simulcast layers by RID, lowest first, as clients name them (LiveKit's
// and Discord's q/h/f, l/m, mediasoup's r0–r2, bare indexes); checkSDP
// refuses others.
var rids = map[string]int{"q": 0, "l": 0, "r0": 0, "0": 0, "h": 1, "m": 1, "r1": 1, "1": 1, "f": 2, "r2": 2, "2": 2}

// onTrack starts reading one received track (one simulcast layer of it).
func (u *Up) onTrack(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	kind := media.Audio
	if t.Kind() == webrtc.RTPCodecTypeVideo {
		kind = media.Video
	}
	layers, layer := 1, 0
	if t.RID() != "" {
		layers, layer = 3, rids[strings.ToLower(t.RID())]
	}
	owner, stream := u.owner, ""
	if u.relay {
		var ok bool
		if _, _, owner, ok = ParseRelayStream(t.StreamID()); !ok {
			discard(t)
			return
		}
		stream = t.StreamID()
	}
	src := u.sourceOf(t.ID(), kind)
	id, slot := strconv.FormatUint(owner, 10)+"-"+t.ID(), stream+"/"+string(src)
	if u.relay {
		id = "relay-" + stream + "-" + string(src)
	}
	u.mu.Lock()
	r := u.tracks[recv]
	if r == nil && !u.closed && !u.sources[slot] {
		info := media.Info{ID: id, Owner: owner, Kind: kind, Source: src, Codec: t.Codec().RTPCodecCapability, Layers: layers}
		r = &Remote{up: u, stream: stream, slot: slot, ssrc: make([]webrtc.SSRC, layers), done: make(chan struct{})}
		r.Fanout = media.NewFanout(info, r.pli)
		u.tracks[recv], u.sources[slot] = r, true
	}
	// A second track of a source, or a layer sent twice, is not
	// forwarded; it is read so that nothing queues for it.
	if r == nil || layer >= len(r.ssrc) || r.ssrc[layer] != 0 {
		u.mu.Unlock()
		discard(t)
		return
	}
	r.ssrc[layer] = t.SSRC()
	r.readers++
	u.mu.Unlock()
	levelID := 0
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == audioLevelURI {
			levelID = e.ID
		}
	}
	go drainRTCP(recv, t.RID())
	r.read(t, layer, levelID)
}

func discard(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}

// sourceOf reads what a track shows from the track ID the client chose
// (spec/voice.md): "camera", "screen", "screen_audio", else the
// microphone or camera by kind.
func (u *Up) sourceOf(id string, kind media.Kind) media.Source {
	switch {
	case u.stream && kind == media.Video:
		return media.Screen
	case u.stream:
		return media.ScreenAudio
	}
	switch s := media.Source(id); {
	case kind == media.Video && (s == media.Camera || s == media.Screen),
		kind == media.Audio && (s == media.Microphone || s == media.ScreenAudio):
		return s
	}
	if kind == media.Video {
		return media.Camera
	}
	return media.Microphone
}

func (r *Remote) pli(layer int) {
	u := r.up
	u.mu.Lock()
	ssrc := r.ssrc[layer]
	u.mu.Unlock()
	if ssrc != 0 {
		u.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}})
	}
}

// read forwards one layer's packets until the track ends. The first
// packet of any layer publishes the track; the last layer to end ends it.
func (r *Remote) read(t *webrtc.TrackRemote, layer, levelID int) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var p media.Packet
	video := r.Info().Kind == media.Video
	codec := r.Info().Codec.MimeType
	flood := media.NewFlood(r.Info().Kind)
	defer r.endLayer()
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || len(pkt.Payload) == 0 || !flood.Allow(n, time.Now()) {
			continue // padding-only probes carry no media; a flood is dropped
		}
		p = media.Packet{Header: rtp.Header{Version: 2, Marker: pkt.Marker, PayloadType: pkt.PayloadType,
			SequenceNumber: pkt.SequenceNumber, Timestamp: pkt.Timestamp, SSRC: pkt.SSRC}, Payload: pkt.Payload, Layer: layer}
		if levelID != 0 {
			var ext rtp.AudioLevelExtension
			if b := pkt.GetExtension(uint8(levelID)); b != nil && ext.Unmarshal(b) == nil {
				p.Level, p.Voice, p.HasLevel = ext.Level, ext.Voice, true
			}
		}
		if video {
			p.Keyframe = media.IsKeyframe(codec, pkt.Payload)
		}
		if !r.announced.Load() && r.announced.CompareAndSwap(false, true) {
			r.up.publish(r)
		}
		r.Write(&p)
	}
}

// endLayer notes that a layer's reader stopped; the last one ends the
// track and frees its source.
func (r *Remote) endLayer() {
	u := r.up
	u.mu.Lock()
	r.readers--
	last := r.readers == 0
	if last {
		for recv, x := range u.tracks {
			if x == r {
				delete(u.tracks, recv)
			}
		}
		delete(u.sources, r.slot)
	}
	u.mu.Unlock()
	if last {
		close(r.done)
	}
}

// drainRTCP reads a receiver's RTCP (of one simulcast layer) so that its
// interceptors run.
func drainRTCP(recv *webrtc.RTPReceiver, rid string) {
	buf := make([]byte, 1500)
	for {
		var err error
		if rid == "" {
			_, _, err = recv.Read(buf)
		} else {
			_, _, err = recv.ReadSimulcast(buf, rid)
		}
		if err != nil {
			return
		}
	}
}
