package guild_test

import (
	"strings"
	"testing"

	"concord/federation/guild"
)

// hook is a webhook the admin (node-a) made in general; hook2 one in
// secret. Their IDs are the senders of what they post.
const hook, hook2 = 700, 701

func init() {
	homes[hook] = "node-a"
	homes[hook2] = "node-a"
}

// withHooks is the fixture with both webhooks.
func withHooks(t testing.TB) *builder {
	b := fixture(t)
	b.do(admin, guild.TypeWebhookCreate, j(`{"id":"%d","channel_id":"%d","name":"CI"}`, hook, general))
	b.do(admin, guild.TypeWebhookCreate, j(`{"id":"%d","channel_id":"%d","name":"alerts"}`, hook2, secret))
	return b
}

func TestAuthWebhook(t *testing.T) {
	create := func(id, channel int, name string) string {
		return j(`{"id":"%d","channel_id":"%d","name":%q}`, id, channel, name)
	}
	cases := []authCase{
		{name: "create by admin", sender: admin, typ: guild.TypeWebhookCreate, content: create(710, general, "deploys")},
		{name: "create by member", sender: member, typ: guild.TypeWebhookCreate, content: create(710, general, "deploys"), want: guild.ReasonMissingPerm},
		{name: "create where it cannot see", sender: mod, typ: guild.TypeWebhookCreate, content: create(710, secret, "deploys"), want: guild.ReasonMissingPerm},
		{name: "create in a category", sender: owner, typ: guild.TypeWebhookCreate, content: create(710, category, "deploys"), want: guild.ReasonUnknownTarget},
		{name: "create in unknown channel", sender: owner, typ: guild.TypeWebhookCreate, content: create(710, 999, "deploys"), want: guild.ReasonUnknownTarget},
		{name: "create with empty name", sender: owner, typ: guild.TypeWebhookCreate, content: create(710, general, ""), want: guild.ReasonBadContent},
		{name: "create with long name", sender: owner, typ: guild.TypeWebhookCreate, content: create(710, general, strings.Repeat("a", 81)), want: guild.ReasonBadContent},
		{name: "create passing for the service", sender: owner, typ: guild.TypeWebhookCreate, content: create(710, general, "Official DISCORD news"), want: guild.ReasonBadContent},
		{name: "create with a member's id", sender: owner, typ: guild.TypeWebhookCreate, content: create(member, general, "deploys"), want: guild.ReasonIDInUse},
		{name: "create with a departed user's id", sender: owner, typ: guild.TypeWebhookCreate, content: create(left, general, "deploys"), want: guild.ReasonIDInUse},
		{name: "create with a webhook's id", sender: owner, typ: guild.TypeWebhookCreate, content: create(hook, general, "deploys"), want: guild.ReasonIDInUse},

		{name: "rename by admin", sender: admin, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","name":"builds"}`, hook)},
		{name: "rename by its token", sender: hook, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","name":"builds","avatar":""}`, hook)},
		{name: "rename by its token from another node", sender: hook, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","name":"builds"}`, hook), origin: "node-b", want: guild.ReasonNotMember},
		{name: "rename another webhook by a token", sender: hook, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","name":"builds"}`, hook2), want: guild.ReasonNotMember},
		{name: "move by its token", sender: hook, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","channel_id":"%d"}`, hook, secret), want: guild.ReasonMissingPerm},
		{name: "move by admin", sender: admin, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","channel_id":"%d"}`, hook, secret)},
		{name: "move by mod where it cannot see", sender: mod, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","channel_id":"%d"}`, hook, secret), want: guild.ReasonMissingPerm},
		{name: "update by member", sender: member, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","name":"mine"}`, hook), want: guild.ReasonMissingPerm},
		{name: "update unknown", sender: admin, typ: guild.TypeWebhookUpdate, content: `{"id":"799","name":"mine"}`, want: guild.ReasonUnknownTarget},
		{name: "update with a bad name", sender: admin, typ: guild.TypeWebhookUpdate, content: j(`{"id":"%d","name":"clyde"}`, hook), want: guild.ReasonBadContent},

		{name: "delete by admin", sender: admin, typ: guild.TypeWebhookDelete, content: j(`{"id":"%d","channel_id":"%d"}`, hook, general)},
		{name: "delete by its token", sender: hook, typ: guild.TypeWebhookDelete, content: j(`{"id":"%d","channel_id":"%d"}`, hook, general)},
		{name: "delete naming another channel", sender: admin, typ: guild.TypeWebhookDelete, content: j(`{"id":"%d","channel_id":"%d"}`, hook, secret), want: guild.ReasonBadContent},
		{name: "delete by member", sender: member, typ: guild.TypeWebhookDelete, content: j(`{"id":"%d","channel_id":"%d"}`, hook, general), want: guild.ReasonMissingPerm},
		{name: "delete one of a hidden channel", sender: mod, typ: guild.TypeWebhookDelete, content: j(`{"id":"%d","channel_id":"%d"}`, hook2, secret), want: guild.ReasonMissingPerm},
		{name: "webhook acts on the guild", sender: hook, typ: guild.TypeGuildUpdate, content: `{"name":"mine now"}`, want: guild.ReasonNotMember},
		{name: "a user with a webhook's id joins", sender: hook, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, want: guild.ReasonIDInUse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := withHooks(t)
			op := b.op(tc.sender, tc.typ, tc.content)
			if tc.origin != "" {
				op.Origin = tc.origin
			}
			if tc.typ == guild.TypeMemberJoin {
				op.AuthEvents = append(op.AuthEvents, b.invites["open"])
			}
			got := reason(guild.Check(b.s, op))
			if got != tc.want {
				t.Fatalf("Check = %q, want %q (%v)", got, tc.want, guild.Check(b.s, op))
			}
		})
	}
}

func TestWebhookLimits(t *testing.T) {
	b := fixture(t)
	for i := range guild.MaxWebhooksPerChannel {
		b.do(admin, guild.TypeWebhookCreate, j(`{"id":"%d","channel_id":"%d","name":"hook %d"}`, 800+i, general, i))
	}
	err := guild.Check(b.s, b.op(admin, guild.TypeWebhookCreate, j(`{"id":"899","channel_id":"%d","name":"one more"}`, general)))
	if got := codeOf(err); got != guild.CodeMaxWebhooks {
		t.Fatalf("16th webhook of a channel: code %d (%v), want %d", got, err, guild.CodeMaxWebhooks)
	}
	b.do(admin, guild.TypeWebhookCreate, j(`{"id":"899","channel_id":"%d","name":"elsewhere"}`, secret))
	err = guild.Check(b.s, b.op(admin, guild.TypeWebhookUpdate, j(`{"id":"899","channel_id":"%d"}`, general)))
	if got := codeOf(err); got != guild.CodeMaxWebhooks {
		t.Fatalf("moving into a full channel: code %d (%v), want %d", got, err, guild.CodeMaxWebhooks)
	}

	// A channel's deletion takes its webhooks with it.
	b.do(owner, guild.TypeChannelDelete, j(`{"id":"%d"}`, general))
	if len(b.s.Webhooks) != 1 || b.s.Webhooks[899] == nil {
		t.Fatalf("after deleting general, webhooks = %v, want only 899", b.s.Webhooks)
	}
}

func codeOf(err error) guild.Code {
	if r, ok := err.(*guild.Rejection); ok {
		return r.Code
	}
	return 0
}

func TestWebhookMessages(t *testing.T) {
	targets := messageTargets()
	targets[510] = &guild.MessageInfo{ID: 510, ChannelID: general, AuthorID: hook, TS: now - 1000}
	post := func(channel int, extra string) string {
		return j(`{"id":"600","channel_id":"%d","content":"build passed"%s}`, channel, extra)
	}
	const as = `,"webhook":{"name":"CI"}`
	tests := []struct {
		name    string
		sender  int
		origin  string
		typ     string
		content string
		want    string
	}{
		{"post", hook, "", guild.TypeMessageCreate, post(general, as), ""},
		{"post mentioning everyone", hook, "", guild.TypeMessageCreate, post(general, as+`,"mention_everyone":true,"tts":true`), ""},
		{"post as another name", hook, "", guild.TypeMessageCreate, post(general, `,"webhook":{"name":"Deploy bot","avatar_url":"https://example.org/a.png"}`), ""},
		{"post without its name", hook, "", guild.TypeMessageCreate, post(general, ""), guild.ReasonBadContent},
		{"post as the service", hook, "", guild.TypeMessageCreate, post(general, `,"webhook":{"name":"Discord"}`), guild.ReasonBadContent},
		{"post elsewhere", hook, "", guild.TypeMessageCreate, post(secret, as), guild.ReasonUnknownTarget},
		{"post from another node", hook, "node-b", guild.TypeMessageCreate, post(general, as), guild.ReasonWrongOrigin},
		{"post nothing", hook, "", guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":""%s}`, general, as), guild.ReasonBadContent},
		{"post a reply", hook, "", guild.TypeMessageCreate, post(general, as+`,"message_reference":{"message_id":"500"}`), guild.ReasonBadContent},
		{"member posts as a webhook", member, "", guild.TypeMessageCreate, post(general, as), guild.ReasonBadContent},

		{"edit its own", hook, "", guild.TypeMessageEdit, j(`{"id":"510","channel_id":"%d","content":"build failed"}`, general), ""},
		{"edit a member's", hook, "", guild.TypeMessageEdit, j(`{"id":"500","channel_id":"%d","content":"gotcha"}`, general), guild.ReasonNotAuthor},
		{"delete its own", hook, "", guild.TypeMessageDelete, j(`{"id":"510","channel_id":"%d"}`, general), ""},
		{"delete a member's", hook, "", guild.TypeMessageDelete, j(`{"id":"500","channel_id":"%d"}`, general), guild.ReasonNotAuthor},
		{"mod deletes the webhook's", mod, "", guild.TypeMessageDelete, j(`{"id":"510","channel_id":"%d"}`, general), ""},
		{"author edits are the webhook's alone", owner, "", guild.TypeMessageEdit, j(`{"id":"510","channel_id":"%d","content":"x"}`, general), guild.ReasonNotAuthor},
		{"react", hook, "", guild.TypeReactionAdd, j(`{"message_id":"500","channel_id":"%d","emoji":{"name":"👍"}}`, general), guild.ReasonMissingPerm},
		{"pin", hook, "", guild.TypePinAdd, j(`{"message_id":"510","channel_id":"%d"}`, general), guild.ReasonMissingPerm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := withHooks(t)
			op := b.op(tc.sender, tc.typ, tc.content)
			if tc.origin != "" {
				op.Origin = tc.origin
			}
			if got := reason(guild.CheckMessage(b.s, op, targets)); got != tc.want {
				t.Fatalf("CheckMessage = %q, want %q (%v)", got, tc.want, guild.CheckMessage(b.s, op, targets))
			}
		})
	}
}

// A guild that never had a webhook hashes as it did before webhooks
// existed: the field is absent, not empty.
func TestWebhooksAbsentFromCanonicalWhenNone(t *testing.T) {
	b := fixture(t)
	if got := string(b.s.Canonical()); strings.Contains(got, "Webhooks") {
		t.Fatalf("canonical state of a guild without webhooks names them: %s", got)
	}
	b.do(admin, guild.TypeWebhookCreate, j(`{"id":"%d","channel_id":"%d","name":"CI"}`, hook, general))
	if got := string(b.s.Canonical()); !strings.Contains(got, `"Webhooks":{"700":`) {
		t.Fatalf("canonical state lacks the webhook: %s", got)
	}
}
