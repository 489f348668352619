package guild

import (
	"maps"
	"slices"

	"concord/federation/perm"
)

// maxTimeout is Discord's longest timeout, 28 days.
const maxTimeout = 28 * 24 * 3600 * 1000

func memberRules() map[string]rule {
	return map[string]rule{
		TypeMemberJoin:   typed(checkMemberJoin, applyMemberJoin),
		TypeMemberAdd:    typed(checkMemberAdd, applyMemberAdd),
		TypeMemberLeave:  typed(checkMemberLeave, applyMemberLeave),
		TypeMemberKick:   typed(checkMemberKick, applyMemberKick),
		TypeMemberBan:    typed(checkMemberBan, applyMemberBan),
		TypeMemberUnban:  typed(checkMemberUnban, applyMemberUnban),
		TypeMemberUpdate: typed(checkMemberUpdate, applyMemberUpdate),
	}
}

// checkMemberJoin weighs the invite before who is joining, as the client
// API does: an unusable invite is unknown whoever presents it.
func checkMemberJoin(s *State, op *Op, c *MemberJoin) error {
	if s.Kind != KindGuild {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "DMs are joined by being added")
	}
	inv := s.Invites[c.InviteCode]
	if inv == nil {
		return reject(ReasonInvalidInvite, CodeUnknownInvite, "unknown invite %q", c.InviteCode)
	}
	if !contains(op.AuthEvents, inv.EventID) {
		return reject(ReasonMissingAuth, CodeUnknownInvite, "auth_events lacks invite %q", c.InviteCode)
	}
	if !inv.Usable(op.TS) {
		return reject(ReasonInvalidInvite, CodeUnknownInvite, "invite %q has expired or is used up", c.InviteCode)
	}
	if s.Members[op.Sender] != nil {
		return invalid(ReasonAlreadyApplied, "", "%s is already a member", op.Sender)
	}
	if s.Bans[op.Sender] != nil {
		return reject(ReasonBanned, CodeBanned, "%s is banned", op.Sender)
	}
	return bindHome(s, op.Sender, op.Origin)
}

func applyMemberJoin(s *State, op *Op, c *MemberJoin, ch *Changes) {
	s.Members[op.Sender] = &Member{Member: perm.Member{UserID: op.Sender}, JoinedAt: op.TS}
	s.Homes[op.Sender] = op.Origin
	s.Invites[c.InviteCode].Uses++
	ch.add("member", op.Sender)
	ch.add("invite", stringer(c.InviteCode))
}

// checkMemberAdd finds a user already there before asking who may add
// them: the client API answers that as a success, to anyone.
func checkMemberAdd(s *State, op *Op, c *MemberAdd) error {
	if s.Kind == KindDM {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "a DM has two participants")
	}
	if c.UserID == 0 || s.Members[c.UserID] != nil {
		return invalid(ReasonAlreadyApplied, "", "%s is already a member", c.UserID)
	}
	if s.Kind == KindGroupDM {
		if len(s.Members) >= MaxGroupDM {
			return reject(ReasonLimit, CodeMaxRecipients, "a group DM has at most %d members", MaxGroupDM)
		}
		if c.Bot {
			return reject(ReasonNotInThisKind, HiddenCode(op.Type), "bots are not added to group DMs")
		}
	} else if err := need(s, op, 0, perm.ManageGuild); err != nil {
		return err
	}
	if s.Bans[c.UserID] != nil {
		return reject(ReasonBanned, CodeBanned, "%s is banned", c.UserID)
	}
	if c.Origin != "" && s.Kind != KindGroupDM {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "only a group DM adds users of other nodes")
	}
	return bindHome(s, c.UserID, addedHome(op, c))
}

// addedHome is the added user's home: the node that adds them (bots live
// on the node that made their application), or in a group DM the node
// the content names.
func addedHome(op *Op, c *MemberAdd) string {
	if c.Origin != "" {
		return c.Origin
	}
	return op.Origin
}

func applyMemberAdd(s *State, op *Op, c *MemberAdd, ch *Changes) {
	s.Members[c.UserID] = &Member{Member: perm.Member{UserID: c.UserID}, Bot: c.Bot, JoinedAt: op.TS}
	s.Homes[c.UserID] = addedHome(op, c)
	ch.add("member", c.UserID)
}

func checkMemberLeave(s *State, op *Op, _ *struct{}) error {
	if op.Sender == s.OwnerID() && s.Kind == KindGuild {
		return reject(ReasonOwnerOnly, CodeMissingPermissions, "the owner must transfer ownership before leaving")
	}
	return nil
}

// applyMemberLeave takes the sender out; a group DM whose owner left
// passes to the remaining member with the smallest ID.
func applyMemberLeave(s *State, op *Op, _ *struct{}, ch *Changes) {
	delete(s.Members, op.Sender)
	ch.add("member", op.Sender)
	if s.Kind != KindGroupDM || op.Sender != s.OwnerID() || len(s.Members) == 0 {
		return
	}
	s.perm.OwnerID = slices.Min(slices.Collect(maps.Keys(s.Members)))
	ch.add("guild", s.ID)
}

// moderate checks an action by the sender on target that needs bits and
// the hierarchy. The permission comes before the target being the sender,
// as in the client API: who may not act at all is told so.
func moderate(s *State, op *Op, target ID, bits perm.Bits) error {
	if target == s.OwnerID() {
		return reject(ReasonTargetIsOwner, CodeMissingPermissions, "the owner cannot be the target of %s", op.Type)
	}
	if err := need(s, op, 0, bits); err != nil {
		return err
	}
	if target == op.Sender {
		return invalid(ReasonBadContent, "", "use member.leave to leave")
	}
	if t := s.Members[target]; t != nil && !perm.CanModerate(&s.perm, &s.Members[op.Sender].Member, &t.Member, bits, op.TS) {
		return reject(ReasonHierarchy, CodeMissingPermissions, "%s does not outrank %s", op.Sender, target)
	}
	return nil
}

func checkMemberKick(s *State, op *Op, c *MemberTarget) error {
	if s.Members[c.UserID] == nil {
		return reject(ReasonUnknownTarget, CodeUnknownMember, "member %s", c.UserID)
	}
	return moderate(s, op, c.UserID, perm.KickMembers)
}

func applyMemberKick(s *State, op *Op, c *MemberTarget, ch *Changes) {
	delete(s.Members, c.UserID)
	ch.add("member", c.UserID)
}

// checkMemberBan looks at the user's bans only once the sender is found
// able to ban them, so that only who may ban learns whether someone already
// is, and others hear Missing Permissions, as from Discord.
func checkMemberBan(s *State, op *Op, c *MemberBan) error {
	if s.Kind != KindGuild {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "DMs have no bans")
	}
	if c.UserID == 0 {
		return invalid(ReasonBadContent, "user_id", "user_id is required")
	}
	if c.DeleteMessageSeconds < 0 || c.DeleteMessageSeconds > MaxDeleteSeconds {
		return invalid(ReasonBadContent, "delete_message_seconds", "delete_message_seconds must be 0 to %d", MaxDeleteSeconds)
	}
	if err := moderate(s, op, c.UserID, perm.BanMembers); err != nil {
		return err
	}
	if s.Bans[c.UserID] != nil {
		return invalid(ReasonAlreadyApplied, "", "%s is already banned", c.UserID)
	}
	return nil
}

func applyMemberBan(s *State, op *Op, c *MemberBan, ch *Changes) {
	s.Bans[c.UserID] = &Ban{UserID: c.UserID, Reason: c.Reason, EventID: op.EventID, DeleteSeconds: c.DeleteMessageSeconds, TS: op.TS}
	if s.Members[c.UserID] != nil {
		delete(s.Members, c.UserID)
		ch.add("member", c.UserID)
	}
	ch.add("ban", c.UserID)
}

// checkMemberUnban asks for BAN_MEMBERS before looking at the bans, as the
// client API does.
func checkMemberUnban(s *State, op *Op, c *MemberTarget) error {
	if err := need(s, op, 0, perm.BanMembers); err != nil {
		return err
	}
	if s.Bans[c.UserID] == nil {
		return reject(ReasonUnknownTarget, CodeUnknownBan, "%s is not banned", c.UserID)
	}
	return nil
}

func applyMemberUnban(s *State, op *Op, c *MemberTarget, ch *Changes) {
	delete(s.Bans, c.UserID)
	ch.add("ban", c.UserID)
}

// CheckUnbanLifts reports whether an unban may lift the ban in s: only a ban
// the unban descends from, and every concurrent ban of the same user folded
// with it (spec/state-resolution.md, "Bans win").
func CheckUnbanLifts(s *State, op *Op, env Env) bool {
	c, ok := op.body.(*MemberTarget)
	if !ok {
		return false
	}
	b := s.Bans[c.UserID]
	if b == nil || !env.IsAncestor(b.EventID, op.EventID) {
		return false
	}
	for _, id := range b.Others {
		if !env.IsAncestor(id, op.EventID) {
			return false
		}
	}
	return true
}

// checkMemberUpdate checks the target, what the update sets and that every
// role it names exists before what the sender may do, so that an unknown
// role is reported as such to anyone.
func checkMemberUpdate(s *State, op *Op, c *MemberUpdate) error {
	t := s.Members[c.UserID]
	if t == nil {
		return reject(ReasonUnknownTarget, CodeUnknownMember, "member %s", c.UserID)
	}
	if s.Kind != KindGuild && (len(c.RolesAdd)+len(c.RolesRemove) > 0 || c.CommunicationDisabledUntil != nil) {
		return reject(ReasonNotInThisKind, HiddenCode(op.Type), "DMs have no roles or timeouts")
	}
	if c.Nick != nil {
		if err := checkName("nick", *c.Nick, 0, 32); err != nil {
			return err
		}
	}
	if c.CommunicationDisabledUntil != nil {
		if until := *c.CommunicationDisabledUntil; until != 0 && (until < 0 || until > op.TS+maxTimeout) {
			return invalid(ReasonBadContent, "communication_disabled_until", "a timeout lasts at most 28 days")
		}
	}
	roles := append(append([]ID(nil), c.RolesAdd...), c.RolesRemove...)
	for _, id := range roles {
		if s.Roles[id] == nil || id == s.ID {
			return reject(ReasonUnknownTarget, CodeUnknownRole, "role %s", id)
		}
	}
	if c.Nick != nil {
		if c.UserID == op.Sender {
			if !s.Permissions(op.Sender, 0, op.TS).Has(perm.ChangeNickname) {
				if err := need(s, op, 0, perm.ManageNicknames); err != nil {
					return err
				}
			}
		} else if err := moderate(s, op, c.UserID, perm.ManageNicknames); err != nil {
			return err
		}
	}
	actor := &s.Members[op.Sender].Member
	for _, id := range roles {
		if !perm.CanManageRole(&s.perm, actor, s.Roles[id].Role, op.TS) {
			return reject(ReasonHierarchy, CodeMissingPermissions, "%s may not assign role %s", op.Sender, id)
		}
	}
	if c.Mute != nil {
		if err := need(s, op, 0, perm.MuteMembers); err != nil {
			return err
		}
	}
	if c.Deaf != nil {
		if err := need(s, op, 0, perm.DeafenMembers); err != nil {
			return err
		}
	}
	if c.CommunicationDisabledUntil != nil {
		return moderate(s, op, c.UserID, perm.ModerateMembers)
	}
	return nil
}

func applyMemberUpdate(s *State, op *Op, c *MemberUpdate, ch *Changes) {
	m := s.Members[c.UserID]
	set(&m.Nick, c.Nick)
	set(&m.Mute, c.Mute)
	set(&m.Deaf, c.Deaf)
	set(&m.TimedOutUntil, c.CommunicationDisabledUntil)
	for _, id := range c.RolesAdd {
		m.Roles = addID(m.Roles, id)
	}
	for _, id := range c.RolesRemove {
		m.Roles = removeID(m.Roles, id)
	}
	ch.add("member", c.UserID)
}

type stringer string

func (s stringer) String() string { return string(s) }
