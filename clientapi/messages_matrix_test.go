package clientapi

import (
	"encoding/json"
	"strings"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/storage"
	"concord/storage/storagetest"
)

// The message routes in the permission matrix. {m} and {m2} are messages
// of the plain member target in {c}, {m} carrying target's 👍. Without
// READ_MESSAGE_HISTORY Discord lists nothing rather than refusing, hence the
// denied caller's 200 on the lists. Everyone holds ADD_REACTIONS and
// SEND_MESSAGES through @everyone; only the denied member's overwrite takes
// them away.
var messageMatrix = []matrixRow{
	{"GET", "/channels/{c}/messages?limit=10", nil, perm.ReadMessageHistory, [callers]int{200, 200, 200, 200, 200, 10003}},
	{"POST", "/channels/{c}/messages", `{"content":"hi <@{target}>"}`, perm.SendMessages, [callers]int{200, 200, 200, 50013, 200, 10003}},
	{"GET", "/channels/{c}/messages/{m}", nil, perm.ReadMessageHistory, [callers]int{200, 200, 200, 50013, 200, 10003}},
	{"PATCH", "/channels/{c}/messages/{m}", `{"content":"mine now"}`, perm.ManageMessages, [callers]int{50005, 50005, 50005, 50005, 50005, 10003}},
	{"PATCH", "/channels/{c}/messages/{m}", `{"flags":4}`, perm.ManageMessages, [callers]int{200, 200, 200, 50013, 50013, 10003}},
	{"DELETE", "/channels/{c}/messages/{m}", nil, perm.ManageMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"POST", "/channels/{c}/messages/bulk-delete", `{"messages":["{m}","{m2}"]}`, perm.ManageMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"GET", "/channels/{c}/pins", nil, perm.ReadMessageHistory, [callers]int{200, 200, 200, 200, 200, 10003}},
	{"PUT", "/channels/{c}/pins/{m}", nil, perm.ManageMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"PUT", "/channels/{c}/pins/{m}", nil, perm.PinMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"DELETE", "/channels/{c}/pins/{m}", nil, perm.ManageMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"PUT", "/channels/{c}/messages/{m}/reactions/👍/@me", nil, perm.AddReactions, [callers]int{204, 204, 204, 50013, 204, 10003}},
	{"PUT", "/channels/{c}/messages/{m}/reactions/%F0%9F%8E%89/@me", nil, perm.ReadMessageHistory, [callers]int{204, 204, 204, 50013, 204, 10003}},
	{"DELETE", "/channels/{c}/messages/{m}/reactions/👍/@me", nil, 0, [callers]int{204, 204, 204, 204, 204, 10003}},
	{"DELETE", "/channels/{c}/messages/{m}/reactions/👍/{target}", nil, perm.ManageMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"GET", "/channels/{c}/messages/{m}/reactions/👍", nil, perm.ReadMessageHistory, [callers]int{200, 200, 200, 50013, 200, 10003}},
	{"DELETE", "/channels/{c}/messages/{m}/reactions", nil, perm.ManageMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"DELETE", "/channels/{c}/messages/{m}/reactions/👍", nil, perm.ManageMessages, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"POST", "/channels/{c}/typing", nil, perm.SendMessages, [callers]int{204, 204, 204, 50013, 204, 10003}},
	{"POST", "/users/@me/channels", `{"recipient_id":"{target}"}`, 0, [callers]int{200, 200, 200, 200, 200, 200}},
	{"GET", "/users/@me/channels", nil, 0, [callers]int{200, 200, 200, 200, 200, 200}},
}

func TestMessagePermissionMatrix(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
		u := newMatrixUsers(h)
		for _, row := range messageMatrix {
			for who := range callers {
				f := newGuildFixture(h, u, row.bits)
				m, m2 := h.core.NewID(), h.core.NewID()
				for _, id := range []guild.ID{m, m2} {
					h.sendAs(f.g, u.target.UserID, guild.TypeMessageCreate, guild.MessageCreate{ID: id, ChannelID: f.c, Content: "target speaks"})
				}
				h.sendAs(f.g, u.target.UserID, guild.TypeReactionAdd, guild.Reaction{MessageID: m, ChannelID: f.c, Emoji: guild.Emoji{Name: "👍"}})
				expand := func(s string) string {
					return strings.NewReplacer("{m}", m.String(), "{m2}", m2.String()).Replace(f.expand(s, u))
				}
				var body any
				if s, ok := row.body.(string); ok {
					body = expand(s)
				}
				st, b := h.do(row.method, expand(row.path), u.pairs[who].Token, body)
				want := row.want[who]
				var e struct {
					Code int `json:"code"`
				}
				json.Unmarshal(b, &e)
				if st != statusOf(want) || want >= 1000 && e.Code != want {
					t.Errorf("%s %s (bit %s) as %s: got %d %s, want %d", row.method, row.path, row.bits, callerNames[who], st, b, want)
				}
			}
		}
	})
}
