package sfu

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"concord/federation/live"
	"concord/federation/snowflake"
	"concord/sfu/channel"
	"concord/sfu/media"
	"concord/sfu/peer"
	"concord/sfu/udp"
)

// keptFrames bounds what a session keeps for a resume.
const keptFrames = 256

// session is one user's voice connection in one guild: the media
// connections, the channel it sits in, and the voice gateway connection,
// which may drop and be resumed.
type session struct {
	s         *SFU
	key       voiceKey
	sessionID string
	token     string
	up        *peer.Up
	down      *peer.Down
	// udp is the UDP voice connection the client may choose instead of
	// WebRTC (bots do); nil when the node serves none.
	udp *udp.Conn

	mu         sync.Mutex
	c          *wsConn // nil while waiting for a resume
	seq        int64
	kept       []keptFrame
	ended      bool
	gone       *time.Timer // ends the session when no resume comes
	connect    *time.Timer // ends it when media does not connect
	answered   *time.Timer // ends it when the server's offer gets no answer or its media does not connect
	v          live.VoiceState
	acc        access
	ch         *channel.Channel
	member     *channel.Member // in ch
	remotes    []source
	negotiated bool // a protocol was selected
	viaUDP     bool // and it is UDP
	priority   bool // the client's op 5 asks to speak as a priority speaker
}

type keptFrame struct {
	seq int64
	b   []byte
}

// open starts the session a grant allows, if the user may be in the
// channel their voice state names, and sends Ready.
func (s *SFU) open(g *grant, c *wsConn) (*session, int, string) {
	var v live.VoiceState
	for _, x := range s.live.VoiceStates(g.guild) {
		if x.UserID == g.user {
			v = x
		}
	}
	if v.ChannelID == 0 || v.SessionID != g.sessionID {
		return nil, closeSessionInvalid, "not in voice"
	}
	ss := &session{s: s, key: voiceKey{g.guild, g.user}, sessionID: g.sessionID, token: g.token, c: c, v: v}
	acc, err := s.admit(v, s.present(v.GuildID, v.ChannelID, v.UserID))
	if err != nil {
		go s.live.SetVoice(live.VoiceState{GuildID: v.GuildID, UserID: v.UserID, SessionID: v.SessionID})
		return nil, closeDisconnected, err.Error()
	}
	ss.acc = acc
	if ss.up, err = s.api.NewUp(uint64(g.user), false, func(r *peer.Remote) { ss.publish(r) }); err == nil {
		ss.down, err = s.api.NewDown(ss.offerDown)
	}
	if err == nil && s.udp != nil {
		// The socket's goroutine hears of the track: it must not wait.
		ss.udp, err = s.udp.NewConn(uint64(g.user), func(t *udp.Track) { go ss.publish(t) })
	}
	if err != nil {
		if ss.up != nil {
			ss.up.Close()
		}
		if ss.down != nil {
			ss.down.Close()
		}
		s.log.Error("sfu: new connection", "err", err)
		return nil, closeServerCrashed, "cannot open a media connection"
	}
	for _, pc := range []*webrtc.PeerConnection{ss.up.PC(), ss.down.PC()} {
		pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			if st == webrtc.PeerConnectionStateFailed {
				go ss.end(closeTimeout, "media connection failed", true)
			}
		})
	}
	s.mu.Lock()
	old := s.sessions[ss.key]
	s.sessions[ss.key] = ss
	closed := s.closed
	s.mu.Unlock()
	if old != nil {
		old.end(closeSessionInvalid, "replaced by a new voice connection", false)
	}
	if closed {
		ss.end(closeServerCrashed, "voice server shutting down", false)
		return nil, closeServerCrashed, "voice server shutting down"
	}
	rd := ready{Modes: []string{"webrtc"}, HeartbeatInterval: s.cfg.HeartbeatInterval.Milliseconds(), Streams: []any{},
		ICEServers: s.cfg.ICEServers}
	if ss.udp != nil {
		rd.SSRC, rd.IP, rd.Port = ss.udp.SSRC(), c.localIP, s.udp.Port()
		if s.cfg.UDPAddress != "" {
			rd.IP = s.cfg.UDPAddress
		}
		rd.Modes = append(slices.Clone(udp.Modes), "webrtc")
	}
	ss.sendJSON(opReady, rd)
	return ss, 0, ""
}

// resume gives a dropped session a new connection and replays what the
// client missed.
func (s *SFU) resume(c *wsConn, d resume) (*session, int, string) {
	guildID, err := snowflake.Parse(d.ServerID)
	if err != nil {
		return nil, closeSessionInvalid, "unknown session"
	}
	s.mu.Lock()
	g := s.tokens[d.Token]
	var ss *session
	if g != nil && g.guild == guildID && g.sessionID == d.SessionID {
		ss = s.sessions[voiceKey{g.guild, g.user}]
	}
	s.mu.Unlock()
	if ss == nil {
		return nil, closeSessionInvalid, "unknown session"
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended || len(ss.kept) > 0 && d.SeqAck < ss.kept[0].seq-1 || d.SeqAck > ss.seq {
		return nil, closeSessionInvalid, "cannot resume from that seq_ack"
	}
	if ss.gone != nil {
		ss.gone.Stop()
		ss.gone = nil
	}
	if ss.c != nil {
		ss.c.close(closeSessionInvalid, "resumed elsewhere")
	}
	ss.c = c
	for _, f := range ss.kept {
		if f.seq > d.SeqAck {
			c.send(f.b)
		}
	}
	c.send(marshal(opResumed, json.RawMessage("null"), nil))
	return ss, 0, ""
}

// detach notes that c dropped; the session waits ResumeWindow for a
// resume.
func (ss *session) detach(c *wsConn) {
	c.close(closeTimeout, "connection lost")
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.c != c || ss.ended {
		return
	}
	ss.c = nil
	ss.gone = time.AfterFunc(ss.s.cfg.ResumeWindow, func() { ss.end(closeTimeout, "not resumed", true) })
}

// end closes the session once: it leaves the channel, closes the media
// and the connection, and (leave) takes the user out of voice.
func (ss *session) end(code int, reason string, leave bool) {
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return
	}
	ss.ended = true
	c, ch, v, m := ss.c, ss.ch, ss.v, ss.member
	ss.ch = nil
	for _, t := range []*time.Timer{ss.gone, ss.connect, ss.answered} {
		if t != nil {
			t.Stop()
		}
	}
	ss.mu.Unlock()
	s := ss.s
	s.mu.Lock()
	if s.sessions[ss.key] == ss {
		delete(s.sessions, ss.key)
	}
	s.mu.Unlock()
	if ch != nil {
		ch.Leave(m)
		s.release(v.ChannelID, ch)
	}
	ss.down.Close()
	ss.up.Close()
	if ss.udp != nil {
		ss.udp.Close()
	}
	if c != nil {
		c.close(code, reason)
	}
	if leave {
		s.live.SetVoice(live.VoiceState{GuildID: v.GuildID, UserID: v.UserID, SessionID: v.SessionID})
	}
}

// offer answers the client's offer of what it sends; the first one also
// puts the session in its channel.
func (ss *session) offer(sdp string) (int, string) {
	answer, err := ss.up.Answer(sdp)
	if err != nil {
		return closeBadRequest, err.Error()
	}
	ss.sendJSON(opSessionDesc, sessionDesc{Type: "answer", SDP: answer, AudioCodec: "opus", Mode: "webrtc"})
	ss.mu.Lock()
	first := !ss.negotiated
	ss.negotiated = true
	if first {
		ss.connect = time.AfterFunc(ss.s.cfg.ConnectTimeout, ss.checkConnected)
	}
	ss.mu.Unlock()
	if first {
		ss.join(ss.current())
	}
	return 0, ""
}

// offerDown sends the client the server's offer of what it receives. The
// client has ConnectTimeout from the latest offer to answer it and have
// that connection up.
func (ss *session) offerDown(sdp string) {
	ss.sendJSON(opSessionDesc, sessionDesc{Type: "offer", SDP: sdp})
	ss.mu.Lock()
	defer ss.mu.Unlock()
	switch {
	case ss.ended:
	case ss.answered == nil:
		ss.answered = time.AfterFunc(ss.s.cfg.ConnectTimeout, ss.checkAnswered)
	default:
		ss.answered.Reset(ss.s.cfg.ConnectTimeout)
	}
}

func (ss *session) checkAnswered() {
	ss.mu.Lock()
	detached := ss.c == nil
	if detached && !ss.ended {
		// The offer waits in the frames kept for a resume.
		ss.answered.Reset(ss.s.cfg.ConnectTimeout)
	}
	ss.mu.Unlock()
	switch st := ss.down.PC().ConnectionState(); {
	case detached:
	case ss.down.Waiting():
		ss.end(closeTimeout, "no answer to the server's offer", true)
	case st == webrtc.PeerConnectionStateNew || st == webrtc.PeerConnectionStateConnecting:
		// Once up, a connection that drops is ended when it fails.
		ss.end(closeTimeout, "media connection timed out", true)
	}
}

func (ss *session) checkConnected() {
	if ss.up.PC().ConnectionState() != webrtc.PeerConnectionStateConnected {
		ss.end(closeTimeout, "media connection timed out", true)
	}
}

// answer takes the client's answer to the SFU's offer of what it
// receives. An answer to an offer does not count against the frame
// limit: the server's offers bound them, and a busy channel makes many.
func (ss *session) answer(c *wsConn, sdp string) (int, string) {
	switch err := ss.down.SetAnswer(sdp); {
	case err == nil:
		c.limit.refund()
	case !errors.Is(err, peer.ErrNoOffer):
		return closeBadRequest, err.Error()
	}
	return 0, ""
}

func (ss *session) current() live.VoiceState {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.v
}

// join puts the session in v's channel, with the tracks it publishes.
func (ss *session) join(v live.VoiceState) {
	ch := ss.s.channel(v.GuildID, v.ChannelID)
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		ss.s.release(v.ChannelID, ch)
		return
	}
	ss.ch = ch
	var remotes []source
	for _, r := range ss.remotes {
		if r.Info().Kind == media.Audio || ss.acc.stream {
			remotes = append(remotes, r)
		}
	}
	var rcv channel.Receiver = ss.down
	if ss.viaUDP {
		rcv = ss.udp
	}
	m := &channel.Member{UserID: uint64(ss.key.user), Receiver: rcv, Observer: ss, State: ss.stateLocked()}
	ss.member = m
	ss.mu.Unlock()
	ch.Join(m)
	for _, r := range remotes {
		ch.Publish(m, r)
	}
}

func (ss *session) stateLocked() channel.State {
	return channel.State{Mute: ss.v.Mute || ss.acc.mute, Deaf: ss.v.Deaf || ss.acc.deaf, SelfMute: ss.v.SelfMute,
		SelfDeaf: ss.v.SelfDeaf, NoSpeak: !ss.acc.speak, Priority: ss.priority && ss.acc.priority}
}

// watch starts or stops receiving user's screen share.
func (ss *session) watch(user snowflake.ID, on bool) {
	ss.mu.Lock()
	ch, m := ss.ch, ss.member
	ss.mu.Unlock()
	if ch != nil {
		ch.Watch(m, uint64(user), on)
	}
}

// setSpeaking takes the flags of the client's op 5: a UDP client's
// microphone flag says whether it speaks, and the priority flag counts for
// a user with PRIORITY_SPEAKER.
func (ss *session) setSpeaking(flags int) {
	if ss.udp != nil {
		ss.udp.SetSpeaking(flags&speakingMicrophone != 0)
	}
	ss.setPriority(flags&speakingPriority != 0)
}

// selectUDP takes Select Protocol for UDP: the client chose an encryption
// mode, and gets its key (op 4). Its address is where its IP discovery
// came from; a client that never made one within ConnectTimeout is
// disconnected.
func (ss *session) selectUDP(data json.RawMessage) (int, string) {
	if ss.udp == nil {
		return closeUnknownProtocol, "UDP voice is not served here"
	}
	var d udpSelect
	if json.Unmarshal(data, &d) != nil {
		return closeDecode, "decode error"
	}
	ss.mu.Lock()
	taken := ss.negotiated
	ss.mu.Unlock()
	if taken {
		return closeBadRequest, "a protocol is already selected"
	}
	key, err := ss.udp.Select(d.Mode)
	if err != nil {
		return closeUnknownMode, "unknown encryption mode " + strconv.Quote(d.Mode)
	}
	secret := make([]int, len(key))
	for i, b := range key {
		secret[i] = int(b)
	}
	ss.sendJSON(opSessionDesc, udpSession{Mode: d.Mode, SecretKey: secret, AudioCodec: "opus"})
	// The WebRTC connections will not be used.
	ss.up.Close()
	ss.down.Close()
	ss.mu.Lock()
	ss.negotiated, ss.viaUDP = true, true
	ss.connect = time.AfterFunc(ss.s.cfg.ConnectTimeout, func() {
		if !ss.udp.Bound() {
			ss.end(closeTimeout, "UDP voice never connected", true)
		}
	})
	ss.mu.Unlock()
	ss.join(ss.current())
	return 0, ""
}

// setPriority takes the priority bit of the client's op 5: it counts for
// a user with PRIORITY_SPEAKER.
func (ss *session) setPriority(on bool) {
	ss.mu.Lock()
	ss.priority = on
	ch, m, st := ss.ch, ss.member, ss.stateLocked()
	ss.mu.Unlock()
	if ch != nil {
		ch.SetState(m, st)
	}
}

// follow applies a change of the user's voice state: a move to another
// channel (which they must be allowed into) or new flags.
func (ss *session) follow(v live.VoiceState) {
	ss.mu.Lock()
	old, ch, m, negotiated := ss.v, ss.ch, ss.member, ss.negotiated
	ss.v = v
	st := ss.stateLocked()
	ss.mu.Unlock()
	if v.ChannelID == old.ChannelID {
		if ch != nil {
			ch.SetState(m, st)
		}
		return
	}
	acc, err := ss.s.admit(v, ss.s.present(v.GuildID, v.ChannelID, v.UserID))
	if err != nil {
		ss.end(closeDisconnected, err.Error(), true)
		return
	}
	ss.mu.Lock()
	ss.acc, ss.ch = acc, nil
	ss.mu.Unlock()
	if ch != nil {
		ch.Leave(m)
		ss.s.release(old.ChannelID, ch)
	}
	if negotiated {
		ss.join(v)
	}
}

// readmit asks the guild's state again whether the user may stay in their
// channel, and what they may send there.
func (ss *session) readmit() {
	v := ss.current()
	acc, err := ss.s.admit(v, 0)
	if err != nil {
		ss.end(closeDisconnected, err.Error(), true)
		return
	}
	ss.mu.Lock()
	changed := acc != ss.acc
	ss.acc = acc
	ch, m, st := ss.ch, ss.member, ss.stateLocked()
	var drop []source
	if !acc.stream {
		for _, r := range ss.remotes {
			if r.Info().Kind == media.Video {
				drop = append(drop, r)
			}
		}
	}
	ss.mu.Unlock()
	if changed && ch != nil {
		ch.SetState(m, st)
		for _, r := range drop {
			ch.Unpublish(m, r)
		}
	}
}

// source is a track the client sends: over WebRTC (peer.Remote) or UDP
// (udp.Track).
type source interface {
	media.Track
	Done() <-chan struct{}
}

// publish puts a track the client started sending in its channel, if it
// may send it: video needs STREAM.
func (ss *session) publish(r source) {
	ss.mu.Lock()
	if ss.ended || r.Info().Kind == media.Video && !ss.acc.stream {
		ss.mu.Unlock()
		return
	}
	ss.remotes = append(ss.remotes, r)
	ch, m := ss.ch, ss.member
	ss.mu.Unlock()
	if ch != nil {
		ch.Publish(m, r)
	}
	screen := r.Info().Source == media.Screen
	if screen {
		ss.s.live.UpdateVoice(ss.key.guild, ss.key.user, func(v *live.VoiceState) { v.SelfStream = true })
	}
	go func() {
		<-r.Done()
		if screen {
			ss.s.live.UpdateVoice(ss.key.guild, ss.key.user, func(v *live.VoiceState) { v.SelfStream = false })
		}
		ss.mu.Lock()
		for i, x := range ss.remotes {
			if x == r {
				ss.remotes = append(ss.remotes[:i:i], ss.remotes[i+1:]...)
				break
			}
		}
		ch, m := ss.ch, ss.member
		ss.mu.Unlock()
		if ch != nil {
			ch.Unpublish(m, r)
		}
	}()
}

// sendJSON sends a numbered frame, kept until acknowledged for a resume.
func (ss *session) sendJSON(op int, v any) {
	d, _ := json.Marshal(v) // plain data always marshals
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.seq++
	seq := ss.seq
	b := marshal(op, d, &seq)
	if len(ss.kept) == keptFrames {
		ss.kept = append(ss.kept[:0], ss.kept[1:]...)
	}
	ss.kept = append(ss.kept, keptFrame{seq, b})
	if ss.c != nil {
		ss.c.send(b)
	}
}

// ack forgets the frames the client acknowledged.
func (ss *session) ack(seq int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	i := 0
	for i < len(ss.kept) && ss.kept[i].seq <= seq {
		i++
	}
	ss.kept = append(ss.kept[:0], ss.kept[i:]...)
}

// The session is its channel's Observer: what happens there becomes
// frames to the client.

// Joined sends op 11, a thousand users a frame at most: a member joining a
// full channel hears of everyone there in a few frames, not one each,
// which would overrun the connection's queue.
func (ss *session) Joined(userIDs []uint64) {
	for chunk := range slices.Chunk(userIDs, 1000) {
		ids := make([]string, len(chunk))
		for i, u := range chunk {
			ids[i] = id(u)
		}
		ss.sendJSON(opClientsConnect, map[string][]string{"user_ids": ids})
	}
}

func (ss *session) Left(userID uint64) {
	ss.sendJSON(opClientDisconnect, map[string]string{"user_id": id(userID)})
}

func (ss *session) Speaking(userID uint64, on, priority bool) {
	if userID == uint64(ss.key.user) {
		return
	}
	flags := 0
	if on {
		flags = speakingMicrophone
	}
	if priority {
		flags |= speakingPriority
	}
	var ssrc uint32
	if ss.viaUDP {
		// A UDP client learns whose audio an SSRC carries from this.
		ssrc = ss.udp.SSRCOf(userID)
	}
	ss.sendJSON(opSpeaking, speaking{UserID: id(userID), SSRC: ssrc, Speaking: speakingFlags(flags)})
}

func (ss *session) Published(info media.Info)   { ss.video(info, true) }
func (ss *session) Unpublished(info media.Info) { ss.video(info, false) }

func (ss *session) video(info media.Info, active bool) {
	if info.Kind != media.Video {
		return
	}
	ss.sendJSON(opVideo, videoState{UserID: id(info.Owner), Streams: []stream{{Type: string(info.Source), Active: active}}})
}

// Recording tells the client that the channel is (or is no longer)
// being recorded: Concord's op 50.
func (ss *session) Recording(by uint64, on bool) {
	ss.sendJSON(opRecording, map[string]any{"user_id": id(by), "recording": on})
}

// Viewers tells the client who watches streamer's screen share: Concord's
// op 52.
func (ss *session) Viewers(streamer uint64, watchers []uint64) {
	d := viewers{UserID: id(streamer), ViewerIDs: make([]string, len(watchers))}
	for i, u := range watchers {
		d.ViewerIDs[i] = id(u)
	}
	ss.sendJSON(opViewers, d)
}

func id(u uint64) string { return strconv.FormatUint(u, 10) }
