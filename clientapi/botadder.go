package clientapi

import (
	"context"

	"concord/clientapi/httperr"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// AddBot implements BotAdder on the event core: the authorizing user sends
// member.add for the bot, which the rules allow with MANAGE_GUILD. Adding a
// bot already there succeeds. Discord would also make a managed role holding
// permissions; Concord does not yet (spec/client-api.md), so permissions is
// unused.
func (a *API) AddBot(ctx context.Context, guildID, botUserID, actorUserID snowflake.ID, _ uint64) error {
	already := false
	err := a.inGuild(ctx, guildID, actorUserID, func(s *guild.State, _ *guild.Member) error {
		already = s.Members[botUserID] != nil
		return nil
	})
	if err != nil || already {
		return err
	}
	return a.send(ctx, guildID, actorUserID, guild.TypeMemberAdd, guild.MemberAdd{UserID: botUserID, Bot: true}, httperr.UnknownUser)
}
