package clientapi

import (
	"context"
	"fmt"
	"testing"

	"concord/clientapi/accounts"
	"concord/clientapi/objects"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// Relationship types, Discord's numbering.
const (
	relFriend   = 1
	relBlocked  = 2
	relIncoming = 3
	relOutgoing = 4
)

func TestRelationships(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		a, b, c := h.register("olga"), h.register("pete"), h.register("quinn")
		path := func(id snowflake.ID) string { return fmt.Sprintf("/users/@me/relationships/%d", id) }
		rels := func(tok string) map[snowflake.ID]int {
			var list []accounts.Relationship
			st, body := h.do("GET", "/users/@me/relationships", tok, nil)
			h.want(st, 200, body, &list)
			out := map[snowflake.ID]int{}
			for _, r := range list {
				out[r.ID] = r.Type
			}
			return out
		}

		st, body := h.do("POST", "/users/@me/relationships", a.Token, map[string]any{"username": "pete"})
		h.want(st, 204, body, nil)
		if got := rels(a.Token)[b.UserID]; got != relOutgoing {
			t.Fatalf("a sees %d", got)
		}
		if got := rels(b.Token)[a.UserID]; got != relIncoming {
			t.Fatalf("b sees %d", got)
		}
		st, body = h.do("PUT", path(a.UserID), b.Token, nil)
		h.want(st, 204, body, nil)
		if rels(a.Token)[b.UserID] != relFriend || rels(b.Token)[a.UserID] != relFriend {
			t.Fatal("accept did not make friends")
		}
		if ev := h.events.take(); len(ev) != 4 || ev[3] != (event{a.UserID, "RELATIONSHIP_ADD"}) {
			t.Fatalf("events %+v", ev)
		}

		// c blocks a: a cannot friend c, and Blocked says so both ways.
		st, body = h.do("PUT", path(a.UserID), c.Token, map[string]any{"type": 2})
		h.want(st, 204, body, nil)
		st, body = h.do("PUT", path(c.UserID), a.Token, map[string]any{})
		wantError(t, st, body, 400, 80000)
		for _, pair := range [][2]snowflake.ID{{a.UserID, c.UserID}, {c.UserID, a.UserID}} {
			if blocked, err := accounts.Blocked(context.Background(), db.Reader(), pair[0], pair[1]); err != nil || !blocked {
				t.Fatalf("Blocked%v = %v, %v", pair, blocked, err)
			}
		}
		// Blocking a friend ends the friendship on both sides.
		st, body = h.do("PUT", path(a.UserID), b.Token, map[string]any{"type": 2})
		h.want(st, 204, body, nil)
		if _, ok := rels(a.Token)[b.UserID]; ok {
			t.Fatal("a still related to b after b blocked a")
		}
		st, body = h.do("DELETE", path(a.UserID), b.Token, nil)
		h.want(st, 204, body, nil)
		if len(rels(b.Token)) != 0 {
			t.Fatal("unblock left a row")
		}

		// friend_source_flags: b accepts requests from mutual friends only.
		st, body = h.do("PATCH", "/users/@me/settings", b.Token, map[string]any{"friend_source_flags": map[string]any{"all": false, "mutual_friends": true}})
		h.want(st, 200, body, nil)
		st, body = h.do("PUT", path(b.UserID), a.Token, nil)
		wantError(t, st, body, 400, 80000)

		refusals := []struct {
			name, method, path string
			body               any
			status, code       int
		}{
			{"self", "PUT", path(a.UserID), nil, 400, 50035},
			{"unknown user", "PUT", path(999999), nil, 404, 10013},
			{"unknown username", "POST", "/users/@me/relationships", map[string]any{"username": "zed"}, 400, 80004},
			{"bad type", "PUT", path(b.UserID), map[string]any{"type": 3}, 400, 50035},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				st, body := h.do(tt.method, tt.path, a.Token, tt.body)
				wantError(t, st, body, tt.status, tt.code)
			})
		}
	})
}

func TestUserSearch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		me := h.register("sam")
		friend, member, blocker, stranger := h.register("sara"), h.register("sally"), h.register("saul"), h.register("sage")
		st, body := h.do("PUT", fmt.Sprintf("/users/@me/relationships/%d", friend.UserID), me.Token, nil)
		h.want(st, 204, body, nil)
		st, body = h.do("PUT", fmt.Sprintf("/users/@me/relationships/%d", me.UserID), blocker.Token, map[string]any{"type": 2})
		h.want(st, 204, body, nil)
		if err := db.Write(ctx, func(q storage.Querier) error {
			for _, id := range []snowflake.ID{me.UserID, member.UserID, blocker.UserID} {
				if _, err := q.ExecContext(ctx, `INSERT INTO guild_members
					(guild_id, user_id, nick, roles, joined_at, mute, deaf, bot, timed_out_until, home)
					VALUES (7, ?, '', '[]', 0, FALSE, FALSE, FALSE, 0, '')`, int64(id)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var found []objects.User
		st, body = h.do("GET", "/users/search?q=sa&limit=10", me.Token, nil)
		h.want(st, 200, body, &found)
		got := map[snowflake.ID]bool{}
		for _, u := range found {
			got[u.ID] = true
		}
		if len(found) != 2 || !got[friend.UserID] || !got[member.UserID] || got[stranger.UserID] || got[blocker.UserID] {
			t.Fatalf("search found %s", body)
		}
		st, body = h.do("GET", "/users/search?q=s_%25", me.Token, nil)
		h.want(st, 200, body, &found)
		if len(found) != 0 {
			t.Fatalf("wildcards not escaped: %s", body)
		}
		st, body = h.do("GET", "/users/search?q=", me.Token, nil)
		wantFormError(t, st, body, "q")
	})
}
