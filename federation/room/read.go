package room

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"concord/federation/snowflake"
)

// What other nodes read of a room, for federation: everything here is read
// from storage, as committed.

// Rooms lists the guilds and DM rooms this node holds.
func (c *Core) Rooms(ctx context.Context) ([]snowflake.ID, error) {
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT DISTINCT guild_id FROM guild_extremities`)
	if err != nil {
		return nil, fmt.Errorf("room: list rooms: %w", err)
	}
	return scanIDs(rows)
}

func scanIDs(rows *sql.Rows) ([]snowflake.ID, error) {
	defer rows.Close()
	var out []snowflake.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, snowflake.ID(id))
	}
	return out, rows.Err()
}

// Extremities returns a room's forward extremities as committed: the
// events no other event of the room names as a prev event.
func (c *Core) Extremities(ctx context.Context, guildID snowflake.ID) ([]string, error) {
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT event_id FROM guild_extremities WHERE guild_id = ? ORDER BY event_id`,
		int64(guildID))
	if err != nil {
		return nil, fmt.Errorf("room: extremities of %s: %w", guildID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// MaxEventsRead bounds how many event IDs one call of Events may name.
const MaxEventsRead = 500

// Events returns the stored wire forms of those of ids the room holds,
// keyed by event ID; at most MaxEventsRead IDs.
func (c *Core) Events(ctx context.Context, guildID snowflake.ID, ids []string) (map[string][]byte, error) {
	if len(ids) > MaxEventsRead {
		return nil, fmt.Errorf("room: %d events asked for, at most %d", len(ids), MaxEventsRead)
	}
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, int64(guildID))
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT event_id, body FROM events WHERE guild_id = ? AND event_id IN (?`+
		strings.Repeat(`, ?`, len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("room: events of %s: %w", guildID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			return nil, err
		}
		out[id] = body
	}
	return out, rows.Err()
}

// InviteRooms lists the rooms holding an invite with code, the one whose
// invite this node stored first first.
func (c *Core) InviteRooms(ctx context.Context, code string) ([]snowflake.ID, error) {
	rows, err := c.store.Reader().QueryContext(ctx, `SELECT guild_id FROM invites WHERE code = ? ORDER BY first_seq, guild_id`, code)
	if err != nil {
		return nil, fmt.Errorf("room: invite %q: %w", code, err)
	}
	return scanIDs(rows)
}
