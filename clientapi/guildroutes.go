package clientapi

import "github.com/go-chi/chi/v5"

// guildRoutes serves Discord's guild, channel, role, member, ban, invite and
// audit log routes; r already requires a caller. Without the event core
// there is nothing to serve.
func (a *API) guildRoutes(r chi.Router) {
	if a.core == nil {
		return
	}
	r.Post("/guilds", a.serve(a.createGuild))
	r.Get("/users/@me/guilds", a.serve(a.listMyGuilds))
	r.Delete("/users/@me/guilds/{guild_id}", a.serve(a.leaveGuild))

	r.Route("/guilds/{guild_id}", func(r chi.Router) {
		r.Get("/", a.serve(a.getGuild))
		r.Patch("/", a.serve(a.patchGuild))
		r.Delete("/", a.serve(a.deleteGuild))
		r.Get("/audit-logs", a.serve(a.getAuditLog))
		r.Get("/messages/search", a.serve(a.searchMessages))

		r.Get("/channels", a.serve(a.listChannels))
		r.Post("/channels", a.serve(a.createChannel))
		r.Patch("/channels", a.serve(a.reorderChannels))

		r.Get("/roles", a.serve(a.listRoles))
		r.Post("/roles", a.serve(a.createRole))
		r.Patch("/roles", a.serve(a.reorderRoles))
		r.Patch("/roles/{role_id}", a.serve(a.patchRole))
		r.Delete("/roles/{role_id}", a.serve(a.deleteRole))

		r.Get("/members", a.serve(a.listMembers))
		r.Patch("/members/@me", a.serve(a.patchMyMember))
		r.Patch("/members/@me/nick", a.serve(a.patchMyMember)) // the older route discordgo calls
		r.Get("/members/{user_id}", a.serve(a.getMember))
		r.Patch("/members/{user_id}", a.serve(a.patchMember))
		r.Delete("/members/{user_id}", a.serve(a.kickMember))
		r.Put("/members/{user_id}/roles/{role_id}", a.serve(a.memberRole(true)))
		r.Delete("/members/{user_id}/roles/{role_id}", a.serve(a.memberRole(false)))

		r.Get("/bans", a.serve(a.listBans))
		r.Get("/bans/{user_id}", a.serve(a.getBan))
		r.Put("/bans/{user_id}", a.serve(a.putBan))
		r.Delete("/bans/{user_id}", a.serve(a.deleteBan))

		r.Get("/invites", a.serve(a.listGuildInvites))
	})

	r.Route("/channels/{channel_id}", func(r chi.Router) {
		r.Get("/", a.serve(a.getChannel))
		r.Patch("/", a.serve(a.patchChannel))
		r.Delete("/", a.serve(a.deleteChannel))
		r.Put("/permissions/{overwrite_id}", a.serve(a.putOverwrite))
		r.Delete("/permissions/{overwrite_id}", a.serve(a.deleteOverwrite))
		r.Get("/invites", a.serve(a.listChannelInvites))
		r.Post("/invites", a.serve(a.createInvite))
	})

	r.Get("/invites/{code}", a.serve(a.getInvite))
	r.Post("/invites/{code}", a.serve(a.acceptInvite))
	r.Delete("/invites/{code}", a.serve(a.deleteInvite))
}
