package guild_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
)

const emojiA, emojiB = 400, 401

// snapshotFixture is the auth fixture with two emojis and a role overwrite
// on the secret channel, so that every kind of object has something to copy.
func snapshotFixture(t *testing.T) *guild.State {
	b := fixture(t)
	b.do(owner, guild.TypeEmojiCreate, fmt.Sprintf(`{"id":"%d","name":"aa","image":"h1","roles":["%d"]}`, emojiA, modRole))
	b.do(owner, guild.TypeEmojiCreate, fmt.Sprintf(`{"id":"%d","name":"bb","image":"h2"}`, emojiB))
	b.do(owner, guild.TypeChannelOverwrite, fmt.Sprintf(`{"channel_id":"%d","id":"%d","type":0,"allow":"%d","deny":"0"}`,
		secret, modRole, perm.ViewChannel))
	// A concurrent ban of a banned user, as a fork's fold records it.
	again := b.op(admin, guild.TypeMemberBan, fmt.Sprintf(`{"user_id":"%d"}`, bannedUser))
	if err := again.Prepare(); err != nil {
		t.Fatal(err)
	}
	guild.ApplyBan(b.s, again)
	return b.s
}

// contents lists what a state's maps hold, as "kind:id".
func contents(s *guild.State) []string {
	var out []string
	for id := range s.Roles {
		out = append(out, fmt.Sprintf("role:%d", id))
	}
	for id := range s.Channels {
		out = append(out, fmt.Sprintf("channel:%d", id))
	}
	for id := range s.Members {
		out = append(out, fmt.Sprintf("member:%d", id))
	}
	for id := range s.Homes {
		out = append(out, fmt.Sprintf("home:%d", id))
	}
	for id := range s.Bans {
		out = append(out, fmt.Sprintf("ban:%d", id))
	}
	for code := range s.Invites {
		out = append(out, "invite:"+code)
	}
	for id := range s.Emojis {
		out = append(out, fmt.Sprintf("emoji:%d", id))
	}
	slices.Sort(out)
	return out
}

func key(kind string, id any) guild.Key { return guild.Key{Kind: kind, ID: fmt.Sprint(id)} }

func TestSnapshotHoldsWhatItsKeysName(t *testing.T) {
	s := snapshotFixture(t)
	emojis := []string{"emoji:400", "emoji:401"}
	tests := []struct {
		name    string
		keys    guild.Changes
		members []guild.ID
		want    []string
	}{
		{"nothing", nil, nil, nil},
		{"a role", guild.Changes{key("role", modRole)}, nil, []string{"role:201"}},
		{"a deleted role", guild.Changes{key("role", 999)}, nil, nil},
		{"the guild", guild.Changes{key("guild", gid)}, nil, append(slices.Clone(emojis), "role:100", "role:200", "role:201", "role:202")},
		{"an emoji", guild.Changes{key("emoji", emojiB)}, nil, emojis},
		{"a channel", guild.Changes{key("channel", secret)}, nil, []string{"channel:301"}},
		{"a ban", guild.Changes{key("ban", bannedUser)}, nil, []string{"ban:8"}},
		{"an invite", guild.Changes{key("invite", "open"), key("invite", "gone")}, nil, []string{"invite:open"}},
		{"members", guild.Changes{key("member", mod), key("member", left)}, []guild.ID{member, outsider, mod},
			[]string{"member:3", "member:4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := s.Snapshot(tt.keys, tt.members)
			if got := contents(snap); !slices.Equal(got, tt.want) {
				t.Errorf("holds %v, want %v", got, tt.want)
			}
			if snap.OwnerID() != s.OwnerID() {
				t.Errorf("owner = %s, want %s", snap.OwnerID(), s.OwnerID())
			}
			// Every field but the maps is the guild's own and is copied.
			sv, cv := reflect.ValueOf(s).Elem(), reflect.ValueOf(snap).Elem()
			for i := range sv.NumField() {
				f := sv.Type().Field(i)
				if f.IsExported() && f.Type.Kind() != reflect.Map && !reflect.DeepEqual(sv.Field(i).Interface(), cv.Field(i).Interface()) {
					t.Errorf("%s = %v, want %v", f.Name, cv.Field(i), sv.Field(i))
				}
			}
		})
	}
}

func TestSnapshotSharesNoMemory(t *testing.T) {
	s := snapshotFixture(t)
	keys := guild.Changes{key("guild", gid), key("channel", secret), key("ban", bannedUser), key("invite", "open")}
	snap := s.Snapshot(keys, []guild.ID{mod})
	want := s.Clone()

	snap.Members[mod].Roles[0] = 1
	snap.Members[mod].Nick = "changed"
	snap.Channels[secret].Overwrites[0].Allow = perm.All
	snap.Emojis[emojiA].Roles[0] = 1
	snap.Roles[modRole].Name = "changed"
	snap.Bans[bannedUser].Others[0] = "$changed"
	snap.Invites["open"].Uses = 99
	if !reflect.DeepEqual(s, want) {
		t.Fatal("changing a snapshot changed the state it was taken of")
	}

	before := s.Snapshot(keys, []guild.ID{mod})
	wantBefore := s.Snapshot(keys, []guild.ID{mod})
	s.Members[mod].Roles[0] = 1
	s.Channels[secret].Overwrites[0].Deny = perm.All
	s.Emojis[emojiA].Roles[0] = 1
	s.Bans[bannedUser].Others[0] = "$changed"
	s.Roles[modRole].Name = "changed"
	if !reflect.DeepEqual(before, wantBefore) {
		t.Fatal("changing the state changed a snapshot taken of it")
	}
}

// Applying each event's Delta to a copy of the state before it gives the
// state after it, byte for byte, through every history and accepted case
// of the auth vectors: a new kind of state that Delta or ApplyDelta do not
// carry fails here once its vectors exist.
func TestDeltaCatchesUp(t *testing.T) {
	hs := authHistories(t)
	for _, name := range slices.Sorted(maps.Keys(hs)) {
		s, behind := guild.New(), guild.New()
		for _, v := range hs[name].h.Events {
			op := v.op()
			if err := guild.Check(s, op); err != nil {
				t.Fatalf("%s: %s: %v", name, v.Type, err)
			}
			behind.ApplyDelta(s.Delta(guild.Apply(s, op)))
			if behind.Hash() != s.Hash() {
				t.Fatalf("%s: after %s the delta left\n%s\nwant\n%s", name, v.Type, behind.Canonical(), s.Canonical())
			}
		}
		for _, c := range authVectorCases() {
			if c.hist != name && !(c.hist == "" && name == "guild") || c.msg || c.want != "" || len(c.auth) > 0 {
				continue
			}
			after := s.Clone()
			v := (&vHistory{gid: s.ID, create: s.CreateEvent}).event(c.name, c.sender, "", c.typ, c.content, vNow, true)
			op := v.op()
			if guild.Check(after, op) != nil {
				continue
			}
			caught := s.Clone()
			caught.ApplyDelta(after.Delta(guild.Apply(after, op)))
			if caught.Hash() != after.Hash() {
				t.Errorf("%s: %s: the delta left\n%s\nwant\n%s", name, c.name, caught.Canonical(), after.Canonical())
			}
		}
	}
}
