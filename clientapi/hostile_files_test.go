package clientapi

import (
	"bytes"
	"testing"

	"concord/clientapi/objects"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// A signed URL stops serving once its channel or its guild is deleted,
// and too many fetches from one address are refused with 429.
func TestAttachmentGoneWithItsChannelAndGuild(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		f := newChat(h)
		get := func(u string) int {
			resp := h.raw("GET", u, "", nil)
			resp.Body.Close()
			return resp.StatusCode
		}
		post := func(channel snowflake.ID) string {
			ct, body := multipartBody(`{"content":"file"}`, filePart{"files[0]", "a.txt", "text/plain", []byte("hello")})
			var m objects.Message
			st, b := h.upload(f.owner.Token, channel, ct, bytes.NewReader(body))
			h.want(st, 200, b, &m)
			return m.Attachments[0].URL
		}
		var second struct{ ID snowflake.ID }
		st, b := h.do("POST", "/guilds/"+f.g.String()+"/channels", f.owner.Token, map[string]any{"name": "second"})
		h.want(st, 201, b, &second)
		u, u2 := post(f.c), post(second.ID)
		if st := get(u); st != 200 {
			t.Fatalf("fresh URL: %d", st)
		}
		st, b = h.do("DELETE", "/channels/"+f.c.String(), f.owner.Token, nil)
		h.want(st, 200, b, nil)
		if st := get(u); st != 404 {
			t.Fatalf("after the channel was deleted: %d", st)
		}
		if st := get(u2); st != 200 {
			t.Fatalf("a file of another channel: %d", st)
		}
		st, b = h.do("DELETE", "/guilds/"+f.g.String(), f.owner.Token, nil)
		h.want(st, 204, b, nil)
		if st := get(u2); st != 404 {
			t.Fatalf("after the guild was deleted: %d", st)
		}
		for range FilesPerMinute {
			get(u2)
		}
		if st := get(u2); st != 429 {
			t.Fatalf("fetch %d in a minute: %d, want 429", FilesPerMinute+3, st)
		}
	})
}
