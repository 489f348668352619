package canonical

import (
	"concord/federation/vectors"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

const vectorFile = "../../spec/test-vectors/canonical.json"

// errorCodes names each reason in the vector file.
var errorCodes = map[string]error{
	"syntax":         ErrSyntax,
	"duplicate_key":  ErrDuplicateKey,
	"invalid_utf8":   ErrInvalidUTF8,
	"lone_surrogate": ErrLoneSurrogate,
	"not_integer":    ErrNotInteger,
	"number_range":   ErrNumberRange,
	"negative_zero":  ErrNegativeZero,
	"too_deep":       ErrTooDeep,
}

type vectorCase struct {
	name, input, canonical, err string
}

var vectorCases = []vectorCase{
	// Structure and whitespace.
	{name: "empty object", input: `{}`, canonical: `{}`},
	{name: "empty array", input: `[ ]`, canonical: `[]`},
	{name: "whitespace removed", input: " {\n\t\"b\" : [ 1 , 2 ] ,\r\n \"a\" : { } } \n", canonical: `{"a":{},"b":[1,2]}`},
	{name: "top-level scalar", input: ` "x" `, canonical: `"x"`},
	{name: "literals", input: `[true,false,null]`, canonical: `[true,false,null]`},
	{name: "array order kept", input: `[3,1,2]`, canonical: `[3,1,2]`},
	{name: "nested objects sorted", input: `{"z":{"y":1,"x":2},"a":[{"d":1,"c":2}]}`, canonical: `{"a":[{"c":2,"d":1}],"z":{"x":2,"y":1}}`},

	// Key order: UTF-16 code units, not UTF-8 bytes or code points.
	{name: "keys sorted", input: `{"b":1,"a":2,"c":3}`, canonical: `{"a":2,"b":1,"c":3}`},
	{name: "prefix key first", input: `{"ab":1,"a":2}`, canonical: `{"a":2,"ab":1}`},
	{name: "uppercase before lowercase", input: `{"a":1,"B":2}`, canonical: `{"B":2,"a":1}`},
	{name: "RFC 8785 3.2.3 key order", input: `{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
		canonical: "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\uFB33\":\"Hebrew Letter Dalet With Dagesh\"}"},
	{name: "non-BMP sorts below U+E000", input: "{\"\uE000\":1,\"😀\":2}", canonical: "{\"😀\":2,\"\uE000\":1}"},
	{name: "non-BMP sorts above U+D7FF", input: "{\"😀\":2,\"\uD7FF\":1}", canonical: "{\"\uD7FF\":1,\"😀\":2}"},
	{name: "two non-BMP keys", input: "{\"😁\":1,\"😀\":2}", canonical: "{\"😀\":2,\"😁\":1}"},
	{name: "escaped keys sort by their value", input: `{"\u0062":1,"a":2}`, canonical: `{"a":2,"b":1}`},

	// Strings.
	{name: "unnecessary escapes removed", input: `"\u0041\/\u00e9"`, canonical: `"A/é"`},
	{name: "html characters literal", input: `"\u003c\u003e\u0026<>&"`, canonical: `"<>&<>&"`},
	{name: "line and paragraph separators literal", input: `"\u2028\u2029"`, canonical: "\"\u2028\u2029\""},
	{name: "short escapes", input: `"\b\t\n\f\r\"\\"`, canonical: `"\b\t\n\f\r\"\\"`},
	{name: "short escapes from \\u", input: `"\u0008\u0009\u000A\u000C\u000D\u0022\u005C"`, canonical: `"\b\t\n\f\r\"\\"`},
	{name: "other controls lowercase hex", input: `"\u0000\u001F\u000b"`, canonical: `"\u0000\u001f\u000b"`},
	{name: "DEL literal", input: `"\u007f"`, canonical: "\"\x7f\""},
	{name: "surrogate pair decoded", input: `"\uD83D\uDE00"`, canonical: `"😀"`},
	{name: "raw UTF-8 kept as given (no NFC)", input: "\"e\u0301\"", canonical: "\"e\u0301\""},
	{name: "noncharacter allowed", input: `"\uffff"`, canonical: "\"\uffff\""},

	// Numbers.
	{name: "zero", input: `0`, canonical: `0`},
	{name: "negative", input: `-42`, canonical: `-42`},
	{name: "largest integer", input: `9007199254740991`, canonical: `9007199254740991`},
	{name: "smallest integer", input: `-9007199254740991`, canonical: `-9007199254740991`},

	// Rejections.
	{name: "empty input", input: ``, err: "syntax"},
	{name: "only whitespace", input: " \n", err: "syntax"},
	{name: "trailing comma in object", input: `{"a":1,}`, err: "syntax"},
	{name: "trailing comma in array", input: `[1,]`, err: "syntax"},
	{name: "two top-level values", input: `{} {}`, err: "syntax"},
	{name: "unquoted key", input: `{a:1}`, err: "syntax"},
	{name: "single quotes", input: `'a'`, err: "syntax"},
	{name: "unterminated string", input: `"abc`, err: "syntax"},
	{name: "raw control character in string", input: "\"a\tb\"", err: "syntax"},
	{name: "unknown escape", input: `"\x41"`, err: "syntax"},
	{name: "short \\u escape", input: `"\u12"`, err: "syntax"},
	{name: "byte order mark", input: "\uFEFF{}", err: "syntax"},
	{name: "NaN", input: `NaN`, err: "syntax"},
	{name: "capitalised literal", input: `True`, err: "syntax"},
	{name: "duplicate key", input: `{"a":1,"a":2}`, err: "duplicate_key"},
	{name: "duplicate key via escape", input: `{"a":1,"\u0061":2}`, err: "duplicate_key"},
	{name: "duplicate key not adjacent", input: `{"b":1,"a":2,"b":3}`, err: "duplicate_key"},
	{name: "invalid UTF-8 byte", input: "\"a\xffb\"", err: "invalid_utf8"},
	{name: "truncated UTF-8 sequence", input: "\"\xe2\x82\"", err: "invalid_utf8"},
	{name: "overlong UTF-8", input: "\"\xc0\xaf\"", err: "invalid_utf8"},
	{name: "UTF-8 encoded surrogate", input: "\"\xed\xa0\x80\"", err: "invalid_utf8"},
	{name: "invalid UTF-8 in key", input: "{\"\xff\":1}", err: "invalid_utf8"},
	{name: "lone high surrogate", input: `"\uD800"`, err: "lone_surrogate"},
	{name: "lone low surrogate", input: `"\uDC00"`, err: "lone_surrogate"},
	{name: "high surrogate then letter", input: `"\uD800\u0041"`, err: "lone_surrogate"},
	{name: "reversed surrogate pair", input: `"\uDE00\uD83D"`, err: "lone_surrogate"},
	{name: "fraction", input: `1.5`, err: "not_integer"},
	{name: "integral fraction", input: `1.0`, err: "not_integer"},
	{name: "exponent", input: `1e3`, err: "not_integer"},
	{name: "capital exponent", input: `1E0`, err: "not_integer"},
	{name: "above the integer range", input: `9007199254740992`, err: "number_range"},
	{name: "below the integer range", input: `-9007199254740992`, err: "number_range"},
	{name: "far above the integer range", input: `100000000000000000000`, err: "number_range"},
	{name: "negative zero", input: `-0`, err: "negative_zero"},
	{name: "leading zero", input: `01`, err: "syntax"},
	{name: "plus sign", input: `+1`, err: "syntax"},
	{name: "lone minus", input: `-`, err: "syntax"},
	{name: "depth 64 accepted", input: strings.Repeat("[", 64) + strings.Repeat("]", 64), canonical: strings.Repeat("[", 64) + strings.Repeat("]", 64)},
	{name: "depth 65 rejected", input: strings.Repeat("[", 65) + strings.Repeat("]", 65), err: "too_deep"},
	{name: "depth 65 rejected with objects", input: strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65), err: "too_deep"},
}

// fileCase is a case as stored in canonical.json. Inputs that are not valid
// UTF-8 cannot be JSON strings, so they are given in hex.
type fileCase struct {
	Name      string  `json:"name"`
	Input     *string `json:"input,omitempty"`
	InputHex  string  `json:"input_hex,omitempty"`
	Canonical *string `json:"canonical,omitempty"`
	Error     string  `json:"error,omitempty"`
}

type vectorFileT struct {
	Description string     `json:"description"`
	Cases       []fileCase `json:"cases"`
}

func renderVectors(t *testing.T) []byte {
	t.Helper()
	f := vectorFileT{
		Description: "Canonical JSON test vectors (spec/events.md, \"Canonical JSON\"). Each case has an input (a JSON string, or input_hex for bytes that are not valid UTF-8) and either the canonical bytes or an error. Error names are informative; an implementation passes a case by rejecting the input.",
	}
	for _, c := range vectorCases {
		fc := fileCase{Name: c.name}
		if utf8.ValidString(c.input) {
			fc.Input = &c.input
		} else {
			fc.InputHex = hex.EncodeToString([]byte(c.input))
		}
		if c.err != "" {
			fc.Error = c.err
		} else {
			fc.Canonical = &c.canonical
		}
		f.Cases = append(f.Cases, fc)
	}
	return vectors.Encode(t, f)
}

func TestVectors(t *testing.T) {
	want := renderVectors(t)
	got := vectors.Sync(t, vectorFile, want)
	var f vectorFileT
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var in []byte
			var err error
			if c.Input != nil {
				in = []byte(*c.Input)
			} else if in, err = hex.DecodeString(c.InputHex); err != nil {
				t.Fatal(err)
			}
			got, err := Canonicalize(in)
			if c.Canonical != nil {
				if err != nil || string(got) != *c.Canonical {
					t.Fatalf("Canonicalize(%q) = %q, %v; want %q", in, got, err, *c.Canonical)
				}
				if err := Check(got); err != nil {
					t.Errorf("Check(canonical output) = %v", err)
				}
				return
			}
			want, ok := errorCodes[c.Error]
			if !ok {
				t.Fatalf("unknown error code %q", c.Error)
			}
			var ce *Error
			if !errors.Is(err, want) || !errors.As(err, &ce) {
				t.Fatalf("Canonicalize(%q) = %q, %v; want error %v", in, got, err, want)
			}
		})
	}
}
