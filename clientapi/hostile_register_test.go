package clientapi

import (
	"context"
	"testing"
	"time"

	"concord/clientapi/accounts"
	"concord/storage"
	"concord/storage/storagetest"
)

// Registration by invite takes a usable guild invite or an operator's
// token (once per use); a closed node takes none; an address makes at most
// RegistrationsPerDay accounts a day.
func TestRegistrationModes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		reg := func(h *harness, name string, extra map[string]any) (int, []byte) {
			body := map[string]any{"username": name, "password": "correct horse battery"}
			for k, v := range extra {
				body[k] = v
			}
			return h.do("POST", "/auth/register", "", body)
		}
		open := newHarness(t, db, func(c *testConfig) { c.RegistrationsPerDay = 2 })
		owner := open.register("xena")
		_, ch := open.ownGuild(owner, "club")
		var inv struct{ Code string }
		st, b := open.do("POST", "/channels/"+ch+"/invites", owner.Token, map[string]any{})
		open.want(st, 200, b, &inv)
		st, b = reg(open, "yuri", nil)
		open.want(st, 201, b, nil)
		st, b = reg(open, "zack", nil)
		wantFormError(t, st, b, "username") // third account from one address today
		open.clock.Add(24 * time.Hour)
		st, b = reg(open, "zack", nil)
		open.want(st, 201, b, nil)

		invite := newHarness(t, db, func(c *testConfig) { c.Registration = accounts.RegistrationInvite })
		st, b = reg(invite, "amos", nil)
		wantFormError(t, st, b, "invite")
		st, b = reg(invite, "amos", map[string]any{"invite": "nope"})
		wantFormError(t, st, b, "invite")
		st, b = reg(invite, "amos", map[string]any{"invite": inv.Code})
		invite.want(st, 201, b, nil)
		tok, err := accounts.NewRegistrationToken(context.Background(), db, 1, time.Hour, invite.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		st, b = reg(invite, "bea", map[string]any{"registration_token": tok})
		invite.want(st, 201, b, nil)
		st, b = reg(invite, "cyd", map[string]any{"registration_token": tok})
		wantFormError(t, st, b, "registration_token")

		closed := newHarness(t, db, func(c *testConfig) { c.Registration = accounts.RegistrationClosed })
		st, b = reg(closed, "dora", map[string]any{"invite": inv.Code})
		wantError(t, st, b, 403, 0)
	})
}
