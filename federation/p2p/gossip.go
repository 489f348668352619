package p2p

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// TopicName is the GossipSub topic of a guild or DM room
// (spec/federation.md, "Gossip").
func TopicName(gid snowflake.ID) string { return "/concord/room/1/" + gid.String() }

// validateTimeout bounds one message's validation, fetching its missing
// ancestors included.
const validateTimeout = 30 * time.Second

// Events one origin may have gossiped a second, with bursts: beyond, its
// events are ignored and left to the stream protocols.
const (
	eventRate  = 1000
	eventBurst = 5000
)

// graylist is the score below which a peer's messages are ignored; the
// node then cuts the peer off (until restart) if invalid messages brought
// it there. An honest node forwards only what it accepted itself, so its
// rejections are its own.
const graylist = -400

func newGossip(ctx context.Context, h *Host, m *metrics, homes *roomHomes, log *slog.Logger) (*pubsub.PubSub, error) {
	score := &pubsub.PeerScoreParams{
		SkipAtomicValidation: true,
		AppSpecificScore:     func(peer.ID) float64 { return 0 },
		// Nodes of one host or NAT share an IP: colocation is no sign of
		// an attack here.
		BehaviourPenaltyWeight: -10,
		BehaviourPenaltyDecay:  0.99,
		DecayInterval:          time.Second,
		DecayToZero:            0.01,
		Topics:                 map[string]*pubsub.TopicScoreParams{},
	}
	thresholds := &pubsub.PeerScoreThresholds{
		SkipAtomicValidation:        true,
		GossipThreshold:             -100,
		PublishThreshold:            -200,
		GraylistThreshold:           graylist,
		OpportunisticGraftThreshold: 1,
	}
	return pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), // the event carries its origin's signature
		pubsub.WithNoAuthor(),
		pubsub.WithFloodPublish(true),
		pubsub.WithSubscriptionFilter(homes),
		pubsub.WithPeerFilter(homes.allows),
		pubsub.WithValidateQueueSize(validateQueue),
		pubsub.WithPeerOutboundQueueSize(peerQueue),
		pubsub.WithPeerScore(score, thresholds),
		pubsub.WithPeerScoreInspect(pubsub.ExtendedPeerScoreInspectFn(func(scores map[peer.ID]*pubsub.PeerScoreSnapshot) {
			for p, s := range scores {
				if s.Score < graylist && invalidSent(s) && h.Gate().allowed(p) {
					log.Warn("federation: cutting off a peer that sent invalid events", "peer", p, "score", s.Score)
					h.Gate().Block(p)
				}
			}
		}), time.Second),
		pubsub.WithRawTracer(tracer{m}),
	)
}

// invalidSent reports whether a peer's score is down for invalid messages,
// not only for misbehaving in the mesh (which an honest peer may, after a
// partition).
func invalidSent(s *pubsub.PeerScoreSnapshot) bool {
	n := 0.0
	for _, t := range s.Topics {
		n += t.InvalidMessageDeliveries
	}
	return n >= 1
}

// topicScore penalises a peer for every message the validator rejects.
var topicScore = &pubsub.TopicScoreParams{
	SkipAtomicValidation:           true,
	TopicWeight:                    1,
	TimeInMeshQuantum:              time.Second, // a divisor even with its weight 0
	InvalidMessageDeliveriesWeight: -100,
	InvalidMessageDeliveriesDecay:  0.9,
}

// messageID is the event ID a message carries; a message that is no event
// gets an ID of its bytes, and the validator rejects it.
func messageID(m *pb.Message) string {
	if ev, err := event.Parse(m.Data); err == nil {
		return ev.ID()
	}
	sum := sha256.Sum256(m.Data)
	return "invalid:" + hex.EncodeToString(sum[:])
}

// topic is one room's subscription.
type topic struct {
	gid   snowflake.ID
	t     *pubsub.Topic
	sub   *pubsub.Subscription
	out   chan []byte   // local events waiting to be published
	ready chan struct{} // closed when the topic first has a peer
	live  *pubsub.Topic // the room's live signals; nil without live state

	ctx    context.Context // ends when the node leaves the topic
	cancel context.CancelFunc
	wg     sync.WaitGroup // the topic's goroutines
}

// run runs fn as one of t's goroutines.
func (f *Federation) run(t *topic, fn func()) {
	t.wg.Add(1)
	if !f.goRun(func() { defer t.wg.Done(); fn() }) {
		t.wg.Done()
	}
}

// leave unsubscribes from a room whose members no longer include a user
// of this node: its gossip is for its members' homes alone, and their
// streams refuse this node. The room stays in the core; a join through an
// invite subscribes again.
func (f *Federation) leave(gid snowflake.ID) {
	f.joinMu.Lock()
	defer f.joinMu.Unlock()
	f.mu.Lock()
	t := f.topics[gid]
	delete(f.topics, gid)
	f.mu.Unlock()
	if t == nil {
		return
	}
	t.cancel()
	t.wg.Wait()
	t.t.Close()
	f.ps.UnregisterTopicValidator(TopicName(gid))
	if t.live != nil {
		t.live.Close()
		f.ps.UnregisterTopicValidator(LiveTopicName(gid))
	}
	f.log.Info("federation: left the topics of a room no user of this node is a member of", "guild", gid)
}

// topic returns the room's subscription, subscribing first if need be.
func (f *Federation) topic(gid snowflake.ID) (_ *topic, err error) {
	if t := f.lookup(gid); t != nil {
		return t, nil
	}
	f.joinMu.Lock()
	defer f.joinMu.Unlock()
	if t := f.lookup(gid); t != nil {
		return t, nil
	}
	var undo []func() // on failure, what was done so far, undone in reverse
	defer func() {
		for i := len(undo) - 1; err != nil && i >= 0; i-- {
			undo[i]()
		}
	}()
	name := TopicName(gid)
	if err := f.ps.RegisterTopicValidator(name, f.validator(gid), pubsub.WithValidatorTimeout(validateTimeout)); err != nil {
		return nil, err
	}
	undo = append(undo, func() { f.ps.UnregisterTopicValidator(name) })
	pt, err := f.ps.Join(name)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { pt.Close() })
	if err := pt.SetScoreParams(topicScore); err != nil {
		return nil, err
	}
	events, err := pt.EventHandler()
	if err != nil {
		return nil, err
	}
	undo = append(undo, events.Cancel)
	sub, err := pt.Subscribe(pubsub.WithBufferSize(subBuffer))
	if err != nil {
		return nil, err
	}
	undo = append(undo, sub.Cancel)
	t := &topic{gid: gid, t: pt, sub: sub, out: make(chan []byte, publishQueue), ready: make(chan struct{})}
	t.ctx, t.cancel = context.WithCancel(f.ctx)
	var liveSub *pubsub.Subscription
	if f.cfg.Live != nil {
		if t.live, liveSub, err = f.joinLive(gid); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	f.topics[gid] = t
	f.mu.Unlock()
	f.recountHomes(gid)
	f.run(t, func() { f.drain(t) })
	f.run(t, func() { f.watchPeers(t, events) })
	f.run(t, func() { f.publish(t) })
	if liveSub != nil {
		f.run(t, func() { f.deliverLive(t, liveSub) })
	}
	return t, nil
}

// joinLive subscribes to a room's live signals.
func (f *Federation) joinLive(gid snowflake.ID) (*pubsub.Topic, *pubsub.Subscription, error) {
	name := LiveTopicName(gid)
	if err := f.ps.RegisterTopicValidator(name, f.liveValidator(gid), pubsub.WithValidatorTimeout(streamDeadline)); err != nil {
		return nil, nil, err
	}
	lt, err := f.ps.Join(name)
	if err == nil {
		err = lt.SetScoreParams(topicScore)
	}
	var sub *pubsub.Subscription
	if err == nil {
		sub, err = lt.Subscribe(pubsub.WithBufferSize(subBuffer))
	}
	if err != nil {
		if lt != nil {
			lt.Close()
		}
		f.ps.UnregisterTopicValidator(name)
		return nil, nil, err
	}
	return lt, sub, nil
}

func (f *Federation) lookup(gid snowflake.ID) *topic {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topics[gid]
}

// drain empties the subscription: the validator has accepted every message
// already, and a full buffer would drop messages.
func (f *Federation) drain(t *topic) {
	defer t.sub.Cancel()
	for {
		if _, err := t.sub.Next(t.ctx); err != nil {
			return
		}
	}
}

// watchPeers marks the topic ready when it first has a peer, and exchanges
// forward extremities with every peer that joins it (a new node, or one
// back from a partition).
func (f *Federation) watchPeers(t *topic, events *pubsub.TopicEventHandler) {
	defer events.Cancel()
	for {
		ev, err := events.NextPeerEvent(t.ctx)
		if err != nil {
			return
		}
		if ev.Type != pubsub.PeerJoin {
			continue
		}
		select {
		case <-t.ready:
		default:
			close(t.ready)
		}
		f.goRun(func() { f.syncWith(ev.Peer, t.gid) })
	}
}

// publish gossips a room's local events. The first wait, at most
// ReadyWait, until the topic has a peer: published into an empty topic they
// would reach nobody (the stream protocols catch up whoever missed them).
func (f *Federation) publish(t *topic) {
	wait := time.NewTimer(f.cfg.ReadyWait)
	select {
	case <-t.ready:
	case <-wait.C:
	case <-t.ctx.Done():
	}
	wait.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case body := <-t.out:
			if err := t.t.Publish(f.ctx, body); err != nil {
				if f.ctx.Err() == nil {
					f.log.Warn("federation: publish", "guild", t.gid, "err", err)
				}
				continue
			}
			f.metrics.gossipOut.Inc()
		}
	}
}

// committed hears every event the core commits: it subscribes to rooms new
// to it and queues local events for gossip. It must not block.
func (f *Federation) committed(a *room.Accepted) {
	ev := a.Event
	f.mu.Lock()
	t := f.topics[ev.GuildID]
	via, joining := f.via[ev.GuildID]
	local := ev.Origin == f.host.ID()
	pushJoin := local && joining && ev.Type == guild.TypeMemberJoin
	if t == nil && joining && local && !pushJoin && len(f.held[ev.GuildID]) < publishQueue {
		// Sent while the join is on its way: gossiped once subscribed.
		f.held[ev.GuildID] = append(f.held[ev.GuildID], event.Marshal(ev))
	}
	f.mu.Unlock()
	if !local {
		f.wantProfile(ev.Origin, ev.Sender)
		if home, user, ok := addedTo(ev); ok && home == f.host.ID() && a.Applied {
			f.goRun(func() { f.unwanted(ev.GuildID, user, ev.Sender, ev.OriginTS) })
		}
	}
	greet := func() {
		select {
		case f.greetings <- greeting{ev.GuildID, ev.Origin, ev.Sender}:
		default: // the next refresh tells it
		}
	}
	if ev.Type == guild.TypeMemberJoin && a.Applied && !pushJoin {
		greet()
	}
	if a.State {
		if ev.Type == guild.TypeMemberJoin && !local {
			// Before Accept returns, so before send answers: a node
			// joining through this one subscribes once it has the answer,
			// and its subscription must find it a home already.
			f.homes.add(ev.GuildID, ev.Origin)
		}
		f.recountHomes(ev.GuildID)
	}
	if t == nil && !joining {
		select {
		case f.join <- ev.GuildID:
		default: // the next sync round subscribes to it
		}
	}
	if !local {
		return
	}
	body := event.Marshal(ev)
	if pushJoin {
		// The node joined through holds the join before this node
		// subscribes (its member nodes take only their members'
		// subscriptions), and before it hears whether the new member is
		// online; the others hear of the join by gossip.
		f.goRun(func() {
			f.push(via, body)
			f.subscribeJoined(ev.GuildID, body)
			greet()
		})
	}
	for _, home := range pushedTo(ev, f.host.ID()) {
		f.goRun(func() { f.push(home, body) })
	}
	if t == nil {
		return // nobody subscribed to a room this new: heads exchanges catch up
	}
	f.queuePublish(t, body)
}

// queuePublish queues a local event for gossip on t; it never blocks.
func (f *Federation) queuePublish(t *topic, body []byte) {
	select {
	case t.out <- body:
	default:
		f.metrics.drops.WithLabelValues("publish").Inc()
	}
}

// subscribeJoined subscribes to a room joined through an invite, whose
// local member.join (join) reached the node joined through, and gossips
// the join and what was sent meanwhile; or, with no join, to a room
// fetched because a group DM added a user of this node.
func (f *Federation) subscribeJoined(gid snowflake.ID, join []byte) {
	t, err := f.topic(gid)
	f.mu.Lock()
	held := f.held[gid]
	delete(f.held, gid)
	delete(f.via, gid)
	f.mu.Unlock()
	if err != nil {
		f.log.Warn("federation: subscribe", "guild", gid, "err", err)
		return
	}
	if join != nil {
		held = append([][]byte{join}, held...)
	}
	for _, body := range held {
		f.queuePublish(t, body)
	}
}

// isAbsent reports whether the room's last count found no member homed
// here.
func (f *Federation) isAbsent(gid snowflake.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.absent[gid]
}

// joining reports whether a join through an invite is bringing gid in and
// its local member.join has not reached the node joined through yet: the
// room is not subscribed to until then.
func (f *Federation) joining(gid snowflake.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.via[gid]
	return ok
}

// pushedTo lists the nodes a local event is pushed to directly, which do
// not hold its room yet: the recipients' homes of a DM's guild.create,
// and the home of a user of another node a group DM adds.
func pushedTo(ev *event.Event, self peer.ID) []peer.ID {
	if home, _, ok := addedTo(ev); ok && home != self {
		return []peer.ID{home}
	}
	return remoteRecipients(ev, self)
}

// remoteRecipients lists the other nodes a new DM room must reach: the
// homes of its recipients, when ev is a DM's guild.create.
func remoteRecipients(ev *event.Event, self peer.ID) []peer.ID {
	if ev.Type != guild.TypeGuildCreate {
		return nil
	}
	var c guild.GuildCreate
	if json.Unmarshal(ev.Content, &c) != nil || c.Kind == guild.KindGuild {
		return nil
	}
	var out []peer.ID
	for _, r := range c.Recipients {
		if p, err := peer.Decode(r.Origin); err == nil && p != self && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// validator accepts a room's gossip through room.Core.Accept: a message is
// forwarded only once its event is committed here.
func (f *Federation) validator(gid snowflake.ID) func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
	return func(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if from == f.host.ID() {
			return pubsub.ValidationAccept // a local event, accepted before it was published
		}
		ev, err := event.Parse(m.Data)
		if err == nil && ev.GuildID != gid {
			err = event.ErrMalformed
		}
		if err == nil && !allow(&f.mu, f.eventRates, ev.OriginString(), eventRate, eventBurst) {
			// A flood: what is dropped here, the origin's peers pull later.
			f.metrics.gossipIn.WithLabelValues("throttled").Inc()
			return pubsub.ValidationIgnore
		}
		if err == nil {
			_, err = f.core.Accept(ctx, m.Data)
			if errors.Is(err, room.ErrMissingEvents) {
				err = f.acceptFilled(ctx, gid, m, ev)
			}
		}
		verdict, result := judge(err)
		f.metrics.gossipIn.WithLabelValues(verdict).Inc()
		if err == nil {
			f.metrics.observeLag(ev.GuildID, ev.OriginTS)
		}
		if result == pubsub.ValidationReject {
			f.log.Info("federation: rejected gossip", "guild", gid, "peer", m.ReceivedFrom, "err", err)
		}
		return result
	}
}

// fillPeers is how many peers a message's missing predecessors are asked
// of: the one that forwarded it, then others of the room's topic.
const fillPeers = 3

// acceptFilled fetches the events m's event lacks and accepts it again.
// It asks the peer that forwarded m first, then other peers of the topic:
// a message dropped here is marked seen, and no other copy of it would be
// taken until a heads exchange brings it, up to a round later. The
// forwarder may not serve this node yet (it has not heard of this node's
// member there) or may be reconnecting.
func (f *Federation) acceptFilled(ctx context.Context, gid snowflake.ID, m *pubsub.Message, ev *event.Event) error {
	ask := []peer.ID{m.ReceivedFrom}
	if t := f.lookup(gid); t != nil {
		others := t.t.ListPeers()
		rand.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
		for _, p := range others {
			if len(ask) < fillPeers && p != m.ReceivedFrom {
				ask = append(ask, p)
			}
		}
	}
	ids := append(slices.Clone(ev.PrevEvents), ev.AuthEvents...)
	err := room.ErrMissingEvents
	for _, p := range ask {
		if ferr := f.fetchMissing(ctx, p, gid, ids); ferr != nil {
			f.log.Debug("federation: fetch missing", "guild", gid, "peer", p, "err", ferr)
			continue
		}
		if _, err = f.core.Accept(ctx, m.Data); !errors.Is(err, room.ErrMissingEvents) {
			return err
		}
	}
	return err
}

// judge maps accept's answer to a verdict (the metric's label) and what
// GossipSub does with the message: forward it, drop it, or drop it and
// penalise the peer that sent it.
func judge(err error) (string, pubsub.ValidationResult) {
	var rej *guild.Rejection
	switch {
	case err == nil:
		return "accepted", pubsub.ValidationAccept
	case errors.Is(err, room.ErrDuplicate):
		return "duplicate", pubsub.ValidationIgnore
	case errors.Is(err, room.ErrMissingEvents), errors.Is(err, room.ErrUnknownRoom):
		return "missing", pubsub.ValidationIgnore
	case errors.As(err, &rej), errors.Is(err, event.ErrMalformed), errors.Is(err, event.ErrTooLarge),
		errors.Is(err, event.ErrBadHash), errors.Is(err, event.ErrBadSignature), errors.Is(err, event.ErrRedacted):
		return "rejected", pubsub.ValidationReject
	default:
		return "error", pubsub.ValidationIgnore
	}
}
