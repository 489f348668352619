package room

import (
	"context"
	"fmt"

	"concord/federation/event"
	"concord/federation/snowflake"
)

// projections lists every table accept derives from a guild's events, with
// the condition that selects one guild's rows.
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
	`DELETE FROM audit_log WHERE guild_id = ?`,
	`DELETE FROM guild_extremities WHERE guild_id = ?`,
	`DELETE FROM events WHERE guild_id = ?`,
}

// Rebuild throws away a guild's projections and replays its event log, in
// the order it was accepted, through accept: the projections are a function
// of the log. Run it while the guild is idle; events sent meanwhile fail.
func (c *Core) Rebuild(ctx context.Context, guildID snowflake.ID) error {
	c.mu.Lock()
	r := c.rooms[guildID]
	c.mu.Unlock()
	if r != nil {
		c.forget(r)
		<-r.stopped
	}
	var bodies [][]byte
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT body FROM events WHERE guild_id = ? ORDER BY seq`, int64(guildID))
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", guildID, err)
	}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return err
		}
		bodies = append(bodies, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := c.store.Write(ctx, func(q Querier) error {
		for _, stmt := range projections {
			if _, err := q.ExecContext(ctx, stmt, int64(guildID)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("rebuild %s: clear: %w", guildID, err)
	}
	for i, b := range bodies {
		ev, err := event.Parse(b)
		if err != nil {
			return fmt.Errorf("rebuild %s: stored event %d: %w", guildID, i, err)
		}
		if err := c.deliver(ctx, guildID, true, &request{remote: ev, fromLog: true}).err; err != nil {
			return fmt.Errorf("rebuild %s: event %s: %w", guildID, ev.ID(), err)
		}
	}
	return nil
}
