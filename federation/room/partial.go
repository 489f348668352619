package room

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/resolve"
	"concord/federation/snowflake"
)

// A room joined with partial state (spec/federation.md, "Joining with
// partial state") holds every state event and its newest events, and for
// each older event only a stub: what the node it joined through said of
// it, enough to place the events that name it. Backfill brings the older
// events newest first; each fills its stub, is checked against it and the
// rules, and takes its place in the projections. A room with no stub left
// is whole.

// Stub is what a node says of an event a partial-state join does not
// carry: never a state event.
type Stub struct {
	GuildID      snowflake.ID
	ID           string
	Type         string
	Sender       snowflake.ID
	OriginTS     int64
	Depth        int64
	StateParents []string     // its nearest state events, sorted
	Message      snowflake.ID // a message.create's message
	Channel      snowflake.ID // and the channel it was sent in
}

// Entry is one event as a partial-state join carries it: the event (Raw)
// or its Stub.
type Entry struct {
	Raw  []byte
	Stub *Stub
}

// errStubbedTooDeep refuses to fill a stub while deeper stubs remain: an
// event's descendants must all be whole before it takes its place.
var errStubbedTooDeep = fmt.Errorf("%w: deeper events of the room are still stubs", ErrMissingEvents)

// errMisdescribed refuses an event that does not match the stub it fills.
func errMisdescribed(what string) error {
	return &guild.Rejection{Reason: guild.ReasonBadContent, Code: guild.CodeInvalidFormBody,
		Detail: "the event does not match its stub: " + what}
}

// stubMeta is what the room knows of a stubbed event.
func stubMeta(s *Stub) *meta {
	m := &meta{depth: s.Depth, sparents: s.StateParents, typ: s.Type, stub: s}
	if s.Message != 0 {
		m.msg = &guild.MessageInfo{ID: s.Message, ChannelID: s.Channel, AuthorID: s.Sender, TS: s.OriginTS}
	}
	return m
}

// stageStub takes a stub into tx: it stands for its event until backfill
// brings it.
func (r *room) stageStub(ctx context.Context, tx *txn, s *Stub) error {
	bad := func(detail string) error {
		return &guild.Rejection{Reason: guild.ReasonBadContent, Code: guild.CodeInvalidFormBody, Detail: "stub: " + detail}
	}
	switch {
	case s.GuildID != r.id:
		return bad("of another guild")
	case r.createID == "":
		return ErrUnknownRoom
	case !event.ValidID(s.ID):
		return bad("not an event ID")
	case !guild.Known(s.Type) || guild.IsState(s.Type):
		return bad("a state event or an unknown type: " + s.Type)
	case s.Depth < 1 || s.Sender == 0:
		return bad("no depth or sender")
	case (s.Type == guild.TypeMessageCreate) != (s.Message != 0 && s.Channel != 0):
		return bad("a message.create names its message and channel, no other type does")
	case len(s.StateParents) == 0 || len(s.StateParents) > event.MaxPrevEvents || !slices.IsSorted(s.StateParents):
		return bad("state parents")
	}
	for _, p := range s.StateParents {
		if r.graph.Node(p) == nil {
			return bad("a state parent that is not a state event of the room")
		}
	}
	if r.metas[s.ID] != nil || tx.held[s.ID] {
		return ErrDuplicate
	}
	r.remember(s.ID, stubMeta(s))
	r.stubs.add(s.Depth, 1)
	// A stub names no prev events, but its state parents are its
	// ancestors: none is a forward extremity.
	for _, p := range s.StateParents {
		delete(r.extremities, p)
	}
	tx.stubs = append(tx.stubs, s)
	return nil
}

// holdsAny finds which of a batch's stubs name events the room holds, as
// events or stubs, in a few queries rather than one per stub.
func (r *room) holdsAny(ctx context.Context, batch []*request) (map[string]bool, error) {
	var ids []any
	for _, req := range batch {
		if req.stub != nil {
			ids = append(ids, req.stub.ID)
		}
	}
	held := map[string]bool{}
	const chunk = 400
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		list := strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
		// By event ID alone, which is unique: the guild is in its hash.
		args := append(slices.Clone(ids[:n]), ids[:n]...)
		rows, err := r.reader.QueryContext(ctx, `SELECT event_id FROM events WHERE event_id IN (`+list+`)
			UNION ALL SELECT event_id FROM event_stubs WHERE event_id IN (`+list+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			held[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return held, nil
}

// checkFill checks an event against the stub it fills, given the state
// parents it has by its prev events.
func (r *room) checkFill(ev *event.Event, stub *Stub, sparents []string) error {
	if ev.Depth < r.stubs.top {
		return errStubbedTooDeep
	}
	switch {
	case ev.Depth != stub.Depth:
		return errMisdescribed("depth")
	case ev.Type != stub.Type:
		return errMisdescribed("type")
	case ev.Sender != stub.Sender || ev.OriginTS != stub.OriginTS:
		return errMisdescribed("sender or time")
	case !slices.Equal(slices.Sorted(slices.Values(sparents)), stub.StateParents):
		return errMisdescribed("state parents")
	}
	if m := metaFor(ev, opOf(ev), false, nil).msg; m != nil && (m.ID != stub.Message || m.ChannelID != stub.Channel) ||
		m == nil && stub.Message != 0 {
		return errMisdescribed("message")
	}
	return nil
}

// stubDepths counts a room's stubs by depth: only the deepest may be filled.
type stubDepths struct {
	count map[int64]int
	top   int64 // the deepest depth with a stub; 0 with none
}

// add counts n stubs at depth.
func (d *stubDepths) add(depth int64, n int) {
	if d.count == nil {
		d.count = map[int64]int{}
	}
	d.count[depth] += n
	d.top = max(d.top, depth)
}

func (d *stubDepths) remove(depth int64) {
	if d.count[depth]--; d.count[depth] > 0 {
		return
	}
	delete(d.count, depth)
	switch {
	case len(d.count) == 0:
		d.top = 0
	case depth == d.top:
		// Stubs are filled deepest first, and depths have no gaps wider
		// than a run of state events: the next is near. A stub that lied
		// about its depth may leave a wider gap.
		for range 64 {
			if d.top--; d.count[d.top] > 0 {
				return
			}
		}
		d.top = 0
		for k := range d.count {
			d.top = max(d.top, k)
		}
	}
}

// stubOf reads a stub from storage; nil when the event is unknown.
func (r *room) stubOf(ctx context.Context, id string) (*meta, error) {
	s := &Stub{GuildID: r.id, ID: id}
	var parents string
	err := r.reader.QueryRowContext(ctx, `SELECT type, sender, origin_ts, depth, state_parents, msg_id, channel_id
		FROM event_stubs WHERE event_id = ? AND guild_id = ?`, id, int64(r.id)).Scan(&s.Type, &s.Sender, &s.OriginTS,
		&s.Depth, &parents, &s.Message, &s.Channel)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.StateParents = splitIDs(parents)
	m := stubMeta(s)
	r.remember(id, m)
	return m, nil
}

// loadStubs counts a loaded room's stubs by depth.
func (r *room) loadStubs(ctx context.Context, q Querier) error {
	rows, err := q.QueryContext(ctx, `SELECT depth, COUNT(*) FROM event_stubs WHERE guild_id = ? GROUP BY depth`, int64(r.id))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var depth int64
		var n int
		if err := rows.Scan(&depth, &n); err != nil {
			return err
		}
		r.stubs.add(depth, n)
	}
	return rows.Err()
}

// writeStubs stores a batch's new stubs and drops those its events filled.
func (t *txn) writeStubs(ctx context.Context, q Querier) error {
	rows := make([][]any, len(t.stubs))
	for i, s := range t.stubs {
		rows[i] = []any{s.ID, int64(s.GuildID), s.Type, int64(s.Sender), s.OriginTS, s.Depth,
			strings.Join(s.StateParents, " "), int64(s.Message), int64(s.Channel)}
	}
	if err := bulkInsert(ctx, q, `INSERT INTO event_stubs (event_id, guild_id, type, sender, origin_ts, depth,
		state_parents, msg_id, channel_id)`, `(?, ?, ?, ?, ?, ?, ?, ?, ?)`, "", rows, nil); err != nil {
		return err
	}
	for _, id := range t.filled {
		if _, err := q.ExecContext(ctx, `DELETE FROM event_stubs WHERE event_id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}

// A backfilled message is hidden by the bans of its sender that did not
// see it, as on a node that had it first. A ban that descends from it saw
// it; since its descendants are all here when it is filled, whether a ban
// descends from it is whether it is among the ban's stub frontier: the
// stubs nearest the ban among its ancestors, found once by a walk down to
// the stubs and kept as fills replace them with their prev events.
type frontier map[string]bool

// bansAfter lists the bans of a backfilled message's sender that descend
// from it.
func (r *room) bansAfter(ctx context.Context, ev *event.Event) ([]*resolve.Node, error) {
	var out []*resolve.Node
	for _, b := range r.bans[ev.Sender] {
		f := r.frontiers[b.ID]
		if f == nil {
			m, err := r.metaOf(ctx, b.ID)
			if err != nil {
				return nil, err
			}
			f = frontier{}
			if err := r.reach(ctx, f, m.prevs); err != nil {
				return nil, err
			}
			if r.frontiers == nil {
				r.frontiers = map[string]frontier{}
			}
			r.frontiers[b.ID] = f
		}
		if f[ev.ID()] {
			out = append(out, b)
		}
	}
	return out, nil
}

// reach adds to f the stubs nearest ids among them and their ancestors.
func (r *room) reach(ctx context.Context, f frontier, from []string) error {
	seen := map[string]bool{}
	ids := slices.Clone(from) // the stack: from is an event's own list
	for len(ids) > 0 {
		id := ids[len(ids)-1]
		ids = ids[:len(ids)-1]
		if seen[id] || f[id] {
			continue
		}
		seen[id] = true
		m, err := r.metaOf(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case m == nil:
		case m.stub != nil:
			f[id] = true
		default:
			ids = append(ids, m.prevs...)
		}
	}
	return nil
}

// filled moves the frontiers past a stub that ev filled.
func (r *room) filled(ctx context.Context, ev *event.Event) error {
	for _, f := range r.frontiers {
		if f[ev.ID()] {
			delete(f, ev.ID())
			if err := r.reach(ctx, f, ev.PrevEvents); err != nil {
				return err
			}
		}
	}
	return nil
}

// catchUp brings a backfilled message up to date with the events about it
// that came before it: a delete left a tombstone, which takes its hidden
// flag, and it is erased at once (with its edits); edits and pins, which found no row, are applied now.
// Reactions keep rows of their own and need nothing.
func catchUp(ctx context.Context, q Querier, guildID, id snowflake.ID, hidden bool) error {
	var deleted bool
	if err := q.QueryRowContext(ctx, `SELECT deleted FROM messages WHERE guild_id = ? AND id = ?`,
		int64(guildID), int64(id)).Scan(&deleted); err != nil {
		return err
	}
	if deleted {
		if _, err := q.ExecContext(ctx, `UPDATE messages SET hidden = ? WHERE guild_id = ? AND id = ?`,
			hidden, int64(guildID), int64(id)); err != nil {
			return err
		}
		if err := redactEvents(ctx, q, guildID, id); err != nil {
			return err
		}
	}
	var later []*event.Event
	for _, query := range []string{
		`SELECT body FROM events WHERE guild_id = ? AND target_id = ? AND type = 'message.edit' AND redacted = FALSE`,
		`SELECT body FROM events WHERE guild_id = ? AND target_id = ? AND type IN ('pin.add', 'pin.remove')`,
	} {
		evs, err := readEvents(ctx, q, query, int64(guildID), int64(id))
		if err != nil {
			return err
		}
		later = append(later, evs...)
	}
	for _, ev := range later {
		op := opOf(ev)
		if op.Prepare() != nil {
			continue
		}
		var err error
		switch b := op.Body().(type) {
		case *guild.MessageEdit:
			err = editMessage(ctx, q, ev, b)
		case *guild.Pin:
			err = setPin(ctx, q, guildID, b.MessageID, ev.Type == guild.TypePinAdd, ev.OriginTS, order(ev))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readEvents reads the events a query selects by body, all of them before
// the caller writes again.
func readEvents(ctx context.Context, q Querier, query string, args ...any) ([]*event.Event, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*event.Event
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		ev, err := event.Parse(body)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
