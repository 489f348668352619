package node

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"github.com/libp2p/go-libp2p/core/protocol"

	"concord/federation/p2p"
	"concord/federation/snowflake"
)

// TestInteractionsAcrossNodes: a bot lives on alpha, a user on beta. The
// user finds the bot's commands through beta, invokes them there, and gets
// what a local user gets: the bot's public answers through the guild's
// history, and what only they may see (success, failure, a modal, an
// ephemeral answer) from alpha through beta alone. The bot is written
// with discordgo.
func TestInteractionsAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, nil)
	chat := federatedChat(t, a.URL(), b.URL())
	var channel struct {
		GuildID string `json:"guild_id"`
	}
	api(t, a.URL(), "GET", "/channels/"+chat.channel, chat.alice, nil, &channel)

	// Alice makes an application on alpha and adds its bot to the guild.
	var app struct {
		ID string `json:"id"`
	}
	api(t, a.URL(), "POST", "/applications", chat.alice, map[string]any{"name": "Helper"}, &app)
	var reset struct {
		Token string `json:"token"`
	}
	api(t, a.URL(), "POST", "/applications/"+app.ID+"/bot/reset", chat.alice, nil, &reset)
	api(t, a.URL(), "POST", "/oauth2/authorize?client_id="+app.ID+"&scope=bot+applications.commands&permissions=3072",
		chat.alice, map[string]any{"guild_id": channel.GuildID, "authorize": true}, nil)

	bot := discordgoOn(t, a.URL(), "Bot "+reset.Token)
	bot.Identify.Intents = discordgo.IntentsGuilds
	answers := make(chan error, 16)
	bot.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		if i.Type == discordgo.InteractionApplicationCommand && i.ApplicationCommandData().Name == "ignored" {
			return
		}
		answers <- answerAcross(s, i, chat.ids[0])
	})
	if err := bot.Open(); err != nil {
		t.Fatal(err)
	}
	defer bot.Close()
	word := []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "word", Description: "Say", Required: true}}
	commands := map[string]string{}
	for _, c := range []*discordgo.ApplicationCommand{{Name: "ping", Description: "Ping", Options: word},
		{Name: "form", Description: "Fill a form"}, {Name: "ignored", Description: "Never answered"}} {
		made, err := bot.ApplicationCommandCreate(app.ID, channel.GuildID, c)
		if err != nil {
			t.Fatal(err)
		}
		commands[c.Name] = made.ID
	}

	// Beta's user sees the commands of alpha's bot, as alpha lists them.
	user, ev := chat.tokens[0], gatewayOn(t, b.URL(), chat.tokens[0])
	var index struct {
		Applications []struct {
			ID string `json:"id"`
		} `json:"applications"`
		Commands []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"application_commands"`
	}
	waitUntil(t, "beta to list the bot's commands", func() bool {
		api(t, b.URL(), "GET", "/channels/"+chat.channel+"/application-command-index", user, nil, &index)
		return len(index.Commands) == 3 && len(index.Applications) == 1 && index.Applications[0].ID == app.ID
	})

	invoke := func(body map[string]any) {
		t.Helper()
		body["application_id"], body["guild_id"], body["channel_id"] = app.ID, channel.GuildID, chat.channel
		api(t, b.URL(), "POST", "/interactions", user, body, nil)
		select {
		case err := <-answers:
			if err != nil {
				t.Fatalf("the bot's answer: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the bot never got the interaction")
		}
	}
	var history []struct {
		ID      string `json:"id"`
		Content string `json:"content"`
	}
	seen := func(node *Node, token string, want ...string) {
		t.Helper()
		waitUntil(t, fmt.Sprintf("history %q on %s", want, node.cfg.Node.Name), func() bool {
			api(t, node.URL(), "GET", "/channels/"+chat.channel+"/messages?limit=10", token, nil, &history)
			got := make([]string, len(history))
			for i, m := range history {
				got[i] = m.Content
			}
			return strings.Join(got, "|") == strings.Join(want, "|")
		})
	}

	// A command: deferred, followed up and the original filled in, in
	// history on both nodes; success reaches the user through beta.
	base := []string{"hello from beta"}
	invoke(map[string]any{"type": 2, "nonce": "n1", "data": map[string]any{"id": commands["ping"], "name": "ping", "type": 1,
		"options": []any{map[string]any{"name": "word", "type": 3, "value": "hello"}}}})
	ev.want(t, "INTERACTION_CREATE", `"nonce":"n1"`)
	ev.want(t, "INTERACTION_SUCCESS", `"nonce":"n1"`)
	seen(b, user, append([]string{"and a follow-up", "pong: hello"}, base...)...)
	seen(a, chat.alice, append([]string{"and a follow-up", "pong: hello"}, base...)...)
	original := history[1].ID

	// A click on the answer's button, from beta: the bot updates it.
	invoke(map[string]any{"type": 3, "message_id": original, "data": map[string]any{"component_type": 2, "custom_id": "again"}})
	seen(b, user, append([]string{"and a follow-up", "clicked"}, base...)...)

	// A modal, and its answer for the user alone: it reaches beta's user
	// and neither node's history.
	invoke(map[string]any{"type": 2, "nonce": "n2", "data": map[string]any{"id": commands["form"], "name": "form", "type": 1}})
	ev.want(t, "INTERACTION_MODAL_CREATE", `"custom_id":"survey"`)
	invoke(map[string]any{"type": 5, "nonce": "n3", "data": map[string]any{"custom_id": "survey", "components": []any{
		map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "color", "value": "green"}}}}}})
	ev.want(t, "MESSAGE_CREATE", "thanks for green", `"flags":64`)
	ev.want(t, "INTERACTION_SUCCESS", `"nonce":"n3"`)
	seen(a, chat.alice, append([]string{"and a follow-up", "clicked"}, base...)...)
	seen(b, user, append([]string{"and a follow-up", "clicked"}, base...)...)

	// A command the bot leaves unanswered fails, and beta's user is told.
	api(t, b.URL(), "POST", "/interactions", user, map[string]any{"type": 2, "nonce": "n4", "application_id": app.ID,
		"guild_id": channel.GuildID, "channel_id": chat.channel, "data": map[string]any{"id": commands["ignored"], "name": "ignored", "type": 1}}, nil)
	ev.want(t, "INTERACTION_FAILURE", `"nonce":"n4"`)

	// Alpha's refusals reach the user as alpha gave them.
	code, body := apiCall(t, b.URL(), "POST", "/api/v10/interactions", user, map[string]any{"type": 2, "application_id": app.ID,
		"channel_id": chat.channel, "data": map[string]any{"id": commands["ping"], "name": "pong", "type": 1}})
	if code != http.StatusNotFound || !strings.Contains(string(body), `"code":10063`) {
		t.Errorf("a wrong command name through beta: %d %s", code, body)
	}

	// Alpha tells beta nothing of an interaction beta did not forward.
	userID, err := snowflake.Parse(chat.ids[0])
	if err != nil {
		t.Fatal(err)
	}
	fake := p2p.Delivery{UserID: userID, InteractionID: 42, Type: "MESSAGE_CREATE",
		Payload: json.RawMessage(`{"channel_id":"` + chat.channel + `","content":"forged"}`)}
	if answer := rawCall(t, a, b, p2p.ProtoDeliver, fake); len(answer) > 0 {
		t.Errorf("beta answered a delivery for an interaction it never forwarded: %s", answer)
	}
	api(t, a.URL(), "POST", "/channels/"+chat.channel+"/messages", chat.alice, map[string]string{"content": "marker"}, nil)
	for _, e := range ev.until(t, "MESSAGE_CREATE", "marker") {
		if strings.Contains(e, "forged") {
			t.Fatalf("beta's user got a forged delivery: %s", e)
		}
	}

	// A node forwarding invocations faster than alpha takes them is told
	// to slow down, as Discord's 429, before anything is checked.
	limited := 0
	for range 150 {
		var ans p2p.InvokeAnswer
		json.Unmarshal(frameBody(rawCall(t, b, a, p2p.ProtoInvoke, p2p.Invocation{ID: 1, UserID: userID, Body: json.RawMessage(`{}`)})), &ans)
		if ans.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 30 {
		t.Errorf("%d of 150 invocations in a burst were limited", limited)
	}
}

// answerAcross is the bot's side of TestInteractionsAcrossNodes: as a
// local bot answers, and the user is who invoked from the other node.
func answerAcross(s *discordgo.Session, i *discordgo.InteractionCreate, userID string) error {
	if i.Member == nil || i.Member.User == nil || i.Member.User.ID != userID || i.Token == "" {
		return fmt.Errorf("interaction lacks its remote member: %+v", i.Interaction)
	}
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		d := i.ApplicationCommandData()
		if d.Name == "form" {
			return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal,
				Data: &discordgo.InteractionResponseData{CustomID: "survey", Title: "Survey", Components: []discordgo.MessageComponent{
					discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "color", Label: "Color", Style: discordgo.TextInputShort}}}}}})
		}
		if err := s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
			return fmt.Errorf("defer: %w", err)
		}
		if _, err := s.FollowupMessageCreate(i.Interaction, true, &discordgo.WebhookParams{Content: "and a follow-up"}); err != nil {
			return fmt.Errorf("follow-up: %w", err)
		}
		content := "pong: " + d.Options[0].StringValue()
		_, err := s.InteractionResponseEdit(i.Interaction, &discordgo.WebhookEdit{Content: &content, Components: &[]discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Label: "Again", Style: discordgo.PrimaryButton, CustomID: "again"}}}}})
		return err
	case discordgo.InteractionMessageComponent:
		return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage,
			Data: &discordgo.InteractionResponseData{Content: "clicked"}})
	case discordgo.InteractionModalSubmit:
		value := i.ModalSubmitData().Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.TextInput).Value
		return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "thanks for " + value, Flags: discordgo.MessageFlagsEphemeral}})
	}
	return fmt.Errorf("unexpected interaction type %d", i.Type)
}

// toNode sends discordgo's requests, addressed to Discord, to a node, so
// that one test holds sessions on several nodes.
type toNode struct{ base *url.URL }

func (r toNode) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.base.Scheme, r.base.Host, r.base.Host
	return http.DefaultTransport.RoundTrip(req)
}

// discordgoOn is a discordgo session with token against the node at base.
func discordgoOn(t *testing.T, base, token string) *discordgo.Session {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	s, err := discordgo.New(token)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: toNode{u}, Timeout: 30 * time.Second}
	return s
}

// gatewayEvents is a raw gateway session's dispatches, as "TYPE {data}".
type gatewayEvents chan string

// gatewayOn identifies to the gateway of the node at base with token and
// returns its dispatches from READY on.
func gatewayOn(t *testing.T, base, token string) gatewayEvents {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/gateway?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": token, "intents": 1<<0 | 1<<9 | 1<<12 | 1<<15,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"}}})
	out := make(gatewayEvents, 256)
	go func() {
		defer close(out)
		for {
			var f struct {
				T string          `json:"t"`
				D json.RawMessage `json:"d"`
			}
			if ws.ReadJSON(&f) != nil {
				return
			}
			if f.T != "" {
				out <- f.T + " " + string(f.D)
			}
		}
	}()
	out.want(t, "READY")
	return out
}

// want waits up to 10 s for a dispatch of type typ holding every one of
// parts, skipping others, and returns it.
func (g gatewayEvents) want(t *testing.T, typ string, parts ...string) string {
	t.Helper()
	all := g.until(t, typ, parts...)
	return all[len(all)-1]
}

// until is want returning every dispatch read, the one wanted last.
func (g gatewayEvents) until(t *testing.T, typ string, parts ...string) []string {
	t.Helper()
	var read []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-g:
			if !ok {
				t.Fatalf("gateway closed waiting for %s %q", typ, parts)
			}
			read = append(read, e)
			if !strings.HasPrefix(e, typ+" ") {
				continue
			}
			all := true
			for _, p := range parts {
				all = all && strings.Contains(e, p)
			}
			if all {
				return read
			}
		case <-timeout:
			t.Fatalf("no %s %q; read %q", typ, parts, read)
		}
	}
}

// rawCall sends v as one frame to b over proto from a, as a hostile peer
// would, and returns every byte b answered, none when it reset the stream.
func rawCall(t *testing.T, a, b *Node, proto protocol.ID, v any) []byte {
	t.Helper()
	s, err := a.p2p.NewStream(t.Context(), b.PeerID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body, _ := json.Marshal(v)
	s.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(body))), body...)); err != nil {
		t.Fatal(err)
	}
	s.CloseWrite()
	answer, _ := io.ReadAll(s)
	return answer
}

// frameBody is the body of the one frame raw holds, nil if it holds
// anything else.
func frameBody(raw []byte) []byte {
	if n, k := binary.Uvarint(raw); k > 0 && uint64(len(raw)-k) == n {
		return raw[k:]
	}
	return nil
}
