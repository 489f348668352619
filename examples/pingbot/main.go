// Command pingbot is a small discordgo bot that answers "!ping" with
// "pong!", run against a Concord node instead of Discord: the only change
// from a Discord bot is the base URL (see README.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bwmarrin/discordgo"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "the Concord node's URL")
	flag.Parse()
	token := os.Getenv("CONCORD_BOT_TOKEN")
	if token == "" {
		fmt.Fprintln(os.Stderr, "pingbot: set CONCORD_BOT_TOKEN to the bot's token")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *base, token, log.Printf); err != nil {
		fmt.Fprintln(os.Stderr, "pingbot:", err)
		os.Exit(1)
	}
}

// run connects as the bot and answers until ctx is done.
func run(ctx context.Context, base, token string, logf func(string, ...any)) error {
	pointAt(base)
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return err
	}
	s.Identify.Intents = discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent
	s.AddHandler(func(s *discordgo.Session, r *discordgo.Ready) {
		logf("connected as %s, in %d guilds", r.User.Username, len(r.Guilds))
	})
	s.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
		if m.Author.ID == s.State.User.ID || strings.TrimSpace(m.Content) != "!ping" {
			return
		}
		if _, err := s.ChannelMessageSend(m.ChannelID, "pong!"); err != nil {
			logf("reply: %v", err)
			return
		}
		logf("answered %s in channel %s", m.Author.Username, m.ChannelID)
	})
	if err := s.Open(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer s.Close()
	<-ctx.Done()
	return nil
}

// pointAt sends discordgo's requests to a Concord node. discordgo computes
// its endpoints once, from Discord's URL, so each one used is set again.
func pointAt(base string) {
	base = strings.TrimSuffix(base, "/")
	discordgo.EndpointDiscord = base + "/"
	discordgo.EndpointAPI = discordgo.EndpointDiscord + "api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointGateway = discordgo.EndpointAPI + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
	discordgo.EndpointUsers = discordgo.EndpointAPI + "users/"
	discordgo.EndpointGuilds = discordgo.EndpointAPI + "guilds/"
	discordgo.EndpointChannels = discordgo.EndpointAPI + "channels/"
	discordgo.EndpointApplications = discordgo.EndpointAPI + "applications"
}
