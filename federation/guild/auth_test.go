package guild_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
)

// The fixture guild (IDs are small snowflakes):
//
//	users:    owner 1 (node-a), admin 2 (node-a), mod 3 (node-b),
//	          member 4 (node-c), helper 5 (node-c, role "low"),
//	          outsider 9 (never joined), 8 (banned), 7 (left; home node-b)
//	roles:    admin 200 pos 3 ADMINISTRATOR; mod 201 pos 2 kick/ban/roles/
//	          channels/nicknames/moderate/messages; low 202 pos 1 nothing
//	channels: general 300 (text), secret 301 (@everyone denied VIEW_CHANNEL),
//	          category 302
//	invites:  "open" (unlimited), "once" (max_uses 1, used), "old" (max_age
//	          60 s, created at ts 1000)
const (
	gid              = 100
	owner, admin     = 1, 2
	mod, member      = 3, 4
	helper, outsider = 5, 9
	bannedUser, left = 8, 7
	adminRole        = 200
	modRole          = 201
	lowRole          = 202
	general, secret  = 300, 301
	category         = 302
	now              = 1_000_000
)

var homes = map[int]string{owner: "node-a", admin: "node-a", mod: "node-b", member: "node-c",
	helper: "node-c", outsider: "node-c", bannedUser: "node-d", left: "node-b"}

const modBits = perm.KickMembers | perm.BanMembers | perm.ManageRoles | perm.ManageChannels |
	perm.ManageNicknames | perm.ModerateMembers | perm.ManageMessages

// builder applies ops that must pass, keeping the event IDs that later ops
// name in their auth events.
type builder struct {
	t       testing.TB
	s       *guild.State
	n       int
	ts      int64
	create  string
	invites map[string]string // code → invite.create event ID
}

func (b *builder) op(sender int, typ, content string, auth ...string) *guild.Op {
	b.n++
	b.ts += 10
	if b.create != "" {
		auth = append([]string{b.create}, auth...)
	}
	return &guild.Op{EventID: "$" + strconv.Itoa(b.n), GuildID: gid, Type: typ, Sender: guild.ID(sender),
		Origin: homes[sender], TS: b.ts, Content: []byte(content), AuthEvents: auth}
}

func (b *builder) do(sender int, typ, content string, auth ...string) *guild.Op {
	b.t.Helper()
	op := b.op(sender, typ, content, auth...)
	if err := guild.Check(b.s, op); err != nil {
		b.t.Fatalf("fixture %s by %d: %v", typ, sender, err)
	}
	if typ == guild.TypeMemberBan {
		guild.ApplyBan(b.s, op)
	} else {
		guild.Apply(b.s, op)
	}
	return op
}

func (b *builder) join(user int, code string) {
	b.t.Helper()
	b.do(user, guild.TypeMemberJoin, `{"invite_code":"`+code+`"}`, b.invites[code])
}

func (b *builder) invite(code string, maxAge int64, maxUses int) {
	b.t.Helper()
	op := b.do(owner, guild.TypeInviteCreate,
		fmt.Sprintf(`{"code":%q,"channel_id":"%d","max_age":%d,"max_uses":%d}`, code, general, maxAge, maxUses))
	b.invites[code] = op.EventID
}

func fixture(t testing.TB) *builder {
	b := &builder{t: t, s: guild.New(), invites: map[string]string{}}
	b.ts = 990
	b.create = b.do(owner, guild.TypeGuildCreate, `{"id":"100","kind":"guild","name":"fixture"}`).EventID
	b.do(owner, guild.TypeRoleCreate, fmt.Sprintf(`{"id":"%d","name":"admin","position":3,"permissions":"%d"}`, adminRole, perm.Administrator))
	b.do(owner, guild.TypeRoleCreate, fmt.Sprintf(`{"id":"%d","name":"mod","position":2,"permissions":"%d"}`, modRole, modBits))
	b.do(owner, guild.TypeRoleCreate, fmt.Sprintf(`{"id":"%d","name":"low","position":1}`, lowRole))
	b.do(owner, guild.TypeChannelCreate, fmt.Sprintf(`{"id":"%d","type":0,"name":"general"}`, general))
	b.do(owner, guild.TypeChannelCreate, fmt.Sprintf(`{"id":"%d","type":0,"name":"secret","permission_overwrites":[{"id":"%d","type":0,"allow":"0","deny":"%d"}]}`, secret, gid, perm.ViewChannel))
	b.do(owner, guild.TypeChannelCreate, fmt.Sprintf(`{"id":"%d","type":4,"name":"category"}`, category))
	b.invite("old", 60, 0)
	b.invite("open", 0, 0)
	b.invite("once", 0, 1)
	for _, u := range []int{admin, mod, member, helper, bannedUser, left} {
		b.join(u, "open")
	}
	b.do(owner, guild.TypeMemberUpdate, fmt.Sprintf(`{"user_id":"%d","roles_add":["%d"]}`, admin, adminRole))
	b.do(owner, guild.TypeMemberUpdate, fmt.Sprintf(`{"user_id":"%d","roles_add":["%d"]}`, mod, modRole))
	b.do(owner, guild.TypeMemberUpdate, fmt.Sprintf(`{"user_id":"%d","roles_add":["%d"]}`, helper, lowRole))
	b.do(mod, guild.TypeMemberBan, fmt.Sprintf(`{"user_id":"%d"}`, bannedUser))
	b.do(left, guild.TypeMemberLeave, `{}`)
	b.do(6, guild.TypeMemberJoin, `{"invite_code":"once"}`, b.invites["once"])
	b.do(owner, guild.TypeInviteCreate, fmt.Sprintf(`{"code":"mine","channel_id":"%d","max_age":0,"max_uses":0}`, general))
	b.ts = now
	return b
}

func init() { homes[6] = "node-e" }

type authCase struct {
	name    string
	sender  int
	typ     string
	content string
	auth    []string // extra auth events after the create event
	origin  string   // default: the sender's home
	noAuth  bool     // leave the create event out of auth_events
	ts      int64    // default: now
	want    string   // Rejection.Reason; "" means allowed
}

func runAuthCases(t *testing.T, cases []authCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.typ+"/"+tc.name, func(t *testing.T) {
			b := fixture(t)
			op := b.op(tc.sender, tc.typ, tc.content)
			op.AuthEvents = append(op.AuthEvents, tc.auth...)
			if tc.noAuth {
				op.AuthEvents = op.AuthEvents[1:]
			}
			if tc.origin != "" {
				op.Origin = tc.origin
			}
			if tc.ts != 0 {
				op.TS = tc.ts
			}
			got := reason(guild.Check(b.s, op))
			if got != tc.want {
				t.Fatalf("Check = %q, want %q (%v)", got, tc.want, guild.Check(b.s, op))
			}
			if got == "" {
				before := b.s.Hash()
				if tc.typ == guild.TypeMemberBan {
					guild.ApplyBan(b.s, op)
				} else {
					guild.Apply(b.s, op)
				}
				if b.s.Hash() == before && tc.typ != guild.TypeGuildCreate {
					t.Errorf("allowed %s changed nothing", tc.typ)
				}
			}
		})
	}
}

// reason is err's Rejection.Reason, "" for nil. A rejection that tells a
// client no code, or names a field under a code other than Invalid Form
// Body, reads as something else, so that every table checks that too.
func reason(err error) string {
	if err == nil {
		return ""
	}
	var r *guild.Rejection
	if !errors.As(err, &r) {
		return "not a Rejection: " + err.Error()
	}
	switch {
	case r.Code == 0:
		return r.Reason + " without a code"
	case r.Field != "" && r.Code != guild.CodeInvalidFormBody:
		return fmt.Sprintf("%s with field %q under code %d", r.Reason, r.Field, r.Code)
	}
	return r.Reason
}

func j(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func TestAuthCommon(t *testing.T) {
	runAuthCases(t, []authCase{
		{name: "unknown type", sender: owner, typ: "guild.frobnicate", content: `{}`, want: guild.ReasonUnknownType},
		{name: "message type is not state", sender: owner, typ: guild.TypeMessageCreate, content: j(`{"id":"5000","channel_id":"%d","content":"hi"}`, general), want: guild.ReasonUnknownType},
		{name: "unknown field", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"ok name","colour":1}`, want: guild.ReasonBadContent},
		{name: "not json", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":`, want: guild.ReasonBadContent},
		{name: "wrong field type", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":7}`, want: guild.ReasonBadContent},
		{name: "missing create event", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, noAuth: true, want: guild.ReasonMissingAuth},
		{name: "wrong create event", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, noAuth: true, auth: []string{"$2"}, want: guild.ReasonMissingAuth},
		{name: "origin not home", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, origin: "node-evil", want: guild.ReasonWrongOrigin},
		{name: "non-member sender", sender: outsider, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, want: guild.ReasonNotMember},
		{name: "departed member", sender: left, typ: guild.TypeMemberLeave, content: `{}`, want: guild.ReasonNotMember},
		{name: "banned sender", sender: bannedUser, typ: guild.TypeMemberLeave, content: `{}`, want: guild.ReasonNotMember},
	})
}

func TestAuthGuild(t *testing.T) {
	runAuthCases(t, []authCase{
		{name: "second create", sender: owner, typ: guild.TypeGuildCreate, content: `{"id":"100","kind":"guild","name":"again"}`, want: guild.ReasonIDInUse},
		{name: "update by manager", sender: admin, typ: guild.TypeGuildUpdate, content: j(`{"name":"renamed","system_channel_id":"%d","afk_timeout":300}`, general)},
		{name: "update by member", sender: member, typ: guild.TypeGuildUpdate, content: `{"name":"renamed"}`, want: guild.ReasonMissingPerm},
		{name: "update name too short", sender: owner, typ: guild.TypeGuildUpdate, content: `{"name":"x"}`, want: guild.ReasonBadContent},
		{name: "update afk out of range", sender: owner, typ: guild.TypeGuildUpdate, content: `{"afk_timeout":5}`, want: guild.ReasonBadContent},
		{name: "update unknown system channel", sender: owner, typ: guild.TypeGuildUpdate, content: `{"system_channel_id":"999"}`, want: guild.ReasonUnknownTarget},
		{name: "delete by owner", sender: owner, typ: guild.TypeGuildDelete, content: `{}`},
		{name: "delete by admin", sender: admin, typ: guild.TypeGuildDelete, content: `{}`, want: guild.ReasonOwnerOnly},
		{name: "transfer by owner", sender: owner, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, member)},
		{name: "transfer by admin", sender: admin, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, admin), want: guild.ReasonOwnerOnly},
		{name: "transfer to non-member", sender: owner, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, outsider), want: guild.ReasonUnknownTarget},
		{name: "transfer to self", sender: owner, typ: guild.TypeGuildTransfer, content: j(`{"new_owner_id":"%d"}`, owner), want: guild.ReasonUnknownTarget},
	})
}

func TestAuthGuildCreate(t *testing.T) {
	tests := []struct {
		name, content, origin, want string
	}{
		{"guild", `{"id":"100","kind":"guild","name":"new guild"}`, "", ""},
		{"guild id is not the event's", `{"id":"101","kind":"guild","name":"new guild"}`, "", guild.ReasonBadContent},
		{"unknown kind", `{"id":"100","kind":"forum","name":"new guild"}`, "", guild.ReasonBadContent},
		{"guild with recipients", `{"id":"100","kind":"guild","name":"new guild","recipients":[{"user_id":"1","origin":"node-a"}]}`, "", guild.ReasonBadContent},
		{"undefined everyone bits", `{"id":"100","kind":"guild","name":"new guild","everyone_permissions":"140737488355328"}`, "", guild.ReasonBadContent},
		{"dm", `{"id":"100","kind":"dm","recipients":[{"user_id":"1","origin":"node-a"},{"user_id":"4","origin":"node-c"}]}`, "", ""},
		{"dm of three", `{"id":"100","kind":"dm","recipients":[{"user_id":"1","origin":"node-a"},{"user_id":"4","origin":"node-c"},{"user_id":"3","origin":"node-b"}]}`, "", guild.ReasonBadContent},
		{"dm with one recipient twice", `{"id":"100","kind":"dm","recipients":[{"user_id":"1","origin":"node-a"},{"user_id":"1","origin":"node-a"}]}`, "", guild.ReasonBadContent},
		{"dm without sender", `{"id":"100","kind":"dm","recipients":[{"user_id":"2","origin":"node-a"},{"user_id":"4","origin":"node-c"}]}`, "", guild.ReasonBadContent},
		{"dm sender on another node", `{"id":"100","kind":"dm","recipients":[{"user_id":"1","origin":"node-x"},{"user_id":"4","origin":"node-c"}]}`, "", guild.ReasonWrongOrigin},
		{"dm with permissions", `{"id":"100","kind":"dm","everyone_permissions":"0","recipients":[{"user_id":"1","origin":"node-a"},{"user_id":"4","origin":"node-c"}]}`, "", guild.ReasonBadContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := &guild.Op{EventID: "$c", GuildID: gid, Type: guild.TypeGuildCreate, Sender: owner, Origin: "node-a", TS: 1, Content: []byte(tc.content)}
			if got := reason(guild.Check(guild.New(), op)); got != tc.want {
				t.Fatalf("Check = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAuthMember(t *testing.T) {
	b := fixture(t)
	open, once, old := b.invites["open"], b.invites["once"], b.invites["old"]
	runAuthCases(t, []authCase{
		{name: "join", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}},
		{name: "join without invite auth event", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, want: guild.ReasonMissingAuth},
		{name: "join with another invite's event", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{once}, want: guild.ReasonMissingAuth},
		{name: "join unknown invite", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"nope"}`, auth: []string{open}, want: guild.ReasonInvalidInvite},
		{name: "join expired invite", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"old"}`, auth: []string{old}, want: guild.ReasonInvalidInvite},
		{name: "join invite before expiry", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"old"}`, auth: []string{old}, ts: 1030},
		{name: "join used-up invite", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"once"}`, auth: []string{once}, want: guild.ReasonInvalidInvite},
		{name: "join when member", sender: member, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}, want: guild.ReasonAlreadyApplied},
		{name: "join when banned", sender: bannedUser, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}, want: guild.ReasonBanned},
		{name: "rejoin from home", sender: left, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}},
		{name: "rejoin from another node", sender: left, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}, origin: "node-x", want: guild.ReasonWrongOrigin},
		{name: "join without create event", sender: outsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{open}, noAuth: true, want: guild.ReasonMissingAuth},

		{name: "add bot by manager", sender: admin, typ: guild.TypeMemberAdd, content: `{"user_id":"50","bot":true}`},
		{name: "add by member", sender: member, typ: guild.TypeMemberAdd, content: `{"user_id":"50","bot":true}`, want: guild.ReasonMissingPerm},
		{name: "add banned user", sender: admin, typ: guild.TypeMemberAdd, content: j(`{"user_id":"%d"}`, bannedUser), want: guild.ReasonBanned},
		{name: "add user of another node", sender: admin, typ: guild.TypeMemberAdd, content: j(`{"user_id":"%d"}`, left), want: guild.ReasonWrongOrigin},
		{name: "add member", sender: admin, typ: guild.TypeMemberAdd, content: j(`{"user_id":"%d"}`, member), want: guild.ReasonAlreadyApplied},

		{name: "leave", sender: member, typ: guild.TypeMemberLeave, content: `{}`},
		{name: "owner leaves", sender: owner, typ: guild.TypeMemberLeave, content: `{}`, want: guild.ReasonOwnerOnly},

		{name: "kick by mod", sender: mod, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d","reason":"spam"}`, member)},
		{name: "kick the owner", sender: admin, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, owner), want: guild.ReasonTargetIsOwner},
		{name: "kick a higher member", sender: mod, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, admin), want: guild.ReasonHierarchy},
		{name: "kick by member", sender: member, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, helper), want: guild.ReasonMissingPerm},
		{name: "kick non-member", sender: mod, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, outsider), want: guild.ReasonUnknownTarget},
		{name: "kick self", sender: mod, typ: guild.TypeMemberKick, content: j(`{"user_id":"%d"}`, mod), want: guild.ReasonBadContent},

		{name: "ban by mod", sender: mod, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d","delete_message_seconds":3600}`, member)},
		{name: "ban a non-member", sender: mod, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, outsider)},
		{name: "ban the owner", sender: admin, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, owner), want: guild.ReasonTargetIsOwner},
		{name: "ban a higher member", sender: mod, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, admin), want: guild.ReasonHierarchy},
		{name: "ban by member", sender: member, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, helper), want: guild.ReasonMissingPerm},
		{name: "ban twice", sender: mod, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d"}`, bannedUser), want: guild.ReasonAlreadyApplied},
		{name: "ban erasing too much", sender: mod, typ: guild.TypeMemberBan, content: j(`{"user_id":"%d","delete_message_seconds":604801}`, member), want: guild.ReasonBadContent},
		{name: "ban nobody", sender: mod, typ: guild.TypeMemberBan, content: `{}`, want: guild.ReasonBadContent},

		{name: "unban by mod", sender: mod, typ: guild.TypeMemberUnban, content: j(`{"user_id":"%d"}`, bannedUser)},
		{name: "unban not banned", sender: mod, typ: guild.TypeMemberUnban, content: j(`{"user_id":"%d"}`, outsider), want: guild.ReasonUnknownTarget},
		{name: "unban by member", sender: member, typ: guild.TypeMemberUnban, content: j(`{"user_id":"%d"}`, bannedUser), want: guild.ReasonMissingPerm},

		{name: "assign lower role", sender: mod, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["%d"]}`, member, lowRole)},
		{name: "grant self a higher role", sender: mod, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["%d"]}`, mod, adminRole), want: guild.ReasonHierarchy},
		{name: "grant self own role", sender: helper, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["%d"]}`, helper, lowRole), want: guild.ReasonHierarchy},
		{name: "assign by member", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["%d"]}`, member, lowRole), want: guild.ReasonHierarchy},
		{name: "remove role", sender: mod, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_remove":["%d"]}`, helper, lowRole)},
		{name: "assign @everyone", sender: owner, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["%d"]}`, member, gid), want: guild.ReasonUnknownTarget},
		{name: "assign unknown role", sender: owner, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","roles_add":["999"]}`, member), want: guild.ReasonUnknownTarget},
		{name: "update non-member", sender: owner, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"x"}`, outsider), want: guild.ReasonUnknownTarget},
		{name: "own nick", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"memb"}`, member)},
		{name: "nick too long", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"%s"}`, member, "123456789012345678901234567890123"), want: guild.ReasonBadContent},
		{name: "other's nick by member", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"x"}`, helper), want: guild.ReasonMissingPerm},
		{name: "other's nick by mod", sender: mod, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"x"}`, helper)},
		{name: "owner's nick by admin", sender: admin, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","nick":"x"}`, owner), want: guild.ReasonTargetIsOwner},
		{name: "timeout", sender: mod, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","communication_disabled_until":%d}`, member, now+60_000)},
		{name: "timeout over 28 days", sender: mod, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","communication_disabled_until":%d}`, member, now+29*24*3600*1000), want: guild.ReasonBadContent},
		{name: "timeout an admin", sender: owner, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","communication_disabled_until":%d}`, admin, now+60_000), want: guild.ReasonHierarchy},
		{name: "mute by member", sender: member, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","mute":true}`, helper), want: guild.ReasonMissingPerm},
		{name: "mute by admin", sender: admin, typ: guild.TypeMemberUpdate, content: j(`{"user_id":"%d","mute":true}`, helper)},
	})
}

func TestInviteUsable(t *testing.T) {
	const created = 1_000_000
	tests := []struct {
		maxAge      int64
		maxUses     int
		uses        int
		now         int64
		want        bool
		description string
	}{
		{0, 0, 5, created + 1e12, true, "no limits"},
		{60, 0, 0, created + 60_000, true, "at its last millisecond"},
		{60, 0, 0, created + 60_001, false, "expired"},
		{0, 2, 1, created, true, "a use left"},
		{0, 2, 2, created, false, "used up"},
		{60, 2, 2, created + 1000, false, "used up before it expires"},
	}
	for _, tc := range tests {
		t.Run(tc.description, func(t *testing.T) {
			inv := &guild.Invite{MaxAge: tc.maxAge, MaxUses: tc.maxUses, Uses: tc.uses, CreatedAt: created}
			if got := inv.Usable(tc.now); got != tc.want {
				t.Fatalf("Usable(%d) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}

func TestAuthRole(t *testing.T) {
	runAuthCases(t, []authCase{
		{name: "create by mod", sender: mod, typ: guild.TypeRoleCreate, content: j(`{"id":"210","name":"kickers","permissions":"%d"}`, perm.KickMembers)},
		{name: "create granting what the mod lacks", sender: mod, typ: guild.TypeRoleCreate, content: j(`{"id":"210","permissions":"%d"}`, perm.Administrator), want: guild.ReasonMissingPerm},
		{name: "create above own role", sender: mod, typ: guild.TypeRoleCreate, content: `{"id":"210","position":5}`, want: guild.ReasonHierarchy},
		{name: "create by admin granting anything", sender: admin, typ: guild.TypeRoleCreate, content: j(`{"id":"210","permissions":"%d"}`, perm.ManageGuild|perm.ViewAuditLog)},
		{name: "create by member", sender: member, typ: guild.TypeRoleCreate, content: `{"id":"210"}`, want: guild.ReasonHierarchy},
		{name: "create existing id", sender: owner, typ: guild.TypeRoleCreate, content: j(`{"id":"%d"}`, lowRole), want: guild.ReasonIDInUse},
		{name: "create with the guild's id", sender: owner, typ: guild.TypeRoleCreate, content: j(`{"id":"%d"}`, gid), want: guild.ReasonIDInUse},
		{name: "create bad colour", sender: owner, typ: guild.TypeRoleCreate, content: `{"id":"210","color":16777216}`, want: guild.ReasonBadContent},
		{name: "create undefined bits", sender: owner, typ: guild.TypeRoleCreate, content: `{"id":"210","permissions":"140737488355328"}`, want: guild.ReasonBadContent},
		{name: "create position 0", sender: owner, typ: guild.TypeRoleCreate, content: `{"id":"210","position":0}`, want: guild.ReasonBadContent},

		{name: "non-admin grants @everyone what it lacks", sender: mod, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","permissions":"%d"}`, gid, perm.DefaultEveryone|perm.Administrator), want: guild.ReasonMissingPerm},
		{name: "non-admin grants @everyone what it holds", sender: mod, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","permissions":"%d"}`, gid, perm.ViewChannel|perm.SendMessages)},
		{name: "rename @everyone", sender: owner, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","name":"all"}`, gid), want: guild.ReasonBadContent},
		{name: "edit a higher role", sender: mod, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","color":1}`, adminRole), want: guild.ReasonHierarchy},
		{name: "edit own top role", sender: mod, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","color":1}`, modRole), want: guild.ReasonHierarchy},
		{name: "move a role above own", sender: mod, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","position":4}`, lowRole), want: guild.ReasonHierarchy},
		{name: "edit a lower role", sender: mod, typ: guild.TypeRoleUpdate, content: j(`{"id":"%d","name":"lower","permissions":"%d"}`, lowRole, perm.KickMembers)},
		{name: "edit unknown role", sender: owner, typ: guild.TypeRoleUpdate, content: `{"id":"999","color":1}`, want: guild.ReasonUnknownTarget},

		{name: "delete lower role", sender: mod, typ: guild.TypeRoleDelete, content: j(`{"id":"%d"}`, lowRole)},
		{name: "delete higher role", sender: mod, typ: guild.TypeRoleDelete, content: j(`{"id":"%d"}`, adminRole), want: guild.ReasonHierarchy},
		{name: "delete @everyone", sender: owner, typ: guild.TypeRoleDelete, content: j(`{"id":"%d"}`, gid), want: guild.ReasonUnknownTarget},

		{name: "reorder by owner", sender: owner, typ: guild.TypeRoleReorder, content: j(`{"positions":[{"id":"%d","position":4},{"id":"%d","position":1}]}`, modRole, adminRole)},
		{name: "reorder own role", sender: mod, typ: guild.TypeRoleReorder, content: j(`{"positions":[{"id":"%d","position":1}]}`, modRole), want: guild.ReasonHierarchy},
		{name: "reorder nothing", sender: owner, typ: guild.TypeRoleReorder, content: `{"positions":[]}`, want: guild.ReasonBadContent},
		{name: "reorder twice", sender: owner, typ: guild.TypeRoleReorder, content: j(`{"positions":[{"id":"%d","position":4},{"id":"%d","position":1}]}`, lowRole, lowRole), want: guild.ReasonUnknownTarget},
	})
}

func TestAuthChannel(t *testing.T) {
	runAuthCases(t, []authCase{
		{name: "create by mod", sender: mod, typ: guild.TypeChannelCreate, content: j(`{"id":"310","type":0,"name":"news","parent_id":"%d"}`, category)},
		{name: "create by member", sender: member, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"news"}`, want: guild.ReasonMissingPerm},
		{name: "create existing id", sender: mod, typ: guild.TypeChannelCreate, content: j(`{"id":"%d","type":0,"name":"news"}`, general), want: guild.ReasonIDInUse},
		{name: "create without name", sender: mod, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0}`, want: guild.ReasonBadContent},
		{name: "create DM channel", sender: owner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":1,"name":"dm"}`, want: guild.ReasonBadContent},
		{name: "create under a text channel", sender: mod, typ: guild.TypeChannelCreate, content: j(`{"id":"310","type":0,"name":"news","parent_id":"%d"}`, general), want: guild.ReasonUnknownTarget},
		{name: "create with overwrite granting what mod lacks", sender: mod, typ: guild.TypeChannelCreate, content: j(`{"id":"310","type":0,"name":"news","permission_overwrites":[{"id":"%d","type":1,"allow":"%d","deny":"0"}]}`, member, perm.ManageWebhooks), want: guild.ReasonMissingPerm},
		{name: "create with overwrite for unknown role", sender: mod, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"news","permission_overwrites":[{"id":"999","type":0,"allow":"0","deny":"0"}]}`, want: guild.ReasonUnknownTarget},
		{name: "create bitrate out of range", sender: mod, typ: guild.TypeChannelCreate, content: `{"id":"310","type":2,"name":"voice","bitrate":1000}`, want: guild.ReasonBadContent},

		{name: "update by mod", sender: mod, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","topic":"hello"}`, general)},
		{name: "update by member", sender: member, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","topic":"hello"}`, general), want: guild.ReasonMissingPerm},
		{name: "update unknown", sender: mod, typ: guild.TypeChannelUpdate, content: `{"id":"999","topic":"hello"}`, want: guild.ReasonUnknownTarget},
		{name: "make a category its own parent", sender: owner, typ: guild.TypeChannelUpdate, content: j(`{"id":"%d","parent_id":"%d"}`, category, category), want: guild.ReasonUnknownTarget},

		{name: "delete by mod", sender: mod, typ: guild.TypeChannelDelete, content: j(`{"id":"%d"}`, general)},
		{name: "delete by member", sender: member, typ: guild.TypeChannelDelete, content: j(`{"id":"%d"}`, general), want: guild.ReasonMissingPerm},
		{name: "delete unknown", sender: mod, typ: guild.TypeChannelDelete, content: `{"id":"999"}`, want: guild.ReasonUnknownTarget},

		{name: "overwrite by mod", sender: mod, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":0,"allow":"0","deny":"%d"}`, general, gid, perm.SendMessages)},
		{name: "overwrite by member", sender: member, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"%d","deny":"0"}`, general, member, perm.ManageMessages), want: guild.ReasonMissingPerm},
		{name: "overwrite granting what mod lacks", sender: mod, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"%d","deny":"0"}`, general, member, perm.ManageWebhooks), want: guild.ReasonMissingPerm},
		{name: "overwrite with a guild-wide bit", sender: owner, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"%d","deny":"0"}`, general, member, perm.Administrator), want: guild.ReasonBadContent},
		{name: "overwrite in a channel the mod cannot see", sender: mod, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":1,"allow":"0","deny":"0"}`, secret, member), want: guild.ReasonMissingPerm},
		{name: "overwrite bad type", sender: owner, typ: guild.TypeChannelOverwrite, content: j(`{"channel_id":"%d","id":"%d","type":2,"allow":"0","deny":"0"}`, general, member), want: guild.ReasonBadContent},

		{name: "overwrite delete by admin", sender: admin, typ: guild.TypeChannelOverwriteDelete, content: j(`{"channel_id":"%d","id":"%d"}`, secret, gid)},
		{name: "overwrite delete by mod who cannot see", sender: mod, typ: guild.TypeChannelOverwriteDelete, content: j(`{"channel_id":"%d","id":"%d"}`, secret, gid), want: guild.ReasonMissingPerm},
		{name: "overwrite delete unknown", sender: admin, typ: guild.TypeChannelOverwriteDelete, content: j(`{"channel_id":"%d","id":"%d"}`, general, gid), want: guild.ReasonUnknownTarget},

		{name: "invite by member", sender: member, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":3600,"max_uses":5}`, general)},
		{name: "invite to a channel it cannot see", sender: member, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":0,"max_uses":0}`, secret), want: guild.ReasonMissingPerm},
		{name: "invite to a category", sender: owner, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":0,"max_uses":0}`, category), want: guild.ReasonBadContent},
		{name: "invite code taken", sender: owner, typ: guild.TypeInviteCreate, content: j(`{"code":"open","channel_id":"%d","max_age":0,"max_uses":0}`, general), want: guild.ReasonIDInUse},
		{name: "invite bad code", sender: owner, typ: guild.TypeInviteCreate, content: j(`{"code":"a b","channel_id":"%d","max_age":0,"max_uses":0}`, general), want: guild.ReasonBadContent},
		{name: "invite too long-lived", sender: owner, typ: guild.TypeInviteCreate, content: j(`{"code":"abc123","channel_id":"%d","max_age":604801,"max_uses":0}`, general), want: guild.ReasonBadContent},

		{name: "revoke own invite", sender: owner, typ: guild.TypeInviteRevoke, content: `{"code":"mine"}`},
		{name: "revoke by manager", sender: admin, typ: guild.TypeInviteRevoke, content: `{"code":"open"}`},
		{name: "revoke by member", sender: member, typ: guild.TypeInviteRevoke, content: `{"code":"open"}`, want: guild.ReasonMissingPerm},
		{name: "revoke unknown", sender: owner, typ: guild.TypeInviteRevoke, content: `{"code":"nope"}`, want: guild.ReasonUnknownTarget},

		{name: "emoji by admin", sender: admin, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"blob","image":"sha256:x"}`},
		{name: "emoji by member", sender: member, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"blob","image":"sha256:x"}`, want: guild.ReasonMissingPerm},
		{name: "emoji bad name", sender: admin, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"b","image":"sha256:x"}`, want: guild.ReasonBadContent},
		{name: "emoji unknown role", sender: admin, typ: guild.TypeEmojiCreate, content: `{"id":"400","name":"blob","image":"sha256:x","roles":["999"]}`, want: guild.ReasonUnknownTarget},
		{name: "emoji delete unknown", sender: admin, typ: guild.TypeEmojiDelete, content: `{"id":"400"}`, want: guild.ReasonUnknownTarget},
	})
}

func TestAuthDMRoom(t *testing.T) {
	s := guild.New()
	create := &guild.Op{EventID: "$dm", GuildID: gid, Type: guild.TypeGuildCreate, Sender: owner, Origin: "node-a", TS: 1,
		Content: []byte(`{"id":"100","kind":"dm","recipients":[{"user_id":"1","origin":"node-a"},{"user_id":"4","origin":"node-c"}]}`)}
	if err := guild.Check(s, create); err != nil {
		t.Fatal(err)
	}
	guild.Apply(s, create)
	tests := []struct {
		name, typ, content, want string
	}{
		{"ban in a DM", guild.TypeMemberBan, `{"user_id":"4"}`, guild.ReasonNotInThisKind},
		{"role in a DM", guild.TypeRoleCreate, `{"id":"210"}`, guild.ReasonNotInThisKind},
		{"channel in a DM", guild.TypeChannelCreate, `{"id":"310","type":0,"name":"x"}`, guild.ReasonNotInThisKind},
		{"add to a DM", guild.TypeMemberAdd, `{"user_id":"5"}`, guild.ReasonNotInThisKind},
		{"rename a DM", guild.TypeGuildUpdate, `{"name":"xx"}`, guild.ReasonNotInThisKind},
		{"transfer a DM", guild.TypeGuildTransfer, `{"new_owner_id":"4"}`, guild.ReasonNotInThisKind},
		{"nick in a DM", guild.TypeMemberUpdate, `{"user_id":"1","nick":"me"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := &guild.Op{EventID: "$x", GuildID: gid, Type: tc.typ, Sender: owner, Origin: "node-a", TS: 2,
				Content: []byte(tc.content), AuthEvents: []string{"$dm"}}
			if got := reason(guild.Check(s, op)); got != tc.want {
				t.Fatalf("Check = %q, want %q (%v)", got, tc.want, guild.Check(s, op))
			}
		})
	}
	// The DM's creator has no more rights than the other participant: it
	// may not delete the other's message.
	del := &guild.Op{EventID: "$del", GuildID: gid, Type: guild.TypeMessageDelete, Sender: owner, Origin: "node-a", TS: 3,
		Content: []byte(`{"id":"900","channel_id":"100"}`), AuthEvents: []string{"$dm", "$msg"}}
	targets := guild.Targets{900: {ID: 900, ChannelID: 100, AuthorID: 4, TS: 2}}
	if got := reason(guild.CheckMessage(s, del, targets)); got != guild.ReasonMissingPerm {
		t.Fatalf("DM creator deleting the other's message: %q, want %q", got, guild.ReasonMissingPerm)
	}
}

func TestAuthDeletedGuild(t *testing.T) {
	b := fixture(t)
	b.do(owner, guild.TypeGuildDelete, `{}`)
	op := b.op(owner, guild.TypeGuildUpdate, `{"name":"back again"}`)
	if got := reason(guild.Check(b.s, op)); got != guild.ReasonGuildDeleted {
		t.Fatalf("Check = %q, want %q", got, guild.ReasonGuildDeleted)
	}
}

// messageTargets are the messages message-level cases may name: 500 (by
// member, in general, at now-1000), 501 (by helper, in general), 502 (by
// admin in secret), 503 (old, by member in general), and 900 (by member in
// a DM room with the fixture's guild ID).
func messageTargets() guild.Targets {
	return guild.Targets{
		500: {ID: 500, ChannelID: general, AuthorID: member, TS: now - 1000},
		501: {ID: 501, ChannelID: general, AuthorID: helper, TS: now - 1000},
		502: {ID: 502, ChannelID: secret, AuthorID: admin, TS: now - 1000},
		503: {ID: 503, ChannelID: general, AuthorID: member, TS: now - 15*24*3600*1000},
		900: {ID: 900, ChannelID: gid, AuthorID: member, TS: now - 1000},
	}
}

func TestCheckMessage(t *testing.T) {
	targets := messageTargets()
	tests := []struct {
		name    string
		sender  int
		typ     string
		content string
		targets []guild.ID // default: all
		want    string
	}{
		{"post", member, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi"}`, general), nil, ""},
		{"post where it cannot see", member, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi"}`, secret), nil, guild.ReasonMissingPerm},
		{"admin posts anywhere", admin, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi"}`, secret), nil, ""},
		{"post in a category", owner, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi"}`, category), nil, guild.ReasonUnknownTarget},
		{"post in unknown channel", owner, guild.TypeMessageCreate, `{"id":"600","channel_id":"999","content":"hi"}`, nil, guild.ReasonUnknownTarget},
		{"post nothing", member, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":""}`, general), nil, guild.ReasonBadContent},
		{"post tts without the bit", member, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi","tts":true}`, general), nil, guild.ReasonMissingPerm},
		{"post with unknown field", member, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi","colour":1}`, general), nil, guild.ReasonBadContent},
		{"post by non-member", outsider, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi"}`, general), nil, guild.ReasonNotMember},
		{"post by banned user", bannedUser, guild.TypeMessageCreate, j(`{"id":"600","channel_id":"%d","content":"hi"}`, general), nil, guild.ReasonNotMember},
		{"state type", owner, guild.TypeGuildUpdate, `{"name":"xx"}`, nil, guild.ReasonUnknownType},

		{"edit own", member, guild.TypeMessageEdit, j(`{"id":"500","channel_id":"%d","content":"edited"}`, general), nil, ""},
		{"edit another's content", mod, guild.TypeMessageEdit, j(`{"id":"500","channel_id":"%d","content":"edited"}`, general), nil, guild.ReasonNotAuthor},
		{"suppress another's embeds", mod, guild.TypeMessageEdit, j(`{"id":"500","channel_id":"%d","flags":4}`, general), nil, ""},
		{"suppress without manage", helper, guild.TypeMessageEdit, j(`{"id":"500","channel_id":"%d","flags":4}`, general), nil, guild.ReasonMissingPerm},
		{"edit without the create event", member, guild.TypeMessageEdit, j(`{"id":"500","channel_id":"%d","content":"edited"}`, general), []guild.ID{}, guild.ReasonMissingAuth},
		{"edit naming the wrong channel", member, guild.TypeMessageEdit, j(`{"id":"500","channel_id":"%d","content":"edited"}`, category), nil, guild.ReasonMessageMismatch},
		{"edit naming an unknown channel", member, guild.TypeMessageEdit, `{"id":"500","channel_id":"999","content":"edited"}`, nil, guild.ReasonUnknownTarget},

		{"delete own", member, guild.TypeMessageDelete, j(`{"id":"500","channel_id":"%d"}`, general), nil, ""},
		{"delete another's", helper, guild.TypeMessageDelete, j(`{"id":"500","channel_id":"%d"}`, general), nil, guild.ReasonMissingPerm},
		{"mod deletes another's", mod, guild.TypeMessageDelete, j(`{"id":"500","channel_id":"%d"}`, general), nil, ""},
		{"delete in a channel it cannot see", mod, guild.TypeMessageDelete, j(`{"id":"502","channel_id":"%d"}`, secret), nil, guild.ReasonMissingPerm},
		{"delete claiming another channel", mod, guild.TypeMessageDelete, j(`{"id":"502","channel_id":"%d"}`, general), nil, guild.ReasonMessageMismatch},

		{"bulk delete", mod, guild.TypeMessageBulkDelete, j(`{"channel_id":"%d","ids":["500","501"]}`, general), nil, ""},
		{"bulk delete across channels", owner, guild.TypeMessageBulkDelete, j(`{"channel_id":"%d","ids":["500","502"]}`, general), nil, guild.ReasonMessageMismatch},
		{"bulk delete old", mod, guild.TypeMessageBulkDelete, j(`{"channel_id":"%d","ids":["500","503"]}`, general), nil, guild.ReasonBadContent},
		{"bulk delete one", mod, guild.TypeMessageBulkDelete, j(`{"channel_id":"%d","ids":["500"]}`, general), nil, guild.ReasonBadContent},
		{"bulk delete by member", member, guild.TypeMessageBulkDelete, j(`{"channel_id":"%d","ids":["500","501"]}`, general), nil, guild.ReasonMissingPerm},

		{"react", member, guild.TypeReactionAdd, j(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"}}`, general), nil, ""},
		{"react for another", member, guild.TypeReactionAdd, j(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"},"user_id":"%d"}`, general, helper), nil, guild.ReasonBadContent},
		{"remove another's reaction", member, guild.TypeReactionRemove, j(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"},"user_id":"%d"}`, general, helper), nil, guild.ReasonMissingPerm},
		{"mod removes another's reaction", mod, guild.TypeReactionRemove, j(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"},"user_id":"%d"}`, general, helper), nil, ""},
		{"remove all by member", member, guild.TypeReactionRemoveAll, j(`{"message_id":"501","channel_id":"%d"}`, general), nil, guild.ReasonMissingPerm},

		{"pin by member", member, guild.TypePinAdd, j(`{"message_id":"501","channel_id":"%d"}`, general), nil, guild.ReasonMissingPerm},
		{"pin by mod", mod, guild.TypePinAdd, j(`{"message_id":"501","channel_id":"%d"}`, general), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.name, func(t *testing.T) {
			b := fixture(t)
			op := b.op(tc.sender, tc.typ, tc.content)
			tg := targets
			if tc.targets != nil {
				tg = guild.Targets{}
				for _, id := range tc.targets {
					tg[id] = targets[id]
				}
			}
			if got := reason(guild.CheckMessage(b.s, op, tg)); got != tc.want {
				t.Fatalf("CheckMessage = %q, want %q (%v)", got, tc.want, guild.CheckMessage(b.s, op, tg))
			}
		})
	}
}
