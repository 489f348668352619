package accounts

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/storage"
)

// searchUsers is GET /users/search?q=&limit= (a Concord extension): users
// whose username or global_name starts with q, among the caller's
// relationships other than blocks and the members of guilds the caller is
// in. Anyone who blocks the caller, or whom the caller blocks, never shows.
func (a *API) searchUsers(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
	if q == "" || len(q) > 32 {
		return httperr.Field("q", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
	}
	limit := 25
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return httperr.Field("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 100.")
		}
		limit = n
	}
	prefix := storage.LikePrefix(q)
	me := int64(c.UserID)
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT id, username, global_name, avatar, bot, flags FROM users u
		WHERE u.id IN (
			SELECT peer_id FROM relationships WHERE user_id = ? AND type <> 2
			UNION
			SELECT m2.user_id FROM guild_members m1 JOIN guild_members m2 ON m1.guild_id = m2.guild_id WHERE m1.user_id = ?
		) AND u.id <> ?
		AND NOT EXISTS (SELECT 1 FROM relationships b WHERE b.type = 2 AND
			((b.user_id = ? AND b.peer_id = u.id) OR (b.user_id = u.id AND b.peer_id = ?)))
		AND (lower(u.username) LIKE ? ESCAPE '\' OR lower(u.global_name) LIKE ? ESCAPE '\')
		ORDER BY lower(u.username) LIMIT ?`, me, me, me, me, me, prefix, prefix, limit)
	if err != nil {
		return fmt.Errorf("search users: %w", err)
	}
	defer rows.Close()
	out := []objects.User{}
	for rows.Next() {
		var u objects.User
		if err := rows.Scan(&u.ID, &u.Username, &u.GlobalName, &u.Avatar, &u.Bot, &u.PublicFlags); err != nil {
			return fmt.Errorf("search users: %w", err)
		}
		u.Discriminator = "0"
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search users: %w", err)
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}
