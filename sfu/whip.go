package sfu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"concord/federation/live"
	"concord/federation/snowflake"
	"concord/sfu/channel"
	"concord/sfu/media"
	"concord/sfu/peer"
)

// Authenticator tells whose a WHIP or WHEP bearer token is (a user's
// access token or a bot token); node gives the client API's. Any refusal
// is an error.
type Authenticator func(ctx context.Context, token string) (snowflake.ID, error)

// WHIP (RFC 9725) and WHEP, as spec/voice.md gives them: POST an SDP offer
// to /voice/whip/{guild}/{channel} (publish a stream into a voice channel)
// or /voice/whep/{guild}/{channel} (watch its stream) with a bearer token;
// 201 with the answer and a Location to PATCH (trickle ICE) and DELETE.
const (
	whipPrefix = "/voice/whip/"
	whepPrefix = "/voice/whep/"
)

// maxResources bounds the WHIP and WHEP resources one user holds at once:
// each is a connection with its own ports.
const maxResources = 4

// resource is one WHIP ingest or WHEP playback.
type resource struct {
	id      string
	user    snowflake.ID
	guild   snowflake.ID
	channel snowflake.ID
	pc      *webrtc.PeerConnection
	close   func()
	once    sync.Once
	trickle int // candidates PATCHed so far; s.mu guards it
}

func (r *resource) end() { r.once.Do(r.close) }

// serveWHIP routes /voice/whip/… and /voice/whep/….
func (s *SFU) serveWHIP(w http.ResponseWriter, r *http.Request) {
	ingest := strings.HasPrefix(r.URL.Path, whipPrefix)
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, whipPrefix), whepPrefix)
	parts := strings.Split(rest, "/")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Expose-Headers", "Location, ETag, Link")
	switch {
	case r.Method == http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		w.WriteHeader(http.StatusNoContent)
	case len(parts) == 2 && r.Method == http.MethodPost:
		s.createResource(w, r, parts[0], parts[1], ingest)
	case len(parts) == 3 && r.Method == http.MethodPatch:
		s.trickle(w, r, parts[2])
	case len(parts) == 3 && r.Method == http.MethodDelete:
		s.mu.Lock()
		res := s.resources[parts[2]]
		s.mu.Unlock()
		if res == nil {
			http.Error(w, "no such session", http.StatusNotFound)
			return
		}
		res.end()
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

// createResource starts an ingest or a playback from a POSTed offer.
func (s *SFU) createResource(w http.ResponseWriter, r *http.Request, guildArg, channelArg string, ingest bool) {
	if s.auth == nil {
		http.Error(w, "WHIP and WHEP are not enabled", http.StatusNotFound)
		return
	}
	guildID, err1 := snowflake.Parse(guildArg)
	channelID, err2 := snowflake.Parse(channelArg)
	if err1 != nil || err2 != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	user, err := s.bearer(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if !s.hold(user) {
		http.Error(w, fmt.Sprintf("at most %d streams and players at once", maxResources), http.StatusTooManyRequests)
		return
	}
	created := false
	defer func() {
		if !created {
			s.unhold(user)
		}
	}()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		http.Error(w, "the offer must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	offer, err := io.ReadAll(io.LimitReader(r.Body, peer.MaxSDP+1))
	if err != nil || len(offer) > peer.MaxSDP {
		http.Error(w, "offer too large", http.StatusRequestEntityTooLarge)
		return
	}
	v := live.VoiceState{GuildID: guildID, ChannelID: channelID, UserID: user}
	present := 0 // a viewer takes no place in the channel
	if ingest {
		present = s.present(guildID, channelID, user)
	}
	acc, err := s.admit(v, present)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	case ingest && !acc.stream:
		http.Error(w, "missing STREAM permission", http.StatusForbidden)
		return
	}
	res := &resource{id: newID(), user: user, guild: guildID, channel: channelID}
	var answer string
	if ingest {
		answer, err = s.ingest(res, user, string(offer))
	} else {
		answer, err = s.playback(res, string(offer))
	}
	switch {
	case errors.Is(err, peer.ErrSDP), errors.Is(err, peer.ErrCodec):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case errors.Is(err, errNothingStreamed):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		s.log.Error("sfu: whip/whep", "err", err)
		http.Error(w, "cannot open a media connection", http.StatusServiceUnavailable)
		return
	}
	s.track(res)
	created = true
	prefix := whepPrefix
	if ingest {
		prefix = whipPrefix
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", fmt.Sprintf("%s%s/%s/%s", prefix, guildID, channelID, res.id))
	h.Set("ETag", `"`+res.id+`"`)
	for _, ice := range s.cfg.ICEServers {
		for _, u := range ice.URLs {
			link := fmt.Sprintf(`<%s>; rel="ice-server"`, u)
			if ice.Username != "" {
				link += fmt.Sprintf(`; username=%q; credential=%q; credential-type="password"`, ice.Username, ice.Credential)
			}
			h.Add("Link", link)
		}
	}
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

// ingest publishes a WHIP stream into the channel as one more member
// (its tracks are the screen's).
func (s *SFU) ingest(res *resource, user snowflake.ID, offer string) (string, error) {
	ch := s.channel(res.guild, res.channel)
	m := &channel.Member{UserID: uint64(user)}
	up, err := s.api.NewUp(uint64(user), true, func(r *peer.Remote) {
		ch.Publish(m, r)
		go func() {
			<-r.Done()
			ch.Unpublish(m, r)
		}()
	})
	if err != nil {
		s.release(res.channel, ch)
		return "", err
	}
	answer, err := up.Answer(offer)
	if err != nil {
		up.Close()
		s.release(res.channel, ch)
		return "", err
	}
	ch.Join(m)
	res.pc = up.PC()
	res.close = func() {
		ch.Leave(m)
		up.Close()
		s.release(res.channel, ch)
		s.untrack(res)
	}
	return answer, nil
}

var errNothingStreamed = errors.New("nothing is streamed in this channel")

// playback sends a WHEP player the channel's stream: a screen (or else a
// camera) and the audio of the same sender, preferring its screen audio.
func (s *SFU) playback(res *resource, offer string) (string, error) {
	s.mu.Lock()
	ref := s.channels[res.channel]
	s.mu.Unlock()
	if ref == nil {
		return "", errNothingStreamed
	}
	tracks := pick(ref.ch.Tracks())
	if len(tracks) == 0 {
		return "", errNothingStreamed
	}
	v, answer, err := s.api.NewViewer(offer, tracks)
	if err != nil {
		return "", err
	}
	res.pc = v.PC()
	res.close = func() {
		v.Close()
		s.untrack(res)
	}
	return answer, nil
}

// pick chooses what a WHEP player is sent from a channel's tracks.
func pick(all []media.Track) []media.Track {
	var video media.Track
	for _, t := range all {
		i := t.Info()
		if i.Kind == media.Video && (video == nil || i.Source == media.Screen && video.Info().Source != media.Screen) {
			video = t
		}
	}
	if video == nil {
		return nil
	}
	var audio media.Track
	for _, t := range all {
		i := t.Info()
		if i.Kind == media.Audio && i.Owner == video.Info().Owner && (audio == nil || i.Source == media.ScreenAudio) {
			audio = t
		}
	}
	if audio == nil {
		return []media.Track{video}
	}
	return []media.Track{video, audio}
}

// track keeps res until it ends: DELETE, a failed connection, or media
// that never connects.
func (s *SFU) track(res *resource) {
	s.mu.Lock()
	s.resources[res.id] = res
	s.mu.Unlock()
	res.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			go res.end()
		}
	})
	time.AfterFunc(s.cfg.ConnectTimeout, func() {
		if res.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			res.end()
		}
	})
}

func (s *SFU) untrack(res *resource) {
	s.mu.Lock()
	delete(s.resources, res.id)
	s.mu.Unlock()
	s.unhold(res.user)
}

// hold counts one more resource of user's, if under maxResources.
func (s *SFU) hold(user snowflake.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[user] >= maxResources {
		return false
	}
	s.held[user]++
	return true
}

func (s *SFU) unhold(user snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[user]--; s.held[user] <= 0 {
		delete(s.held, user)
	}
}

// trickle adds the candidates of a PATCH (application/trickle-ice-sdpfrag).
func (s *SFU) trickle(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	res := s.resources[id]
	s.mu.Unlock()
	if res == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	frag, err := io.ReadAll(io.LimitReader(r.Body, peer.MaxSDP+1))
	if err != nil || len(frag) > peer.MaxSDP {
		http.Error(w, "fragment too large", http.StatusRequestEntityTooLarge)
		return
	}
	var cands []string
	for line := range strings.Lines(string(frag)) {
		if c, ok := strings.CutPrefix(strings.TrimSpace(line), "a=candidate:"); ok {
			cands = append(cands, c)
		}
	}
	// The bound is on all a resource's PATCHes together: each candidate
	// is an address the SFU sends checks to.
	s.mu.Lock()
	room := res.trickle+len(cands) <= peer.MaxCandidates
	if room {
		res.trickle += len(cands)
	}
	s.mu.Unlock()
	if !room {
		http.Error(w, "too many candidates", http.StatusBadRequest)
		return
	}
	for _, c := range cands {
		if err := res.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: "candidate:" + c}); err != nil {
			http.Error(w, "bad candidate", http.StatusBadRequest)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
