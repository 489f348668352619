package clientapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestMessageBadInput: over-long content, empty messages, invalid emoji,
// bad limits, unknown and invisible IDs and malformed bodies each get
// Discord's error, and no event is written.
func TestMessageBadInput(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
		u := newMatrixUsers(h)
		f := newGuildFixture(h, u, perm.ManageMessages)
		owner, denied, outsider := u.pairs[asOwner].Token, u.pairs[asDenied].Token, u.pairs[asOutsider].Token
		st, b := h.do("PUT", f.expand("/channels/{c}/permissions/", u)+u.pairs[asDenied].UserID.String(), owner, `{"type":1,"deny":"1024"}`)
		h.want(st, 204, b, nil)
		m := h.core.NewID()
		h.sendAs(f.g, u.target.UserID, guild.TypeMessageCreate, guild.MessageCreate{ID: m, ChannelID: f.c, Content: "here"})
		old := snowflake.ID(uint64(1) << 22) // minted in 2015
		other := h.core.NewID()
		name := "other"
		h.sendAs(f.g, u.pairs[asOwner].UserID, guild.TypeChannelCreate, guild.ChannelCreate{ID: other, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})

		events := func() int {
			var n int
			if err := db.Reader().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := events()
		long := strings.Repeat("x", 2001)
		for _, tc := range []struct {
			method, path, token string
			body                any
			status, code        int
			field               string
		}{
			{"POST", "/channels/{c}/messages", owner, `{"content":"` + long + `"}`, 400, 50035, "content"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"   "}`, 400, 50006, ""},
			{"POST", "/channels/{c}/messages", owner, `{}`, 400, 50006, ""},
			{"POST", "/channels/{c}/messages", owner, `{"content":`, 400, 50035, "_body"},
			{"POST", "/channels/{c}/messages", owner, `{"content":5}`, 400, 50035, "content"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","nonce":"` + strings.Repeat("n", 26) + `"}`, 400, 50035, "nonce"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","embeds":[{"title":"` + strings.Repeat("t", 257) + `"}]}`, 400, 50035, "embeds.0.title"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","embeds":[{"url":"javascript:alert(1)"}]}`, 400, 50035, "embeds.0.url"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","embeds":[{"author":{"name":"x","url":"data:text/html,x"}}]}`, 400, 50035, "embeds.0.author.url"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","embeds":[{"image":{"url":"JavaScript:x"}}]}`, 400, 50035, "embeds.0.image.url"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","embeds":[{"url":"attachment://a.png"}]}`, 400, 50035, "embeds.0.url"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","allowed_mentions":{"parse":["users"],"users":["1"]}}`, 400, 50035, "allowed_mentions"},
			{"POST", "/channels/{c}/messages", owner, `{"content":"a","message_reference":{"message_id":"1"}}`, 400, 50035, "message_reference"},
			{"POST", "/channels/{c}/messages", denied, `{"content":"a"}`, 404, 10003, ""},
			{"POST", "/channels/{c}/messages", outsider, `{"content":"a"}`, 404, 10003, ""},
			{"POST", "/channels/1/messages", owner, `{"content":"a"}`, 404, 10003, ""},
			{"POST", "/channels/x/messages", owner, `{"content":"a"}`, 404, 10003, ""},
			{"GET", "/channels/{c}/messages?limit=-1", owner, nil, 400, 50035, "limit"},
			{"GET", "/channels/{c}/messages?limit=101", owner, nil, 400, 50035, "limit"},
			{"GET", "/channels/{c}/messages?limit=99999999999999999999", owner, nil, 400, 50035, "limit"},
			{"GET", "/channels/{c}/messages?before=abc", owner, nil, 400, 50035, "before"},
			{"GET", "/channels/{c}/messages", denied, nil, 404, 10003, ""},
			{"GET", "/channels/{c}/messages/1", owner, nil, 404, 10008, ""},
			{"GET", "/channels/{c}/messages/{m}", denied, nil, 404, 10003, ""},
			{"GET", "/channels/" + other.String() + "/messages/{m}", owner, nil, 404, 10008, ""},
			{"PATCH", "/channels/{c}/messages/1", owner, `{"content":"a"}`, 404, 10008, ""},
			{"PATCH", "/channels/{c}/messages/{m}", owner, `{"content":"` + long + `"}`, 403, 50005, ""},
			{"DELETE", "/channels/{c}/messages/1", owner, nil, 404, 10008, ""},
			{"PUT", "/channels/{c}/messages/{m}/reactions/abc/@me", owner, nil, 400, 10014, ""},
			{"PUT", "/channels/{c}/messages/{m}/reactions/x:1/@me", owner, nil, 400, 10014, ""},
			{"PUT", "/channels/{c}/messages/{m}/reactions/%F0%9F%91%8D%20/@me", owner, nil, 400, 10014, ""},
			{"PUT", "/channels/{c}/messages/1/reactions/👍/@me", owner, nil, 404, 10008, ""},
			{"GET", "/channels/{c}/messages/{m}/reactions/👍?limit=0", owner, nil, 400, 50035, "limit"},
			{"PUT", "/channels/{c}/pins/1", owner, nil, 404, 10008, ""},
			{"POST", "/channels/{c}/messages/bulk-delete", owner, `{"messages":["{m}"]}`, 400, 50035, "messages"},
			{"POST", "/channels/{c}/messages/bulk-delete", owner, `{"messages":["{m}","{m}"]}`, 400, 50035, "messages"},
			{"POST", "/channels/{c}/messages/bulk-delete", owner, `{"messages":["{m}","` + old.String() + `"]}`, 400, 50034, ""},
			{"POST", "/channels/{c}/typing", denied, nil, 404, 10003, ""},
			{"POST", "/users/@me/channels", owner, `{"recipient_id":"1"}`, 404, 10013, ""},
			{"POST", "/users/@me/channels", owner, `{"recipient_id":"{owner}"}`, 403, 50007, ""},
			{"POST", "/users/@me/channels", owner, `{}`, 400, 50035, "recipient_id"},
		} {
			r := strings.NewReplacer("{m}", m.String(), "{owner}", u.pairs[asOwner].UserID.String())
			var body any
			if s, ok := tc.body.(string); ok {
				body = r.Replace(f.expand(s, u))
			}
			st, b := h.do(tc.method, r.Replace(f.expand(tc.path, u)), tc.token, body)
			var e struct {
				Code   int                        `json:"code"`
				Errors map[string]json.RawMessage `json:"errors"`
			}
			json.Unmarshal(b, &e)
			_, hasField := e.Errors[tc.field]
			if st != tc.status || e.Code != tc.code || tc.field != "" && !hasField {
				t.Errorf("%s %s: got %d %s, want %d %d %s", tc.method, tc.path, st, b, tc.status, tc.code, tc.field)
			}
		}
		if n := events(); n != before {
			t.Errorf("bad input wrote %d events", n-before)
		}
	})
}

// TestMessageLimits: the per-channel send limit answers 429 with Discord's
// headers, and slowmode answers 429 with code 20016 unless the sender may
// bypass it.
func TestMessageLimits(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 3 })
		u := newMatrixUsers(h)
		f := newGuildFixture(h, u, perm.ManageMessages)
		member := u.pairs[asMember].Token
		path := f.expand("/channels/{c}/messages", u)
		for i := range 4 {
			resp := h.raw("POST", "/api/v10"+path, member, `{"content":"spam"}`)
			resp.Body.Close()
			want := 200
			if i == 3 {
				want = 429
			}
			if resp.StatusCode != want || resp.Header.Get("X-RateLimit-Limit") != "3" || resp.Header.Get("X-RateLimit-Bucket") == "" {
				t.Fatalf("send %d: %d %v", i, resp.StatusCode, resp.Header)
			}
		}
		h.clock.Add(11e9)
		st, b := h.do("PATCH", f.expand("/channels/{c}", u), u.pairs[asOwner].Token, `{"rate_limit_per_user":60}`)
		h.want(st, 200, b, nil)
		st, b = h.do("POST", path, member, `{"content":"one"}`)
		h.want(st, 200, b, nil)
		st, b = h.do("POST", path, member, `{"content":"two"}`)
		var slow struct {
			Code       int     `json:"code"`
			RetryAfter float64 `json:"retry_after"`
		}
		h.want(st, 429, b, &slow)
		if slow.Code != 20016 || slow.RetryAfter <= 0 || slow.RetryAfter > 60 {
			t.Fatalf("slowmode %s", b)
		}
		for range 2 { // MANAGE_MESSAGES bypasses slowmode
			st, b = h.do("POST", path, u.pairs[asBit].Token, `{"content":"mod"}`)
			h.want(st, 200, b, nil)
		}
		h.clock.Add(61e9)
		st, b = h.do("POST", path, member, `{"content":"three"}`)
		h.want(st, 200, b, nil)
	})
}
