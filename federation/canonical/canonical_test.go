package canonical

import (
	"errors"
	"strings"
	"testing"
)

func TestMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want string
		err  error
	}{
		{"struct fields sorted", struct {
			Z int    `json:"z"`
			A string `json:"a"`
		}{1, "<&>"}, `{"a":"<&>","z":1}`, nil},
		{"map", map[string]any{"b": []int{1}, "a": nil}, `{"a":null,"b":[1]}`, nil},
		{"integral float", 3.0, `3`, nil},
		{"fraction", 0.5, ``, ErrNotInteger},
		{"large float", 1e21, ``, ErrNotInteger},
		{"uint64 beyond 2^53", uint64(1) << 60, ``, ErrNumberRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.in)
			if string(got) != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("Marshal = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"\x00\x1f\n", `"\u0000\u001f\n"`},
		{"<\u2028>", "\"<\u2028>\""},
		{"bad\xffbyte", "\"bad\uFFFDbyte\""},
	} {
		got := string(AppendString(nil, tc.in))
		if got != tc.want {
			t.Errorf("AppendString(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if err := Check([]byte(got)); err != nil {
			t.Errorf("AppendString(%q) not canonical: %v", tc.in, err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"a":[1,"x"]}`, nil},
		{`{"b":1,"a":2}`, ErrNotCanonical},
		{`{"a": 1}`, ErrNotCanonical},
		{`"\u0041"`, ErrNotCanonical},
		{`{"a":1.5}`, ErrNotInteger},
	} {
		if got := Check([]byte(tc.in)); !errors.Is(got, tc.want) {
			t.Errorf("Check(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestErrorOffset(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`{"a":1,"a":2}`, 7},
		{`[1, 2.5]`, 5},
		{`"ab\uDC00"`, 3},
		{"\"abc\xff\"", 4},
		{`{"a" 1}`, 5},
	} {
		_, err := Canonicalize([]byte(tc.in))
		var e *Error
		if !errors.As(err, &e) || e.Offset != tc.want {
			t.Errorf("Canonicalize(%q) = %v; want offset %d", tc.in, err, tc.want)
		}
	}
}

func TestAppendKeepsDstOnError(t *testing.T) {
	dst := []byte("prefix")
	got, err := Append(dst, []byte(`{"a":[1,2,`))
	if err == nil || string(got) != "prefix" {
		t.Errorf("Append = %q, %v; want prefix and an error", got, err)
	}
}

func TestEachMember(t *testing.T) {
	obj := []byte(`{"a":[1,{"x":"]}"}],"b\"c":"v,","d":{},"e":-3}`)
	var got []string
	err := EachMember(obj, func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	want := []string{`a=[1,{"x":"]}"}]`, `b\"c="v,"`, `d={}`, `e=-3`}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("EachMember = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":"x}`} {
		if err := EachMember([]byte(bad), func(k, v []byte) error { return nil }); err == nil {
			t.Errorf("EachMember(%s) = nil, want an error", bad)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := EachMember(obj, func(k, v []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachMember did not stop at the first error: %v after %d", err, n)
	}
}

func TestEachElement(t *testing.T) {
	var got []string
	err := EachElement([]byte(`["a",[1,2],{"k":"]"},null]`), func(v []byte) error {
		got = append(got, string(v))
		return nil
	})
	want := []string{`"a"`, `[1,2]`, `{"k":"]"}`, `null`}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("EachElement = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{`{}`, `[1,]`, `[,1]`} {
		if err := EachElement([]byte(bad), func(v []byte) error { return nil }); err == nil {
			t.Errorf("EachElement(%s) = nil, want an error", bad)
		}
	}
}

// benchEvent is shaped like a message event with its envelope.
var benchEvent = []byte(`{"auth_events":["$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB","$CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"],"content":{"channel_id":"175928847299117063","content":"hello there, \"world\" — ça va? 😀","embeds":[],"id":"175928847299117064","mentions":["175928847299117065"],"tts":false},"depth":1234,"guild_id":"175928847299117062","hashes":{"sha256":"DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"},"origin":"12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA","origin_ts":1700000000000,"prev_events":["$EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"],"sender":"175928847299117063","signatures":{"12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA":"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"},"type":"message.create"}`)

func BenchmarkCheck(b *testing.B) {
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if err := Check(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalizeUnsorted(b *testing.B) {
	in := []byte(`{"type":"message.create","sender":"1","content":{"tts":false,"id":"2","content":"hi\u0021","channel_id":"3"},"depth":5,"auth_events":[]}`)
	b.SetBytes(int64(len(in)))
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		if _, err := Append(buf[:0], in); err != nil {
			b.Fatal(err)
		}
	}
}
