package clientapi

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"concord/storage"
	"concord/storage/storagetest"
)

// benchBotGuild is a bot guild on SQLite with every limit lifted, and the
// gateway running.
func benchBotGuild(b *testing.B) (*harness, botGuild) {
	db := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "db")})
	h := newHarness(b, db, func(c *testConfig) {
		c.AuthPerMinute, c.APIPerMinute, c.MessagesPer10s, c.WebhookMessagesPer2s = 1<<30, 1<<30, 1<<30, 1<<30
	})
	pointDiscordgo(b, h.srv.URL)
	startGateway(b, h)
	return h, newBotGuild(b, h)
}

// BenchmarkInteractionRoundTrip is one slash command, end to end on
// loopback: the user invokes it (POST /interactions), the discordgo bot
// gets INTERACTION_CREATE and answers with a message (callback type 4),
// and the user's discordgo session sees the answer's MESSAGE_CREATE. One
// at a time (goal: p99 < 20 ms).
func BenchmarkInteractionRoundTrip(b *testing.B) {
	h, f := benchBotGuild(b)
	app := fmt.Sprint(f.app.ID)
	bot, _ := discordgo.New(f.botToken)
	bot.Identify.Intents = discordgo.IntentsGuilds
	bot.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		word := i.ApplicationCommandData().Options[0].StringValue()
		s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "pong: " + word}})
	})
	if err := bot.Open(); err != nil {
		b.Fatal(err)
	}
	defer bot.Close()
	cmd, err := bot.ApplicationCommandCreate(app, f.guild, &discordgo.ApplicationCommand{Name: "ping", Description: "Ping",
		Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "word", Description: "Say", Required: true}}})
	if err != nil {
		b.Fatal(err)
	}
	user, _ := discordgo.New(f.owner.Token)
	user.Identify.Intents = discordgo.IntentsGuildMessages | discordgo.IntentMessageContent
	seen := make(chan string, 16)
	user.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { seen <- m.Content })
	if err := user.Open(); err != nil {
		b.Fatal(err)
	}
	defer user.Close()

	client := &http.Client{}
	url := h.srv.URL + "/api/v10/interactions"
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for n := range b.N {
		word := fmt.Sprint("w", n)
		body := fmt.Sprintf(`{"type":2,"application_id":%q,"guild_id":%q,"channel_id":%q,"nonce":"%d",
			"data":{"id":%q,"name":"ping","type":1,"options":[{"name":"word","type":3,"value":%q}]}}`,
			app, f.guild, f.channel, n, cmd.ID, word)
		start := time.Now()
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Authorization", f.owner.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 204 {
			b.Fatalf("invoke: status %d", resp.StatusCode)
		}
		for got := ""; got != "pong: "+word; {
			select {
			case got = <-seen:
			case <-time.After(5 * time.Second):
				b.Fatalf("no answer to interaction %d", n)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(p99(lat), "p99-ms")
}

// BenchmarkWebhookExecute is POST /webhooks/{id}/{token} over HTTP into
// one channel on SQLite, from 30 concurrent posters sharing the channel's
// 15 webhooks (the most a channel has), with the per-webhook limit lifted.
func BenchmarkWebhookExecute(b *testing.B) {
	const posters = 30
	h, f := benchBotGuild(b)
	var urls []string
	for i := range 15 {
		var hook struct{ URL string }
		st, body := h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{"name": fmt.Sprint("hook ", i)})
		h.want(st, 200, body, &hook)
		urls = append(urls, hook.URL)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: posters}}
	post := func(url string) error {
		resp, err := client.Post(url, "application/json", strings.NewReader(`{"content":"build passed","username":"CI"}`))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 204 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	rate, lat := hammer(b, posters, func(i int) error { return post(urls[i%len(urls)]) })
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(p99(lat), "p99-ms")
}
