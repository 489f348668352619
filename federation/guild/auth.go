package guild

import (
	"bytes"
	"errors"
	"fmt"

	"concord/federation/perm"
)

// Op is an event as the state machine sees it: the envelope fields it reads
// and the decoded content, which the caller may cache between folds.
type Op struct {
	EventID    string
	GuildID    ID
	Type       string
	Sender     ID
	Origin     string
	TS         int64 // origin_ts, unix ms
	Content    []byte
	AuthEvents []string

	body any // decoded Content, filled by Prepare
}

// Env answers the questions about the DAG that a few rules need.
type Env interface {
	// IsAncestor reports whether event a is an ancestor of event b.
	IsAncestor(a, b string) bool
}

// Reasons a rule refuses an event; they appear in Rejection.Reason and are
// stable strings other implementations can match (spec/auth-rules.md).
const (
	ReasonBadContent      = "bad_content"
	ReasonUnknownType     = "unknown_type"
	ReasonGuildDeleted    = "guild_deleted"
	ReasonNotMember       = "not_member"
	ReasonWrongOrigin     = "origin_not_home"
	ReasonMissingPerm     = "missing_permission"
	ReasonHierarchy       = "hierarchy"
	ReasonOwnerOnly       = "owner_only"
	ReasonUnknownTarget   = "unknown_target"
	ReasonIDInUse         = "id_in_use"
	ReasonBanned          = "banned"
	ReasonInvalidInvite   = "invalid_invite"
	ReasonMissingAuth     = "missing_auth_event"
	ReasonLimit           = "limit"
	ReasonNotInThisKind   = "not_in_room_kind"
	ReasonAlreadyApplied  = "no_change"
	ReasonTargetIsOwner   = "target_is_owner"
	ReasonNotAuthor       = "not_author"
	ReasonMessageMismatch = "message_mismatch"
)

// ErrBadContent wraps content that does not decode.
var ErrBadContent = errors.New("bad content")

// Rejection is why an event may not change the guild: the Reason, which is
// protocol, and the Code (with Field) a client is told, which is not
// (spec/auth-rules.md, "Reasons and client error codes").
type Rejection struct {
	Reason string
	Code   Code
	// Field is the request field at fault when Code is CodeInvalidFormBody,
	// in the client API's spelling; empty when the fault is not one field.
	Field  string
	Detail string
}

func (r *Rejection) Error() string { return "rejected: " + r.Reason + ": " + r.Detail }

func reject(reason string, code Code, format string, args ...any) error {
	return &Rejection{Reason: reason, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// invalid refuses content a client could have sent differently: Discord's
// Invalid Form Body, naming field ("" when the fault is not one field).
func invalid(reason, field, format string, args ...any) error {
	return &Rejection{Reason: reason, Code: CodeInvalidFormBody, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// Key names one projected object an event changed.
type Key struct {
	Kind string // "guild", "role", "channel", "member", "ban", "invite", "emoji", "webhook"
	ID   string
}

// Changes collects the keys an applied event touched.
type Changes []Key

func (c *Changes) add(kind string, id fmt.Stringer) { *c = append(*c, Key{kind, id.String()}) }

type rule struct {
	decode func([]byte) (any, error)
	check  func(s *State, op *Op, body any) error
	apply  func(s *State, op *Op, body any, ch *Changes)
}

// typed builds a rule for content type T.
func typed[T any](check func(*State, *Op, *T) error, apply func(*State, *Op, *T, *Changes)) rule {
	return rule{
		decode: func(b []byte) (any, error) { return Decode[T](b) },
		check:  func(s *State, op *Op, body any) error { return check(s, op, body.(*T)) },
		apply:  func(s *State, op *Op, body any, ch *Changes) { apply(s, op, body.(*T), ch) },
	}
}

var rules map[string]rule

func init() {
	rules = map[string]rule{}
	for _, group := range []map[string]rule{guildRules(), memberRules(), roleRules(), channelRules(), webhookRules()} {
		for k, v := range group {
			rules[k] = v
		}
	}
}

// Prepare decodes op's content once; folds reuse the result.
func (op *Op) Prepare() error {
	if op.body != nil {
		return nil
	}
	r, ok := rules[op.Type]
	if !ok {
		if messageTypes[op.Type] {
			return op.prepareMessage()
		}
		return invalid(ReasonUnknownType, "", "%q", op.Type)
	}
	body, err := r.decode(op.Content)
	if err != nil {
		return invalid(ReasonBadContent, "", "%s: %v", op.Type, err)
	}
	if err := storable(body); err != nil {
		return err
	}
	op.body = body
	return nil
}

// Adopt takes from's decoded content when from is an Op of the same type
// and content bytes, so that a local event is decoded once.
func (op *Op) Adopt(from *Op) {
	if from.body != nil && from.Type == op.Type && bytes.Equal(from.Content, op.Content) {
		op.body = from.body
	}
}

// Body is the decoded content (after Prepare).
func (op *Op) Body() any { return op.body }

// New returns the state of a room that has seen nothing yet.
func New() *State { return newState() }

// Check decides whether the state event op may apply to s.
func Check(s *State, op *Op) error {
	if err := op.Prepare(); err != nil {
		return err
	}
	r, ok := rules[op.Type]
	if !ok {
		return invalid(ReasonUnknownType, "", "%q is not a state event", op.Type)
	}
	if op.Type != TypeGuildCreate {
		if s.Deleted {
			return reject(ReasonGuildDeleted, HiddenCode(op.Type), "guild %s was deleted", s.ID)
		}
		// An event that does not name the guild's creation does not know
		// the guild.
		if s.CreateEvent == "" {
			return reject(ReasonMissingAuth, HiddenCode(op.Type), "guild has no create event")
		}
		if !contains(op.AuthEvents, s.CreateEvent) {
			return reject(ReasonMissingAuth, HiddenCode(op.Type), "auth_events lacks the guild's create event")
		}
		if op.Type != TypeMemberJoin && !selfWebhook(s, op) {
			if err := senderIsMember(s, op); err != nil {
				return err
			}
		}
	}
	return r.check(s, op, op.body)
}

// Apply changes s by a state event that passed Check and returns what it
// touched.
func Apply(s *State, op *Op) Changes {
	var ch Changes
	rules[op.Type].apply(s, op, op.body, &ch)
	return ch
}

// ApplyBan applies a ban without re-checking its sender's permissions: a ban
// that passed the auth rules against the state before it stands whatever
// happens on other branches (spec/state-resolution.md, "Bans win"). It only
// refuses to ban the current owner. A ban of a user already banned (by a
// concurrent ban) is recorded in Ban.Others, so that an unban must descend
// from it as well.
func ApplyBan(s *State, op *Op) (Changes, bool) {
	b := op.body.(*MemberBan)
	if s.Deleted || b.UserID == s.OwnerID() {
		return nil, false
	}
	if old := s.Bans[b.UserID]; old != nil {
		old.Others = append(old.Others, op.EventID)
		var ch Changes
		ch.add("ban", b.UserID)
		return ch, true
	}
	return Apply(s, op), true
}

func senderIsMember(s *State, op *Op) error {
	if s.Members[op.Sender] == nil {
		return reject(ReasonNotMember, HiddenCode(op.Type), "sender %s is not a member", op.Sender)
	}
	if home := s.Homes[op.Sender]; home != op.Origin {
		return reject(ReasonWrongOrigin, CodeMissingAccess, "sender %s belongs to %s, not %s", op.Sender, home, op.Origin)
	}
	return nil
}

// bindHome checks that user may be claimed by origin: a user belongs to the
// node that first brought them into this guild.
func bindHome(s *State, user ID, origin string) error {
	if s.Webhooks[user] != nil {
		return invalid(ReasonIDInUse, "", "%s is a webhook of this guild", user)
	}
	if home, ok := s.Homes[user]; ok && home != origin {
		return reject(ReasonWrongOrigin, CodeMissingAccess, "user %s belongs to %s, not %s", user, home, origin)
	}
	return nil
}

func need(s *State, op *Op, channel ID, bits perm.Bits) error {
	if have := s.Permissions(op.Sender, channel, op.TS); !have.Has(bits) {
		where := "guild"
		if channel != 0 {
			where = "channel " + channel.String()
		}
		return reject(ReasonMissingPerm, CodeMissingPermissions, "%s lacks %s in %s", op.Sender, (bits &^ have).String(), where)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func runeLen(s string) int { return len([]rune(s)) }

func checkName(field, name string, minLen, maxLen int) error {
	if n := runeLen(name); n < minLen || n > maxLen {
		return invalid(ReasonBadContent, field, "%s must be %d to %d characters", field, minLen, maxLen)
	}
	return nil
}
