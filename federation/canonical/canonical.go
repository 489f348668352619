// Package canonical turns JSON into Concord's canonical form, the one byte
// sequence that event IDs, hashes and signatures are computed over
// (spec/events.md, "Canonical JSON"). It is RFC 8785 restricted to integers
// in ±(2^53−1), as Matrix does, so that every language can produce the same
// bytes without a float formatter. Any package may import it; it imports only
// the standard library.
package canonical

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest; `{}` has depth 1.
const MaxDepth = 64

// MaxInt is the largest magnitude a number may have (2^53−1): every
// language's JSON library represents it exactly.
const MaxInt = 1<<53 - 1

// Reasons for rejecting input. Every error the package returns is an *Error
// whose Err wraps one of these.
var (
	ErrSyntax        = errors.New("syntax error")
	ErrDuplicateKey  = errors.New("duplicate object key")
	ErrInvalidUTF8   = errors.New("invalid UTF-8 in string")
	ErrLoneSurrogate = errors.New("lone UTF-16 surrogate in \\u escape")
	ErrNotInteger    = errors.New("number has a fraction or exponent; only integers are allowed")
	ErrNumberRange   = errors.New("integer outside ±(2^53-1)")
	ErrNegativeZero  = errors.New("-0 is not allowed")
	ErrTooDeep       = errors.New("nesting deeper than 64")
	ErrNotCanonical  = errors.New("valid JSON but not in canonical form")
)

// Error reports where and why input was rejected.
type Error struct {
	Offset int   // byte offset in the input
	Err    error // wraps one of the Err* reasons
}

func (e *Error) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %v", e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Canonicalize returns the canonical form of the JSON text in.
func Canonicalize(in []byte) ([]byte, error) {
	return Append(nil, in)
}

// Append appends the canonical form of in to dst. On error dst is returned
// unextended.
func Append(dst, in []byte) ([]byte, error) {
	p := parserPool.Get().(*parser)
	defer p.release()
	return p.run(dst, in)
}

// Marshal encodes v with encoding/json and canonicalises the result. Floats
// that are not integers, and integers beyond MaxInt, make it fail.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonicalize(b)
}

// Check reports whether b is already canonical: nil if so, an *Error
// wrapping ErrNotCanonical if it is valid JSON in another form, or the
// reason it is not acceptable JSON at all.
func Check(b []byte) error {
	p := parserPool.Get().(*parser)
	defer p.release()
	out, err := p.run(p.check[:0], b)
	p.check = out[:0]
	if err != nil {
		return err
	}
	if !bytes.Equal(out, b) {
		i := 0
		for i < len(out) && i < len(b) && out[i] == b[i] {
			i++
		}
		return &Error{Offset: i, Err: ErrNotCanonical}
	}
	return nil
}

// Parsers are pooled so that their scratch buffers survive between events.
var parserPool = sync.Pool{New: func() any { return new(parser) }}

type parser struct {
	in      []byte
	pos     int
	out     []byte
	depth   int
	members []member // stack shared by all open objects
	scratch []byte   // decoded string values
	tmp     []byte   // an object's members while they are reordered
	check   []byte   // Check's output
}

func (p *parser) run(dst, in []byte) ([]byte, error) {
	p.in, p.pos, p.out, p.depth = in, 0, dst, 0
	p.skipSpace()
	if err := p.value(); err != nil {
		return dst, err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return dst, p.fail(fmt.Errorf("%w: data after the top-level value", ErrSyntax))
	}
	return p.out, nil
}

// release returns p to the pool without holding on to the caller's memory.
func (p *parser) release() {
	p.in, p.out = nil, nil
	clear(p.members[:cap(p.members)])
	p.members = p.members[:0]
	parserPool.Put(p)
}

// member is one `"key":value` already written to out[start:end].
type member struct {
	key        []byte // decoded key
	keyPos     int    // offset of the key in the input, for errors
	start, end int
}

func (p *parser) fail(err error) error { return &Error{Offset: p.pos, Err: err} }

func (p *parser) syntax(what string) error {
	if p.pos >= len(p.in) {
		return p.fail(fmt.Errorf("%w: unexpected end of input, expected %s", ErrSyntax, what))
	}
	return p.fail(fmt.Errorf("%w: unexpected %q, expected %s", ErrSyntax, p.in[p.pos], what))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() error {
	if p.pos >= len(p.in) {
		return p.syntax("a value")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		_, err := p.str(false)
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return p.syntax("a value")
	}
}

func (p *parser) literal(word string) error {
	if !bytes.HasPrefix(p.in[p.pos:], []byte(word)) {
		return p.syntax(word)
	}
	p.pos += len(word)
	p.out = append(p.out, word...)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.fail(ErrTooDeep)
	}
	p.pos++
	return nil
}

func (p *parser) array() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.out = append(p.out, '[')
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		p.depth--
		return nil
	}
	for {
		p.skipSpace()
		if err := p.value(); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.in) {
			return p.syntax("',' or ']'")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			p.out = append(p.out, ',')
		case ']':
			p.pos++
			p.out = append(p.out, ']')
			p.depth--
			return nil
		default:
			return p.syntax("',' or ']'")
		}
	}
}

func (p *parser) object() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.out = append(p.out, '{')
	body := len(p.out)
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		p.out = append(p.out, '}')
		p.depth--
		return nil
	}
	base := len(p.members)
	sorted := true
	for {
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return p.syntax("a string key")
		}
		m := member{keyPos: p.pos, start: len(p.out)}
		key, err := p.str(true)
		if err != nil {
			return err
		}
		m.key = key
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return p.syntax("':'")
		}
		p.pos++
		p.out = append(p.out, ':')
		p.skipSpace()
		if err := p.value(); err != nil {
			return err
		}
		m.end = len(p.out)
		if n := len(p.members); n > base && compareKeys(p.members[n-1].key, m.key) >= 0 {
			sorted = false
		}
		p.members = append(p.members, m)
		p.skipSpace()
		if p.pos >= len(p.in) {
			return p.syntax("',' or '}'")
		}
		if c := p.in[p.pos]; c == ',' {
			p.pos++
			p.out = append(p.out, ',')
			continue
		} else if c != '}' {
			return p.syntax("',' or '}'")
		}
		p.pos++
		break
	}
	if !sorted {
		if err := p.reorder(base, body); err != nil {
			return err
		}
	}
	p.members = p.members[:base]
	p.out = append(p.out, '}')
	p.depth--
	return nil
}

// reorder sorts the object members written since out[body] (members[base:]),
// which arrived out of order, and rejects duplicate keys.
func (p *parser) reorder(base, body int) error {
	ms := p.members[base:]
	slices.SortFunc(ms, func(a, b member) int { return compareKeys(a.key, b.key) })
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(ms[i-1].key, ms[i].key) {
			return &Error{Offset: max(ms[i-1].keyPos, ms[i].keyPos), Err: fmt.Errorf("%w %q", ErrDuplicateKey, ms[i].key)}
		}
	}
	p.tmp = append(p.tmp[:0], p.out[body:]...)
	p.out = p.out[:body]
	for i, m := range ms {
		if i > 0 {
			p.out = append(p.out, ',')
		}
		p.out = append(p.out, p.tmp[m.start-body:m.end-body]...)
	}
	return nil
}

// compareKeys orders keys by their UTF-16 code units, as RFC 8785 requires.
// UTF-8 byte order equals code point order, which differs from UTF-16 order
// only where a supplementary character (surrogates D800–DFFF) meets a BMP
// character at or above U+E000.
func compareKeys(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmp.Compare(len(a), len(b))
	}
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, _ := utf8.DecodeRune(a[i:])
	rb, _ := utf8.DecodeRune(b[i:])
	aSup, bSup := ra >= 0x10000, rb >= 0x10000
	switch {
	case aSup == bSup:
		return cmp.Compare(ra, rb)
	case aSup:
		if rb >= 0xE000 {
			return -1
		}
		return 1
	default:
		if ra >= 0xE000 {
			return 1
		}
		return -1
	}
}

// str reads a string at p.pos, writes its canonical form and returns its
// decoded bytes. Keys are returned in memory the caller may keep; values in
// scratch memory reused by the next string.
func (p *parser) str(key bool) ([]byte, error) {
	p.pos++
	start := p.pos
	i := start
	ascii := true
	for i < len(p.in) {
		c := p.in[i]
		if c == '"' || c == '\\' || c < 0x20 {
			break
		}
		if c >= 0x80 {
			ascii = false
		}
		i++
	}
	if i < len(p.in) && p.in[i] == '"' {
		// Fast path: nothing to unescape, and a string without escapes
		// holds no character canonical form escapes.
		s := p.in[start:i]
		if !ascii && !utf8.Valid(s) {
			return nil, p.badUTF8(start, s)
		}
		p.pos = i + 1
		p.out = append(p.out, '"')
		p.out = append(p.out, s...)
		p.out = append(p.out, '"')
		return s, nil
	}
	buf := p.scratch[:0]
	if key {
		buf = nil
	}
	seg := start
	for {
		if i >= len(p.in) {
			p.pos = i
			return nil, p.syntax("'\"'")
		}
		c := p.in[i]
		if c != '"' && c != '\\' && c >= 0x20 {
			i++
			continue
		}
		if s := p.in[seg:i]; !utf8.Valid(s) {
			return nil, p.badUTF8(seg, s)
		}
		buf = append(buf, p.in[seg:i]...)
		p.pos = i
		if c == '"' {
			break
		}
		if c < 0x20 {
			return nil, p.fail(fmt.Errorf("%w: control character in string must be escaped", ErrSyntax))
		}
		var err error
		if buf, err = p.escape(buf); err != nil {
			return nil, err
		}
		i = p.pos
		seg = i
	}
	p.pos++
	p.out = appendQuoted(p.out, buf)
	if !key {
		p.scratch = buf
	}
	return buf, nil
}

func (p *parser) badUTF8(start int, s []byte) error {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRune(s[n:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		n += size
	}
	return &Error{Offset: start + n, Err: ErrInvalidUTF8}
}

// escape decodes the escape sequence at p.pos (a backslash) onto buf.
func (p *parser) escape(buf []byte) ([]byte, error) {
	if p.pos+1 >= len(p.in) {
		p.pos++
		return nil, p.syntax("an escape character")
	}
	c := p.in[p.pos+1]
	switch c {
	case '"', '\\', '/':
		p.pos += 2
		return append(buf, c), nil
	case 'b':
		p.pos += 2
		return append(buf, '\b'), nil
	case 'f':
		p.pos += 2
		return append(buf, '\f'), nil
	case 'n':
		p.pos += 2
		return append(buf, '\n'), nil
	case 'r':
		p.pos += 2
		return append(buf, '\r'), nil
	case 't':
		p.pos += 2
		return append(buf, '\t'), nil
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return nil, err
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00:
			at := p.pos
			if p.pos+1 < len(p.in) && p.in[p.pos] == '\\' && p.in[p.pos+1] == 'u' {
				lo, err := p.hex4()
				if err != nil {
					return nil, err
				}
				if lo >= 0xDC00 && lo <= 0xDFFF {
					return utf8.AppendRune(buf, utf16.DecodeRune(r, lo)), nil
				}
			}
			return nil, &Error{Offset: at - 6, Err: ErrLoneSurrogate}
		case utf16.IsSurrogate(r):
			return nil, &Error{Offset: p.pos - 6, Err: ErrLoneSurrogate}
		}
		return utf8.AppendRune(buf, r), nil
	default:
		p.pos++
		return nil, p.syntax("an escape character")
	}
}

// hex4 reads `\uXXXX` at p.pos.
func (p *parser) hex4() (rune, error) {
	if p.pos+6 > len(p.in) {
		p.pos = len(p.in)
		return 0, p.syntax("four hex digits")
	}
	var r rune
	for _, c := range p.in[p.pos+2 : p.pos+6] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			p.pos += 2
			return 0, p.syntax("four hex digits")
		}
		r = r<<4 | rune(d)
	}
	p.pos += 6
	return r, nil
}

// maxIntDigits is MaxInt in decimal; digit strings of equal length compare
// like the numbers.
const maxIntDigits = "9007199254740991"

func (p *parser) number() error {
	start := p.pos
	if p.in[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	switch {
	case p.pos < len(p.in) && p.in[p.pos] == '0':
		p.pos++
	case p.pos < len(p.in) && p.in[p.pos] >= '1' && p.in[p.pos] <= '9':
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos++
		}
	default:
		return p.syntax("a digit")
	}
	if p.pos < len(p.in) {
		if c := p.in[p.pos]; c == '.' || c == 'e' || c == 'E' {
			return p.fail(ErrNotInteger)
		}
	}
	d := p.in[digits:p.pos]
	if len(d) > len(maxIntDigits) || (len(d) == len(maxIntDigits) && string(d) > maxIntDigits) {
		return &Error{Offset: start, Err: ErrNumberRange}
	}
	if digits > start && string(d) == "0" {
		return &Error{Offset: start, Err: ErrNegativeZero}
	}
	p.out = append(p.out, p.in[start:p.pos]...)
	return nil
}

// AppendString appends s as a canonical JSON string. Bytes that are not
// valid UTF-8 are written as U+FFFD, as encoding/json does, so the output is
// always canonical.
func AppendString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = string([]rune(s))
	}
	return appendQuoted(dst, s)
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes valid UTF-8 s quoted, escaping only what RFC 8785
// escapes: '"', '\\' and the C0 controls.
func appendQuoted[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
