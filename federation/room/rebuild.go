package room

import (
	"context"
	"fmt"

	"concord/federation/event"
	"concord/federation/snowflake"
)

// projections lists every table accept derives from a guild's events, with
// the condition that selects one guild's rows. The log itself (events) is
// not among them.
var projections = []string{
	`DELETE FROM reactions WHERE guild_id = ?`,
	`DELETE FROM reaction_clears WHERE guild_id = ?`,
	`DELETE FROM messages WHERE guild_id = ?`,
	`DELETE FROM guilds WHERE id = ?`,
	`DELETE FROM roles WHERE guild_id = ?`,
	`DELETE FROM channels WHERE guild_id = ?`,
	`DELETE FROM guild_members WHERE guild_id = ?`,
	`DELETE FROM bans WHERE guild_id = ?`,
	`DELETE FROM invites WHERE guild_id = ?`,
	`DELETE FROM emojis WHERE guild_id = ?`,
	`DELETE FROM webhooks WHERE guild_id = ?`,
	`DELETE FROM audit_log WHERE guild_id = ?`,
	`DELETE FROM guild_extremities WHERE guild_id = ?`,
}

// rebuildPage is how many logged events Rebuild stages at a time.
const rebuildPage = maxBatch

// Rebuild throws away a guild's projections and makes them anew from its
// event log, replayed in log order (Pos) through accept: the
// projections are a function of the log. It is one transaction that never
// writes the log, so a crash at any moment leaves the old projections or
// the new ones, and the whole log. The guild's room is unloaded meanwhile,
// and what is sent to it waits until the rebuild ends. On SQLite the
// transaction holds the node's one writer for as long as it runs.
func (c *Core) Rebuild(ctx context.Context, guildID snowflake.ID) error {
	release, err := c.hold(ctx, guildID)
	if err != nil {
		return err
	}
	defer release()
	err = c.store.Write(ctx, func(q Querier) error {
		for _, stmt := range projections {
			if _, err := q.ExecContext(ctx, stmt, int64(guildID)); err != nil {
				return fmt.Errorf("clear: %w", err)
			}
		}
		// Reads go through the transaction too, so that each page sees the
		// projections the pages before it wrote.
		r := newRoom(c, guildID, q)
		for after := (Pos{}); ; {
			poss, evs, err := logPage(ctx, q, guildID, after)
			if err != nil || len(evs) == 0 {
				return err
			}
			tx := newLoggedTxn(r)
			for i, ev := range evs {
				tx.seq = poss[i].Seq
				req := &request{ctx: ctx, remote: ev, fromLog: true}
				if _, err := r.stage(tx, req); err != nil {
					return fmt.Errorf("event %s: %w", ev.ID(), err)
				}
			}
			if err := tx.finish(); err != nil {
				return err
			}
			if err := tx.commit(q); err != nil {
				return err
			}
			after = poss[len(poss)-1]
		}
	})
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", guildID, err)
	}
	c.channels.Add(1)
	return nil
}

// logPage reads the events of a guild logged after a position, a page at
// a time, in log order.
func logPage(ctx context.Context, q Querier, guildID snowflake.ID, after Pos) ([]Pos, []*event.Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, depth, body FROM events WHERE guild_id = ?
		AND (depth > ? OR depth = ? AND seq > ?) ORDER BY depth, seq LIMIT ?`,
		int64(guildID), after.Depth, after.Depth, after.Seq, rebuildPage)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var poss []Pos
	var evs []*event.Event
	for rows.Next() {
		var pos Pos
		var body []byte
		if err := rows.Scan(&pos.Seq, &pos.Depth, &body); err != nil {
			return nil, nil, err
		}
		ev, err := event.Parse(body)
		if err != nil {
			return nil, nil, fmt.Errorf("stored event %d: %w", pos.Seq, err)
		}
		poss, evs = append(poss, pos), append(evs, ev)
	}
	return poss, evs, rows.Err()
}
