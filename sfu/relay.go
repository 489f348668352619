package sfu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"concord/federation/snowflake"
	"concord/sfu/peer"
)

// Relay timing: an offer's answer is awaited relayTimeout; a relay that
// failed, or whose offer the other node refused, is tried again after
// relayRetry (the other node may not have heard of the channel's users
// yet), twice as long after each failure in a row, up to relayRetryMax.
const (
	relayTimeout  = 15 * time.Second
	relayRetry    = 3 * time.Second
	relayRetryMax = 96 * time.Second
)

// relayOut is the connection that carries this node's tracks to one other
// node's SFU: a peer.Down whose offers travel over the federation.
type relayOut struct {
	s       *SFU
	peer    string
	session string // names this connection to the other node
	down    *peer.Down
	timer   sync.Once // the connect deadline, started by the first answer
}

// relayIn is the connection another node's SFU relays its users' tracks
// on: a peer.Up, one per node.
type relayIn struct {
	peer    string
	session string
	up      *peer.Up
	tracks  []*peer.Remote // s.mu guards it
}

// relayTo returns the relay to node home, opened if need be; nil while a
// failed one waits to be tried again.
func (s *SFU) relayTo(home string) *relayOut {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.out[home]; o != nil || s.closed {
		return o
	}
	if time.Now().Before(s.retry[home]) {
		return nil
	}
	delete(s.retry, home)
	o := &relayOut{s: s, peer: home, session: newSession()}
	down, err := s.api.NewRelayDown(func(sdp string) { go o.send(sdp) })
	if err != nil {
		s.log.Error("sfu: open a relay", "peer", home, "err", err)
		return nil
	}
	o.down = down
	down.PC().OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			s.mu.Lock()
			delete(s.fails, home)
			s.mu.Unlock()
		case webrtc.PeerConnectionStateFailed:
			s.changes.put(func() { s.dropOut(o, "media connection failed") })
		}
	})
	s.out[home] = o
	return o
}

func newSession() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// send hands an offer to the other node and applies its answer; the
// first answer starts the connect deadline.
func (o *relayOut) send(offer string) {
	s := o.s
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	answer, err := s.relayer.RelayOffer(ctx, o.peer, o.session, offer)
	if err == nil {
		err = o.down.SetAnswer(answer)
	}
	if err != nil {
		s.changes.put(func() { s.dropOut(o, err.Error()) })
		return
	}
	o.timer.Do(func() {
		time.AfterFunc(s.cfg.ConnectTimeout, func() {
			if o.down.PC().ConnectionState() != webrtc.PeerConnectionStateConnected {
				s.changes.put(func() { s.dropOut(o, "media did not connect") })
			}
		})
	})
}

// dropOut ends a relay that failed; its channels go on without it until
// it is tried again, after relayRetry.
func (s *SFU) dropOut(o *relayOut, reason string) {
	s.mu.Lock()
	if s.out[o.peer] != o {
		s.mu.Unlock()
		return
	}
	delete(s.out, o.peer)
	fails := s.fails[o.peer]
	s.fails[o.peer] = fails + 1
	wait := min(relayRetry<<min(fails, 8), relayRetryMax)
	s.retry[o.peer] = time.Now().Add(wait)
	s.mu.Unlock()
	level := slog.LevelInfo
	if fails > 0 {
		level = slog.LevelDebug // said when the failures began
	}
	s.log.Log(context.Background(), level, "sfu: relay to another node ended", "peer", o.peer, "reason", reason, "retry_in", wait)
	o.down.Close()
	time.AfterFunc(wait, func() { s.changes.put(s.cascadeAll) })
	s.cascadeAll()
}

// sweepRelays ends the relays no channel uses any more, telling their
// nodes.
func (s *SFU) sweepRelays() {
	s.mu.Lock()
	used := map[string]bool{}
	for _, r := range s.channels {
		for home := range r.relays {
			used[home] = true
		}
	}
	idle := prune(s.out, func(home string) bool { return used[home] })
	s.mu.Unlock()
	for _, o := range idle {
		o.down.Close()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
			defer cancel()
			s.relayer.RelayOffer(ctx, o.peer, o.session, "")
		}()
	}
}

// AnswerRelay answers origin's offer of a relay session (Relayer's other
// end); an empty offer ends the session. A new session is opened only for
// a node with a user in a voice channel this node has members in, and
// replaces that node's last; its later offers are answered while it lasts,
// however the users move (voice states and media do not arrive in step).
func (s *SFU) AnswerRelay(ctx context.Context, origin, session, offer string) (string, error) {
	if s.relayer == nil {
		return "", ErrNoRelay
	}
	if session == "" || len(session) > 64 {
		return "", errors.New("a relay session is named by 1 to 64 characters")
	}
	s.mu.Lock()
	in := s.in[origin]
	if offer == "" {
		if in == nil || in.session != session {
			s.mu.Unlock()
			return "", nil
		}
		delete(s.in, origin)
		s.mu.Unlock()
		in.up.Close()
		s.changes.put(s.cascadeAll)
		return "", nil
	}
	renew := in != nil && in.session == session
	s.mu.Unlock()
	if !renew && !s.sharesVoice(origin) {
		return "", ErrNoRelay
	}
	s.mu.Lock()
	in = s.in[origin]
	var old *relayIn
	if in == nil || in.session != session {
		old = in
		in = &relayIn{peer: origin, session: session}
		up, err := s.api.NewRelayUp(func(r *peer.Remote) { s.changes.put(func() { s.arrived(in, r) }) })
		if err != nil {
			s.mu.Unlock()
			return "", err
		}
		in.up = up
		up.PC().OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
				s.changes.put(func() { s.dropIn(in) })
			}
		})
		// A session whose media never connects ends, as a client's does.
		time.AfterFunc(s.cfg.ConnectTimeout, func() {
			if up.PC().ConnectionState() != webrtc.PeerConnectionStateConnected {
				s.changes.put(func() { s.dropIn(in) })
			}
		})
		s.in[origin] = in
	}
	s.mu.Unlock()
	if old != nil {
		old.up.Close()
	}
	answer, err := in.up.Answer(offer)
	if err != nil {
		s.changes.put(func() { s.dropIn(in) })
		return "", err
	}
	return answer, nil
}

// sharesVoice reports whether a user of node origin is in a voice channel
// this node has members in.
func (s *SFU) sharesVoice(origin string) bool {
	s.mu.Lock()
	var here []*channelRef
	for _, r := range s.channels {
		here = append(here, r)
	}
	s.mu.Unlock()
	for _, r := range here {
		for _, v := range s.remoteVoices(r.guild, r.id) {
			if v.Home == origin {
				return true
			}
		}
	}
	return false
}

// arrived takes a track a node relays here and publishes it where its
// stream says, if its owner is there (cascade).
func (s *SFU) arrived(in *relayIn, r *peer.Remote) {
	s.mu.Lock()
	if s.in[in.peer] != in {
		s.mu.Unlock()
		return // the session was replaced; its tracks end with it
	}
	in.tracks = append(in.tracks, r)
	s.mu.Unlock()
	guildID, channelID, _, _ := peer.ParseRelayStream(r.Stream())
	go func() {
		<-r.Done()
		s.changes.put(func() {
			s.mu.Lock()
			for i, t := range in.tracks {
				if t == r {
					in.tracks = append(in.tracks[:i:i], in.tracks[i+1:]...)
					break
				}
			}
			s.mu.Unlock()
			s.cascade(snowflake.ID(guildID), snowflake.ID(channelID))
		})
	}()
	s.cascade(snowflake.ID(guildID), snowflake.ID(channelID))
}

// dropIn ends a relay session from another node.
func (s *SFU) dropIn(in *relayIn) {
	s.mu.Lock()
	if s.in[in.peer] == in {
		delete(s.in, in.peer)
	}
	s.mu.Unlock()
	in.up.Close()
	s.cascadeAll()
}

// closeRelays ends every relay, at shutdown.
func (s *SFU) closeRelays() {
	s.mu.Lock()
	outs, ins := s.out, s.in
	s.out, s.in = map[string]*relayOut{}, map[string]*relayIn{}
	s.mu.Unlock()
	for _, o := range outs {
		o.down.Close()
	}
	for _, in := range ins {
		in.up.Close()
	}
}
