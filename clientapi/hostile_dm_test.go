package clientapi

import (
	"fmt"
	"net/url"
	"testing"

	"concord/clientapi/auth"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// A block made after a DM opened stops messages, reactions and typing in
// it, both ways, with 50007; a group DM takes only friends.
func TestBlocksHoldInOpenDMs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		a, b, c := h.register("rosa"), h.register("saul"), h.register("tina")
		var dm struct{ ID string }
		st, body := h.do("POST", "/users/@me/channels", a.Token, map[string]any{"recipient_id": b.UserID.String()})
		h.want(st, 200, body, &dm)
		// Each side reads the DM as a channel, a stranger does not.
		for _, who := range []auth.Pair{a, b} {
			var ch struct {
				ID, Type   any
				Recipients []struct{ ID string }
			}
			st, body = h.do("GET", "/channels/"+dm.ID, who.Token, nil)
			h.want(st, 200, body, &ch)
			if ch.ID != dm.ID || ch.Type != float64(1) || len(ch.Recipients) != 1 {
				t.Fatalf("GET /channels/{dm} = %s", body)
			}
		}
		st, body = h.do("GET", "/channels/"+dm.ID, c.Token, nil)
		h.want(st, 404, body, nil)
		var msg struct{ ID string }
		st, body = h.do("POST", "/channels/"+dm.ID+"/messages", b.Token, map[string]any{"content": "hi"})
		h.want(st, 200, body, &msg)

		st, body = h.do("PUT", fmt.Sprintf("/users/@me/relationships/%d", b.UserID), a.Token, map[string]any{"type": 2})
		h.want(st, 204, body, nil)
		react := "/channels/" + dm.ID + "/messages/" + msg.ID + "/reactions/" + url.PathEscape("👍") + "/@me"
		for _, who := range []auth.Pair{a, b} {
			for _, req := range []struct{ method, path string }{
				{"POST", "/channels/" + dm.ID + "/messages"},
				{"PUT", react},
				{"POST", "/channels/" + dm.ID + "/typing"},
			} {
				var in any
				if req.method == "POST" && req.path != "/channels/"+dm.ID+"/typing" {
					in = map[string]any{"content": "still here?"}
				}
				st, body := h.do(req.method, req.path, who.Token, in)
				wantError(t, st, body, 403, 50007)
			}
		}
		// Reading stays possible.
		st, body = h.do("GET", "/channels/"+dm.ID+"/messages", b.Token, nil)
		h.want(st, 200, body, nil)
		// Unblocked, the DM works again.
		st, body = h.do("DELETE", fmt.Sprintf("/users/@me/relationships/%d", b.UserID), a.Token, nil)
		h.want(st, 204, body, nil)
		st, body = h.do("POST", "/channels/"+dm.ID+"/messages", b.Token, map[string]any{"content": "friends again?"})
		h.want(st, 200, body, nil)

		// A group DM with a stranger is refused; with friends it opens.
		group := map[string]any{"recipients": []string{b.UserID.String(), c.UserID.String()}}
		st, body = h.do("POST", "/users/@me/channels", a.Token, group)
		wantError(t, st, body, 403, 50007)
		for _, p := range []auth.Pair{b, c} {
			st, body = h.do("POST", "/users/@me/relationships", a.Token, map[string]any{"username": map[snowflake.ID]string{b.UserID: "saul", c.UserID: "tina"}[p.UserID]})
			h.want(st, 204, body, nil)
			st, body = h.do("PUT", fmt.Sprintf("/users/@me/relationships/%d", a.UserID), p.Token, nil)
			h.want(st, 204, body, nil)
		}
		st, body = h.do("POST", "/users/@me/channels", a.Token, group)
		h.want(st, 200, body, nil)
	})
}
