package room

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/resolve"
	"concord/federation/snowflake"
)

// txn collects the writes of one batch; commit runs them in one database
// transaction. Everything commit writes is captured while the batch is
// staged (finish), so that the writer can stage the next batch meanwhile.
type txn struct {
	r        *room
	events   []eventRow      // inserted first, together
	messages []messageRow    // inserted next, together
	edits    []editCheck     // checked last: an edit of a deleted message is redacted
	stubs    []*Stub         // stubs of a partial-state join (partial.go)
	held     map[string]bool // which of the batch's stubs the room holds already
	filled   []string        // stubs this batch's events replace
	ops      []func(ctx context.Context, q Querier) error
	keys     map[guild.Key]bool
	redacted bool
	deferred []deferredNode // forking state events the graph has yet to settle
	delta    *guild.Delta   // what the batch changed in the state (finish)

	// logged marks a batch replayed from the log (Rebuild): its events are
	// stored already. seq is then the log position of the event being
	// staged, and firstSeq that of the first event to touch each object.
	logged   bool
	seq      int64
	firstSeq map[guild.Key]int64
}

type deferredNode struct {
	n   *resolve.Node
	acc *Accepted
}

func newTxn(r *room) *txn {
	return &txn{r: r, keys: map[guild.Key]bool{}}
}

// newLoggedTxn is a txn of events replayed from the log.
func newLoggedTxn(r *room) *txn {
	t := newTxn(r)
	t.logged, t.firstSeq = true, map[guild.Key]int64{}
	return t
}

func (t *txn) dirty(ch guild.Changes) {
	for _, k := range ch {
		t.keys[k] = true
		if _, ok := t.firstSeq[k]; !ok && t.logged {
			t.firstSeq[k] = t.seq
		}
	}
}

// messageEvent finds the create event of a message of this room.
func (t *txn) messageEvent(ctx context.Context, id snowflake.ID) (string, error) {
	if eid, ok := t.r.messages[id]; ok {
		return eid, nil
	}
	var eid string
	err := t.r.reader.QueryRowContext(ctx, `SELECT event_id FROM messages WHERE id = ? AND guild_id = ?`,
		int64(id), int64(t.r.id)).Scan(&eid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return eid, err
}

type eventRow struct {
	ev     *event.Event
	signed <-chan signed // nil for an event from elsewhere
	values []any         // every column but body, which is known once signed
}

type editCheck struct {
	guildID, message int64
}

func (t *txn) insertEvent(ev *event.Event, sig <-chan signed, state bool, sparents []string, rank uint64, op *guild.Op) {
	var target int64
	if ids := op.TargetIDs(); len(ids) == 1 {
		target = int64(ids[0])
	} else if c, ok := op.Body().(*guild.MessageCreate); ok {
		target = int64(c.ID)
	}
	if ev.Type == guild.TypeMessageEdit {
		t.edits = append(t.edits, editCheck{int64(ev.GuildID), target})
	}
	if t.logged {
		return
	}
	// One spare slot for the body, added once the event is signed.
	values := make([]any, 0, 12)
	t.events = append(t.events, eventRow{ev: ev, signed: sig, values: append(values, ev.ID(), int64(ev.GuildID), ev.Type,
		int64(ev.Sender), ev.OriginTS, ev.Depth, state, strings.Join(sparents, " "), int64(rank), target,
		sig == nil && !ev.ContentIntact())})
}

// writeEvents inserts the batch's events, once each local one is signed.
func (t *txn) writeEvents(ctx context.Context, q Querier) error {
	rows := make([][]any, len(t.events))
	for i, e := range t.events {
		var body []byte
		if e.signed != nil {
			s := <-e.signed
			if s.err != nil {
				return fmt.Errorf("room: sign %s: %w", e.ev.ID(), s.err)
			}
			body = s.body
		} else {
			body = event.Marshal(e.ev)
		}
		rows[i] = append(e.values, body)
	}
	return bulkInsert(ctx, q, `INSERT INTO events (event_id, guild_id, type, sender, origin_ts, depth,
		is_state, state_parents, auth_rank, target_id, redacted, body)`, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, "", rows, nil)
}

// changesChannels reports whether the batch writes a channel's row.
func (t *txn) changesChannels() bool {
	for k := range t.keys {
		if k.Kind == "channel" {
			return true
		}
	}
	return false
}

// checkEdits redacts the batch's edits of messages that are deleted: an
// edit that arrives after its message's delete is stored redacted like the
// rest of the message's events.
func (t *txn) checkEdits(ctx context.Context, q Querier) error {
	for _, e := range t.edits {
		var deleted bool
		err := q.QueryRowContext(ctx, `SELECT deleted FROM messages WHERE id = ? AND guild_id = ?`, e.message, e.guildID).Scan(&deleted)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !deleted {
			continue
		}
		if err != nil {
			return err
		}
		if err := redactEvents(ctx, q, snowflake.ID(e.guildID), snowflake.ID(e.message)); err != nil {
			return err
		}
	}
	return nil
}

// erase deletes a message: its text leaves the projection and its events
// are rewritten in their redacted form (spec/events.md, "Redaction").
func (t *txn) erase(guildID, id snowflake.ID) {
	t.redacted = true
	t.ops = append(t.ops, func(ctx context.Context, q Querier) error {
		// Everything the redacted log cannot reproduce is reset too, so that
		// a rebuild from the log yields the same row.
		if _, err := q.ExecContext(ctx, `UPDATE messages SET deleted = TRUE, content = '', embeds = '[]',
			attachments = '[]', mentions = '[]', mention_roles = '[]', nonce = '', components = '[]', interaction = '', webhook = '', edited_at = 0, edit_order = '',
			flags = 0, tts = FALSE, mention_everyone = FALSE, reference_id = 0 WHERE id = ? AND guild_id = ?`,
			int64(id), int64(guildID)); err != nil {
			return err
		}
		// A message a partial-state join knows by its stub alone leaves a
		// tombstone, which erases it when backfill brings it (catchUp).
		if _, err := q.ExecContext(ctx, `INSERT INTO messages (id, guild_id, channel_id, author_id, event_id, depth, created_at,
			content, embeds, attachments, mentions, mention_roles, mention_everyone, tts, flags, nonce, reference_id,
			components, interaction, webhook, edited_at, edit_order, pinned, pin_order, pinned_at, hidden, deleted)
			SELECT msg_id, guild_id, channel_id, sender, event_id, depth, origin_ts, '', '[]', '[]', '[]', '[]', FALSE, FALSE, 0, '', 0,
			'[]', '', '', 0, '', FALSE, '', 0, FALSE, TRUE FROM event_stubs s WHERE s.guild_id = ? AND s.msg_id = ?
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.guild_id = s.guild_id AND m.id = s.msg_id)`,
			int64(guildID), int64(id)); err != nil {
			return err
		}
		return redactEvents(ctx, q, guildID, id)
	})
}

// redactEvents rewrites the create and edit events of a message.
func redactEvents(ctx context.Context, q Querier, guildID, id snowflake.ID) error {
	rows, err := q.QueryContext(ctx, `SELECT event_id, body FROM events WHERE event_id =
		(SELECT event_id FROM messages WHERE id = ? AND guild_id = ?) AND redacted = FALSE
		UNION ALL SELECT event_id, body FROM events WHERE guild_id = ? AND target_id = ?
		AND type = 'message.edit' AND redacted = FALSE`, int64(id), int64(guildID), int64(guildID), int64(id))
	if err != nil {
		return err
	}
	type pair struct {
		id   string
		body []byte
	}
	var todo []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.id, &p.body); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range todo {
		ev, err := event.Parse(p.body)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE events SET body = ?, redacted = TRUE WHERE event_id = ?`,
			event.Marshal(event.Redact(ev)), p.id); err != nil {
			return err
		}
	}
	return nil
}

// audit records a state event in the guild's audit log.
func (t *txn) audit(ev *event.Event, op *guild.Op) {
	var c struct {
		UserID     snowflake.ID `json:"user_id"`
		ID         snowflake.ID `json:"id"`
		ChannelID  snowflake.ID `json:"channel_id"`
		NewOwnerID snowflake.ID `json:"new_owner_id"`
		Code       string       `json:"code"`
		Reason     string       `json:"reason"`
	}
	json.Unmarshal(ev.Content, &c)
	target := c.Code
	for _, id := range []snowflake.ID{c.UserID, c.NewOwnerID, c.ID, c.ChannelID} {
		if target == "" && id != 0 {
			target = id.String()
		}
	}
	t.ops = append(t.ops, func(ctx context.Context, q Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO audit_log (guild_id, event_id, user_id, action, target_id, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, int64(ev.GuildID), ev.ID(), int64(ev.Sender), ev.Type, target, c.Reason, ev.OriginTS)
		return err
	})
}

// settle folds the state events that forked into the current state; the
// changes, and the state after them, are reported with the last of them.
func (t *txn) settle() {
	if len(t.deferred) == 0 {
		return
	}
	changes, applied := t.r.graph.Settle()
	t.dirty(changes)
	s := t.r.graph.State()
	others := s.Snapshot(nil, nil)
	for _, d := range t.deferred {
		d.acc.Applied = applied[d.n]
		d.acc.After = others
	}
	last := t.deferred[len(t.deferred)-1].acc
	last.Changes, last.After = changes, s.Snapshot(changes, nil)
	t.deferred = nil
}

// finish captures the writes that depend on the room's state after the
// batch: the forward extremities and the projection of every state object
// the batch touched, and those objects for the readers' state.
func (t *txn) finish() error {
	t.settle()
	guildID := int64(t.r.id)
	t.ops = append(t.ops, func(ctx context.Context, q Querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM guild_extremities WHERE guild_id = ?`, guildID)
		return err
	})
	for id := range t.r.extremities {
		t.ops = append(t.ops, func(ctx context.Context, q Querier) error {
			_, err := q.ExecContext(ctx, `INSERT INTO guild_extremities (guild_id, event_id) VALUES (?, ?)`, guildID, id)
			return err
		})
	}
	s := t.r.graph.State()
	keys := make(guild.Changes, 0, len(t.keys))
	for k := range t.keys {
		keys = append(keys, k)
		var seq any // the room's newest event, unless replayed from the log
		if v, ok := t.firstSeq[k]; ok {
			seq = v
		}
		query, args, err := project(s, k, seq)
		if err != nil {
			return err
		}
		t.ops = append(t.ops, func(ctx context.Context, q Querier) error {
			if _, err := q.ExecContext(ctx, query, args...); err != nil {
				return fmt.Errorf("room: project %s %s: %w", k.Kind, k.ID, err)
			}
			return nil
		})
	}
	t.delta = s.Delta(keys)
	return nil
}

// commit runs the batch's writes: its events and new messages first, then
// what changes them, in the order the events were staged.
func (t *txn) commit(q Querier) error {
	ctx := context.Background()
	if err := t.writeEvents(ctx, q); err != nil {
		return err
	}
	if err := t.writeStubs(ctx, q); err != nil {
		return err
	}
	if err := writeMessages(ctx, q, t.messages); err != nil {
		return err
	}
	for _, op := range t.ops {
		if err := op(ctx, q); err != nil {
			return err
		}
	}
	return t.checkEdits(ctx, q)
}
