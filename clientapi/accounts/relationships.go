package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/snowflake"
	"concord/storage"
)

// Relationship types, Discord's numbering. Each row is one side's view:
// a request is (sender → outgoing, receiver → incoming).
const (
	relNone     = 0
	relFriend   = 1
	relBlocked  = 2
	relIncoming = 3
	relOutgoing = 4
)

// Relationship is Discord's relationship object.
type Relationship struct {
	ID       snowflake.ID `json:"id"`
	Type     int          `json:"type"`
	User     objects.User `json:"user"`
	Nickname *string      `json:"nickname"`
}

// relEvent is a gateway event a relationship change owes one user, sent
// after the change commits.
type relEvent struct {
	to      snowflake.ID
	typ     string // RELATIONSHIP_ADD or RELATIONSHIP_REMOVE
	peer    snowflake.ID
	relType int
}

// Blocked reports whether either of a and b blocks the other, a user of
// another node too (blocked_by). DM creation
// calls it inside its own transaction, hence the Querier.
func Blocked(ctx context.Context, q storage.Querier, a, b snowflake.ID) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM relationships
		WHERE type = ? AND ((user_id = ? AND peer_id = ?) OR (user_id = ? AND peer_id = ?)))
		+ (SELECT COUNT(*) FROM blocked_by WHERE (user_id = ? AND by_id = ?) OR (user_id = ? AND by_id = ?))`,
		relBlocked, int64(a), int64(b), int64(b), int64(a), int64(a), int64(b), int64(b), int64(a)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check block %s/%s: %w", a, b, err)
	}
	return n > 0, nil
}

// Friends reports whether a and b are friends.
func Friends(ctx context.Context, q storage.Querier, a, b snowflake.ID) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM relationships WHERE user_id = ? AND peer_id = ? AND type = ?`,
		int64(a), int64(b), relFriend).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check friendship %s/%s: %w", a, b, err)
	}
	return n > 0, nil
}

func relType(ctx context.Context, q storage.Querier, user, peer snowflake.ID) (int, error) {
	var t int
	err := q.QueryRowContext(ctx, `SELECT type FROM relationships WHERE user_id = ? AND peer_id = ?`, int64(user), int64(peer)).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return relNone, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load relationship: %w", err)
	}
	return t, nil
}

func (a *API) setRel(ctx context.Context, q storage.Querier, user, peer snowflake.ID, t int) error {
	_, err := q.ExecContext(ctx, `INSERT INTO relationships (user_id, peer_id, type, since) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, peer_id) DO UPDATE SET type = excluded.type, since = excluded.since`,
		int64(user), int64(peer), t, a.cfg.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("save relationship: %w", err)
	}
	return nil
}

func delRel(ctx context.Context, q storage.Querier, user, peer snowflake.ID) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM relationships WHERE user_id = ? AND peer_id = ?`, int64(user), int64(peer)); err != nil {
		return fmt.Errorf("delete relationship: %w", err)
	}
	return nil
}

func (a *API) listRelationships(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT type, nickname, peer_id FROM relationships
		WHERE user_id = ? ORDER BY since`, int64(c.UserID))
	if err != nil {
		return fmt.Errorf("list relationships: %w", err)
	}
	defer rows.Close()
	out := []Relationship{}
	var ids []snowflake.ID
	for rows.Next() {
		var rel Relationship
		if err := rows.Scan(&rel.Type, &rel.Nickname, &rel.ID); err != nil {
			return fmt.Errorf("list relationships: %w", err)
		}
		out, ids = append(out, rel), append(ids, rel.ID)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list relationships: %w", err)
	}
	// Remote users (blocked ones) are shown by their kept profiles.
	users, err := objects.LoadUsers(r.Context(), a.db.Reader(), ids)
	if err != nil {
		return err
	}
	for i := range out {
		out[i].User = users[out[i].ID]
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// putRelationship is PUT /users/@me/relationships/{id} {type?}: no type or
// 1 sends a friend request or accepts an incoming one; 2 blocks.
func (a *API) putRelationship(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	peer, err := params.ID(r, "id", httperr.UnknownUser)
	if err != nil {
		return err
	}
	var body struct {
		Type *int `json:"type"`
	}
	if err := jsonio.DecodeOptional(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	t := relFriend
	if body.Type != nil {
		t = *body.Type
	}
	if t != relFriend && t != relBlocked {
		return httperr.Field("type", "BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
	}
	if t == relBlocked {
		return a.changeRelationships(w, r, func(q storage.Querier) ([]relEvent, error) {
			return a.block(r.Context(), q, c.UserID, peer)
		})
	}
	return a.sendFriendRequest(w, r, c.UserID, peer)
}

// sendFriendRequest sends me's friend request to peer or accepts theirs:
// in one transaction for a user of this node, through their home node
// for a user of another.
func (a *API) sendFriendRequest(w http.ResponseWriter, r *http.Request, me, peer snowflake.ID) error {
	home, err := remoteHome(r.Context(), a.db.Reader(), peer)
	if err != nil {
		return err
	}
	if home == "" {
		return a.changeRelationships(w, r, func(q storage.Querier) ([]relEvent, error) {
			return a.befriend(r.Context(), q, me, peer)
		})
	}
	events, err := a.befriendRemote(r.Context(), me, peer, home)
	if err != nil {
		return err
	}
	a.sendRelEvents(r.Context(), events)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// addRelationshipByName is POST /users/@me/relationships {username}: a
// user of this node by their username, or a user of another node by the
// name@node they are shown with.
func (a *API) addRelationshipByName(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	var body struct {
		Username string `json:"username"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	name := strings.TrimSpace(body.Username)
	var peer snowflake.ID
	err = a.db.Reader().QueryRowContext(r.Context(), `SELECT id FROM users WHERE lower(username) = lower(?)`, name).Scan(&peer)
	if errors.Is(err, sql.ErrNoRows) {
		peer, err = a.findRemoteUser(r.Context(), name)
	}
	if err != nil {
		return err
	}
	return a.sendFriendRequest(w, r, c.UserID, peer)
}

// maxHandle bounds a name@node looked up: both parts are at most 100
// bytes long (spec/federation.md, "Remote users").
const maxHandle = 201

// findRemoteUser finds the remote user this node shows as handle
// (name@node) among the profiles it keeps.
func (a *API) findRemoteUser(ctx context.Context, handle string) (snowflake.ID, error) {
	if !strings.Contains(handle, "@") || len(handle) > maxHandle {
		return 0, httperr.NoSuchDiscordTag
	}
	found, err := objects.FindRemoteUsers(ctx, a.db.Reader(), handle)
	if err != nil {
		return 0, err
	}
	switch len(found) {
	case 0:
		return 0, httperr.NoSuchDiscordTag
	case 1:
		return found[0], nil
	}
	// Two nodes with one name, each with a user of that name: only the
	// ID tells them apart.
	return 0, httperr.Field("username", "USERNAME_AMBIGUOUS", "Several users on different nodes go by this name; add them by ID.")
}

func (a *API) deleteRelationship(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	peer, err := params.ID(r, "id", httperr.UnknownUser)
	if err != nil {
		return err
	}
	return a.changeRelationships(w, r, func(q storage.Querier) ([]relEvent, error) {
		return a.unfriend(r.Context(), q, c.UserID, peer)
	})
}

// changeRelationships runs change in one transaction, then sends the
// events it produced and answers 204.
func (a *API) changeRelationships(w http.ResponseWriter, r *http.Request, change func(q storage.Querier) ([]relEvent, error)) error {
	var events []relEvent
	err := a.db.Write(r.Context(), func(q storage.Querier) error {
		var err error
		events, err = change(q)
		return err
	})
	if err != nil {
		return err
	}
	if a.remote != nil {
		a.kickOutbox() // a removal the change queued for another node
	}
	a.sendRelEvents(r.Context(), events)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) sendRelEvents(ctx context.Context, events []relEvent) {
	for _, ev := range events {
		a.sendRelEvent(ctx, ev)
	}
}

func (a *API) sendRelEvent(ctx context.Context, ev relEvent) {
	if a.events == nil {
		return
	}
	if ev.typ == "RELATIONSHIP_REMOVE" {
		a.events.UserEvent(ev.to, ev.typ, map[string]any{"id": ev.peer, "type": ev.relType})
		return
	}
	users, err := objects.LoadUsers(ctx, a.db.Reader(), []snowflake.ID{ev.peer})
	if err != nil {
		a.log.Warn("relationship event", "peer", ev.peer, "err", err)
		return
	}
	a.events.UserEvent(ev.to, ev.typ, Relationship{ID: ev.peer, Type: ev.relType, User: users[ev.peer]})
}
