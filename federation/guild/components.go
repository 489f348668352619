package guild

import (
	"fmt"
	"net/url"
)

// Message components: the buttons and select menus a bot puts under a
// message, in rows (spec/events-types.md, "Components"). The rules check
// their shape so that every node stores and shows the same ones.

// Component types, Discord's numbering; text inputs (4) live only in
// modals, which are not history.
const (
	ComponentActionRow     = 1
	ComponentButton        = 2
	ComponentStringSelect  = 3
	ComponentUserSelect    = 5
	ComponentRoleSelect    = 6
	ComponentMentionSelect = 7
	ComponentChannelSelect = 8
)

// Button styles; a link button opens its URL and starts no interaction.
const (
	ButtonPrimary   = 1
	ButtonSecondary = 2
	ButtonSuccess   = 3
	ButtonDanger    = 4
	ButtonLink      = 5
)

// Discord's bounds on components.
const (
	MaxActionRows     = 5
	MaxRowButtons     = 5
	MaxSelectOptions  = 25
	MaxCustomIDRunes  = 100
	MaxButtonLabel    = 80
	MaxSelectText     = 100
	MaxPlaceholder    = 150
	MaxComponentURLen = 512
)

// ActionRow is one row of a message's components.
type ActionRow struct {
	Type       int         `json:"type"`
	Components []Component `json:"components"`
}

// Component is a button or a select menu; which fields apply depends on
// its type.
type Component struct {
	Type          int             `json:"type"`
	Style         int             `json:"style,omitempty"`
	Label         string          `json:"label,omitempty"`
	Emoji         *ComponentEmoji `json:"emoji,omitempty"`
	CustomID      string          `json:"custom_id,omitempty"`
	URL           string          `json:"url,omitempty"`
	Disabled      bool            `json:"disabled,omitempty"`
	Options       []SelectOption  `json:"options,omitempty"`
	Placeholder   string          `json:"placeholder,omitempty"`
	MinValues     *int            `json:"min_values,omitempty"`
	MaxValues     int             `json:"max_values,omitempty"`
	ChannelTypes  []int           `json:"channel_types,omitempty"`
	DefaultValues []SelectDefault `json:"default_values,omitempty"`
}

// ComponentEmoji is a button's or option's emoji: a custom one by ID, or a
// unicode one by name.
type ComponentEmoji struct {
	ID       ID     `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

// SelectOption is one choice of a string select.
type SelectOption struct {
	Label       string          `json:"label"`
	Value       string          `json:"value"`
	Description string          `json:"description,omitempty"`
	Emoji       *ComponentEmoji `json:"emoji,omitempty"`
	Default     bool            `json:"default,omitempty"`
}

// SelectDefault is a user, role or channel an auto-populated select starts
// with.
type SelectDefault struct {
	ID   ID     `json:"id"`
	Type string `json:"type"`
}

// checkComponents checks a message's rows of components.
func checkComponents(rows []ActionRow) error {
	if len(rows) > MaxActionRows {
		return invalid(ReasonLimit, "components", "at most %d action rows", MaxActionRows)
	}
	ids := map[string]bool{}
	for i, row := range rows {
		at := fmt.Sprintf("components.%d", i)
		if row.Type != ComponentActionRow {
			return invalid(ReasonBadContent, at+".type", "a message's components are action rows")
		}
		if len(row.Components) == 0 {
			return invalid(ReasonBadContent, at+".components", "an action row holds a component")
		}
		buttons := 0
		for j := range row.Components {
			c := &row.Components[j]
			here := fmt.Sprintf("%s.components.%d", at, j)
			if c.Type == ComponentButton {
				buttons++
				if err := checkButton(here, c); err != nil {
					return err
				}
			} else if err := checkSelect(here, c); err != nil {
				return err
			}
			if c.CustomID != "" {
				if ids[c.CustomID] {
					return invalid(ReasonBadContent, here+".custom_id", "custom_id %q is used twice", c.CustomID)
				}
				ids[c.CustomID] = true
			}
		}
		if buttons > MaxRowButtons || buttons > 0 && buttons != len(row.Components) || buttons == 0 && len(row.Components) != 1 {
			return invalid(ReasonLimit, at+".components", "an action row holds up to %d buttons or one select", MaxRowButtons)
		}
	}
	return nil
}

func checkCustomID(here, id string) error {
	if n := runeLen(id); n < 1 || n > MaxCustomIDRunes {
		return invalid(ReasonBadContent, here+".custom_id", "custom_id must be 1 to %d characters", MaxCustomIDRunes)
	}
	return nil
}

func checkButton(here string, c *Component) error {
	switch {
	case c.Style < ButtonPrimary || c.Style > ButtonLink:
		return invalid(ReasonBadContent, here+".style", "a button's style is 1 to 5")
	case runeLen(c.Label) > MaxButtonLabel:
		return invalid(ReasonBadContent, here+".label", "a label has at most %d characters", MaxButtonLabel)
	case c.Label == "" && c.Emoji == nil:
		return invalid(ReasonBadContent, here+".label", "a button needs a label or an emoji")
	case len(c.Options) > 0 || c.Placeholder != "" || c.MinValues != nil || c.MaxValues != 0 || len(c.ChannelTypes) > 0 || len(c.DefaultValues) > 0:
		return invalid(ReasonBadContent, here, "a button has no select fields")
	}
	if c.Style == ButtonLink {
		u, err := url.Parse(c.URL)
		if err != nil || len(c.URL) > MaxComponentURLen || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid(ReasonBadContent, here+".url", "a link button needs an http(s) URL")
		}
		if c.CustomID != "" {
			return invalid(ReasonBadContent, here+".custom_id", "a link button has no custom_id")
		}
		return nil
	}
	if c.URL != "" {
		return invalid(ReasonBadContent, here+".url", "only link buttons have a URL")
	}
	return checkCustomID(here, c.CustomID)
}

var selectDefaults = map[int][]string{
	ComponentUserSelect:    {"user"},
	ComponentRoleSelect:    {"role"},
	ComponentMentionSelect: {"user", "role"},
	ComponentChannelSelect: {"channel"},
}

func checkSelect(here string, c *Component) error {
	switch c.Type {
	case ComponentStringSelect, ComponentUserSelect, ComponentRoleSelect, ComponentMentionSelect, ComponentChannelSelect:
	default:
		return invalid(ReasonBadContent, here+".type", "component type %d does not belong in a message", c.Type)
	}
	if err := checkCustomID(here, c.CustomID); err != nil {
		return err
	}
	minValues, maxValues := 1, c.MaxValues
	if c.MinValues != nil {
		minValues = *c.MinValues
	}
	if maxValues == 0 {
		maxValues = 1
	}
	switch {
	case c.Style != 0 || c.URL != "" || c.Label != "" || c.Emoji != nil:
		return invalid(ReasonBadContent, here, "a select has no button fields")
	case runeLen(c.Placeholder) > MaxPlaceholder:
		return invalid(ReasonBadContent, here+".placeholder", "a placeholder has at most %d characters", MaxPlaceholder)
	case minValues < 0 || minValues > MaxSelectOptions || maxValues < 1 || maxValues > MaxSelectOptions || minValues > maxValues:
		return invalid(ReasonBadContent, here+".max_values", "min_values 0 to 25, max_values 1 to 25, min not above max")
	case len(c.ChannelTypes) > 0 && c.Type != ComponentChannelSelect:
		return invalid(ReasonBadContent, here+".channel_types", "only channel selects have channel types")
	case len(c.DefaultValues) > maxValues:
		return invalid(ReasonBadContent, here+".default_values", "more defaults than max_values")
	}
	for k, d := range c.DefaultValues {
		ok := false
		for _, t := range selectDefaults[c.Type] {
			ok = ok || d.Type == t
		}
		if !ok || d.ID == 0 {
			return invalid(ReasonBadContent, fmt.Sprintf("%s.default_values.%d", here, k), "a default names a user, role or channel the select offers")
		}
	}
	if c.Type != ComponentStringSelect {
		if len(c.Options) > 0 {
			return invalid(ReasonBadContent, here+".options", "only string selects have options")
		}
		return nil
	}
	if n := len(c.Options); n < 1 || n > MaxSelectOptions || maxValues > n {
		return invalid(ReasonLimit, here+".options", "a string select has 1 to %d options, at least max_values", MaxSelectOptions)
	}
	values := map[string]bool{}
	for k, o := range c.Options {
		at := fmt.Sprintf("%s.options.%d", here, k)
		if n := runeLen(o.Label); n < 1 || n > MaxSelectText {
			return invalid(ReasonBadContent, at+".label", "an option's label is 1 to %d characters", MaxSelectText)
		}
		if n := runeLen(o.Value); n < 1 || n > MaxSelectText || values[o.Value] {
			return invalid(ReasonBadContent, at+".value", "an option's value is 1 to %d characters and unique", MaxSelectText)
		}
		values[o.Value] = true
		if runeLen(o.Description) > MaxSelectText {
			return invalid(ReasonBadContent, at+".description", "an option's description has at most %d characters", MaxSelectText)
		}
	}
	return nil
}
