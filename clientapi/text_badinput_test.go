package clientapi

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"concord/federation/perm"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestUnstorableText: a NUL, a control character, a bidi override or an
// invisible character where the rules refuse it gets 400 Invalid Form
// Body naming the field, whatever the route, and writes nothing, while
// other users' messages in the same guild all go through.
func TestUnstorableText(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 100000 })
		u := newMatrixUsers(h)
		f := newGuildFixture(h, u, perm.ManageMessages)
		owner, member := u.pairs[asOwner].Token, u.pairs[asMember].Token
		st, b := h.do("POST", f.expand("/channels/{c}/messages", u), member, `{"content":"target"}`)
		h.want(st, 200, b, nil)
		var target struct{ ID string }
		json.Unmarshal(b, &target)

		// What the refused requests could have written; the concurrent
		// messages write only "meanwhile".
		written := func() int {
			var n int
			if err := db.Reader().QueryRowContext(context.Background(), `SELECT
				(SELECT COUNT(*) FROM events WHERE type <> 'message.create') +
				(SELECT COUNT(*) FROM messages WHERE content NOT IN ('target', 'meanwhile'))`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		var wg sync.WaitGroup
		stop := make(chan struct{})
		var sent, failed int
		wg.Add(1)
		go func() { // another user keeps posting meanwhile
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				st, b := h.do("POST", f.expand("/channels/{c}/messages", u), member, `{"content":"meanwhile"}`)
				sent++
				if st != 200 {
					failed++
					t.Errorf("concurrent message: %d %s", st, b)
				}
			}
		}()

		// JSON escapes, so that the bodies carry the characters themselves.
		text := []string{`\u0000`, `\u001b`, `\u0007`}
		names := append(text, `\t`, `\n`, `\u0085`, `\u202e`, `\u200b`, `\u2066`)
		for _, tc := range []struct {
			method, path, body, field string
			bad                       []string
		}{
			{"POST", "/channels/{c}/messages", `{"content":"a%sb"}`, "content", text},
			{"POST", "/channels/{c}/messages", `{"content":"a","embeds":[{"title":"a%sb"}]}`, "embeds", text},
			{"PATCH", "/channels/{c}/messages/{m}", `{"content":"a%sb"}`, "content", text},
			{"POST", "/guilds/{g}/channels", `{"name":"a%sb","type":0}`, "name", names},
			{"PATCH", "/channels/{c}", `{"topic":"a%sb"}`, "topic", text},
			{"PATCH", "/channels/{c}", `{"name":"a%sb"}`, "name", names},
			{"POST", "/guilds/{g}/roles", `{"name":"a%sb"}`, "name", names},
			{"PATCH", "/guilds/{g}", `{"name":"a%sb"}`, "name", names},
			{"PATCH", "/guilds/{g}/members/@me", `{"nick":"a%sb"}`, "nick", names},
			{"PATCH", "/guilds/{g}/members/{target}", `{"nick":"a%sb"}`, "nick", names},
		} {
			token := owner
			if strings.Contains(tc.path, "{m}") {
				token = member
			}
			for _, bad := range tc.bad {
				before := written()
				path := strings.ReplaceAll(f.expand(tc.path, u), "{m}", target.ID)
				st, b := h.do(tc.method, path, token, strings.Replace(tc.body, "%s", bad, 1))
				var e struct {
					Code   int                        `json:"code"`
					Errors map[string]json.RawMessage `json:"errors"`
				}
				json.Unmarshal(b, &e)
				if _, named := e.Errors[tc.field]; st != 400 || e.Code != 50035 || !named {
					t.Errorf("%s %s with %s: got %d %s, want 400 50035 naming %s", tc.method, tc.path, bad, st, b, tc.field)
				}
				if n := written(); n != before {
					t.Errorf("%s %s with %s wrote %d events", tc.method, tc.path, bad, n-before)
				}
			}
		}
		close(stop)
		wg.Wait()
		if sent == 0 || failed > 0 {
			t.Errorf("%d of %d concurrent messages failed", failed, sent)
		}
	})
}
