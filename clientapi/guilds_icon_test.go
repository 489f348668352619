package clientapi

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"concord/storage"
	"concord/storage/storagetest"
)

func TestGuildIcon(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		owner := h.register("iconowner")
		member := h.register("iconmember")
		uri, data := pngDataURI(t)
		var g struct {
			ID   string  `json:"id"`
			Icon *string `json:"icon"`
		}
		st, b := h.do("POST", "/guilds", owner.Token, map[string]any{"name": "with icon", "icon": uri})
		h.want(st, 201, b, &g)
		if g.Icon == nil || len(*g.Icon) != 32 {
			t.Fatalf("created icon = %v", g.Icon)
		}
		resp := h.raw("GET", fmt.Sprintf("/icons/%s/%s.png", g.ID, *g.Icon), "", nil)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, data) {
			t.Fatalf("icon: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
		}

		// Someone without MANAGE_GUILD may not change it, and stores nothing.
		st, b = h.do("PATCH", "/guilds/"+g.ID, member.Token, map[string]any{"icon": "data:image/png;base64,AAAA"})
		if st != 404 && st != 403 {
			t.Fatalf("outsider's PATCH: %d %s", st, b)
		}
		st, b = h.do("PATCH", "/guilds/"+g.ID, owner.Token, map[string]any{"icon": "data:text/plain;base64,aGVsbG8="})
		if st != 400 {
			t.Fatalf("not an image: %d %s", st, b)
		}

		st, b = h.do("PATCH", "/guilds/"+g.ID, owner.Token, map[string]any{"icon": nil})
		h.want(st, 200, b, &g)
		if g.Icon != nil {
			t.Fatalf("cleared icon = %v", *g.Icon)
		}
		resp = h.raw("GET", fmt.Sprintf("/icons/%s/%x.png", g.ID, data[:16]), "", nil)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("icon after clearing: %d", resp.StatusCode)
		}

		// A role's icon, set on creation, served, then cleared.
		var role struct {
			ID   string  `json:"id"`
			Icon *string `json:"icon"`
		}
		st, b = h.do("POST", "/guilds/"+g.ID+"/roles", owner.Token, map[string]any{"name": "iconic", "icon": uri})
		h.want(st, 200, b, &role)
		if role.Icon == nil || len(*role.Icon) != 32 {
			t.Fatalf("role icon = %v", role.Icon)
		}
		path := fmt.Sprintf("/role-icons/%s/%s.png", role.ID, *role.Icon)
		resp = h.raw("GET", path, "", nil)
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Fatalf("role icon: %d, %d bytes", resp.StatusCode, len(got))
		}
		st, b = h.do("PATCH", "/guilds/"+g.ID+"/roles/"+role.ID, owner.Token, map[string]any{"icon": nil})
		h.want(st, 200, b, &role)
		resp = h.raw("GET", path, "", nil)
		resp.Body.Close()
		if role.Icon != nil || resp.StatusCode != 404 {
			t.Fatalf("role icon after clearing: %v, %d", role.Icon, resp.StatusCode)
		}
	})
}
