package node

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"concord/federation/guild"
)

// TestJoinLongHistory: a user of beta joins, by invite, a guild of alpha
// whose history is longer than a join carries whole. The guild is there at
// once; paging back through the channel from beta's client API reads every
// message, down to the first, as backfill brings them.
func TestJoinLongHistory(t *testing.T) {
	a, b := twoNodes(t, nil)

	aliceID, alice := register(t, a.URL(), "alice")
	var g, ch, inv struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	api(t, a.URL(), "POST", "/guilds", alice, map[string]string{"name": "old guild"}, &g)
	api(t, a.URL(), "POST", "/guilds/"+g.ID+"/channels", alice, map[string]any{"name": "archive", "type": 0}, &ch)
	const total = 1500
	gid, chID, author := mustID(t, g.ID), mustID(t, ch.ID), mustID(t, aliceID)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < total; i += 8 {
				if _, err := a.events.Send(t.Context(), gid, author, guild.TypeMessageCreate,
					guild.MessageCreate{ID: a.events.NewID(), ChannelID: chID, Content: fmt.Sprint("old ", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	api(t, a.URL(), "POST", "/channels/"+ch.ID+"/invites", alice, map[string]any{}, &inv)

	_, bob := register(t, b.URL(), "bob")
	api(t, b.URL(), "POST", "/invites/"+inv.Code, bob, nil, nil)
	type message struct {
		ID      string `json:"id"`
		Content string `json:"content"`
	}
	seen := map[string]bool{}
	before := ""
	for pages := 0; ; pages++ {
		var page []message
		path := "/channels/" + ch.ID + "/messages?limit=100"
		if before != "" {
			path += "&before=" + before
		}
		if code := try(t, b.URL(), "GET", path, bob, nil, &page); code != http.StatusOK {
			t.Fatalf("page %d: status %d", pages, code)
		}
		for _, m := range page {
			seen[m.Content] = true
		}
		if len(page) < 100 {
			break
		}
		before = page[len(page)-1].ID
	}
	for i := range total {
		if !seen[fmt.Sprint("old ", i)] {
			t.Fatalf("paging back on beta read %d messages; old %d is missing", len(seen), i)
		}
	}
	if partial, err := b.events.Partial(t.Context(), gid); err != nil || partial {
		t.Errorf("beta still backfilling after the whole channel was read (%v)", err)
	}
}
