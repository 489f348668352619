package clientapi

import (
	"fmt"
	"testing"

	"concord/clientapi/accounts"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestCommandIndex: a member reads the commands of the bots in their
// guild, global and the guild's own, and nothing of a bot elsewhere; a
// stranger reads none.
func TestCommandIndex(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db)
	f := newBotGuild(t, h)
	cmd := func(token, path, name string) {
		t.Helper()
		st, b := h.do("POST", path, token, map[string]any{"name": name, "description": "does " + name})
		h.want(st, 201, b, nil)
	}
	cmd(f.botToken, fmt.Sprintf("/applications/%d/commands", f.app.ID), "global")
	cmd(f.botToken, fmt.Sprintf("/applications/%d/guilds/%s/commands", f.app.ID, f.guild), "local")
	var other accounts.Application
	st, b := h.do("POST", "/applications", f.owner.Token, map[string]any{"name": "Elsewhere"})
	h.want(st, 201, b, &other)
	cmd(f.owner.Token, fmt.Sprintf("/applications/%d/commands", other.ID), "absent")

	var got struct {
		Applications []struct{ ID, Name string }
		Commands     []struct {
			Name          string
			ApplicationID string `json:"application_id"`
		} `json:"application_commands"`
	}
	st, b = h.do("GET", "/guilds/"+f.guild+"/application-command-index", f.owner.Token, nil)
	h.want(st, 200, b, &got)
	if len(got.Applications) != 1 || got.Applications[0].Name != "Helper" || len(got.Commands) != 2 ||
		got.Commands[0].Name != "global" || got.Commands[1].Name != "local" || got.Commands[0].ApplicationID != fmt.Sprint(f.app.ID) {
		t.Fatalf("index %s", b)
	}
	stranger := h.register("stranger")
	st, b = h.do("GET", "/guilds/"+f.guild+"/application-command-index", stranger.Token, nil)
	h.want(st, 403, b, nil)
}
