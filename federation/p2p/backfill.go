package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/room"
	"concord/federation/snowflake"
)

// Backfill (spec/federation.md, "Backfill"): a room joined with partial
// state holds stubs of its older events; this node asks the room's nodes
// for them newest first, one page at a time, until none is left. Each
// event fills its stub (room.Core, partial.go).

// ProtoBackfill pages a room's history, newest first.
const ProtoBackfill = "/concord/backfill/1"

// Backfill bounds.
const (
	maxBackfillPage = 1000 // events in a backfill answer
	// backfillRetry is the pause after a failed or empty page before
	// asking again, perhaps another node; it doubles while nothing comes,
	// up to backfillRetryMax.
	backfillRetry    = 2 * time.Second
	backfillRetryMax = 5 * time.Minute
)

// joinRecent is how many of a room's newest events a join carries whole;
// a test lowers it.
var joinRecent = 1000

// backfillReq asks for a room's events other than state events before
// position Before, newest first; the credential is being a member's home,
// or, for a node that has just joined, the invite it joined by.
type backfillReq struct {
	GuildID    snowflake.ID `json:"guild_id"`
	InviteCode string       `json:"invite_code,omitempty"`
	Before     room.Pos     `json:"before"`
}

type backfillResp struct {
	Events []json.RawMessage `json:"events"`
	Next   room.Pos          `json:"next"`
}

// serveBackfill answers the home of a member of the room, or a node with
// a usable invite.
func (f *Federation) serveBackfill(s network.Stream, req *backfillReq) (any, error) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	if !f.shares(ctx, req.GuildID, s.Conn().RemotePeer()) {
		if p, _ := f.usableInvite(ctx, req.GuildID, req.InviteCode); req.InviteCode == "" || p == nil {
			return nil, errNotShared
		}
	}
	raws, next, err := f.core.Backfill(ctx, req.GuildID, req.Before, maxBackfillPage, pageBytes)
	if err != nil {
		return nil, err
	}
	resp := backfillResp{Events: make([]json.RawMessage, len(raws)), Next: next}
	for i, raw := range raws {
		resp.Events[i] = raw
	}
	return resp, nil
}

// backfill fills room gid's stubs from p first (which holds invite code,
// if any), then from the room's other nodes, newest first from position
// before, until the room is whole or the federation closes.
func (f *Federation) backfill(gid snowflake.ID, p peer.ID, code string, before room.Pos) {
	start, filled, wait := time.Now(), 0, backfillRetry
	for f.ctx.Err() == nil {
		top, err := f.core.StubTop(f.ctx, gid)
		if err != nil || top == 0 {
			if err == nil {
				f.log.Info("federation: backfill done: the room is whole", "guild", gid, "events", filled, "took", time.Since(start))
			}
			return
		}
		var resp backfillResp
		err = f.call(f.ctx, p, ProtoBackfill, backfillReq{GuildID: gid, InviteCode: code, Before: before}, &resp)
		if err == nil && (len(resp.Events) > maxBackfillPage || len(resp.Events) > 0 && !resp.Next.Before(before)) {
			err = errors.New("a page that does not go back")
		}
		if err != nil || len(resp.Events) == 0 {
			// Another node, from the deepest stub: positions are each
			// node's own.
			if err != nil {
				f.log.Info("federation: backfill: a page failed", "guild", gid, "peer", p, "err", err)
			}
			p, before = f.backfillPeer(gid, p), room.Pos{Depth: top + 1}
			code = "" // the join is through: being a member's home is the credential
			select {
			case <-f.ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, backfillRetryMax)
			continue
		}
		wait = backfillRetry
		raws := make([][]byte, len(resp.Events))
		for i, e := range resp.Events {
			raws[i] = e
		}
		for _, err := range f.core.AcceptBatch(f.ctx, raws) {
			if err == nil {
				filled++
				f.metrics.backfilled.Inc()
			} else if verdict, _ := judge(err); verdict == "rejected" {
				f.log.Warn("federation: backfill: an event was refused", "guild", gid, "peer", p, "err", err)
			}
		}
		before = resp.Next
	}
}

// backfillPeer picks the node to backfill from after p failed: the next,
// after p, of the room's topic, then of the other connected nodes (one
// that is not the room's refuses); p again when there is no other.
func (f *Federation) backfillPeer(gid snowflake.ID, p peer.ID) peer.ID {
	var topic []peer.ID
	if t := f.lookup(gid); t != nil {
		topic = t.t.ListPeers()
	}
	all := firstOf(topic, f.host.Network().Peers(), math.MaxInt)
	if len(all) == 0 {
		return p
	}
	return all[(slices.Index(all, p)+1)%len(all)]
}

// resumeBackfills goes on with the backfill of every room still partial,
// from its deepest stub, through the room's other nodes.
func (f *Federation) resumeBackfills() {
	rooms, err := f.core.PartialRooms(f.ctx)
	if err != nil {
		f.log.Warn("federation: partial rooms", "err", err)
		return
	}
	for gid, top := range rooms {
		f.goRun(func() { f.backfill(gid, f.backfillPeer(gid, ""), "", room.Pos{Depth: top + 1}) })
	}
}
