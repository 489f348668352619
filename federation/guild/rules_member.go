package guild

import (
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

func checkMemberJoin(s *State, op *Op, c *MemberJoin) error {
	if s.Kind != KindGuild {
		return reject(ReasonNotInThisKind, "DMs are joined by being added")
	}
	if s.Members[op.Sender] != nil {
		return reject(ReasonAlreadyApplied, "%s is already a member", op.Sender)
	}
	if s.Bans[op.Sender] != nil {
		return reject(ReasonBanned, "%s is banned", op.Sender)
	}
	if err := bindHome(s, op.Sender, op.Origin); err != nil {
		return err
	}
	inv := s.Invites[c.InviteCode]
	if inv == nil {
		return reject(ReasonInvalidInvite, "unknown invite %q", c.InviteCode)
	}
	if !contains(op.AuthEvents, inv.EventID) {
		return reject(ReasonMissingAuth, "auth_events lacks invite %q", c.InviteCode)
	}
	if !inv.Usable(op.TS) {
		return reject(ReasonInvalidInvite, "invite %q has expired or is used up", c.InviteCode)
	}
	return nil
}

func applyMemberJoin(s *State, op *Op, c *MemberJoin, ch *Changes) {
	s.Members[op.Sender] = &Member{Member: perm.Member{UserID: op.Sender}, JoinedAt: op.TS}
	s.Homes[op.Sender] = op.Origin
	s.Invites[c.InviteCode].Uses++
	ch.add("member", op.Sender)
	ch.add("invite", stringer(c.InviteCode))
}

func checkMemberAdd(s *State, op *Op, c *MemberAdd) error {
	switch s.Kind {
	case KindDM:
		return reject(ReasonNotInThisKind, "a DM has two participants")
	case KindGroupDM:
		if len(s.Members) >= MaxGroupDM {
			return reject(ReasonLimit, "a group DM has at most %d members", MaxGroupDM)
		}
		if c.Bot {
			return reject(ReasonNotInThisKind, "bots are not added to group DMs")
		}
	default:
		if err := need(s, op, 0, perm.ManageGuild); err != nil {
			return err
		}
	}
	if c.UserID == 0 || s.Members[c.UserID] != nil {
		return reject(ReasonAlreadyApplied, "%s is already a member", c.UserID)
	}
	if s.Bans[c.UserID] != nil {
		return reject(ReasonBanned, "%s is banned", c.UserID)
	}
	// The added user's home is the node that adds them (bots live on the node
	// that made their application).
	return bindHome(s, c.UserID, op.Origin)
}

func applyMemberAdd(s *State, op *Op, c *MemberAdd, ch *Changes) {
	s.Members[c.UserID] = &Member{Member: perm.Member{UserID: c.UserID}, Bot: c.Bot, JoinedAt: op.TS}
	s.Homes[c.UserID] = op.Origin
	ch.add("member", c.UserID)
}

func checkMemberLeave(s *State, op *Op, _ *struct{}) error {
	if op.Sender == s.OwnerID() && s.Kind != KindDM {
		return reject(ReasonOwnerOnly, "the owner must transfer ownership before leaving")
	}
	return nil
}

func applyMemberLeave(s *State, op *Op, _ *struct{}, ch *Changes) {
	delete(s.Members, op.Sender)
	ch.add("member", op.Sender)
}

// moderate checks an action by the sender on target that needs bits and
// the hierarchy.
func moderate(s *State, op *Op, target ID, bits perm.Bits) error {
	if target == s.OwnerID() {
		return reject(ReasonTargetIsOwner, "the owner cannot be the target of %s", op.Type)
	}
	if target == op.Sender {
		return reject(ReasonBadContent, "use member.leave to leave")
	}
	if err := need(s, op, 0, bits); err != nil {
		return err
	}
	if t := s.Members[target]; t != nil && !perm.CanModerate(&s.perm, &s.Members[op.Sender].Member, &t.Member, bits, op.TS) {
		return reject(ReasonHierarchy, "%s does not outrank %s", op.Sender, target)
	}
	return nil
}

func checkMemberKick(s *State, op *Op, c *MemberTarget) error {
	if s.Members[c.UserID] == nil {
		return reject(ReasonUnknownTarget, "member %s", c.UserID)
	}
	return moderate(s, op, c.UserID, perm.KickMembers)
}

func applyMemberKick(s *State, op *Op, c *MemberTarget, ch *Changes) {
	delete(s.Members, c.UserID)
	ch.add("member", c.UserID)
}

func checkMemberBan(s *State, op *Op, c *MemberBan) error {
	if s.Kind != KindGuild {
		return reject(ReasonNotInThisKind, "DMs have no bans")
	}
	if c.UserID == 0 {
		return reject(ReasonBadContent, "user_id is required")
	}
	if s.Bans[c.UserID] != nil {
		return reject(ReasonAlreadyApplied, "%s is already banned", c.UserID)
	}
	if c.DeleteMessageSeconds < 0 || c.DeleteMessageSeconds > MaxDeleteSeconds {
		return reject(ReasonBadContent, "delete_message_seconds must be 0 to %d", MaxDeleteSeconds)
	}
	return moderate(s, op, c.UserID, perm.BanMembers)
}

func applyMemberBan(s *State, op *Op, c *MemberBan, ch *Changes) {
	s.Bans[c.UserID] = &Ban{UserID: c.UserID, Reason: c.Reason, EventID: op.EventID, DeleteSeconds: c.DeleteMessageSeconds, TS: op.TS}
	if s.Members[c.UserID] != nil {
		delete(s.Members, c.UserID)
		ch.add("member", c.UserID)
	}
	ch.add("ban", c.UserID)
}

func checkMemberUnban(s *State, op *Op, c *MemberTarget) error {
	if s.Bans[c.UserID] == nil {
		return reject(ReasonUnknownTarget, "%s is not banned", c.UserID)
	}
	return need(s, op, 0, perm.BanMembers)
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

func checkMemberUpdate(s *State, op *Op, c *MemberUpdate) error {
	t := s.Members[c.UserID]
	if t == nil {
		return reject(ReasonUnknownTarget, "member %s", c.UserID)
	}
	if s.Kind != KindGuild && (len(c.RolesAdd)+len(c.RolesRemove) > 0 || c.CommunicationDisabledUntil != nil) {
		return reject(ReasonNotInThisKind, "DMs have no roles or timeouts")
	}
	actor := &s.Members[op.Sender].Member
	if c.Nick != nil {
		if err := checkName("nick", *c.Nick, 0, 32); err != nil {
			return err
		}
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
	for _, list := range [][]ID{c.RolesAdd, c.RolesRemove} {
		for _, id := range list {
			r := s.Roles[id]
			if r == nil || id == s.ID {
				return reject(ReasonUnknownTarget, "role %s", id)
			}
			if !perm.CanManageRole(&s.perm, actor, r.Role, op.TS) {
				return reject(ReasonHierarchy, "%s may not assign role %s", op.Sender, id)
			}
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
		if until := *c.CommunicationDisabledUntil; until != 0 && (until < 0 || until > op.TS+maxTimeout) {
			return reject(ReasonBadContent, "a timeout lasts at most 28 days")
		}
		if err := moderate(s, op, c.UserID, perm.ModerateMembers); err != nil {
			return err
		}
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
