package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"concord/node"
)

// TestPingBot runs the README's flow against a real node: a user registers,
// makes an application, authorizes its bot into a new guild, and the bot
// answers "!ping".
func TestPingBot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := node.DefaultConfig()
	cfg.Node.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Federation.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Federation.MDNS = false
	n, err := node.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	defer func() {
		cancel()
		<-ran
	}()
	c := client{t: t, base: n.URL()}

	var user struct{ Token string }
	c.call("POST", "/auth/register", "", map[string]any{"username": "alice", "password": "correct horse battery"}, &user)
	var app struct {
		ID  string
		Bot struct{ ID string }
	}
	c.call("POST", "/applications", user.Token, map[string]any{"name": "pingbot"}, &app)
	var bot struct{ Token string }
	c.call("POST", "/applications/"+app.ID+"/bot/reset", user.Token, nil, &bot)
	c.call("PATCH", "/applications/"+app.ID, user.Token, map[string]any{"flags": 1 << 18}, nil) // GATEWAY_MESSAGE_CONTENT
	var g struct{ ID string }
	c.call("POST", "/guilds", user.Token, map[string]any{"name": "ping test"}, &g)
	var channels []struct{ ID string }
	c.call("GET", "/guilds/"+g.ID+"/channels", user.Token, nil, &channels)
	c.call("POST", "/oauth2/authorize?client_id="+app.ID+"&scope=bot&permissions=3072", user.Token,
		map[string]any{"guild_id": g.ID, "permissions": "3072", "authorize": true}, nil)

	connected := make(chan struct{}, 1)
	botCtx, stopBot := context.WithCancel(ctx)
	botDone := make(chan error, 1)
	go func() {
		botDone <- run(botCtx, n.URL(), bot.Token, func(format string, args ...any) {
			t.Logf(format, args...)
			if strings.HasPrefix(format, "connected") {
				connected <- struct{}{}
			}
		})
	}()
	defer func() {
		stopBot()
		if err := <-botDone; err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-connected:
	case err := <-botDone:
		t.Fatalf("bot stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the bot did not connect")
	}

	ch := channels[0].ID
	c.call("POST", "/channels/"+ch+"/messages", user.Token, map[string]any{"content": "!ping"}, nil)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var msgs []struct {
			Content string
			Author  struct{ ID string }
		}
		c.call("GET", "/channels/"+ch+"/messages?limit=5", user.Token, nil, &msgs)
		for _, m := range msgs {
			if m.Content == "pong!" && m.Author.ID == app.Bot.ID {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no pong from the bot")
}

type client struct {
	t    *testing.T
	base string
}

// call sends a JSON request to the node's API and decodes a 2xx answer.
func (c client) call(method, path, token string, body, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+"/api/v10"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatal(fmt.Errorf("%s %s: %w: %s", method, path, err, b))
		}
	}
}
