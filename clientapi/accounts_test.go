package clientapi

import (
	"strings"
	"testing"

	"concord/clientapi/auth"
	"concord/clientapi/objects"
	"concord/storage"
	"concord/storage/storagetest"
)

func TestAccountFlow(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		var p auth.Pair
		st, b := h.do("POST", "/auth/register", "", map[string]any{"username": "Alice", "password": "correct horse battery", "email": "alice@example.org"})
		h.want(st, 201, b, &p)
		if p.Token == "" || p.RefreshToken == "" || p.ExpiresIn != 3600 || p.UserID == 0 {
			t.Fatalf("register pair %+v", p)
		}
		for _, tok := range []string{p.Token, "Bearer " + p.Token} {
			var me objects.Me
			st, b = h.do("GET", "/users/@me", tok, nil)
			h.want(st, 200, b, &me)
			if me.Username != "alice" || me.ID != p.UserID || me.Discriminator != "0" || *me.Email != "alice@example.org" {
				t.Fatalf("me = %s", b)
			}
		}
		for _, login := range []string{"alice", "ALICE", "Alice@Example.org"} {
			st, b = h.do("POST", "/auth/login", "", map[string]any{"login": login, "password": "correct horse battery"})
			h.want(st, 200, b, nil)
		}

		var p2 auth.Pair
		st, b = h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p.RefreshToken})
		h.want(st, 200, b, &p2)
		if p2.RefreshToken == p.RefreshToken {
			t.Fatal("refresh token not rotated")
		}
		st, b = h.do("GET", "/users/@me", p2.Token, nil)
		h.want(st, 200, b, nil)

		// Logout revokes the session and its access tokens at once.
		st, b = h.do("POST", "/auth/logout", p2.Token, nil)
		h.want(st, 204, b, nil)
		for _, tok := range []string{p.Token, p2.Token} {
			st, b = h.do("GET", "/users/@me", tok, nil)
			wantUnauthorized(t, st, b)
		}
		st, b = h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p2.RefreshToken})
		wantUnauthorized(t, st, b)
	})
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("bob")
		var p2, p3 auth.Pair
		st, b := h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p.RefreshToken})
		h.want(st, 200, b, &p2)
		st, b = h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p2.RefreshToken})
		h.want(st, 200, b, &p3)
		// A thief replays the first token: the whole session dies.
		st, b = h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p.RefreshToken})
		wantUnauthorized(t, st, b)
		st, b = h.do("GET", "/users/@me", p3.Token, nil)
		wantUnauthorized(t, st, b)
		st, b = h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p3.RefreshToken})
		wantUnauthorized(t, st, b)
	})
}

func TestRegisterRefusals(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		h.register("taken")
		tests := []struct {
			name, body, field string
		}{
			{"short username", `{"username":"a","password":"correct horse battery"}`, "username"},
			{"bad characters", `{"username":"al ice","password":"correct horse battery"}`, "username"},
			{"double dot", `{"username":"al..ice","password":"correct horse battery"}`, "username"},
			{"taken", `{"username":"TAKEN","password":"correct horse battery"}`, "username"},
			{"short password", `{"username":"carol","password":"short"}`, "password"},
			{"long password", `{"username":"carol","password":"` + strings.Repeat("ab", 65) + `"}`, "password"},
			{"password has username", `{"username":"carol","password":"my-carol-pass"}`, "password"},
			{"one character", `{"username":"carol","password":"aaaaaaaaaa"}`, "password"},
			{"invalid UTF-8", "{\"username\":\"carol\",\"password\":\"correct \xff horse\"}", "_body"},
			{"lone surrogate", `{"username":"carol","password":"correct \ud800 horse"}`, "password"},
			{"bad email", `{"username":"carol","password":"correct horse battery","email":"nope"}`, "email"},
			{"wrong type", `{"username":5,"password":"correct horse battery"}`, "username"},
			{"malformed", `{"username":`, "_body"},
			{"empty", ``, "_body"},
			{"oversized", `{"username":"carol","password":"correct horse battery","x":"` + strings.Repeat("x", 70<<10) + `"}`, "_body"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, b := h.do("POST", "/auth/register", "", tt.body)
				wantFormError(t, st, b, tt.field)
			})
		}
	})
}

func TestLoginRefusalsLookAlike(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		h.register("dave")
		_, unknown := h.do("POST", "/auth/login", "", map[string]any{"login": "nobody", "password": "correct horse battery"})
		st, wrong := h.do("POST", "/auth/login", "", map[string]any{"login": "dave", "password": "wrong password!"})
		wantFormError(t, st, wrong, "login")
		if string(unknown) != string(wrong) {
			t.Fatalf("unknown user %s, wrong password %s: must not differ", unknown, wrong)
		}
		st, b := h.do("POST", "/auth/login", "", map[string]any{"login": "dave"})
		wantFormError(t, st, b, "password")
	})
}
