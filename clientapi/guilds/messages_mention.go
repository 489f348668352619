package guilds

import (
	"regexp"
	"slices"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

var (
	userMention     = regexp.MustCompile(`<@!?([0-9]{1,20})>`)
	roleMention     = regexp.MustCompile(`<@&([0-9]{1,20})>`)
	everyoneMention = regexp.MustCompile(`@(?:everyone|here)`)
)

// maxAllowedIDs is how many users or roles allowed_mentions may list.
const maxAllowedIDs = 100

func checkAllowedMentions(am *allowedMentions, form *httperr.Form) {
	for _, p := range am.Parse {
		if p != "users" && p != "roles" && p != "everyone" {
			form.Add("allowed_mentions.parse", "BASE_TYPE_CHOICES", "Value must be one of ('roles', 'users', 'everyone').")
		}
	}
	if slices.Contains(am.Parse, "users") && len(am.Users) > 0 {
		form.Add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", "parse:[\"users\"] and users: [ids] are mutually exclusive.")
	}
	if slices.Contains(am.Parse, "roles") && len(am.Roles) > 0 {
		form.Add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", "parse:[\"roles\"] and roles: [ids] are mutually exclusive.")
	}
	if len(am.Users) > maxAllowedIDs || len(am.Roles) > maxAllowedIDs {
		form.Add("allowed_mentions", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
}

// mentions finds who content pings, as Discord does: users who are in the
// room, roles that are mentionable (any role for a sender with
// MENTION_EVERYONE), and @everyone/@here only with MENTION_EVERYONE —
// otherwise the text stays and nobody is pinged. allowed_mentions narrows
// each kind; without it every kind is parsed.
func mentions(s *guild.State, have perm.Bits, content string, am *allowedMentions) (users, roles []snowflake.ID, everyone bool) {
	parse := func(kind string, listed []snowflake.ID, id snowflake.ID) bool {
		return am == nil || slices.Contains(am.Parse, kind) || slices.Contains(listed, id)
	}
	for _, m := range userMention.FindAllStringSubmatch(content, -1) {
		id, err := snowflake.Parse(m[1])
		if err != nil || s.Members[id] == nil || slices.Contains(users, id) {
			continue
		}
		if parse("users", amUsers(am), id) {
			users = append(users, id)
		}
	}
	if !objects.IsDM(s) {
		for _, m := range roleMention.FindAllStringSubmatch(content, -1) {
			id, err := snowflake.Parse(m[1])
			role := s.Roles[id]
			if err != nil || role == nil || id == s.ID || slices.Contains(roles, id) {
				continue
			}
			if (role.Mentionable || have.Has(perm.MentionEveryone)) && parse("roles", amRoles(am), id) {
				roles = append(roles, id)
			}
		}
		everyone = have.Has(perm.MentionEveryone) && everyoneMention.MatchString(content) &&
			(am == nil || slices.Contains(am.Parse, "everyone"))
	}
	return users, roles, everyone
}

func amUsers(am *allowedMentions) []snowflake.ID {
	if am == nil {
		return nil
	}
	return am.Users
}

func amRoles(am *allowedMentions) []snowflake.ID {
	if am == nil {
		return nil
	}
	return am.Roles
}

// pingsReplied reports whether a reply mentions the author it replies to:
// by default yes; with allowed_mentions only if replied_user says so.
func pingsReplied(am *allowedMentions) bool { return am == nil || am.RepliedUser }
