package gateway

import (
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// pointDiscordgo aims discordgo's gateway endpoints at base; they are
// computed at init, so each is reassigned.
func pointDiscordgo(t *testing.T, base string) {
	vars := []*string{&discordgo.EndpointDiscord, &discordgo.EndpointAPI, &discordgo.EndpointGateway, &discordgo.EndpointGatewayBot}
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
	discordgo.EndpointGateway = discordgo.EndpointAPI + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
}

func TestDiscordgo(t *testing.T) {
	ts := newTestServer(t, Config{})
	pointDiscordgo(t, ts.srv.URL)
	ts.p.addUser("bot-token", Caller{UserID: 42, Bot: true, AppFlags: AppFlagGatewayMessageContent}, guildA, guildB)

	s, err := discordgo.New("Bot bot-token")
	if err != nil {
		t.Fatal(err)
	}
	s.Identify.Intents = discordgo.IntentsAllWithoutPrivileged | discordgo.IntentMessageContent
	ready := make(chan *discordgo.Ready, 1)
	guilds := make(chan string, 2)
	msgs := make(chan *discordgo.MessageCreate, 1)
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { ready <- r })
	s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { guilds <- g.ID })
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { msgs <- m })
	if err := s.Open(); err != nil {
		t.Fatalf("discordgo Open: %v", err)
	}
	defer s.Close()

	wait := func(what string) {
		t.Helper()
		t.Fatalf("discordgo: no %s within 2 s", what)
	}
	select {
	case r := <-ready:
		if r.User == nil || r.User.ID != "42" || len(r.Guilds) != 2 || r.Application == nil || r.SessionID == "" {
			t.Fatalf("READY %+v", r)
		}
	case <-time.After(2 * time.Second):
		wait("READY")
	}
	for range 2 {
		select {
		case <-guilds:
		case <-time.After(2 * time.Second):
			wait("GUILD_CREATE")
		}
	}
	ts.g.Publish(message(77, "!ping"))
	select {
	case m := <-msgs:
		if m.Content != "!ping" || m.ChannelID != chanA.String() || m.Author == nil || m.Author.ID != "7" {
			t.Fatalf("MESSAGE_CREATE %+v", m.Message)
		}
	case <-time.After(2 * time.Second):
		wait("MESSAGE_CREATE")
	}
	if g, err := s.State.Guild(guildA.String()); err != nil || len(g.Channels) != 1 {
		t.Fatalf("discordgo state: %v %v", g, err)
	}
}
