package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"concord/federation/live"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// Config tunes federation; the zero value is the default.
type Config struct {
	// SyncEvery is how often each room's forward extremities are
	// exchanged with its peers. 0 means DefaultSyncEvery.
	SyncEvery time.Duration
	// ReadyWait bounds how long a room's first local events wait for a
	// peer to publish to after the node subscribed. 0 means
	// DefaultReadyWait.
	ReadyWait time.Duration
	// NodeName is the node's name, which its users' profiles carry.
	NodeName string
	// Directory serves this node's users' profiles and keeps remote
	// users'; nil serves and keeps none.
	Directory Directory
	// Files serves the files of the node's messages to the rooms' other
	// nodes; nil serves none.
	Files Files
	// Live is the node's live state: its users' typing is gossiped to
	// the rooms' other nodes, and theirs is told to it. nil carries none.
	Live *live.Hub
}

// Defaults of Config.
const (
	DefaultSyncEvery = 10 * time.Second
	DefaultReadyWait = 5 * time.Second
)

// Queue sizes: GossipSub's defaults (32) drop messages under bursts.
const (
	validateQueue = 4096 // messages waiting for validation
	peerQueue     = 1024 // outbound RPCs per peer
	subBuffer     = 1024 // delivered messages per subscription
	publishQueue  = 1024 // local events of one room waiting to be published
)

// Federation replicates the node's rooms to other nodes: it gossips local
// events, accepts remote ones through room.Core, and serves and calls the
// stream protocols.
type Federation struct {
	host    *Host
	core    *room.Core
	ps      *pubsub.PubSub
	log     *slog.Logger
	metrics *metrics
	cfg     Config

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	unsub  func()

	joinMu   sync.Mutex // held while subscribing to a room
	mu       sync.Mutex
	closed   bool
	topics   map[snowflake.ID]*topic
	via      map[snowflake.ID]peer.ID       // rooms joined through a peer, until the local join is sent to it
	held     map[snowflake.ID][][]byte      // local events of those rooms, gossiped once subscribed
	fetching map[snowflake.ID]chan struct{} // one catch-up per room at a time
	join     chan snowflake.ID              // rooms seen in committed events, to subscribe to

	profiles chan wanted // remote users whose profiles to fetch
	bots     interactionsHolder
	friends  friendsHolder
	voice    voiceHolder

	homes      *roomHomes            // who may be among a room's gossip peers
	homesDirty map[snowflake.ID]bool // rooms whose member homes are to be counted again
	homesKick  chan struct{}
	absent     map[snowflake.ID]bool // rooms held with no member homed here: not subscribed to
	out        deliveries

	liveOut     chan live.Typing          // local typing to gossip
	presenceOut chan live.Presence        // local presence changes to gossip
	profileOut  chan snowflake.ID         // local users whose profile changed, to announce
	greetings   chan greeting             // nodes that just joined a room, to tell who is online
	presences   *remoteWord[snowflake.ID] // remote users' presence
	voiceOut    chan live.VoiceState      // local voice state changes to gossip
	voices      *remoteWord[voiceKey]     // remote users' voice states
	signalRates map[string]*rate.Limiter  // live signals by origin
	eventRates  map[string]*rate.Limiter  // gossiped events by origin
	invokeRates map[string]*rate.Limiter  // forwarded interactions by node
	friendRates map[string]*rate.Limiter  // friend actions by node
	voiceRates  map[string]*rate.Limiter  // voice relay offers by node
	unsubLive   func()
}

// New starts federation on host for the rooms of core: it subscribes to
// every room core holds, and to each room core comes to hold. Its metrics
// register on reg.
func New(host *Host, core *room.Core, cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Federation, error) {
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = DefaultSyncEvery
	}
	if cfg.ReadyWait <= 0 {
		cfg.ReadyWait = DefaultReadyWait
	}
	m, err := newMetrics(reg, func() float64 { return float64(len(host.Network().Peers())) })
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Federation{host: host, core: core, log: log, metrics: m, cfg: cfg, ctx: ctx, cancel: cancel,
		topics: map[snowflake.ID]*topic{}, via: map[snowflake.ID]peer.ID{}, held: map[snowflake.ID][][]byte{}, fetching: map[snowflake.ID]chan struct{}{}, join: make(chan snowflake.ID, 1024),
		profiles: make(chan wanted, profileQueue), out: deliveries{queues: map[peer.ID]chan Delivery{}}, liveOut: make(chan live.Typing, liveQueue),
		presenceOut: make(chan live.Presence, liveQueue), profileOut: make(chan snowflake.ID, liveQueue), greetings: make(chan greeting, liveQueue), presences: newRemoteWord[snowflake.ID](),
		voiceOut: make(chan live.VoiceState, liveQueue), voices: newRemoteWord[voiceKey](),
		signalRates: map[string]*rate.Limiter{}, eventRates: map[string]*rate.Limiter{}, invokeRates: map[string]*rate.Limiter{},
		friendRates: map[string]*rate.Limiter{}, voiceRates: map[string]*rate.Limiter{}, unsubLive: func() {},
		homes: newRoomHomes(), homesDirty: map[snowflake.ID]bool{}, homesKick: make(chan struct{}, 1),
		absent: map[snowflake.ID]bool{}}
	f.ps, err = newGossip(ctx, host, m, f.homes, log)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	f.serveStreams()
	rooms, err := core.Rooms(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	for _, gid := range rooms {
		if _, err := f.topic(gid); err != nil {
			cancel()
			return nil, err
		}
	}
	f.unsub = core.Subscribe(f.committed)
	f.goRun(f.joinRooms)
	f.goRun(f.syncLoop)
	f.goRun(f.resumeBackfills)
	f.goRun(f.fetchProfiles)
	f.goRun(f.trackHomes)
	if cfg.Live != nil {
		f.unsubLive = cfg.Live.Subscribe(liveListener{f})
		f.goRun(f.publishLive)
		f.goRun(f.publishPresence)
	}
	return f, nil
}

// goRun runs fn in a goroutine Close waits for, unless Close has begun;
// it reports whether it did.
func (f *Federation) goRun(fn func()) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn()
	}()
	return true
}

// Close stops federation; the host stays up.
func (f *Federation) Close() error {
	f.unsub()
	f.unsubLive()
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
	f.presences.stop()
	f.voices.stop()
	return nil
}

// joinRooms subscribes to the rooms committed events name that have no
// topic yet.
func (f *Federation) joinRooms() {
	for {
		select {
		case <-f.ctx.Done():
			return
		case gid := <-f.join:
			if _, err := f.topic(gid); err != nil && f.ctx.Err() == nil {
				f.log.Warn("federation: subscribe", "guild", gid, "err", err)
			}
		}
	}
}

// SharedRooms returns, for each peer in a room's gossip topic, the rooms
// it shares with this node.
func (f *Federation) SharedRooms() map[peer.ID][]snowflake.ID {
	out := map[peer.ID][]snowflake.ID{}
	for _, t := range f.rooms() {
		for _, p := range t.t.ListPeers() {
			out[p] = append(out[p], t.gid)
		}
	}
	for _, gids := range out {
		slices.Sort(gids)
	}
	return out
}

// rooms returns the rooms federation is subscribed to.
func (f *Federation) rooms() []*topic {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*topic, 0, len(f.topics))
	for _, t := range f.topics {
		out = append(out, t)
	}
	return out
}
