package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestVoiceThroughTheGateway follows Discord's flow through a whole node:
// gateway op 4 → VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE → the voice
// gateway at the endpoint given → Identify → Ready.
func TestVoiceThroughTheGateway(t *testing.T) {
	n := startNode(t, testConfig(t))
	base := n.URL() + "/api/v10"
	call := func(method, path, token string, body any, out any) {
		t.Helper()
		st, data := apiCall(t, base, method, path, token, body)
		if st >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, st, data)
		}
		json.Unmarshal(data, out)
	}
	var user struct {
		UserID string `json:"user_id"`
		Token  string `json:"token"`
	}
	call("POST", "/auth/register", "", map[string]string{"username": "alice", "password": "correct horse battery"}, &user)
	var g, ch struct {
		ID string `json:"id"`
	}
	call("POST", "/guilds", user.Token, map[string]string{"name": "guild"}, &g)
	call("POST", "/guilds/"+g.ID+"/channels", user.Token, map[string]any{"name": "lounge", "type": 2}, &ch)

	gw, _, err := websocket.DefaultDialer.Dial(strings.Replace(n.URL(), "http", "ws", 1)+"/gateway?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	type frame struct {
		Op int             `json:"op"`
		T  string          `json:"t"`
		D  json.RawMessage `json:"d"`
	}
	next := func(ws *websocket.Conn, want func(f frame) bool) frame {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			var f frame
			if err := ws.ReadJSON(&f); err != nil {
				t.Fatal(err)
			}
			if want(f) {
				return f
			}
		}
	}
	next(gw, func(f frame) bool { return f.Op == 10 })
	gw.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": user.Token, "intents": 1 << 7,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"}}})
	var ready struct {
		SessionID string `json:"session_id"`
	}
	json.Unmarshal(next(gw, func(f frame) bool { return f.T == "READY" }).D, &ready)
	gw.WriteJSON(map[string]any{"op": 4, "d": map[string]any{"guild_id": g.ID, "channel_id": ch.ID, "self_mute": false, "self_deaf": false}})
	next(gw, func(f frame) bool { return f.T == "VOICE_STATE_UPDATE" })
	var server struct {
		Token    string `json:"token"`
		GuildID  string `json:"guild_id"`
		Endpoint string `json:"endpoint"`
	}
	json.Unmarshal(next(gw, func(f frame) bool { return f.T == "VOICE_SERVER_UPDATE" }).D, &server)
	if server.GuildID != g.ID || server.Token == "" || !strings.HasSuffix(server.Endpoint, "/voice") {
		t.Fatalf("VOICE_SERVER_UPDATE %+v", server)
	}

	vc, _, err := websocket.DefaultDialer.Dial("ws://"+server.Endpoint+"?v=8", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	next(vc, func(f frame) bool { return f.Op == 8 })
	vc.WriteJSON(map[string]any{"op": 0, "d": map[string]string{"server_id": g.ID, "user_id": user.UserID,
		"session_id": ready.SessionID, "token": server.Token}})
	var r struct {
		Modes []string `json:"modes"`
		Port  int      `json:"port"`
		SSRC  uint32   `json:"ssrc"`
	}
	json.Unmarshal(next(vc, func(f frame) bool { return f.Op == 2 }).D, &r)
	if fmt.Sprint(r.Modes) != "[aead_aes256_gcm_rtpsize aead_xchacha20_poly1305_rtpsize xsalsa20_poly1305 webrtc]" || r.Port == 0 || r.SSRC == 0 {
		t.Errorf("Ready %+v", r)
	}
}

// TestVoiceConnectionsPerAddress: the voice gateway holds at most
// gateway_connections_per_address connections of one client address, as
// the gateway does; a closed one frees its place.
func TestVoiceConnectionsPerAddress(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.GatewayConnectionsPerAddress = 2
	n := startNode(t, cfg)
	url := strings.Replace(n.URL(), "http", "ws", 1) + voicePath + "?v=8"
	var open []*websocket.Conn
	for range 2 {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		open = append(open, ws)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third connection from one address: %v %v", resp, err)
	}
	open[0].Close()
	waitUntil(t, "the closed connection's place", func() bool {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil {
			ws.Close()
		}
		return err == nil
	})
}
