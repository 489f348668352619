package event

import "concord/federation/canonical"

// KeptContent lists, per event type, the content keys that survive
// redaction; types not listed keep none. The event ID and signature cover
// the redacted form, so this table is protocol (spec/events-types.md): a
// type's list may never change once events of that type exist, or their IDs
// change with it. Keys must be plain names (no '"', '\\' or control
// characters), since they are compared with keys as written on the wire.
var KeptContent = map[string][]string{
	TypeGuildCreate:  {"id", "kind"},
	"message.create": {"id", "channel_id"},
	"message.edit":   {"id", "channel_id"},
}

// Redact returns a copy of e whose content holds only the keys its type
// keeps. It has the same ID and signature as e. Unsigned is dropped, since
// local data may quote the erased content.
func Redact(e *Event) *Event {
	r := *e
	r.Content = redactContent(nil, e.Type, e.Content)
	r.Unsigned = nil
	return &r
}

// redactContent appends the redacted form of the canonical object content.
// Keeping a subset of members of a canonical object, in their order, is
// itself canonical.
func redactContent(dst []byte, typ string, content []byte) []byte {
	keep := KeptContent[typ]
	dst = append(dst, '{')
	if len(keep) > 0 {
		first := true
		// content was checked canonical by Parse or produced by Sign, so
		// walking it cannot fail.
		_ = canonical.EachMember(content, func(k, v []byte) error {
			for _, name := range keep {
				if string(k) == name {
					if !first {
						dst = append(dst, ',')
					}
					first = false
					dst = append(dst, '"')
					dst = append(dst, k...)
					dst = append(dst, `":`...)
					dst = append(dst, v...)
					break
				}
			}
			return nil
		})
	}
	return append(dst, '}')
}
