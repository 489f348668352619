package clientapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"concord/storage"
	"concord/storage/storagetest"
)

// TestWebhooksWithDiscordgo runs an integration as people set one up: the
// owner makes a webhook with discordgo, a CI job posts through its URL with
// no account, edits and deletes what it posted, renames the webhook by its
// token, a manager moves it, and the token dies with the webhook.
func TestWebhooksWithDiscordgo(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		pointDiscordgo(t, h.srv.URL)
		startGateway(t, h)
		f := newBotGuild(t, h)
		check := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		owner, _ := discordgo.New(f.owner.Token)
		owner.Identify.Intents = discordgo.IntentsAll
		ev := watch(t, owner)
		check("open", owner.Open())
		defer owner.Close()
		ev.want(t, "READY")

		avatar, png := pngDataURI(t)
		hook, err := owner.WebhookCreate(f.channel, "CI", avatar)
		check("create", err)
		if hook.Token == "" || len(hook.Token) != 68 || hook.User == nil || hook.User.ID != f.owner.UserID.String() ||
			hook.ChannelID != f.channel || hook.GuildID != f.guild || hook.Avatar == "" || hook.Type != discordgo.WebhookTypeIncoming {
			t.Fatalf("created %+v", hook)
		}
		ev.want(t, "WEBHOOKS_UPDATE", `"channel_id":"`+f.channel+`"`)
		// The token was shown once; the node keeps only its hash.
		var again struct{ Name, Token, URL string }
		st, b := h.do("GET", "/webhooks/"+hook.ID, f.owner.Token, nil)
		h.want(st, 200, b, &again)
		if again.Name != "CI" || again.Token != "" || again.URL != "" {
			t.Fatalf("read back %s", b)
		}
		var stored []byte
		db.Reader().QueryRowContext(t.Context(), `SELECT token_hash FROM webhook_tokens WHERE webhook_id = ?`, hook.ID).Scan(&stored)
		if want := sha256.Sum256([]byte(hook.Token)); !bytes.Equal(stored, want[:]) {
			t.Fatalf("stored %x for the token", stored)
		}
		list, err := owner.ChannelWebhooks(f.channel)
		check("channel webhooks", err)
		all, err := owner.GuildWebhooks(f.guild)
		check("guild webhooks", err)
		if len(list) != 1 || len(all) != 1 || list[0].ID != hook.ID || list[0].Token != "" {
			t.Fatalf("listed %+v and %+v", list, all)
		}

		// The CI job has the URL and nothing else.
		ci, _ := discordgo.New("")
		msg, err := ci.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{
			Content: "build 42 passed @everyone", Username: "Builder",
			Embeds: []*discordgo.MessageEmbed{{Title: "Build 42", Color: 0x2eb886}},
			Files:  []*discordgo.File{{Name: "log.txt", ContentType: "text/plain", Reader: strings.NewReader("ok\n")}},
		})
		check("execute", err)
		if msg.WebhookID != hook.ID || msg.Author.ID != hook.ID || msg.Author.Username != "Builder" || !msg.Author.Bot ||
			msg.Author.Avatar != hook.Avatar || !msg.MentionEveryone || len(msg.Embeds) != 1 || len(msg.Attachments) != 1 {
			t.Fatalf("posted %+v by %+v", msg, msg.Author)
		}
		ev.want(t, "MESSAGE_CREATE", `"webhook_id":"`+hook.ID+`"`, `"username":"Builder"`)
		none, err := ci.WebhookExecute(hook.ID, hook.Token, false, &discordgo.WebhookParams{Content: "quiet"})
		if err != nil || none != nil {
			t.Fatalf("execute without wait: %+v, %v", none, err)
		}
		ev.want(t, "MESSAGE_CREATE", `"content":"quiet"`, `"username":"CI"`)

		text := "build 42 passed (edited)"
		edited, err := ci.WebhookMessageEdit(hook.ID, hook.Token, msg.ID, &discordgo.WebhookEdit{Content: &text})
		check("edit", err)
		got, err := ci.WebhookMessage(hook.ID, hook.Token, msg.ID)
		check("get", err)
		if edited.Content != text || got.Content != text || got.EditedTimestamp == nil || got.Author.Username != "Builder" {
			t.Fatalf("edited %+v, read back %+v", edited, got)
		}
		history, err := owner.ChannelMessages(f.channel, 10, "", "", "")
		check("history", err)
		if len(history) != 2 || history[1].ID != msg.ID || history[1].Author.Username != "Builder" || history[1].WebhookID != hook.ID {
			t.Fatalf("history %+v", history)
		}
		check("delete message", ci.WebhookMessageDelete(hook.ID, hook.Token, history[0].ID))
		if _, err := ci.WebhookMessage(hook.ID, hook.Token, history[0].ID); !restCode(err, 10008) {
			t.Fatalf("deleted message: %v", err)
		}
		// A member's message is not the webhook's to read or touch.
		mine, err := owner.ChannelMessageSend(f.channel, "mine")
		check("owner sends", err)
		if _, err := ci.WebhookMessage(hook.ID, hook.Token, mine.ID); !restCode(err, 10008) {
			t.Fatalf("reading another's message: %v", err)
		}

		// Its avatar is served where Discord's CDN serves it.
		resp, err := http.Get(h.srv.URL + "/avatars/" + hook.ID + "/" + hook.Avatar + ".png")
		check("avatar", err)
		served, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(served, png) {
			t.Fatalf("avatar: %d, %d bytes", resp.StatusCode, len(served))
		}

		renamed, err := ci.WebhookEditWithToken(hook.ID, hook.Token, "Deploys", "")
		check("rename by token", err)
		if renamed.Name != "Deploys" || renamed.User != nil {
			t.Fatalf("renamed %+v", renamed)
		}
		other, err := owner.GuildChannelCreate(f.guild, "deploys", discordgo.ChannelTypeGuildText)
		check("channel", err)
		moved, err := owner.WebhookEdit(hook.ID, "", "", other.ID)
		check("move", err)
		if moved.ChannelID != other.ID || moved.Name != "Deploys" {
			t.Fatalf("moved %+v", moved)
		}
		msg, err = ci.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "deployed"})
		check("execute after the move", err)
		if msg.ChannelID != other.ID || msg.Author.Username != "Deploys" {
			t.Fatalf("posted after the move %+v", msg)
		}

		// The audit log names who made it.
		var audit struct {
			Entries []struct {
				ActionType int    `json:"action_type"`
				TargetID   string `json:"target_id"`
			} `json:"audit_log_entries"`
		}
		st, b = h.do("GET", "/guilds/"+f.guild+"/audit-logs?action_type=50", f.owner.Token, nil)
		h.want(st, 200, b, &audit)
		if len(audit.Entries) != 1 || audit.Entries[0].TargetID != hook.ID {
			t.Fatalf("audit log %s", b)
		}

		// A wrong token is refused as Discord refuses it; deleting the
		// webhook by its token ends it.
		if _, err := ci.WebhookExecute(hook.ID, wrongToken(hook.Token), true, &discordgo.WebhookParams{Content: "x"}); !restCode(err, 50027) {
			t.Fatalf("wrong token: %v", err)
		}
		if _, err := ci.WebhookDeleteWithToken(hook.ID, hook.Token); err != nil && !errors.Is(err, discordgo.ErrJSONUnmarshal) {
			t.Fatalf("delete by token: %v", err) // 204 has no body for discordgo to read
		}
		if _, err := ci.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "x"}); !restCode(err, 10015) {
			t.Fatalf("after deletion: %v", err)
		}
		if _, err := owner.Webhook(hook.ID); !restCode(err, 10015) {
			t.Fatalf("get after deletion: %v", err)
		}
		// Its messages stay, as posted.
		kept, err := owner.ChannelMessage(other.ID, msg.ID)
		check("message of a deleted webhook", err)
		if kept.Author.Username != "Deploys" || kept.WebhookID != hook.ID {
			t.Fatalf("kept %+v", kept)
		}
	})
}

// TestWebhookRefusals checks what a webhook route refuses, one thing at a
// time, and that nothing half-made is left.
func TestWebhookRefusals(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		f := newBotGuild(t, h)
		var hook struct{ ID, Token, URL string }
		st, b := h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{"name": "CI"})
		h.want(st, 200, b, &hook)
		if hook.URL != h.srv.URL+"/api/webhooks/"+hook.ID+"/"+hook.Token {
			t.Fatalf("url %q", hook.URL)
		}
		exec := func(body any, query string) (int, []byte) {
			return h.do("POST", "/webhooks/"+hook.ID+"/"+hook.Token+query, "", body)
		}

		// Who may not manage webhooks sees none and makes none.
		member := h.register("member")
		var invite struct{ Code string }
		st, b = h.do("POST", "/channels/"+f.channel+"/invites", f.owner.Token, map[string]any{})
		h.want(st, 200, b, &invite)
		st, b = h.do("POST", "/invites/"+invite.Code, member.Token, nil)
		h.want(st, 200, b, nil)
		st, b = h.do("POST", "/channels/"+f.channel+"/webhooks", member.Token, map[string]any{"name": "mine"})
		wantError(t, st, b, 403, 50013)
		st, b = h.do("GET", "/channels/"+f.channel+"/webhooks", member.Token, nil)
		wantError(t, st, b, 403, 50013)
		st, b = h.do("GET", "/guilds/"+f.guild+"/webhooks", member.Token, nil)
		wantError(t, st, b, 403, 50013)
		st, b = h.do("GET", "/webhooks/"+hook.ID, member.Token, nil)
		wantError(t, st, b, 403, 50013)
		st, b = h.do("DELETE", "/webhooks/"+hook.ID, member.Token, nil)
		wantError(t, st, b, 403, 50013)

		// Names and limits.
		st, b = h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{"name": "Discord news"})
		wantFormError(t, st, b, "name")
		st, b = h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{})
		wantFormError(t, st, b, "name")
		st, b = h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{"name": "x", "avatar": "data:image/png;base64,AAAA"})
		wantFormError(t, st, b, "avatar")
		for i := 1; i < 15; i++ {
			st, b = h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{"name": "hook"})
			h.want(st, 200, b, nil)
		}
		st, b = h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{"name": "one too many"})
		wantError(t, st, b, 400, 30007)
		var tokens int
		db.Reader().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM webhook_tokens`).Scan(&tokens)
		if tokens != 15 {
			t.Fatalf("%d tokens kept for 15 webhooks", tokens)
		}

		// What a post may not say.
		st, b = exec(map[string]any{"content": "hi", "username": "clyde"}, "")
		wantFormError(t, st, b, "username")
		st, b = exec(map[string]any{"content": "hi", "avatar_url": "javascript:alert(1)"}, "")
		wantFormError(t, st, b, "avatar_url")
		st, b = exec(map[string]any{"content": ""}, "")
		wantError(t, st, b, 400, 50006)
		st, b = exec(map[string]any{"content": strings.Repeat("x", 2001)}, "")
		wantFormError(t, st, b, "content")
		st, b = exec(map[string]any{"content": "hi", "components": []any{map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}}}}}, "")
		wantFormError(t, st, b, "components")
		h.clock.Add(2 * time.Second) // refused posts count against the limit too
		st, b = exec(map[string]any{"content": "hi"}, "?thread_id=123")
		wantFormError(t, st, b, "thread_id")
		st, b = h.do("POST", "/webhooks/"+hook.ID+"/"+hook.Token, "", "not an object")
		wantFormError(t, st, b, "_body")
		st, b = h.do("POST", "/webhooks/123/"+hook.Token, "", map[string]any{"content": "hi"})
		wantError(t, st, b, 404, 10015)
		st, b = h.do("POST", "/webhooks/nope/"+hook.Token, "", map[string]any{"content": "hi"})
		wantError(t, st, b, 404, 10015)
		// A link button is fine; so is a webhook moving nothing by token.
		h.clock.Add(2 * time.Second)
		st, b = exec(map[string]any{"content": "docs", "components": []any{map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 2, "style": 5, "label": "Docs", "url": "https://example.org"}}}}}, "?wait=true")
		h.want(st, 200, b, nil)
		st, b = h.do("PATCH", "/webhooks/"+hook.ID+"/"+hook.Token, "", map[string]any{"channel_id": f.channel})
		h.want(st, 200, b, nil)

		// Five posts per two seconds per webhook, as on Discord.
		h.clock.Add(2 * time.Second)
		for i := 0; i < 5; i++ {
			st, b = exec(map[string]any{"content": "tick"}, "")
			h.want(st, 204, b, nil)
		}
		st, b = exec(map[string]any{"content": "too fast"}, "")
		if st != 429 {
			t.Fatalf("sixth post in two seconds: %d %s", st, b)
		}
		h.clock.Add(2 * time.Second)
		st, b = exec(map[string]any{"content": "later"}, "")
		h.want(st, 204, b, nil)

		// A channel's deletion takes its webhooks and their tokens.
		st, b = h.do("DELETE", "/channels/"+f.channel, f.owner.Token, nil)
		h.want(st, 200, b, nil)
		st, b = exec(map[string]any{"content": "anyone there?"}, "")
		wantError(t, st, b, 404, 10015)
		st, b = h.do("GET", "/guilds/"+f.guild+"/webhooks", f.owner.Token, nil)
		if st != 200 || string(bytes.TrimSpace(b)) != "[]" {
			t.Fatalf("webhooks after their channel went: %d %s", st, b)
		}
	})
}

// TestWebhookSlackAndGitHub posts what Slack's and GitHub's tools send.
func TestWebhookSlackAndGitHub(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.WebhookMessagesPer2s = 100 })
		f := newBotGuild(t, h)
		var hook struct{ ID, Token string }
		st, b := h.do("POST", "/channels/"+f.channel+"/webhooks", f.owner.Token, map[string]any{"name": "Tools"})
		h.want(st, 200, b, &hook)
		post := func(path string, header http.Header, body string) (int, string) {
			req, _ := http.NewRequest("POST", h.srv.URL+"/api/webhooks/"+hook.ID+"/"+hook.Token+path, strings.NewReader(body))
			req.Header = header
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(out)
		}
		latest := func() map[string]any {
			var list []map[string]any
			st, b := h.do("GET", "/channels/"+f.channel+"/messages?limit=1", f.owner.Token, nil)
			h.want(st, 200, b, &list)
			return list[0]
		}

		st, body := post("/slack", http.Header{}, `{"text":"Deploy of <https://ci.example.org/7|build 7> done","username":"deploy-bot",
			"attachments":[{"color":"good","title":"prod","title_link":"https://example.org","text":"all green",
			"fields":[{"title":"Region","value":"eu","short":true}],"footer":"ci","ts":1700000000}]}`)
		if st != 200 || body != "ok" {
			t.Fatalf("slack: %d %q", st, body)
		}
		m := latest()
		embed := m["embeds"].([]any)[0].(map[string]any)
		if m["content"] != "Deploy of [build 7](https://ci.example.org/7) done" || m["author"].(map[string]any)["username"] != "deploy-bot" ||
			embed["color"] != float64(0x2eb886) || embed["title"] != "prod" || len(embed["fields"].([]any)) != 1 {
			t.Fatalf("slack message %v", m)
		}

		push := `{"ref":"refs/heads/main","compare":"https://github.com/o/r/compare/a...b","repository":{"full_name":"o/r","html_url":"https://github.com/o/r"},
			"sender":{"login":"octo","avatar_url":"https://example.org/o.png","html_url":"https://github.com/octo"},
			"commits":[{"id":"0123456789abcdef","message":"Fix the thing\n\nLong body","url":"https://github.com/o/r/commit/0123456","author":{"name":"Octo Cat"}},
			{"id":"fedcba9876543210","message":"Add tests","url":"https://github.com/o/r/commit/fedcba9","author":{"name":"Octo Cat"}}]}`
		st, body = post("/github", http.Header{"X-Github-Event": {"push"}}, push)
		if st != 204 {
			t.Fatalf("github push: %d %s", st, body)
		}
		embed = latest()["embeds"].([]any)[0].(map[string]any)
		if embed["title"] != "[o/r:main] 2 new commits" || !strings.Contains(embed["description"].(string), "[`0123456`](https://github.com/o/r/commit/0123456) Fix the thing - Octo Cat") ||
			embed["author"].(map[string]any)["name"] != "octo" {
			t.Fatalf("github push embed %v", embed)
		}
		issue := `{"action":"opened","issue":{"number":7,"title":"It broke","body":"Steps…","html_url":"https://github.com/o/r/issues/7"},
			"repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`
		st, body = post("/github", http.Header{"X-Github-Event": {"issues"}}, issue)
		if st != 204 {
			t.Fatalf("github issue: %d %s", st, body)
		}
		if embed = latest()["embeds"].([]any)[0].(map[string]any); embed["title"] != "[o/r] Issue opened: #7 It broke" {
			t.Fatalf("github issue embed %v", embed)
		}
		before := latest()["id"]
		st, body = post("/github", http.Header{"X-Github-Event": {"ping"}}, `{"zen":"Keep it logically awesome.","hook_id":1}`)
		if st != 204 || latest()["id"] != before {
			t.Fatalf("github ping: %d %s, and it posted", st, body)
		}
		st, body = post("/github", http.Header{"X-Github-Event": {"push"}}, `{"commits":`)
		var e struct{ Code int }
		json.Unmarshal([]byte(body), &e)
		if st != 400 || e.Code != 50035 {
			t.Fatalf("broken github payload: %d %s", st, body)
		}
	})
}

// wrongToken is token with its last character changed.
func wrongToken(token string) string {
	last := byte('x')
	if token[len(token)-1] == last {
		last = 'y'
	}
	return token[:len(token)-1] + string(last)
}
