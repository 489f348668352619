package clientapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"concord/storage"
	"concord/storage/storagetest"
)

// TestInteractionsWithDiscordgo runs a slash-command bot written with
// discordgo's own interaction API against the node: a user invokes a
// command, the bot defers, follows up and fills in its answer with a
// button; the user clicks it and the bot updates the message; a second
// command opens a modal whose submission the bot answers for the user
// alone.
func TestInteractionsWithDiscordgo(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
		pointDiscordgo(t, h.srv.URL)
		startGateway(t, h)
		f := newBotGuild(t, h)
		app := fmt.Sprint(f.app.ID)
		check := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}

		bot, _ := discordgo.New(f.botToken)
		bot.Identify.Intents = discordgo.IntentsGuilds
		errs := make(chan error, 16)
		bot.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			errs <- answer(s, i)
		})
		check("bot open", bot.Open())
		defer bot.Close()
		user, _ := discordgo.New(f.owner.Token)
		user.Identify.Intents = discordgo.IntentsAll
		uev := watch(t, user)
		check("user open", user.Open())
		defer user.Close()
		uev.want(t, "READY")
		// A bystander in the same guild and channel sees public answers only.
		other := h.register("bystander")
		var invite struct{ Code string }
		st, b := h.do("POST", "/channels/"+f.channel+"/invites", f.owner.Token, map[string]any{})
		h.want(st, 200, b, &invite)
		st, b = h.do("POST", "/invites/"+invite.Code, other.Token, nil)
		h.want(st, 200, b, nil)
		by, _ := discordgo.New(other.Token)
		by.Identify.Intents = discordgo.IntentsAll
		bev := watch(t, by)
		check("bystander open", by.Open())
		defer by.Close()
		bev.want(t, "READY")

		ping, err := bot.ApplicationCommandCreate(app, f.guild, &discordgo.ApplicationCommand{Name: "ping", Description: "Ping",
			Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "word", Description: "Say", Required: true}}})
		check("create ping", err)
		form, err := bot.ApplicationCommandCreate(app, f.guild, &discordgo.ApplicationCommand{Name: "form", Description: "Fill a form"})
		check("create form", err)

		invoke := func(body map[string]any) {
			t.Helper()
			body["application_id"], body["guild_id"], body["channel_id"] = app, f.guild, f.channel
			st, b := h.do("POST", "/interactions", f.owner.Token, body)
			h.want(st, 204, b, nil)
			select {
			case err := <-errs:
				check("bot answer", err)
			case <-time.After(5 * time.Second):
				t.Fatal("the bot never got the interaction")
			}
		}
		history := func() []discordgo.Message {
			t.Helper()
			var list []discordgo.Message
			st, b := h.do("GET", "/channels/"+f.channel+"/messages", f.owner.Token, nil)
			h.want(st, 200, b, &list)
			return list
		}

		// A command: deferred, followed up, then the original filled in.
		invoke(map[string]any{"type": 2, "nonce": "n1", "data": map[string]any{"id": ping.ID, "name": "ping", "type": 1,
			"options": []any{map[string]any{"name": "word", "type": 3, "value": "hello"}}}})
		uev.want(t, "INTERACTION_SUCCESS", `"nonce":"n1"`)
		msgs := history()
		if len(msgs) != 2 || msgs[1].Content != "pong: hello" || msgs[0].Content != "and a follow-up" {
			t.Fatalf("history %+v", msgs)
		}
		orig := msgs[1]
		if orig.InteractionMetadata == nil || orig.InteractionMetadata.User.ID != f.owner.UserID.String() || orig.Author.ID != app ||
			len(orig.Components) != 1 || orig.Flags&discordgo.MessageFlagsLoading != 0 {
			t.Fatalf("original answer %+v", orig)
		}

		// A click on the answer's button: the bot updates the message.
		invoke(map[string]any{"type": 3, "message_id": orig.ID, "data": map[string]any{"component_type": 2, "custom_id": "again"}})
		if m := history()[1]; m.ID != orig.ID || m.Content != "clicked" {
			t.Fatalf("after the click %+v", m)
		}

		// A modal, then an answer only its user sees.
		invoke(map[string]any{"type": 2, "nonce": "n2", "data": map[string]any{"id": form.ID, "name": "form", "type": 1}})
		uev.want(t, "INTERACTION_MODAL_CREATE", `"custom_id":"survey"`)
		invoke(map[string]any{"type": 5, "data": map[string]any{"custom_id": "survey", "components": []any{
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "color", "value": "green"}}}}}})
		secret := uev.want(t, "MESSAGE_CREATE", "thanks for green", `"flags":64`)
		if msgs := history(); len(msgs) != 2 {
			t.Fatalf("an ephemeral answer entered history: %+v", msgs)
		}
		// Dispatches reach a session in order: once the bystander sees a
		// later public message, it would have seen the ephemeral one.
		_, err = user.ChannelMessageSend(f.channel, "after the survey")
		check("marker", err)
		bev.want(t, "MESSAGE_CREATE", "after the survey")
		for _, e := range bev.drain() {
			if strings.Contains(e, "thanks for green") {
				t.Fatalf("the bystander saw the ephemeral answer: %s", e)
			}
		}

		// A click on the ephemeral answer's button: it is updated for its
		// user alone, and history is as it was.
		var eph struct{ ID string }
		check("ephemeral message", json.Unmarshal([]byte(secret[strings.IndexByte(secret, ' ')+1:]), &eph))
		invoke(map[string]any{"type": 3, "message_id": eph.ID, "data": map[string]any{"component_type": 2, "custom_id": "again"}})
		uev.want(t, "MESSAGE_UPDATE", eph.ID, "clicked", `"flags":64`)
		if msgs := history(); len(msgs) != 3 || msgs[0].Content != "after the survey" {
			t.Fatalf("history after a click on an ephemeral answer: %+v", msgs)
		}
		_, err = user.ChannelMessageSend(f.channel, "after the click")
		check("marker", err)
		bev.want(t, "MESSAGE_CREATE", "after the click")
		for _, e := range bev.drain() {
			if strings.Contains(e, eph.ID) {
				t.Fatalf("the bystander saw the ephemeral update: %s", e)
			}
		}
	})
}

// answer is the bot's side of TestInteractionsWithDiscordgo, written as a
// discordgo bot is.
func answer(s *discordgo.Session, i *discordgo.InteractionCreate) error {
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
		if err != nil {
			return fmt.Errorf("edit original: %w", err)
		}
		if i.Member == nil || i.Member.User == nil || i.Member.Permissions == 0 || i.AppPermissions == 0 || i.Token == "" {
			return fmt.Errorf("interaction lacks what bots read: %+v", i.Interaction)
		}
		return nil
	case discordgo.InteractionMessageComponent:
		return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage,
			Data: &discordgo.InteractionResponseData{Content: "clicked"}})
	case discordgo.InteractionModalSubmit:
		d := i.ModalSubmitData()
		value := d.Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.TextInput).Value
		return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "thanks for " + value, Flags: discordgo.MessageFlagsEphemeral,
				Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.Button{Label: "Again", Style: discordgo.PrimaryButton, CustomID: "again"}}}}}})
	}
	raw, _ := json.Marshal(i.Interaction)
	return fmt.Errorf("unexpected interaction %s", strings.TrimSpace(string(raw)))
}

// TestInteractionRefusals checks the interaction clocks and tokens, who may
// invoke what, and how options are checked.
func TestInteractionRefusals(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
	pointDiscordgo(t, h.srv.URL)
	startGateway(t, h)
	f := newBotGuild(t, h)
	app := fmt.Sprint(f.app.ID)
	bot, _ := discordgo.New(f.botToken)
	got := make(chan *discordgo.Interaction, 8)
	bot.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { got <- i.Interaction })
	if err := bot.Open(); err != nil {
		t.Fatal(err)
	}
	defer bot.Close()
	perms := int64(discordgo.PermissionManageGuild)
	var cmd struct{ ID string }
	st, b := h.do("POST", "/applications/"+app+"/guilds/"+f.guild+"/commands", f.botToken, map[string]any{"name": "roll", "description": "Roll",
		"options": []any{map[string]any{"type": 4, "name": "sides", "description": "How many", "required": true, "min_value": 2, "max_value": 100}}})
	h.want(st, 201, b, &cmd)
	st, b = h.do("POST", "/applications/"+app+"/guilds/"+f.guild+"/commands", f.botToken, map[string]any{"name": "admin", "description": "For admins",
		"default_member_permissions": fmt.Sprint(perms)})
	h.want(st, 201, b, nil)
	var admin struct{ ID string }
	json.Unmarshal(b, &admin)

	invoke := func(token string, data map[string]any) (int, []byte) {
		return h.do("POST", "/interactions", token, map[string]any{"type": 2, "application_id": app, "guild_id": f.guild,
			"channel_id": f.channel, "data": data})
	}
	roll := func(sides any) map[string]any {
		return map[string]any{"id": cmd.ID, "name": "roll", "type": 1, "options": []any{map[string]any{"name": "sides", "type": 4, "value": sides}}}
	}
	for _, tc := range []struct {
		name string
		data map[string]any
	}{
		{"out of range", roll(1)},
		{"not an integer", roll(2.5)},
		{"missing required", map[string]any{"id": cmd.ID, "name": "roll", "type": 1}},
		{"unknown option", map[string]any{"id": cmd.ID, "name": "roll", "type": 1, "options": []any{map[string]any{"name": "x", "type": 4, "value": 3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := invoke(f.owner.Token, tc.data)
			wantFormError(t, st, b, "data.options")
		})
	}
	st, b = invoke(f.owner.Token, map[string]any{"id": "123", "name": "roll", "type": 1})
	wantError(t, st, b, 404, 10063)
	st, b = invoke(f.botToken, roll(6))
	wantError(t, st, b, 403, 20001) // bots do not invoke

	// default_member_permissions keeps a member out; an override lets them in.
	member := h.register("member")
	var inv struct{ Code string }
	st, b = h.do("POST", "/channels/"+f.channel+"/invites", f.owner.Token, map[string]any{})
	h.want(st, 200, b, &inv)
	st, b = h.do("POST", "/invites/"+inv.Code, member.Token, nil)
	h.want(st, 200, b, nil)
	st, b = invoke(member.Token, map[string]any{"id": admin.ID, "name": "admin", "type": 1})
	wantError(t, st, b, 403, 50013)
	st, b = h.do("PUT", "/applications/"+app+"/guilds/"+f.guild+"/commands/"+admin.ID+"/permissions", f.owner.Token,
		map[string]any{"permissions": []any{map[string]any{"id": member.UserID.String(), "type": 2, "permission": true}}})
	h.want(st, 200, b, nil)
	st, b = invoke(member.Token, map[string]any{"id": admin.ID, "name": "admin", "type": 1})
	h.want(st, 204, b, nil)
	<-got

	// The clocks and the token.
	st, b = invoke(f.owner.Token, roll(6))
	h.want(st, 204, b, nil)
	i := <-got
	callback := "/interactions/" + i.ID + "/" + i.Token + "/callback"
	reply := map[string]any{"type": 4, "data": map[string]any{"content": "4"}}
	st, b = h.do("POST", "/interactions/"+i.ID+"/wrong/callback", "", reply)
	wantError(t, st, b, 404, 10062)
	st, b = h.do("POST", "/webhooks/"+app+"/"+i.Token, "", map[string]any{"content": "too early"})
	wantError(t, st, b, 404, 10008)
	st, b = h.do("POST", callback+"?with_response=True", "", reply)
	var withResponse struct {
		Interaction struct{ ID string } `json:"interaction"`
		Resource    struct {
			Type    int
			Message struct{ Content string }
		}
	}
	h.want(st, 200, b, &withResponse)
	if withResponse.Interaction.ID != i.ID || withResponse.Resource.Type != 4 || withResponse.Resource.Message.Content != "4" {
		t.Fatalf("with_response %s", b)
	}
	st, b = h.do("POST", callback, "", reply)
	wantError(t, st, b, 400, 40060)
	st, b = h.do("GET", "/webhooks/"+app+"/"+i.Token+"/messages/@original", "", nil)
	h.want(st, 200, b, nil)
	st, b = h.do("GET", "/webhooks/"+app+"/nope/messages/@original", "", nil)
	wantError(t, st, b, 404, 10015)

	st, b = invoke(f.owner.Token, roll(6))
	h.want(st, 204, b, nil)
	late := <-got
	h.clock.Add(4 * time.Second)
	st, b = h.do("POST", "/interactions/"+late.ID+"/"+late.Token+"/callback", "", reply)
	wantError(t, st, b, 404, 10062)
	h.clock.Add(15 * time.Minute)
	st, b = h.do("GET", "/webhooks/"+app+"/"+i.Token+"/messages/@original", "", nil)
	wantError(t, st, b, 404, 10015) // the token died after 15 minutes

	// Only a bot may say its message answers an interaction.
	st, b = h.do("POST", "/channels/"+f.channel+"/messages", f.owner.Token, map[string]any{"content": "x",
		"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 1, "label": "x", "custom_id": "x"}}}}})
	wantFormError(t, st, b, "components")
}
