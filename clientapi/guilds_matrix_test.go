package clientapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"concord/clientapi/auth"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// The callers of the permission matrix, in the order of matrixRow.want.
const (
	asOwner    = iota
	asAdmin    // holds a role with ADMINISTRATOR
	asBit      // holds a role with the route's bit
	asDenied   // holds the same role, and a member overwrite on {c} denies the bit
	asMember   // a member with no role
	asOutsider // not in the guild
	callers
)

var callerNames = [callers]string{"owner", "admin", "bit", "denied", "member", "outsider"}

// guildFixture is a fresh guild: a text channel c (with an overwrite for
// role low), roles admin (position 3), bit (2) and low (1), an invite
// "matrix…" of its own (a caller in several guilds sharing a code would
// get the first one's), members for every caller but the outsider, a plain
// member target and a banned user victim.
type guildFixture struct {
	g, c, low, admin, bit snowflake.ID
	code                  string
}

type matrixUsers struct {
	pairs          [callers]auth.Pair
	target, victim auth.Pair
}

func newMatrixUsers(h *harness) *matrixUsers {
	u := &matrixUsers{}
	for i, name := range callerNames {
		u.pairs[i] = h.register("m_" + name)
	}
	u.target, u.victim = h.register("m_target"), h.register("m_victim")
	return u
}

func (h *harness) sendAs(g, sender snowflake.ID, typ string, content any) {
	h.t.Helper()
	if _, err := h.core.Send(context.Background(), g, sender, typ, content); err != nil {
		h.t.Fatalf("%s: %v", typ, err)
	}
}

// newGuildFixture builds the guild through the event core; bits is what
// role bit grants and what the denied member's overwrite takes away.
func newGuildFixture(h *harness, u *matrixUsers, bits perm.Bits) guildFixture {
	owner := u.pairs[asOwner].UserID
	f := guildFixture{g: h.core.NewID(), c: h.core.NewID(), low: h.core.NewID(), admin: h.core.NewID(), bit: h.core.NewID()}
	f.code = "matrix" + f.g.String()
	h.sendAs(f.g, owner, guild.TypeGuildCreate, guild.GuildCreate{ID: f.g, Kind: guild.KindGuild, Name: "matrix"})
	name := "general"
	h.sendAs(f.g, owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: f.c, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})
	for _, r := range []struct {
		id    snowflake.ID
		pos   int
		perms perm.Bits
	}{{f.admin, 3, perm.Administrator}, {f.bit, 2, bits}, {f.low, 1, 0}} {
		h.sendAs(f.g, owner, guild.TypeRoleCreate, guild.RoleChange{ID: r.id, RoleFields: guild.RoleFields{Position: &r.pos, Permissions: &r.perms}})
	}
	h.sendAs(f.g, owner, guild.TypeChannelOverwrite, guild.ChannelOverwrite{ChannelID: f.c, OverwriteFields: guild.OverwriteFields{ID: f.low, Type: perm.OverwriteRole}})
	h.sendAs(f.g, owner, guild.TypeInviteCreate, guild.InviteCreate{Code: f.code, ChannelID: f.c})
	for _, who := range []snowflake.ID{u.pairs[asAdmin].UserID, u.pairs[asBit].UserID, u.pairs[asDenied].UserID, u.pairs[asMember].UserID, u.target.UserID} {
		h.sendAs(f.g, who, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: f.code})
	}
	h.sendAs(f.g, owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: u.pairs[asAdmin].UserID, RolesAdd: []snowflake.ID{f.admin}})
	for _, who := range []int{asBit, asDenied} {
		h.sendAs(f.g, owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: u.pairs[who].UserID, RolesAdd: []snowflake.ID{f.bit}})
	}
	if deny := bits & perm.ChannelMask; deny != 0 {
		h.sendAs(f.g, owner, guild.TypeChannelOverwrite, guild.ChannelOverwrite{ChannelID: f.c,
			OverwriteFields: guild.OverwriteFields{ID: u.pairs[asDenied].UserID, Type: perm.OverwriteMember, Deny: deny}})
	}
	h.sendAs(f.g, owner, guild.TypeMemberBan, guild.MemberBan{UserID: u.victim.UserID})
	return f
}

// matrixRow is one route. want holds, per caller, the HTTP status of
// success or the Discord error code expected.
type matrixRow struct {
	method, path string
	body         any
	bits         perm.Bits
	want         [callers]int
}

func (f guildFixture) expand(s string, u *matrixUsers) string {
	return strings.NewReplacer("{g}", f.g.String(), "{c}", f.c.String(), "{low}", f.low.String(),
		"{target}", u.target.UserID.String(), "{victim}", u.victim.UserID.String(), "{code}", f.code).Replace(s)
}

// Overwrites cannot hold guild-wide bits (kick, ban, manage guild, …), so
// for those routes the denied member keeps the bit and succeeds: a channel
// overwrite never takes away a guild-wide permission.
var matrix = []matrixRow{
	{"GET", "/guilds/{g}", nil, 0, [callers]int{200, 200, 200, 200, 200, 10004}},
	{"GET", "/guilds/{g}?with_counts=true", nil, 0, [callers]int{200, 200, 200, 200, 200, 10004}},
	{"PATCH", "/guilds/{g}", `{"name":"renamed"}`, perm.ManageGuild, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"PATCH", "/guilds/{g}", `{"owner_id":"{target}"}`, perm.ManageGuild, [callers]int{200, 50013, 50013, 50013, 50013, 10004}},
	{"DELETE", "/guilds/{g}", nil, perm.ManageGuild, [callers]int{204, 50013, 50013, 50013, 50013, 10004}},
	{"GET", "/users/@me/guilds", nil, 0, [callers]int{200, 200, 200, 200, 200, 200}},
	{"DELETE", "/users/@me/guilds/{g}", nil, 0, [callers]int{50013, 204, 204, 204, 204, 10004}},
	{"GET", "/guilds/{g}/audit-logs", nil, perm.ViewAuditLog, [callers]int{200, 200, 200, 200, 50013, 10004}},

	{"GET", "/guilds/{g}/channels", nil, 0, [callers]int{200, 200, 200, 200, 200, 10004}},
	{"POST", "/guilds/{g}/channels", `{"name":"new","type":0}`, perm.ManageChannels, [callers]int{201, 201, 201, 201, 50013, 10004}},
	{"PATCH", "/guilds/{g}/channels", `[{"id":"{c}","position":2}]`, perm.ManageChannels, [callers]int{204, 204, 204, 50013, 50013, 10004}},
	{"GET", "/channels/{c}", nil, perm.ViewChannel, [callers]int{200, 200, 200, 10003, 200, 10003}},
	{"PATCH", "/channels/{c}", `{"topic":"t","nsfw":true,"rate_limit_per_user":5}`, perm.ManageChannels, [callers]int{200, 200, 200, 50013, 50013, 10003}},
	{"DELETE", "/channels/{c}", nil, perm.ManageChannels, [callers]int{200, 200, 200, 50013, 50013, 10003}},
	{"PUT", "/channels/{c}/permissions/{low}", `{"type":0,"allow":"0","deny":"2048"}`, perm.ManageRoles, [callers]int{204, 204, 204, 50013, 50013, 10003}},
	{"DELETE", "/channels/{c}/permissions/{low}", nil, perm.ManageRoles, [callers]int{204, 204, 204, 50013, 50013, 10003}},

	{"GET", "/guilds/{g}/roles", nil, 0, [callers]int{200, 200, 200, 200, 200, 10004}},
	{"POST", "/guilds/{g}/roles", `{"name":"made"}`, perm.ManageRoles, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"PATCH", "/guilds/{g}/roles", `[{"id":"{low}","position":1}]`, perm.ManageRoles, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"PATCH", "/guilds/{g}/roles/{low}", `{"name":"lower","color":255}`, perm.ManageRoles, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"DELETE", "/guilds/{g}/roles/{low}", nil, perm.ManageRoles, [callers]int{204, 204, 204, 204, 50013, 10004}},
	{"PUT", "/guilds/{g}/members/{target}/roles/{low}", nil, perm.ManageRoles, [callers]int{204, 204, 204, 204, 50013, 10004}},
	{"DELETE", "/guilds/{g}/members/{target}/roles/{low}", nil, perm.ManageRoles, [callers]int{204, 204, 204, 204, 50013, 10004}},

	{"GET", "/guilds/{g}/members?limit=10", nil, 0, [callers]int{200, 200, 200, 200, 200, 10004}},
	{"GET", "/guilds/{g}/members/{target}", nil, 0, [callers]int{200, 200, 200, 200, 200, 10004}},
	{"PATCH", "/guilds/{g}/members/{target}", `{"nick":"tt"}`, perm.ManageNicknames, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"PATCH", "/guilds/{g}/members/{target}", `{"roles":["{low}"]}`, perm.ManageRoles, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"PATCH", "/guilds/{g}/members/@me", `{"nick":"me"}`, 0, [callers]int{200, 200, 200, 200, 200, 10004}},
	{"DELETE", "/guilds/{g}/members/{target}", nil, perm.KickMembers, [callers]int{204, 204, 204, 204, 50013, 10004}},
	{"GET", "/guilds/{g}/bans", nil, perm.BanMembers, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"GET", "/guilds/{g}/bans/{victim}", nil, perm.BanMembers, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"PUT", "/guilds/{g}/bans/{target}", `{"delete_message_seconds":60}`, perm.BanMembers, [callers]int{204, 204, 204, 204, 50013, 10004}},
	{"DELETE", "/guilds/{g}/bans/{victim}", nil, perm.BanMembers, [callers]int{204, 204, 204, 204, 50013, 10004}},

	{"POST", "/channels/{c}/invites", `{"max_age":60}`, perm.CreateInstantInvite, [callers]int{200, 200, 200, 50013, 200, 10003}},
	{"GET", "/channels/{c}/invites", nil, perm.ManageChannels, [callers]int{200, 200, 200, 50013, 50013, 10003}},
	{"GET", "/guilds/{g}/invites", nil, perm.ManageGuild, [callers]int{200, 200, 200, 200, 50013, 10004}},
	{"GET", "/invites/{code}?with_counts=true", nil, 0, [callers]int{200, 200, 200, 200, 200, 200}},
	{"POST", "/invites/{code}", nil, 0, [callers]int{200, 200, 200, 200, 200, 200}},
	{"DELETE", "/invites/{code}", nil, perm.ManageGuild, [callers]int{200, 200, 200, 200, 50013, 10006}},
}

// statusOf is the HTTP status Discord answers an error code with.
func statusOf(code int) int {
	switch {
	case code < 1000:
		return code
	case code >= 10000 && code < 20000:
		return 404
	case code == 50035:
		return 400
	default:
		return 403
	}
}

func TestGuildPermissionMatrix(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		u := newMatrixUsers(h)
		for _, row := range matrix {
			for who := range callers {
				f := newGuildFixture(h, u, row.bits)
				var body any
				if s, ok := row.body.(string); ok {
					body = f.expand(s, u)
				}
				st, b := h.do(row.method, f.expand(row.path, u), u.pairs[who].Token, body)
				want := row.want[who]
				var e struct {
					Code int `json:"code"`
				}
				json.Unmarshal(b, &e)
				ok := st == statusOf(want) && (want < 1000 || e.Code == want)
				if !ok {
					t.Errorf("%s %s as %s: got %d %s, want %d", row.method, row.path, callerNames[who], st, b, want)
				}
			}
		}
	})
}
