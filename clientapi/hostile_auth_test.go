package clientapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"concord/clientapi/auth"
	"concord/clientapi/password"
	"concord/storage"
	"concord/storage/storagetest"
)

// from sends a JSON request under /api/v10 with extra headers, as a
// client behind a proxy would arrive.
func (h *harness) from(method, path string, hdr map[string]string, body any) (int, []byte) {
	h.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, h.srv.URL+"/api/v10"+path, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

var badLogin = map[string]any{"login": "nobody", "password": "wrong password!"}

// Four bad logins (and a fifth) through a trusted proxy lock out only the
// client that made them: another client behind the same proxy still logs
// in and registers, and refresh is counted per session, not per address.
func TestAuthLimitsBehindProxy(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) {
			c.AuthPerMinute = 5
			c.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"}
		})
		// Registered first, from its own address.
		victim := map[string]string{"X-Forwarded-For": "198.51.100.7"}
		var p auth.Pair
		st, b := h.from("POST", "/auth/register", victim, map[string]any{"username": "erin", "password": "correct horse battery"})
		h.want(st, 201, b, &p)

		// The attacker's own forged entry is ignored: the proxy's appended
		// hop (the rightmost untrusted address) names the client, through
		// a second trusted proxy too.
		attacker := map[string]string{"X-Forwarded-For": "198.51.100.7, 203.0.113.66, 10.1.2.3"}
		for i := range 5 {
			st, b := h.from("POST", "/auth/login", attacker, badLogin)
			if st != 400 {
				t.Fatalf("bad login %d: %d %s", i, st, b)
			}
		}
		st, _ = h.from("POST", "/auth/login", attacker, badLogin)
		if st != 429 {
			t.Fatalf("sixth bad login: %d, want 429", st)
		}
		// Forwarded (RFC 7239) names the same client.
		st, _ = h.from("POST", "/auth/register", map[string]string{"Forwarded": `for=192.0.2.1, for="203.0.113.66:4711"`},
			map[string]any{"username": "mallory", "password": "correct horse battery"})
		if st != 429 {
			t.Fatalf("attacker via Forwarded: %d, want 429", st)
		}

		st, b = h.from("POST", "/auth/login", victim, map[string]any{"login": "erin", "password": "correct horse battery"})
		h.want(st, 200, b, nil)
		st, b = h.from("POST", "/auth/register", map[string]string{"X-Forwarded-For": "192.0.2.50"},
			map[string]any{"username": "frank", "password": "correct horse battery"})
		h.want(st, 201, b, nil)
		// Refreshes from the attacker's address are not its login bucket.
		for range 5 {
			st, b = h.from("POST", "/auth/refresh", attacker, map[string]any{"refresh_token": p.RefreshToken})
			h.want(st, 200, b, &p)
		}
		// But one session cannot refresh without end, from anywhere.
		st, _ = h.from("POST", "/auth/refresh", map[string]string{"X-Forwarded-For": "192.0.2.99"}, map[string]any{"refresh_token": p.RefreshToken})
		if st != 429 {
			t.Fatalf("sixth refresh of one session in a minute: %d, want 429", st)
		}
	})
}

// Without trusted proxies a forwarding header is the client's own claim
// and changes nothing; IPv6 clients are counted per /56.
func TestAuthLimitsIgnoreUntrustedHeaders(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.AuthPerMinute = 2 })
		for i := range 3 {
			st, _ := h.from("POST", "/auth/login", map[string]string{"X-Forwarded-For": "192.0.2." + string(rune('1'+i))}, badLogin)
			if want := 400; i == 2 && st != 429 || i < 2 && st != want {
				t.Fatalf("attempt %d with a forged header: %d", i, st)
			}
		}

		h6 := newHarness(t, db, func(c *testConfig) {
			c.AuthPerMinute = 2
			c.TrustedProxies = []string{"127.0.0.1"}
		})
		for i, ip := range []string{"2001:db8:0:1::1", "2001:db8:0:ff:1::2", "2001:db8:0:42::3"} {
			st, _ := h6.from("POST", "/auth/login", map[string]string{"X-Forwarded-For": ip}, badLogin)
			if want := 400; i == 2 && st != 429 || i < 2 && st != want {
				t.Fatalf("attempt %d from %s, the same /56: %d", i, ip, st)
			}
		}
		st, _ := h6.from("POST", "/auth/login", map[string]string{"X-Forwarded-For": "2001:db8:0:100::1"}, badLogin)
		if st != 400 {
			t.Fatalf("another /56: %d", st)
		}
	})
}

// Guesses at one account from many addresses back off per account; a
// correct password after the wait gets in and clears the count.
func TestLoginBackoffPerAccount(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) {
			c.AuthPerMinute = 5
			c.TrustedProxies = []string{"127.0.0.1"}
		})
		h.register("grace")
		wrong := map[string]any{"login": "Grace", "password": "wrong password!"}
		right := map[string]any{"login": "grace", "password": "correct horse battery"}
		for i := range 5 {
			st, b := h.from("POST", "/auth/login", map[string]string{"X-Forwarded-For": "192.0.2." + string(rune('1'+i))}, wrong)
			wantFormError(t, st, b, "login")
		}
		resp := h.raw("POST", "/api/v10/auth/login", "", right)
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("after five failures: %d Retry-After %q, want 429 after 1 s", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		h.clock.Add(time.Second)
		st, b := h.from("POST", "/auth/login", map[string]string{"X-Forwarded-For": "192.0.2.77"}, wrong)
		wantFormError(t, st, b, "login")
		resp = h.raw("POST", "/api/v10/auth/login", "", right)
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("after six failures: %d Retry-After %q, want 429 after 2 s", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		h.clock.Add(2 * time.Second)
		st, b = h.from("POST", "/auth/login", map[string]string{"X-Forwarded-For": "192.0.2.78"}, right)
		h.want(st, 200, b, nil)
		st, b = h.from("POST", "/auth/login", map[string]string{"X-Forwarded-For": "192.0.2.79"}, wrong)
		wantFormError(t, st, b, "login")
	})
}

// A flood of logins at the real Argon2id cost does not queue behind the
// hasher: what it cannot start soon is answered 503 with Retry-After at
// once.
func TestLoginFloodFailsFast(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.Argon2 = password.Default })
		h.register("heidi")
		const n = 50
		type result struct {
			status     int
			retryAfter string
			took       time.Duration
		}
		results := make(chan result, n)
		body, _ := json.Marshal(map[string]any{"login": "heidi", "password": "correct horse battery"})
		var start sync.WaitGroup
		start.Add(1)
		for range n {
			go func() {
				start.Wait()
				t0 := time.Now()
				resp, err := h.srv.Client().Post(h.srv.URL+"/api/v10/auth/login", "application/json", bytes.NewReader(body))
				if err != nil {
					results <- result{status: -1}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				results <- result{resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(t0)}
			}()
		}
		start.Done()
		var ok, busy int
		for range n {
			r := <-results
			switch r.status {
			case 200:
				ok++
			case 503:
				busy++
				if r.retryAfter != "1" || r.took > time.Second {
					t.Errorf("503 after %v with Retry-After %q: want it at once, with a retry hint", r.took, r.retryAfter)
				}
			default:
				t.Errorf("login answered %d", r.status)
			}
		}
		if slots := runtime.GOMAXPROCS(0); ok < 1 || ok > n-10 || busy < 10 {
			t.Fatalf("%d logins succeeded and %d were told 503 (%d hash slots): want the flood cut short", ok, busy, slots)
		}
	})
}

// A person changes their password with the current one, which ends their
// other sessions; DELETE /auth/sessions logs out everywhere but here.
func TestPasswordChangeAndLogoutEverywhere(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("opal")
		login := func(pw string) (int, auth.Pair) {
			var q auth.Pair
			st, b := h.do("POST", "/auth/login", "", map[string]any{"login": "opal", "password": pw})
			if st == 200 {
				json.Unmarshal(b, &q)
			}
			return st, q
		}
		_, other := login("correct horse battery")
		st, b := h.do("PATCH", "/users/@me", p.Token, map[string]any{"new_password": "a brand new secret"})
		wantFormError(t, st, b, "password")
		st, b = h.do("PATCH", "/users/@me", p.Token, map[string]any{"password": "correct horse battery", "new_password": "short"})
		wantFormError(t, st, b, "new_password")
		st, b = h.do("PATCH", "/users/@me", p.Token, map[string]any{"password": "correct horse battery", "new_password": "a brand new secret"})
		h.want(st, 200, b, nil)
		st, b = h.do("GET", "/users/@me", other.Token, nil)
		wantUnauthorized(t, st, b)
		st, b = h.do("GET", "/users/@me", p.Token, nil)
		h.want(st, 200, b, nil)
		if st, _ := login("correct horse battery"); st != 400 {
			t.Fatalf("old password: %d", st)
		}
		_, a := login("a brand new secret")
		_, c := login("a brand new secret")
		st, b = h.do("DELETE", "/auth/sessions", a.Token, nil)
		h.want(st, 204, b, nil)
		for _, gone := range []auth.Pair{p, c} {
			st, b = h.do("GET", "/users/@me", gone.Token, nil)
			wantUnauthorized(t, st, b)
		}
		st, b = h.do("GET", "/users/@me", a.Token, nil)
		h.want(st, 200, b, nil)
	})
}
