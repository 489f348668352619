package clientapi

import (
	"fmt"
	"testing"

	"concord/clientapi/auth"
	"concord/storage"
	"concord/storage/storagetest"
)

// ownGuild makes a guild owned by p and returns its ID and first channel.
func (h *harness) ownGuild(p auth.Pair, name string) (guildID, channelID string) {
	h.t.Helper()
	var g struct{ ID string }
	st, b := h.do("POST", "/guilds", p.Token, map[string]any{"name": name})
	h.want(st, 201, b, &g)
	var chans []struct{ ID string }
	st, b = h.do("GET", "/guilds/"+g.ID+"/channels", p.Token, nil)
	h.want(st, 200, b, &chans)
	return g.ID, chans[0].ID
}

// GET /invites/{code} answers without a token, as Discord's does for
// invite cards and join pages; accepting one still needs a token.
func TestInvitePreviewWithoutToken(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		owner := h.register("uma")
		gid, ch := h.ownGuild(owner, "open house")
		var inv struct{ Code string }
		st, b := h.do("POST", "/channels/"+ch+"/invites", owner.Token, map[string]any{})
		h.want(st, 200, b, &inv)

		var preview struct {
			Code  string
			Guild struct{ ID, Name string }
		}
		st, b = h.do("GET", "/invites/"+inv.Code+"?with_counts=true", "", nil)
		h.want(st, 200, b, &preview)
		if preview.Code != inv.Code || preview.Guild.ID != gid || preview.Guild.Name != "open house" {
			t.Fatalf("preview %s", b)
		}
		st, b = h.do("GET", "/invites/nope", "", nil)
		wantError(t, st, b, 404, 10006)
		st, b = h.do("POST", "/invites/"+inv.Code, "", nil)
		wantUnauthorized(t, st, b)
		st, b = h.do("DELETE", "/invites/"+inv.Code, "", nil)
		wantUnauthorized(t, st, b)
	})
}

// A bot lists a guild's members only with the GUILD_MEMBERS intent's
// application flag, as on Discord; people are not limited.
func TestMemberListNeedsIntentForBots(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		f := newBotGuild(t, h)
		list := "/guilds/" + f.guild + "/members?limit=10"
		st, b := h.do("GET", list, f.botToken, nil)
		wantError(t, st, b, 403, 50001)
		st, b = h.do("GET", list, f.owner.Token, nil)
		h.want(st, 200, b, nil)
		st, b = h.do("PATCH", fmt.Sprintf("/applications/%d", f.app.ID), f.owner.Token, map[string]any{"flags": 1 << 15})
		h.want(st, 200, b, nil)
		st, b = h.do("GET", list, f.botToken, nil)
		h.want(st, 200, b, nil)
	})
}
