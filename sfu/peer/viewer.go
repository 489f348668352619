package peer

import (
	"fmt"

	"github.com/pion/webrtc/v4"

	"concord/sfu/media"
)

// Viewer sends tracks to a client that offered to receive them (WHEP):
// the client's offer fixes the media sections once, and the SFU fills
// them with the tracks it picked.
type Viewer struct {
	pc     *webrtc.PeerConnection
	budget budget
	locals []*Local
}

// NewViewer answers offer with tracks in the client's media sections of
// their kinds; a track with no section of its kind is left out.
func (a *API) NewViewer(offer string, tracks []media.Track) (*Viewer, string, error) {
	if err := checkSDP(offer, true, offerLimits); err != nil {
		return nil, "", err
	}
	v := &Viewer{}
	pc, err := a.newPC(v.budget.set)
	if err != nil {
		return nil, "", err
	}
	v.pc = pc
	fail := func(err error) (*Viewer, string, error) {
		v.Close()
		return nil, "", err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(fmt.Errorf("%w: %v", ErrSDP, err))
	}
	for _, t := range tracks {
		l := newLocal(t, &v.budget, ownerStream(t))
		if l.sender, err = pc.AddTrack(l); err != nil {
			return fail(fmt.Errorf("add track %s: %w", t.Info().ID, err))
		}
		v.budget.count(t.Info().Kind, 1)
		v.locals = append(v.locals, l)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrSDP, err))
	}
	answer, err := waitGathered(pc, ans)
	if err != nil {
		return fail(err)
	}
	for _, l := range v.locals {
		go l.readRTCP()
		l.track.Subscribe(l)
	}
	return v, answer, nil
}

// PC is the underlying connection, for its state and trickled candidates.
func (v *Viewer) PC() *webrtc.PeerConnection { return v.pc }

// Close stops sending and ends the connection.
func (v *Viewer) Close() error {
	for _, l := range v.locals {
		l.track.Unsubscribe(l)
	}
	return v.pc.Close()
}
