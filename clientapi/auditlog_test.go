package clientapi

import (
	"testing"

	"concord/storage"
	"concord/storage/storagetest"
)

func TestAuditLogPagesAndChanges(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		owner := h.register("auditor")
		var g struct {
			ID string `json:"id"`
		}
		st, b := h.do("POST", "/guilds", owner.Token, map[string]any{"name": "audited"})
		h.want(st, 201, b, &g)
		for _, name := range []string{"one", "two", "three"} {
			st, b = h.do("POST", "/guilds/"+g.ID+"/channels", owner.Token, map[string]any{"name": name})
			h.want(st, 201, b, nil)
		}
		type page struct {
			Entries []struct {
				ID      string `json:"id"`
				Changes []struct {
					Key      string `json:"key"`
					NewValue any    `json:"new_value"`
				} `json:"changes"`
			} `json:"audit_log_entries"`
		}
		names := func(p page) []string {
			var out []string
			for _, e := range p.Entries {
				for _, c := range e.Changes {
					if c.Key == "name" {
						out = append(out, c.NewValue.(string))
					}
				}
			}
			return out
		}
		var first, second, back page
		st, b = h.do("GET", "/guilds/"+g.ID+"/audit-logs?action_type=10&limit=2", owner.Token, nil)
		h.want(st, 200, b, &first)
		if got := names(first); len(got) != 2 || got[0] != "three" || got[1] != "two" {
			t.Fatalf("first page = %v", got)
		}
		st, b = h.do("GET", "/guilds/"+g.ID+"/audit-logs?action_type=10&limit=2&before="+first.Entries[1].ID, owner.Token, nil)
		h.want(st, 200, b, &second)
		if got := names(second); len(got) != 2 || got[0] != "one" || got[1] != "general" {
			t.Fatalf("second page = %v", got)
		}
		st, b = h.do("GET", "/guilds/"+g.ID+"/audit-logs?action_type=10&limit=2&after="+second.Entries[0].ID, owner.Token, nil)
		h.want(st, 200, b, &back)
		if got := names(back); len(got) != 2 || got[0] != "three" || got[1] != "two" {
			t.Fatalf("after page = %v", got)
		}
	})
}
