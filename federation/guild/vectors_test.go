package guild_test

import (
	"concord/federation/vectors"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/guild"
	"concord/federation/perm"
)

const authVectorPath = "../../spec/test-vectors/auth.json"

// vecOp is an event in the form the auth rules see (spec/auth-rules.md,
// "Test vectors").
type vecOp struct {
	EventID    string          `json:"event_id"`
	GuildID    guild.ID        `json:"guild_id"`
	Type       string          `json:"type"`
	Sender     guild.ID        `json:"sender"`
	Origin     string          `json:"origin"`
	OriginTS   int64           `json:"origin_ts"`
	Content    json.RawMessage `json:"content"`
	AuthEvents []string        `json:"auth_events"`
}

func (v *vecOp) op() *guild.Op {
	return &guild.Op{EventID: v.EventID, GuildID: v.GuildID, Type: v.Type, Sender: v.Sender, Origin: v.Origin,
		TS: v.OriginTS, Content: slices.Clone(v.Content), AuthEvents: v.AuthEvents}
}

type authHistory struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Events      []vecOp `json:"events"`
	Messages    []vecOp `json:"messages,omitempty"`
	StateSHA256 string  `json:"state_sha256"`
}

type authVector struct {
	Name             string     `json:"name"`
	History          string     `json:"history"`
	Rules            string     `json:"rules"` // "state" (Check) or "message" (CheckMessage)
	Event            vecOp      `json:"event"`
	Verdict          string     `json:"verdict"` // "accepted" or "rejected"
	Reason           string     `json:"reason,omitempty"`
	Code             guild.Code `json:"code,omitempty"` // what a client is told of a rejection
	StateAfterSHA256 string     `json:"state_after_sha256,omitempty"`
}

type authVectorFile struct {
	Description string        `json:"description"`
	Histories   []authHistory `json:"histories"`
	Cases       []authVector  `json:"cases"`
}

// vecNode is the libp2p peer ID of test node name, from a fixed seed.
func vecNode(name string) string {
	seed := sha256.Sum256([]byte("concord test vector node " + name))
	priv, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err == nil {
		var id peer.ID
		if id, err = peer.IDFromPrivateKey(priv); err == nil {
			return id.String()
		}
	}
	// Only a broken key library gets here, and then no vector is right.
	panic("vector node " + name + ": " + err.Error())
}

// vecEventID is a fixed event ID in the spelling of real ones.
func vecEventID(label string) string {
	sum := sha256.Sum256([]byte(label))
	return "$" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func stateHash(s *guild.State) string {
	h := s.Hash()
	return hex.EncodeToString(h[:])
}

// The guild the cases run against. Users, by home node:
//
//	a: owner 1, admin 2        b: mod 3, 7 (left)      c: member 4, helper 5, outsider 9
//	d: 8 (banned)              e: 6 (joined through "once")
//
// Roles admin 200 (pos 3, ADMINISTRATOR), mod 201 (pos 2), low 202 (pos 1);
// channels general 300, secret 301 (@everyone may not view), category 302,
// news 303 (in the category; member 4 may not send), voice 304; invites
// "old" (60 s), "open", "once" (used up), "mine"; emoji 400 by the admin.
const (
	vGuild, vDeleted, vDM, vGroup = 100, 101, 102, 103

	vOwner, vAdmin, vMod, vMember, vHelper = 1, 2, 3, 4, 5
	vOnce, vLeft, vBanned, vOutsider       = 6, 7, 8, 9

	vAdminRole, vModRole, vLowRole = 200, 201, 202

	vGeneral, vSecret, vCategory, vNews, vVoice = 300, 301, 302, 303, 304

	vEmoji = 400

	vWebhookGuild, vWebhook = 104, 700
	vTrio                   = 105

	vBase = 1_700_000_000_000
	vNow  = vBase + 20*24*3600*1000
)

// vHomes are the users' home nodes; the group DM's users 10–19 live on c.
var vHomes = map[int]string{vOwner: "a", vAdmin: "a", vMod: "b", vLeft: "b", vMember: "c", vHelper: "c",
	vOutsider: "c", vBanned: "d", vOnce: "e", 10: "c", 11: "c", 12: "c", 13: "c", 14: "c", 15: "c",
	16: "c", 17: "c", 18: "c", 19: "c", vWebhook: "a"}

const vModBits = perm.KickMembers | perm.BanMembers | perm.ManageRoles | perm.ManageChannels |
	perm.ManageNicknames | perm.ModerateMembers | perm.ManageMessages

// vHistory builds a history whose events must all pass.
type vHistory struct {
	t        testing.TB
	h        authHistory
	gid      guild.ID
	s        *guild.State
	ts       int64
	create   string
	invites  map[string]string // code → invite.create event ID
	oldAt    int64             // origin_ts of the "old" invite
	messages map[guild.ID]string
}

func newHistory(t testing.TB, name, desc string, gid guild.ID) *vHistory {
	return &vHistory{t: t, h: authHistory{Name: name, Description: desc, Events: []vecOp{}}, gid: gid,
		s: guild.New(), ts: vBase, invites: map[string]string{}, messages: map[guild.ID]string{}}
}

// event builds an event of the history's guild; withCreate names the
// guild's create event in auth_events.
func (b *vHistory) event(label string, sender int, origin, typ, content string, ts int64, withCreate bool, auth ...string) vecOp {
	auth = slices.Clone(auth)
	if withCreate && b.create != "" {
		auth = append(auth, b.create)
	}
	if auth == nil {
		auth = []string{}
	}
	slices.Sort(auth)
	if origin == "" {
		origin = vecNode(vHomes[sender])
	}
	return vecOp{EventID: vecEventID("auth/" + label), GuildID: b.gid, Type: typ, Sender: guild.ID(sender),
		Origin: origin, OriginTS: ts, Content: json.RawMessage(content), AuthEvents: auth}
}

func (b *vHistory) do(sender int, typ, content string, auth ...string) string {
	b.t.Helper()
	b.ts += 1000
	v := b.event(fmt.Sprintf("%s/%d", b.h.Name, len(b.h.Events)), sender, "", typ, content, b.ts, true, auth...)
	op := v.op()
	if err := guild.Check(b.s, op); err != nil {
		b.t.Fatalf("history %s: %s by %d: %v", b.h.Name, typ, sender, err)
	}
	guild.Apply(b.s, op)
	b.h.Events = append(b.h.Events, v)
	if typ == guild.TypeGuildCreate {
		b.create = v.EventID
	}
	return v.EventID
}

func (b *vHistory) invite(code string, maxAge int64, maxUses int) {
	b.t.Helper()
	b.invites[code] = b.do(vOwner, guild.TypeInviteCreate,
		fmt.Sprintf(`{"code":%q,"channel_id":"%d","max_age":%d,"max_uses":%d}`, code, vGeneral, maxAge, maxUses))
}

// message adds a message.create accepted in the final state of the history.
func (b *vHistory) message(id, channel, author int, ts int64) {
	b.t.Helper()
	b.post(id, author, fmt.Sprintf(`{"id":"%d","channel_id":"%d","content":"message %d"}`, id, channel, id), ts)
}

// post adds a message.create of content, accepted in the final state of
// the history.
func (b *vHistory) post(id, author int, content string, ts int64) {
	b.t.Helper()
	v := b.event(fmt.Sprintf("%s/message/%d", b.h.Name, id), author, "", guild.TypeMessageCreate, content, ts, true)
	if err := guild.CheckMessage(b.s, v.op(), nil); err != nil {
		b.t.Fatalf("history %s: message %d: %v", b.h.Name, id, err)
	}
	b.h.Messages = append(b.h.Messages, v)
	b.messages[guild.ID(id)] = v.EventID
}

func (b *vHistory) done() authHistory {
	b.h.StateSHA256 = stateHash(b.s)
	return b.h
}

func vf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func authHistories(t testing.TB) map[string]*vHistory {
	out := map[string]*vHistory{}

	out["empty"] = newHistory(t, "empty", "Nothing yet: the state before a guild.create.", vGuild)

	g := newHistory(t, "guild", "A guild: owner 1, admin 2 (role 200, ADMINISTRATOR), mod 3 (role 201), members 4, 5 (role 202), 6; 7 left; 8 banned; 9 never joined. Channels 300 general, 301 secret (@everyone denied VIEW_CHANNEL), 302 category, 303 news (in 302; member 4 denied SEND_MESSAGES), 304 voice. Invites old (max_age 60 s), open, once (used up), mine. Emoji 400.", vGuild)
	g.do(vOwner, guild.TypeGuildCreate, vf(`{"id":"%d","kind":"guild","name":"vector guild"}`, vGuild))
	g.do(vOwner, guild.TypeRoleCreate, vf(`{"id":"%d","name":"admin","position":3,"permissions":"%d"}`, vAdminRole, perm.Administrator))
	g.do(vOwner, guild.TypeRoleCreate, vf(`{"id":"%d","name":"mod","position":2,"color":3447003,"hoist":true,"permissions":"%d"}`, vModRole, vModBits))
	g.do(vOwner, guild.TypeRoleCreate, vf(`{"id":"%d","name":"low","position":1}`, vLowRole))
	g.do(vOwner, guild.TypeChannelCreate, vf(`{"id":"%d","type":0,"name":"general"}`, vGeneral))
	g.do(vOwner, guild.TypeChannelCreate, vf(`{"id":"%d","type":0,"name":"secret","permission_overwrites":[{"id":"%d","type":0,"allow":"0","deny":"%d"}]}`, vSecret, vGuild, perm.ViewChannel))
	g.do(vOwner, guild.TypeChannelCreate, vf(`{"id":"%d","type":4,"name":"category"}`, vCategory))
	g.do(vOwner, guild.TypeChannelCreate, vf(`{"id":"%d","type":0,"name":"news","parent_id":"%d","topic":"announcements","permission_overwrites":[{"id":"%d","type":1,"allow":"0","deny":"%d"}]}`, vNews, vCategory, vMember, perm.SendMessages))
	g.do(vOwner, guild.TypeChannelCreate, vf(`{"id":"%d","type":2,"name":"voice","user_limit":10}`, vVoice))
	g.invite("old", 60, 0)
	g.oldAt = g.ts
	g.invite("open", 0, 0)
	g.invite("once", 0, 1)
	for _, u := range []int{vAdmin, vMod, vMember, vHelper, vBanned, vLeft} {
		g.do(u, guild.TypeMemberJoin, `{"invite_code":"open"}`, g.invites["open"])
	}
	g.do(vOwner, guild.TypeMemberUpdate, vf(`{"user_id":"%d","roles_add":["%d"]}`, vAdmin, vAdminRole))
	g.do(vOwner, guild.TypeMemberUpdate, vf(`{"user_id":"%d","roles_add":["%d"]}`, vMod, vModRole))
	g.do(vOwner, guild.TypeMemberUpdate, vf(`{"user_id":"%d","roles_add":["%d"]}`, vHelper, vLowRole))
	g.do(vMod, guild.TypeMemberBan, vf(`{"user_id":"%d","reason":"spam"}`, vBanned))
	g.do(vLeft, guild.TypeMemberLeave, `{}`)
	g.do(vOnce, guild.TypeMemberJoin, `{"invite_code":"once"}`, g.invites["once"])
	g.do(vOwner, guild.TypeInviteCreate, vf(`{"code":"mine","channel_id":"%d","max_age":0,"max_uses":0}`, vGeneral))
	g.do(vAdmin, guild.TypeEmojiCreate, vf(`{"id":"%d","name":"blob","image":"sha256:blob"}`, vEmoji))
	g.message(500, vGeneral, vMember, vNow-1000)
	g.message(501, vGeneral, vHelper, vNow-1000)
	g.message(502, vSecret, vAdmin, vNow-1000)
	g.message(503, vGeneral, vMember, vNow-15*24*3600*1000)
	out["guild"] = g

	d := newHistory(t, "deleted", "A guild its owner 1 deleted.", vDeleted)
	d.do(vOwner, guild.TypeGuildCreate, vf(`{"id":"%d","kind":"guild","name":"gone"}`, vDeleted))
	d.do(vOwner, guild.TypeChannelCreate, `{"id":"300","type":0,"name":"general"}`)
	d.do(vOwner, guild.TypeGuildDelete, `{}`)
	out["deleted"] = d

	dm := newHistory(t, "dm", "A DM between 1 and 4.", vDM)
	dm.do(vOwner, guild.TypeGuildCreate, vf(`{"id":"%d","kind":"dm","name":"","recipients":[{"user_id":"1","origin":"%s"},{"user_id":"4","origin":"%s"}]}`,
		vDM, vecNode("a"), vecNode("c")))
	out["dm"] = dm

	gr := newHistory(t, "group_dm", "A full group DM: 1 and 10–18.", vGroup)
	rs := []string{vf(`{"user_id":"1","origin":"%s"}`, vecNode("a"))}
	for u := 10; u <= 18; u++ {
		rs = append(rs, vf(`{"user_id":"%d","origin":"%s"}`, u, vecNode("c")))
	}
	gr.do(vOwner, guild.TypeGuildCreate, vf(`{"id":"%d","kind":"group_dm","name":"friends","recipients":[%s]}`, vGroup, strings.Join(rs, ",")))
	out["group_dm"] = gr

	trio := newHistory(t, "group_dm_trio", "A group DM of 1 (on a) and 10 and 11 (on c).", vTrio)
	trio.do(vOwner, guild.TypeGuildCreate, vf(`{"id":"%d","kind":"group_dm","name":"trio","recipients":[%s]}`, vTrio,
		strings.Join([]string{vf(`{"user_id":"1","origin":"%s"}`, vecNode("a")), vf(`{"user_id":"10","origin":"%s"}`, vecNode("c")),
			vf(`{"user_id":"11","origin":"%s"}`, vecNode("c"))}, ",")))
	out["group_dm_trio"] = trio

	w := newHistory(t, "webhooks", "A guild: owner 1, member 4. Channels 300 general and 301 secret (@everyone denied VIEW_CHANNEL). Webhook 700 in general, made by the owner on node a; message 510 posted through it, message 500 by the member.", vWebhookGuild)
	w.do(vOwner, guild.TypeGuildCreate, vf(`{"id":"%d","kind":"guild","name":"hooks"}`, vWebhookGuild))
	w.do(vOwner, guild.TypeChannelCreate, vf(`{"id":"%d","type":0,"name":"general"}`, vGeneral))
	w.do(vOwner, guild.TypeChannelCreate, vf(`{"id":"%d","type":0,"name":"secret","permission_overwrites":[{"id":"%d","type":0,"allow":"0","deny":"%d"}]}`, vSecret, vWebhookGuild, perm.ViewChannel))
	w.invite("open", 0, 0)
	w.do(vMember, guild.TypeMemberJoin, `{"invite_code":"open"}`, w.invites["open"])
	w.do(vOwner, guild.TypeWebhookCreate, vf(`{"id":"%d","channel_id":"%d","name":"CI"}`, vWebhook, vGeneral))
	w.message(500, vGeneral, vMember, vNow-1000)
	w.post(510, vWebhook, vf(`{"id":"510","channel_id":"%d","content":"build passed","webhook":{"name":"CI"}}`, vGeneral), vNow-1000)
	out["webhooks"] = w
	return out
}

// vCase is one candidate event. Event IDs named in auth are symbols the
// history resolves: "invite:CODE" and "message:ID".
type vCase struct {
	name     string
	hist     string // default "guild"
	msg      bool   // checked with CheckMessage
	sender   int
	typ      string
	content  string
	auth     []string
	targets  []int  // message create events to name (message cases); nil: every target
	origin   string // a node name; default the sender's home
	noCreate bool   // leave the guild's create event out
	sinceOld int64  // if set, origin_ts is this many ms after the "old" invite's creation; else vNow
	want     string // a reason; "" means accepted
}

func authVectorCases() []vCase {
	const (
		g, d, dm, gr, wh = "guild", "deleted", "dm", "group_dm", "webhooks"
		trio             = "group_dm_trio"
	)
	overwrites := make([]string, 101)
	for i := range overwrites {
		overwrites[i] = vf(`{"id":"%d","type":1,"allow":"0","deny":"0"}`, 1000+i)
	}
	embeds := strings.TrimSuffix(strings.Repeat(`{"title":"e"},`, 11), ",")
	rows := strings.TrimSuffix(strings.Repeat(`{"type":1,"components":[{"type":2,"style":2,"label":"r","custom_id":"r"}]},`, 6), ",")
	return []vCase{
		// Common checks.
		{name: "unknown type", sender: vOwner, typ: "guild.frobnicate", content: `{}`, want: guild.ReasonUnknownType},
		{name: "message type checked as state", sender: vOwner, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi"}`, vGeneral), want: guild.ReasonUnknownType},
		{name: "state type checked as message", msg: true, sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"xx"}`, want: guild.ReasonUnknownType},
		{name: "unknown content field", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"ok name","colour":1}`, want: guild.ReasonBadContent},
		{name: "wrong content field type", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":7}`, want: guild.ReasonBadContent},
		{name: "auth_events lacks the create event", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, noCreate: true, want: guild.ReasonMissingAuth},
		{name: "origin is not the sender's home", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, origin: "x", want: guild.ReasonWrongOrigin},
		{name: "sender never joined", sender: vOutsider, typ: guild.TypeGuildUpdate, content: `{"name":"new name"}`, want: guild.ReasonNotMember},
		{name: "sender left", sender: vLeft, typ: guild.TypeMemberLeave, content: `{}`, want: guild.ReasonNotMember},
		{name: "sender banned", sender: vBanned, typ: guild.TypeMemberLeave, content: `{}`, want: guild.ReasonNotMember},
		{name: "update a deleted guild", hist: d, sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"back again"}`, want: guild.ReasonGuildDeleted},
		{name: "post in a deleted guild", hist: d, msg: true, sender: vOwner, typ: guild.TypeMessageCreate, content: `{"id":"600","channel_id":"300","content":"hi"}`, want: guild.ReasonGuildDeleted},

		// Storable content (spec/auth-rules.md, "Storable content").
		{name: "channel name with a NUL", sender: vOwner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"gen\u0000eral"}`, want: guild.ReasonBadContent},
		{name: "channel name with a tab", sender: vOwner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"gen\teral"}`, want: guild.ReasonBadContent},
		{name: "topic over lines and tabs", sender: vOwner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"rules","topic":"one\r\n\ttwo"}`},
		{name: "topic with an escape character", sender: vOwner, typ: guild.TypeChannelUpdate, content: vf(`{"id":"%d","topic":"\u001b[31mred"}`, vGeneral), want: guild.ReasonBadContent},
		{name: "channel position beyond 32 bits", sender: vOwner, typ: guild.TypeChannelUpdate, content: vf(`{"id":"%d","position":2147483648}`, vGeneral), want: guild.ReasonBadContent},
		{name: "guild name with a C1 control", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"vector\u0085guild"}`, want: guild.ReasonBadContent},
		{name: "guild description over lines", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"description":"line one\nline two"}`},
		{name: "role name with a right-to-left override", sender: vOwner, typ: guild.TypeRoleCreate, content: "{\"id\":\"210\",\"name\":\"nimda\u202egnp.exe\"}", want: guild.ReasonBadContent},
		{name: "role name with a zero-width joiner", sender: vOwner, typ: guild.TypeRoleCreate, content: "{\"id\":\"210\",\"name\":\"ad\u200dmin\"}", want: guild.ReasonBadContent},
		{name: "role emoji joined by a zero-width joiner", sender: vOwner, typ: guild.TypeRoleCreate, content: "{\"id\":\"210\",\"name\":\"family\",\"unicode_emoji\":\"👩\u200d👧\"}"},
		{name: "role position beyond 32 bits", sender: vOwner, typ: guild.TypeRoleCreate, content: `{"id":"210","position":4294967296}`, want: guild.ReasonBadContent},
		{name: "role reorder beyond 32 bits", sender: vOwner, typ: guild.TypeRoleReorder, content: vf(`{"positions":[{"id":"%d","position":9007199254740991}]}`, vLowRole), want: guild.ReasonBadContent},
		{name: "nick with a zero-width space", sender: vMember, typ: guild.TypeMemberUpdate, content: vf("{\"user_id\":\"%d\",\"nick\":\"mem\u200bber\"}", vMember), want: guild.ReasonBadContent},
		{name: "nick with a left-to-right isolate", sender: vMember, typ: guild.TypeMemberUpdate, content: vf("{\"user_id\":\"%d\",\"nick\":\"\u2066member\"}", vMember), want: guild.ReasonBadContent},
		{name: "ban reason over lines", sender: vMod, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d","reason":"spam\nand raids"}`, vOutsider)},
		{name: "ban reason with a NUL", sender: vMod, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d","reason":"spam\u0000"}`, vOutsider), want: guild.ReasonBadContent},
		{name: "post with a NUL", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"a\u0000b"}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post with a bell", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"ding\u0007"}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post over lines, with bidi text", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf("{\"channel_id\":\"%d\",\"content\":\"one\\r\\n\\ttwo \u202eowt\",\"id\":\"600\"}", vGeneral)},
		{name: "post flags beyond 32 bits", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi","flags":2147483648}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post a nonce over lines", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi","nonce":"a\nb"}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post a file named with a right-to-left override", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf("{\"attachments\":[{\"blob\":\"sha256:x\",\"filename\":\"photo\u202egpj.exe\",\"id\":\"700\",\"size\":1}],\"channel_id\":\"%d\",\"content\":\"\",\"id\":\"600\"}", vGeneral), want: guild.ReasonBadContent},
		{name: "post an embed with a NUL", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi","embeds":[{"title":"a\u0000"}]}`, vGeneral), want: guild.ReasonBadContent},
		{name: "edit to a NUL", msg: true, sender: vMember, typ: guild.TypeMessageEdit, content: vf(`{"id":"500","channel_id":"%d","content":"\u0000"}`, vGeneral), want: guild.ReasonBadContent},
		{name: "react with an emoji sequence", msg: true, sender: vMember, typ: guild.TypeReactionAdd, content: vf("{\"channel_id\":\"%d\",\"emoji\":{\"name\":\"👩\u200d👧\"},\"message_id\":\"501\"}", vGeneral)},
		{name: "react with a control character", msg: true, sender: vMember, typ: guild.TypeReactionAdd, content: vf(`{"message_id":"501","channel_id":"%d","emoji":{"name":"\u001b"}}`, vGeneral), want: guild.ReasonBadContent},

		// Guild.
		{name: "create a guild", hist: "empty", sender: vOwner, typ: guild.TypeGuildCreate, content: vf(`{"id":"%d","kind":"guild","name":"new guild","description":"about","everyone_permissions":"%d"}`, vGuild, perm.ViewChannel|perm.SendMessages)},
		{name: "create a DM", hist: "empty", sender: vOwner, typ: guild.TypeGuildCreate, content: vf(`{"id":"%d","kind":"dm","name":"","recipients":[{"user_id":"1","origin":"%s"},{"user_id":"4","origin":"%s"}]}`, vGuild, vecNode("a"), vecNode("c"))},
		{name: "create a group DM", hist: "empty", sender: vOwner, typ: guild.TypeGuildCreate, content: vf(`{"id":"%d","kind":"group_dm","name":"trio","recipients":[{"user_id":"1","origin":"%s"},{"user_id":"4","origin":"%s"},{"user_id":"3","origin":"%s"}]}`, vGuild, vecNode("a"), vecNode("c"), vecNode("b"))},
		{name: "create with another guild's ID", hist: "empty", sender: vOwner, typ: guild.TypeGuildCreate, content: `{"id":"101","kind":"guild","name":"new guild"}`, want: guild.ReasonBadContent},
		{name: "create a DM of three", hist: "empty", sender: vOwner, typ: guild.TypeGuildCreate, content: vf(`{"id":"%d","kind":"dm","name":"","recipients":[{"user_id":"1","origin":"%s"},{"user_id":"4","origin":"%s"},{"user_id":"3","origin":"%s"}]}`, vGuild, vecNode("a"), vecNode("c"), vecNode("b")), want: guild.ReasonBadContent},
		{name: "create a DM homing the sender elsewhere", hist: "empty", sender: vOwner, typ: guild.TypeGuildCreate, content: vf(`{"id":"%d","kind":"dm","name":"","recipients":[{"user_id":"1","origin":"%s"},{"user_id":"4","origin":"%s"}]}`, vGuild, vecNode("x"), vecNode("c")), want: guild.ReasonWrongOrigin},
		{name: "create a group DM of eleven", hist: "empty", sender: vOwner, typ: guild.TypeGuildCreate, content: vf(`{"id":"%d","kind":"group_dm","name":"crowd","recipients":[%s]}`, vGuild, recipients(1, 10, 20)), want: guild.ReasonLimit},
		{name: "create an existing guild", sender: vOwner, typ: guild.TypeGuildCreate, content: vf(`{"id":"%d","kind":"guild","name":"again"}`, vGuild), want: guild.ReasonIDInUse},

		{name: "update by an admin", sender: vAdmin, typ: guild.TypeGuildUpdate, content: vf(`{"name":"renamed","system_channel_id":"%d","afk_channel_id":"%d","afk_timeout":300,"verification_level":2}`, vGeneral, vVoice)},
		{name: "update by a member", sender: vMember, typ: guild.TypeGuildUpdate, content: `{"name":"renamed"}`, want: guild.ReasonMissingPerm},
		{name: "update with a one-character name", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"x"}`, want: guild.ReasonBadContent},
		{name: "update afk_timeout out of range", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"afk_timeout":59}`, want: guild.ReasonBadContent},
		{name: "update naming an unknown system channel", sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"system_channel_id":"999"}`, want: guild.ReasonUnknownTarget},
		{name: "rename a DM", hist: dm, sender: vOwner, typ: guild.TypeGuildUpdate, content: `{"name":"xx"}`, want: guild.ReasonNotInThisKind},
		{name: "rename a group DM as a member", hist: gr, sender: 12, typ: guild.TypeGuildUpdate, content: `{"name":"pals"}`},
		{name: "delete by the owner", sender: vOwner, typ: guild.TypeGuildDelete, content: `{}`},
		{name: "delete by an admin", sender: vAdmin, typ: guild.TypeGuildDelete, content: `{}`, want: guild.ReasonOwnerOnly},
		{name: "transfer by the owner", sender: vOwner, typ: guild.TypeGuildTransfer, content: vf(`{"new_owner_id":"%d"}`, vMember)},
		{name: "transfer by an admin", sender: vAdmin, typ: guild.TypeGuildTransfer, content: vf(`{"new_owner_id":"%d"}`, vAdmin), want: guild.ReasonOwnerOnly},
		{name: "transfer to a non-member", sender: vOwner, typ: guild.TypeGuildTransfer, content: vf(`{"new_owner_id":"%d"}`, vOutsider), want: guild.ReasonUnknownTarget},
		{name: "transfer to oneself", sender: vOwner, typ: guild.TypeGuildTransfer, content: vf(`{"new_owner_id":"%d"}`, vOwner), want: guild.ReasonUnknownTarget},
		{name: "transfer a DM", hist: dm, sender: vOwner, typ: guild.TypeGuildTransfer, content: `{"new_owner_id":"4"}`, want: guild.ReasonNotInThisKind},

		// Members.
		{name: "join", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{"invite:open"}},
		{name: "join without the invite's event", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, want: guild.ReasonMissingAuth},
		{name: "join naming another invite's event", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{"invite:once"}, want: guild.ReasonMissingAuth},
		{name: "join through an unknown invite", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"nope"}`, auth: []string{"invite:open"}, want: guild.ReasonInvalidInvite},
		{name: "join through an expired invite", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"old"}`, auth: []string{"invite:old"}, want: guild.ReasonInvalidInvite},
		{name: "join through an invite at its expiry", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"old"}`, auth: []string{"invite:old"}, sinceOld: 60_000},
		{name: "join through an invite just after its expiry", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"old"}`, auth: []string{"invite:old"}, sinceOld: 60_001, want: guild.ReasonInvalidInvite},
		{name: "join through a used-up invite", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"once"}`, auth: []string{"invite:once"}, want: guild.ReasonInvalidInvite},
		{name: "join as a member", sender: vMember, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{"invite:open"}, want: guild.ReasonAlreadyApplied},
		{name: "join while banned", sender: vBanned, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{"invite:open"}, want: guild.ReasonBanned},
		{name: "rejoin from home", sender: vLeft, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{"invite:open"}},
		{name: "rejoin from another node", sender: vLeft, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{"invite:open"}, origin: "x", want: guild.ReasonWrongOrigin},
		{name: "join without the create event", sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, auth: []string{"invite:open"}, noCreate: true, want: guild.ReasonMissingAuth},
		{name: "join a DM", hist: dm, sender: vOutsider, typ: guild.TypeMemberJoin, content: `{"invite_code":"open"}`, want: guild.ReasonNotInThisKind},

		{name: "add a bot as an admin", sender: vAdmin, typ: guild.TypeMemberAdd, content: `{"user_id":"50","bot":true}`},
		{name: "add as a member", sender: vMember, typ: guild.TypeMemberAdd, content: `{"user_id":"50","bot":true}`, want: guild.ReasonMissingPerm},
		{name: "add a banned user", sender: vAdmin, typ: guild.TypeMemberAdd, content: vf(`{"user_id":"%d"}`, vBanned), want: guild.ReasonBanned},
		{name: "add a user homed on another node", sender: vAdmin, typ: guild.TypeMemberAdd, content: vf(`{"user_id":"%d"}`, vLeft), want: guild.ReasonWrongOrigin},
		{name: "add a member", sender: vAdmin, typ: guild.TypeMemberAdd, content: vf(`{"user_id":"%d"}`, vMember), want: guild.ReasonAlreadyApplied},
		{name: "add to a full group DM", hist: gr, sender: vOwner, typ: guild.TypeMemberAdd, content: `{"user_id":"19"}`, want: guild.ReasonLimit},
		{name: "add to a DM", hist: dm, sender: vOwner, typ: guild.TypeMemberAdd, content: `{"user_id":"5"}`, want: guild.ReasonNotInThisKind},
		{name: "add a user of another node to a group DM", hist: trio, sender: vOwner, typ: guild.TypeMemberAdd, content: vf(`{"user_id":"20","origin":"%s"}`, vecNode("e"))},
		{name: "add a user of another node to a group DM, as a member on that node", hist: trio, sender: 10, typ: guild.TypeMemberAdd, content: vf(`{"user_id":"20","origin":"%s"}`, vecNode("e"))},
		{name: "add a member of the group DM again, on another node", hist: trio, sender: vOwner, typ: guild.TypeMemberAdd, content: vf(`{"user_id":"11","origin":"%s"}`, vecNode("e")), want: guild.ReasonAlreadyApplied},
		{name: "add a user of another node to a guild", sender: vAdmin, typ: guild.TypeMemberAdd, content: vf(`{"user_id":"50","origin":"%s"}`, vecNode("c")), want: guild.ReasonNotInThisKind},

		{name: "leave", sender: vMember, typ: guild.TypeMemberLeave, content: `{}`},
		{name: "leave a group DM", hist: gr, sender: 12, typ: guild.TypeMemberLeave, content: `{}`},
		{name: "the owner leaves", sender: vOwner, typ: guild.TypeMemberLeave, content: `{}`, want: guild.ReasonOwnerOnly},

		{name: "kick by a mod", sender: vMod, typ: guild.TypeMemberKick, content: vf(`{"user_id":"%d","reason":"spam"}`, vMember)},
		{name: "kick the owner", sender: vAdmin, typ: guild.TypeMemberKick, content: vf(`{"user_id":"%d"}`, vOwner), want: guild.ReasonTargetIsOwner},
		{name: "kick a higher member", sender: vMod, typ: guild.TypeMemberKick, content: vf(`{"user_id":"%d"}`, vAdmin), want: guild.ReasonHierarchy},
		{name: "kick by a member", sender: vMember, typ: guild.TypeMemberKick, content: vf(`{"user_id":"%d"}`, vHelper), want: guild.ReasonMissingPerm},
		{name: "kick a non-member", sender: vMod, typ: guild.TypeMemberKick, content: vf(`{"user_id":"%d"}`, vOutsider), want: guild.ReasonUnknownTarget},
		{name: "kick oneself", sender: vMod, typ: guild.TypeMemberKick, content: vf(`{"user_id":"%d"}`, vMod), want: guild.ReasonBadContent},

		{name: "ban by a mod", sender: vMod, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d","reason":"raid","delete_message_seconds":3600}`, vMember)},
		{name: "ban a non-member", sender: vMod, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d"}`, vOutsider)},
		{name: "ban the owner", sender: vAdmin, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d"}`, vOwner), want: guild.ReasonTargetIsOwner},
		{name: "ban a higher member", sender: vMod, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d"}`, vAdmin), want: guild.ReasonHierarchy},
		{name: "ban by a member", sender: vMember, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d"}`, vHelper), want: guild.ReasonMissingPerm},
		{name: "ban twice", sender: vMod, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d"}`, vBanned), want: guild.ReasonAlreadyApplied},
		{name: "ban erasing more than a week", sender: vMod, typ: guild.TypeMemberBan, content: vf(`{"user_id":"%d","delete_message_seconds":604801}`, vMember), want: guild.ReasonBadContent},
		{name: "ban in a DM", hist: dm, sender: vOwner, typ: guild.TypeMemberBan, content: `{"user_id":"4"}`, want: guild.ReasonNotInThisKind},

		{name: "unban by a mod", sender: vMod, typ: guild.TypeMemberUnban, content: vf(`{"user_id":"%d"}`, vBanned)},
		{name: "unban a user not banned", sender: vMod, typ: guild.TypeMemberUnban, content: vf(`{"user_id":"%d"}`, vOutsider), want: guild.ReasonUnknownTarget},
		{name: "unban by a member", sender: vMember, typ: guild.TypeMemberUnban, content: vf(`{"user_id":"%d"}`, vBanned), want: guild.ReasonMissingPerm},

		{name: "assign a lower role", sender: vMod, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","roles_add":["%d"]}`, vMember, vLowRole)},
		{name: "take a role away", sender: vMod, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","roles_remove":["%d"]}`, vHelper, vLowRole)},
		{name: "grant oneself a higher role", sender: vMod, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","roles_add":["%d"]}`, vMod, vAdminRole), want: guild.ReasonHierarchy},
		{name: "assign @everyone", sender: vOwner, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","roles_add":["%d"]}`, vMember, vGuild), want: guild.ReasonUnknownTarget},
		{name: "update a non-member", sender: vOwner, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","nick":"x"}`, vOutsider), want: guild.ReasonUnknownTarget},
		{name: "own nick", sender: vMember, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","nick":"memb"}`, vMember)},
		{name: "nick of 33 characters", sender: vMember, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","nick":"%s"}`, vMember, strings.Repeat("n", 33)), want: guild.ReasonBadContent},
		{name: "another's nick as a member", sender: vMember, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","nick":"x"}`, vHelper), want: guild.ReasonMissingPerm},
		{name: "the owner's nick by an admin", sender: vAdmin, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","nick":"x"}`, vOwner), want: guild.ReasonTargetIsOwner},
		{name: "time out a member", sender: vMod, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","communication_disabled_until":%d}`, vMember, vNow+60_000)},
		{name: "time out an admin", sender: vOwner, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","communication_disabled_until":%d}`, vAdmin, vNow+60_000), want: guild.ReasonHierarchy},
		{name: "mute by an admin", sender: vAdmin, typ: guild.TypeMemberUpdate, content: vf(`{"user_id":"%d","mute":true,"deaf":true}`, vHelper)},
		{name: "roles in a DM", hist: dm, sender: vOwner, typ: guild.TypeMemberUpdate, content: `{"user_id":"4","roles_add":["102"]}`, want: guild.ReasonNotInThisKind},

		// Roles.
		{name: "create a role as a mod", sender: vMod, typ: guild.TypeRoleCreate, content: vf(`{"id":"210","name":"kickers","color":16711680,"mentionable":true,"permissions":"%d"}`, perm.KickMembers)},
		{name: "create a role granting what the mod lacks", sender: vMod, typ: guild.TypeRoleCreate, content: vf(`{"id":"210","permissions":"%d"}`, perm.Administrator), want: guild.ReasonMissingPerm},
		{name: "create a role above one's own", sender: vMod, typ: guild.TypeRoleCreate, content: `{"id":"210","position":5}`, want: guild.ReasonHierarchy},
		{name: "create a role with an existing ID", sender: vOwner, typ: guild.TypeRoleCreate, content: vf(`{"id":"%d"}`, vLowRole), want: guild.ReasonIDInUse},
		{name: "create a role with the guild's ID", sender: vOwner, typ: guild.TypeRoleCreate, content: vf(`{"id":"%d"}`, vGuild), want: guild.ReasonIDInUse},
		{name: "create a role with colour 0x1000000", sender: vOwner, typ: guild.TypeRoleCreate, content: `{"id":"210","color":16777216}`, want: guild.ReasonBadContent},
		{name: "create a role in a DM", hist: dm, sender: vOwner, typ: guild.TypeRoleCreate, content: `{"id":"210"}`, want: guild.ReasonNotInThisKind},
		{name: "edit a lower role", sender: vMod, typ: guild.TypeRoleUpdate, content: vf(`{"id":"%d","name":"lower","permissions":"%d"}`, vLowRole, perm.KickMembers)},
		{name: "rename @everyone", sender: vOwner, typ: guild.TypeRoleUpdate, content: vf(`{"id":"%d","name":"all"}`, vGuild), want: guild.ReasonBadContent},
		{name: "edit a higher role", sender: vMod, typ: guild.TypeRoleUpdate, content: vf(`{"id":"%d","color":1}`, vAdminRole), want: guild.ReasonHierarchy},
		{name: "edit an unknown role", sender: vOwner, typ: guild.TypeRoleUpdate, content: `{"id":"999","color":1}`, want: guild.ReasonUnknownTarget},
		{name: "delete a lower role", sender: vMod, typ: guild.TypeRoleDelete, content: vf(`{"id":"%d"}`, vLowRole)},
		{name: "delete @everyone", sender: vOwner, typ: guild.TypeRoleDelete, content: vf(`{"id":"%d"}`, vGuild), want: guild.ReasonUnknownTarget},
		{name: "reorder as the owner", sender: vOwner, typ: guild.TypeRoleReorder, content: vf(`{"positions":[{"id":"%d","position":4},{"id":"%d","position":1}]}`, vModRole, vAdminRole)},
		{name: "reorder one's own role", sender: vMod, typ: guild.TypeRoleReorder, content: vf(`{"positions":[{"id":"%d","position":1}]}`, vModRole), want: guild.ReasonHierarchy},

		// Channels, invites, emoji.
		{name: "create a channel in a category, with overwrites", sender: vMod, typ: guild.TypeChannelCreate, content: vf(`{"id":"310","type":0,"name":"rules","parent_id":"%d","topic":"read me","rate_limit_per_user":10,"permission_overwrites":[{"id":"%d","type":0,"allow":"0","deny":"%d"},{"id":"%d","type":1,"allow":"%d","deny":"0"}]}`, vCategory, vGuild, perm.SendMessages, vHelper, perm.SendMessages)},
		{name: "create a channel as a member", sender: vMember, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"news"}`, want: guild.ReasonMissingPerm},
		{name: "create a channel with an existing ID", sender: vMod, typ: guild.TypeChannelCreate, content: vf(`{"id":"%d","type":0,"name":"news"}`, vGeneral), want: guild.ReasonIDInUse},
		{name: "create a channel under a text channel", sender: vMod, typ: guild.TypeChannelCreate, content: vf(`{"id":"310","type":0,"name":"news","parent_id":"%d"}`, vGeneral), want: guild.ReasonUnknownTarget},
		{name: "create a channel with an overwrite granting what the mod lacks", sender: vMod, typ: guild.TypeChannelCreate, content: vf(`{"id":"310","type":0,"name":"news","permission_overwrites":[{"id":"%d","type":1,"allow":"%d","deny":"0"}]}`, vMember, perm.ManageWebhooks), want: guild.ReasonMissingPerm},
		{name: "create a channel with 101 overwrites", sender: vOwner, typ: guild.TypeChannelCreate, content: vf(`{"id":"310","type":0,"name":"crowded","permission_overwrites":[%s]}`, strings.Join(overwrites, ",")), want: guild.ReasonLimit},
		{name: "create a channel in a DM", hist: dm, sender: vOwner, typ: guild.TypeChannelCreate, content: `{"id":"310","type":0,"name":"x"}`, want: guild.ReasonNotInThisKind},
		{name: "update a channel as a mod", sender: vMod, typ: guild.TypeChannelUpdate, content: vf(`{"id":"%d","topic":"hello","nsfw":true}`, vGeneral)},
		{name: "update an unknown channel", sender: vMod, typ: guild.TypeChannelUpdate, content: `{"id":"999","topic":"hello"}`, want: guild.ReasonUnknownTarget},
		{name: "delete a channel as a mod", sender: vMod, typ: guild.TypeChannelDelete, content: vf(`{"id":"%d"}`, vCategory)},
		{name: "delete a channel as a member", sender: vMember, typ: guild.TypeChannelDelete, content: vf(`{"id":"%d"}`, vGeneral), want: guild.ReasonMissingPerm},
		{name: "set an overwrite as a mod", sender: vMod, typ: guild.TypeChannelOverwrite, content: vf(`{"channel_id":"%d","id":"%d","type":0,"allow":"0","deny":"%d"}`, vGeneral, vGuild, perm.SendMessages)},
		{name: "set an overwrite with a guild-wide bit", sender: vOwner, typ: guild.TypeChannelOverwrite, content: vf(`{"channel_id":"%d","id":"%d","type":1,"allow":"%d","deny":"0"}`, vGeneral, vMember, perm.Administrator), want: guild.ReasonBadContent},
		{name: "set an overwrite where the mod cannot see", sender: vMod, typ: guild.TypeChannelOverwrite, content: vf(`{"channel_id":"%d","id":"%d","type":1,"allow":"0","deny":"0"}`, vSecret, vMember), want: guild.ReasonMissingPerm},
		{name: "delete an overwrite as an admin", sender: vAdmin, typ: guild.TypeChannelOverwriteDelete, content: vf(`{"channel_id":"%d","id":"%d"}`, vSecret, vGuild)},
		{name: "delete an overwrite that does not exist", sender: vAdmin, typ: guild.TypeChannelOverwriteDelete, content: vf(`{"channel_id":"%d","id":"%d"}`, vGeneral, vGuild), want: guild.ReasonUnknownTarget},

		{name: "create an invite as a member", sender: vMember, typ: guild.TypeInviteCreate, content: vf(`{"code":"abc_123","channel_id":"%d","max_age":3600,"max_uses":5}`, vGeneral)},
		{name: "create an invite where one cannot see", sender: vMember, typ: guild.TypeInviteCreate, content: vf(`{"code":"abc123","channel_id":"%d","max_age":0,"max_uses":0}`, vSecret), want: guild.ReasonMissingPerm},
		{name: "create an invite to a category", sender: vOwner, typ: guild.TypeInviteCreate, content: vf(`{"code":"abc123","channel_id":"%d","max_age":0,"max_uses":0}`, vCategory), want: guild.ReasonBadContent},
		{name: "create an invite with a taken code", sender: vOwner, typ: guild.TypeInviteCreate, content: vf(`{"code":"open","channel_id":"%d","max_age":0,"max_uses":0}`, vGeneral), want: guild.ReasonIDInUse},
		{name: "revoke one's own invite", sender: vOwner, typ: guild.TypeInviteRevoke, content: `{"code":"mine"}`},
		{name: "revoke an invite as a member", sender: vMember, typ: guild.TypeInviteRevoke, content: `{"code":"open"}`, want: guild.ReasonMissingPerm},
		{name: "revoke an unknown invite", sender: vOwner, typ: guild.TypeInviteRevoke, content: `{"code":"nope"}`, want: guild.ReasonUnknownTarget},

		{name: "create an emoji as an admin", sender: vAdmin, typ: guild.TypeEmojiCreate, content: vf(`{"id":"401","name":"wave","animated":true,"image":"sha256:wave","roles":["%d"]}`, vModRole)},
		{name: "create an emoji as a member", sender: vMember, typ: guild.TypeEmojiCreate, content: `{"id":"401","name":"wave","image":"sha256:wave"}`, want: guild.ReasonMissingPerm},
		{name: "create an emoji with a one-letter name", sender: vAdmin, typ: guild.TypeEmojiCreate, content: `{"id":"401","name":"w","image":"sha256:wave"}`, want: guild.ReasonBadContent},
		{name: "create an emoji with an existing ID", sender: vAdmin, typ: guild.TypeEmojiCreate, content: vf(`{"id":"%d","name":"wave","image":"sha256:wave"}`, vEmoji), want: guild.ReasonIDInUse},
		{name: "delete an emoji", sender: vAdmin, typ: guild.TypeEmojiDelete, content: vf(`{"id":"%d"}`, vEmoji)},
		{name: "delete an unknown emoji", sender: vAdmin, typ: guild.TypeEmojiDelete, content: `{"id":"401"}`, want: guild.ReasonUnknownTarget},

		// Message-level events.
		{name: "post", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi","mentions":["%d"]}`, vGeneral, vHelper)},
		{name: "post where one cannot see", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi"}`, vSecret), want: guild.ReasonMissingPerm},
		{name: "post where a member overwrite denies sending", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi"}`, vNews), want: guild.ReasonMissingPerm},
		{name: "post in a category", msg: true, sender: vOwner, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi"}`, vCategory), want: guild.ReasonUnknownTarget},
		{name: "post nothing", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":""}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post eleven embeds", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi","embeds":[%s]}`, vGeneral, embeds), want: guild.ReasonLimit},
		{name: "post tts without the permission", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi","tts":true}`, vGeneral), want: guild.ReasonMissingPerm},
		{name: "post as a non-member", msg: true, sender: vOutsider, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi"}`, vGeneral), want: guild.ReasonNotMember},
		{name: "post from another node", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"hi"}`, vGeneral), origin: "x", want: guild.ReasonWrongOrigin},
		{name: "post with buttons and a select", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"pick","components":[{"type":1,"components":[{"type":2,"style":1,"label":"Yes","custom_id":"yes"},{"type":2,"style":5,"label":"Docs","url":"https://example.org/docs"}]},{"type":1,"components":[{"type":3,"custom_id":"color","options":[{"label":"Red","value":"r"},{"label":"Blue","value":"b"}]}]}]}`, vGeneral)},
		{name: "post only components", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"","components":[{"type":1,"components":[{"type":2,"style":2,"label":"Go","custom_id":"go"}]}]}`, vGeneral)},
		{name: "post six action rows", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","components":[%s]}`, vGeneral, rows), want: guild.ReasonLimit},
		{name: "post a button without custom_id", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","components":[{"type":1,"components":[{"type":2,"style":1,"label":"Yes"}]}]}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post two custom_ids alike", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","components":[{"type":1,"components":[{"type":2,"style":1,"label":"A","custom_id":"same"},{"type":2,"style":1,"label":"B","custom_id":"same"}]}]}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post a select beside a button", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","components":[{"type":1,"components":[{"type":2,"style":1,"label":"A","custom_id":"a"},{"type":5,"custom_id":"who"}]}]}`, vGeneral), want: guild.ReasonLimit},
		{name: "post a javascript link button", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","components":[{"type":1,"components":[{"type":2,"style":5,"label":"A","url":"javascript:alert(1)"}]}]}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post an answer to an interaction as a person", msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"done","interaction":{"id":"700","type":2,"name":"ping","user_id":"%d"}}`, vGeneral, vMember), want: guild.ReasonMissingPerm},

		{name: "edit one's own message", msg: true, sender: vMember, typ: guild.TypeMessageEdit, content: vf(`{"id":"500","channel_id":"%d","content":"edited"}`, vGeneral)},
		{name: "edit another's content", msg: true, sender: vMod, typ: guild.TypeMessageEdit, content: vf(`{"id":"500","channel_id":"%d","content":"edited"}`, vGeneral), want: guild.ReasonNotAuthor},
		{name: "suppress another's embeds as a mod", msg: true, sender: vMod, typ: guild.TypeMessageEdit, content: vf(`{"id":"500","channel_id":"%d","flags":4}`, vGeneral)},
		{name: "edit without the message's create event", msg: true, sender: vMember, typ: guild.TypeMessageEdit, content: vf(`{"id":"500","channel_id":"%d","content":"edited"}`, vGeneral), targets: []int{}, want: guild.ReasonMissingAuth},
		{name: "edit naming the wrong channel", msg: true, sender: vMember, typ: guild.TypeMessageEdit, content: vf(`{"id":"500","channel_id":"%d","content":"edited"}`, vNews), want: guild.ReasonMessageMismatch},
		{name: "edit naming an unknown channel", msg: true, sender: vMember, typ: guild.TypeMessageEdit, content: `{"id":"500","channel_id":"999","content":"edited"}`, want: guild.ReasonUnknownTarget},

		{name: "delete one's own message", msg: true, sender: vMember, typ: guild.TypeMessageDelete, content: vf(`{"id":"500","channel_id":"%d"}`, vGeneral)},
		{name: "delete another's message", msg: true, sender: vHelper, typ: guild.TypeMessageDelete, content: vf(`{"id":"500","channel_id":"%d"}`, vGeneral), want: guild.ReasonMissingPerm},
		{name: "delete another's message as a mod", msg: true, sender: vMod, typ: guild.TypeMessageDelete, content: vf(`{"id":"500","channel_id":"%d"}`, vGeneral)},

		{name: "bulk delete", msg: true, sender: vMod, typ: guild.TypeMessageBulkDelete, content: vf(`{"channel_id":"%d","ids":["500","501"]}`, vGeneral)},
		{name: "bulk delete across channels", msg: true, sender: vOwner, typ: guild.TypeMessageBulkDelete, content: vf(`{"channel_id":"%d","ids":["500","502"]}`, vGeneral), want: guild.ReasonMessageMismatch},
		{name: "bulk delete a message older than two weeks", msg: true, sender: vMod, typ: guild.TypeMessageBulkDelete, content: vf(`{"channel_id":"%d","ids":["500","503"]}`, vGeneral), want: guild.ReasonBadContent},
		{name: "bulk delete as a member", msg: true, sender: vMember, typ: guild.TypeMessageBulkDelete, content: vf(`{"channel_id":"%d","ids":["500","501"]}`, vGeneral), want: guild.ReasonMissingPerm},

		{name: "react", msg: true, sender: vMember, typ: guild.TypeReactionAdd, content: vf(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"}}`, vGeneral)},
		{name: "react with the guild's emoji", msg: true, sender: vMember, typ: guild.TypeReactionAdd, content: vf(`{"message_id":"501","channel_id":"%d","emoji":{"id":"%d","name":"blob"}}`, vGeneral, vEmoji)},
		{name: "react for another", msg: true, sender: vMember, typ: guild.TypeReactionAdd, content: vf(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"},"user_id":"%d"}`, vGeneral, vHelper), want: guild.ReasonBadContent},
		{name: "remove one's own reaction", msg: true, sender: vMember, typ: guild.TypeReactionRemove, content: vf(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"}}`, vGeneral)},
		{name: "remove another's reaction", msg: true, sender: vMember, typ: guild.TypeReactionRemove, content: vf(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"},"user_id":"%d"}`, vGeneral, vHelper), want: guild.ReasonMissingPerm},
		{name: "remove all reactions as a mod", msg: true, sender: vMod, typ: guild.TypeReactionRemoveAll, content: vf(`{"message_id":"501","channel_id":"%d"}`, vGeneral)},
		{name: "remove all reactions as a member", msg: true, sender: vMember, typ: guild.TypeReactionRemoveAll, content: vf(`{"message_id":"501","channel_id":"%d","emoji":{"name":"👍"}}`, vGeneral), want: guild.ReasonMissingPerm},

		{name: "pin as a mod", msg: true, sender: vMod, typ: guild.TypePinAdd, content: vf(`{"message_id":"501","channel_id":"%d"}`, vGeneral)},
		{name: "pin as a member", msg: true, sender: vMember, typ: guild.TypePinAdd, content: vf(`{"message_id":"501","channel_id":"%d"}`, vGeneral), want: guild.ReasonMissingPerm},
		{name: "unpin as a mod", msg: true, sender: vMod, typ: guild.TypePinRemove, content: vf(`{"message_id":"501","channel_id":"%d"}`, vGeneral)},

		// Webhooks.
		{name: "create a webhook", hist: wh, sender: vOwner, typ: guild.TypeWebhookCreate, content: vf(`{"id":"701","channel_id":"%d","name":"Deploys","avatar":"sha256:avatar"}`, vSecret)},
		{name: "create a webhook as a member", hist: wh, sender: vMember, typ: guild.TypeWebhookCreate, content: vf(`{"id":"701","channel_id":"%d","name":"Deploys"}`, vGeneral), want: guild.ReasonMissingPerm},
		{name: "create a webhook named for the service", hist: wh, sender: vOwner, typ: guild.TypeWebhookCreate, content: vf(`{"id":"701","channel_id":"%d","name":"discord alerts"}`, vGeneral), want: guild.ReasonBadContent},
		{name: "create a webhook with a member's ID", hist: wh, sender: vOwner, typ: guild.TypeWebhookCreate, content: vf(`{"id":"%d","channel_id":"%d","name":"Deploys"}`, vMember, vGeneral), want: guild.ReasonIDInUse},
		{name: "rename a webhook by its token", hist: wh, sender: vWebhook, typ: guild.TypeWebhookUpdate, content: vf(`{"id":"%d","name":"Builds"}`, vWebhook)},
		{name: "rename a webhook by its token from another node", hist: wh, sender: vWebhook, origin: "b", typ: guild.TypeWebhookUpdate, content: vf(`{"id":"%d","name":"Builds"}`, vWebhook), want: guild.ReasonNotMember},
		{name: "move a webhook by its token", hist: wh, sender: vWebhook, typ: guild.TypeWebhookUpdate, content: vf(`{"id":"%d","channel_id":"%d"}`, vWebhook, vSecret), want: guild.ReasonMissingPerm},
		{name: "move a webhook as the owner", hist: wh, sender: vOwner, typ: guild.TypeWebhookUpdate, content: vf(`{"id":"%d","channel_id":"%d"}`, vWebhook, vSecret)},
		{name: "delete a webhook as a member", hist: wh, sender: vMember, typ: guild.TypeWebhookDelete, content: vf(`{"id":"%d","channel_id":"%d"}`, vWebhook, vGeneral), want: guild.ReasonMissingPerm},
		{name: "delete a webhook by its token", hist: wh, sender: vWebhook, typ: guild.TypeWebhookDelete, content: vf(`{"id":"%d","channel_id":"%d"}`, vWebhook, vGeneral)},
		{name: "delete an unknown webhook", hist: wh, sender: vOwner, typ: guild.TypeWebhookDelete, content: vf(`{"id":"799","channel_id":"%d"}`, vGeneral), want: guild.ReasonUnknownTarget},
		{name: "post through a webhook", hist: wh, msg: true, sender: vWebhook, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"deployed","mention_everyone":true,"webhook":{"name":"Release bot","avatar_url":"https://example.org/bot.png"}}`, vGeneral)},
		{name: "post through a webhook from another node", hist: wh, msg: true, sender: vWebhook, origin: "b", typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","webhook":{"name":"CI"}}`, vGeneral), want: guild.ReasonWrongOrigin},
		{name: "post through a webhook into another channel", hist: wh, msg: true, sender: vWebhook, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","webhook":{"name":"CI"}}`, vSecret), want: guild.ReasonUnknownTarget},
		{name: "post through a webhook without its name", hist: wh, msg: true, sender: vWebhook, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x"}`, vGeneral), want: guild.ReasonBadContent},
		{name: "post as a member showing a webhook's name", hist: wh, msg: true, sender: vMember, typ: guild.TypeMessageCreate, content: vf(`{"id":"600","channel_id":"%d","content":"x","webhook":{"name":"CI"}}`, vGeneral), want: guild.ReasonBadContent},
		{name: "edit a webhook's message by its token", hist: wh, msg: true, sender: vWebhook, typ: guild.TypeMessageEdit, content: vf(`{"id":"510","channel_id":"%d","content":"build failed"}`, vGeneral)},
		{name: "edit a member's message by a webhook's token", hist: wh, msg: true, sender: vWebhook, typ: guild.TypeMessageEdit, content: vf(`{"id":"500","channel_id":"%d","content":"x"}`, vGeneral), want: guild.ReasonNotAuthor},
		{name: "react through a webhook", hist: wh, msg: true, sender: vWebhook, typ: guild.TypeReactionAdd, content: vf(`{"message_id":"500","channel_id":"%d","emoji":{"name":"👍"}}`, vGeneral), want: guild.ReasonMissingPerm},
	}
}

func recipients(first, n, from int) string {
	rs := []string{vf(`{"user_id":"%d","origin":"%s"}`, first, vecNode("a"))}
	for u := from; len(rs) < n+1; u++ {
		rs = append(rs, vf(`{"user_id":"%d","origin":"%s"}`, u, vecNode("c")))
	}
	return strings.Join(rs, ",")
}

func renderAuthVectors(t *testing.T) []byte {
	t.Helper()
	hs := authHistories(t)
	f := authVectorFile{
		Description: "Auth rule test vectors (spec/auth-rules.md, \"Test vectors\"). Each history is a list of state events that pass guild.Check in order and are applied in order; state_sha256 is the SHA-256 of the canonical state after them (spec/state-resolution.md, \"Canonical state\"); messages are message.create events accepted in that state. Each case checks one event against the state after its history, with Check (rules \"state\") or CheckMessage (rules \"message\", with the history's messages that the event names in auth_events as its targets), and gives the verdict, for a rejection its reason and the Discord error code a client is told (spec/auth-rules.md, \"Reasons and client error codes\"), and for an accepted state event the SHA-256 of the canonical state after applying it.",
	}
	for _, name := range []string{"empty", "guild", "deleted", "dm", "group_dm", "group_dm_trio", "webhooks"} {
		f.Histories = append(f.Histories, hs[name].done())
	}
	for _, c := range authVectorCases() {
		if c.hist == "" {
			c.hist = "guild"
		}
		b := hs[c.hist]
		var auth []string
		for _, a := range c.auth {
			kind, key, _ := strings.Cut(a, ":")
			switch kind {
			case "invite":
				auth = append(auth, b.invites[key])
			default:
				t.Fatalf("%s: auth symbol %q", c.name, a)
			}
		}
		ts := int64(vNow)
		if c.sinceOld != 0 {
			ts = b.oldAt + c.sinceOld
		}
		origin := ""
		if c.origin != "" {
			origin = vecNode(c.origin)
		}
		if c.msg {
			op := &guild.Op{Type: c.typ, Content: []byte(c.content)}
			if op.Prepare() == nil {
				for _, id := range op.TargetIDs() {
					if c.targets == nil || slices.Contains(c.targets, int(id)) {
						if ev, ok := b.messages[id]; ok && !slices.Contains(auth, ev) {
							auth = append(auth, ev)
						}
					}
				}
			}
		}
		v := b.event("case/"+c.name, c.sender, origin, c.typ, c.content, ts, !c.noCreate, auth...)
		vec := authVector{Name: c.name, History: c.hist, Rules: "state", Event: v, Verdict: "accepted"}
		if c.msg {
			vec.Rules = "message"
		}
		s := replayHistory(t, &b.h)
		got, code := runAuthVector(s, &b.h, &vec)
		if got != c.want {
			t.Fatalf("case %q: got %q, want %q", c.name, got, c.want)
		}
		if got != "" {
			if code == 0 {
				t.Fatalf("case %q: rejected as %s without a code", c.name, got)
			}
			vec.Verdict, vec.Reason, vec.Code = "rejected", got, code
		} else if !c.msg {
			vec.StateAfterSHA256 = stateHash(s)
		}
		f.Cases = append(f.Cases, vec)
	}
	return vectors.Encode(t, f)
}

// replayHistory checks and applies a history's events as the file says.
func replayHistory(t *testing.T, h *authHistory) *guild.State {
	t.Helper()
	s := guild.New()
	for i := range h.Events {
		op := h.Events[i].op()
		if err := guild.Check(s, op); err != nil {
			t.Fatalf("history %s, event %d (%s): %v", h.Name, i, op.Type, err)
		}
		guild.Apply(s, op)
	}
	return s
}

// runAuthVector checks a case's event against s, the state after its
// history, applies it to s if it is an accepted state event, and returns
// the rejection's reason ("" when accepted) and code.
func runAuthVector(s *guild.State, h *authHistory, v *authVector) (string, guild.Code) {
	op := v.Event.op()
	var err error
	if v.Rules == "message" {
		targets := guild.Targets{}
		for i := range h.Messages {
			m := &h.Messages[i]
			if !slices.Contains(op.AuthEvents, m.EventID) {
				continue
			}
			var c struct {
				ID        guild.ID `json:"id"`
				ChannelID guild.ID `json:"channel_id"`
			}
			if json.Unmarshal(m.Content, &c) != nil {
				return "bad message " + m.EventID, 0
			}
			targets[c.ID] = &guild.MessageInfo{ID: c.ID, ChannelID: c.ChannelID, AuthorID: m.Sender, TS: m.OriginTS}
		}
		err = guild.CheckMessage(s, op, targets)
	} else {
		err = guild.Check(s, op)
		if err == nil {
			guild.Apply(s, op)
		}
	}
	return vecResult(err)
}

func vecResult(err error) (string, guild.Code) {
	if err == nil {
		return "", 0
	}
	if r, ok := err.(*guild.Rejection); ok {
		return r.Reason, r.Code
	}
	return "not a Rejection: " + err.Error(), 0
}

var allTypes = []string{
	guild.TypeGuildCreate, guild.TypeGuildUpdate, guild.TypeGuildDelete, guild.TypeGuildTransfer,
	guild.TypeMemberJoin, guild.TypeMemberAdd, guild.TypeMemberLeave, guild.TypeMemberKick,
	guild.TypeMemberBan, guild.TypeMemberUnban, guild.TypeMemberUpdate,
	guild.TypeRoleCreate, guild.TypeRoleUpdate, guild.TypeRoleDelete, guild.TypeRoleReorder,
	guild.TypeChannelCreate, guild.TypeChannelUpdate, guild.TypeChannelDelete,
	guild.TypeChannelOverwrite, guild.TypeChannelOverwriteDelete,
	guild.TypeInviteCreate, guild.TypeInviteRevoke, guild.TypeEmojiCreate, guild.TypeEmojiDelete,
	guild.TypeMessageCreate, guild.TypeMessageEdit, guild.TypeMessageDelete, guild.TypeMessageBulkDelete,
	guild.TypeReactionAdd, guild.TypeReactionRemove, guild.TypeReactionRemoveAll,
	guild.TypePinAdd, guild.TypePinRemove,
}

var allReasons = []string{
	guild.ReasonBadContent, guild.ReasonUnknownType, guild.ReasonGuildDeleted, guild.ReasonNotMember,
	guild.ReasonWrongOrigin, guild.ReasonMissingPerm, guild.ReasonHierarchy, guild.ReasonOwnerOnly,
	guild.ReasonUnknownTarget, guild.ReasonIDInUse, guild.ReasonBanned, guild.ReasonInvalidInvite,
	guild.ReasonMissingAuth, guild.ReasonLimit, guild.ReasonNotInThisKind, guild.ReasonAlreadyApplied,
	guild.ReasonTargetIsOwner, guild.ReasonNotAuthor, guild.ReasonMessageMismatch,
}

func TestAuthVectors(t *testing.T) {
	want := renderAuthVectors(t)
	got := vectors.Sync(t, authVectorPath, want)

	// Check the code against the file on its own terms, as another
	// implementation would.
	var f authVectorFile
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatal(err)
	}
	hs := map[string]*authHistory{}
	for i := range f.Histories {
		h := &f.Histories[i]
		hs[h.Name] = h
		t.Run("history/"+h.Name, func(t *testing.T) {
			s := replayHistory(t, h)
			if got := stateHash(s); got != h.StateSHA256 {
				t.Errorf("state_sha256 = %s, want %s", got, h.StateSHA256)
			}
			for i := range h.Messages {
				if err := guild.CheckMessage(s, h.Messages[i].op(), nil); err != nil {
					t.Errorf("message %s: %v", h.Messages[i].EventID, err)
				}
			}
		})
	}
	accepted, rejected := map[string]bool{}, map[string]bool{}
	for i := range f.Cases {
		v := &f.Cases[i]
		if v.Verdict == "accepted" {
			accepted[v.Event.Type] = true
		} else {
			rejected[v.Reason] = true
		}
		t.Run(v.Name, func(t *testing.T) {
			h := hs[v.History]
			if h == nil {
				t.Fatalf("unknown history %q", v.History)
			}
			s := replayHistory(t, h)
			got, code := runAuthVector(s, h, v)
			wantReason, wantCode := v.Reason, v.Code
			if v.Verdict == "accepted" {
				wantReason, wantCode = "", 0
			}
			if got != wantReason {
				t.Fatalf("reason = %q, want %q (verdict %s)", got, wantReason, v.Verdict)
			}
			if code != wantCode {
				t.Errorf("code = %d, want %d", code, wantCode)
			}
			if v.StateAfterSHA256 != "" {
				if got := stateHash(s); got != v.StateAfterSHA256 {
					t.Errorf("state_after_sha256 = %s, want %s", got, v.StateAfterSHA256)
				}
			}
		})
	}
	for _, typ := range allTypes {
		if !accepted[typ] {
			t.Errorf("no case accepts %s", typ)
		}
	}
	for _, r := range allReasons {
		if !rejected[r] {
			t.Errorf("no case is rejected as %s", r)
		}
	}
}
