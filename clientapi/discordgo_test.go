package clientapi

import (
	"fmt"
	"testing"

	"github.com/bwmarrin/discordgo"

	"concord/clientapi/accounts"
	"concord/storage"
	"concord/storage/storagetest"
)

// pointDiscordgo aims discordgo's endpoint variables at base. The derived
// ones were computed at init, so each is reassigned.
func pointDiscordgo(t testing.TB, base string) {
	vars := []*string{&discordgo.EndpointDiscord, &discordgo.EndpointAPI, &discordgo.EndpointUsers, &discordgo.EndpointApplications,
		&discordgo.EndpointGuilds, &discordgo.EndpointChannels, &discordgo.EndpointGuildCreate, &discordgo.EndpointWebhooks}
	saved := make([]string, len(vars))
	for i, v := range vars {
		saved[i] = *v
	}
	t.Cleanup(func() {
		for i, v := range vars {
			*v = saved[i]
		}
	})
	discordgo.EndpointDiscord = base + "/"
	discordgo.EndpointAPI = discordgo.EndpointDiscord + "api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointUsers = discordgo.EndpointAPI + "users/"
	discordgo.EndpointApplications = discordgo.EndpointAPI + "applications"
	discordgo.EndpointGuilds = discordgo.EndpointAPI + "guilds/"
	discordgo.EndpointChannels = discordgo.EndpointAPI + "channels/"
	discordgo.EndpointGuildCreate = discordgo.EndpointAPI + "guilds"
	discordgo.EndpointWebhooks = discordgo.EndpointAPI + "webhooks/"
}

func TestDiscordgo(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		pointDiscordgo(t, h.srv.URL)
		p := h.register("tina")
		var app accounts.Application
		st, b := h.do("POST", "/applications", p.Token, map[string]any{"name": "Tina Bot"})
		h.want(st, 201, b, &app)
		var reset struct{ Token string }
		st, b = h.do("POST", fmt.Sprintf("/applications/%d/bot/reset", app.ID), p.Token, nil)
		h.want(st, 200, b, &reset)

		for _, tc := range []struct {
			token, wantName string
			bot             bool
		}{
			{p.Token, "tina", false},
			{"Bot " + reset.Token, "Tina Bot", true},
		} {
			s, err := discordgo.New(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			u, err := s.User("@me")
			if err != nil {
				t.Fatalf("discordgo User(@me): %v", err)
			}
			if u.Username != tc.wantName || u.Bot != tc.bot || u.ID != fmt.Sprint(map[bool]any{true: app.ID, false: p.UserID}[tc.bot]) {
				t.Fatalf("discordgo got %+v", u)
			}
		}
		bad, _ := discordgo.New("Bot nope")
		if _, err := bad.User("@me"); err == nil {
			t.Fatal("discordgo accepted a bad token")
		}
	})
}
