package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/snowflake"
)

// LiveTopicName is the GossipSub topic of a room's live signals
// (spec/federation.md, "Live signals").
func LiveTopicName(gid snowflake.ID) string { return "/concord/live/1/" + gid.String() }

// Live signal bounds.
const (
	maxSignal      = 4096             // bytes of one signal
	signalMaxAge   = 30 * time.Second // how far a signal's ts may be from the receiver's clock
	signalRate     = 10               // signals per second one origin may send, with bursts of signalBurst
	signalBurst    = 50
	liveQueue      = 256 // local signals waiting to be published
	typingSignal   = "typing"
	presenceSignal = "presence"
	profileSignal  = "profile" // the user's profile changed: fetch it again from their home
	voiceSignal    = "voice"   // the user's voice state in the room: in which channel, muted, streaming
	maxRateLimits  = 10_000    // origins whose rate is tracked; beyond, tracking starts afresh
)

// signal is a live signal: signed by its origin, the home of its user,
// never stored.
type signal struct {
	Type       string          `json:"type"`
	GuildID    snowflake.ID    `json:"guild_id"`
	ChannelID  snowflake.ID    `json:"channel_id,omitzero"` // typing
	UserID     snowflake.ID    `json:"user_id"`
	Status     string          `json:"status,omitempty"`     // presence
	Activities json.RawMessage `json:"activities,omitempty"` // presence: a JSON array
	Voice      *voiceFlags     `json:"voice,omitempty"`      // voice: ChannelID is the channel, 0 when the user left
	Origin     string          `json:"origin"`
	TS         int64           `json:"ts"`
	Signature  string          `json:"signature,omitempty"`
}

// voiceFlags are a voice state's flags, as a voice signal carries them.
type voiceFlags struct {
	SelfMute   bool `json:"self_mute,omitempty"`
	SelfDeaf   bool `json:"self_deaf,omitempty"`
	SelfVideo  bool `json:"self_video,omitempty"`
	SelfStream bool `json:"self_stream,omitempty"`
	Mute       bool `json:"mute,omitempty"`
	Deaf       bool `json:"deaf,omitempty"`
	Suppress   bool `json:"suppress,omitempty"`
}

// voiceSignalOf is the voice signal of a voice state of this node's user.
func voiceSignalOf(v live.VoiceState) signal {
	return signal{Type: voiceSignal, GuildID: v.GuildID, ChannelID: v.ChannelID, UserID: v.UserID, TS: time.Now().UnixMilli(),
		Voice: &voiceFlags{SelfMute: v.SelfMute, SelfDeaf: v.SelfDeaf, SelfVideo: v.SelfVideo, SelfStream: v.SelfStream,
			Mute: v.Mute, Deaf: v.Deaf, Suppress: v.Suppress}}
}

// voiceState is the voice state a verified voice signal announces.
func (s *signal) voiceState() live.VoiceState {
	f := s.Voice
	return live.VoiceState{GuildID: s.GuildID, ChannelID: s.ChannelID, UserID: s.UserID, Home: s.Origin,
		SelfMute: f.SelfMute, SelfDeaf: f.SelfDeaf, SelfVideo: f.SelfVideo, SelfStream: f.SelfStream,
		Mute: f.Mute, Deaf: f.Deaf, Suppress: f.Suppress}
}

func (s *signal) signingInput() ([]byte, error) {
	c := *s
	c.Signature = ""
	return canonicalJSON(c)
}

// liveListener hears the node's live state and queues its own users'
// typing for gossip; it never blocks.
type liveListener struct{ f *Federation }

func (l liveListener) Typing(t live.Typing) {
	select {
	case l.f.liveOut <- t:
	default: // typing is repeated every few seconds
	}
}
func (l liveListener) Presence(p live.Presence) {
	select {
	case l.f.presenceOut <- p:
	default: // presence is announced again every presenceRefresh
	}
}
func (l liveListener) Voice(v live.VoiceState) {
	if v.Home != "" {
		return // heard from its home
	}
	select {
	case l.f.voiceOut <- v:
	default: // voice states are announced again every presenceRefresh
	}
}
func (liveListener) VoiceServer(live.VoiceServer) {}

// homeOf is the home node of a member of the room, "" for a non-member
// or when the room has no channel channel (0: none asked for).
func (f *Federation) homeOf(ctx context.Context, gid, user, channel snowflake.ID) string {
	home := ""
	f.core.View(ctx, gid, func(s *guild.State) error {
		if s.Members[user] != nil && (channel == 0 || s.Channels[channel] != nil || s.Kind != guild.KindGuild) {
			home = s.Homes[user]
		}
		return nil
	})
	return home
}

// publishLive signs and gossips the typing of this node's users.
func (f *Federation) publishLive() {
	self := f.host.ID().String()
	for {
		var t live.Typing
		select {
		case <-f.ctx.Done():
			return
		case t = <-f.liveOut:
		}
		tp := f.lookup(t.RoomID)
		if tp == nil || tp.live == nil || f.homeOf(f.ctx, t.RoomID, t.UserID, t.ChannelID) != self {
			continue // a remote user's typing, heard from gossip, or a room not federated
		}
		f.publishSignal(tp, signal{Type: typingSignal, GuildID: t.RoomID, ChannelID: t.ChannelID, UserID: t.UserID, TS: t.At.UnixMilli()})
	}
}

// publishSignal signs s as this node's and gossips it on the room's live
// topic.
func (f *Federation) publishSignal(tp *topic, s signal) {
	s.Origin = f.host.ID().String()
	in, err := s.signingInput()
	if err == nil {
		s.Signature, err = signBytes(f.host.Peerstore().PrivKey(f.host.ID()), in)
	}
	var body []byte
	if err == nil {
		body, err = json.Marshal(s)
	}
	if err == nil && len(body) > maxSignal {
		err = fmt.Errorf("%d bytes, receivers take at most %d", len(body), maxSignal) // rich activities
	}
	if err == nil {
		err = tp.live.Publish(f.ctx, body)
	}
	if err != nil && f.ctx.Err() == nil {
		f.log.Warn("federation: publish "+s.Type, "guild", s.GuildID, "err", err)
	}
}

var (
	errStale = errors.New("signal too old or too new")
	// errNotMember is a signal for a user this node does not hold as a
	// member (of a room with that channel): their join may not have
	// arrived yet, so it is ignored, not held against the peer.
	errNotMember = errors.New("signal for a user who is not a member here")
)

// checkSignal verifies a live signal of room gid: its signature, that its
// origin is its user's home and the user a member, and its age.
func (f *Federation) checkSignal(ctx context.Context, gid snowflake.ID, data []byte) (*signal, error) {
	if len(data) > maxSignal {
		return nil, fmt.Errorf("signal of %d bytes", len(data))
	}
	var s signal
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	switch {
	case s.GuildID != gid:
		return nil, fmt.Errorf("signal of guild %s on %s's topic", s.GuildID, gid)
	case s.Type == typingSignal && s.ChannelID != 0 && s.Voice == nil:
	case s.Type == presenceSignal && s.ChannelID == 0 && s.Voice == nil && presenceStatuses[s.Status] && json.Valid(s.Activities) &&
		len(s.Activities) > 0 && s.Activities[0] == '[':
	case s.Type == profileSignal && s.ChannelID == 0 && s.Status == "" && s.Activities == nil && s.Voice == nil:
	case s.Type == voiceSignal && s.Voice != nil && s.Status == "" && s.Activities == nil:
	default:
		return nil, fmt.Errorf("malformed %q signal", s.Type)
	}
	origin, err := peer.Decode(s.Origin)
	if err != nil {
		return nil, err
	}
	in, err := s.signingInput()
	if err != nil {
		return nil, err
	}
	if err := verifyBytes(origin, in, s.Signature); err != nil {
		return nil, err
	}
	switch home := f.homeOf(ctx, gid, s.UserID, s.ChannelID); home {
	case s.Origin:
	case "":
		return nil, errNotMember
	default:
		return nil, fmt.Errorf("signal for %s from %s, not their home", s.UserID, s.Origin)
	}
	if age := time.Since(time.UnixMilli(s.TS)); age > signalMaxAge || age < -signalMaxAge {
		return nil, errStale
	}
	return &s, nil
}

// liveValidator admits a room's live signals: forged ones are rejected,
// stale ones and those beyond an origin's rate ignored.
func (f *Federation) liveValidator(gid snowflake.ID) func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
	return func(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if from == f.host.ID() {
			return pubsub.ValidationAccept
		}
		s, err := f.checkSignal(ctx, gid, m.Data)
		switch {
		case errors.Is(err, errStale), errors.Is(err, errNotMember):
			return pubsub.ValidationIgnore
		case err != nil:
			f.log.Info("federation: rejected live signal", "guild", gid, "peer", m.ReceivedFrom, "err", err)
			return pubsub.ValidationReject
		case !allow(&f.mu, f.signalRates, s.Origin, signalRate, signalBurst):
			return pubsub.ValidationIgnore
		}
		return pubsub.ValidationAccept
	}
}

// allow spends one of origin's tokens in limits (guarded by mu), whose
// buckets refill at r a second up to burst.
func allow(mu *sync.Mutex, limits map[string]*rate.Limiter, origin string, r rate.Limit, burst int) bool {
	mu.Lock()
	defer mu.Unlock()
	l := limits[origin]
	if l == nil {
		if len(limits) >= maxRateLimits {
			clear(limits)
		}
		l = rate.NewLimiter(r, burst)
		limits[origin] = l
	}
	return l.Allow()
}

// deliverLive hands a room's remote live signals to the node's live state.
func (f *Federation) deliverLive(t *topic, sub *pubsub.Subscription) {
	gid := t.gid
	defer sub.Cancel()
	for {
		m, err := sub.Next(t.ctx)
		if err != nil {
			return
		}
		if m.ReceivedFrom == f.host.ID() {
			continue
		}
		var s signal
		switch err := json.Unmarshal(m.Data, &s); {
		case err != nil:
		case s.Type == typingSignal:
			f.cfg.Live.Typing(live.Typing{RoomID: gid, ChannelID: s.ChannelID, UserID: s.UserID, At: time.UnixMilli(s.TS)})
		case s.Type == presenceSignal:
			f.heardPresence(&s)
		case s.Type == profileSignal:
			if home, err := peer.Decode(s.Origin); err == nil {
				f.queueProfile(wanted{home: home, user: s.UserID, changed: true})
			}
		case s.Type == voiceSignal && s.Voice != nil:
			f.heardVoice(&s)
		}
	}
}
