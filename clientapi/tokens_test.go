package clientapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"concord/clientapi/auth"
	"concord/storage"
	"concord/storage/storagetest"
)

func TestTokenRefusals(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("erin")
		parts := strings.Split(p.Token, ".")
		var header struct {
			Kid string `json:"kid"`
		}
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		json.Unmarshal(hb, &header)
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		json.Unmarshal(payload, &claims)

		// The attacker knows our public key (it is in the JWKS).
		jwks := h.auth.Keys().JWKS()
		pubDER, _ := x509.MarshalPKIXPublicKey(jwks.Keys[0].Key)
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		wrongKey, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: header.Kid}}, nil)
		wrongKeyTok, _ := jwt.Signed(wrongKey).Claims(claims).Serialize()
		unknownKid, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: "1-deadbeef"}}, nil)
		unknownKidTok, _ := jwt.Signed(unknownKid).Claims(claims).Serialize()

		enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
		forgedClaims := map[string]any{}
		for k, v := range claims {
			forgedClaims[k] = v
		}
		forgedClaims["sub"] = "1"
		none := enc(map[string]string{"alg": "none", "kid": header.Kid}) + "." + parts[1] + "."
		hsHead := enc(map[string]string{"alg": "HS256", "kid": header.Kid, "typ": "JWT"}) + "." + parts[1]
		mac := hmac.New(sha256.New, pubDER)
		mac.Write([]byte(hsHead))
		hs256 := hsHead + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

		tests := []struct{ name, header string }{
			{"missing", ""},
			{"garbage", "not-a-token"},
			{"forged payload", parts[0] + "." + enc(forgedClaims) + "." + parts[2]},
			{"truncated", p.Token[:len(p.Token)-10]},
			{"no signature", parts[0] + "." + parts[1] + "."},
			{"wrong key", wrongKeyTok},
			{"unknown kid", unknownKidTok},
			{"alg none", none},
			{"hs256 with public key", hs256},
			{"bot prefix on user token", "Bot " + p.Token},
			{"bearer garbage", "Bearer x.y.z"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, b := h.do("GET", "/users/@me", tt.header, nil)
				wantUnauthorized(t, st, b)
			})
		}
		// Warm the cache, then expire the token: the cache must not outlive it.
		st, b := h.do("GET", "/users/@me", p.Token, nil)
		h.want(st, 200, b, nil)
		h.clock.Add(time.Hour + time.Second)
		st, b = h.do("GET", "/users/@me", p.Token, nil)
		wantUnauthorized(t, st, b)
	})
}

func TestKeyRotationKeepsSessions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("frank")
		oldKid := kidOf(t, p.Token)
		if err := h.auth.Keys().Rotate(); err != nil {
			t.Fatal(err)
		}
		st, b := h.do("GET", "/users/@me", p.Token, nil)
		h.want(st, 200, b, nil)
		var p2 auth.Pair
		st, b = h.do("POST", "/auth/refresh", "", map[string]any{"refresh_token": p.RefreshToken})
		h.want(st, 200, b, &p2)
		newKid := kidOf(t, p2.Token)
		if newKid == oldKid {
			t.Fatalf("new token still signed with %s", oldKid)
		}
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
				Alg string `json:"alg"`
			} `json:"keys"`
		}
		resp := h.raw("GET", "/.well-known/jwks.json", "", nil)
		json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if len(set.Keys) != 2 || set.Keys[0].Kid != oldKid || set.Keys[1].Kid != newKid || set.Keys[1].Alg != "RS256" {
			t.Fatalf("jwks = %+v", set)
		}
	})
}

func TestAutomaticRotation(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.KeyMaxAge = 24 * time.Hour })
		p := h.register("grace")
		h.clock.Add(25 * time.Hour)
		var p2 auth.Pair
		st, b := h.do("POST", "/auth/login", "", map[string]any{"login": "grace", "password": "correct horse battery"})
		h.want(st, 200, b, &p2)
		if kidOf(t, p2.Token) == kidOf(t, p.Token) {
			t.Fatal("key older than KeyMaxAge still signs")
		}
	})
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Headers[0].KeyID
}

func TestSessions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		p := h.register("heidi")
		other := h.register("ivan")
		var p2 auth.Pair
		st, b := h.do("POST", "/auth/login", "", map[string]any{"login": "heidi", "password": "correct horse battery"})
		h.want(st, 200, b, &p2)
		var list []auth.SessionInfo
		st, b = h.do("GET", "/auth/sessions", p.Token, nil)
		h.want(st, 200, b, &list)
		if len(list) != 2 || !list[1].Current || list[0].Current {
			t.Fatalf("sessions = %s", b)
		}
		// Someone else's session is unknown to me.
		st, b = h.do("DELETE", fmt.Sprintf("/auth/sessions/%d", list[0].ID), other.Token, nil)
		wantError(t, st, b, 404, 10020)
		st, b = h.do("DELETE", fmt.Sprintf("/auth/sessions/%d", list[0].ID), p.Token, nil)
		h.want(st, 204, b, nil)
		st, b = h.do("GET", "/users/@me", p2.Token, nil)
		wantUnauthorized(t, st, b)
		st, b = h.do("GET", "/users/@me", p.Token, nil)
		h.want(st, 200, b, nil)
	})
}

func TestRateLimits(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.AuthPerMinute, c.APIPerMinute = 5, 3 })
		for i := range 5 {
			resp := h.raw("POST", "/api/v9/auth/login", "", map[string]any{"login": "x", "password": "y"})
			resp.Body.Close()
			if resp.StatusCode != 400 || resp.Header.Get("X-RateLimit-Remaining") != fmt.Sprint(4-i) {
				t.Fatalf("attempt %d: %d remaining %q", i, resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
			}
		}
		for range 2 {
			resp := h.raw("POST", "/api/auth/register", "", map[string]any{"username": "x"})
			var body struct {
				Message    string  `json:"message"`
				RetryAfter float64 `json:"retry_after"`
				Global     bool    `json:"global"`
			}
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 429 || body.Message != "You are being rate limited." || body.RetryAfter <= 0 || body.RetryAfter > 60 ||
				resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Bucket") == "" || resp.Header.Get("X-RateLimit-Scope") != "user" ||
				resp.Header.Get("X-RateLimit-Reset-After") == "" || resp.Header.Get("X-RateLimit-Reset") == "" {
				t.Fatalf("locked out: %d %+v %v", resp.StatusCode, body, resp.Header)
			}
			h.clock.Add(30 * time.Second) // still inside the window on the first pass
		}
		// The window has closed: the address may try again.
		resp := h.raw("POST", "/api/auth/register", "", map[string]any{"username": "judy", "password": "correct horse battery"})
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("after the window: %d", resp.StatusCode)
		}

		p := h.register("kim")
		for i := range 4 {
			st, b := h.do("GET", "/users/@me", p.Token, nil)
			if want := 200; i == 3 {
				wantError(t, st, b, 429, 0)
			} else {
				h.want(st, want, b, nil)
			}
		}
	})
}
