package room

import (
	"context"
	"fmt"
	"slices"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/resolve"
	"concord/federation/snowflake"
)

// order is the key that decides between edits, pins and reactions of one
// message whatever order they arrive in: the deeper event wins, ties by ID.
func order(ev *event.Event) string { return fmt.Sprintf("%016x%s", ev.Depth, ev.ID()) }

// stageMessage stages the projection of a message-level event.
func (r *room) stageMessage(tx *txn, ev *event.Event, op *guild.Op, a admission, acc *Accepted) {
	intact, parents := ev.ContentIntact(), a.parents
	switch b := op.Body().(type) {
	case *guild.MessageCreate:
		acc.Hidden = r.bannedConcurrently(ev.Sender, parents, a.descBans)
		erase := !intact || r.inBanWindow(ev.Sender, ev.OriginTS, parents)
		r.messages[b.ID] = ev.ID()
		tx.messages = append(tx.messages, newMessageRow(ev, b, acc.Hidden))
		if erase {
			acc.Removed = append(acc.Removed, b.ID)
			tx.erase(r.id, b.ID)
		}
		if a.fills != nil {
			tx.ops = append(tx.ops, func(ctx context.Context, q Querier) error { return catchUp(ctx, q, r.id, b.ID, acc.Hidden) })
		}
	case *guild.MessageEdit:
		if !intact {
			return
		}
		tx.ops = append(tx.ops, func(ctx context.Context, q Querier) error { return editMessage(ctx, q, ev, b) })
	case *guild.MessageTarget:
		acc.Removed = []snowflake.ID{b.ID}
		tx.erase(r.id, b.ID)
	case *guild.MessageBulkDelete:
		acc.Removed = b.IDs
		for _, id := range b.IDs {
			tx.erase(r.id, id)
		}
	case *guild.Reaction:
		user := b.UserID
		if user == 0 {
			user = ev.Sender
		}
		tx.ops = append(tx.ops, func(ctx context.Context, q Querier) error {
			return setReaction(ctx, q, ev.GuildID, b, user, ev.Type == guild.TypeReactionAdd, order(ev))
		})
	case *guild.ReactionRemoveAll:
		tx.ops = append(tx.ops, func(ctx context.Context, q Querier) error { return clearReactions(ctx, q, ev.GuildID, b, order(ev)) })
	case *guild.Pin:
		tx.ops = append(tx.ops, func(ctx context.Context, q Querier) error {
			return setPin(ctx, q, ev.GuildID, b.MessageID, ev.Type == guild.TypePinAdd, ev.OriginTS, order(ev))
		})
	}
}

// bannedConcurrently reports whether some ban of user is not an ancestor of
// an event whose state parents are parents, nor among later, the bans known
// to descend from it: a ban that did not see the message hides it on every
// node (spec/state-resolution.md, "Bans win").
func (r *room) bannedConcurrently(user snowflake.ID, parents, later []*resolve.Node) bool {
	for _, b := range r.bans[user] {
		if !r.seen(b, parents) && !slices.Contains(later, b) {
			return true
		}
	}
	return false
}

// seen reports whether state event b is among, or an ancestor of, parents.
func (r *room) seen(b *resolve.Node, parents []*resolve.Node) bool {
	for _, p := range parents {
		if p == b || r.graph.IsAncestor(b.ID, p.ID) {
			return true
		}
	}
	return false
}

// inBanWindow reports whether a ban of user that did not see a message sent
// at ts (with these state parents) erases it; a ban the message descends
// from was lifted before it, or the message could not have passed auth.
func (r *room) inBanWindow(user snowflake.ID, ts int64, parents []*resolve.Node) bool {
	for _, b := range r.bans[user] {
		if r.seen(b, parents) {
			continue
		}
		c := b.Op.Body().(*guild.MemberBan)
		if c.DeleteMessageSeconds > 0 && ts >= b.Op.TS-c.DeleteMessageSeconds*1000 {
			return true
		}
	}
	return false
}

// banEffect is what a ban does to its target's messages: those inside its
// delete window are erased, those it did not see are hidden.
type banEffect struct {
	erase, hide []snowflake.ID
}

// stage stages a ban's effect in tx.
func (e *banEffect) stage(r *room, tx *txn, acc *Accepted) {
	for _, id := range e.erase {
		acc.Removed = append(acc.Removed, id)
		tx.erase(r.id, id)
	}
	for _, id := range e.hide {
		acc.Removed = append(acc.Removed, id)
		tx.ops = append(tx.ops, func(ctx context.Context, q Querier) error {
			_, err := q.ExecContext(ctx, `UPDATE messages SET hidden = TRUE WHERE guild_id = ? AND id = ?`, int64(r.id), int64(id))
			return err
		})
	}
}

// planBan finds the target's messages a ban hides (those it did not see)
// and erases (those inside its delete window). It reads storage but
// changes nothing, so that accept can fail before it changes the room.
func (r *room) planBan(ctx context.Context, ev *event.Event, b *guild.MemberBan) (*banEffect, error) {
	rows, err := r.reader.QueryContext(ctx, `SELECT id, event_id, depth, created_at FROM messages
		WHERE guild_id = ? AND author_id = ?`, int64(r.id), int64(b.UserID))
	if err != nil {
		return nil, err
	}
	type cand struct {
		id    snowflake.ID
		event string
		depth int64
		ts    int64
	}
	var cands []cand
	for rows.Next() {
		var c cand
		var id int64
		if err := rows.Scan(&id, &c.event, &c.depth, &c.ts); err != nil {
			rows.Close()
			return nil, err
		}
		c.id = snowflake.ID(id)
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Messages of batches not yet committed are only in memory.
	stored := map[snowflake.ID]bool{}
	for _, c := range cands {
		stored[c.id] = true
	}
	for id, eid := range r.messages {
		if m := r.metas[eid]; !stored[id] && m != nil && m.msg != nil && m.msg.AuthorID == b.UserID {
			cands = append(cands, cand{id: id, event: eid, depth: m.depth, ts: m.msg.TS})
		}
	}
	var unseen map[string]bool
	if !r.atHead(ev) && len(cands) > 0 {
		minDepth := cands[0].depth
		for _, c := range cands {
			minDepth = min(minDepth, c.depth)
		}
		targets := map[string]bool{}
		for _, c := range cands {
			targets[c.event] = true
		}
		seen, err := r.reachable(ctx, ev.PrevEvents, targets, minDepth)
		if err != nil {
			return nil, err
		}
		unseen = map[string]bool{}
		for t := range targets {
			if !seen[t] {
				unseen[t] = true
			}
		}
	}
	e := &banEffect{}
	for _, c := range cands {
		if c.ts >= ev.OriginTS-b.DeleteMessageSeconds*1000 && b.DeleteMessageSeconds > 0 {
			e.erase = append(e.erase, c.id)
		}
		if unseen[c.event] {
			e.hide = append(e.hide, c.id)
		}
	}
	return e, nil
}

// atHead reports whether ev descends from every event the room holds.
func (r *room) atHead(ev *event.Event) bool {
	if len(ev.PrevEvents) != len(r.extremities) {
		return false
	}
	for _, p := range ev.PrevEvents {
		if _, ok := r.extremities[p]; !ok {
			return false
		}
	}
	return true
}

// reachable walks the whole DAG back from from, no deeper than minDepth, and
// reports which of targets it meets.
func (r *room) reachable(ctx context.Context, from []string, targets map[string]bool, minDepth int64) (map[string]bool, error) {
	found := map[string]bool{}
	seen := map[string]bool{}
	stack := append([]string(nil), from...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		if targets[id] {
			found[id] = true
		}
		m, err := r.metaOf(ctx, id)
		if err != nil {
			return nil, err
		}
		if m == nil || m.depth <= minDepth {
			continue
		}
		stack = append(stack, m.prevs...)
	}
	return found, nil
}
