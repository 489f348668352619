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

// Local is one event of a group sent with SendAll.
type Local struct {
	Type    string
	Content any // marshalled to JSON, as Send's content is
}

// SendAll builds, signs and accepts events by a local user as one
// submission, for a change that takes several events (a guild with its
// first channel, a bot with its role): either every event is accepted and
// committed, in one transaction and each on the one before it, or none is,
// and then nothing is stored or published and the room's state is as it
// was. Only state events may be grouped; the first may be the guild.create
// of a new room. A refusal is the refused event's error (a
// *guild.Rejection, ErrUnknownRoom …) wrapped with its place in the group.
func (c *Core) SendAll(ctx context.Context, guildID, sender snowflake.ID, events []Local) ([]*event.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	group := make([]*localEvent, len(events))
	for i, e := range events {
		switch {
		case guild.Known(e.Type) && !guild.IsState(e.Type):
			return nil, fmt.Errorf("room: group event %d: %s is message-level; only state events may be grouped", i, e.Type)
		case i > 0 && e.Type == guild.TypeGuildCreate:
			return nil, fmt.Errorf("room: group event %d: a guild.create may only open a group", i)
		}
		body, err := jsonContent(e.Content)
		if err != nil {
			return nil, fmt.Errorf("room: group event %d: %w", i, err)
		}
		group[i] = &localEvent{typ: e.Type, sender: sender, content: body}
	}
	res := c.deliver(ctx, guildID, events[0].Type == guild.TypeGuildCreate, &request{group: group})
	return res.group, res.err
}

// stageGroup stages a group of local events, all or none. The whole group
// is checked before any of it is staged, so a refusal leaves the room as it
// was. broken reports an error after part of the group was staged (a
// storage read failed): memory is then ahead of what the batch can commit.
func (r *room) stageGroup(ctx context.Context, tx *txn, group []*localEvent) (sts []*staged, broken bool, err error) {
	tx.settle() // the group is built on the current state
	ts := r.nextTS()
	evs, ops, err := r.checkGroup(ctx, tx, group, ts)
	if err != nil {
		return nil, false, err
	}
	r.lastTS = ts
	// Once begun, staging must not stop half-way because the caller left.
	ctx = context.WithoutCancel(ctx)
	sts = make([]*staged, len(evs))
	for i, ev := range evs {
		st, err := r.accept(ctx, tx, ev, &built{op: ops[i], signed: r.core.sign(ev)}, false)
		if err != nil {
			return nil, true, fmt.Errorf("room: group event %d (%s), checked, not staged: %w", i, ev.Type, err)
		}
		sts[i] = st
	}
	return sts, false, nil
}

// checkGroup drafts a group's events, each on the one before it, and puts
// each through accept's checks against the state the ones before it leave.
// That state is folded on a copy, so that checking changes nothing. It
// returns the events sealed, not signed, with their decoded content.
func (r *room) checkGroup(ctx context.Context, tx *txn, group []*localEvent, ts int64) ([]*event.Event, []*guild.Op, error) {
	evs := make([]*event.Event, len(group))
	ops := make([]*guild.Op, len(group))
	s := r.graph.State() // what the next event is checked against; a copy from the second on
	env := &groupEnv{g: r.graph}
	for i, l := range group {
		refused := func(err error) error { return fmt.Errorf("room: group event %d (%s): %w", i, l.typ, err) }
		var prev *event.Event
		if i > 0 {
			prev = evs[i-1]
		}
		ev, op, err := r.draft(ctx, tx, l, ts, prev, s)
		if err != nil {
			return nil, nil, refused(err)
		}
		if i == 0 {
			a, err := r.admit(ctx, ev, op, false)
			if err != nil {
				return nil, nil, refused(err)
			}
			op, env.roots = a.op, a.sparents
			if len(group) > 1 {
				s = a.before.Clone()
			}
		} else {
			full := opOf(ev)
			full.Adopt(op)
			if err := r.authorize(ev, full, s, s.CreateEvent, nil, false); err != nil {
				return nil, nil, refused(err)
			}
			op = full
		}
		evs[i], ops[i] = ev, op
		env.ids = append(env.ids, ev.ID())
		if i < len(group)-1 {
			resolve.Step(s, &resolve.Node{ID: ev.ID(), Op: op}, env)
		}
	}
	return evs, ops, nil
}

// groupEnv answers the ancestry questions of the rules (an unban lifts the
// bans it descends from) for a group being checked, whose events are not
// in the graph yet: each descends from the ones before it and from what the
// first one descends from.
type groupEnv struct {
	g     *resolve.Graph
	roots []string // the first event's state parents
	ids   []string // the group's events checked so far, in order
}

func (e *groupEnv) IsAncestor(a, b string) bool {
	j := slices.Index(e.ids, b)
	if j < 0 {
		return e.g.IsAncestor(a, b)
	}
	if slices.Contains(e.ids[:j], a) {
		return true
	}
	for _, p := range e.roots {
		if a == p || e.g.IsAncestor(a, p) {
			return true
		}
	}
	return false
}
