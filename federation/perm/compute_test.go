package perm

import (
	"slices"
	"testing"

	"concord/federation/snowflake"
)

// The test guild: ID 100, owner user 1.
const (
	guildID   snowflake.ID = 100
	ownerID   snowflake.ID = 1
	everyone               = guildID
	modRole   snowflake.ID = 200 // position 2
	adminRole snowflake.ID = 300 // position 3
	quietRole snowflake.ID = 400 // position 1, no permissions
	helpRole  snowflake.ID = 500 // position 2, ties with modRole
	goneRole  snowflake.ID = 999 // deleted: in no guild map
)

const modPerms = KickMembers | BanMembers | ManageMessages | ManageRoles | ModerateMembers

func testGuild() *Guild {
	return &Guild{ID: guildID, OwnerID: ownerID, Roles: map[snowflake.ID]Role{
		everyone:  {ID: everyone, Position: 0, Permissions: DefaultEveryone},
		modRole:   {ID: modRole, Position: 2, Permissions: modPerms},
		adminRole: {ID: adminRole, Position: 3, Permissions: Administrator},
		quietRole: {ID: quietRole, Position: 1},
		helpRole:  {ID: helpRole, Position: 2, Permissions: ManageNicknames},
	}}
}

func member(id snowflake.ID, roles ...snowflake.ID) *Member {
	return &Member{UserID: id, Roles: roles}
}

func roleOW(id snowflake.ID, allow, deny Bits) Overwrite {
	return Overwrite{ID: id, Type: OverwriteRole, Allow: allow, Deny: deny}
}

func memberOW(id snowflake.ID, allow, deny Bits) Overwrite {
	return Overwrite{ID: id, Type: OverwriteMember, Allow: allow, Deny: deny}
}

const now = 1_700_000_000_000

func TestCompute(t *testing.T) {
	hideAll := roleOW(everyone, 0, ViewChannel)
	for _, tc := range []struct {
		name  string
		g     func(*Guild)
		m     *Member
		ow    []Overwrite
		until int64
		want  Bits
	}{
		{name: "owner ignores overwrites", m: member(ownerID), ow: []Overwrite{hideAll, memberOW(ownerID, 0, All)}, want: All},
		{name: "admin ignores overwrites", m: member(10, adminRole), ow: []Overwrite{hideAll, memberOW(10, 0, All)}, want: All},
		{name: "plain member gets @everyone", m: member(10), want: DefaultEveryone},
		{name: "role adds its bits", m: member(10, modRole), want: DefaultEveryone | modPerms},
		{name: "role without bits adds none", m: member(10, quietRole), want: DefaultEveryone},
		{name: "@everyone deny hides channel", m: member(10), ow: []Overwrite{hideAll}, want: None},
		{
			name: "role allow beats @everyone deny",
			m:    member(10, modRole),
			ow:   []Overwrite{hideAll, roleOW(modRole, ViewChannel, 0)},
			want: DefaultEveryone | modPerms,
		},
		{
			name: "role deny beats @everyone allow",
			m:    member(10, modRole),
			ow:   []Overwrite{roleOW(everyone, ManageThreads, 0), roleOW(modRole, 0, ManageThreads|ManageMessages)},
			want: (DefaultEveryone | modPerms) &^ ManageMessages,
		},
		{
			name: "member allow beats role deny",
			m:    member(10, modRole),
			ow:   []Overwrite{roleOW(modRole, 0, SendMessages), memberOW(10, SendMessages, 0)},
			want: DefaultEveryone | modPerms,
		},
		{
			name: "member deny beats role allow and clears what sending implies",
			m:    member(10, modRole),
			ow:   []Overwrite{roleOW(modRole, SendMessages|AttachFiles|SendTTSMessages, 0), memberOW(10, 0, SendMessages)},
			want: (DefaultEveryone | modPerms) &^ (SendMessages | sendImplied),
		},
		{
			name: "overwrite for another member is ignored",
			m:    member(10),
			ow:   []Overwrite{memberOW(11, 0, ViewChannel)},
			want: DefaultEveryone,
		},
		{
			name: "Discord's example: one role denies view, another allows, allow wins",
			m:    member(10, quietRole, helpRole),
			ow:   []Overwrite{roleOW(quietRole, 0, ViewChannel), roleOW(helpRole, ViewChannel, 0)},
			want: DefaultEveryone | ManageNicknames,
		},
		{
			name: "no VIEW_CHANNEL in base means nothing, whatever else is allowed",
			g:    func(g *Guild) { g.Roles[everyone] = Role{ID: everyone, Permissions: DefaultEveryone &^ ViewChannel} },
			m:    member(10, modRole),
			ow:   []Overwrite{roleOW(modRole, SendMessages|ManageMessages, 0)},
			want: None,
		},
		{
			name: "no SEND_MESSAGES clears TTS, mention, attach, embed, polls, voice messages",
			g: func(g *Guild) {
				g.Roles[everyone] = Role{ID: everyone, Permissions: All &^ (Administrator | SendMessages)}
			},
			m:    member(10),
			want: All &^ (Administrator | SendMessages | sendImplied),
		},
		{
			name:  "timed-out member keeps view and history",
			m:     member(10, modRole),
			until: now + 1,
			want:  ViewChannel | ReadMessageHistory,
		},
		{
			name:  "timed-out member hidden by overwrite sees nothing",
			m:     member(10, modRole),
			ow:    []Overwrite{hideAll},
			until: now + 1,
			want:  None,
		},
		{name: "timeout ending now is over", m: member(10, modRole), until: now, want: DefaultEveryone | modPerms},
		{name: "timed-out admin is immune", m: member(10, adminRole), until: now + 1, want: All},
		{name: "timed-out owner is immune", m: member(ownerID), until: now + 1, want: All},
		{
			name: "deleted role grants nothing, not even by overwrite",
			m:    member(10, goneRole),
			ow:   []Overwrite{hideAll, roleOW(goneRole, ViewChannel|ManageMessages, 0)},
			want: None,
		},
		{
			name: "guild-only bits in overwrites are ignored",
			m:    member(10),
			ow:   []Overwrite{roleOW(everyone, Administrator|KickMembers|ManageGuild, ChangeNickname)},
			want: DefaultEveryone,
		},
		{
			name: "duplicate overwrites for one target merge",
			m:    member(10),
			ow:   []Overwrite{memberOW(10, 0, SendMessages), memberOW(10, ManageMessages, 0)},
			want: (DefaultEveryone | ManageMessages) &^ (SendMessages | sendImplied),
		},
		{
			name: "unknown overwrite type is ignored",
			m:    member(10),
			ow:   []Overwrite{{ID: 10, Type: 2, Deny: ViewChannel}},
			want: DefaultEveryone,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGuild()
			if tc.g != nil {
				tc.g(g)
			}
			tc.m.TimedOutUntil = tc.until
			if got := Compute(g, tc.m, tc.ow, now); got != tc.want {
				t.Errorf("got %d, want %d (extra %d, missing %d)", got, tc.want, got&^tc.want, tc.want&^got)
			}
			rev := slices.Clone(tc.ow)
			slices.Reverse(rev)
			if got := Compute(g, tc.m, rev, now); got != tc.want {
				t.Errorf("reversed overwrites: got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestInGuild(t *testing.T) {
	g := testGuild()
	m := member(10, modRole)
	if got := InGuild(g, m, now); got != DefaultEveryone|modPerms {
		t.Errorf("InGuild = %d", got)
	}
	m.TimedOutUntil = now + 1
	if got := InGuild(g, m, now); got != ViewChannel|ReadMessageHistory {
		t.Errorf("timed out: InGuild = %d", got)
	}
	if got := Base(g, m); got != DefaultEveryone|modPerms {
		t.Errorf("Base ignores timeouts, got %d", got)
	}
}

func TestInThread(t *testing.T) {
	g := testGuild()
	m := member(10)
	announce := []Overwrite{roleOW(everyone, SendMessagesInThreads, SendMessages)}
	got := InThread(g, m, announce, Base(g, m), now)
	if got&SendMessages != 0 || !got.Has(SendMessagesInThreads|AttachFiles|EmbedLinks) {
		t.Errorf("thread of a read-only channel: got %d", got)
	}
	noThreads := []Overwrite{roleOW(everyone, 0, SendMessagesInThreads)}
	got = InThread(g, m, noThreads, Base(g, m), now)
	if got&(SendMessages|SendMessagesInThreads|AttachFiles) != 0 || !got.Has(ViewChannel) {
		t.Errorf("thread without SEND_MESSAGES_IN_THREADS: got %d", got)
	}
}

func BenchmarkCompute(b *testing.B) {
	g := testGuild()
	g.Roles[600] = Role{ID: 600, Position: 4, Permissions: ManageChannels}
	m := member(10, quietRole, helpRole, modRole, 600)
	ow := []Overwrite{
		roleOW(everyone, 0, ViewChannel|SendMessages),
		roleOW(modRole, ViewChannel, 0),
		roleOW(helpRole, SendMessages, 0),
		roleOW(adminRole, ViewChannel, 0),
		memberOW(11, 0, ViewChannel),
		memberOW(10, 0, AttachFiles),
	}
	b.ReportAllocs()
	var sink Bits
	for b.Loop() {
		sink |= Compute(g, m, ow, now)
	}
	if sink == 0 {
		b.Fatal("no permissions")
	}
}
