package clientapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"

	"concord/clientapi/accounts"
	"concord/clientapi/objects"
	"concord/storage"
	"concord/storage/storagetest"
)

func pngDataURI(t *testing.T) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), buf.Bytes()
}

func TestUsers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("liam")
		other := h.register("mia")
		uri, data := pngDataURI(t)
		var me objects.Me
		st, b := h.do("PATCH", "/users/@me", p.Token, map[string]any{"global_name": "Liam L", "bio": "hi", "avatar": uri, "username": "liam2",
			"password": "correct horse battery"})
		h.want(st, 200, b, &me)
		if me.Username != "liam2" || *me.GlobalName != "Liam L" || me.Bio != "hi" || me.Avatar == nil || len(*me.Avatar) != 32 {
			t.Fatalf("patched %s", b)
		}
		resp := h.raw("GET", fmt.Sprintf("/avatars/%d/%s.png", me.ID, *me.Avatar), "", nil)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, data) ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("avatar: %d %v", resp.StatusCode, resp.Header)
		}
		resp = h.raw("GET", fmt.Sprintf("/avatars/%d/%s.png", me.ID, strings.Repeat("0", 32)), "", nil)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("stale avatar hash: %d", resp.StatusCode)
		}

		var u map[string]any
		st, b = h.do("GET", fmt.Sprintf("/users/%d", me.ID), other.Token, nil)
		h.want(st, 200, b, &u)
		if _, leaks := u["email"]; leaks || u["public_flags"] != float64(0) || u["discriminator"] != "0" {
			t.Fatalf("public user object %s", b)
		}

		refusals := []struct {
			name  string
			body  any
			field string
		}{
			{"text avatar", map[string]any{"avatar": "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("hello, not an image"))}, "avatar"},
			{"not a data uri", map[string]any{"avatar": "https://example.org/a.png"}, "avatar"},
			{"taken username", map[string]any{"username": "mia", "password": "correct horse battery"}, "username"},
			{"username without password", map[string]any{"username": "liam3"}, "password"},
			{"username with a wrong password", map[string]any{"username": "liam3", "password": "wrong password!"}, "password"},
			{"control characters", map[string]any{"global_name": "a\u0000\u0007b"}, "global_name"},
			{"long bio", map[string]any{"bio": strings.Repeat("b", 191)}, "bio"},
			{"empty global name", map[string]any{"global_name": " "}, "global_name"},
			{"wrong type", map[string]any{"bio": 3}, "bio"},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				st, b := h.do("PATCH", "/users/@me", p.Token, tt.body)
				wantFormError(t, st, b, tt.field)
			})
		}
		// Nothing of a refused PATCH was written.
		st, b = h.do("GET", "/users/@me", p.Token, nil)
		h.want(st, 200, b, &me)
		if me.Username != "liam2" || me.Bio != "hi" {
			t.Fatalf("after refusals %s", b)
		}
		st, b = h.do("GET", "/users/12345", p.Token, nil)
		wantError(t, st, b, 404, 10013)
		st, b = h.do("GET", "/users/nope", p.Token, nil)
		wantError(t, st, b, 404, 10013)
	})
}

func TestSettings(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("noah")
		var s accounts.Settings
		st, b := h.do("GET", "/users/@me/settings", p.Token, nil)
		h.want(st, 200, b, &s)
		if s.Status != "online" || !s.FriendSourceFlags.All {
			t.Fatalf("defaults %s", b)
		}
		st, b = h.do("PATCH", "/users/@me/settings", p.Token, map[string]any{
			"status": "dnd", "theme": "light", "locale": "fr",
			"custom_status":       map[string]any{"text": "busy", "emoji_name": "🔥"},
			"friend_source_flags": map[string]any{"all": false, "mutual_friends": true},
		})
		h.want(st, 200, b, &s)
		if s.Status != "dnd" || s.Theme != "light" || s.CustomStatus == nil || *s.CustomStatus.Text != "busy" || s.FriendSourceFlags.All {
			t.Fatalf("patched %s", b)
		}
		var me objects.Me
		st, b = h.do("GET", "/users/@me", p.Token, nil)
		h.want(st, 200, b, &me)
		if me.Locale != "fr" {
			t.Fatalf("locale not mirrored: %s", b)
		}
		st, b = h.do("PATCH", "/users/@me/settings", p.Token, map[string]any{"status": "away", "theme": "blue"})
		wantFormError(t, st, b, "status")
		wantFormError(t, st, b, "theme")
	})
}

// A renamed author's next message, and the history, show the new name at
// once, though rendered users are cached.
func TestRenamedAuthorRendersAtOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("ada")
		_, channel := h.ownGuild(p, "guild")
		send := func(content string) map[string]any {
			var m map[string]any
			st, b := h.do("POST", "/channels/"+channel+"/messages", p.Token, map[string]any{"content": content})
			h.want(st, 200, b, &m)
			return m["author"].(map[string]any)
		}
		if a := send("before"); a["username"] != "ada" {
			t.Fatalf("author %v", a)
		}
		st, b := h.do("PATCH", "/users/@me", p.Token, map[string]any{"global_name": "Ada L", "username": "ada2", "password": "correct horse battery"})
		h.want(st, 200, b, nil)
		if a := send("after"); a["username"] != "ada2" || a["global_name"] != "Ada L" {
			t.Fatalf("author after the rename %v", a)
		}
		var history []map[string]any
		st, b = h.do("GET", "/channels/"+channel+"/messages", p.Token, nil)
		h.want(st, 200, b, &history)
		for _, m := range history {
			if a := m["author"].(map[string]any); a["username"] != "ada2" {
				t.Errorf("history shows %q's author as %v", m["content"], a)
			}
		}
	})
}
