package web_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// pointDiscordgo aims discordgo at the node for the test: its endpoints are
// package variables, some derived from others when it started.
func pointDiscordgo(t *testing.T, base string) {
	vars := []*string{&discordgo.EndpointAPI, &discordgo.EndpointApplications, &discordgo.EndpointGateway, &discordgo.EndpointGatewayBot}
	saved := make([]string, len(vars))
	for i, v := range vars {
		saved[i] = *v
	}
	t.Cleanup(func() {
		for i, v := range vars {
			*v = saved[i]
		}
	})
	discordgo.EndpointAPI = base + "/api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointApplications = discordgo.EndpointAPI + "applications"
	discordgo.EndpointGateway = discordgo.EndpointAPI + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
}

// diceBot answers /roll with an embed, a button, a link and a select,
// updates its message when they are used, suggests games for /game start
// as their title is typed, answers /form with a modal whose submission it
// thanks for in private, never answers /silent, quotes a message or
// waves at a user from their Apps menus, and answers /ping anywhere.
func diceBot(s *discordgo.Session, i *discordgo.InteractionCreate) error {
	rolled := func(content string) *discordgo.InteractionResponseData {
		return &discordgo.InteractionResponseData{Content: content,
			Embeds: []*discordgo.MessageEmbed{{Title: "Dice", Description: "a **fair** die", Color: 0x5865f2,
				Fields: []*discordgo.MessageEmbedField{{Name: "Result", Value: "4", Inline: true}}, Footer: &discordgo.MessageEmbedFooter{Text: "rolled by a bot"}}},
			Components: []discordgo.MessageComponent{
				discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.Button{Label: "Roll again", Style: discordgo.PrimaryButton, CustomID: "again"},
					discordgo.Button{Label: "Rules", Style: discordgo.LinkButton, URL: "https://example.org/rules"}}},
				discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.SelectMenu{CustomID: "die", Placeholder: "Pick a die", Options: []discordgo.SelectMenuOption{
						{Label: "Six sides", Value: "d6"}, {Label: "Twenty sides", Value: "d20"}}}}}}}
	}
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		d := i.ApplicationCommandData()
		switch d.Name {
		case "roll":
			note := ""
			for _, o := range d.Options[1:] {
				note = " (" + o.StringValue() + ")"
			}
			return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: rolled(fmt.Sprintf("rolled a d%d%s", d.Options[0].IntValue(), note))})
		case "game":
			return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "starting " + d.Options[0].Options[0].StringValue()}})
		case "form":
			return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal,
				Data: &discordgo.InteractionResponseData{CustomID: "survey", Title: "Survey", Components: []discordgo.MessageComponent{
					discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "color", Label: "Favourite colour", Style: discordgo.TextInputShort, Required: true}}}}}})
		case "ping":
			return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "pong"}})
		case "Quote":
			return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "quoted: " + d.Resolved.Messages[d.TargetID].Content}})
		case "Wave":
			return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "waved at " + d.Resolved.Users[d.TargetID].Username}})
		}
		return nil // /silent
	case discordgo.InteractionApplicationCommandAutocomplete:
		typed := strings.ToLower(i.ApplicationCommandData().Options[0].Options[0].StringValue())
		var choices []*discordgo.ApplicationCommandOptionChoice
		for _, g := range []string{"Chess", "Checkers", "Go"} {
			if strings.HasPrefix(strings.ToLower(g), typed) {
				choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: g, Value: strings.ToLower(g) + "-v1"})
			}
		}
		return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: choices}})
	case discordgo.InteractionMessageComponent:
		d := i.MessageComponentData()
		content := "rolled again"
		if d.CustomID == "die" {
			content = "picked " + strings.Join(d.Values, ",")
		}
		return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage, Data: rolled(content)})
	case discordgo.InteractionModalSubmit:
		v := i.ModalSubmitData().Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.TextInput).Value
		return s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "thanks for " + v, Flags: discordgo.MessageFlagsEphemeral}})
	}
	return fmt.Errorf("unexpected interaction type %d", i.Type)
}

// TestSlashCommands: a person finds a bot's command by typing "/", fills
// its options through the autocomplete, and sees the bot's answer with
// its embed and components, which both people use; options typed wrongly
// are said before anything is sent, a bot that does not answer is said
// and the text comes back, a modal's answer only its writer sees; a bot's
// suggestions, its Apps on messages and people, and its commands in a DM
// with it. At a desktop's width and at a phone's.
func TestSlashCommands(t *testing.T) {
	url := startNode(t)
	pointDiscordgo(t, url)
	browser := newBrowser(t)
	atEachWidth(t, func(t *testing.T, size [2]int64, narrow bool) { slashCommands(t, url, browser, size, narrow) })
}

func slashCommands(t *testing.T, url string, browser context.Context, size [2]int64, narrow bool) {
	suffix := map[bool]string{false: "d", true: "p"}[narrow]
	amy := newPerson(t, browser, url, "amy"+suffix, size)
	ben := newPerson(t, browser, url, "ben"+suffix, size)
	amy.register("correct horse battery")
	ben.register("staple battery horse")
	path, gid, _ := amy.meet("Game night", ben)

	// Amy makes a bot and adds it to the guild; it registers its commands.
	var app struct{ ID string }
	amy.api("POST", "/applications", map[string]any{"name": "Dice" + suffix}, &app)
	var reset struct{ Token string }
	amy.api("POST", "/applications/"+app.ID+"/bot/reset", nil, &reset)
	amy.api("POST", "/oauth2/authorize?client_id="+app.ID+"&scope=bot+applications.commands&permissions=3072", map[string]any{"guild_id": gid, "authorize": true}, nil)
	bot, err := discordgo.New("Bot " + reset.Token)
	if err != nil {
		t.Fatal(err)
	}
	bot.Identify.Intents = discordgo.IntentsGuilds
	var mu sync.Mutex
	var botErrs []error
	ready := make(chan struct{})
	bot.AddHandlerOnce(func(*discordgo.Session, *discordgo.Ready) { close(ready) })
	bot.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		if err := diceBot(s, i); err != nil {
			mu.Lock()
			botErrs = append(botErrs, err)
			mu.Unlock()
		}
	})
	if err := bot.Open(); err != nil {
		t.Fatalf("bot: %v", err)
	}
	defer bot.Close()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("the bot never got READY")
	}
	min, max := 2.0, 100.0
	for _, c := range []*discordgo.ApplicationCommand{
		{Name: "roll", Description: "Roll a die", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionInteger, Name: "sides", Description: "How many sides", Required: true, MinValue: &min, MaxValue: max},
			{Type: discordgo.ApplicationCommandOptionString, Name: "note", Description: "Why you roll"}}},
		{Name: "game", Description: "Play a game", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "start", Description: "Start one", Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "title", Description: "Which game", Required: true, Autocomplete: true}}}}},
		{Name: "form", Description: "Fill in a survey"},
		{Name: "silent", Description: "Never answered"},
		{Name: "Quote", Type: discordgo.MessageApplicationCommand},
		{Name: "Wave", Type: discordgo.UserApplicationCommand},
	} {
		if _, err := bot.ApplicationCommandCreate(app.ID, gid, c); err != nil {
			t.Fatalf("create /%s: %v", c.Name, err)
		}
	}
	if _, err := bot.ApplicationCommandCreate(app.ID, "", &discordgo.ApplicationCommand{Name: "ping", Description: "Ping the bot"}); err != nil {
		t.Fatalf("create /ping: %v", err)
	}

	amy.open(path)
	ben.open(path)
	amy.wait(`document.querySelector('.welcome')`)

	// "/" offers the guild's commands; Tab takes one, then its first option.
	amy.typeIn(`.composer textarea`, "/ro")
	amy.wait(`!document.querySelector('.autocomplete').hidden && document.querySelector('.acitem').textContent.includes('/roll') && document.querySelector('.acitem').textContent.includes('Dice')`)
	amy.shot("1-commands")
	amy.do(chromedp.KeyEvent(kb.Tab))
	amy.wait(`document.querySelector('.composer textarea').value === '/roll ' && !document.querySelector('.cmdhint').hidden && document.querySelector('.acitem') && document.querySelector('.acitem').textContent.startsWith('sides:')`)
	amy.do(chromedp.KeyEvent(kb.Tab))
	amy.typeIn(`.composer textarea`, "20 note:for luck")
	amy.wait(`document.querySelector('.composer textarea').value === '/roll sides:20 note:for luck'`)
	amy.shot("2-options")
	amy.enter(`.composer textarea`)
	answer := `[...document.querySelectorAll('.msg')].find((m) => m.querySelector('.used') && m.textContent.includes('rolled a d20 (for luck)'))`
	for _, p := range []*person{amy, ben} {
		p.wait(answer + ` && ` + answer + `.querySelector('.used').textContent.includes('` + amy.name + ` used /roll') && ` + answer + `.querySelector('.embed .etitle').textContent === 'Dice'`)
	}
	amy.wait(`document.querySelector('.composer textarea').value === '' && document.querySelector('.cmdstatus').hidden`)
	amy.shot("3-answer")

	// Ben clicks the button, Amy picks from the select; both see each update.
	ben.clickX(`//div[contains(@class,"crow")]/button[text()="Roll again"]`)
	amy.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent.startsWith('rolled again'))`)
	amy.eval(`(() => { const s = document.querySelector('select.cselect'); s.value = 'd6'; s.dispatchEvent(new Event('change')); })()`, nil)
	ben.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent.startsWith('picked d6'))`)
	ben.shot("4-updated")

	// A subcommand, then an option whose choices the bot suggests as it is
	// typed: the choice's name is shown, its value sent.
	amy.typeIn(`.composer textarea`, "/game ")
	amy.wait(`document.querySelector('.acitem') && document.querySelector('.acitem').textContent.startsWith('start')`)
	amy.do(chromedp.KeyEvent(kb.Tab))
	amy.wait(`document.querySelector('.composer textarea').value === '/game start ' && document.querySelector('.acitem') && document.querySelector('.acitem').textContent.startsWith('title:')`)
	amy.do(chromedp.KeyEvent(kb.Tab))
	amy.typeIn(`.composer textarea`, "ch")
	amy.wait(`[...document.querySelectorAll('.acitem')].map((a) => a.textContent).join() === 'Chess,Checkers'`)
	amy.shot("4-suggested")
	amy.do(chromedp.KeyEvent(kb.Tab))
	amy.wait(`document.querySelector('.composer textarea').value === '/game start title:Chess '`)
	amy.enter(`.composer textarea`)
	ben.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'starting chess-v1')`)

	// Options typed wrongly are said, and nothing is sent.
	amy.typeIn(`.composer textarea`, "/roll sides:many")
	amy.enter(`.composer textarea`)
	amy.wait(`document.querySelector('.cmdstatus.failed') && document.querySelector('.cmdstatus').textContent.includes('sides must be a whole number') && document.querySelector('.composer textarea').value === '/roll sides:many'`)
	amy.shot("5-bad-options")
	amy.click(`.cmdstatus button[aria-label="Dismiss"]`)
	amy.eval(`(() => { const a = document.querySelector('.composer textarea'); a.value = ''; a.dispatchEvent(new Event('input')); })()`, nil)

	// A bot that never answers: the failure is said and the text returns.
	amy.typeIn(`.composer textarea`, "/silent")
	amy.wait(`!document.querySelector('.cmdhint').hidden && !document.querySelector('.autocomplete').hidden`)
	amy.enter(`.composer textarea`) // takes the offered command
	amy.wait(`document.querySelector('.composer textarea').value === '/silent ' && document.querySelector('.autocomplete').hidden`)
	amy.enter(`.composer textarea`)
	amy.wait(`document.querySelector('.cmdstatus.failed') && document.querySelector('.cmdstatus').textContent.includes('did not respond') && document.querySelector('.composer textarea').value === '/silent'`)
	amy.shot("6-no-answer")
	amy.eval(`(() => { const a = document.querySelector('.composer textarea'); a.value = ''; a.dispatchEvent(new Event('input')); })()`, nil)

	// A modal; its answer is Amy's alone, and she dismisses it.
	amy.typeIn(`.composer textarea`, "/form ")
	amy.wait(`!document.querySelector('.cmdhint').hidden`)
	amy.enter(`.composer textarea`)
	amy.wait(`document.querySelector('dialog.modal') && document.querySelector('dialog.modal h2').textContent === 'Survey'`)
	amy.typeIn(`dialog.modal input`, "green")
	amy.shot("7-modal")
	amy.click(`dialog.modal button[type=submit]`)
	amy.wait(`[...document.querySelectorAll('.msg.ephemeral')].some((m) => m.textContent.includes('thanks for green') && m.textContent.includes('Only you can see this'))`)
	amy.shot("8-ephemeral")
	// The dialog closes once the node says the bot answered.
	amy.wait(`!document.querySelector('dialog.modal')`)
	amy.send("after the survey")
	ben.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'after the survey')`)
	var seen int
	ben.eval(`[...document.querySelectorAll('.msg')].filter((m) => m.textContent.includes('thanks for')).length`, &seen)
	if seen != 0 {
		t.Errorf("ben sees amy's private answer")
	}
	amy.clickX(`//div[contains(@class,"ephnote")]/button[text()="Dismiss message"]`)
	amy.wait(`![...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('thanks for green'))`)

	// Apps: Ben quotes Amy's message from its actions, Amy waves at Ben
	// from his popout.
	ben.eval(action("after the survey", "Apps"), nil)
	ben.clickX(`//div[@role="menu"]//button[text()="Quote"]`)
	amy.wait(`[...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('` + ben.name + ` used Quote') && m.textContent.includes('quoted: after the survey'))`)
	if narrow {
		amy.click(`.membersbtn`)
	}
	amy.click(`.members .member[aria-label^="` + ben.name + `"]`)
	amy.clickX(`//div[contains(@class,"pactions")]/button[text()="Apps"]`)
	amy.shot("9-apps")
	amy.clickX(`//div[@role="menu"]//button[text()="Wave"]`)
	ben.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'waved at ` + ben.name + `')`)

	// In a DM with the bot, its global commands.
	var dm struct{ ID string }
	ben.api("POST", "/users/@me/channels", map[string]any{"recipient_id": app.ID}, &dm)
	ben.open("/channels/@me/" + dm.ID)
	ben.typeIn(`.composer textarea`, "/pi")
	ben.wait(`document.querySelector('.acitem') && document.querySelector('.acitem').textContent.startsWith('/ping')`)
	ben.do(chromedp.KeyEvent(kb.Tab))
	ben.wait(`document.querySelector('.composer textarea').value === '/ping '`)
	ben.enter(`.composer textarea`)
	ben.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'pong')`)
	ben.shot("10-dm")

	mu.Lock()
	for _, err := range botErrs {
		t.Errorf("bot: %v", err)
	}
	mu.Unlock()
	amy.clean()
	ben.clean()
}
