package clientapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"concord/clientapi/auth"
	"concord/storage"
	"concord/storage/storagetest"
)

// rawGateway is a bare WebSocket client of h's gateway, for what discordgo
// hides: close codes, and frames a library would never send.
type rawGateway struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialGateway(t *testing.T, h *harness, header map[string]string) (*rawGateway, error) {
	t.Helper()
	hdr := map[string][]string{}
	for k, v := range header {
		hdr[k] = []string{v}
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(h.srv.URL, "http")+"/gateway?v=10", hdr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { ws.Close() })
	g := &rawGateway{t: t, ws: ws}
	if op, _, _ := g.next(); op != 10 {
		t.Fatalf("first frame op %d, want hello", op)
	}
	return g, nil
}

func (g *rawGateway) send(op int, d any) {
	g.t.Helper()
	if err := g.ws.WriteJSON(map[string]any{"op": op, "d": d}); err != nil {
		g.t.Fatal(err)
	}
}

// next reads one frame; a close comes back as its code in op's place,
// negated.
func (g *rawGateway) next() (op int, typ string, d json.RawMessage) {
	g.t.Helper()
	g.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f struct {
		Op int             `json:"op"`
		T  string          `json:"t"`
		D  json.RawMessage `json:"d"`
	}
	if err := g.ws.ReadJSON(&f); err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return -ce.Code, "", nil
		}
		g.t.Fatalf("read: %v", err)
	}
	return f.Op, f.T, f.D
}

// identify sends op 2 and returns READY's session_id.
func (g *rawGateway) identify(token string) string {
	g.t.Helper()
	g.send(2, map[string]any{"token": token, "intents": 1 << 9, "properties": map[string]string{"os": "linux"}})
	for {
		op, typ, d := g.next()
		if op < 0 {
			g.t.Fatalf("identify closed %d", -op)
		}
		if typ == "READY" {
			var r struct {
				SessionID string `json:"session_id"`
			}
			json.Unmarshal(d, &r)
			return r.SessionID
		}
	}
}

// closed reads until the server closes and returns the code.
func (g *rawGateway) closed() int {
	g.t.Helper()
	for {
		if op, _, _ := g.next(); op < 0 {
			return -op
		}
	}
}

// Logout, revoking a session, a reused refresh token and a bot token reset
// close the gateway connections of that credential with 4004 and leave
// nothing to resume; other sessions of the same user stay connected.
func TestRevocationEndsGatewaySessions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		startGateway(t, h)
		p := h.register("ivan")
		var other auth.Pair
		st, b := h.do("POST", "/auth/login", "", map[string]any{"login": "ivan", "password": "correct horse battery"})
		h.want(st, 200, b, &other)
		keep, _ := dialGateway(t, h, nil)
		keep.identify(other.Token)

		revoke := map[string]func(p auth.Pair){
			"logout": func(p auth.Pair) {
				st, b := h.do("POST", "/auth/logout", p.Token, nil)
				h.want(st, 204, b, nil)
			},
			"revoke": func(p auth.Pair) {
				var list []auth.SessionInfo
				st, b := h.do("GET", "/auth/sessions", other.Token, nil)
				h.want(st, 200, b, &list)
				for _, s := range list {
					if !s.Current {
						h.do("DELETE", "/auth/sessions/"+s.ID.String(), other.Token, nil)
					}
				}
			},
			"refresh reuse": func(p auth.Pair) {
				st, b := h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p.RefreshToken})
				h.want(st, 200, b, nil)
				st, _ = h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p.RefreshToken})
				if st != 401 {
					t.Fatalf("reused refresh: %d", st)
				}
			},
		}
		for _, name := range []string{"logout", "revoke", "refresh reuse"} {
			if name != "logout" {
				st, b := h.do("POST", "/auth/login", "", map[string]any{"login": "ivan", "password": "correct horse battery"})
				h.want(st, 200, b, &p)
			}
			g, _ := dialGateway(t, h, nil)
			sid := g.identify(p.Token)
			revoke[name](p)
			if code := g.closed(); code != 4004 {
				t.Fatalf("%s: connection closed %d, want 4004", name, code)
			}
			// Nothing is left to resume, even with a token still valid.
			again, _ := dialGateway(t, h, nil)
			again.send(6, map[string]any{"token": other.Token, "session_id": sid, "seq": 0})
			if op, _, d := again.next(); op != 9 || string(d) != "false" {
				t.Fatalf("%s: resume answered op %d %s, want 9 false", name, op, d)
			}
		}

		// A bot whose token is reset is cut off too.
		var app struct{ ID string }
		st, b = h.do("POST", "/applications", other.Token, map[string]any{"name": "ivanbot"})
		h.want(st, 201, b, &app)
		var reset struct{ Token string }
		st, b = h.do("POST", "/applications/"+app.ID+"/bot/reset", other.Token, nil)
		h.want(st, 200, b, &reset)
		bot, _ := dialGateway(t, h, nil)
		bot.identify("Bot " + reset.Token)
		st, b = h.do("POST", "/applications/"+app.ID+"/bot/reset", other.Token, nil)
		h.want(st, 200, b, nil)
		if code := bot.closed(); code != 4004 {
			t.Fatalf("bot token reset: closed %d, want 4004", code)
		}

		// The other login session heard none of it.
		keep.send(1, nil)
		if op, _, _ := keep.next(); op != 11 {
			t.Fatalf("the untouched session got op %d, want a heartbeat ack", op)
		}
	})
}
