package guild

import (
	"encoding/json"
	"math"
)

// Content is refused as it decodes when a value in it is one that a node
// could not store or should not show (spec/auth-rules.md, "Storable
// content"): every node refuses the same events, so no node's database
// ever meets a value it cannot hold, and a name cannot pose as another.

// textKind says which characters a string field of content may hold.
type textKind int

const (
	// textMulti is text a user writes over several lines (a message, a
	// topic, a reason): no C0 control but tab, line feed and carriage
	// return.
	textMulti textKind = iota
	// textLine is a single-line value (a hash, a nonce, a content type): no
	// C0 control, DEL or C1 control.
	textLine
	// textName is a name shown to others: a line that holds no bidi
	// control and no invisible character either.
	textName
	// textEmoji is an emoji's name: a name, except that a zero-width
	// joiner joins an emoji sequence.
	textEmoji
)

// MaxStoredInt is the largest value of a count, position or flag set:
// every backend stores these in a signed 32-bit column.
const MaxStoredInt = math.MaxInt32

// refusedRune reports whether a string of kind k may not hold r.
func refusedRune(k textKind, r rune) bool {
	switch {
	case r < 0x20:
		return k != textMulti || (r != '\t' && r != '\n' && r != '\r')
	case k == textMulti:
		return false
	case r == 0x7f || r >= 0x80 && r <= 0x9f:
		return true
	case k == textLine:
		return false
	case r == 0x200d: // zero-width joiner
		return k != textEmoji
	}
	return invisible(r)
}

// invisible reports whether r is a bidi control or a character that takes
// no room: either lets a name pose as another.
func invisible(r rune) bool {
	switch {
	case r == 0x061c, r == 0x180e, r == 0xfeff: // Arabic letter mark, Mongolian vowel separator, BOM
		return true
	case r >= 0x200b && r <= 0x200f: // zero-width space, non-joiner, joiner; LRM, RLM
		return true
	case r >= 0x2028 && r <= 0x202e: // line and paragraph separators; LRE RLE PDF LRO RLO
		return true
	case r >= 0x2060 && r <= 0x2064: // word joiner, invisible operators
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI RLI FSI PDI
		return true
	}
	return false
}

func checkText(field, s string, k textKind) error {
	for _, r := range s {
		if refusedRune(k, r) {
			return invalid(ReasonBadContent, field, "%s holds U+%04X, which it may not hold", field, r)
		}
	}
	return nil
}

func checkTextPtr(field string, s *string, k textKind) error {
	if s == nil {
		return nil
	}
	return checkText(field, *s, k)
}

// checkStoredInt refuses a value outside 0 … MaxStoredInt.
func checkStoredInt(field string, v int) error {
	if v < 0 || v > MaxStoredInt {
		return invalid(ReasonBadContent, field, "%s must be 0 to %d", field, MaxStoredInt)
	}
	return nil
}

func checkStoredIntPtr(field string, v *int) error {
	if v == nil {
		return nil
	}
	return checkStoredInt(field, *v)
}

// checkEmbeds checks every string of a message's embeds, keys included, as
// multi-line text.
func checkEmbeds(embeds []json.RawMessage) error {
	for _, e := range embeds {
		var v any
		if err := json.Unmarshal(e, &v); err != nil {
			return invalid(ReasonBadContent, "embeds", "embeds: %v", err)
		}
		if err := embedStrings(v); err != nil {
			return err
		}
	}
	return nil
}

func embedStrings(v any) error {
	switch v := v.(type) {
	case string:
		return checkText("embeds", v, textMulti)
	case []any:
		for _, e := range v {
			if err := embedStrings(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := checkText("embeds", k, textMulti); err != nil {
				return err
			}
			if err := embedStrings(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// first returns the first error of checks.
func first(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// storable checks the decoded content of any event type.
func storable(body any) error {
	switch c := body.(type) {
	case *GuildCreate:
		err := first(checkText("name", c.Name, textName), checkTextPtr("icon", c.Icon, textLine),
			checkTextPtr("description", c.Description, textMulti))
		for _, r := range c.Recipients {
			err = first(err, checkText("recipients", r.Origin, textLine))
		}
		return err
	case *GuildUpdate:
		return first(checkTextPtr("name", c.Name, textName), checkTextPtr("icon", c.Icon, textLine),
			checkTextPtr("description", c.Description, textMulti))
	case *MemberJoin:
		return checkText("code", c.InviteCode, textLine)
	case *MemberTarget:
		return checkText("reason", c.Reason, textMulti)
	case *MemberBan:
		return checkText("reason", c.Reason, textMulti)
	case *MemberUpdate:
		return checkTextPtr("nick", c.Nick, textName)
	case *RoleChange:
		return first(checkTextPtr("name", c.Name, textName), checkTextPtr("icon", c.Icon, textLine),
			checkTextPtr("unicode_emoji", c.UnicodeEmoji, textEmoji), checkStoredIntPtr("position", c.Position))
	case *RoleReorder:
		for _, p := range c.Positions {
			if err := checkStoredInt("position", p.Position); err != nil {
				return err
			}
		}
	case *ChannelCreate:
		return channelStorable(&c.ChannelFields)
	case *ChannelUpdate:
		return channelStorable(&c.ChannelFields)
	case *InviteCreate:
		return checkText("code", c.Code, textLine)
	case *InviteRevoke:
		return checkText("code", c.Code, textLine)
	case *EmojiCreate:
		return first(checkText("name", c.Name, textName), checkText("image", c.Image, textLine))
	case *MessageCreate:
		err := first(checkText("content", c.Content, textMulti), checkText("nonce", c.Nonce, textLine),
			checkEmbeds(c.Embeds), checkStoredInt("flags", c.Flags))
		for _, a := range c.Attachments {
			err = first(err, checkText("attachments", a.Filename, textName),
				checkText("attachments", a.ContentType, textLine), checkText("attachments", a.Blob, textLine),
				checkStoredInt("attachments", a.Width), checkStoredInt("attachments", a.Height))
			if a.Size < 0 {
				err = first(err, invalid(ReasonBadContent, "attachments", "a file's size is not negative"))
			}
		}
		return err
	case *MessageEdit:
		err := first(checkTextPtr("content", c.Content, textMulti), checkStoredIntPtr("flags", c.Flags))
		if c.Embeds != nil {
			err = first(err, checkEmbeds(*c.Embeds))
		}
		return err
	case *Reaction:
		return checkText("emoji", c.Emoji.Name, textEmoji)
	case *ReactionRemoveAll:
		if c.Emoji != nil {
			return checkText("emoji", c.Emoji.Name, textEmoji)
		}
	}
	return nil
}

func channelStorable(f *ChannelFields) error {
	return first(checkTextPtr("name", f.Name, textName), checkTextPtr("topic", f.Topic, textMulti),
		checkStoredIntPtr("position", f.Position))
}
