package event

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/canonical"
)

// testKey derives a node key from a one-byte seed, so tests are repeatable.
func testKey(t testing.TB, seed byte) crypto.PrivKey {
	t.Helper()
	priv, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func fakeID(c byte) string { return "$" + strings.Repeat(string(c), 42) + "A" }

func testMessage() *Event {
	return &Event{
		GuildID:    175928847299117062,
		Type:       "message.create",
		Sender:     175928847299117063,
		OriginTS:   1700000000000,
		PrevEvents: []string{fakeID('B'), fakeID('A')},
		AuthEvents: []string{fakeID('C')},
		Depth:      7,
		Content:    json.RawMessage(`{"id":"175928847299117070","content":"hi <there> \u2028","channel_id":"175928847299117064","tts":false}`),
	}
}

func signed(t testing.TB, e *Event) *Event {
	t.Helper()
	if err := Sign(e, testKey(t, 1)); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSignParseVerify(t *testing.T) {
	e := signed(t, testMessage())
	if want := []string{fakeID('A'), fakeID('B')}; fmt.Sprint(e.PrevEvents) != fmt.Sprint(want) {
		t.Errorf("PrevEvents = %v, want sorted %v", e.PrevEvents, want)
	}
	if want := `{"channel_id":"175928847299117064","content":"hi <there> ` + "\u2028" + `","id":"175928847299117070","tts":false}`; string(e.Content) != want {
		t.Errorf("Content = %s, want canonical %s", e.Content, want)
	}
	wire := Marshal(e)
	if err := canonical.Check(wire); err != nil {
		t.Fatalf("Marshal is not canonical: %v\n%s", err, wire)
	}
	got, err := Parse(wire)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, wire)
	}
	if got.ID() != e.ID() || !validEventID(got.ID()) {
		t.Errorf("ID = %q, want %q", got.ID(), e.ID())
	}
	if err := Verify(got); err != nil {
		t.Errorf("Verify = %v", err)
	}
	if !got.ContentIntact() {
		t.Error("ContentIntact = false")
	}
	if !bytes.Equal(Marshal(got), wire) {
		t.Errorf("Marshal(Parse(b)) != b:\n%s\n%s", Marshal(got), wire)
	}
	if want := peer.ID(got.Origin); want != e.Origin {
		t.Errorf("Origin = %s, want %s", got.Origin, e.Origin)
	}
}

func TestUnsignedNotCovered(t *testing.T) {
	e := testMessage()
	e.Unsigned = json.RawMessage(`{"age": 5}`)
	signed(t, e)
	other := *e
	other.Unsigned = json.RawMessage(`{"age":6,"extra":true}`)
	got, err := Parse(Marshal(&other))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(got); err != nil || got.ID() != e.ID() {
		t.Errorf("Verify = %v, ID %s; want nil, %s", err, got.ID(), e.ID())
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name        string
		typ         string
		content     string
		wantContent string
		wantVerify  error
	}{
		{"message keeps id and channel_id", "message.create", `{"id":"1","channel_id":"2","content":"secret","embeds":[{"a":1}]}`, `{"channel_id":"2","id":"1"}`, ErrRedacted},
		{"unknown type keeps nothing", "custom.thing", `{"a":1}`, `{}`, ErrRedacted},
		{"nothing to remove", "message.create", `{"id":"1","channel_id":"2"}`, `{"channel_id":"2","id":"1"}`, nil},
		{"empty content", "custom.thing", `{}`, `{}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testMessage()
			e.Type, e.Content, e.Unsigned = tc.typ, json.RawMessage(tc.content), json.RawMessage(`{"local":1}`)
			signed(t, e)
			r := Redact(e)
			if string(r.Content) != tc.wantContent || r.Unsigned != nil {
				t.Errorf("redacted content = %s, unsigned %s; want %s, none", r.Content, r.Unsigned, tc.wantContent)
			}
			if string(e.Content) == tc.wantContent && tc.wantVerify != nil {
				t.Fatal("Redact changed the original")
			}
			got, err := Parse(Marshal(r))
			if err != nil {
				t.Fatal(err)
			}
			if got.ID() != e.ID() || got.Signature != e.Signature {
				t.Errorf("redacted ID %s, want %s; signature changed: %v", got.ID(), e.ID(), got.Signature != e.Signature)
			}
			if err := Verify(got); err != tc.wantVerify {
				t.Errorf("Verify(redacted) = %v, want %v", err, tc.wantVerify)
			}
			if got.ContentIntact() != (tc.wantVerify == nil) {
				t.Errorf("ContentIntact = %v", got.ContentIntact())
			}
			if again := Redact(got); !bytes.Equal(Marshal(again), Marshal(got)) {
				t.Error("redacting twice changed the event")
			}
		})
	}
}

func TestKeptContentNamesArePlain(t *testing.T) {
	for typ, keys := range KeptContent {
		if !validType(typ) {
			t.Errorf("KeptContent type %q is not a valid type", typ)
		}
		for _, k := range keys {
			if q := string(canonical.AppendString(nil, k)); q != `"`+k+`"` {
				t.Errorf("KeptContent[%q] key %q needs escaping", typ, k)
			}
		}
	}
}

// TestTamper changes each field on the wire and expects Verify to notice. On
// an intact event the content hash (which covers the envelope too) catches
// every change; on a redacted one only the signature is left to, so it must
// cover every envelope field.
func TestTamper(t *testing.T) {
	// A type with the same kept keys, so that a redacted event with its type
	// changed still looks redacted and the signature must catch it.
	KeptContent["message.test"] = KeptContent["message.create"]
	t.Cleanup(func() { delete(KeptContent, "message.test") })
	e := signed(t, testMessage())
	other, err := peer.IDFromPrivateKey(testKey(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		change      func(e *Event)
		intact      error // Verify's error when e was intact
		redacted    error // and when e was redacted
		idUnchanged bool
	}{
		{"guild_id", func(e *Event) { e.GuildID++ }, ErrBadHash, ErrBadSignature, false},
		{"type", func(e *Event) { e.Type = "message.test" }, ErrBadHash, ErrBadSignature, false},
		{"sender", func(e *Event) { e.Sender++ }, ErrBadHash, ErrBadSignature, false},
		{"origin", func(e *Event) { e.Origin = other }, ErrBadHash, ErrBadSignature, false},
		{"origin_ts", func(e *Event) { e.OriginTS++ }, ErrBadHash, ErrBadSignature, false},
		{"prev_events", func(e *Event) { e.PrevEvents = e.PrevEvents[:1] }, ErrBadHash, ErrBadSignature, false},
		{"auth_events", func(e *Event) { e.AuthEvents = nil }, ErrBadHash, ErrBadSignature, false},
		{"depth", func(e *Event) { e.Depth++ }, ErrBadHash, ErrBadSignature, false},
		{"hashes", func(e *Event) { e.ContentHash[0] ^= 1 }, ErrBadHash, ErrBadSignature, false},
		{"signatures", func(e *Event) { e.Signature[10] ^= 1 }, ErrBadSignature, ErrBadSignature, true},
		{"content, kept key", func(e *Event) {
			e.Content = json.RawMessage(strings.Replace(string(e.Content), "117064", "117065", 1))
		}, ErrBadHash, ErrBadSignature, false},
		// Erased content is outside the ID, so only the hash protects it.
		{"content, erased key", func(e *Event) {
			e.Content = json.RawMessage(strings.Replace(string(e.Content), "hi", "ho", 1))
		}, ErrBadHash, nil, true},
		{"content, forged redaction", func(e *Event) { e.Content = json.RawMessage(`{"channel_id":"1","id":"2"}`) }, ErrBadSignature, ErrBadSignature, false},
	} {
		for _, redacted := range []bool{false, true} {
			want := tc.intact
			base := e
			if redacted {
				want, base = tc.redacted, Redact(e)
			}
			if want == nil {
				continue
			}
			t.Run(fmt.Sprintf("%s/redacted=%v", tc.name, redacted), func(t *testing.T) {
				c := *base
				c.PrevEvents = append([]string(nil), e.PrevEvents...)
				tc.change(&c)
				got, err := Parse(Marshal(&c))
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if (got.ID() == e.ID()) != tc.idUnchanged {
					t.Errorf("ID changed = %v, want %v", got.ID() != e.ID(), !tc.idUnchanged)
				}
				if err := Verify(got); !errors.Is(err, want) {
					t.Errorf("Verify = %v, want %v", err, want)
				}
			})
		}
	}
}

// mutate parses a valid wire form into a generic map, applies change and
// re-canonicalises, so each rejection case differs in one field only.
func mutate(t *testing.T, wire []byte, change func(m map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(wire))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := canonical.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRejects(t *testing.T) {
	e := signed(t, testMessage())
	wire := Marshal(e)
	origin := e.Origin.String()
	secp, _, err := crypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	secpID, _ := peer.IDFromPrivateKey(secp)
	ids := func(n int) []any {
		var l []any
		for i := range n {
			l = append(l, fmt.Sprintf("$%042dA", i))
		}
		return l
	}
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }

	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		raw    []byte // instead of change
		want   error
	}{
		{name: "too large", change: set("unsigned", map[string]any{"pad": strings.Repeat("x", MaxSize)}), want: ErrTooLarge},
		{name: "not canonical", raw: bytes.Replace(wire, []byte(`,"depth"`), []byte(`, "depth"`), 1), want: ErrMalformed},
		{name: "not JSON", raw: []byte(`{"auth_events":`), want: ErrMalformed},
		{name: "not an object", raw: []byte(`[1]`), want: ErrMalformed},
		{name: "fraction", raw: bytes.Replace(wire, []byte(`"origin_ts":1700000000000`), []byte(`"origin_ts":1700000000000.5`), 1), want: ErrMalformed},
		{name: "unknown field", change: set("extra", 1), want: ErrMalformed},
		{name: "missing guild_id", change: del("guild_id"), want: ErrMalformed},
		{name: "missing type", change: del("type"), want: ErrMalformed},
		{name: "missing sender", change: del("sender"), want: ErrMalformed},
		{name: "missing origin", change: del("origin"), want: ErrMalformed},
		{name: "missing origin_ts", change: del("origin_ts"), want: ErrMalformed},
		{name: "missing prev_events", change: del("prev_events"), want: ErrMalformed},
		{name: "missing auth_events", change: del("auth_events"), want: ErrMalformed},
		{name: "missing depth", change: del("depth"), want: ErrMalformed},
		{name: "missing content", change: del("content"), want: ErrMalformed},
		{name: "missing hashes", change: del("hashes"), want: ErrMalformed},
		{name: "missing signatures", change: del("signatures"), want: ErrMalformed},
		{name: "guild_id number", change: set("guild_id", 5), want: ErrMalformed},
		{name: "guild_id zero", change: set("guild_id", "0"), want: ErrMalformed},
		{name: "guild_id leading zero", change: set("guild_id", "05"), want: ErrMalformed},
		{name: "guild_id beyond a signed 64-bit integer", change: set("guild_id", "9223372036854775808"), want: ErrMalformed},
		{name: "guild_id beyond 64 bits", change: set("guild_id", "18446744073709551616"), want: ErrMalformed},
		{name: "sender not digits", change: set("sender", "12a"), want: ErrMalformed},
		{name: "type empty", change: set("type", ""), want: ErrMalformed},
		{name: "type uppercase", change: set("type", "Message.create"), want: ErrMalformed},
		{name: "type with quote", change: set("type", `message"create`), want: ErrMalformed},
		{name: "type too long", change: set("type", strings.Repeat("a", MaxTypeLen+1)), want: ErrMalformed},
		{name: "origin a number", change: set("origin", 0), want: ErrMalformed},
		{name: "origin garbage", change: set("origin", "12D3KooWnotapeerid"), want: ErrMalformed},
		{name: "origin sha256 multihash", change: set("origin", "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"), want: ErrMalformed},
		{name: "origin secp256k1", change: func(m map[string]any) {
			m["origin"] = secpID.String()
			m["signatures"] = map[string]any{secpID.String(): m["signatures"].(map[string]any)[origin]}
		}, want: ErrMalformed},
		{name: "origin as CID", change: func(m map[string]any) {
			c := peer.ToCid(e.Origin).String()
			m["origin"] = c
			m["signatures"] = map[string]any{c: m["signatures"].(map[string]any)[origin]}
		}, want: ErrMalformed},
		{name: "origin_ts negative", change: set("origin_ts", -1), want: ErrMalformed},
		{name: "origin_ts string", change: set("origin_ts", "1"), want: ErrMalformed},
		{name: "depth zero", change: set("depth", 0), want: ErrMalformed},
		{name: "depth negative", change: set("depth", -3), want: ErrMalformed},
		{name: "prev_events empty", change: set("prev_events", []any{}), want: ErrMalformed},
		{name: "prev_events too many", change: set("prev_events", ids(MaxPrevEvents+1)), want: ErrMalformed},
		{name: "prev_events unsorted", change: set("prev_events", []any{fakeID('B'), fakeID('A')}), want: ErrMalformed},
		{name: "prev_events duplicate", change: set("prev_events", []any{fakeID('A'), fakeID('A')}), want: ErrMalformed},
		{name: "prev_events not a list", change: set("prev_events", fakeID('A')), want: ErrMalformed},
		{name: "prev_events number", change: set("prev_events", []any{1}), want: ErrMalformed},
		{name: "event ID without $", change: set("prev_events", []any{strings.Repeat("A", 44)}), want: ErrMalformed},
		{name: "event ID too short", change: set("prev_events", []any{"$" + strings.Repeat("A", 42)}), want: ErrMalformed},
		{name: "event ID standard base64", change: set("prev_events", []any{"$" + strings.Repeat("+", 42) + "A"}), want: ErrMalformed},
		{name: "event ID non-canonical last char", change: set("prev_events", []any{"$" + strings.Repeat("A", 42) + "B"}), want: ErrMalformed},
		{name: "auth_events too many", change: set("auth_events", ids(MaxAuthEvents+1)), want: ErrMalformed},
		{name: "guild.create with prev_events", change: set("type", "guild.create"), want: ErrMalformed},
		{name: "content array", change: set("content", []any{}), want: ErrMalformed},
		{name: "content string", change: set("content", "x"), want: ErrMalformed},
		{name: "unsigned array", change: set("unsigned", []any{}), want: ErrMalformed},
		{name: "hashes other algorithm", change: set("hashes", map[string]any{"sha512": "x"}), want: ErrMalformed},
		{name: "hashes extra", change: func(m map[string]any) { m["hashes"].(map[string]any)["sha3"] = "x" }, want: ErrMalformed},
		{name: "hashes empty", change: set("hashes", map[string]any{}), want: ErrMalformed},
		{name: "hash too short", change: set("hashes", map[string]any{"sha256": "AAAA"}), want: ErrMalformed},
		{name: "hash padded", change: set("hashes", map[string]any{"sha256": strings.Repeat("A", 43) + "="}), want: ErrMalformed},
		{name: "signature by other key", change: set("signatures", map[string]any{"12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA": strings.Repeat("A", 86)}), want: ErrMalformed},
		{name: "two signatures", change: func(m map[string]any) { m["signatures"].(map[string]any)["x"] = "y" }, want: ErrMalformed},
		{name: "signature wrong length", change: set("signatures", map[string]any{origin: "AAAA"}), want: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.raw
			if b == nil {
				b = mutate(t, wire, tc.change)
			}
			got, err := Parse(b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %v, %v; want %v\n%s", got, err, tc.want, b)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	secp, _, err := crypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(e *Event)
		key    crypto.PrivKey
		want   error
	}{
		{"content not JSON", func(e *Event) { e.Content = json.RawMessage(`{`) }, nil, ErrMalformed},
		{"content float", func(e *Event) { e.Content = json.RawMessage(`{"a":0.5}`) }, nil, ErrMalformed},
		{"duplicate prev_events", func(e *Event) { e.PrevEvents = []string{fakeID('A'), fakeID('A')} }, nil, ErrMalformed},
		{"too large", func(e *Event) { e.Content = json.RawMessage(`{"a":"` + strings.Repeat("x", MaxSize) + `"}`) }, nil, ErrTooLarge},
		{"secp256k1 key", func(e *Event) {}, secp, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testMessage()
			tc.change(e)
			before := fmt.Sprint(*e)
			key := tc.key
			if key == nil {
				key = testKey(t, 1)
			}
			err := Sign(e, key)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("Sign = %v, want %v", err, tc.want)
			}
			if fmt.Sprint(*e) != before {
				t.Error("failed Sign changed the event")
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	key := testKey(b, 1)
	for b.Loop() {
		if err := Sign(testMessage(), key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseVerify(b *testing.B) {
	wire := Marshal(signed(b, testMessage()))
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		e, err := Parse(wire)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse shows what accept() pays besides the Ed25519 check.
func BenchmarkParse(b *testing.B) {
	wire := Marshal(signed(b, testMessage()))
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		if _, err := Parse(wire); err != nil {
			b.Fatal(err)
		}
	}
}
