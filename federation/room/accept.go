package room

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"concord/federation/canonical"
	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/resolve"
	"concord/federation/snowflake"
)

// Accepted is what subscribers hear of an event after it was committed.
type Accepted struct {
	Event   *event.Event
	State   bool          // a state event
	Applied bool          // a state event that took effect in the current state
	Changes guild.Changes // objects whose projection changed
	Hidden  bool          // a message hidden because a ban of its sender did not see it
	// Backfill marks an older event of a room joined with partial state,
	// filling its stub: not news, which subscribers that show new events
	// skip.
	Backfill bool
	Removed  []snowflake.ID // messages this event took from view: deleted, erased or hidden by a ban
	// After is what a dispatch of this event renders, as it was right
	// after the event whatever came later (guild.State.Snapshot): the
	// guild's own fields and the objects Changes names (with the guild,
	// its roles and emojis; with a new DM room or one that someone joined
	// or left, every member); for a
	// message-level event, the members of its sender and of the users it
	// names, as the event saw them. Of forked state events settled
	// together, all but the last, which reports the changes, hold the
	// guild's own fields only. Subscribers must not change it: it may be
	// shared.
	After *guild.State
}

type staged struct {
	ev       *event.Event
	accepted *Accepted
}

// stage builds (for local events) and accepts one event into tx.
func (r *room) stage(tx *txn, req *request) (*staged, error) {
	if req.stub != nil {
		if err := r.stageStub(req.ctx, tx, req.stub); err != nil {
			return nil, err
		}
		return &staged{}, nil
	}
	ev := req.remote
	var b *built
	if req.local != nil {
		var err error
		if ev, b, err = r.build(req.ctx, tx, req.local); err != nil {
			return nil, err
		}
	}
	return r.accept(req.ctx, tx, ev, b, req.fromLog)
}

// built is what the writer keeps of a local event it built: its decoded
// content and the signature being made.
type built struct {
	op     *guild.Op
	signed <-chan signed
}

// build makes a local event on the room's current state. Its ID is fixed
// at once; the signature, the costliest step of a send, is made on another
// core while the writer goes on.
func (r *room) build(ctx context.Context, tx *txn, l *localEvent) (*event.Event, *built, error) {
	tx.settle() // a local event is built on the current state
	ts := r.nextTS()
	ev, op, err := r.draft(ctx, tx, l, ts, nil, r.graph.State())
	if err != nil {
		return nil, nil, err
	}
	r.lastTS = ts
	return ev, &built{op: op, signed: r.core.sign(ev)}, nil
}

// check is the dry run of a local event: accept's verdict on it against
// the current state, leaving the room as it was.
func (r *room) check(ctx context.Context, tx *txn, l *localEvent) error {
	tx.settle() // as build does
	ev, op, err := r.draft(ctx, tx, l, r.nextTS(), nil, r.graph.State())
	if err != nil {
		return err
	}
	_, err = r.admit(ctx, ev, op, false)
	return err
}

// nextTS is the origin_ts of the next local event: never behind the last
// one, whatever the clock does.
func (r *room) nextTS() int64 { return max(time.Now().UnixMilli(), r.lastTS) }

// draft fills in the envelope of a local event sent at ts: prev_events are
// the room's forward extremities, or prev alone (the event before it in a
// group), and auth_events what the rules require in s, the state it will
// be checked against. It returns the event sealed but not signed, with its
// decoded content.
func (r *room) draft(ctx context.Context, tx *txn, l *localEvent, ts int64, prev *event.Event, s *guild.State) (*event.Event, *guild.Op, error) {
	content, err := canonical.Canonicalize(l.content)
	if err != nil {
		// A number beyond ±(2^53−1) or a float: content no event can carry.
		return nil, nil, &guild.Rejection{Reason: guild.ReasonBadContent, Code: guild.CodeInvalidFormBody,
			Detail: fmt.Sprintf("content: %v", err)}
	}
	op := &guild.Op{Type: l.typ, Content: content}
	if err := op.Prepare(); err != nil {
		return nil, nil, err
	}
	ev := &event.Event{GuildID: r.id, Type: l.typ, Sender: l.sender, OriginTS: ts, Content: content}
	if l.typ != guild.TypeGuildCreate {
		if s.CreateEvent == "" {
			return nil, nil, ErrUnknownRoom // a room whose create was refused, still in memory
		}
		if prev != nil {
			ev.PrevEvents, ev.Depth = []string{prev.ID()}, prev.Depth+1
		} else {
			ev.PrevEvents, ev.Depth = r.heads()
		}
		auth, err := r.authFor(ctx, tx, op, s)
		if err != nil {
			return nil, nil, err
		}
		ev.AuthEvents = auth
	}
	if err := r.core.signer.Seal(ev); err != nil {
		if errors.Is(err, event.ErrTooLarge) {
			return nil, nil, &guild.Rejection{Reason: guild.ReasonBadContent, Code: guild.CodeInvalidFormBody,
				Detail: err.Error()}
		}
		return nil, nil, err
	}
	return ev, op, nil
}

// heads returns the prev_events of a local event, the room's forward
// extremities, and its depth.
func (r *room) heads() ([]string, int64) {
	prevs := make([]string, 0, len(r.extremities))
	for id := range r.extremities {
		prevs = append(prevs, id)
	}
	// Deepest first, so that when there are more than the limit the newest
	// branches are the ones merged.
	slices.SortFunc(prevs, func(a, b string) int {
		if da, db := r.extremities[a], r.extremities[b]; da != db {
			return int(db - da)
		}
		return strings.Compare(a, b)
	})
	if len(prevs) > event.MaxPrevEvents {
		prevs = prevs[:event.MaxPrevEvents]
	}
	var depth int64
	for _, p := range prevs {
		depth = max(depth, r.extremities[p]+1)
	}
	return prevs, depth
}

// authFor lists the auth events a local event with decoded content op must
// carry to be checked against s.
func (r *room) authFor(ctx context.Context, tx *txn, op *guild.Op, s *guild.State) ([]string, error) {
	auth := []string{s.CreateEvent}
	if j, ok := op.Body().(*guild.MemberJoin); ok {
		if inv := s.Invites[j.InviteCode]; inv != nil {
			auth = append(auth, inv.EventID)
		}
	}
	for _, id := range op.TargetIDs() {
		eid, err := tx.messageEvent(ctx, id)
		if err != nil {
			return nil, err
		}
		if eid != "" && !slices.Contains(auth, eid) {
			auth = append(auth, eid)
		}
	}
	return auth, nil
}

// admission is what accept's checks learnt of an event.
type admission struct {
	op       *guild.Op
	sparents []string
	parents  []*resolve.Node
	before   *guild.State
	inert    bool  // a logged event today's rules refuse: it has no effect
	fills    *Stub // the stub a backfilled event replaces
	// descBans are the bans of a backfilled message's sender that descend
	// from it: they saw it, so they do not hide it.
	descBans []*resolve.Node
}

// admit runs accept's checks (spec/accept.md, "Checks, in order") on ev
// and changes nothing but caches. local is the decoded content of a local
// event, nil for an event from elsewhere.
func (r *room) admit(ctx context.Context, ev *event.Event, local *guild.Op, fromLog bool) (admission, error) {
	// A local event carries a snowflake or a timestamp no other has: only
	// remote ones can be duplicates. One replayed from the log is stored.
	// An event known by its stub alone fills it.
	var fills *Stub
	if local == nil && !fromLog {
		if m, err := r.metaOf(ctx, ev.ID()); err != nil {
			return admission{}, err
		} else if m != nil && m.stub == nil {
			return admission{}, ErrDuplicate
		} else if m != nil {
			fills = m.stub
		}
	}
	if ev.GuildID != r.id {
		return admission{}, &guild.Rejection{Reason: guild.ReasonBadContent, Code: guild.CodeInvalidFormBody, Detail: "event of another guild"}
	}
	if !guild.Known(ev.Type) {
		return admission{}, &guild.Rejection{Reason: guild.ReasonUnknownType, Code: guild.CodeInvalidFormBody, Detail: ev.Type}
	}
	if ev.Type == guild.TypeGuildCreate {
		if r.createID != "" {
			return admission{}, &guild.Rejection{Reason: guild.ReasonIDInUse, Code: guild.CodeInvalidFormBody, Detail: "guild already created"}
		}
	} else if r.createID == "" {
		return admission{}, ErrUnknownRoom
	}

	prevMetas, err := r.metasOf(ctx, ev.PrevEvents)
	if err != nil {
		return admission{}, err
	}
	depth := int64(0)
	for _, m := range prevMetas {
		depth = max(depth, m.depth+1)
	}
	if ev.Depth != depth {
		return admission{}, &guild.Rejection{Reason: guild.ReasonBadContent, Code: guild.CodeInvalidFormBody, Detail: "depth is not one more than the deepest prev event"}
	}
	authMetas, err := r.metasOf(ctx, ev.AuthEvents)
	if err != nil {
		return admission{}, err
	}
	for _, m := range authMetas {
		if m.depth >= ev.Depth && !fromLog {
			return admission{}, &guild.Rejection{Reason: guild.ReasonMissingAuth, Code: guild.CodeInvalidFormBody,
				Detail: "an auth event is not shallower than the event"}
		}
	}

	a := admission{op: opOf(ev), sparents: r.stateParents(ev.PrevEvents, prevMetas), fills: fills}
	if fills != nil {
		if err := r.checkFill(ev, fills, a.sparents); err != nil {
			return admission{}, err
		}
	}
	a.parents = make([]*resolve.Node, len(a.sparents))
	for i, p := range a.sparents {
		a.parents[i] = r.graph.Node(p)
	}
	a.before = r.graph.StateBefore(a.parents)
	if local != nil {
		a.op.Adopt(local)
	}
	if fromLog && a.op.Prepare() != nil {
		// Logged under older rules that today's refuse (the storable-text
		// rules came later): it keeps its place in the DAG, without
		// effect, as on a node that loads it (spec/accept.md, "Events
		// today's rules refuse").
		a.inert = true
		return a, nil
	}
	if err := r.authorize(ev, a.op, a.before, r.createID, authMetas, fromLog); err != nil {
		return admission{}, err
	}
	if fills != nil && ev.Type == guild.TypeMessageCreate {
		if a.descBans, err = r.bansAfter(ctx, ev); err != nil {
			return admission{}, err
		}
	}
	if fills != nil {
		if err := r.filled(ctx, ev); err != nil {
			return admission{}, err
		}
	}
	return a, nil
}

// accept runs accept's checks on ev (admit) and stages its writes in tx.
// b is nil for an event from elsewhere.
func (r *room) accept(ctx context.Context, tx *txn, ev *event.Event, b *built, fromLog bool) (*staged, error) {
	var local *guild.Op
	var sig <-chan signed
	if b != nil {
		local, sig = b.op, b.signed
	}
	a, err := r.admit(ctx, ev, local, fromLog)
	if err != nil {
		return nil, err
	}
	id, op := ev.ID(), a.op
	if a.inert {
		r.core.log.Warn("logged event refused by today's rules: kept without effect", "guild", r.id, "event", id, "type", ev.Type)
	}
	isState := guild.IsState(ev.Type)
	acc := &Accepted{Event: ev, State: isState, Backfill: a.fills != nil}
	// Everything that may fail comes before the first change to the room:
	// an event refused here leaves no trace in memory.
	var ban *banEffect
	if b, ok := op.Body().(*guild.MemberBan); ok {
		if ban, err = r.planBan(ctx, ev, b); err != nil {
			return nil, err
		}
	}
	var rank uint64
	if isState {
		rank = a.before.Authority(ev.Sender)
		n := &resolve.Node{ID: id, Op: op, Parents: a.parents, Rank: rank}
		changes, applied, decided := r.graph.Defer(n)
		if decided {
			acc.Changes, acc.Applied = changes, applied
			acc.After = snapshotAfter(r.graph.State(), ev.Type, changes)
			tx.dirty(changes)
		} else {
			tx.deferred = append(tx.deferred, deferredNode{n, acc})
		}
		switch b := op.Body().(type) {
		case *guild.GuildCreate:
			r.createID = id
		case *guild.MemberBan:
			r.bans[b.UserID] = append(r.bans[b.UserID], n)
			ban.stage(r, tx, acc)
		}
		if !a.inert {
			tx.audit(ev, op)
		}
	} else {
		r.stageMessage(tx, ev, op, a, acc)
		// A message changes no state: the state it was checked against is
		// the one its sender saw.
		acc.After = a.before.Snapshot(nil, named(ev.Sender, op))
	}

	r.remember(id, metaFor(ev, op, isState, a.sparents))
	if a.fills != nil {
		// It has descendants here already: the extremities stay.
		r.stubs.remove(ev.Depth)
		tx.filled = append(tx.filled, id)
	} else {
		// Its prev events, and its state parents (which in a room joined
		// with partial state may be ancestors only through stubs), have
		// a descendant now.
		for _, p := range slices.Concat(ev.PrevEvents, a.sparents) {
			delete(r.extremities, p)
		}
		r.extremities[id] = ev.Depth
	}
	tx.insertEvent(ev, sig, isState, a.sparents, rank, op)
	return &staged{ev: ev, accepted: acc}, nil
}

// snapshotAfter is the After of a state event of type typ that changed
// keys in s. A new DM room's dispatch introduces it to every member, and
// an arrival or a departure tells every member there is then.
func snapshotAfter(s *guild.State, typ string, keys guild.Changes) *guild.State {
	var members []snowflake.ID
	if (typ == guild.TypeGuildCreate || typ == guild.TypeMemberLeave || typ == guild.TypeMemberAdd) && s.Kind != guild.KindGuild {
		members = slices.Collect(maps.Keys(s.Members))
	}
	return s.Snapshot(keys, members)
}

// named lists the users whose members a message-level event's dispatch
// shows: its sender, the users a message mentions, the user of a reaction.
func named(sender snowflake.ID, op *guild.Op) []snowflake.ID {
	switch b := op.Body().(type) {
	case *guild.MessageCreate:
		return append([]snowflake.ID{sender}, b.Mentions...)
	case *guild.Reaction:
		if b.UserID != 0 {
			return []snowflake.ID{sender, b.UserID}
		}
	}
	return []snowflake.ID{sender}
}

// authorize checks ev against the auth rules and the state before it. Its
// auth_events must be exactly what the rules read: the guild's create event
// (createID), the invite a join uses, the create events of the messages it
// targets.
func (r *room) authorize(ev *event.Event, op *guild.Op, before *guild.State, createID string, authMetas []*meta, fromLog bool) error {
	if err := op.Prepare(); err != nil {
		return err
	}
	if ev.Type == guild.TypeGuildCreate {
		return guild.Check(before, op) // Parse allows it no auth events
	}
	if !ev.ContentIntact() {
		if fromLog {
			// A message erased before the log was replayed: it passed the
			// rules when it first came; its content, and so its effect, is
			// gone.
			return nil
		}
		// Erased before it reached this node: judged on what it keeps.
		return guild.CheckRedacted(before, op)
	}
	want := []string{createID}
	if guild.IsState(ev.Type) {
		if j, ok := op.Body().(*guild.MemberJoin); ok {
			if inv := before.Invites[j.InviteCode]; inv != nil {
				want = append(want, inv.EventID)
			}
		}
		if !sameSet(want, ev.AuthEvents) {
			return errWrongAuth
		}
		return guild.Check(before, op)
	}
	targets := guild.Targets{}
	for i, m := range authMetas {
		if m.msg != nil && slices.Contains(op.TargetIDs(), m.msg.ID) {
			targets[m.msg.ID] = m.msg
			want = append(want, ev.AuthEvents[i])
		}
	}
	if !sameSet(want, ev.AuthEvents) {
		return errWrongAuth
	}
	return guild.CheckMessage(before, op, targets)
}

var errWrongAuth = &guild.Rejection{Reason: guild.ReasonMissingAuth, Code: guild.CodeInvalidFormBody,
	Detail: "auth_events must be exactly the create event and the events the rules read"}

// sameSet compares want with a sorted list of event IDs.
func sameSet(want, sorted []string) bool {
	slices.Sort(want)
	return slices.Equal(want, sorted)
}

// metasOf looks up events that must all be present.
func (r *room) metasOf(ctx context.Context, ids []string) ([]*meta, error) {
	out := make([]*meta, len(ids))
	for i, id := range ids {
		m, err := r.metaOf(ctx, id)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return nil, ErrMissingEvents
		}
		out[i] = m
	}
	return out, nil
}

// stateParents computes the nearest state events among the ancestors of an
// event with these prev events: the prevs that are state events, and the
// state parents of the others, less any that is an ancestor of another.
func (r *room) stateParents(prevs []string, metas []*meta) []string {
	var cand []string
	for i, m := range metas {
		if m.state {
			cand = append(cand, prevs[i])
		} else {
			cand = append(cand, m.sparents...)
		}
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	if len(cand) < 2 {
		return cand
	}
	out := cand[:0:0]
	for _, a := range cand {
		dominated := false
		for _, b := range cand {
			if a != b && r.graph.IsAncestor(a, b) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, a)
		}
	}
	return out
}
