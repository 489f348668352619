// Package media is the SFU's track model and its forwarding path. A Track
// is one source of media in a voice channel — a user's microphone, camera
// or screen, a WHIP stream, later a track relayed from another node — and a
// Sink is anything that takes its packets: a peer's outgoing track, a
// recorder, a WHEP viewer, a relay. Sources write into a Fanout; the Fanout
// forwards to every subscribed sink, choosing the simulcast layer and
// rewriting sequence numbers and timestamps per sink. Nothing here knows
// WebRTC peers, browsers or Discord's protocol, so adding an endpoint kind
// changes no forwarding code.
//
// Any package of the SFU may import media; it imports nothing of the
// project.
package media

import (
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Kind says whether a track carries audio or video.
type Kind int

// Kinds of track.
const (
	Audio Kind = iota
	Video
)

func (k Kind) String() string {
	if k == Audio {
		return "audio"
	}
	return "video"
}

// Source says what a track shows, as Discord's clients distinguish it.
type Source string

// Sources of a track.
const (
	Microphone  Source = "microphone"
	Camera      Source = "camera"
	Screen      Source = "screen"
	ScreenAudio Source = "screen_audio"
)

// Info describes a track; it does not change while the track lives.
type Info struct {
	ID     string // unique in the SFU
	Owner  uint64 // the user who publishes it
	Kind   Kind
	Source Source
	Codec  webrtc.RTPCodecCapability
	Layers int // simulcast layers; 1 without simulcast
}

// Track is one source of media. A Fanout implements everything but Info.
type Track interface {
	Info() Info
	// Subscribe starts forwarding to s; subscribing twice changes nothing.
	Subscribe(s Sink)
	// Unsubscribe stops forwarding to s: once it returns, s receives
	// nothing more from this track.
	Unsubscribe(s Sink)
	// RequestKeyframe asks the source for a keyframe (a sink's receiver
	// lost one); requests are throttled.
	RequestKeyframe()
}

// Packet is an RTP packet on its way through the SFU. A source fills it in
// from what arrived, with the header extensions it understands parsed out
// and the rest dropped; the Fanout rewrites SequenceNumber and Timestamp
// for each sink. A sink must not keep it after Write returns.
type Packet struct {
	rtp.Header
	Payload []byte
	Layer   int // simulcast layer, 0 the lowest

	// Keyframe marks the first packet of a video keyframe: where a sink
	// may start or switch layers.
	Keyframe bool
	// Level is the ssrc-audio-level of an audio packet (RFC 6464): 0 is
	// loudest, 127 silence; Voice is its V bit. HasLevel is false when the
	// sender gave none.
	Level    uint8
	Voice    bool
	HasLevel bool
}

// Pinned is a sink that takes one simulcast layer only, whatever its
// bitrate: a relay to another node sends each layer on as an encoding of
// its own, and that node chooses among them.
type Pinned interface {
	Sink
	Layer() int
}

// Sink takes the packets of the tracks it subscribed to.
type Sink interface {
	// Write sends one packet; p.SequenceNumber and p.Timestamp are already
	// this sink's own. The source's read loop calls it: it must not block
	// for long.
	Write(p *Packet) error
	// Bitrate is the bits per second the sink can take of this track now
	// (its receiver's estimate, shared among its tracks); 0 means no
	// limit.
	Bitrate() uint64
}
