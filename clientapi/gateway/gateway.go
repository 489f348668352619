package gateway

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"concord/federation/snowflake"
)

// Config tunes a Gateway; zero fields take the defaults in New.
type Config struct {
	// PublicURL is the WebSocket URL clients are told to use, e.g.
	// wss://chat.example.org/gateway; READY's resume_gateway_url too.
	PublicURL          string
	HeartbeatInterval  time.Duration // 41.25 s, Discord's
	ResumeWindow       time.Duration // how long a dropped session waits for a resume: 2 min
	ReplayMax          int           // dispatches a session keeps for resume: 1000
	ReplayBytes        int           // and at most these payload bytes: 1 MiB
	QueueMax           int           // frames waiting to be written before a slow client is dropped: 1024
	QueueBytes         int           // and payload bytes: 4 MiB
	WriteTimeout       time.Duration // one frame's write: 10 s
	InboundWindow      time.Duration // the window of the inbound limit: 60 s
	InboundLimit       int           // events a connection may send per InboundWindow: 120
	MaxPayload         int           // bytes of one inbound payload; more closes 4002: 4096
	IdentifyTimeout    time.Duration // a connection that has not identified or resumed by then is closed 4003: 30 s
	IdentifyLimit      int           // identifies per user per 24 h (session_start_limit); more closes 4008: 1000
	RecheckInterval    time.Duration // how often a heartbeat has the provider recheck the credential (StillValid): 5 min
	MemberGuilds       int           // guilds one op 8 may name, duplicates removed: 100
	MemberGuildsPerMin int           // guilds a user may query by op 8 per minute, over all sessions: 120
	// ConnsPerClient caps the open connections of one client address; more
	// are refused with 429 before the upgrade: 50.
	ConnsPerClient int
	// ClientKey names a request's client address for ConnsPerClient; nil
	// uses the peer address. clientapi passes its per-address key (which
	// honours trusted proxies and counts IPv6 per /56).
	ClientKey func(*http.Request) string
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defi := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.HeartbeatInterval, 41250*time.Millisecond)
	def(&c.ResumeWindow, 2*time.Minute)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.InboundWindow, time.Minute)
	defi(&c.ReplayMax, 1000)
	defi(&c.ReplayBytes, 1<<20)
	defi(&c.QueueMax, 1024)
	defi(&c.QueueBytes, 4<<20)
	defi(&c.InboundLimit, inboundWindowN)
	defi(&c.MaxPayload, maxInboundPayload)
	def(&c.IdentifyTimeout, 30*time.Second)
	def(&c.RecheckInterval, 5*time.Minute)
	defi(&c.IdentifyLimit, identifyLimit)
	defi(&c.MemberGuilds, 100)
	defi(&c.MemberGuildsPerMin, 120)
	defi(&c.ConnsPerClient, 50)
	if c.ClientKey == nil {
		c.ClientKey = peerHost
	}
}

// peerHost is the host part of a request's peer address.
func peerHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Gateway serves the gateway WebSocket and fans dispatches out to sessions.
// Build it with New.
type Gateway struct {
	cfg      Config
	p        Provider
	live     Live
	log      *slog.Logger
	m        *metrics
	upgrader websocket.Upgrader

	mu       sync.RWMutex
	rooms    map[snowflake.ID]*roomSubs             // guild or DM room → sessions
	users    map[snowflake.ID]map[*session]struct{} // user → sessions
	sessions map[string]*session                    // by session_id
	starts   map[snowflake.ID]*startCount           // identifies per user, for session_start_limit

	clientMu sync.Mutex
	clients  map[string]int // open connections per client address

	memberAsks *userBudget // op 8 guild queries per user
}

// roomSubs are the sessions subscribed to one guild or DM room.
type roomSubs struct {
	all      map[*session]struct{}
	presence map[*session]struct{} // the subset with GUILD_PRESENCES: presence fan-out skips the rest
	epoch    uint32                // bumped when permissions in the room may have changed
}

// New builds a Gateway that asks p for what it sends and tells l who is
// connected. reg may be nil.
func New(cfg Config, p Provider, l Live, log *slog.Logger, reg prometheus.Registerer) (*Gateway, error) {
	if p == nil || l == nil {
		return nil, errors.New("gateway: a provider and live state are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.defaults()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, p: p, live: l, log: log, m: m,
		rooms:    map[snowflake.ID]*roomSubs{},
		users:    map[snowflake.ID]map[*session]struct{}{},
		sessions: map[string]*session{},
		starts:   map[snowflake.ID]*startCount{},
		clients:  map[string]int{},
	}
	g.memberAsks = newUserBudget(cfg.MemberGuildsPerMin, time.Minute)
	g.upgrader = websocket.Upgrader{
		// A small read buffer (inbound frames are at most 4 KiB and rare)
		// and pooled write buffers keep an idle connection cheap.
		ReadBufferSize:    1024,
		WriteBufferSize:   4096,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: true,
		// Tokens travel in identify, never in cookies: a cross-origin page
		// gains nothing by connecting.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return g, nil
}
