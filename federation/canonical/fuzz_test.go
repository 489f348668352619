package canonical

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
)

// eventVectorFile holds signed events in their canonical wire form, which
// seed the fuzzer with the shapes federation carries.
const eventVectorFile = "../../spec/test-vectors/events.json"

// FuzzCanonicalize feeds arbitrary bytes to Canonicalize and Check, which
// read every event another node sends. They must never panic; what they
// accept must be JSON meaning the same as the input, canonical by Check,
// and a fixed point; what they refuse, they refuse with an *Error.
func FuzzCanonicalize(f *testing.F) {
	for _, c := range vectorCases {
		f.Add([]byte(c.input))
	}
	b, err := os.ReadFile(eventVectorFile)
	if err != nil {
		f.Fatal(err)
	}
	var events struct {
		Events []struct{ Canonical, Redacted string }
	}
	if err := json.Unmarshal(b, &events); err != nil {
		f.Fatal(err)
	}
	for _, e := range events.Events {
		f.Add([]byte(e.Canonical))
		f.Add([]byte(e.Redacted))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		checked := Check(in)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset > len(in) {
				t.Fatalf("Canonicalize(%q) failed with %#v", in, err)
			}
			if checked == nil {
				t.Fatalf("Check accepted %q, which Canonicalize refuses: %v", in, err)
			}
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if err := Check(out); err != nil {
			t.Fatalf("Check(Canonicalize(%q) = %q) = %v", in, out, err)
		}
		if again, err := Canonicalize(out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("Canonicalize(%q) = %q, %v; want a fixed point", out, again, err)
		}
		if (checked == nil) != bytes.Equal(in, out) {
			t.Fatalf("Check(%q) = %v, but the canonical form is %q", in, checked, out)
		}
		if got, want := decode(t, out), decode(t, in); !reflect.DeepEqual(got, want) {
			t.Fatalf("Canonicalize(%q) = %q changes the value: %v, want %v", in, out, got, want)
		}
		walk(t, out)
	})
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// walk checks that EachMember and EachElement split canonical b into
// exactly its parts, all the way down.
func walk(t *testing.T, b []byte) {
	t.Helper()
	var parts [][]byte
	var err error
	switch b[0] {
	case '{':
		err = EachMember(b, func(k, v []byte) error {
			parts = append(parts, append(append([]byte{'"'}, k...), '"', ':'), v)
			walk(t, v)
			return nil
		})
	case '[':
		err = EachElement(b, func(v []byte) error {
			parts = append(parts, v)
			walk(t, v)
			return nil
		})
	default:
		return
	}
	if err != nil {
		t.Fatalf("walk %q: %v", b, err)
	}
	var rebuilt []byte
	step := 1
	if b[0] == '{' {
		step = 2
	}
	for i := 0; i < len(parts); i += step {
		if i > 0 {
			rebuilt = append(rebuilt, ',')
		}
		for _, p := range parts[i : i+step] {
			rebuilt = append(rebuilt, p...)
		}
	}
	if inner := b[1 : len(b)-1]; !bytes.Equal(rebuilt, inner) {
		t.Fatalf("walk %q rebuilt %q", b, rebuilt)
	}
}
