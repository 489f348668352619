package interactions

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"concord/clientapi/httperr"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// Command types, Discord's numbering.
const (
	commandChatInput = 1
	commandUser      = 2
	commandMessage   = 3
)

// Option types, Discord's numbering.
const (
	optionSubCommand      = 1
	optionSubCommandGroup = 2
	optionString          = 3
	optionInteger         = 4
	optionBoolean         = 5
	optionUser            = 6
	optionChannel         = 7
	optionRole            = 8
	optionMentionable     = 9
	optionNumber          = 10
	optionAttachment      = 11
)

// Discord's limits on commands.
const (
	maxOptions       = 25
	maxChoices       = 25
	maxCommandChars  = 8000
	maxChatCommands  = 100
	maxUserCommands  = 15
	maxMsgCommands   = 15
	maxDailyCreates  = 200
	maxStringOption  = 6000
	maxChoiceNameLen = 100
)

// Command is Discord's application command object.
type Command struct {
	ID                       snowflake.ID      `json:"id"`
	ApplicationID            snowflake.ID      `json:"application_id"`
	GuildID                  *snowflake.ID     `json:"guild_id,omitempty"`
	Version                  snowflake.ID      `json:"version"`
	Type                     int               `json:"type"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations"`
	Options                  []Option          `json:"options,omitempty"`
	DefaultMemberPermissions *perm.Bits        `json:"default_member_permissions"`
	DMPermission             *bool             `json:"dm_permission,omitempty"`
	NSFW                     bool              `json:"nsfw"`
	Contexts                 []int             `json:"contexts"`
	IntegrationTypes         []int             `json:"integration_types"`
}

// Option is one parameter of a chat command, or a subcommand (group).
type Option struct {
	Type                     int               `json:"type"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations,omitempty"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations,omitempty"`
	Required                 bool              `json:"required,omitempty"`
	Choices                  []Choice          `json:"choices,omitempty"`
	Options                  []Option          `json:"options,omitempty"`
	ChannelTypes             []int             `json:"channel_types,omitempty"`
	MinValue                 *float64          `json:"min_value,omitempty"`
	MaxValue                 *float64          `json:"max_value,omitempty"`
	MinLength                *int              `json:"min_length,omitempty"`
	MaxLength                *int              `json:"max_length,omitempty"`
	Autocomplete             bool              `json:"autocomplete,omitempty"`
}

// Choice is one value a user may pick for an option.
type Choice struct {
	Name              string            `json:"name"`
	NameLocalizations map[string]string `json:"name_localizations,omitempty"`
	Value             json.RawMessage   `json:"value"`
}

// chatName is the pattern of chat command and option names.
var chatName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// check validates c as Discord does, naming every bad field at once, and
// fills in defaults. It does not set IDs, scope or version.
func (c *Command) check() error {
	var f httperr.Form
	if c.Type == 0 {
		c.Type = commandChatInput
	}
	switch c.Type {
	case commandChatInput:
		if !validChatName(c.Name) {
			f.Add("name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 {
			f.Add("description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
		checkOptions(&f, "options", c.Options, 0)
	case commandUser, commandMessage:
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 32 || strings.TrimSpace(c.Name) != c.Name {
			f.Add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
		}
		if c.Description != "" {
			f.Add("description", "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION", "Context menu commands cannot have description")
		}
		if len(c.Options) > 0 {
			f.Add("options", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Context menu commands cannot have options")
		}
	default:
		f.Add("type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
	}
	if c.DefaultMemberPermissions != nil && *c.DefaultMemberPermissions&^perm.All != 0 {
		f.Add("default_member_permissions", "PERMISSIONS_INVALID", "Contains undefined permission bits.")
	}
	for i, v := range c.Contexts {
		if v < 0 || v > 2 {
			f.Add(fmt.Sprintf("contexts.%d", i), "BASE_TYPE_CHOICES", "Value must be one of {0, 1, 2}.")
		}
	}
	for i, v := range c.IntegrationTypes {
		if v < 0 || v > 1 {
			f.Add(fmt.Sprintf("integration_types.%d", i), "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
		}
	}
	if chars := c.chars(); chars > maxCommandChars {
		f.Add("_body", "APPLICATION_COMMAND_TOO_LARGE", fmt.Sprintf("Command exceeds maximum size (%d)", maxCommandChars))
	}
	return f.Err()
}

func validChatName(name string) bool {
	return chatName.MatchString(name) && strings.ToLower(name) == name
}

// checkOptions validates one list of options at depth 0 (the command's),
// 1 (a subcommand group's or subcommand's) or 2 (a grouped subcommand's).
func checkOptions(f *httperr.Form, at string, opts []Option, depth int) {
	if len(opts) > maxOptions {
		f.Add(at, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxOptions))
		return
	}
	seen := map[string]bool{}
	optional, subs, values := false, 0, 0
	for i := range opts {
		o := &opts[i]
		here := fmt.Sprintf("%s.%d", at, i)
		if !validChatName(o.Name) {
			f.Add(here+".name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if seen[o.Name] {
			f.Add(here+".name", "APPLICATION_COMMAND_OPTION_NAME_NOT_UNIQUE", "Option names must be unique")
		}
		seen[o.Name] = true
		if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
			f.Add(here+".description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
		switch o.Type {
		case optionSubCommandGroup:
			subs++
			if depth > 0 {
				f.Add(here+".type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommand groups cannot be nested")
			}
			for j := range o.Options {
				if o.Options[j].Type != optionSubCommand {
					f.Add(fmt.Sprintf("%s.options.%d.type", here, j), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommand groups hold only subcommands")
				}
			}
			checkOptions(f, here+".options", o.Options, depth+1)
		case optionSubCommand:
			subs++
			if depth > 1 {
				f.Add(here+".type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands cannot be nested this deep")
			}
			for j := range o.Options {
				if t := o.Options[j].Type; t == optionSubCommand || t == optionSubCommandGroup {
					f.Add(fmt.Sprintf("%s.options.%d.type", here, j), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands hold only parameters")
				}
			}
			checkOptions(f, here+".options", o.Options, depth+1)
		case optionString, optionInteger, optionBoolean, optionUser, optionChannel, optionRole, optionMentionable,
			optionNumber, optionAttachment:
			values++
			if o.Required && optional {
				f.Add(here+".required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
			}
			optional = optional || !o.Required
			checkValueOption(f, here, o)
		default:
			f.Add(here+".type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.")
		}
	}
	if subs > 0 && values > 0 {
		f.Add(at, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands and subcommand groups cannot be mixed with other options")
	}
}

// checkValueOption validates what only parameters carry: choices, bounds,
// channel types.
func checkValueOption(f *httperr.Form, here string, o *Option) {
	if len(o.Options) > 0 {
		f.Add(here+".options", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Only subcommands have options")
	}
	if len(o.Choices) > 0 {
		if o.Type != optionString && o.Type != optionInteger && o.Type != optionNumber {
			f.Add(here+".choices", "APPLICATION_COMMAND_OPTIONS_CHOICES_INVALID", "Only string, integer and number options have choices")
		}
		if o.Autocomplete {
			f.Add(here+".autocomplete", "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES", "Autocomplete and choices are mutually exclusive")
		}
		if len(o.Choices) > maxChoices {
			f.Add(here+".choices", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxChoices))
		}
		for j, ch := range o.Choices {
			at := fmt.Sprintf("%s.choices.%d", here, j)
			if n := utf8.RuneCountInString(ch.Name); n < 1 || n > maxChoiceNameLen {
				f.Add(at+".name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
			}
			if !choiceFits(o.Type, ch.Value) {
				f.Add(at+".value", "BASE_TYPE_BAD_TYPE", "The choice's value does not fit its option's type")
			}
		}
	}
	if o.Autocomplete && o.Type != optionString && o.Type != optionInteger && o.Type != optionNumber {
		f.Add(here+".autocomplete", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Only string, integer and number options autocomplete")
	}
	if (o.MinValue != nil || o.MaxValue != nil) && o.Type != optionInteger && o.Type != optionNumber {
		f.Add(here+".min_value", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Only integer and number options have bounds")
	}
	if o.MinValue != nil && o.MaxValue != nil && *o.MinValue > *o.MaxValue {
		f.Add(here+".min_value", "NUMBER_TYPE_MAX", "min_value must not exceed max_value")
	}
	for _, l := range []*int{o.MinLength, o.MaxLength} {
		if l != nil && (o.Type != optionString || *l < 0 || *l > maxStringOption) {
			f.Add(here+".max_length", "NUMBER_TYPE_MAX", "Lengths apply to string options, 0 to 6000")
		}
	}
	if len(o.ChannelTypes) > 0 && o.Type != optionChannel {
		f.Add(here+".channel_types", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Only channel options have channel types")
	}
}

// choiceFits reports whether a choice's JSON value has its option's type;
// a string is at most 100 characters.
func choiceFits(typ int, v json.RawMessage) bool {
	switch typ {
	case optionString:
		var s string
		return json.Unmarshal(v, &s) == nil && utf8.RuneCountInString(s) <= maxChoiceNameLen
	case optionInteger:
		var n int64
		return json.Unmarshal(v, &n) == nil
	default:
		var n float64
		return json.Unmarshal(v, &n) == nil
	}
}

// chars counts the characters Discord counts against a command's size:
// names, descriptions and choice values, all the way down.
func (c *Command) chars() int {
	n := utf8.RuneCountInString(c.Name) + utf8.RuneCountInString(c.Description)
	var walk func([]Option)
	walk = func(opts []Option) {
		for _, o := range opts {
			n += utf8.RuneCountInString(o.Name) + utf8.RuneCountInString(o.Description)
			for _, ch := range o.Choices {
				n += utf8.RuneCountInString(ch.Name) + len(ch.Value)
			}
			walk(o.Options)
		}
	}
	walk(c.Options)
	return n
}

// limitFor is how many commands of a type one scope may hold.
func limitFor(typ int) int {
	switch typ {
	case commandUser:
		return maxUserCommands
	case commandMessage:
		return maxMsgCommands
	}
	return maxChatCommands
}
