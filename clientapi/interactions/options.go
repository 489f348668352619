package interactions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// optionValue is an option as the invoking client fills it in, and as the
// bot gets it.
type optionValue struct {
	Name    string          `json:"name"`
	Type    int             `json:"type"`
	Value   json.RawMessage `json:"value,omitempty"`
	Options []optionValue   `json:"options,omitempty"`
	Focused bool            `json:"focused,omitempty"`
}

// resolved is what an interaction's options and targets name, as the bot
// gets it: users (and their members), roles, channels, messages.
type resolved struct {
	Users    map[string]objects.User    `json:"users"`
	Members  map[string]objects.Member  `json:"members"`
	Roles    map[string]objects.Role    `json:"roles"`
	Channels map[string]objects.Channel `json:"channels"`
	Messages map[string]objects.Message `json:"messages"`
}

func newResolved() *resolved {
	return &resolved{Users: map[string]objects.User{}, Members: map[string]objects.Member{}, Roles: map[string]objects.Role{},
		Channels: map[string]objects.Channel{}, Messages: map[string]objects.Message{}}
}

// user adds a user, and their member object when they are one of s.
func (r *resolved) user(s *guild.State, id snowflake.ID) {
	r.Users[id.String()] = objects.User{ID: id}
	if m := s.Members[id]; m != nil {
		o := objects.RenderMember(m)
		o.User = nil // resolved members come without their users, which are beside them
		r.Members[id.String()] = o
	}
}

// fill reads the users' objects, after the state's lock is released.
func (r *resolved) fill(ctx context.Context, o *objects.Renderer) error {
	ids := make([]snowflake.ID, 0, len(r.Users))
	for _, u := range r.Users {
		ids = append(ids, u.ID)
	}
	users, err := o.Users(ctx, ids)
	if err != nil {
		return err
	}
	for k, u := range r.Users {
		r.Users[k] = users[u.ID]
	}
	return nil
}

// checkValues checks the options a client filled in against a command's
// (or subcommand's) definition, resolving what they name in s. It returns
// the options as the bot gets them and the subcommand path taken. For an
// autocomplete the focused option may hold any partial string.
func checkValues(s *guild.State, defs []Option, given []optionValue, res *resolved, autocomplete bool) ([]optionValue, string, error) {
	bad := func(name, why string) error {
		return httperr.Field("data.options", "APPLICATION_COMMAND_OPTION_INVALID", fmt.Sprintf("%s: %s", name, why))
	}
	byName := map[string]*Option{}
	for k := range defs {
		byName[defs[k].Name] = &defs[k]
	}
	if len(defs) > 0 && (defs[0].Type == optionSubCommand || defs[0].Type == optionSubCommandGroup) {
		if len(given) != 1 {
			return nil, "", bad("subcommand", "exactly one is chosen")
		}
		def := byName[given[0].Name]
		if def == nil || def.Type != given[0].Type {
			return nil, "", bad(given[0].Name, "no such subcommand")
		}
		inner, path, err := checkValues(s, def.Options, given[0].Options, res, autocomplete)
		if err != nil {
			return nil, "", err
		}
		given[0].Options, given[0].Value = inner, nil
		if path != "" {
			return given, def.Name + " " + path, nil
		}
		return given, def.Name, nil
	}
	seen := map[string]bool{}
	for k := range given {
		v := &given[k]
		def := byName[v.Name]
		switch {
		case def == nil:
			return nil, "", bad(v.Name, "no such option")
		case seen[v.Name]:
			return nil, "", bad(v.Name, "given twice")
		case def.Type != v.Type:
			return nil, "", bad(v.Name, "of the wrong type")
		case len(v.Options) > 0:
			return nil, "", bad(v.Name, "a value has no options")
		}
		seen[v.Name] = true
		if autocomplete && v.Focused {
			var partial string
			if json.Unmarshal(v.Value, &partial) != nil && def.Type == optionString {
				return nil, "", bad(v.Name, "must be a string")
			}
			continue
		}
		v.Focused = false
		if err := checkValue(s, def, v, res); err != nil {
			return nil, "", bad(v.Name, err.Error())
		}
	}
	for _, def := range defs {
		if def.Required && !seen[def.Name] && !autocomplete {
			return nil, "", bad(def.Name, "is required")
		}
	}
	return given, "", nil
}

// checkValue checks one value against its option's type, bounds and
// choices, resolving users, roles and channels.
func checkValue(s *guild.State, def *Option, v *optionValue, res *resolved) error {
	var id snowflake.ID
	switch def.Type {
	case optionString:
		var text string
		if json.Unmarshal(v.Value, &text) != nil {
			return fmt.Errorf("must be a string")
		}
		n := utf8.RuneCountInString(text)
		if n > maxStringOption || def.MinLength != nil && n < *def.MinLength || def.MaxLength != nil && n > *def.MaxLength {
			return fmt.Errorf("has the wrong length")
		}
	case optionInteger, optionNumber:
		var x float64
		if json.Unmarshal(v.Value, &x) != nil || def.Type == optionInteger && x != float64(int64(x)) {
			return fmt.Errorf("must be a number of the option's kind")
		}
		if def.MinValue != nil && x < *def.MinValue || def.MaxValue != nil && x > *def.MaxValue {
			return fmt.Errorf("is out of range")
		}
	case optionBoolean:
		var b bool
		if json.Unmarshal(v.Value, &b) != nil {
			return fmt.Errorf("must be true or false")
		}
	case optionUser, optionChannel, optionRole, optionMentionable:
		if json.Unmarshal(v.Value, &id) != nil || id == 0 {
			return fmt.Errorf("must be an ID")
		}
		switch {
		case def.Type == optionChannel:
			ch := s.Channels[id]
			if ch == nil || len(def.ChannelTypes) > 0 && !slices.Contains(def.ChannelTypes, ch.Type) {
				return fmt.Errorf("names no channel it may")
			}
			res.Channels[id.String()] = objects.RenderChannel(s, ch)
		case s.Roles[id] != nil && (def.Type == optionRole || def.Type == optionMentionable):
			res.Roles[id.String()] = objects.RenderRole(s, s.Roles[id])
		case def.Type == optionRole:
			return fmt.Errorf("names no role")
		default:
			res.user(s, id)
		}
	default:
		return fmt.Errorf("attachments are not taken here")
	}
	if len(def.Choices) > 0 && !slices.ContainsFunc(def.Choices, func(c Choice) bool { return sameValue(c.Value, v.Value) }) {
		return fmt.Errorf("is not one of the choices")
	}
	return nil
}

// sameValue compares two JSON scalars as values: 1 and 1.0 are the same.
func sameValue(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && x == y
}
