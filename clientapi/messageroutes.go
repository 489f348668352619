package clientapi

import "github.com/go-chi/chi/v5"

// messageRoutes serves Discord's message, reaction, pin, typing and DM
// routes; r already requires a caller. They write through the event core,
// so without one there is nothing to serve.
func (a *API) messageRoutes(r chi.Router) {
	if a.core == nil {
		return
	}
	r.Get("/users/@me/channels", a.serve(a.listDMs))
	r.Post("/users/@me/channels", a.serve(a.createDM))

	const ch = "/channels/{channel_id}"
	r.Post(ch+"/typing", a.serve(a.triggerTyping))
	r.Get(ch+"/messages", a.serve(a.listMessages))
	r.Post(ch+"/messages", a.serve(a.createMessage))
	r.Post(ch+"/messages/bulk-delete", a.serve(a.bulkDelete))
	r.Post(ch+"/messages/bulk_delete", a.serve(a.bulkDelete)) // the older spelling some libraries use
	r.Get(ch+"/messages/{message_id}", a.serve(a.getMessage))
	r.Patch(ch+"/messages/{message_id}", a.serve(a.editMessage))
	r.Delete(ch+"/messages/{message_id}", a.serve(a.deleteMessage))

	const re = ch + "/messages/{message_id}/reactions"
	r.Delete(re, a.serve(a.removeReactions))
	r.Get(re+"/{emoji}", a.serve(a.listReactionUsers))
	r.Delete(re+"/{emoji}", a.serve(a.removeReactions))
	r.Put(re+"/{emoji}/@me", a.serve(a.addReaction))
	r.Delete(re+"/{emoji}/{user_id}", a.serve(a.removeReaction))

	r.Get(ch+"/pins", a.serve(a.listPins))
	r.Put(ch+"/pins/{message_id}", a.serve(a.pin(true)))
	r.Delete(ch+"/pins/{message_id}", a.serve(a.pin(false)))
}
