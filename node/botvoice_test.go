package node

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// TestBotVoice: two discordgo bots, Discord's own voice client speaking
// the UDP protocol (IP discovery, xsalsa20_poly1305), join a voice channel
// of a node; what one sends the other receives, byte for byte.
func TestBotVoice(t *testing.T) {
	n := startNode(t, testConfig(t))
	base := n.URL()
	_, alice := register(t, base, "alice")
	var g, voice struct {
		ID string `json:"id"`
	}
	api(t, base, "POST", "/guilds", alice, map[string]any{"name": "Bots"}, &g)
	api(t, base, "POST", "/guilds/"+g.ID+"/channels", alice, map[string]any{"name": "lounge", "type": 2}, &voice)

	var bots [2]*discordgo.VoiceConnection
	for i, name := range []string{"Speaker", "Listener"} {
		var app struct {
			ID string `json:"id"`
		}
		api(t, base, "POST", "/applications", alice, map[string]any{"name": name}, &app)
		var reset struct {
			Token string `json:"token"`
		}
		api(t, base, "POST", "/applications/"+app.ID+"/bot/reset", alice, nil, &reset)
		api(t, base, "POST", "/oauth2/authorize?client_id="+app.ID+"&scope=bot&permissions=3146752",
			alice, map[string]any{"guild_id": g.ID, "authorize": true}, nil)
		s := discordgoOn(t, base, "Bot "+reset.Token)
		s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
		// discordgo dials the voice gateway as wss:// whatever the node
		// serves; this node speaks plain HTTP on loopback.
		s.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second,
			NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		vc, err := s.ChannelVoiceJoin(g.ID, voice.ID, false, false)
		if err != nil {
			t.Fatalf("%s joins voice: %v", name, err)
		}
		t.Cleanup(func() { vc.Disconnect() })
		bots[i] = vc
	}
	speaker, listener := bots[0], bots[1]

	got := make(chan string, 256)
	go func() {
		for p := range listener.OpusRecv {
			got <- string(p.Opus)
		}
	}()
	go func() {
		// discordgo's sender paces frames 20 ms apart.
		for i := range 100 {
			speaker.OpusSend <- []byte("opus frame " + strings.Repeat("x", i%7))
		}
	}()
	heard := 0
	deadline := time.After(10 * time.Second)
	for heard < 50 {
		select {
		case p := <-got:
			if !strings.HasPrefix(p, "opus frame ") {
				t.Fatalf("the listener got %q", p)
			}
			heard++
		case <-deadline:
			t.Fatalf("the listener heard %d frames of the speaker", heard)
		}
	}
}
