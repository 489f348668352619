// Package dispatch renders what the gateway sends: it turns every event the
// event core commits, and every change of live state (presence, typing,
// voice), into Discord's dispatches for the gateway to fan out, and it is
// the gateway's Provider (READY, GUILD_CREATE, member lists, channel
// visibility). Node builds the provider, then the gateway on it, then the
// translator feeding that gateway.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"concord/clientapi/gateway"
	"concord/clientapi/objects"
	"concord/federation/live"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
)

// Sink is what the translator drives; *gateway.Gateway is one.
type Sink interface {
	Publish(d gateway.Dispatch)
	JoinGuild(ctx context.Context, guildID, userID snowflake.ID)
	LeaveGuild(guildID, userID snowflake.ID)
	AddRoom(roomID, userID snowflake.ID)
}

// DefaultQueue is how many events may wait for rendering before whoever
// produces them (a room's committer, the live state) waits in turn.
const DefaultQueue = 8192

// Translator renders committed events and live-state changes, in the order
// they happened, on its own goroutine: rendering reads storage, and
// neither the event core nor the live state may wait for that. Between
// them is a bounded queue; when it is full, producers wait (and the wait
// is counted) rather than the node growing without bound.
type Translator struct {
	db      *storage.DB
	core    *room.Core
	objects *objects.Renderer
	live    *live.Hub
	sink    Sink
	log     *slog.Logger
	now     func() time.Time

	queue chan item
	done  chan struct{}
	ended chan struct{}
	stop  []func()
	waits prometheus.Counter
}

// item is one thing to render: exactly one field is set.
type item struct {
	acc      *room.Accepted
	presence *live.Presence
	typing   *live.Typing
	voice    *live.VoiceState
	server   *live.VoiceServer
}

// Config tunes the translator.
type Config struct {
	Queue   int                   // items waiting to be rendered; 0 means DefaultQueue
	Log     *slog.Logger          // nil: slog.Default
	Metrics prometheus.Registerer // nil: metrics are not registered
}

// NewTranslator starts rendering for sink everything the core commits and
// the live state changes, until Close.
func NewTranslator(cfg Config, d Deps, sink Sink) (*Translator, error) {
	if d.DB == nil || d.Core == nil || d.Objects == nil || d.Live == nil || sink == nil {
		return nil, errors.New("dispatch: DB, Core, Objects, Live and a sink are required")
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	t := &Translator{db: d.DB, core: d.Core, objects: d.Objects, live: d.Live, sink: sink, log: cfg.Log, now: d.Now,
		queue: make(chan item, cfg.Queue), done: make(chan struct{}), ended: make(chan struct{}),
		waits: prometheus.NewCounter(prometheus.CounterOpts{Name: "concord_dispatch_queue_waits_total",
			Help: "Times an event waited for room in the full queue of events to render as dispatches."})}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "concord_dispatch_queue_depth",
		Help: "Committed events and live-state changes waiting to be rendered as dispatches."},
		func() float64 { return float64(len(t.queue)) })
	if cfg.Metrics != nil {
		for _, c := range []prometheus.Collector{t.waits, depth} {
			if err := cfg.Metrics.Register(c); err != nil {
				return nil, errors.Join(errors.New("dispatch: register metrics"), err)
			}
		}
	}
	go t.run()
	t.stop = []func(){d.Core.Subscribe(func(acc *room.Accepted) {
		if !acc.Backfill { // history fetched late is no news
			t.put(item{acc: acc})
		}
	}), d.Live.Subscribe(listener{t})}
	return t, nil
}

// put queues it, waiting while the queue is full.
func (t *Translator) put(it item) {
	select {
	case t.queue <- it:
		return
	default:
	}
	t.waits.Inc()
	select {
	case t.queue <- it:
	case <-t.done:
	}
}

func (t *Translator) run() {
	defer close(t.ended)
	for {
		select {
		case it := <-t.queue:
			t.render(it)
		case <-t.done:
			for {
				select {
				case it := <-t.queue:
					t.render(it)
				default:
					return
				}
			}
		}
	}
}

func (t *Translator) render(it item) {
	ctx := context.Background()
	switch {
	case it.acc != nil:
		t.translate(ctx, it.acc)
	case it.presence != nil:
		t.presence(ctx, *it.presence)
	case it.typing != nil:
		t.typing(ctx, *it.typing)
	case it.server != nil:
		t.voiceServer(*it.server)
	default:
		t.voice(*it.voice)
	}
}

// Close stops hearing events, renders what is queued, and returns.
func (t *Translator) Close() error {
	for _, stop := range t.stop {
		stop()
	}
	close(t.done)
	<-t.ended
	return nil
}

func (t *Translator) nowMs() int64 { return t.now().UnixMilli() }

// listener hands live-state changes to the translator's queue.
type listener struct{ t *Translator }

func (l listener) Presence(p live.Presence)       { l.t.put(item{presence: &p}) }
func (l listener) Typing(ty live.Typing)          { l.t.put(item{typing: &ty}) }
func (l listener) Voice(v live.VoiceState)        { l.t.put(item{voice: &v}) }
func (l listener) VoiceServer(s live.VoiceServer) { l.t.put(item{server: &s}) }
