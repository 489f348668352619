package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// ProtoVoice carries the offers and answers of a relay between two
// nodes' SFUs, which cascade a voice channel with users on both
// (spec/federation.md, "Voice relays").
const ProtoVoice protocol.ID = "/concord/voice/1"

// Voice relay bounds: an offer names every track one node relays to
// another, so it may be large; renegotiations come as users join, leave
// and publish.
const (
	maxVoiceRequest = 1<<20 + 1<<10 // the SFU's largest relay offer and the frame around it
	voiceRate       = 2             // offers per second one node may send, with bursts of voiceBurst
	voiceBurst      = 20
)

// voiceReq is an offer of relay session Session from the stream's other
// end; an empty SDP ends the session.
type voiceReq struct {
	Session string `json:"session"`
	SDP     string `json:"sdp,omitempty"`
}

// voiceResp is the answer, or why the offer was refused.
type voiceResp struct {
	SDP     string `json:"sdp,omitempty"`
	Refused string `json:"refused,omitempty"`
}

// Voice is the node's SFU as other nodes' SFUs reach it.
type Voice interface {
	// AnswerRelay answers origin's offer of a relay session, or ends the
	// session for an empty offer.
	AnswerRelay(ctx context.Context, origin, session, offer string) (answer string, err error)
}

// ErrVoiceRefused wraps the reason a node gave for refusing a relay offer.
var ErrVoiceRefused = errors.New("the node refused the voice relay")

// voiceHolder holds what serves the voice stream, once set.
type voiceHolder struct{ h atomic.Pointer[Voice] }

// ServeVoice has other nodes' relay offers answered by h. Until it is
// called they are refused.
func (f *Federation) ServeVoice(h Voice) { f.voice.h.Store(&h) }

func (f *Federation) serveVoice(s network.Stream, req *voiceReq) (any, error) {
	hp := f.voice.h.Load()
	if hp == nil {
		return voiceResp{Refused: "voice is not served here"}, nil
	}
	origin := s.Conn().RemotePeer().String()
	if !allow(&f.mu, f.voiceRates, origin, voiceRate, voiceBurst) {
		return nil, errors.New("too many voice relay offers")
	}
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	answer, err := (*hp).AnswerRelay(ctx, origin, req.Session, req.SDP)
	if err != nil {
		return voiceResp{Refused: err.Error()}, nil
	}
	return voiceResp{SDP: answer}, nil
}

// RelayOffer hands node home an offer of relay session session and
// returns its answer; an empty offer ends the session.
func (f *Federation) RelayOffer(ctx context.Context, home, session, offer string) (string, error) {
	p, err := peer.Decode(home)
	if err != nil {
		return "", fmt.Errorf("node %q: %w", home, err)
	}
	var resp voiceResp
	if err := f.call(ctx, p, ProtoVoice, voiceReq{Session: session, SDP: offer}, &resp); err != nil {
		return "", err
	}
	if resp.Refused != "" {
		return "", fmt.Errorf("%w: %s", ErrVoiceRefused, resp.Refused)
	}
	return resp.SDP, nil
}
