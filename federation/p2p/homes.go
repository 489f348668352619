package p2p

import (
	"errors"
	"maps"
	"strings"
	"sync"

	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/guild"
	"concord/federation/snowflake"
)

// Topic filter bounds (spec/federation.md, "Gossip").
const (
	maxSubscriptions = 10000 // subscription changes in one RPC
	maxDropped       = 10000 // refused subscriptions remembered, in all
)

var errTooManySubscriptions = errors.New("too many subscriptions in one RPC")

// roomHomes keeps each room's gossip among its member nodes: it knows, for
// every room this node holds, which nodes are home to one of its members,
// and serves GossipSub as its subscription filter (a peer that is not
// recorded as a topic's subscriber gets no flood-published message of it)
// and its peer filter (no mesh link, no gossip about the topic). A topic
// of a room it does not track, or of no room, is left alone: this node
// may join that room later and then needs to know who subscribed.
type roomHomes struct {
	mu       sync.RWMutex
	rooms    map[snowflake.ID]map[peer.ID]bool
	versions map[snowflake.ID]uint64           // bumped by every add and set
	dropped  map[snowflake.ID]map[peer.ID]bool // refused subscriptions, until the room is counted again
	nDropped int
}

func newRoomHomes() *roomHomes {
	return &roomHomes{rooms: map[snowflake.ID]map[peer.ID]bool{}, versions: map[snowflake.ID]uint64{},
		dropped: map[snowflake.ID]map[peer.ID]bool{}}
}

// roomOfTopic returns the room a room or live topic belongs to.
func roomOfTopic(topic string) (snowflake.ID, bool) {
	for _, prefix := range []string{TopicName(0), LiveTopicName(0)} {
		prefix = strings.TrimSuffix(prefix, "0")
		if rest, ok := strings.CutPrefix(topic, prefix); ok {
			gid, err := snowflake.Parse(rest)
			return gid, err == nil
		}
	}
	return 0, false
}

// allows reports whether p may be among the peers of topic.
func (h *roomHomes) allows(p peer.ID, topic string) bool {
	gid, ok := roomOfTopic(topic)
	if !ok {
		return true
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	homes, tracked := h.rooms[gid]
	return !tracked || homes[p]
}

// CanSubscribe lets this node subscribe to any topic.
func (h *roomHomes) CanSubscribe(string) bool { return true }

// FilterIncomingSubscriptions keeps p's unsubscriptions and those
// subscriptions allows lets through; it remembers the others, so that p
// is reconnected (and subscribes afresh) once it is home to a member.
func (h *roomHomes) FilterIncomingSubscriptions(p peer.ID, subs []*pb.RPC_SubOpts) ([]*pb.RPC_SubOpts, error) {
	if len(subs) > maxSubscriptions {
		return nil, errTooManySubscriptions
	}
	out := make([]*pb.RPC_SubOpts, 0, len(subs))
	for _, s := range subs {
		if !s.GetSubscribe() || h.allows(p, s.GetTopicid()) {
			out = append(out, s)
			continue
		}
		gid, _ := roomOfTopic(s.GetTopicid())
		h.drop(gid, p)
	}
	return out, nil
}

func (h *roomHomes) drop(gid snowflake.ID, p peer.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nDropped >= maxDropped {
		clear(h.dropped)
		h.nDropped = 0
	}
	d := h.dropped[gid]
	if d == nil {
		d = map[peer.ID]bool{}
		h.dropped[gid] = d
	}
	if !d[p] {
		d[p] = true
		h.nDropped++
	}
}

// version returns gid's version, for set.
func (h *roomHomes) version(gid snowflake.ID) uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.versions[gid]
}

// set records the homes of gid's members, counted when the room's version
// was since, and returns the peers whose subscriptions to it were refused
// but who are homes now. A count overtaken by an add or another set is
// not recorded (ok is false): a join it did not see may have been added.
func (h *roomHomes) set(gid snowflake.ID, homes map[peer.ID]bool, since uint64) (admitted []peer.ID, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.versions[gid] != since {
		return nil, false
	}
	h.versions[gid]++
	h.rooms[gid] = homes
	for p := range h.dropped[gid] {
		if homes[p] {
			admitted = append(admitted, p)
		}
	}
	h.nDropped -= len(h.dropped[gid])
	delete(h.dropped, gid)
	return admitted, true
}

// add records p as a home of gid's members, when gid is tracked: a join
// from p was just accepted, and its subscription may follow at once,
// before the room's homes are counted again.
func (h *roomHomes) add(gid snowflake.ID, p peer.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if homes, tracked := h.rooms[gid]; tracked && !homes[p] {
		homes = maps.Clone(homes)
		homes[p] = true
		h.rooms[gid] = homes
		h.versions[gid]++
	}
}

// homesOf lists the nodes other than self that are home to a member of s.
func homesOf(s *guild.State, self peer.ID) map[peer.ID]bool {
	// A room has many members and few homes: each is decoded once.
	texts := map[string]bool{}
	for uid := range s.Members {
		texts[s.Homes[uid]] = true
	}
	out := map[peer.ID]bool{}
	for text := range texts {
		if p, err := peer.Decode(text); err == nil && p != self {
			out[p] = true
		}
	}
	return out
}

// countHomes counts the member homes of gid again (after a state event,
// or when it is first subscribed to) and reconnects the peers gossip has
// wrong about the room: a subscriber who is no member's home any more
// (its recorded subscription would still get this node's flood-published
// messages), and one whose subscription was refused before it became one
// (it would not announce it again on this connection).
func (f *Federation) countHomes(gid snowflake.ID) {
	since := f.homes.version(gid)
	var homes map[peer.ID]bool
	mine := false // a user of this node is a member
	self := f.host.ID().String()
	if err := f.core.View(f.ctx, gid, func(s *guild.State) error {
		homes = homesOf(s, f.host.ID())
		for uid := range s.Members {
			mine = mine || s.Homes[uid] == self
		}
		return nil
	}); err != nil {
		return
	}
	stale, ok := f.homes.set(gid, homes, since)
	if !ok {
		f.recountHomes(gid)
		return
	}
	f.mu.Lock()
	if mine {
		delete(f.absent, gid)
	} else {
		f.absent[gid] = true
	}
	f.mu.Unlock()
	if !mine && !f.joining(gid) {
		f.leave(gid)
		return
	}
	if t := f.lookup(gid); t != nil {
		for _, p := range t.t.ListPeers() {
			if !homes[p] {
				stale = append(stale, p)
			}
		}
	}
	for _, p := range stale {
		f.log.Info("federation: reconnecting a peer whose room membership changed", "peer", p, "guild", gid)
		f.reconnect(p, "membership")
	}
}

// recountHomes queues gid for countHomes; it never blocks.
func (f *Federation) recountHomes(gid snowflake.ID) {
	f.mu.Lock()
	f.homesDirty[gid] = true
	f.mu.Unlock()
	select {
	case f.homesKick <- struct{}{}:
	default:
	}
}

// trackHomes counts again the member homes of the rooms queued, each once
// however often it was queued meanwhile.
func (f *Federation) trackHomes() {
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-f.homesKick:
		}
		f.mu.Lock()
		batch := f.homesDirty
		f.homesDirty = map[snowflake.ID]bool{}
		f.mu.Unlock()
		for gid := range batch {
			if f.ctx.Err() != nil {
				return
			}
			f.countHomes(gid)
		}
	}
}
