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
		bots[i] = voiceOn(t, base, "Bot "+reset.Token, g.ID, voice.ID)
	}
	go sayFrames(bots[0], 100)
	hearFrames(t, bots[1], 50)
}

// TestVoiceAcrossNodes: alice on alpha and bob on beta, each in voice
// through their own node's SFU with discordgo's voice client, hear each
// other across the relay between the SFUs; when alice, the owner,
// server-mutes bob on alpha, his node stops sending his audio, and
// sends it again when she lifts the mute.
func TestVoiceAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, nil)
	chat := federatedChat(t, a.URL(), b.URL())
	bob := chat.tokens[0]
	var ch struct {
		GuildID string `json:"guild_id"`
	}
	api(t, a.URL(), "GET", "/channels/"+chat.channel, chat.alice, nil, &ch)
	var voice struct {
		ID string `json:"id"`
	}
	api(t, a.URL(), "POST", "/guilds/"+ch.GuildID+"/channels", chat.alice, map[string]any{"name": "lounge", "type": 2}, &voice)
	waitUntil(t, "the voice channel on beta", func() bool {
		return try(t, b.URL(), "GET", "/channels/"+voice.ID, bob, nil, nil) == 200
	})
	alice := voiceOn(t, a.URL(), chat.alice, ch.GuildID, voice.ID)
	bobVoice := voiceOn(t, b.URL(), bob, ch.GuildID, voice.ID)
	go sayFrames(alice, 150)
	hearFrames(t, bobVoice, 50)
	go sayFrames(bobVoice, 150)
	hearFrames(t, alice, 50)

	api(t, a.URL(), "PATCH", "/guilds/"+ch.GuildID+"/members/"+chat.ids[0], chat.alice, map[string]any{"mute": true}, nil)
	time.Sleep(time.Second) // the member event reaches beta, and what was on its way arrives
	drain(alice)
	sayFrames(bobVoice, 25)
	time.Sleep(300 * time.Millisecond)
	if n := drain(alice); n > 0 {
		t.Errorf("alice heard %d frames of server-muted bob", n)
	}
	api(t, a.URL(), "PATCH", "/guilds/"+ch.GuildID+"/members/"+chat.ids[0], chat.alice, map[string]any{"mute": false}, nil)
	go sayFrames(bobVoice, 100)
	hearFrames(t, alice, 20)
}

// voiceOn opens a discordgo session with token on the node at base and
// joins the voice channel.
func voiceOn(t *testing.T, base, token, guildID, channelID string) *discordgo.VoiceConnection {
	t.Helper()
	s := discordgoOn(t, base, token)
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
	// discordgo dials the voice gateway as wss:// whatever the node
	// serves; these nodes speak plain HTTP on loopback.
	s.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second,
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	vc, err := s.ChannelVoiceJoin(guildID, channelID, false, false)
	if err != nil {
		t.Fatalf("join voice on %s: %v", base, err)
	}
	t.Cleanup(func() { vc.Disconnect() })
	return vc
}

// sayFrames sends n Opus frames; discordgo paces them 20 ms apart.
func sayFrames(vc *discordgo.VoiceConnection, n int) {
	for i := range n {
		vc.OpusSend <- []byte("opus frame " + strings.Repeat("x", i%7))
	}
}

// hearFrames waits for n frames on vc, each as sent.
func hearFrames(t *testing.T, vc *discordgo.VoiceConnection, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for heard := 0; heard < n; heard++ {
		select {
		case p := <-vc.OpusRecv:
			if !strings.HasPrefix(string(p.Opus), "opus frame ") {
				t.Fatalf("got %q", p.Opus)
			}
		case <-deadline:
			t.Fatalf("heard %d frames of %d", heard, n)
		}
	}
}

// drain empties what vc received and says how many frames that was.
func drain(vc *discordgo.VoiceConnection) int {
	for n := 0; ; n++ {
		select {
		case <-vc.OpusRecv:
		default:
			return n
		}
	}
}
