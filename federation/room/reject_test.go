package room_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"concord/federation/canonical"
	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// pair is a guild on two nodes: a, where the owner lives and the guild was
// made, and b, where member lives, joined through an invite and holding the
// role mod (MANAGE_ROLES, position 1).
type pair struct {
	*fixture
	b            *node
	member       snowflake.ID
	mod, high    snowflake.ID // roles at positions 1 and 5
	secret       snowflake.ID // channel @everyone may not see
	create       string       // the guild.create event
	channelEvent string       // the channel.create of the text channel
}

func newPair(t *testing.T, db *storage.DB) *pair {
	p := &pair{fixture: newFixture(t, db)}
	p.b = newNode(t, secondConfig(t, db), 1023)
	p.mod, p.high, p.secret = p.core.NewID(), p.core.NewID(), p.core.NewID()
	modPerms, none := perm.ManageRoles, perm.None
	modName, highName, secretName := "mod", "high", "secret"
	one, five := 1, 5
	p.send(p.owner, guild.TypeRoleCreate, guild.RoleChange{ID: p.mod, RoleFields: guild.RoleFields{Name: &modName, Position: &one, Permissions: &modPerms}})
	p.send(p.owner, guild.TypeRoleCreate, guild.RoleChange{ID: p.high, RoleFields: guild.RoleFields{Name: &highName, Position: &five, Permissions: &none}})
	overwrites := []guild.OverwriteFields{{ID: p.guild, Type: perm.OverwriteRole, Deny: perm.ViewChannel}}
	p.send(p.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: p.secret, Type: guild.ChannelText,
		ChannelFields: guild.ChannelFields{Name: &secretName, Overwrites: &overwrites}})
	code := "inv" + p.core.NewID().String()
	p.send(p.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: code, ChannelID: p.text})

	syncLog(t, p.db, p.b.core, p.guild)
	p.member = p.b.core.NewID()
	if _, err := p.b.core.Send(context.Background(), p.guild, p.member, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: code}); err != nil {
		t.Fatalf("join on b: %v", err)
	}
	syncLog(t, p.b.db, p.core, p.guild)
	p.send(p.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: p.member, RolesAdd: []snowflake.ID{p.mod}})
	syncLog(t, p.db, p.b.core, p.guild)

	p.create = eventOf(t, db, p.guild, `type = 'guild.create'`)
	p.channelEvent = eventOf(t, db, p.guild, `type = 'channel.create' AND target_id = 0 AND body LIKE ?`, "%"+p.text.String()+"%")
	return p
}

// draft is an event by sender on top of a's current heads, carrying the
// create event as its only auth event; the caller adjusts it and signs it.
func (p *pair) draft(sender snowflake.ID, typ string, content any) *event.Event {
	p.t.Helper()
	body, err := json.Marshal(content)
	if err != nil {
		p.t.Fatal(err)
	}
	prevs, depth := headsOf(p.t, p.db, p.guild)
	return &event.Event{GuildID: p.guild, Type: typ, Sender: sender, OriginTS: time.Now().UnixMilli(),
		PrevEvents: prevs, AuthEvents: []string{p.create}, Depth: depth, Content: body}
}

func (p *pair) message(content string) guild.MessageCreate {
	return guild.MessageCreate{ID: p.b.core.NewID(), ChannelID: p.text, Content: content}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func isReason(reason string) func(error) bool {
	return func(err error) bool {
		var rej *guild.Rejection
		return errors.As(err, &rej) && rej.Reason == reason
	}
}

func canonicalJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := canonical.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAcceptRejects feeds node a events from node b that the accept path
// must refuse, each with its own error, storing nothing.
func TestAcceptRejects(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		p := newPair(t, db)
		bKey := p.b.key
		everyone := perm.DefaultEveryone | perm.Administrator
		tests := []struct {
			name string
			raw  func() []byte
			want func(error) bool
		}{
			{"bad signature", func() []byte {
				ev := signed(t, p.draft(p.member, guild.TypeMessageCreate, p.message("hi")), bKey)
				ev.Signature[7] ^= 0x20
				return event.Marshal(ev)
			}, isErr(event.ErrBadSignature)},
			{"signature of another node", func() []byte {
				ev := signed(t, p.draft(p.member, guild.TypeMessageCreate, p.message("hi")), bKey)
				other := signed(t, p.draft(p.member, guild.TypeMessageCreate, p.message("hi")), newKey(t))
				ev.Signature = other.Signature
				return event.Marshal(ev)
			}, isErr(event.ErrBadSignature)},
			{"content changed after signing", func() []byte {
				m := p.message("hi")
				ev := signed(t, p.draft(p.member, guild.TypeMessageCreate, m), bKey)
				m.Content = "something else"
				ev.Content = canonicalJSON(t, m)
				return event.Marshal(ev)
			}, isErr(event.ErrBadHash)},
			{"state event arrives redacted", func() []byte {
				name := "erased"
				ev := signed(t, p.draft(p.member, guild.TypeChannelCreate,
					guild.ChannelCreate{ID: p.b.core.NewID(), ChannelFields: guild.ChannelFields{Name: &name}}), bKey)
				return event.Marshal(event.Redact(ev))
			}, isErr(event.ErrRedacted)},
			{"redacted message by a non-member", func() []byte {
				ev := signed(t, p.draft(p.b.core.NewID(), guild.TypeMessageCreate, p.message("hi")), bKey)
				return event.Marshal(event.Redact(ev))
			}, isReason(guild.ReasonNotMember)},
			{"message by a user of another node", func() []byte {
				return event.Marshal(signed(t, p.draft(p.owner, guild.TypeMessageCreate, p.message("hi")), bKey))
			}, isReason(guild.ReasonWrongOrigin)},
			{"state event by a user of another node", func() []byte {
				name := "mine"
				return event.Marshal(signed(t, p.draft(p.owner, guild.TypeChannelCreate,
					guild.ChannelCreate{ID: p.b.core.NewID(), ChannelFields: guild.ChannelFields{Name: &name}}), bKey))
			}, isReason(guild.ReasonWrongOrigin)},
			{"sender not a member", func() []byte {
				return event.Marshal(signed(t, p.draft(p.b.core.NewID(), guild.TypeMessageCreate, p.message("hi")), bKey))
			}, isReason(guild.ReasonNotMember)},
			{"unknown auth event", func() []byte {
				ev := p.draft(p.member, guild.TypeMessageCreate, p.message("hi"))
				ev.AuthEvents = append(ev.AuthEvents, fakeEventID())
				return event.Marshal(signed(t, ev, bKey))
			}, isErr(room.ErrMissingEvents)},
			{"unknown prev event", func() []byte {
				ev := p.draft(p.member, guild.TypeMessageCreate, p.message("hi"))
				ev.PrevEvents = append(ev.PrevEvents, fakeEventID())
				return event.Marshal(signed(t, ev, bKey))
			}, isErr(room.ErrMissingEvents)},
			{"message without the create event", func() []byte {
				ev := p.draft(p.member, guild.TypeMessageCreate, p.message("hi"))
				ev.AuthEvents = nil
				return event.Marshal(signed(t, ev, bKey))
			}, isReason(guild.ReasonMissingAuth)},
			{"state event without the create event", func() []byte {
				name := "renamed"
				ev := p.draft(p.member, guild.TypeRoleUpdate, guild.RoleChange{ID: p.guild, RoleFields: guild.RoleFields{Name: &name}})
				ev.AuthEvents = []string{p.channelEvent}
				return event.Marshal(signed(t, ev, bKey))
			}, isReason(guild.ReasonMissingAuth)},
			{"message with an extra auth event", func() []byte {
				ev := p.draft(p.member, guild.TypeMessageCreate, p.message("hi"))
				ev.AuthEvents = append(ev.AuthEvents, p.channelEvent)
				return event.Marshal(signed(t, ev, bKey))
			}, isReason(guild.ReasonMissingAuth)},
			{"state event with an extra auth event", func() []byte {
				ev := p.draft(p.member, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: p.member, RolesRemove: []snowflake.ID{p.mod}})
				ev.AuthEvents = append(ev.AuthEvents, p.channelEvent)
				return event.Marshal(signed(t, ev, bKey))
			}, isReason(guild.ReasonMissingAuth)},
			{"join without its invite", func() []byte {
				var inv string
				if err := p.db.Reader().QueryRowContext(context.Background(), `SELECT code FROM invites WHERE guild_id = ?`, int64(p.guild)).Scan(&inv); err != nil {
					t.Fatal(err)
				}
				return event.Marshal(signed(t, p.draft(p.b.core.NewID(), guild.TypeMemberJoin, guild.MemberJoin{InviteCode: inv}), bKey))
			}, isReason(guild.ReasonMissingAuth)},
			{"self-assigned role above own", func() []byte {
				return event.Marshal(signed(t, p.draft(p.member, guild.TypeMemberUpdate,
					guild.MemberUpdate{UserID: p.member, RolesAdd: []snowflake.ID{p.high}}), bKey))
			}, isReason(guild.ReasonHierarchy)},
			{"@everyone granted bits the sender lacks", func() []byte {
				return event.Marshal(signed(t, p.draft(p.member, guild.TypeRoleUpdate,
					guild.RoleChange{ID: p.guild, RoleFields: guild.RoleFields{Permissions: &everyone}}), bKey))
			}, isReason(guild.ReasonMissingPerm)},
			{"message in a channel the sender cannot see", func() []byte {
				m := p.message("peek")
				m.ChannelID = p.secret
				return event.Marshal(signed(t, p.draft(p.member, guild.TypeMessageCreate, m), bKey))
			}, isReason(guild.ReasonMissingPerm)},
			{"too large", func() []byte {
				ev := signed(t, p.draft(p.member, guild.TypeMessageCreate, p.message("hi")), bKey)
				ev.Content = canonicalJSON(t, p.message(strings.Repeat("x", event.MaxSize)))
				return event.Marshal(ev)
			}, isErr(event.ErrTooLarge)},
			{"truncated JSON", func() []byte {
				b := event.Marshal(signed(t, p.draft(p.member, guild.TypeMessageCreate, p.message("hi")), bKey))
				return b[:len(b)-1]
			}, isErr(event.ErrMalformed)},
			{"non-canonical JSON", func() []byte {
				b := event.Marshal(signed(t, p.draft(p.member, guild.TypeMessageCreate, p.message("hi")), bKey))
				return append([]byte("{ "), b[1:]...)
			}, isErr(event.ErrMalformed)},
			{"not JSON", func() []byte { return []byte("hello") }, isErr(event.ErrMalformed)},
			{"unknown type", func() []byte {
				return event.Marshal(signed(t, p.draft(p.member, "message.teleport", p.message("hi")), bKey))
			}, isReason(guild.ReasonUnknownType)},
			{"bad content", func() []byte {
				return event.Marshal(signed(t, p.draft(p.member, guild.TypeMessageCreate, map[string]any{"id": "1", "channel_id": p.text, "colour": 1}), bKey))
			}, isReason(guild.ReasonBadContent)},
			{"a known event", func() []byte { return logOf(t, p.db, p.guild)[3] }, isErr(room.ErrDuplicate)},
			{"depth too deep", func() []byte {
				ev := p.draft(p.member, guild.TypeMessageCreate, p.message("hi"))
				ev.Depth++
				return event.Marshal(signed(t, ev, bKey))
			}, isReason(guild.ReasonBadContent)},
			{"depth too shallow", func() []byte {
				ev := p.draft(p.member, guild.TypeMessageCreate, p.message("hi"))
				ev.Depth--
				return event.Marshal(signed(t, ev, bKey))
			}, isReason(guild.ReasonBadContent)},
			{"second guild.create", func() []byte {
				return event.Marshal(signed(t, &event.Event{GuildID: p.guild, Type: guild.TypeGuildCreate, Sender: p.member,
					Content: canonicalJSON(t, guild.GuildCreate{ID: p.guild, Kind: guild.KindGuild, Name: "mine now"})}, bKey))
			}, isReason(guild.ReasonIDInUse)},
			{"unknown guild", func() []byte {
				ev := p.draft(p.member, guild.TypeMessageCreate, p.message("hi"))
				ev.GuildID = p.b.core.NewID()
				return event.Marshal(signed(t, ev, bKey))
			}, isErr(room.ErrUnknownRoom)},
		}
		for _, tt := range tests {
			raw := tt.raw()
			before := dump(t, p.db, p.guild)
			_, err := p.core.Accept(context.Background(), raw)
			if !tt.want(err) {
				t.Errorf("%s: Accept = %v", tt.name, err)
			}
			if d := diffDumps(before, dump(t, p.db, p.guild)); d != "" {
				t.Errorf("%s: refused event changed the database:\n%s", tt.name, d)
			}
		}

		// The same events, unchanged, are accepted: the refusals above were
		// for what each case changed.
		ev := signed(t, p.draft(p.member, guild.TypeMessageCreate, p.message("hi")), bKey)
		raw := event.Marshal(ev)
		if _, err := p.core.Accept(context.Background(), raw); err != nil {
			t.Fatalf("valid remote message: %v", err)
		}
		before := dump(t, p.db, p.guild)
		if _, err := p.core.Accept(context.Background(), raw); !errors.Is(err, room.ErrDuplicate) {
			t.Errorf("second delivery = %v, want ErrDuplicate", err)
		}
		if d := diffDumps(before, dump(t, p.db, p.guild)); d != "" {
			t.Errorf("duplicate changed the database:\n%s", d)
		}
		if n := p.count(`SELECT COUNT(*) FROM messages WHERE event_id = ?`, ev.ID()); n != 1 {
			t.Errorf("valid remote message projected %d times", n)
		}
	})
}

// TestSendRejects runs the permission and envelope checks on the local path:
// node b refuses its own user's events with the same errors and stores
// nothing.
func TestSendRejects(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		p := newPair(t, db)
		everyone := perm.DefaultEveryone | perm.BanMembers
		hidden := p.message("peek")
		hidden.ChannelID = p.secret
		name := "mine"
		tests := []struct {
			name    string
			typ     string
			content any
			want    func(error) bool
		}{
			{"self-assigned role above own", guild.TypeMemberUpdate,
				guild.MemberUpdate{UserID: p.member, RolesAdd: []snowflake.ID{p.high}}, isReason(guild.ReasonHierarchy)},
			{"role above own edited", guild.TypeRoleUpdate,
				guild.RoleChange{ID: p.high, RoleFields: guild.RoleFields{Name: &name}}, isReason(guild.ReasonHierarchy)},
			{"@everyone granted bits the sender lacks", guild.TypeRoleUpdate,
				guild.RoleChange{ID: p.guild, RoleFields: guild.RoleFields{Permissions: &everyone}}, isReason(guild.ReasonMissingPerm)},
			{"message in a channel the sender cannot see", guild.TypeMessageCreate, hidden, isReason(guild.ReasonMissingPerm)},
			{"owner kicked", guild.TypeMemberKick, guild.MemberTarget{UserID: p.owner}, isReason(guild.ReasonTargetIsOwner)},
			{"too large", guild.TypeMessageCreate, p.message(strings.Repeat("x", event.MaxSize)), isReason(guild.ReasonBadContent)},
			{"unknown type", "message.teleport", p.message("hi"), isReason(guild.ReasonUnknownType)},
			// Send canonicalises the content, then decodes it for the rules
			// before it builds the envelope: content that no event can
			// carry (not JSON, a number beyond ±(2^53−1)) is refused as
			// content, as what is not an object is.
			{"content not an object", guild.TypeMessageCreate, json.RawMessage(`[1]`), isReason(guild.ReasonBadContent)},
			{"content not JSON", guild.TypeMessageCreate, json.RawMessage(`{"id":`), isReason(guild.ReasonBadContent)},
			{"number beyond the encoder's range", guild.TypeRoleUpdate,
				json.RawMessage(`{"id":"` + p.high.String() + `","position":1152921504606846976}`), isReason(guild.ReasonBadContent)},
		}
		for _, tt := range tests {
			before := dump(t, p.b.db, p.guild)
			_, err := p.b.core.Send(context.Background(), p.guild, p.member, tt.typ, tt.content)
			if !tt.want(err) {
				t.Errorf("%s: Send = %v", tt.name, err)
			}
			if d := diffDumps(before, dump(t, p.b.db, p.guild)); d != "" {
				t.Errorf("%s: refused event changed the database:\n%s", tt.name, d)
			}
		}
		if _, err := p.b.core.Send(context.Background(), p.guild, p.member, guild.TypeMessageCreate, p.message("hi")); err != nil {
			t.Fatalf("valid message after refusals: %v", err)
		}
	})
}
