package clientapi

import (
	"fmt"
	"slices"
	"testing"

	"concord/clientapi/auth"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestLeaveGroupDM: DELETE /channels/{id} takes a member out of a group
// DM, which goes on without them, and a member adds a friend back; its
// owner may leave too, and the group passes to another member; closing a
// one-to-one DM changes nothing.
func TestLeaveGroupDM(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		ann, ben, cat := h.register("annl"), h.register("benl"), h.register("catl")
		for _, friend := range []auth.Pair{ben, cat} {
			st, b := h.do("PUT", fmt.Sprintf("/users/@me/relationships/%d", friend.UserID), ann.Token, map[string]any{})
			h.want(st, 204, b, nil)
			st, b = h.do("PUT", fmt.Sprintf("/users/@me/relationships/%d", ann.UserID), friend.Token, map[string]any{})
			h.want(st, 204, b, nil)
		}
		type channel struct {
			ID         string
			Type       int
			OwnerID    string `json:"owner_id"`
			Recipients []struct{ ID string }
		}
		var group channel
		st, b := h.do("POST", "/users/@me/channels", ann.Token, map[string]any{"recipients": []string{ben.UserID.String(), cat.UserID.String()}})
		h.want(st, 200, b, &group)
		if group.Type != 3 || group.OwnerID != ann.UserID.String() {
			t.Fatalf("group DM %s", b)
		}
		dmsOf := func(p auth.Pair) []string {
			var list []channel
			st, b := h.do("GET", "/users/@me/channels", p.Token, nil)
			h.want(st, 200, b, &list)
			var ids []string
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			return ids
		}

		// Ben leaves: the answer is the group as it was; he no longer
		// sees it or writes in it; the others go on without him.
		var was channel
		st, b = h.do("DELETE", "/channels/"+group.ID, ben.Token, nil)
		h.want(st, 200, b, &was)
		if was.ID != group.ID {
			t.Fatalf("leaving answered %s", b)
		}
		if slices.Contains(dmsOf(ben), group.ID) {
			t.Error("ben still lists the group he left")
		}
		st, b = h.do("POST", "/channels/"+group.ID+"/messages", ben.Token, map[string]any{"content": "still here?"})
		if st != 404 {
			t.Errorf("ben writes in the group he left: %d %s", st, b)
		}
		var now channel
		st, b = h.do("GET", "/channels/"+group.ID, cat.Token, nil)
		h.want(st, 200, b, &now)
		if len(now.Recipients) != 1 || now.Recipients[0].ID != ann.UserID.String() {
			t.Errorf("cat sees the group as %s", b)
		}
		st, b = h.do("POST", "/channels/"+group.ID+"/messages", cat.Token, map[string]any{"content": "just us"})
		h.want(st, 200, b, nil)

		// Ann adds Ben back, a friend; not a stranger, and not Ben twice.
		dan := h.register("danl")
		st, b = h.do("PUT", fmt.Sprintf("/channels/%s/recipients/%d", group.ID, ben.UserID), ann.Token, nil)
		h.want(st, 204, b, nil)
		if !slices.Contains(dmsOf(ben), group.ID) {
			t.Error("ben, added back, does not list the group")
		}
		st, b = h.do("PUT", fmt.Sprintf("/channels/%s/recipients/%d", group.ID, dan.UserID), ann.Token, nil)
		wantError(t, st, b, 403, 50007)
		st, b = h.do("PUT", fmt.Sprintf("/channels/%s/recipients/%d", group.ID, ben.UserID), ann.Token, nil)
		if st/100 == 2 {
			t.Errorf("adding a member twice: %d %s", st, b)
		}
		st, b = h.do("PUT", fmt.Sprintf("/channels/%s/recipients/%d", group.ID, cat.UserID), dan.Token, nil)
		h.want(st, 404, b, nil)
		st, b = h.do("DELETE", "/channels/"+group.ID, ben.Token, nil)
		h.want(st, 200, b, nil)

		// Ann, the owner, leaves: cat holds the group.
		st, b = h.do("DELETE", "/channels/"+group.ID, ann.Token, nil)
		h.want(st, 200, b, nil)
		st, b = h.do("GET", "/channels/"+group.ID, cat.Token, nil)
		h.want(st, 200, b, &now)
		if now.OwnerID != cat.UserID.String() || len(now.Recipients) != 0 {
			t.Errorf("after the owner left, cat sees %s", b)
		}

		// Closing a DM keeps it.
		var dm channel
		st, b = h.do("POST", "/users/@me/channels", ben.Token, map[string]any{"recipient_id": cat.UserID.String()})
		h.want(st, 200, b, &dm)
		st, b = h.do("DELETE", "/channels/"+dm.ID, ben.Token, nil)
		h.want(st, 200, b, nil)
		if !slices.Contains(dmsOf(cat), dm.ID) || !slices.Contains(dmsOf(ben), dm.ID) {
			t.Error("closing a DM ended it")
		}
	})
}
