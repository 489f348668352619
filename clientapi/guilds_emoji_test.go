package clientapi

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"concord/storage"
	"concord/storage/storagetest"
)

// TestGuildEmojis: members list a guild's custom emojis, those allowed
// make and delete them, anyone fetches their images at Discord's CDN path,
// and bad names, images and callers are refused.
func TestGuildEmojis(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		owner := h.register("emojiowner")
		member := h.register("emojimember")
		outsider := h.register("emojioutsider")
		var g, ch, inv struct {
			ID   string `json:"id"`
			Code string `json:"code"`
		}
		st, b := h.do("POST", "/guilds", owner.Token, map[string]any{"name": "emojis"})
		h.want(st, 201, b, &g)
		st, b = h.do("POST", "/guilds/"+g.ID+"/channels", owner.Token, map[string]any{"name": "chat"})
		h.want(st, 201, b, &ch)
		st, b = h.do("POST", "/channels/"+ch.ID+"/invites", owner.Token, map[string]any{})
		h.want(st, 200, b, &inv)
		st, b = h.do("POST", "/invites/"+inv.Code, member.Token, nil)
		h.want(st, 200, b, nil)

		uri, data := pngDataURI(t)
		var e struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Animated bool   `json:"animated"`
		}
		st, b = h.do("POST", "/guilds/"+g.ID+"/emojis", owner.Token, map[string]any{"name": "party_parrot", "image": uri})
		h.want(st, 201, b, &e)
		if e.Name != "party_parrot" || e.Animated {
			t.Fatalf("created %+v", e)
		}
		var list []struct {
			ID string `json:"id"`
		}
		st, b = h.do("GET", "/guilds/"+g.ID+"/emojis", member.Token, nil)
		h.want(st, 200, b, &list)
		if len(list) != 1 || list[0].ID != e.ID {
			t.Fatalf("listed %s", b)
		}
		st, b = h.do("GET", "/guilds/"+g.ID+"/emojis/"+e.ID, member.Token, nil)
		h.want(st, 200, b, nil)
		resp := h.raw("GET", "/emojis/"+e.ID+".png", "", nil)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, data) {
			t.Fatalf("emoji image: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
		}

		big := "data:image/png;base64," + base64.StdEncoding.EncodeToString(append(data, make([]byte, 300<<10)...))
		for _, c := range []struct {
			name, token string
			body        map[string]any
			status      int
		}{
			{"no permission", member.Token, map[string]any{"name": "mine", "image": uri}, 403},
			{"outsider", outsider.Token, map[string]any{"name": "theirs", "image": uri}, 404},
			{"name too short", owner.Token, map[string]any{"name": "x", "image": uri}, 400},
			{"name with a space", owner.Token, map[string]any{"name": "two words", "image": uri}, 400},
			{"not an image", owner.Token, map[string]any{"name": "text", "image": "data:text/plain;base64,aGVsbG8="}, 400},
			{"too large", owner.Token, map[string]any{"name": "huge", "image": big}, 400},
			{"unknown role", owner.Token, map[string]any{"name": "roled", "image": uri, "roles": []string{"1"}}, 404},
		} {
			if st, b := h.do("POST", "/guilds/"+g.ID+"/emojis", c.token, c.body); st != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, st, b, c.status)
			}
		}
		if st, b := h.do("GET", "/guilds/"+g.ID+"/emojis", outsider.Token, nil); st != 404 {
			t.Errorf("an outsider lists the emojis: %d %s", st, b)
		}
		if st, b := h.do("GET", "/guilds/"+g.ID+"/emojis/123", owner.Token, nil); st != 404 || !strings.Contains(string(b), "10014") {
			t.Errorf("an unknown emoji: %d %s", st, b)
		}
		if st, b := h.do("DELETE", "/guilds/"+g.ID+"/emojis/"+e.ID, member.Token, nil); st != 403 {
			t.Errorf("a member deletes the emoji: %d %s", st, b)
		}
		st, b = h.do("DELETE", "/guilds/"+g.ID+"/emojis/"+e.ID, owner.Token, nil)
		h.want(st, 204, b, nil)
		resp = h.raw("GET", "/emojis/"+e.ID+".png", "", nil)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("a deleted emoji's image: %d", resp.StatusCode)
		}
	})
}
