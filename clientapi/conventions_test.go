package clientapi

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"sync"
	"testing"

	"concord/storage"
	"concord/storage/storagetest"
)

// TestLibraryConventions covers what newer bot libraries call and send:
// the paged pin routes, enforce_nonce, edits that keep some files and add
// others, boolean query spellings, empty lists that mean nothing, and the
// smaller routes.
func TestLibraryConventions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
		f := newChat(h)
		c := f.c.String()
		post := func(body any) (int, []byte) { return h.do("POST", "/channels/"+c+"/messages", f.owner.Token, body) }

		// Pins, paged.
		var m struct{ ID string }
		st, b := post(map[string]any{"content": "pin me"})
		h.want(st, 200, b, &m)
		st, b = h.do("PUT", "/channels/"+c+"/messages/pins/"+m.ID, f.owner.Token, nil)
		h.want(st, 204, b, nil)
		var pins struct {
			Items []struct {
				PinnedAt string `json:"pinned_at"`
				Message  struct{ ID string }
			}
			HasMore bool `json:"has_more"`
		}
		st, b = h.do("GET", "/channels/"+c+"/messages/pins?limit=1", f.owner.Token, nil)
		h.want(st, 200, b, &pins)
		if len(pins.Items) != 1 || pins.Items[0].Message.ID != m.ID || pins.Items[0].PinnedAt == "" || pins.HasMore {
			t.Fatalf("pins %s", b)
		}
		st, b = h.do("DELETE", "/channels/"+c+"/messages/pins/"+m.ID, f.owner.Token, nil)
		h.want(st, 204, b, nil)

		// enforce_nonce: the same nonce twice, even at once, makes one message.
		var wg sync.WaitGroup
		ids := make([]string, 4)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out struct{ ID string }
				st, b := post(map[string]any{"content": "once", "nonce": "abc", "enforce_nonce": true})
				h.want(st, 200, b, &out)
				ids[i] = out.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("enforce_nonce made several messages: %v", ids)
			}
		}

		// An edit keeps one of two files and adds a third.
		ct, body := multipartBody(`{"content":"files"}`, filePart{"files[0]", "a.txt", "text/plain", []byte("a")},
			filePart{"files[1]", "b.txt", "text/plain", []byte("b")})
		var withFiles struct {
			ID          string
			Attachments []struct{ ID, Filename string }
		}
		st, b = h.upload(f.owner.Token, f.c, ct, bytes.NewReader(body))
		h.want(st, 200, b, &withFiles)
		keep := withFiles.Attachments[1].ID
		ct, body = multipartBody(fmt.Sprintf(`{"attachments":[{"id":%q},{"id":0}]}`, keep), filePart{"files[0]", "c.txt", "text/plain", []byte("c")})
		req, _ := http.NewRequest("PATCH", h.srv.URL+"/api/v10/channels/"+c+"/messages/"+withFiles.ID, bytes.NewReader(body))
		req.Header.Set("Authorization", f.owner.Token)
		req.Header.Set("Content-Type", ct)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		h.want(resp.StatusCode, 200, b, &withFiles)
		if len(withFiles.Attachments) != 2 || withFiles.Attachments[0].ID != keep || withFiles.Attachments[1].Filename != "c.txt" {
			t.Fatalf("after the edit %s", b)
		}

		// Booleans as Python and JavaScript spell them.
		var g struct {
			Count *int `json:"approximate_member_count"`
		}
		for _, v := range []string{"true", "True", "1"} {
			st, b = h.do("GET", "/guilds/"+f.g.String()+"?with_counts="+v, f.owner.Token, nil)
			h.want(st, 200, b, &g)
			if g.Count == nil || *g.Count != 2 {
				t.Fatalf("with_counts=%s: %s", v, b)
			}
		}

		// An empty overwrite list on a new channel needs no MANAGE_ROLES.
		role := map[string]any{"name": "builders", "permissions": "16"} // MANAGE_CHANNELS
		var r struct{ ID string }
		st, b = h.do("POST", "/guilds/"+f.g.String()+"/roles", f.owner.Token, role)
		h.want(st, 200, b, &r)
		st, b = h.do("PUT", "/guilds/"+f.g.String()+"/members/"+f.other.UserID.String()+"/roles/"+r.ID, f.owner.Token, nil)
		h.want(st, 204, b, nil)
		st, b = h.do("POST", "/guilds/"+f.g.String()+"/channels", f.other.Token, map[string]any{"name": "built",
			"permission_overwrites": []any{}, "topic": nil, "parent_id": nil})
		h.want(st, 201, b, nil)

		// The smaller routes.
		st, b = h.do("GET", "/guilds/"+f.g.String()+"/roles/"+r.ID, f.owner.Token, nil)
		h.want(st, 200, b, nil)
		var found []struct{ User struct{ Username string } }
		st, b = h.do("GET", "/guilds/"+f.g.String()+"/members/search?query=OTH&limit=10", f.owner.Token, nil)
		h.want(st, 200, b, &found)
		if len(found) != 1 || found[0].User.Username != "other" {
			t.Fatalf("member search %s", b)
		}
		st, b = h.do("GET", "/users/@me/guilds/"+f.g.String()+"/member", f.other.Token, nil)
		h.want(st, 200, b, nil)
		resp, err = h.srv.Client().Get(h.srv.URL + "/embed/avatars/3.png")
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(resp.Body)
		resp.Body.Close()
		if err != nil || img.Bounds().Dx() != 128 {
			t.Fatalf("default avatar: %v", err)
		}
		resp, _ = h.srv.Client().Get(h.srv.URL + "/embed/avatars/6.png")
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("default avatar 6: %d", resp.StatusCode)
		}
	})
}

// TestBotGlobalLimit sends a bot's 51st request of a second: refused as a
// global limit, while a person is not counted.
func TestBotGlobalLimit(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db, func(c *testConfig) { c.APIPerMinute = 1 << 20 })
	f := newBotGuild(t, h)
	for i := range BotRequestsPerSecond {
		if st, b := h.do("GET", "/users/@me", f.botToken, nil); st != 200 {
			t.Fatalf("request %d: %d %s", i, st, b)
		}
	}
	resp := h.raw("GET", "/api/v10/users/@me", f.botToken, nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Global") != "true" || !bytes.Contains(b, []byte(`"global":true`)) {
		t.Fatalf("51st request: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	for range BotRequestsPerSecond + 1 {
		if st, b := h.do("GET", "/users/@me", f.owner.Token, nil); st != 200 {
			t.Fatalf("person: %d %s", st, b)
		}
	}
}
