package p2p

import (
	"time"

	"github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"

	"concord/federation/snowflake"
)

// metrics counts what federation sends, receives and loses.
type metrics struct {
	gossipIn       *prometheus.CounterVec // by verdict
	gossipOut      prometheus.Counter
	drops          *prometheus.CounterVec // by where the message was lost
	fetched        prometheus.Counter
	catchup        prometheus.Histogram   // events per catch-up
	streamsRefused *prometheus.CounterVec // by protocol
	reconnects     *prometheus.CounterVec // peers disconnected to be dialled afresh, by reason
	lag            prometheus.Histogram   // seconds from a remote event's origin_ts to its acceptance here
	guildLag       *prometheus.GaugeVec   // the same, of each guild's last accepted remote event
	backfilled     prometheus.Counter     // older events that filled a partial-state join's stubs
}

func newMetrics(reg prometheus.Registerer, peers func() float64) (*metrics, error) {
	m := &metrics{
		gossipIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_federation_gossip_in_total",
			Help: "Events received by gossip, by verdict: accepted, duplicate, missing (ancestry not fetched), rejected, throttled (its origin's rate exceeded), error.",
		}, []string{"verdict"}),
		gossipOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_federation_gossip_out_total",
			Help: "Local events published by gossip.",
		}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_federation_gossip_drops_total",
			Help: "Gossip messages lost to a full queue, by queue: validation_queue, validation_throttled, subscriber, outbound, publish, delivery (interaction events for a user on another node).",
		}, []string{"queue"}),
		fetched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_federation_fetched_events_total",
			Help: "Events fetched over streams (missing events, joins) and accepted.",
		}),
		catchup: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "concord_federation_catchup_events",
			Help:    "Events fetched by one catch-up (missing ancestors of a gossiped event, or a sync round's gap).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		streamsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_federation_streams_refused_total",
			Help: "Inbound streams reset because too many of their protocol were being served.",
		}, []string{"protocol"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "concord_federation_event_lag_seconds",
			Help:    "From a remote event's origin_ts to its acceptance here, gossiped or fetched: how far behind this node learns of other nodes' writes (clock skew included).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400},
		}),
		guildLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "concord_federation_guild_lag_seconds",
			Help: "By guild (and DM room): from the origin_ts of the last remote event accepted here to its acceptance, gossiped or fetched. A guild catching up after a partition shows a high value until its newest events arrive.",
		}, []string{"guild"}),
		backfilled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_federation_backfilled_events_total",
			Help: "Older events of rooms joined with partial state, brought by backfill; the log says when a room is whole.",
		}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_federation_reconnects_total",
			Help: "Peers disconnected to be dialled afresh, by reason: unresponsive (connected, but no answer to a stream in time), lost_topics (answers for a room gossip does not show it in), membership (subscribed to a room it is no member's home of, or refused before it became one).",
		}, []string{"reason"}),
	}
	peersGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "concord_federation_peers",
		Help: "Peers connected to the libp2p host.",
	}, peers)
	for _, c := range []prometheus.Collector{m.gossipIn, m.gossipOut, m.drops, m.fetched, m.catchup, m.streamsRefused, m.reconnects, m.lag, m.guildLag, m.backfilled, peersGauge} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observeLag records how long after its origin_ts (Unix ms) a remote event
// of a guild was accepted; a clock ahead of this one counts as no lag.
func (m *metrics) observeLag(gid snowflake.ID, originTS int64) {
	lag := max(0, time.Since(time.UnixMilli(originTS)).Seconds())
	m.lag.Observe(lag)
	m.guildLag.WithLabelValues(gid.String()).Set(lag)
}

// tracer counts the messages GossipSub drops: its queues drop silently.
type tracer struct{ m *metrics }

func (t tracer) RejectMessage(_ *pubsub.Message, reason string) {
	switch reason {
	case pubsub.RejectValidationQueueFull:
		t.m.drops.WithLabelValues("validation_queue").Inc()
	case pubsub.RejectValidationThrottled:
		t.m.drops.WithLabelValues("validation_throttled").Inc()
	}
}
func (t tracer) UndeliverableMessage(*pubsub.Message) { t.m.drops.WithLabelValues("subscriber").Inc() }
func (t tracer) DropRPC(*pubsub.RPC, peer.ID)         { t.m.drops.WithLabelValues("outbound").Inc() }

func (tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (tracer) OnClosedOutboundStream(peer.ID)                       {}
func (tracer) Join(string)                                          {}
func (tracer) Leave(string)                                         {}
func (tracer) Graft(peer.ID, string)                                {}
func (tracer) Prune(peer.ID, string)                                {}
func (tracer) ValidateMessage(*pubsub.Message)                      {}
func (tracer) DeliverMessage(*pubsub.Message)                       {}
func (tracer) DuplicateMessage(*pubsub.Message)                     {}
func (tracer) ThrottlePeer(peer.ID)                                 {}
func (tracer) RecvRPC(*pubsub.RPC)                                  {}
func (tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
