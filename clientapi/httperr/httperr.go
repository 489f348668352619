// Package httperr writes Discord's REST error bodies: `{code, message}` and,
// for bad input, code 50035 with an `errors` tree naming each field. Every
// client API handler (accounts, REST, gateway HTTP endpoints) maps its
// failures to these values here and nowhere else. Any package under
// clientapi may import it.
package httperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Discord's JSON error codes used by Concord. The full table is in
// Discord's documentation ("JSON Error Codes").
const (
	CodeGeneral            = 0
	CodeUnknownApplication = 10002
	CodeUnknownChannel     = 10003
	CodeUnknownGuild       = 10004
	CodeUnknownInvite      = 10006
	CodeUnknownMember      = 10007
	CodeUnknownMessage     = 10008
	CodeUnknownOverwrite   = 10009
	CodeUnknownRole        = 10011
	CodeUnknownBan         = 10026
	CodeUnknownSession     = 10020
	CodeUnknownUser        = 10013
	CodeUnknownEmoji       = 10014
	CodeUnknownWebhook     = 10015
	CodeUnknownCommand     = 10063
	CodeUnknownInteraction = 10062
	CodeUnknownCommandPerm = 10066
	CodeBotsCannotUse      = 20001
	CodeOnlyBots           = 20002
	CodeTargetNotInVoice   = 40032
	CodeSlowmode           = 20016
	CodeMaxPins            = 30003
	CodeMaxRecipients      = 30004
	CodeMaxRoles           = 30005
	CodeMaxWebhooks        = 30007
	CodeMaxEmojis          = 30008
	CodeMaxReactions       = 30010
	CodeMaxChannels        = 30013
	CodeMaxCommands        = 30032
	CodeMaxDailyCommands   = 30034
	CodeMaxGuildWebhooks   = 30058
	CodeEntityTooLarge     = 40005
	CodeBanned             = 40007
	CodeInteractionAcked   = 40060
	CodeMissingAccess      = 50001
	CodeCannotInDM         = 50003
	CodeCannotEditOthers   = 50005
	CodeEmptyMessage       = 50006
	CodeCannotMessageUser  = 50007
	CodeInvalidWebhookTok  = 50027
	CodeBulkDeleteTooOld   = 50034
	CodeMissingPermissions = 50013
	CodeInvalidFormBody    = 50035
	CodeFriendsDisabled    = 80000
	CodeNoSuchDiscordTag   = 80004
)

// Error is an API failure: an HTTP status plus Discord's body. It is an
// error so that layers below the handler can return one unchanged.
type Error struct {
	Status  int                    `json:"-"`
	Code    int                    `json:"code"`
	Message string                 `json:"message"`
	Errors  map[string]FieldErrors `json:"errors,omitempty"`
}

// FieldErrors is the `{_errors: [...]}` node Discord puts under a field name.
type FieldErrors struct {
	Errors []FieldError `json:"_errors"`
}

// FieldError is one reason a field was refused; Code is a string constant
// such as "BASE_TYPE_REQUIRED".
type FieldError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if len(e.Errors) == 0 {
		return fmt.Sprintf("%d %d: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%d %d: %s %v", e.Status, e.Code, e.Message, e.Errors)
}

// Common errors. They are values, so handlers return them as they are.
var (
	Unauthorized            = &Error{Status: http.StatusUnauthorized, Code: CodeGeneral, Message: "401: Unauthorized"}
	NotFound                = &Error{Status: http.StatusNotFound, Code: CodeGeneral, Message: "404: Not Found"}
	MethodNotAllowed        = &Error{Status: http.StatusMethodNotAllowed, Code: CodeGeneral, Message: "405: Method Not Allowed"}
	Busy                    = &Error{Status: http.StatusServiceUnavailable, Code: CodeGeneral, Message: "503: Service Unavailable"}
	Internal                = &Error{Status: http.StatusInternalServerError, Code: CodeGeneral, Message: "500: Internal Server Error"}
	UnknownUser             = &Error{Status: http.StatusNotFound, Code: CodeUnknownUser, Message: "Unknown User"}
	UnknownApplication      = &Error{Status: http.StatusNotFound, Code: CodeUnknownApplication, Message: "Unknown Application"}
	UnknownGuild            = &Error{Status: http.StatusNotFound, Code: CodeUnknownGuild, Message: "Unknown Guild"}
	UnknownSession          = &Error{Status: http.StatusNotFound, Code: CodeUnknownSession, Message: "Unknown Session"}
	UnknownChannel          = &Error{Status: http.StatusNotFound, Code: CodeUnknownChannel, Message: "Unknown Channel"}
	UnknownInvite           = &Error{Status: http.StatusNotFound, Code: CodeUnknownInvite, Message: "Unknown Invite"}
	UnknownMember           = &Error{Status: http.StatusNotFound, Code: CodeUnknownMember, Message: "Unknown Member"}
	UnknownOverwrite        = &Error{Status: http.StatusNotFound, Code: CodeUnknownOverwrite, Message: "Unknown Overwrite"}
	UnknownRole             = &Error{Status: http.StatusNotFound, Code: CodeUnknownRole, Message: "Unknown Role"}
	UnknownBan              = &Error{Status: http.StatusNotFound, Code: CodeUnknownBan, Message: "Unknown Ban"}
	UnknownMessage          = &Error{Status: http.StatusNotFound, Code: CodeUnknownMessage, Message: "Unknown Message"}
	UnknownEmoji            = &Error{Status: http.StatusBadRequest, Code: CodeUnknownEmoji, Message: "Unknown Emoji"}
	UnknownWebhook          = &Error{Status: http.StatusNotFound, Code: CodeUnknownWebhook, Message: "Unknown Webhook"}
	UnknownCommand          = &Error{Status: http.StatusNotFound, Code: CodeUnknownCommand, Message: "Unknown application command"}
	UnknownInteraction      = &Error{Status: http.StatusNotFound, Code: CodeUnknownInteraction, Message: "Unknown interaction"}
	InteractionAcknowledged = &Error{Status: http.StatusBadRequest, Code: CodeInteractionAcked, Message: "Interaction has already been acknowledged."}
	TooManyInteractions     = &Error{Status: http.StatusTooManyRequests, Code: CodeGeneral, Message: "Too many interactions are waiting for bots; try again shortly."}
	UnknownCommandPerm      = &Error{Status: http.StatusNotFound, Code: CodeUnknownCommandPerm, Message: "Unknown application command permissions"}
	MaxCommands             = &Error{Status: http.StatusBadRequest, Code: CodeMaxCommands, Message: "Maximum number of application commands reached"}
	MaxDailyCommands        = &Error{Status: http.StatusBadRequest, Code: CodeMaxDailyCommands, Message: "Max number of daily application command creates has been reached (200)"}
	MaxPins                 = &Error{Status: http.StatusBadRequest, Code: CodeMaxPins, Message: "Maximum number of pins reached for the channel (50)"}
	MaxReactions            = &Error{Status: http.StatusBadRequest, Code: CodeMaxReactions, Message: "Maximum number of reactions reached (20)"}
	CannotInDM              = &Error{Status: http.StatusForbidden, Code: CodeCannotInDM, Message: "Cannot execute action on a DM channel"}
	CannotEditOthers        = &Error{Status: http.StatusForbidden, Code: CodeCannotEditOthers, Message: "Cannot edit a message authored by another user"}
	EmptyMessage            = &Error{Status: http.StatusBadRequest, Code: CodeEmptyMessage, Message: "Cannot send an empty message"}
	CannotMessageUser       = &Error{Status: http.StatusForbidden, Code: CodeCannotMessageUser, Message: "Cannot send messages to this user"}
	BulkDeleteTooOld        = &Error{Status: http.StatusBadRequest, Code: CodeBulkDeleteTooOld, Message: "You can only bulk delete messages that are under 14 days old."}
	MaxRoles                = &Error{Status: http.StatusBadRequest, Code: CodeMaxRoles, Message: "Maximum number of guild roles reached (250)"}
	MaxChannels             = &Error{Status: http.StatusBadRequest, Code: CodeMaxChannels, Message: "Maximum number of guild channels reached (500)"}
	MaxRecipients           = &Error{Status: http.StatusBadRequest, Code: CodeMaxRecipients, Message: "Maximum number of group DM recipients reached (10)"}
	MaxWebhooks             = &Error{Status: http.StatusBadRequest, Code: CodeMaxWebhooks, Message: "Maximum number of webhooks reached (15)"}
	MaxGuildWebhooks        = &Error{Status: http.StatusBadRequest, Code: CodeMaxGuildWebhooks, Message: "Maximum number of webhooks per guild reached (1000)"}
	TargetNotInVoice        = &Error{Status: http.StatusBadRequest, Code: CodeTargetNotInVoice, Message: "Target user is not connected to voice."}
	InvalidWebhookToken     = &Error{Status: http.StatusUnauthorized, Code: CodeInvalidWebhookTok, Message: "Invalid Webhook Token"}
	MaxEmojis               = &Error{Status: http.StatusBadRequest, Code: CodeMaxEmojis, Message: "Maximum number of emojis reached"}
	EntityTooLarge          = &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeEntityTooLarge, Message: "Request entity too large"}
	Banned                  = &Error{Status: http.StatusForbidden, Code: CodeBanned, Message: "The user is banned from this guild."}
	MissingPermissions      = &Error{Status: http.StatusForbidden, Code: CodeMissingPermissions, Message: "Missing Permissions"}
	MissingAccess           = &Error{Status: http.StatusForbidden, Code: CodeMissingAccess, Message: "Missing Access"}
	BotsCannotUse           = &Error{Status: http.StatusForbidden, Code: CodeBotsCannotUse, Message: "Bots cannot use this endpoint"}
	OnlyBots                = &Error{Status: http.StatusForbidden, Code: CodeOnlyBots, Message: "Only bots can use this endpoint"}
	FriendsDisabled         = &Error{Status: http.StatusBadRequest, Code: CodeFriendsDisabled, Message: "Incoming friend requests disabled."}
	NoSuchDiscordTag        = &Error{Status: http.StatusBadRequest, Code: CodeNoSuchDiscordTag, Message: "No users with DiscordTag exist"}

	// QuotaExceeded is Concord's: the files would take their sender past
	// their storage quota (spec/client-api.md, "Storage quota").
	QuotaExceeded = &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeEntityTooLarge, Message: "Request entity too large: storage quota exceeded"}
)

// byCode are the errors with a fixed body, by code, for ByCode.
var byCode = func() map[int]*Error {
	m := map[int]*Error{}
	for _, e := range []*Error{UnknownUser, UnknownApplication, UnknownGuild, UnknownSession, UnknownChannel,
		UnknownInvite, UnknownMember, UnknownOverwrite, UnknownRole, UnknownBan, UnknownMessage, UnknownEmoji,
		MaxPins, MaxReactions, CannotInDM, CannotEditOthers, EmptyMessage, CannotMessageUser, BulkDeleteTooOld,
		MaxRoles, MaxChannels, MaxRecipients, MaxEmojis, Banned, MissingPermissions, MissingAccess, UnknownWebhook,
		MaxWebhooks, MaxGuildWebhooks} {
		m[e.Code] = e
	}
	return m
}()

// ByCode is the error Discord answers with code: its fixed body, or for
// 50035 (and any code without one) Invalid Form Body naming field (the
// whole body when empty) with message.
func ByCode(code int, field, message string) *Error {
	if e := byCode[code]; e != nil {
		return e
	}
	if field == "" {
		field = "_body"
	}
	return Field(field, "INVALID", message)
}

// Field returns a 50035 Invalid Form Body error naming one field. Nested
// fields use Discord's dotted path, e.g. "custom_status.text".
func Field(field, code, message string) *Error {
	return &Error{
		Status:  http.StatusBadRequest,
		Code:    CodeInvalidFormBody,
		Message: "Invalid Form Body",
		Errors:  map[string]FieldErrors{field: {Errors: []FieldError{{Code: code, Message: message}}}},
	}
}

// Form collects field errors so a handler can report every bad field at
// once. The zero value is ready to use.
type Form struct {
	errs map[string]FieldErrors
}

// Add records one refusal of field.
func (f *Form) Add(field, code, message string) {
	if f.errs == nil {
		f.errs = map[string]FieldErrors{}
	}
	fe := f.errs[field]
	fe.Errors = append(fe.Errors, FieldError{Code: code, Message: message})
	f.errs[field] = fe
}

// Err returns the collected errors as one 50035 error, or nil when none.
func (f *Form) Err() error {
	if len(f.errs) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidFormBody, Message: "Invalid Form Body", Errors: f.errs}
}

// Write sends err as Discord's error body. An *Error is sent as it is; any
// other error becomes a 500 whose details stay out of the response, so the
// caller must log it first.
func Write(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Internal
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}

// Handler is a route that returns its failure instead of writing it, so
// that every error reaches the client through Write.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Serve adapts h: an *Error is sent as it is; any other error is logged
// with the request's method and path, then answered 500.
func Serve(log *slog.Logger, h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				log.Error("client api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			Write(w, err)
		}
	}
}
