package interactions

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
)

// Callback types, Discord's numbering.
const (
	callbackPong           = 1
	callbackMessage        = 4
	callbackDeferMessage   = 5
	callbackDeferUpdate    = 6
	callbackUpdateMessage  = 7
	callbackAutocomplete   = 8
	callbackModal          = 9
	maxCallbackBody        = 256 << 10
	maxAutocompleteChoices = 25
)

// callbackBody is POST /interactions/{id}/{token}/callback.
type callbackBody struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data"`
}

// callback is a bot's first answer to an interaction, within 3 s and only
// once. It needs no Authorization: the token is the credential.
func (a *API) callback(w http.ResponseWriter, r *http.Request) error {
	id, err := params.ID(r, "interaction_id", httperr.UnknownInteraction)
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	i := a.live.byIDToken(id, chi.URLParam(r, "token"), now)
	if i == nil {
		return httperr.UnknownInteraction
	}
	var body callbackBody
	files, err := a.readBody(r, i, &body)
	if err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	sent := false
	defer func() { a.guilds.ReleaseFiles(files, sent) }()
	switch {
	case i.answered:
		return httperr.InteractionAcknowledged
	case now.Sub(i.created) > firstAnswer:
		return httperr.UnknownInteraction
	}
	ctx := r.Context()
	in := i.metadata()
	var resource *objects.Message
	switch body.Type {
	case callbackMessage, callbackDeferMessage:
		if i.typ == typeAutocomplete {
			return errWrongCallback
		}
		var m objects.Message
		if body.Type == callbackMessage {
			m, err = a.answer(ctx, i, body.Data, files, in)
		} else {
			m, err = a.deferAnswer(ctx, i, body.Data, in)
		}
		if err != nil {
			return err
		}
		i.original, resource, sent = m.ID, &m, true
	case callbackDeferUpdate, callbackUpdateMessage:
		if i.typ != typeComponent {
			return errWrongCallback
		}
		i.updatesComponentMsg = true
		if body.Type == callbackUpdateMessage {
			var ephemeral *objects.Message
			if old, ok := i.ephemeral[i.message]; ok {
				ephemeral = &old
			}
			m, err := a.edit(ctx, i, i.message, ephemeral, body.Data)
			if err != nil {
				return err
			}
			resource, sent = &m, true
		}
	case callbackAutocomplete:
		if i.typ != typeAutocomplete {
			return errWrongCallback
		}
		var d struct {
			Choices []Choice `json:"choices"`
		}
		if json.Unmarshal(body.Data, &d) != nil || len(d.Choices) > maxAutocompleteChoices {
			return httperr.Field("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		a.tell(i, "APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE", map[string]any{"nonce": i.nonce, "choices": d.Choices})
	case callbackModal:
		if i.typ != typeCommand && i.typ != typeComponent {
			return errWrongCallback
		}
		var m modal
		if json.Unmarshal(body.Data, &m) != nil {
			return httperr.Field("data", "BASE_TYPE_BAD_TYPE", "Must be a modal.")
		}
		if err := m.check(); err != nil {
			return err
		}
		a.live.openModal(modalKey{app: i.app, user: i.user, customID: m.CustomID}, now)
		a.tell(i, "INTERACTION_MODAL_CREATE", map[string]any{"id": i.id, "nonce": i.nonce,
			"custom_id": m.CustomID, "title": m.Title, "components": m.Components, "application": map[string]any{"id": i.app}})
	case callbackPong:
		return errWrongCallback // only an HTTP endpoint's ping is answered with a pong
	default:
		return httperr.Field("type", "BASE_TYPE_CHOICES", "Value must be one of {4, 5, 6, 7, 8, 9}.")
	}
	i.answered = true
	if i.failure != nil {
		i.failure.Stop()
	}
	if i.typ != typeAutocomplete {
		a.tell(i, "INTERACTION_SUCCESS", map[string]any{"id": i.id, "nonce": i.nonce})
	}
	if !params.Bool(r, "with_response") {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	out := map[string]any{"interaction": map[string]any{"id": i.id, "type": i.typ, "response_message_id": i.original,
		"response_message_loading": body.Type == callbackDeferMessage, "response_message_ephemeral": resource != nil && resource.Flags&flagEphemeral != 0}}
	res := map[string]any{"type": body.Type}
	if resource != nil {
		res["message"] = resource
	}
	out["resource"] = res
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// errWrongCallback refuses an answer that does not fit the interaction,
// such as an update of a message to a command.
var errWrongCallback = httperr.Field("type", "INTERACTION_RESPONSE_TYPE_INVALID", "This response type does not fit the interaction.")

// flagEphemeral marks a message only its interaction's user sees.
const (
	flagEphemeral = 1 << 6
	flagLoading   = 1 << 7
)

// metadata is what the bot's messages say of the interaction they answer.
func (i *interaction) metadata() *guild.MessageInteraction {
	return &guild.MessageInteraction{ID: i.id, Type: i.typ, Name: i.name, UserID: i.user}
}
