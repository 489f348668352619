// Package sfu is the node's voice server: a WebRTC SFU on pion with the
// voice gateway Discord's clients speak (spec/voice.md). It hears voice
// states from the live state (federation/live): each join gets a token and
// the voice gateway's endpoint back through the live state, which the
// client API renders as VOICE_SERVER_UPDATE. The client then opens the
// voice gateway, proves the join with the token and negotiates its media.
// Permissions are read from the guild's state (federation/room).
//
// Inside: media is the track model and forwarding path, channel decides
// who receives what in one voice channel, peer is the WebRTC endpoint, udp
// is Discord's UDP voice transport for bots. A channel with users of
// other nodes cascades: the SFU relays its users' tracks to those nodes'
// SFUs and publishes theirs (cascade.go, relay.go), its offers carried by
// the federation through a Relayer.
// Only node imports this package; it imports federation and storage, never
// the client API.
package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/sfu/peer"
	"concord/sfu/udp"
	"concord/storage"
	"concord/storage/blob"
)

// Guilds reads a guild's state and tells of its changes; *room.Core is
// one.
type Guilds interface {
	View(ctx context.Context, guildID snowflake.ID, fn func(s *guild.State) error) error
	Subscribe(fn func(*room.Accepted)) (unsubscribe func())
}

// Config tunes the SFU; zero durations take the defaults in New.
type Config struct {
	// Endpoint is what VOICE_SERVER_UPDATE carries: the voice gateway's
	// host[:port]/path, e.g. chat.example.org/voice.
	Endpoint   string
	Peer       peer.Config
	ICEServers []ICEServer // TURN servers handed to clients in Ready

	TokenTTL          time.Duration // an unused token's life: 60 s
	HeartbeatInterval time.Duration // the voice gateway's: 13.75 s, Discord's
	IdentifyTimeout   time.Duration // from connecting to identify: 10 s
	ConnectTimeout    time.Duration // from an answer to connected media (ICE and DTLS): 15 s
	ResumeWindow      time.Duration // a dropped voice connection waits for a resume: 30 s
	FramesPerMinute   int           // inbound frames per connection: 240
	RecordDir         string        // where recordings are written before the blob store takes them: the system's temp dir
	// UDPListen is where the UDP voice protocol of the bot libraries
	// is served (host:port, port 0 picks one); empty serves none.
	UDPListen string
	// UDPAddress is the IP clients are told to send UDP voice to; empty
	// tells each the IP it reached the voice gateway at.
	UDPAddress string
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.TokenTTL, time.Minute)
	def(&c.HeartbeatInterval, 13750*time.Millisecond)
	def(&c.IdentifyTimeout, 10*time.Second)
	def(&c.ConnectTimeout, 15*time.Second)
	def(&c.ResumeWindow, 30*time.Second)
	if c.FramesPerMinute <= 0 {
		c.FramesPerMinute = 240
	}
}

// Deps are the parts of the node the SFU uses.
type Deps struct {
	Live   *live.Hub
	Guilds Guilds
	Auth   Authenticator // nil: no WHIP, WHEP or recording
	Blobs  blob.Store    // where recordings go; nil: no recording
	DB     *storage.DB   // which blobs recordings own; needed with Blobs
	Log    *slog.Logger
	// Relay carries relay offers to other nodes' SFUs, which cascade
	// voice channels with users on several nodes; nil: no cascading, and
	// other nodes' users are not heard here.
	Relay Relayer
	// Admit, when set, admits a voice gateway connection by its request,
	// and release ends its count: the node caps connections per client
	// address with it.
	Admit func(r *http.Request) (release func(), ok bool)
}

// SFU is the voice server. Build it with New, serve Handler, Close it.
type SFU struct {
	cfg       Config
	live      *live.Hub
	guilds    Guilds
	auth      Authenticator
	blobs     blob.Store
	db        *storage.DB
	log       *slog.Logger
	api       *peer.API
	udp       *udp.Server // nil: no UDP voice
	admitConn func(r *http.Request) (release func(), ok bool)
	relayer   Relayer

	mu         sync.Mutex
	grants     map[voiceKey]*grant
	tokens     map[string]*grant
	sessions   map[voiceKey]*session
	channels   map[snowflake.ID]*channelRef
	resources  map[string]*resource        // WHIP ingests and WHEP playbacks, by ID
	held       map[snowflake.ID]int        // resources per user, counted from before they exist
	recordings map[snowflake.ID]*recording // by channel
	out        map[string]*relayOut        // relays to other nodes, by peer
	in         map[string]*relayIn         // relays from other nodes, by peer
	retry      map[string]time.Time        // when a failed relay to a peer may open again
	fails      map[string]int              // relays to a peer that failed in a row
	closed     bool

	changes *queue // voice states heard from the live state
	stop    func()
	wg      sync.WaitGroup
}

// voiceKey names one user's voice connection: one per guild.
type voiceKey struct{ guild, user snowflake.ID }

// New builds the SFU and starts hearing voice states.
func New(cfg Config, d Deps) (*SFU, error) {
	if d.Live == nil || d.Guilds == nil {
		return nil, errors.New("sfu: live state and guilds are required")
	}
	if cfg.Endpoint == "" {
		return nil, errors.New("sfu: an endpoint is required")
	}
	if d.Blobs != nil {
		if d.DB == nil {
			return nil, errors.New("sfu: recording needs the database beside the blob store")
		}
		if err := dropUnfinished(context.Background(), d.DB); err != nil {
			return nil, fmt.Errorf("sfu: %w", err)
		}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	cfg.defaults()
	api, err := peer.NewAPI(cfg.Peer)
	if err != nil {
		return nil, err
	}
	var u *udp.Server
	if cfg.UDPListen != "" {
		if u, err = udp.Listen(cfg.UDPListen); err != nil {
			api.Close()
			return nil, fmt.Errorf("sfu: udp voice: %w", err)
		}
	}
	s := &SFU{cfg: cfg, live: d.Live, guilds: d.Guilds, auth: d.Auth, blobs: d.Blobs, db: d.DB, log: d.Log, api: api, udp: u, admitConn: d.Admit, relayer: d.Relay,
		out: map[string]*relayOut{}, in: map[string]*relayIn{}, retry: map[string]time.Time{}, fails: map[string]int{},
		resources: map[string]*resource{}, held: map[snowflake.ID]int{}, recordings: map[snowflake.ID]*recording{},
		grants: map[voiceKey]*grant{}, tokens: map[string]*grant{}, sessions: map[voiceKey]*session{},
		channels: map[snowflake.ID]*channelRef{}, changes: newQueue()}
	s.wg.Add(1)
	go s.run()
	stopLive := d.Live.Subscribe(listener{s})
	stopGuilds := d.Guilds.Subscribe(func(acc *room.Accepted) {
		if acc.Applied {
			s.changes.put(func() { s.guildChanged(acc) })
		}
	})
	s.stop = func() { stopLive(); stopGuilds() }
	return s, nil
}

// Handler serves the voice gateway at /voice and WHIP and WHEP under
// /voice/whip/ and /voice/whep/; node mounts it at /voice and below.
func (s *SFU) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/voice", s.serveVoice)
	mux.HandleFunc("/voice/", func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, whipPrefix), strings.HasPrefix(p, whepPrefix):
			s.serveWHIP(w, r)
			return
		case strings.HasPrefix(p, recordPrefix):
			s.serveRecordings(w, r)
			return
		}
		s.serveVoice(w, r)
	})
	return mux
}

// Close ends every voice connection and releases the media ports.
func (s *SFU) Close() error {
	s.stop()
	s.changes.close()
	s.wg.Wait()
	s.mu.Lock()
	s.closed = true
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	resources := make([]*resource, 0, len(s.resources))
	for _, r := range s.resources {
		resources = append(resources, r)
	}
	recordings := s.recordings
	s.recordings = map[snowflake.ID]*recording{}
	s.mu.Unlock()
	for _, ss := range sessions {
		ss.end(closeServerCrashed, "voice server shutting down", false)
	}
	for _, r := range resources {
		r.end()
	}
	s.closeRelays()
	if s.udp != nil {
		s.udp.Close()
	}
	// A recording cut short by shutdown is still stored.
	for _, rec := range recordings {
		if _, _, err := s.finish(context.Background(), rec); err != nil {
			s.log.Error("sfu: store recording at shutdown", "err", err)
		}
	}
	return s.api.Close()
}

// UDPPort is the port of the UDP voice protocol the bot libraries speak;
// 0 when the node serves none.
func (s *SFU) UDPPort() int {
	if s.udp == nil {
		return 0
	}
	return s.udp.Port()
}

// Sessions counts the open voice connections.
func (s *SFU) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
