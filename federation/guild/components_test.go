package guild

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCheckComponents(t *testing.T) {
	for _, c := range []struct {
		name, rows, field string // field "" means accepted
	}{
		{"string select", `[{"type":1,"components":[{"type":3,"custom_id":"s","min_values":0,"max_values":2,"options":[{"label":"a","value":"a"},{"label":"b","value":"b"}]}]}]`, ""},
		{"user select with a default", `[{"type":1,"components":[{"type":5,"custom_id":"u","default_values":[{"id":"7","type":"user"}]}]}]`, ""},
		{"channel select with types", `[{"type":1,"components":[{"type":8,"custom_id":"c","channel_types":[0,2]}]}]`, ""},
		{"emoji-only button", `[{"type":1,"components":[{"type":2,"style":1,"custom_id":"e","emoji":{"name":"👍"}}]}]`, ""},
		{"not a row", `[{"type":2,"style":1,"label":"x","custom_id":"x"}]`, "components.0.type"},
		{"empty row", `[{"type":1,"components":[]}]`, "components.0.components"},
		{"six buttons", `[{"type":1,"components":[` + buttons(6) + `]}]`, "components.0.components"},
		{"text input in a message", `[{"type":1,"components":[{"type":4,"custom_id":"t"}]}]`, "components.0.components.0.type"},
		{"min above max", `[{"type":1,"components":[{"type":3,"custom_id":"s","min_values":3,"max_values":2,"options":[{"label":"a","value":"a"},{"label":"b","value":"b"},{"label":"c","value":"c"}]}]}]`, "components.0.components.0.max_values"},
		{"more picks than options", `[{"type":1,"components":[{"type":3,"custom_id":"s","max_values":3,"options":[{"label":"a","value":"a"}]}]}]`, "components.0.components.0.options"},
		{"repeated option value", `[{"type":1,"components":[{"type":3,"custom_id":"s","options":[{"label":"a","value":"a"},{"label":"b","value":"a"}]}]}]`, "components.0.components.0.options.1.value"},
		{"options on a role select", `[{"type":1,"components":[{"type":6,"custom_id":"r","options":[{"label":"a","value":"a"}]}]}]`, "components.0.components.0.options"},
		{"a role default on a user select", `[{"type":1,"components":[{"type":5,"custom_id":"u","default_values":[{"id":"7","type":"role"}]}]}]`, "components.0.components.0.default_values.0"},
		{"link with custom_id", `[{"type":1,"components":[{"type":2,"style":5,"label":"l","url":"https://x.org","custom_id":"l"}]}]`, "components.0.components.0.custom_id"},
		{"101-character custom_id", `[{"type":1,"components":[{"type":2,"style":1,"label":"l","custom_id":"` + strings.Repeat("x", 101) + `"}]}]`, "components.0.components.0.custom_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rows []ActionRow
			if err := json.Unmarshal([]byte(c.rows), &rows); err != nil {
				t.Fatal(err)
			}
			err := checkComponents(rows)
			var field string
			if rej, ok := err.(*Rejection); ok {
				field = rej.Field
			} else if err != nil {
				t.Fatal(err)
			}
			if (err == nil) != (c.field == "") || field != c.field {
				t.Fatalf("got %v (field %q), want field %q", err, field, c.field)
			}
		})
	}
}

// buttons is n buttons with distinct custom_ids, as JSON list items.
func buttons(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"type":2,"style":2,"label":"b","custom_id":"%d"}`, i)
	}
	return strings.Join(items, ",")
}
