package guilds

import (
	"errors"
	"fmt"
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// userGuild is the partial guild of GET /users/@me/guilds.
type userGuild struct {
	ID                       snowflake.ID `json:"id"`
	Name                     string       `json:"name"`
	Icon                     *string      `json:"icon"`
	Banner                   *string      `json:"banner"`
	Owner                    bool         `json:"owner"`
	Permissions              perm.Bits    `json:"permissions"`
	Features                 []string     `json:"features"`
	ApproximateMemberCount   *int         `json:"approximate_member_count,omitempty"`
	ApproximatePresenceCount *int         `json:"approximate_presence_count,omitempty"`
}

// listMyGuilds is GET /users/@me/guilds?before=&after=&limit=&with_counts=,
// in ID order. Membership comes from the projection; what the caller sees
// of each guild from its state.
func (a *API) listMyGuilds(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	limit, err := params.Int(r, "limit", 200, 1, 200)
	if err != nil {
		return err
	}
	before, err := params.Snowflake(r, "before")
	if err != nil {
		return err
	}
	after, err := params.Snowflake(r, "after")
	if err != nil {
		return err
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT m.guild_id FROM guild_members m JOIN guilds g ON g.id = m.guild_id
		WHERE m.user_id = ? AND g.kind = ? AND NOT g.deleted AND m.guild_id > ? AND m.guild_id < ? ORDER BY m.guild_id LIMIT ?`,
		int64(c.UserID), guild.KindGuild, int64(after), int64(before), limit)
	if err != nil {
		return fmt.Errorf("list guilds: %w", err)
	}
	var ids []snowflake.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("list guilds: %w", err)
		}
		ids = append(ids, snowflake.ID(id))
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("list guilds: %w", err)
	}
	counts := params.Bool(r, "with_counts")
	out := []userGuild{}
	for _, id := range ids {
		err := a.inGuild(r.Context(), id, c.UserID, func(s *guild.State, _ *guild.Member) error {
			g := userGuild{ID: s.ID, Name: s.Name, Icon: objects.NonEmpty(s.Icon), Owner: s.OwnerID() == c.UserID,
				Permissions: s.Permissions(c.UserID, 0, a.nowMs()), Features: []string{}}
			if counts {
				n, online := len(s.Members), 0
				g.ApproximateMemberCount, g.ApproximatePresenceCount = &n, &online
			}
			out = append(out, g)
			return nil
		})
		// The projection may trail the state by a commit; skip such a guild.
		if err != nil && !errors.Is(err, httperr.UnknownGuild) {
			return err
		}
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}
