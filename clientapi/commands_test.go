package clientapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"concord/clientapi/accounts"
	"concord/clientapi/auth"
	"concord/storage"
	"concord/storage/storagetest"
)

// botGuild is a guild with its owner, a channel, and an application whose
// bot was authorized into it.
type botGuild struct {
	owner    auth.Pair
	guild    string
	channel  string
	app      accounts.Application
	botToken string // "Bot …"
}

func newBotGuild(t testing.TB, h *harness) botGuild {
	t.Helper()
	p := h.register("owner")
	f := botGuild{owner: p}
	var g struct{ ID string }
	st, b := h.do("POST", "/guilds", p.Token, map[string]any{"name": "bots"})
	h.want(st, 201, b, &g)
	f.guild = g.ID
	var chans []struct{ ID string }
	st, b = h.do("GET", "/guilds/"+g.ID+"/channels", p.Token, nil)
	h.want(st, 200, b, &chans)
	f.channel = chans[0].ID
	st, b = h.do("POST", "/applications", p.Token, map[string]any{"name": "Helper"})
	h.want(st, 201, b, &f.app)
	var reset struct{ Token string }
	st, b = h.do("POST", fmt.Sprintf("/applications/%d/bot/reset", f.app.ID), p.Token, nil)
	h.want(st, 200, b, &reset)
	f.botToken = "Bot " + reset.Token
	st, b = h.do("POST", fmt.Sprintf("/oauth2/authorize?client_id=%d&scope=bot+applications.commands&permissions=3072", f.app.ID),
		p.Token, map[string]any{"guild_id": g.ID, "authorize": true})
	h.want(st, 200, b, nil)
	return f
}

// TestCommandsWithDiscordgo registers commands as a discordgo bot does:
// create, replace by name, bulk overwrite, edit, delete, in both scopes.
func TestCommandsWithDiscordgo(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		pointDiscordgo(t, h.srv.URL)
		f := newBotGuild(t, h)
		bot, _ := discordgo.New(f.botToken)
		app := fmt.Sprint(f.app.ID)
		check := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}

		min := 1.0
		ping, err := bot.ApplicationCommandCreate(app, "", &discordgo.ApplicationCommand{Name: "ping", Description: "Ping me",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "times", Description: "How often", Required: true, MinValue: &min, MaxValue: 5},
				{Type: discordgo.ApplicationCommandOptionString, Name: "word", Description: "What to say",
					Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "Hi", Value: "hi"}, {Name: "Yo", Value: "yo"}}},
			}})
		check("create", err)
		if ping.ID == "" || ping.ApplicationID != app || ping.Version == "" || ping.GuildID != "" || len(ping.Options) != 2 {
			t.Fatalf("created %+v", ping)
		}
		again, err := bot.ApplicationCommandCreate(app, "", &discordgo.ApplicationCommand{Name: "ping", Description: "Ping me again"})
		check("replace", err)
		if again.ID != ping.ID || again.Description != "Ping me again" || again.Version == ping.Version {
			t.Fatalf("replaced %+v, was %+v", again, ping)
		}
		st, b := h.do("POST", "/applications/"+app+"/commands", f.botToken, map[string]any{"name": "ping", "description": "Ping"})
		h.want(st, 200, b, nil) // replacing answers 200, creating 201

		list, err := bot.ApplicationCommandBulkOverwrite(app, f.guild, []*discordgo.ApplicationCommand{
			{Name: "roll", Description: "Roll a die"},
			{Name: "Report user", Type: discordgo.UserApplicationCommand},
			{Name: "Quote", Type: discordgo.MessageApplicationCommand},
		})
		check("bulk overwrite", err)
		if len(list) != 3 || list[0].GuildID != f.guild {
			t.Fatalf("overwrote %+v", list)
		}
		kept, err := bot.ApplicationCommandBulkOverwrite(app, f.guild, []*discordgo.ApplicationCommand{{Name: "roll", Description: "Roll two dice"}})
		check("overwrite again", err)
		if len(kept) != 1 || kept[0].ID != list[0].ID {
			t.Fatalf("overwrite kept %+v, want ID %s", kept, list[0].ID)
		}
		edited, err := bot.ApplicationCommandEdit(app, f.guild, kept[0].ID, &discordgo.ApplicationCommand{Name: "dice", Description: "Dice"})
		check("edit", err)
		if edited.Name != "dice" || edited.ID != kept[0].ID {
			t.Fatalf("edited %+v", edited)
		}
		got, err := bot.ApplicationCommands(app, f.guild)
		check("list guild", err)
		if len(got) != 1 || got[0].Name != "dice" {
			t.Fatalf("guild commands %+v", got)
		}
		check("delete", bot.ApplicationCommandDelete(app, f.guild, edited.ID))
		if _, err := bot.ApplicationCommand(app, f.guild, edited.ID); !restCode(err, 10063) {
			t.Fatalf("deleted command: %v", err)
		}
		global, err := bot.ApplicationCommands(app, "")
		check("list global", err)
		if len(global) != 1 || global[0].ID != ping.ID {
			t.Fatalf("global commands %+v", global)
		}

		// Only the bot and the application's owner manage its commands;
		// a guild scope needs the bot in the guild.
		stranger := h.register("stranger")
		st, b = h.do("GET", "/applications/"+app+"/commands", stranger.Token, nil)
		wantError(t, st, b, 403, 50001)
		st, b = h.do("GET", "/applications/"+app+"/commands", f.owner.Token, nil)
		h.want(st, 200, b, nil)
		st, b = h.do("GET", "/applications/123/commands", stranger.Token, nil)
		wantError(t, st, b, 404, 10002)
		st, b = h.do("GET", "/applications/"+app+"/guilds/42/commands", f.botToken, nil)
		wantError(t, st, b, 403, 50001)
	})
}

// restCode reports whether err is discordgo's REST error with code.
func restCode(err error, code int) bool {
	var rest *discordgo.RESTError
	return errors.As(err, &rest) && rest.Message != nil && rest.Message.Code == code
}

// TestCommandValidation checks Discord's limits one at a time.
func TestCommandValidation(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db)
	f := newBotGuild(t, h)
	path := fmt.Sprintf("/applications/%d/commands", f.app.ID)
	opt := func(name string, required bool) map[string]any {
		return map[string]any{"type": 3, "name": name, "description": "d", "required": required}
	}
	many := func(n int, mk func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = mk(i)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"upper case", map[string]any{"name": "Ping", "description": "d"}, "name"},
		{"space", map[string]any{"name": "pi ng", "description": "d"}, "name"},
		{"too long", map[string]any{"name": strings.Repeat("a", 33), "description": "d"}, "name"},
		{"no description", map[string]any{"name": "ping"}, "description"},
		{"long description", map[string]any{"name": "ping", "description": strings.Repeat("d", 101)}, "description"},
		{"bad type", map[string]any{"name": "ping", "description": "d", "type": 9}, "type"},
		{"user command description", map[string]any{"name": "Who", "description": "d", "type": 2}, "description"},
		{"required after optional", map[string]any{"name": "ping", "description": "d", "options": []any{opt("a", false), opt("b", true)}}, "options.1.required"},
		{"duplicate option", map[string]any{"name": "ping", "description": "d", "options": []any{opt("a", false), opt("a", false)}}, "options.1.name"},
		{"26 options", map[string]any{"name": "ping", "description": "d", "options": many(26, func(i int) any { return opt(fmt.Sprint("o", i), false) })}, "options"},
		{"26 choices", map[string]any{"name": "ping", "description": "d", "options": []any{map[string]any{"type": 3, "name": "c", "description": "d",
			"choices": many(26, func(i int) any { return map[string]any{"name": fmt.Sprint(i), "value": fmt.Sprint(i)} })}}}, "options.0.choices"},
		{"choice of the wrong type", map[string]any{"name": "ping", "description": "d", "options": []any{map[string]any{"type": 4, "name": "n", "description": "d",
			"choices": []any{map[string]any{"name": "one", "value": "1"}}}}}, "options.0.choices.0.value"},
		{"mixed subcommands", map[string]any{"name": "ping", "description": "d", "options": []any{opt("a", false),
			map[string]any{"type": 1, "name": "sub", "description": "d"}}}, "options"},
		{"too big", map[string]any{"name": "ping", "description": "d", "options": many(25, func(i int) any {
			return map[string]any{"type": 3, "name": fmt.Sprint("o", i), "description": strings.Repeat("d", 100),
				"choices": many(25, func(j int) any { return map[string]any{"name": strings.Repeat("n", 100), "value": fmt.Sprint(j)} })}
		})}, "_body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := h.do("POST", path, f.botToken, tc.body)
			wantFormError(t, st, b, tc.field)
		})
	}

	// 100 chat commands fit; the 101st does not (30032).
	list := many(100, func(i int) any { return map[string]any{"name": fmt.Sprint("c", i), "description": "d"} })
	st, b := h.do("PUT", path, f.botToken, list)
	h.want(st, 200, b, nil)
	st, b = h.do("POST", path, f.botToken, map[string]any{"name": "one-more", "description": "d"})
	wantError(t, st, b, 400, 30032)
	st, b = h.do("PUT", path, f.botToken, append(list, map[string]any{"name": "one-more", "description": "d"}))
	wantError(t, st, b, 400, 30032)
	// 200 creations a day per scope (30034): 100 are spent, and a fresh
	// set of 100 names spends the rest.
	st, b = h.do("PUT", path, f.botToken, many(100, func(i int) any { return map[string]any{"name": fmt.Sprint("d", i), "description": "d"} }))
	h.want(st, 200, b, nil)
	st, b = h.do("PUT", path, f.botToken, []any{map[string]any{"name": "again", "description": "d"}})
	wantError(t, st, b, 400, 30034)
	st, b = h.do("PATCH", path+"/123", f.botToken, map[string]any{"description": "x"})
	wantError(t, st, b, 404, 10063)
}

// TestCommandPermissions sets and reads a guild's overrides of a command.
func TestCommandPermissions(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db)
	f := newBotGuild(t, h)
	var cmd struct{ ID string }
	path := fmt.Sprintf("/applications/%d/guilds/%s/commands", f.app.ID, f.guild)
	st, b := h.do("POST", path, f.botToken, map[string]any{"name": "ban", "description": "Ban someone"})
	h.want(st, 201, b, &cmd)
	st, b = h.do("GET", path+"/"+cmd.ID+"/permissions", f.botToken, nil)
	wantError(t, st, b, 404, 10066)
	set := map[string]any{"permissions": []any{map[string]any{"id": f.guild, "type": 1, "permission": false}}}
	st, b = h.do("PUT", path+"/"+cmd.ID+"/permissions", f.botToken, set)
	wantError(t, st, b, 403, 20001) // bots may not
	st, b = h.do("PUT", path+"/"+cmd.ID+"/permissions", f.owner.Token, set)
	h.want(st, 200, b, nil)
	var got []struct {
		ID          string
		Permissions []struct {
			ID         string
			Type       int
			Permission bool
		}
	}
	st, b = h.do("GET", path+"/permissions", f.botToken, nil)
	h.want(st, 200, b, &got)
	if len(got) != 1 || got[0].ID != cmd.ID || len(got[0].Permissions) != 1 || got[0].Permissions[0].Permission {
		t.Fatalf("permissions %s", b)
	}
	member := h.register("member")
	st, b = h.do("PUT", path+"/"+cmd.ID+"/permissions", member.Token, set)
	wantError(t, st, b, 404, 10004)
}
