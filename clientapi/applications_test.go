package clientapi

import (
	"context"
	"fmt"
	"testing"

	"concord/clientapi/accounts"
	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

type addedBot struct {
	guild, bot, actor snowflake.ID
	perms             uint64
}

type fakeGuilds struct{ added []addedBot }

func (f *fakeGuilds) AddBot(_ context.Context, guild, bot, actor snowflake.ID, perms uint64) error {
	if guild != 42 {
		return httperr.UnknownGuild
	}
	f.added = append(f.added, addedBot{guild, bot, actor, perms})
	return nil
}

func TestApplicationsAndBots(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		guilds := &fakeGuilds{}
		h := newHarness(t, db)
		owner, stranger := h.register("rita"), h.register("stan")
		var app accounts.Application
		st, b := h.do("POST", "/applications", owner.Token, map[string]any{"name": "Rita Bot"})
		h.want(st, 201, b, &app)
		if app.Owner.ID != owner.UserID || !app.Bot.Bot || app.Bot.ID != app.ID || app.Name != "Rita Bot" {
			t.Fatalf("created %s", b)
		}
		appPath := fmt.Sprintf("/applications/%d", app.ID)
		st, b = h.do("GET", appPath, stranger.Token, nil)
		wantError(t, st, b, 404, 10002)

		var reset struct{ Token string }
		st, b = h.do("POST", appPath+"/bot/reset", owner.Token, nil)
		h.want(st, 200, b, &reset)
		bot := "Bot " + reset.Token
		var me objects.Me
		st, b = h.do("GET", "/users/@me", bot, nil)
		h.want(st, 200, b, &me)
		if !me.Bot || me.ID != app.ID {
			t.Fatalf("bot @me %s", b)
		}
		st, b = h.do("GET", "/applications/@me", bot, nil)
		h.want(st, 200, b, nil)
		st, b = h.do("GET", "/applications/@me", owner.Token, nil)
		wantError(t, st, b, 403, 20002)
		st, b = h.do("GET", "/users/@me/relationships", bot, nil)
		wantError(t, st, b, 403, 20001)
		st, b = h.do("GET", "/users/@me", reset.Token, nil) // a bot token without "Bot "
		wantUnauthorized(t, st, b)

		st, b = h.do("PATCH", appPath, owner.Token, map[string]any{"flags": accounts.FlagGatewayMessageContent | accounts.FlagGatewayGuildMembers})
		h.want(st, 200, b, &app)
		if app.Flags != accounts.FlagGatewayMessageContent|accounts.FlagGatewayGuildMembers {
			t.Fatalf("flags %s", b)
		}
		st, b = h.do("PATCH", appPath, owner.Token, map[string]any{"flags": 1})
		wantFormError(t, st, b, "flags")
		st, b = h.do("PATCH", appPath, stranger.Token, map[string]any{"flags": 0})
		wantError(t, st, b, 404, 10002)

		// A second reset retires the first token at once.
		st, b = h.do("POST", appPath+"/bot/reset", owner.Token, nil)
		h.want(st, 200, b, nil)
		st, b = h.do("GET", "/users/@me", bot, nil)
		wantUnauthorized(t, st, b)

		st, b = h.do("POST", "/applications", stranger.Token, map[string]any{"name": "rita bot"})
		wantFormError(t, st, b, "name")

		authorize := func(query string, body any) (int, []byte) {
			return h.do("POST", "/oauth2/authorize?"+query, stranger.Token, body)
		}
		ok := map[string]any{"guild_id": "42", "permissions": "2048", "authorize": true}
		st, b = authorize(fmt.Sprintf("client_id=%d&scope=bot", app.ID), ok)
		wantError(t, st, b, 404, 10004) // no guild layer yet
		h.bots.set(guilds)
		refusals := []struct {
			name, query string
			body        any
			status      int
			code        int
		}{
			{"no client", "scope=bot", ok, 400, 50035},
			{"unknown client", "client_id=1234&scope=bot", ok, 404, 10002},
			{"no bot scope", fmt.Sprintf("client_id=%d&scope=identify", app.ID), ok, 400, 50035},
			{"bad permissions", fmt.Sprintf("client_id=%d&scope=bot", app.ID), map[string]any{"guild_id": "42", "permissions": "-1", "authorize": true}, 400, 50035},
			{"not authorized", fmt.Sprintf("client_id=%d&scope=bot", app.ID), map[string]any{"guild_id": "42"}, 400, 50035},
			{"unknown guild", fmt.Sprintf("client_id=%d&scope=bot", app.ID), map[string]any{"guild_id": "43", "authorize": true}, 404, 10004},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				st, b := authorize(tt.query, tt.body)
				wantError(t, st, b, tt.status, tt.code)
			})
		}
		st, b = authorize(fmt.Sprintf("client_id=%d&scope=bot+applications.commands", app.ID), ok)
		h.want(st, 200, b, nil)
		if len(guilds.added) != 1 || guilds.added[0] != (addedBot{42, app.ID, stranger.UserID, 2048}) {
			t.Fatalf("added %+v", guilds.added)
		}
	})
}
