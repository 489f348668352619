package room

import (
	"context"
	"fmt"
	"math"

	"concord/federation/snowflake"
)

// Pos is a place in a room's log, which is read in depth order, and in the
// order this node stored them among events of one depth: every event comes
// after its prev and auth events (spec/accept.md), backfilled ones too.
// The zero Pos is the start.
type Pos struct {
	Depth int64 `json:"depth"`
	Seq   int64 `json:"seq"`
	// ID orders the stubs a node still backfilling passes on in a join,
	// which come after the events of their depth.
	ID string `json:"id,omitempty"`
}

// Before reports whether p comes before q in the log.
func (p Pos) Before(q Pos) bool {
	return p.Depth < q.Depth || p.Depth == q.Depth && (p.Seq < q.Seq || p.Seq == q.Seq && p.ID < q.ID)
}

// End is past the newest event: Backfill from End starts with the newest.
var End = Pos{Depth: math.MaxInt64, Seq: math.MaxInt64}

// WholeFrom returns the depth from which a partial-state join carries
// every event of the room: its newest recent events are that deep or
// deeper.
func (c *Core) WholeFrom(ctx context.Context, guildID snowflake.ID, recent int) (int64, error) {
	var depth int64
	err := c.store.Reader().QueryRowContext(ctx, `SELECT COALESCE(MIN(depth), 0) FROM (SELECT depth FROM events
		WHERE guild_id = ? ORDER BY depth DESC, seq DESC LIMIT ?) newest`, int64(guildID), recent).Scan(&depth)
	if err != nil {
		return 0, fmt.Errorf("room: newest events of %s: %w", guildID, err)
	}
	// Depth 0 is the guild.create alone, a state event: never below 1, so
	// that 0 can ask the node to choose (spec/federation.md).
	return max(depth, 1), nil
}

// JoinLog returns up to limit entries of a room's log after position
// after, and no more than maxBytes of events unless the first alone is
// larger, and the position of the last. An entry is the event itself if
// it is a state event, at least wholeFrom deep, a forward extremity, or a
// message.create whose message this node does not project from it (two
// creates of one ID); else its stub. A node still backfilling the room
// passes on the stubs it holds, after the events of their depth: a room
// whose other nodes are gone can still be joined.
func (c *Core) JoinLog(ctx context.Context, guildID snowflake.ID, after Pos, wholeFrom int64, limit, maxBytes int) ([]Entry, Pos, error) {
	events, err := c.joinEvents(ctx, guildID, after, wholeFrom, limit)
	if err != nil {
		return nil, after, fmt.Errorf("room: log of %s: %w", guildID, err)
	}
	stubs, err := c.joinStubs(ctx, guildID, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("room: stubs of %s: %w", guildID, err)
	}
	var out []Entry
	size := 0
	for len(out) < limit && (len(events) > 0 || len(stubs) > 0) {
		var next logEntry
		if len(stubs) == 0 || len(events) > 0 && events[0].pos.Before(stubs[0].pos) {
			next, events = events[0], events[1:]
		} else {
			next, stubs = stubs[0], stubs[1:]
		}
		if next.Raw != nil {
			if size += len(next.Raw); size > maxBytes && len(out) > 0 {
				break
			}
		}
		out, after = append(out, next.Entry), next.pos
	}
	return out, after, nil
}

// logEntry is an entry of a join with its place in the log.
type logEntry struct {
	Entry
	pos Pos
}

// stubSeq places a held stub after the events of its depth, among stubs
// by event ID (Pos.ID).
const stubSeq = math.MaxInt64

// joinEvents reads up to limit stored events after position after, as
// JoinLog sends them.
func (c *Core) joinEvents(ctx context.Context, guildID snowflake.ID, after Pos, wholeFrom int64, limit int) ([]logEntry, error) {
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT e.seq, e.depth, e.event_id, e.type, e.sender, e.origin_ts,
		e.state_parents, e.target_id, COALESCE(m.channel_id, 0),
		CASE WHEN e.is_state OR e.depth >= ? OR x.event_id IS NOT NULL
			OR (e.type = 'message.create' AND (m.event_id IS NULL OR m.event_id != e.event_id)) THEN e.body END
		FROM events e
		LEFT JOIN guild_extremities x ON x.guild_id = e.guild_id AND x.event_id = e.event_id
		LEFT JOIN messages m ON e.type = 'message.create' AND m.guild_id = e.guild_id AND m.id = e.target_id
		WHERE e.guild_id = ? AND (e.depth > ? OR e.depth = ? AND e.seq > ?)
		ORDER BY e.depth, e.seq LIMIT ?`, wholeFrom, int64(guildID), after.Depth, after.Depth, after.Seq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []logEntry
	for rows.Next() {
		var (
			e       logEntry
			s       = &Stub{GuildID: guildID}
			parents string
			target  int64
			body    []byte
		)
		if err := rows.Scan(&e.pos.Seq, &e.pos.Depth, &s.ID, &s.Type, &s.Sender, &s.OriginTS, &parents, &target,
			&s.Channel, &body); err != nil {
			return nil, err
		}
		if body != nil {
			e.Raw = body
		} else {
			s.Depth, s.StateParents = e.pos.Depth, splitIDs(parents)
			if s.Channel != 0 {
				s.Message = snowflake.ID(target)
			}
			e.Stub = s
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// joinStubs reads up to limit of the stubs a room holds after position
// after, in log order.
func (c *Core) joinStubs(ctx context.Context, guildID snowflake.ID, after Pos, limit int) ([]logEntry, error) {
	// After an event, every stub of its depth is still to come; after a
	// stub, those of greater ID.
	since, args := `depth >= ?`, []any{int64(guildID), after.Depth}
	if after.Seq == stubSeq {
		since, args = `(depth > ? OR depth = ? AND event_id > ?)`, append(args, after.Depth, after.ID)
	}
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT event_id, type, sender, origin_ts, depth, state_parents,
		msg_id, channel_id FROM event_stubs WHERE guild_id = ? AND `+since+` ORDER BY depth, event_id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []logEntry
	for rows.Next() {
		s := &Stub{GuildID: guildID}
		var parents string
		if err := rows.Scan(&s.ID, &s.Type, &s.Sender, &s.OriginTS, &s.Depth, &parents, &s.Message, &s.Channel); err != nil {
			return nil, err
		}
		s.StateParents = splitIDs(parents)
		out = append(out, logEntry{Entry: Entry{Stub: s}, pos: Pos{Depth: s.Depth, Seq: stubSeq, ID: s.ID}})
	}
	return out, rows.Err()
}

// Backfill returns up to limit of a room's events other than state events
// before position before, newest first, and no more than maxBytes of them
// unless the first alone is larger; and the position of the last.
func (c *Core) Backfill(ctx context.Context, guildID snowflake.ID, before Pos, limit, maxBytes int) ([][]byte, Pos, error) {
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT seq, depth, body FROM events
		WHERE guild_id = ? AND NOT is_state AND (depth < ? OR depth = ? AND seq < ?)
		ORDER BY depth DESC, seq DESC LIMIT ?`, int64(guildID), before.Depth, before.Depth, before.Seq, limit)
	if err != nil {
		return nil, before, fmt.Errorf("room: backfill of %s: %w", guildID, err)
	}
	defer rows.Close()
	var out [][]byte
	size := 0
	for rows.Next() {
		var pos Pos
		var body []byte
		if err := rows.Scan(&pos.Seq, &pos.Depth, &body); err != nil {
			return nil, before, err
		}
		if size += len(body); size > maxBytes && len(out) > 0 {
			break
		}
		out, before = append(out, body), pos
	}
	return out, before, rows.Err()
}

// Partial reports whether a room holds stubs: events backfill has yet to
// bring.
func (c *Core) Partial(ctx context.Context, guildID snowflake.ID) (bool, error) {
	top, err := c.StubTop(ctx, guildID)
	return top > 0, err
}

// PartialRooms lists the rooms that hold stubs, with the depth of the
// deepest: backfill goes on from there.
func (c *Core) PartialRooms(ctx context.Context) (map[snowflake.ID]int64, error) {
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT guild_id, MAX(depth) FROM event_stubs GROUP BY guild_id`)
	if err != nil {
		return nil, fmt.Errorf("room: partial rooms: %w", err)
	}
	defer rows.Close()
	out := map[snowflake.ID]int64{}
	for rows.Next() {
		var id, depth int64
		if err := rows.Scan(&id, &depth); err != nil {
			return nil, err
		}
		out[snowflake.ID(id)] = depth
	}
	return out, rows.Err()
}

// StubTop returns the depth of a room's deepest stub, 0 with none.
func (c *Core) StubTop(ctx context.Context, guildID snowflake.ID) (int64, error) {
	var depth int64
	err := c.store.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(depth), 0) FROM event_stubs WHERE guild_id = ?`,
		int64(guildID)).Scan(&depth)
	return depth, err
}
