package guild_test

import (
	"errors"
	"strings"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
)

// room replaces the fixture's state by a fresh DM or group DM room with ID
// gid, created by the owner with the given other recipients.
func (b *builder) room(kind string, others ...int) {
	b.t.Helper()
	home := func(u int) string {
		if h := homes[u]; h != "" {
			return h
		}
		return "node-c"
	}
	rs := []string{j(`{"user_id":"%d","origin":"%s"}`, owner, home(owner))}
	for _, u := range others {
		rs = append(rs, j(`{"user_id":"%d","origin":"%s"}`, u, home(u)))
	}
	b.s, b.create = guild.New(), ""
	b.create = b.do(owner, guild.TypeGuildCreate, j(`{"id":"%d","kind":%q,"name":"room","recipients":[%s]}`, gid, kind, strings.Join(rs, ","))).EventID
}

// codeCase is an event the rules refuse, with what a client must be told.
type codeCase struct {
	name    string
	setup   func(b *builder) // more history after the fixture's
	msg     bool             // checked with CheckMessage against messageTargets
	sender  int
	typ     string
	content string
	auth    []string // extra auth events after the create event
	origin  string   // default: the sender's home
	noAuth  bool     // leave the create event out of auth_events
	reason  string
	code    guild.Code
	field   string
}

func runCodeCases(t *testing.T, cases []codeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.typ+"/"+tc.name, func(t *testing.T) {
			b := fixture(t)
			if tc.setup != nil {
				tc.setup(b)
			}
			op := b.op(tc.sender, tc.typ, tc.content, tc.auth...)
			if tc.noAuth {
				op.AuthEvents = op.AuthEvents[1:]
			}
			if tc.origin != "" {
				op.Origin = tc.origin
			}
			var err error
			if tc.msg {
				err = guild.CheckMessage(b.s, op, messageTargets())
			} else {
				err = guild.Check(b.s, op)
			}
			var r *guild.Rejection
			if !errors.As(err, &r) {
				t.Fatalf("got %v, want a rejection", err)
			}
			if r.Reason != tc.reason || r.Code != tc.code || r.Field != tc.field {
				t.Fatalf("got %s, code %d, field %q (%s); want %s, code %d, field %q",
					r.Reason, r.Code, r.Field, r.Detail, tc.reason, tc.code, tc.field)
			}
		})
	}
}

// TestRejectionCodesGuild pins the codes the client API relies on for state
// events, in particular where several checks fail and the one a client
// would hear from Discord must come first; and every rejection path the
// other tables leave out.
func TestRejectionCodesGuild(t *testing.T) {
	b := fixture(t)
	open, once, old := b.invites["open"], b.invites["once"], b.invites["old"]
	lowOverwrite := func(b *builder) {
		b.do(owner, guild.TypeChannelOverwrite, j(`{"channel_id":"%d","id":"%d","type":0,"allow":"0","deny":"0"}`, general, lowRole))
	}
	const bad, missing, hierarchy, unknown = guild.ReasonBadContent, guild.ReasonMissingPerm, guild.ReasonHierarchy, guild.ReasonUnknownTarget
	const form, denied = guild.CodeInvalidFormBody, guild.CodeMissingPermissions
	runCodeCases(t, []codeCase{
		// The room is not there for the sender: the object its route names
		// is unknown.
		{name: "outsider", sender: outsider, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, reason: guild.ReasonNotMember, code: guild.CodeUnknownGuild},
		{name: "outsider", sender: outsider, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","topic":"t"}`, general), reason: guild.ReasonNotMember, code: guild.CodeUnknownChannel},
		{name: "outsider", sender: outsider, typ: guild.TypeInviteRevoke, content: `{"code":"open"}`, reason: guild.ReasonNotMember, code: guild.CodeUnknownInvite},
		{name: "no guild yet", setup: func(b *builder) { b.s = guild.New() }, sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, reason: guild.ReasonMissingAuth, code: guild.CodeUnknownGuild},
		{name: "deleted guild", setup: func(b *builder) { b.do(owner, guild.TypeGuildDelete, `{}`) }, sender: owner, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}, reason: guild.ReasonGuildDeleted, code: guild.CodeUnknownInvite},
		{name: "other node", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, origin: "node-evil", reason: guild.ReasonWrongOrigin, code: guild.CodeMissingAccess},

		// guild.update and guild.transfer (PATCH /guilds/{id}).
		{name: "unknown system channel before the permission", sender: member, typ: guild.TypeGuildUpdate, content: `{"system_channel_id":"999"}`, reason: unknown, code: guild.CodeUnknownChannel},
		{name: "by member", sender: member, typ: guild.TypeGuildUpdate, content: `{"name":"renamed"}`, reason: missing, code: denied},
		{name: "verification level", sender: owner, typ: guild.TypeGuildUpdate, content: `{"verification_level":9}`, reason: bad, code: form, field: "verification_level"},
		{name: "name", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"x"}`, reason: bad, code: form, field: "name"},
		{name: "to a non-member, by a non-owner", sender: admin, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, outsider), reason: unknown, code: form, field: "owner_id"},
		{name: "by a non-owner", sender: admin, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, member), reason: guild.ReasonOwnerOnly, code: denied},
		{name: "to oneself, by a non-owner", sender: admin, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, admin), reason: guild.ReasonOwnerOnly, code: denied},
		{name: "to oneself", sender: owner, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, owner), reason: unknown, code: form, field: "owner_id"},
		{name: "by admin", sender: admin, typ: guild.TypeGuildDelete, content: `{}`, reason: guild.ReasonOwnerOnly, code: denied},
		{name: "owner", sender: owner, typ: guild.TypeMemberLeave, content: `{}`, reason: guild.ReasonOwnerOnly, code: denied},

		// Roles.
		{name: "full guild", setup: func(b *builder) {
			for i := 0; len(b.s.Roles) < guild.MaxRoles; i++ {
				b.do(owner, guild.TypeRoleCreate, j(`{"id":"%d"}`, 10_000+i))
			}
		}, sender: member, typ: guild.TypeRoleCreate, content: `{"id":"210"}`, reason: guild.ReasonLimit, code: guild.CodeMaxRoles},
		{name: "by member", sender: member, typ: guild.TypeRoleCreate, content: `{"id":"210"}`, reason: hierarchy, code: denied},
		{name: "colour", sender: owner, typ: guild.TypeRoleCreate, content: `{"id":"210","color":-1}`, reason: bad, code: form, field: "color"},
		{name: "undefined bits", sender: owner, typ: guild.TypeRoleCreate, content: `{"id":"210","permissions":"140737488355328"}`, reason: bad, code: form, field: "permissions"},
		{name: "granting what the mod lacks", sender: mod, typ: guild.TypeRoleCreate, content: j(`{"id":"210","permissions":"%d"}`, perm.Administrator), reason: missing, code: denied},
		{name: "unknown role before the permission", sender: member, typ: guild.TypeRoleUpdate, content: `{"id":"999","color":1}`, reason: unknown, code: guild.CodeUnknownRole},
		{name: "rename @everyone without MANAGE_ROLES", sender: member, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","name":"all"}`, gid), reason: hierarchy, code: denied},
		{name: "rename @everyone", sender: owner, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","name":"all"}`, gid), reason: bad, code: form, field: "name"},
		{name: "move @everyone", sender: owner, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","position":2}`, gid), reason: bad, code: form, field: "position"},
		{name: "@everyone, by member", sender: member, typ: guild.TypeRoleDelete, content: j(`{"id":"%d"}`, gid), reason: unknown, code: form, field: "role_id"},
		{name: "unknown role before the permission", sender: member, typ: guild.TypeRoleDelete, content: `{"id":"999"}`, reason: unknown, code: guild.CodeUnknownRole},
		{name: "by member", sender: member, typ: guild.TypeRoleDelete, content: j(`{"id":"%d"}`, lowRole), reason: hierarchy, code: denied},
		{name: "unknown role before the permission", sender: member, typ: guild.TypeRoleReorder, content: j(`{"positions":[{"id":"%d","position":1},{"id":"999","position":2}]}`, lowRole), reason: unknown, code: guild.CodeUnknownRole},
		{name: "position 0", sender: owner, typ: guild.TypeRoleReorder, content: j(`{"positions":[{"id":"%d","position":0}]}`, lowRole), reason: bad, code: form, field: "position"},
		{name: "by member", sender: member, typ: guild.TypeRoleReorder, content: j(`{"positions":[{"id":"%d","position":1}]}`, lowRole), reason: hierarchy, code: denied},

		// Members.
		{name: "unknown member", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["999"]}`, outsider), reason: unknown, code: guild.CodeUnknownMember},
		{name: "unknown role before the permission", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["999"]}`, member), reason: unknown, code: guild.CodeUnknownRole},
		{name: "unknown role before the nick's permission", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"x","roles_remove":["999"]}`, helper), reason: unknown, code: guild.CodeUnknownRole},
		{name: "@everyone", sender: owner, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["%d"]}`, member, gid), reason: unknown, code: guild.CodeUnknownRole},
		{name: "role by member", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["%d"]}`, helper, lowRole), reason: hierarchy, code: denied},
		{name: "nick", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"%s"}`, member, strings.Repeat("n", 33)), reason: bad, code: form, field: "nick"},
		{name: "timeout", sender: mod, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","communication_disabled_until":-5}`, member), reason: bad, code: form, field: "communication_disabled_until"},
		{name: "unknown member before the permission", sender: member, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, outsider), reason: unknown, code: guild.CodeUnknownMember},
		{name: "by member", sender: member, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, helper), reason: missing, code: denied},
		{name: "oneself without the permission", sender: member, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, member), reason: missing, code: denied},
		{name: "the owner without the permission", sender: member, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, owner), reason: guild.ReasonTargetIsOwner, code: denied},
		{name: "the owner", sender: admin, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, owner), reason: guild.ReasonTargetIsOwner, code: denied},
		{name: "a higher member", sender: mod, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, admin), reason: hierarchy, code: denied},
		{name: "the banned, by member", sender: member, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, bannedUser), reason: missing, code: denied},
		{name: "twice", sender: mod, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, bannedUser), reason: guild.ReasonAlreadyApplied, code: form},
		{name: "erasing too much", sender: mod, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d","delete_message_seconds":604801}`, member), reason: bad, code: form, field: "delete_message_seconds"},
		{name: "the not banned, by member", sender: member, typ: guild.TypeMemberUnban, content: j(`{"user_id":"%d"}`, outsider), reason: missing, code: denied},
		{name: "not banned", sender: mod, typ: guild.TypeMemberUnban, content: j(`{"user_id":"%d"}`, outsider), reason: unknown, code: guild.CodeUnknownBan},
		{name: "expired invite, by the banned", sender: bannedUser, typ: guild.TypeMemberJoin, content: `{"invite_code":"old"}`, auth: []string{old}, reason: guild.ReasonInvalidInvite, code: guild.CodeUnknownInvite},
		{name: "used-up invite, by a member", sender: member, typ: guild.TypeMemberJoin, content: `{"invite_code":"once"}`, auth: []string{once}, reason: guild.ReasonInvalidInvite, code: guild.CodeUnknownInvite},
		{name: "unknown invite", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"nope"}`, auth: []string{open}, reason: guild.ReasonInvalidInvite, code: guild.CodeUnknownInvite},
		{name: "without the invite's event", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, reason: guild.ReasonMissingAuth, code: guild.CodeUnknownInvite},
		{name: "banned", sender: bannedUser, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}, reason: guild.ReasonBanned, code: guild.CodeBanned},
		{name: "a member, by member", sender: member, typ: guild.TypeMemberAdd, content: j(`{"user_id":"%d","bot":true}`, helper), reason: guild.ReasonAlreadyApplied, code: form},
		{name: "by member", sender: member, typ: guild.TypeMemberAdd, content: `{"user_id":"50","bot":true}`, reason: missing, code: denied},
		{name: "banned", sender: admin, typ: guild.TypeMemberAdd, content: j(`{"user_id":"%d"}`, bannedUser), reason: guild.ReasonBanned, code: guild.CodeBanned},

		// Channels: one the sender cannot see is unknown to it.
		{name: "full guild", setup: func(b *builder) {
			for i := 0; len(b.s.Channels) < guild.MaxChannels; i++ {
				b.do(owner, guild.TypeChannelCreate, j(`{"id":"%d","type":0,"name":"c"}`, 10_000+i))
			}
		}, sender: member, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"x"}`, reason: guild.ReasonLimit, code: guild.CodeMaxChannels},
		{name: "by member", sender: member, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"x"}`, reason: missing, code: denied},
		{name: "no name", sender: owner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0}`, reason: bad, code: form, field: "name"},
		{name: "type", sender: owner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":5,"name":"x"}`, reason: bad, code: form, field: "type"},
		{name: "overwrite for an unknown role", sender: owner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"x","permission_overwrites":[{"id":"999","type":0,"allow":"0","deny":"0"}]}`, reason: unknown, code: guild.CodeUnknownRole},
		{name: "unseen", sender: member, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","topic":"t"}`, secret), reason: missing, code: guild.CodeUnknownChannel},
		{name: "unknown", sender: member, typ: guild.TypeChannelUpdate, content: `{"id":"999","topic":"t"}`, reason: unknown, code: guild.CodeUnknownChannel},
		{name: "by member", sender: member, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","topic":"t"}`, general), reason: missing, code: denied},
		{name: "topic", sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","topic":"%s"}`, general, strings.Repeat("t", 1025)), reason: bad, code: form, field: "topic"},
		{name: "slow mode", sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","rate_limit_per_user":21601}`, general), reason: bad, code: form, field: "rate_limit_per_user"},
		{name: "position", sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","position":-1}`, general), reason: bad, code: form, field: "position"},
		{name: "user limit", sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","user_limit":100}`, general), reason: bad, code: form, field: "user_limit"},
		{name: "parent not a category", sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","parent_id":"%d"}`, general, secret), reason: unknown, code: guild.CodeUnknownChannel},
		{name: "overwrites without MANAGE_ROLES", setup: func(b *builder) {
			b.do(owner, guild.TypeRoleCreate, j(`{"id":"210","permissions":"%d"}`, perm.ManageChannels|perm.ViewChannel))
			b.do(owner, guild.TypeMemberUpdate, j(`{"user_id":"%d","roles_add":["210"]}`, member))
		}, sender: member, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","permission_overwrites":[]}`, general), reason: missing, code: denied},
		{name: "two overwrites for one role", sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","permission_overwrites":[{"id":"%d","type":0,"allow":"0","deny":"0"},{"id":"%d","type":0,"allow":"0","deny":"0"}]}`, general, lowRole, lowRole), reason: bad, code: form, field: "permission_overwrites"},
		{name: "unseen", sender: member, typ: guild.TypeChannelDelete, content: j(`{"id":"%d"}`, secret), reason: missing, code: guild.CodeUnknownChannel},
		{name: "by member", sender: member, typ: guild.TypeChannelDelete, content: j(`{"id":"%d"}`, general), reason: missing, code: denied},
		{name: "unseen", sender: mod, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"0","deny":"0"}`, secret, member), reason: missing, code: guild.CodeUnknownChannel},
		{name: "by member", sender: member, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"0","deny":"0"}`, general, member), reason: missing, code: denied},
		{name: "unknown role", sender: owner, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"999","type":0,"allow":"0","deny":"0"}`, general), reason: unknown, code: guild.CodeUnknownRole},
		{name: "no member", sender: owner, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","type":1,"allow":"0","deny":"0"}`, general), reason: unknown, code: guild.CodeUnknownMember},
		{name: "type", sender: owner, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":2,"allow":"0","deny":"0"}`, general, member), reason: bad, code: form, field: "type"},
		{name: "guild-wide allow", sender: owner, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"%d","deny":"0"}`, general, member, perm.Administrator), reason: bad, code: form, field: "allow"},
		{name: "guild-wide deny", sender: owner, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"0","deny":"%d"}`, general, member, perm.BanMembers), reason: bad, code: form, field: "deny"},
		{name: "granting what the mod lacks", sender: mod, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"%d","deny":"0"}`, general, member, perm.ManageWebhooks), reason: missing, code: denied},
		{name: "unseen before unknown", sender: mod, typ: guild.TypeChannelOverwriteDelete, content: j(`{"channel_id":"%d","id":"%d"}`, secret, member), reason: missing, code: guild.CodeUnknownChannel},
		{name: "unknown before the permission", sender: member, typ: guild.TypeChannelOverwriteDelete, content: j(`{"channel_id":"%d","id":"%d"}`, general, member), reason: unknown, code: guild.CodeUnknownOverwrite},
		{name: "by member", setup: lowOverwrite, sender: member, typ: guild.TypeChannelOverwriteDelete, content: j(`{"channel_id":"%d","id":"%d"}`, general, lowRole), reason: missing, code: denied},

		// Invites and emoji.
		{name: "unseen", sender: member, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":0,"max_uses":0}`, secret), reason: missing, code: guild.CodeUnknownChannel},
		{name: "by helper", setup: func(b *builder) {
			b.do(owner, guild.TypeChannelOverwrite, j(`{"channel_id":"%d","id":"%d","type":0,"allow":"0","deny":"%d"}`, general, lowRole, perm.CreateInstantInvite))
		}, sender: helper, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":0,"max_uses":0}`, general), reason: missing, code: denied},
		{name: "max uses", sender: owner, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":0,"max_uses":101}`, general), reason: bad, code: form, field: "max_uses"},
		{name: "max age", sender: owner, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":-1,"max_uses":0}`, general), reason: bad, code: form, field: "max_age"},
		{name: "code taken", sender: owner, typ: guild.TypeInviteCreate, content: j(`{"code":"open","channel_id":"%d","max_age":0,"max_uses":0}`, general), reason: guild.ReasonIDInUse, code: form, field: "code"},
		{name: "unknown", sender: member, typ: guild.TypeInviteRevoke, content: `{"code":"nope"}`, reason: unknown, code: guild.CodeUnknownInvite},
		{name: "to an unseen channel", setup: func(b *builder) {
			b.do(admin, guild.TypeInviteCreate, j(`{"code":"hidden","channel_id":"%d","max_age":0,"max_uses":0}`, secret))
		}, sender: member, typ: guild.TypeInviteRevoke, content: `{"code":"hidden"}`, reason: missing, code: guild.CodeUnknownInvite},
		{name: "by member", sender: member, typ: guild.TypeInviteRevoke, content: `{"code":"open"}`, reason: missing, code: denied},
		{name: "full guild", setup: func(b *builder) {
			for i := range 250 {
				b.do(admin, guild.TypeEmojiCreate, j(`{"id":"%d","name":"e%d","image":"sha256:e"}`, 10_000+i, i))
			}
		}, sender: admin, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"blob","image":"sha256:x"}`, reason: guild.ReasonLimit, code: guild.CodeMaxEmojis},
		{name: "no image", sender: admin, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"blob","image":""}`, reason: bad, code: form, field: "image"},
		{name: "unknown role", sender: admin, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"blob","image":"sha256:x","roles":["999"]}`, reason: unknown, code: guild.CodeUnknownRole},
		{name: "by member", sender: member, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"blob","image":"sha256:x"}`, reason: missing, code: denied},
		{name: "unknown", sender: admin, typ: guild.TypeEmojiDelete, content: `{"id":"400"}`, reason: unknown, code: guild.CodeUnknownEmoji},

		// DMs and group DMs are not guilds to the client API.
		{name: "in a DM", setup: func(b *builder) { b.room(guild.KindDM, member) }, sender: owner, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, member), reason: guild.ReasonNotInThisKind, code: guild.CodeUnknownGuild},
		{name: "a DM by the other participant", setup: func(b *builder) { b.room(guild.KindDM, member) }, sender: member, typ: guild.TypeGuildDelete, content: `{}`, reason: guild.ReasonNotInThisKind, code: guild.CodeUnknownGuild},
		{name: "a DM's channel", setup: func(b *builder) { b.room(guild.KindDM, member) }, sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","name":"x"}`, gid), reason: guild.ReasonNotInThisKind, code: guild.CodeUnknownChannel},
		{name: "a bot to a group DM", setup: func(b *builder) { b.room(guild.KindGroupDM, member) }, sender: owner, typ: guild.TypeMemberAdd, content: `{"user_id":"50","bot":true}`, reason: guild.ReasonNotInThisKind, code: guild.CodeUnknownGuild},
		{name: "to a full group DM", setup: func(b *builder) { b.room(guild.KindGroupDM, 2, 3, 4, 5, 6, 7, 8, 9, 10) }, sender: owner, typ: guild.TypeMemberAdd, content: `{"user_id":"11"}`, reason: guild.ReasonLimit, code: guild.CodeMaxRecipients},
	})
}

// TestRejectionCodesMessages does the same for message-level events.
func TestRejectionCodesMessages(t *testing.T) {
	const bad, missing = guild.ReasonBadContent, guild.ReasonMissingPerm
	const form, denied = guild.CodeInvalidFormBody, guild.CodeMissingPermissions
	post := func(channel int, rest string) string { return j(`{"id":"600","channel_id":"%d"%s}`, channel, rest) }
	attachments := make([]string, 11)
	for i := range attachments {
		attachments[i] = j(`{"id":"%d","filename":"f","size":1,"blob":"b"}`, 700+i)
	}
	embeds := strings.TrimSuffix(strings.Repeat(`{"title":"e"},`, 11), ",")
	runCodeCases(t, []codeCase{
		{name: "outsider", msg: true, sender: outsider, typ: guild.TypeMessageCreate, content: post(general, `,"content":"hi"`), reason: guild.ReasonNotMember, code: guild.CodeUnknownChannel},
		{name: "deleted guild", msg: true, setup: func(b *builder) { b.do(owner, guild.TypeGuildDelete, `{}`) }, sender: owner, typ: guild.TypeMessageCreate, content: post(general, `,"content":"hi"`), reason: guild.ReasonGuildDeleted, code: guild.CodeUnknownChannel},
		{name: "without the create event", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(general, `,"content":"hi"`), noAuth: true, reason: guild.ReasonMissingAuth, code: guild.CodeUnknownChannel},
		{name: "state type", msg: true, sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"xx"}`, reason: guild.ReasonUnknownType, code: form},

		{name: "unseen", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(secret, `,"content":"hi"`), reason: missing, code: guild.CodeUnknownChannel},
		{name: "nothing where unseen", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(secret, `,"content":""`), reason: missing, code: guild.CodeUnknownChannel},
		{name: "unknown channel", msg: true, sender: owner, typ: guild.TypeMessageCreate, content: post(999, `,"content":"hi"`), reason: guild.ReasonUnknownTarget, code: guild.CodeUnknownChannel},
		{name: "category", msg: true, sender: owner, typ: guild.TypeMessageCreate, content: post(category, `,"content":"hi"`), reason: guild.ReasonUnknownTarget, code: guild.CodeUnknownChannel},
		{name: "no id", msg: true, sender: member, typ: guild.TypeMessageCreate, content: j(`{"channel_id":"%d","content":"hi"}`, general), reason: bad, code: form, field: "id"},
		{name: "nothing", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(general, `,"content":""`), reason: bad, code: guild.CodeEmptyMessage},
		{name: "too long", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(general, j(`,"content":"%s"`, strings.Repeat("x", 2001))), reason: bad, code: form, field: "content"},
		{name: "eleven embeds", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(general, `,"content":"hi","embeds":[`+embeds+`]`), reason: guild.ReasonLimit, code: form, field: "embeds"},
		{name: "eleven files", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(general, `,"content":"hi","attachments":[`+strings.Join(attachments, ",")+`]`), reason: guild.ReasonLimit, code: form, field: "files"},
		{name: "tts", msg: true, sender: member, typ: guild.TypeMessageCreate, content: post(general, `,"content":"hi","tts":true`), reason: missing, code: denied},

		{name: "another's, unseen", msg: true, sender: mod, typ: guild.TypeMessageEdit, content: j(`{"id":"502","channel_id":"%d","content":"x"}`, secret), reason: missing, code: guild.CodeUnknownChannel},
		{name: "another's content", msg: true, sender: mod, typ: guild.TypeMessageEdit, content: j(`{"id":"500","channel_id":"%d","content":"x"}`, general), reason: guild.ReasonNotAuthor, code: guild.CodeCannotEditOthers},
		{name: "another's content, too long", msg: true, sender: mod, typ: guild.TypeMessageEdit, content: j(`{"id":"500","channel_id":"%d","content":"%s"}`, general, strings.Repeat("x", 2001)), reason: guild.ReasonNotAuthor, code: guild.CodeCannotEditOthers},
		{name: "suppress without MANAGE_MESSAGES", msg: true, sender: helper, typ: guild.TypeMessageEdit, content: j(`{"id":"500","channel_id":"%d","flags":4}`, general), reason: missing, code: denied},
		{name: "too long", msg: true, sender: member, typ: guild.TypeMessageEdit, content: j(`{"id":"500","channel_id":"%d","content":"%s"}`, general, strings.Repeat("x", 2001)), reason: bad, code: form, field: "content"},
		{name: "eleven embeds", msg: true, sender: member, typ: guild.TypeMessageEdit, content: j(`{"id":"500","channel_id":"%d","embeds":[%s]}`, general, embeds), reason: guild.ReasonLimit, code: form, field: "embeds"},
		{name: "unknown message", msg: true, sender: member, typ: guild.TypeMessageEdit, content: j(`{"id":"599","channel_id":"%d","content":"x"}`, general), reason: guild.ReasonMissingAuth, code: guild.CodeUnknownMessage},
		{name: "wrong channel", msg: true, sender: member, typ: guild.TypeMessageEdit, content: j(`{"id":"500","channel_id":"%d","content":"x"}`, category), reason: guild.ReasonMessageMismatch, code: guild.CodeUnknownMessage},

		{name: "another's", msg: true, sender: helper, typ: guild.TypeMessageDelete, content: j(`{"id":"500","channel_id":"%d"}`, general), reason: missing, code: denied},
		{name: "unseen", msg: true, sender: mod, typ: guild.TypeMessageDelete, content: j(`{"id":"502","channel_id":"%d"}`, secret), reason: missing, code: guild.CodeUnknownChannel},
		{name: "another's in a DM", msg: true, setup: func(b *builder) { b.room(guild.KindDM, member) }, sender: owner, typ: guild.TypeMessageDelete, content: j(`{"id":"900","channel_id":"%d"}`, gid), reason: missing, code: guild.CodeCannotInDM},
		{name: "in a DM", msg: true, setup: func(b *builder) { b.room(guild.KindDM, member) }, sender: member, typ: guild.TypeMessageBulkDelete, content: j(`{"channel_id":"%d","ids":["900"]}`, gid), reason: missing, code: guild.CodeCannotInDM},
		{name: "by member", msg: true, sender: member, typ: guild.TypeMessageBulkDelete, content: j(`{"channel_id":"%d","ids":["500"]}`, general), reason: missing, code: denied},
		{name: "one", msg: true, sender: mod, typ: guild.TypeMessageBulkDelete, content: j(`{"channel_id":"%d","ids":["500"]}`, general), reason: bad, code: form, field: "messages"},
		{name: "twice", msg: true, sender: mod, typ: guild.TypeMessageBulkDelete, content: j(`{"channel_id":"%d","ids":["500","500"]}`, general), reason: bad, code: form, field: "messages"},
		{name: "too old", msg: true, sender: mod, typ: guild.TypeMessageBulkDelete, content: j(`{"channel_id":"%d","ids":["500","503"]}`, general), reason: bad, code: guild.CodeBulkDeleteTooOld},

		{name: "no emoji", msg: true, sender: member, typ: guild.TypeReactionAdd, content: j(`{"message_id":"501","channel_id":"%d","emoji":{"name":""}}`, general), reason: bad, code: guild.CodeUnknownEmoji},
		{name: "for another", msg: true, sender: member, typ: guild.TypeReactionAdd, content: j(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"},"user_id":"%d"}`, general, helper), reason: bad, code: form},
		{name: "another's", msg: true, sender: member, typ: guild.TypeReactionRemove, content: j(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"},"user_id":"%d"}`, general, helper), reason: missing, code: denied},
		{name: "by member", msg: true, sender: member, typ: guild.TypeReactionRemoveAll, content: j(`{"message_id":"501","channel_id":"%d"}`, general), reason: missing, code: denied},
		{name: "by member", msg: true, sender: member, typ: guild.TypePinAdd, content: j(`{"message_id":"501","channel_id":"%d"}`, general), reason: missing, code: denied},
	})
}
