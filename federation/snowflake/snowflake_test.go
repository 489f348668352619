package snowflake

import (
	"encoding/json"
	"testing"
	"time"
)

func TestGeneratorStrictlyIncreases(t *testing.T) {
	g := NewGenerator(513)
	fixed := time.UnixMilli(Epoch + 1000)
	g.now = func() time.Time { return fixed }
	prev := g.Next()
	for i := 0; i < 10000; i++ {
		id := g.Next()
		if id <= prev {
			t.Fatalf("id %d not above %d", id, prev)
		}
		if id.Worker() != 513 {
			t.Fatalf("worker = %d", id.Worker())
		}
		prev = id
	}
	// The clock stepping back never repeats an ID.
	fixed = fixed.Add(-time.Hour)
	if id := g.Next(); id <= prev {
		t.Fatalf("after clock step back: %d not above %d", id, prev)
	}
}

func TestParseAndJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ID
		ok   bool
	}{
		{"175928847299117063", 175928847299117063, true},
		{"1", 1, true},
		{"0", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"01", 0, false},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false}, // a signed 64-bit integer must hold it
		{"18446744073709551615", 0, false},
		{"18446744073709551616", 0, false},
		{"12a", 0, false},
	} {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	// Discord's documented example: 175928847299117063 was minted 2016-04-30 11:18:25.796 UTC.
	if got := ID(175928847299117063).Time(); !got.Equal(time.Date(2016, 4, 30, 11, 18, 25, 796e6, time.UTC)) {
		t.Errorf("Time = %v", got)
	}
	b, _ := json.Marshal(struct{ ID ID }{175928847299117063})
	if string(b) != `{"ID":"175928847299117063"}` {
		t.Errorf("marshal = %s", b)
	}
	var v struct{ ID ID }
	if err := json.Unmarshal([]byte(`{"ID":"42"}`), &v); err != nil || v.ID != 42 {
		t.Errorf("unmarshal = %v %v", v.ID, err)
	}
}

func TestNextUnguessable(t *testing.T) {
	g := NewGenerator(513)
	fixed := time.UnixMilli(Epoch + 1000)
	g.now = func() time.Time { return fixed }
	seen := map[ID]bool{}
	var sequential int
	prev := g.Next()
	// The whole counter of one millisecond and the start of the next: no
	// ID repeats, each keeps its millisecond, and they do not follow one
	// another as Next's do.
	for i := range 0x1000 + 100 {
		id := g.NextUnguessable()
		if seen[id] {
			t.Fatalf("ID %d minted twice", id)
		}
		seen[id] = true
		if want := time.UnixMilli(Epoch + 1000 + int64((i+1)/0x1000)); !id.Time().Equal(want) {
			t.Fatalf("ID %d is of %v, want %v", id, id.Time(), want)
		}
		if id == prev+1 {
			sequential++
		}
		prev = id
	}
	if sequential > 10 {
		t.Errorf("%d IDs followed the one before", sequential)
	}
	// Another generator of the same worker, at the same moment, mints other
	// IDs: the key is its own.
	h := NewGenerator(513)
	h.now = g.now
	h.last, h.seq = g.last, g.seq
	a, b := g.NextUnguessable(), h.NextUnguessable()
	if a == b {
		t.Errorf("two generators minted %d alike", a)
	}
}
