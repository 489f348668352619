package interactions

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// componentData checks a click (or a pick) on a component of a bot's
// message and returns its data as the bot gets it.
func (a *API) componentData(ctx context.Context, i *interaction, messageID snowflake.ID, raw json.RawMessage) (any, error) {
	var d struct {
		ComponentType int      `json:"component_type"`
		CustomID      string   `json:"custom_id"`
		Values        []string `json:"values"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return nil, httperr.Field("data", "BASE_TYPE_BAD_TYPE", "Must be a component's data.")
	}
	msg, err := a.guilds.MessageAs(ctx, i.user, i.channel, messageID)
	if errors.Is(err, httperr.UnknownMessage) {
		// Not in history: perhaps an answer only this user sees.
		if m, ok := a.live.ephemeralMessage(i.app, i.user, i.channel, messageID); ok {
			msg, err = m, nil
			i.keep(messageID, &m)
		}
	}
	if err != nil {
		return nil, err
	}
	if msg.Author.ID != i.app {
		return nil, httperr.UnknownMessage // the application asked for has no components here
	}
	var rows []guild.ActionRow
	for _, row := range msg.Components {
		var r guild.ActionRow
		if json.Unmarshal(row, &r) == nil {
			rows = append(rows, r)
		}
	}
	c := findComponent(rows, d.CustomID)
	if c == nil || c.Type != d.ComponentType || c.Disabled {
		return nil, httperr.Field("data.custom_id", "COMPONENT_INVALID", "The message has no such component to use.")
	}
	i.message, i.component = messageID, &msg
	out := map[string]any{"custom_id": c.CustomID, "component_type": c.Type}
	if c.Type == guild.ComponentButton {
		return out, nil
	}
	if err := checkPicks(c, d.Values); err != nil {
		return nil, err
	}
	out["values"] = d.Values
	if c.Type != guild.ComponentStringSelect {
		res := newResolved()
		err := a.core.View(ctx, i.room, func(s *guild.State) error {
			for _, v := range d.Values {
				id, err := snowflake.Parse(v)
				if err != nil {
					return httperr.Field("data.values", "COMPONENT_INVALID", "A pick names no user, role or channel.")
				}
				switch {
				case c.Type == guild.ComponentChannelSelect && s.Channels[id] != nil:
					res.Channels[v] = objects.RenderChannel(s, s.Channels[id])
				case c.Type != guild.ComponentChannelSelect && c.Type != guild.ComponentUserSelect && s.Roles[id] != nil:
					res.Roles[v] = objects.RenderRole(s, s.Roles[id])
				case c.Type == guild.ComponentUserSelect || c.Type == guild.ComponentMentionSelect:
					res.user(s, id)
				default:
					return httperr.Field("data.values", "COMPONENT_INVALID", "A pick names nothing the select offers.")
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if err := res.fill(ctx, a.objects); err != nil {
			return nil, err
		}
		out["resolved"] = res
	}
	return out, nil
}

func findComponent(rows []guild.ActionRow, customID string) *guild.Component {
	for r := range rows {
		for c := range rows[r].Components {
			if comp := &rows[r].Components[c]; customID != "" && comp.CustomID == customID {
				return comp
			}
		}
	}
	return nil
}

// checkPicks checks a select's values: as many as it allows, and for a
// string select, among its options.
func checkPicks(c *guild.Component, values []string) error {
	minValues, maxValues := 1, max(c.MaxValues, 1)
	if c.MinValues != nil {
		minValues = *c.MinValues
	}
	if len(values) < minValues || len(values) > maxValues {
		return httperr.Field("data.values", "COMPONENT_INVALID", "Pick as many as the select allows.")
	}
	for _, v := range values {
		if c.Type == guild.ComponentStringSelect && !slices.ContainsFunc(c.Options, func(o guild.SelectOption) bool { return o.Value == v }) {
			return httperr.Field("data.values", "COMPONENT_INVALID", "A pick is not among the options.")
		}
	}
	return nil
}

// Discord's bounds on modals.
const (
	maxModalTitle  = 45
	maxModalRows   = 5
	maxInputLabel  = 45
	maxInputLength = 4000
	maxInputHint   = 100
)

// modal is a form a bot shows a user (callback 9).
type modal struct {
	CustomID   string     `json:"custom_id"`
	Title      string     `json:"title"`
	Components []modalRow `json:"components"`
}

type modalRow struct {
	Type       int         `json:"type"`
	Components []textInput `json:"components"`
}

// textInput is a modal's one kind of field.
type textInput struct {
	Type        int    `json:"type"`
	CustomID    string `json:"custom_id"`
	Style       int    `json:"style,omitempty"`
	Label       string `json:"label,omitempty"`
	MinLength   *int   `json:"min_length,omitempty"`
	MaxLength   *int   `json:"max_length,omitempty"`
	Required    *bool  `json:"required,omitempty"`
	Value       string `json:"value,omitempty"`
	Placeholder string `json:"placeholder,omitempty"`
}

const componentTextInput = 4

// check validates a modal a bot asks to show.
func (m *modal) check() error {
	var f httperr.Form
	if n := utf8.RuneCountInString(m.CustomID); n < 1 || n > guild.MaxCustomIDRunes {
		f.Add("data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
	}
	if n := utf8.RuneCountInString(m.Title); n < 1 || n > maxModalTitle {
		f.Add("data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
	}
	if n := len(m.Components); n < 1 || n > maxModalRows {
		f.Add("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
	}
	for _, row := range m.Components {
		if row.Type != guild.ComponentActionRow || len(row.Components) != 1 {
			f.Add("data.components", "COMPONENT_LAYOUT_INVALID", "Each row holds one text input.")
			continue
		}
		in := row.Components[0]
		if in.Type != componentTextInput || in.Style < 1 || in.Style > 2 || in.CustomID == "" ||
			utf8.RuneCountInString(in.CustomID) > guild.MaxCustomIDRunes || utf8.RuneCountInString(in.Label) > maxInputLabel ||
			utf8.RuneCountInString(in.Placeholder) > maxInputHint || utf8.RuneCountInString(in.Value) > maxInputLength ||
			in.MaxLength != nil && (*in.MaxLength < 1 || *in.MaxLength > maxInputLength) ||
			in.MinLength != nil && (*in.MinLength < 0 || *in.MinLength > maxInputLength) {
			f.Add("data.components", "COMPONENT_INVALID", "A text input is out of Discord's bounds.")
		}
	}
	return f.Err()
}

// modalData checks a modal's submission: a modal the bot showed this user,
// with one value per text input.
func (a *API) modalData(i *interaction, raw json.RawMessage) (any, error) {
	var d struct {
		CustomID   string `json:"custom_id"`
		Components []struct {
			Type       int `json:"type"`
			Components []struct {
				Type     int    `json:"type"`
				CustomID string `json:"custom_id"`
				Value    string `json:"value"`
			} `json:"components"`
		} `json:"components"`
	}
	if json.Unmarshal(raw, &d) != nil || len(d.Components) > maxModalRows {
		return nil, httperr.Field("data", "BASE_TYPE_BAD_TYPE", "Must be a modal's data.")
	}
	for _, row := range d.Components {
		for _, in := range row.Components {
			if utf8.RuneCountInString(in.Value) > maxInputLength || len(row.Components) != 1 {
				return nil, httperr.Field("data.components", "COMPONENT_INVALID", "A text input is out of Discord's bounds.")
			}
		}
	}
	if !a.live.submitModal(modalKey{app: i.app, user: i.user, customID: d.CustomID}, i.created) {
		return nil, httperr.UnknownInteraction
	}
	return d, nil
}
