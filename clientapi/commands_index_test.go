package clientapi

import (
	"fmt"
	"testing"

	"concord/clientapi/accounts"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestCommandIndex: a member reads the commands of the bots in their
// guild, global and the guild's own, and nothing of a bot elsewhere, by
// the guild or by a channel of it; in a DM with the bot, its global
// commands, which work there; a stranger reads none.
func TestCommandIndex(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db)
	f := newBotGuild(t, h)
	cmd := func(token, path, name string) (id string) {
		t.Helper()
		var c struct{ ID string }
		st, b := h.do("POST", path, token, map[string]any{"name": name, "description": "does " + name})
		h.want(st, 201, b, &c)
		return c.ID
	}
	global := cmd(f.botToken, fmt.Sprintf("/applications/%d/commands", f.app.ID), "global")
	cmd(f.botToken, fmt.Sprintf("/applications/%d/guilds/%s/commands", f.app.ID, f.guild), "local")
	var other accounts.Application
	st, b := h.do("POST", "/applications", f.owner.Token, map[string]any{"name": "Elsewhere"})
	h.want(st, 201, b, &other)
	cmd(f.owner.Token, fmt.Sprintf("/applications/%d/commands", other.ID), "absent")

	type index struct {
		Applications []struct{ ID, Name string }
		Commands     []struct {
			Name          string
			ApplicationID string `json:"application_id"`
		} `json:"application_commands"`
	}
	for _, path := range []string{"/guilds/" + f.guild, "/channels/" + f.channel} {
		var got index
		st, b = h.do("GET", path+"/application-command-index", f.owner.Token, nil)
		h.want(st, 200, b, &got)
		if len(got.Applications) != 1 || got.Applications[0].Name != "Helper" || len(got.Commands) != 2 ||
			got.Commands[0].Name != "global" || got.Commands[1].Name != "local" || got.Commands[0].ApplicationID != fmt.Sprint(f.app.ID) {
			t.Fatalf("%s: index %s", path, b)
		}
	}
	var dm struct{ ID string }
	st, b = h.do("POST", "/users/@me/channels", f.owner.Token, map[string]any{"recipient_id": fmt.Sprint(f.app.ID)})
	h.want(st, 200, b, &dm)
	var got index
	st, b = h.do("GET", "/channels/"+dm.ID+"/application-command-index", f.owner.Token, nil)
	h.want(st, 200, b, &got)
	if len(got.Commands) != 1 || got.Commands[0].Name != "global" {
		t.Fatalf("DM index %s", b)
	}
	// ... which the person may use there.
	st, b = h.do("POST", "/interactions", f.owner.Token, map[string]any{"type": 2, "application_id": fmt.Sprint(f.app.ID), "channel_id": dm.ID,
		"data": map[string]any{"id": global, "name": "global", "type": 1}})
	h.want(st, 204, b, nil)
	stranger := h.register("stranger")
	st, b = h.do("GET", "/guilds/"+f.guild+"/application-command-index", stranger.Token, nil)
	h.want(st, 403, b, nil)
	st, b = h.do("GET", "/channels/"+f.channel+"/application-command-index", stranger.Token, nil)
	h.want(st, 404, b, nil)
}
