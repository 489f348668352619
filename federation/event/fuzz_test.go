package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// fuzzVectors reads the signed events of the vector file, which seed both
// fuzz targets.
func fuzzVectors(f *testing.F) []vectorEvent {
	f.Helper()
	b, err := os.ReadFile(vectorFile)
	if err != nil {
		f.Fatal(err)
	}
	var v vectorFileT
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	return v.Events
}

// FuzzParseVerify feeds arbitrary bytes to Parse and Verify, the first
// step of accepting an event from another node. They must never panic and
// must refuse with one of the package's reasons; an event that parses must
// marshal back to exactly the bytes it came from, and so must its redacted
// form, with the same ID.
func FuzzParseVerify(f *testing.F) {
	for _, v := range fuzzVectors(f) {
		f.Add([]byte(v.Canonical))
		f.Add([]byte(v.Redacted))
	}
	wire := Marshal(signed(f, testMessage()))
	f.Add(wire)
	f.Add(bytes.Replace(wire, []byte(`"message.create"`), []byte(`"message.edit"`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed or ErrTooLarge", b, err)
			}
			return
		}
		roundTrip(t, e, b)
		r := Redact(e)
		roundTrip(t, r, Marshal(r))
		switch err := Verify(e); {
		case err == nil:
			if !e.ContentIntact() {
				t.Fatalf("%q verifies but its content is not intact", b)
			}
			if err := Verify(r); err != nil && err != ErrRedacted {
				t.Fatalf("Verify(Redact(%q)) = %v", b, err)
			}
		case err == ErrRedacted:
			if e.ContentIntact() || !bytes.Equal(r.Content, e.Content) {
				t.Fatalf("%q verifies as redacted but its content %s is not its redacted form", b, e.Content)
			}
		case err == ErrBadHash, err == ErrBadSignature:
		default:
			t.Fatalf("Verify(%q) = %v", b, err)
		}
	})
}

// roundTrip checks that e marshals to wire and that wire parses back to
// an event with e's ID.
func roundTrip(t *testing.T, e *Event, wire []byte) {
	t.Helper()
	if got := Marshal(e); !bytes.Equal(got, wire) {
		t.Fatalf("Marshal(Parse(%q)) = %q", wire, got)
	}
	again, err := Parse(wire)
	if err != nil {
		t.Fatalf("Parse(Marshal(e)) = %v for %q", err, wire)
	}
	if again.ID() != e.ID() || again.ID() == "" {
		t.Fatalf("ID %q after a round trip, want %q", again.ID(), e.ID())
	}
}

// FuzzSign signs events of any type, content and unsigned data, as a
// local user's request may build them. Sign must refuse with one of the
// package's reasons or make an event every node parses and verifies, whose
// redacted form keeps its ID and signature.
func FuzzSign(f *testing.F) {
	for _, v := range fuzzVectors(f) {
		f.Add(v.Input.Type, []byte(v.Input.Content), []byte(v.Input.Unsigned))
	}
	f.Add("message.edit", []byte(`{"\u0069d":"1","channel_id":"2","x":[{}]}`), []byte(`{}`))
	key := testKey(f, 1)
	f.Fuzz(func(t *testing.T, typ string, content, unsigned []byte) {
		e := testMessage()
		e.Type, e.Content, e.Unsigned = typ, content, nil
		if len(unsigned) > 0 {
			e.Unsigned = unsigned
		}
		if typ == TypeGuildCreate {
			e.PrevEvents, e.AuthEvents, e.Depth = nil, nil, 0
		}
		if err := Sign(e, key); err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Sign(%q, %q, %q) = %v", typ, content, unsigned, err)
			}
			return
		}
		wire := Marshal(e)
		p, err := Parse(wire)
		if err != nil {
			t.Fatalf("Parse(Sign(%q, %q, %q)) = %v", typ, content, unsigned, err)
		}
		roundTrip(t, p, wire)
		if err := Verify(p); err != nil || p.ID() != e.ID() {
			t.Fatalf("Verify(%q) = %v, ID %s; want nil, %s", wire, err, p.ID(), e.ID())
		}
		r := Redact(p)
		if err := Verify(r); (err != nil && err != ErrRedacted) || r.ID() != e.ID() {
			t.Fatalf("Verify(Redact(%q)) = %v, ID %s; want nil or ErrRedacted, %s", wire, err, r.ID(), e.ID())
		}
	})
}
