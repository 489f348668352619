package clientapi

import (
	"context"
	"strings"
	"testing"

	"concord/federation/perm"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestGuildBadInput: unknown IDs, IDs the caller cannot see, bad limits
// and malformed bodies each get Discord's error, and no event is written.
func TestGuildBadInput(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		u := newMatrixUsers(h)
		f := newGuildFixture(h, u, perm.ManageChannels)
		owner, denied, outsider := u.pairs[asOwner].Token, u.pairs[asDenied].Token, u.pairs[asOutsider].Token
		// The denied member cannot see {c} once VIEW_CHANNEL is taken away.
		st, b := h.do("PUT", f.expand("/channels/{c}/permissions/", u)+u.pairs[asDenied].UserID.String(), owner, `{"type":1,"deny":"1024"}`)
		h.want(st, 204, b, nil)

		events := func() int {
			var n int
			if err := db.Reader().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := events()
		for _, tc := range []struct {
			method, path, token string
			body                any
			status, code        int
			field               string
		}{
			{"GET", "/guilds/1", owner, nil, 404, 10004, ""},
			{"GET", "/guilds/not-a-number", owner, nil, 404, 10004, ""},
			{"PATCH", "/guilds/{g}", outsider, `{"name":"x y"}`, 404, 10004, ""},
			{"GET", "/channels/1", owner, nil, 404, 10003, ""},
			{"GET", "/channels/{c}", denied, nil, 404, 10003, ""},
			{"PATCH", "/channels/{c}", denied, `{"topic":"t"}`, 404, 10003, ""},
			{"POST", "/channels/{c}/invites", denied, `{}`, 404, 10003, ""},
			{"PATCH", "/guilds/{g}/roles/1", owner, `{"name":"r"}`, 404, 10011, ""},
			{"DELETE", "/guilds/{g}/roles/1", owner, nil, 404, 10011, ""},
			{"PUT", "/guilds/{g}/members/{target}/roles/1", owner, nil, 404, 10011, ""},
			{"PUT", "/guilds/{g}/members/1/roles/{low}", owner, nil, 404, 10007, ""},
			{"GET", "/guilds/{g}/members/1", owner, nil, 404, 10007, ""},
			{"DELETE", "/guilds/{g}/members/1", owner, nil, 404, 10007, ""},
			{"PUT", "/guilds/{g}/bans/1", owner, nil, 404, 10013, ""},
			{"GET", "/guilds/{g}/bans/{target}", owner, nil, 404, 10026, ""},
			{"DELETE", "/guilds/{g}/bans/{target}", owner, nil, 404, 10026, ""},
			{"GET", "/invites/nope", owner, nil, 404, 10006, ""},
			{"POST", "/invites/nope", outsider, nil, 404, 10006, ""},
			{"DELETE", "/invites/{code}", outsider, nil, 404, 10006, ""},
			{"DELETE", "/channels/{c}/permissions/1", owner, nil, 404, 10009, ""},
			{"GET", "/guilds/{g}/members?limit=-1", owner, nil, 400, 50035, "limit"},
			{"GET", "/guilds/{g}/members?limit=1001", owner, nil, 400, 50035, "limit"},
			{"GET", "/guilds/{g}/members?limit=99999999999999999999", owner, nil, 400, 50035, "limit"},
			{"GET", "/guilds/{g}/members?after=x", owner, nil, 400, 50035, "after"},
			{"GET", "/guilds/{g}/bans?limit=0", owner, nil, 400, 50035, "limit"},
			{"GET", "/guilds/{g}/audit-logs?limit=101", owner, nil, 400, 50035, "limit"},
			{"GET", "/users/@me/guilds?limit=201", owner, nil, 400, 50035, "limit"},
			{"POST", "/guilds", owner, `{"name":`, 400, 50035, "_body"},
			{"POST", "/guilds", owner, `{"name":"x"}`, 400, 50035, "name"},
			{"PATCH", "/guilds/{g}", owner, `{"verification_level":9}`, 400, 50035, "verification_level"},
			{"POST", "/guilds/{g}/channels", owner, `{"type":0}`, 400, 50035, "name"},
			{"POST", "/guilds/{g}/channels", owner, `{"name":"v","type":7}`, 400, 50035, "type"},
			{"PATCH", "/channels/{c}", owner, `{"rate_limit_per_user":-1}`, 400, 50035, "rate_limit_per_user"},
			{"PATCH", "/channels/{c}", owner, `{"nsfw":"yes"}`, 400, 50035, "nsfw"},
			{"PUT", "/channels/{c}/permissions/{low}", owner, `{"allow":"1"}`, 400, 50035, "type"},
			{"POST", "/guilds/{g}/roles", owner, `{"color":-5}`, 400, 50035, "color"},
			{"POST", "/guilds/{g}/roles", owner, `{"permissions":"abc"}`, 400, 50035, "_body"},
			{"PATCH", "/guilds/{g}/members/{target}", owner, `{"nick":"` + strings.Repeat("n", 40) + `"}`, 400, 50035, "nick"},
			{"PUT", "/guilds/{g}/bans/{target}", owner, `{"delete_message_seconds":604801}`, 400, 50035, "delete_message_seconds"},
			{"POST", "/channels/{c}/invites", owner, `{"max_age":-1}`, 400, 50035, "max_age"},
			{"PATCH", "/guilds/{g}/roles", owner, `{}`, 400, 50035, "_body"},
		} {
			var body any
			if s, ok := tc.body.(string); ok {
				body = f.expand(s, u)
			}
			st, b := h.do(tc.method, f.expand(tc.path, u), tc.token, body)
			if tc.field != "" {
				wantFormError(t, st, b, tc.field)
			} else {
				wantError(t, st, b, tc.status, tc.code)
			}
		}
		if after := events(); after != before {
			t.Fatalf("bad requests wrote %d events", after-before)
		}
	})
}
