package p2p

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// Catch-up bounds (spec/federation.md, "Missing events").
const (
	maxFetch      = 10000    // events one catch-up may hold before accepting them
	maxFetchBytes = 64 << 20 // and their bytes
	syncTimeout   = time.Minute
	syncPeers     = 3 // peers of a room asked in one sync round
	syncParallel  = 8 // exchanges of a sync round at once
)

var errNotShared = errors.New("peer is home to no member of the room")

// headsReq asks for a room's forward extremities.
type headsReq struct {
	GuildID snowflake.ID `json:"guild_id"`
}

type headsResp struct {
	Extremities []string `json:"extremities"`
}

// missingReq asks for the events Latest name and their ancestors, breadth
// first, not walking past the events Earliest names.
type missingReq struct {
	GuildID  snowflake.ID `json:"guild_id"`
	Latest   []string     `json:"latest"`
	Earliest []string     `json:"earliest"`
	Limit    int          `json:"limit"`
}

type eventsResp struct {
	Events []json.RawMessage `json:"events"`
}

// shares reports whether p is the home node of a member of the room: only
// those may read it (a joining node reads it through an invite instead).
func (f *Federation) shares(ctx context.Context, gid snowflake.ID, p peer.ID) bool {
	home := p.String()
	found := false
	f.core.View(ctx, gid, func(s *guild.State) error {
		for uid := range s.Members {
			if s.Homes[uid] == home {
				found = true
				break
			}
		}
		return nil
	})
	return found
}

func (f *Federation) serveHeads(s network.Stream, req *headsReq) (any, error) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	if !f.shares(ctx, req.GuildID, s.Conn().RemotePeer()) {
		return nil, errNotShared
	}
	ext, err := f.core.Extremities(ctx, req.GuildID)
	if err != nil {
		return nil, err
	}
	return headsResp{Extremities: ext[:min(len(ext), maxHeads)]}, nil
}

func (f *Federation) serveMissing(s network.Stream, req *missingReq) (any, error) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	if len(req.Latest) > maxMissingIDs || len(req.Earliest) > maxMissingIDs {
		return nil, fmt.Errorf("more than %d IDs", maxMissingIDs)
	}
	if !f.shares(ctx, req.GuildID, s.Conn().RemotePeer()) {
		return nil, errNotShared
	}
	limit := min(max(req.Limit, 1), maxMissing)
	seen := map[string]bool{}
	for _, id := range req.Earliest {
		seen[id] = true
	}
	var frontier []string
	for _, id := range req.Latest {
		if !seen[id] {
			seen[id] = true
			frontier = append(frontier, id)
		}
	}
	out := eventsResp{Events: []json.RawMessage{}}
	size := 0
	for len(frontier) > 0 && len(out.Events) < limit {
		frontier = frontier[:min(len(frontier), room.MaxEventsRead)]
		bodies, err := f.core.Events(ctx, req.GuildID, frontier)
		if err != nil {
			return nil, err
		}
		var next []string
		for _, id := range frontier {
			body := bodies[id]
			if body == nil {
				continue
			}
			if len(out.Events) == limit || size+len(body) > pageBytes {
				return out, nil
			}
			out.Events, size = append(out.Events, body), size+len(body)
			ev, err := event.Parse(body)
			if err != nil {
				continue // a redacted event: its ancestors are found through others
			}
			for _, p := range ev.PrevEvents {
				if !seen[p] {
					seen[p] = true
					next = append(next, p)
				}
			}
		}
		frontier = next
	}
	return out, nil
}

// unknown returns those of ids the room does not hold.
func (f *Federation) unknown(ctx context.Context, gid snowflake.ID, ids []string) ([]string, error) {
	var out []string
	for chunk := range slices.Chunk(ids, room.MaxEventsRead) {
		held, err := f.core.Events(ctx, gid, chunk)
		if err != nil {
			return nil, err
		}
		for _, id := range chunk {
			if held[id] == nil {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// fetchSlot waits until no other catch-up of the room runs: concurrent
// ones (validators of several messages, sync rounds) would fetch and
// accept the same events, and the later one usually finds them held.
func (f *Federation) fetchSlot(ctx context.Context, gid snowflake.ID) (release func(), err error) {
	f.mu.Lock()
	slot := f.fetching[gid]
	if slot == nil {
		slot = make(chan struct{}, 1)
		f.fetching[gid] = slot
	}
	f.mu.Unlock()
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetched is an event fetched from a peer, not accepted yet.
type fetched struct {
	ev  *event.Event
	raw []byte
}

// fetchMissing fetches from p the events of the room that ids name and
// their ancestors down to what the room holds, then accepts them oldest
// first. It gives up, accepting nothing, when p cannot supply them within
// maxFetch events: an event whose predecessors cannot be fetched is not
// accepted.
func (f *Federation) fetchMissing(ctx context.Context, p peer.ID, gid snowflake.ID, ids []string) error {
	release, err := f.fetchSlot(ctx, gid)
	if err != nil {
		return err
	}
	defer release()
	frontier, err := f.unknown(ctx, gid, ids)
	if err != nil || len(frontier) == 0 {
		return err
	}
	earliest, err := f.core.Extremities(ctx, gid)
	if err != nil {
		return err
	}
	earliest = earliest[:min(len(earliest), maxMissingIDs)]
	got := map[string]fetched{}
	size := 0
	for len(frontier) > 0 {
		ask := frontier[:min(len(frontier), maxMissingIDs)]
		var resp eventsResp
		if err := f.call(ctx, p, ProtoMissing, missingReq{GuildID: gid, Latest: ask, Earliest: earliest, Limit: maxMissing}, &resp); err != nil {
			return err
		}
		var refs []string
		added := 0
		for _, raw := range resp.Events {
			ev, err := event.Parse(raw)
			if err != nil || ev.GuildID != gid {
				return fmt.Errorf("missing events from %s: an event that is not of %s: %v", p, gid, err)
			}
			if _, ok := got[ev.ID()]; ok {
				continue
			}
			got[ev.ID()], size, added = fetched{ev, raw}, size+len(raw), added+1
			refs = append(append(refs, ev.PrevEvents...), ev.AuthEvents...)
		}
		if added == 0 {
			return fmt.Errorf("missing events from %s: it has none of %d asked for", p, len(ask))
		}
		if len(got) > maxFetch || size > maxFetchBytes {
			return fmt.Errorf("missing events from %s: more than %d events or %d bytes", p, maxFetch, maxFetchBytes)
		}
		refs = append(refs, frontier[len(ask):]...)
		slices.Sort(refs)
		refs = slices.DeleteFunc(slices.Compact(refs), func(id string) bool { _, ok := got[id]; return ok })
		if frontier, err = f.unknown(ctx, gid, refs); err != nil {
			return err
		}
	}
	err = f.acceptFetched(ctx, got)
	f.metrics.catchup.Observe(float64(len(got)))
	if len(got) >= maxMissing {
		f.log.Info("federation: caught up", "guild", gid, "peer", p, "events", len(got), "err", err)
	}
	return err
}

// acceptFetched accepts fetched events in an order that puts each after
// its ancestors: by depth, then by ID.
func (f *Federation) acceptFetched(ctx context.Context, got map[string]fetched) error {
	list := make([]fetched, 0, len(got))
	for _, x := range got {
		list = append(list, x)
	}
	slices.SortFunc(list, func(a, b fetched) int {
		return cmp.Or(cmp.Compare(a.ev.Depth, b.ev.Depth), cmp.Compare(a.ev.ID(), b.ev.ID()))
	})
	raws, evs := make([][]byte, len(list)), make([]*event.Event, len(list))
	for i, x := range list {
		raws[i], evs[i] = x.raw, x.ev
	}
	return f.acceptBatch(ctx, raws, evs)
}

// acceptBatch accepts events through the core and counts them, with the
// lag of each accepted one when evs holds them parsed (a catch-up, not a
// join's history); the first refusal other than a duplicate is returned.
func (f *Federation) acceptBatch(ctx context.Context, raws [][]byte, evs []*event.Event) error {
	var first error
	for i, err := range f.core.AcceptBatch(ctx, raws) {
		switch {
		case err == nil:
			f.metrics.fetched.Inc()
			if evs != nil {
				f.metrics.observeLag(evs[i].GuildID, evs[i].OriginTS)
			}
		case errors.Is(err, room.ErrDuplicate):
		case first == nil:
			first = err
		}
	}
	return first
}

// syncWith asks p for a room's forward extremities and fetches those the
// room lacks: after a partition, each side learns the other's branch. It
// reports whether p answered the heads.
func (f *Federation) syncWith(p peer.ID, gid snowflake.ID) bool {
	ctx, cancel := context.WithTimeout(f.ctx, syncTimeout)
	defer cancel()
	var resp headsResp
	err := f.call(ctx, p, ProtoHeads, headsReq{GuildID: gid}, &resp)
	answered := err == nil
	if err == nil && len(resp.Extremities) > maxHeads {
		err = fmt.Errorf("%d extremities, at most %d", len(resp.Extremities), maxHeads)
	}
	if err == nil {
		err = f.fetchMissing(ctx, p, gid, resp.Extremities)
	}
	if err != nil && f.ctx.Err() == nil {
		f.log.Debug("federation: sync", "guild", gid, "peer", p, "err", err)
	}
	return answered
}

// syncLoop exchanges forward extremities with a few peers of every room,
// every SyncEvery, and subscribes to rooms it missed.
func (f *Federation) syncLoop() {
	t := time.NewTicker(f.cfg.SyncEvery)
	defer t.Stop()
	var unseen map[peer.ID]bool
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		}
		if rooms, err := f.core.Rooms(f.ctx); err == nil {
			for _, gid := range rooms {
				if !f.joining(gid) && !f.isAbsent(gid) {
					f.topic(gid)
				}
			}
		}
		unseen = f.syncRound(unseen)
	}
}

// syncRound exchanges heads with whom syncWithWhom picks for every room,
// up to syncParallel exchanges at once, so that a peer slow to answer
// holds up no other; it returns when all are done, with the peers that
// answered for a room whose topic gossip does not show them in. Those
// unseen in the round before too are disconnected: gossip on this node
// lost their subscriptions (when a duplicate connection dies it forgets
// the peer's topics, and the peer does not announce them again), so this
// node's messages would not reach them; a new connection starts afresh.
func (f *Federation) syncRound(before map[peer.ID]bool) map[peer.ID]bool {
	slots := make(chan struct{}, syncParallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	unseen := map[peer.ID]bool{}
	connected := f.host.Network().Peers()
	for _, t := range f.rooms() {
		topic := t.t.ListPeers()
		for _, p := range syncWithWhom(topic, connected) {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				// Only a member's home belongs in the topic: another
				// (one whose users left) answers but stays out of it.
				if f.syncWith(p, t.gid) && !slices.Contains(topic, p) && f.homes.allows(p, TopicName(t.gid)) {
					mu.Lock()
					unseen[p] = true
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for p := range unseen {
		if before[p] {
			f.log.Info("federation: reconnecting a peer gossip lost track of", "peer", p)
			f.reconnect(p, "lost_topics")
			delete(unseen, p)
		}
	}
	return unseen
}

// syncWithWhom picks whom a room exchanges heads with in a round: up to
// syncPeers of the peers in its topic, at random, and when the topic shows
// fewer, other connected peers. Gossip's view of a topic lags a link that
// came back (a peer whose old connection has not died yet is not seen
// joining again); a peer not in the room refuses.
func syncWithWhom(topic, connected []peer.ID) []peer.ID {
	out := slices.Clone(topic)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if len(out) >= syncPeers {
		return out[:syncPeers]
	}
	others := slices.DeleteFunc(slices.Clone(connected), func(p peer.ID) bool { return slices.Contains(topic, p) })
	rand.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	return append(out, others[:min(len(others), syncPeers-len(out))]...)
}

// reconnectAfter is how long a peer stays disconnected before reconnect
// dials it again: long enough for gossip on both sides to have forgotten
// the old connection, so that the new one starts afresh.
const reconnectAfter = 100 * time.Millisecond

// reconnect closes the connections to p and dials it again after
// reconnectAfter: p's gossip then announces its subscriptions anew, and
// this node's filter judges them as they are now. What either published
// meanwhile, the heads exchange each side starts when the other joins the
// topic again brings (watchPeers).
func (f *Federation) reconnect(p peer.ID, reason string) {
	f.metrics.reconnects.WithLabelValues(reason).Inc()
	f.host.Network().ClosePeer(p)
	f.goRun(func() {
		t := time.NewTimer(reconnectAfter)
		defer t.Stop()
		select {
		case <-t.C:
		case <-f.ctx.Done():
			return
		}
		if f.host.Network().Connectedness(p) != network.Connected {
			f.host.dial(f.ctx, f.host.Peerstore().PeerInfo(p), reason)
		}
	})
}
