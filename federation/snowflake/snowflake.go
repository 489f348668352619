// Package snowflake mints and parses the 64-bit IDs that Concord's API
// objects carry (spec/events.md, "Snowflakes"). The layout is Discord's: 42
// bits of milliseconds since 2015-01-01, 10 bits naming the minting node, 12
// bits of a per-millisecond counter. Any package may import it.
package snowflake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"sync"
	"time"
)

// Epoch is Discord's epoch, 2015-01-01T00:00:00Z, in Unix milliseconds.
const Epoch = 1420070400000

// ID is a snowflake. On the wire it is always a JSON string of the decimal
// value, as Discord sends it.
type ID uint64

// ErrInvalid is returned for text that is not a snowflake.
var ErrInvalid = errors.New("invalid snowflake")

// Parse reads a decimal snowflake: 1 ≤ value < 2^63, so that a signed
// 64-bit integer (a database column, most client libraries) holds it and
// orders IDs as they were minted (spec/events.md, "Snowflakes").
func Parse(s string) (ID, error) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, ErrInvalid
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil || v == 0 {
		return 0, ErrInvalid
	}
	return ID(v), nil
}

// String renders the decimal form.
func (id ID) String() string { return strconv.FormatUint(uint64(id), 10) }

// Time is the moment the ID was minted.
func (id ID) Time() time.Time { return time.UnixMilli(int64(id>>22) + Epoch).UTC() }

// Worker is the 10-bit node field.
func (id ID) Worker() uint16 { return uint16(id>>12) & 0x3ff }

// MarshalJSON writes the ID as a JSON string.
func (id ID) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(id), 10)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON string (Discord's form) or a bare number.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*id = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// WorkerFor derives a node's 10-bit worker field from its public identity
// (the bytes of its peer ID), so that two nodes rarely share one.
func WorkerFor(identity []byte) uint16 {
	sum := sha256.Sum256(identity)
	return binary.BigEndian.Uint16(sum[:2]) & 0x3ff
}

// Generator mints IDs that increase strictly on one node. It is safe for
// concurrent use.
type Generator struct {
	mu     sync.Mutex
	worker uint64
	last   int64 // last millisecond used, relative to Epoch
	seq    uint64
	now    func() time.Time
	hide   []byte // NextUnguessable's key
}

// NewGenerator returns a generator for the given worker field.
func NewGenerator(worker uint16) *Generator {
	hide := make([]byte, 32)
	rand.Read(hide)
	return &Generator{worker: uint64(worker & 0x3ff), now: time.Now, hide: hide}
}

// Next returns a fresh ID. When the counter of one millisecond is spent, or
// the clock steps back, it borrows from the next millisecond rather than
// repeating an ID.
func (g *Generator) Next() ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.now().UnixMilli() - Epoch
	if ms < g.last {
		ms = g.last
	}
	if ms == g.last {
		g.seq++
		if g.seq > 0xfff {
			g.last++
			g.seq = 0
		}
	} else {
		g.last = ms
		g.seq = 0
	}
	return ID(uint64(g.last)<<22 | g.worker<<12 | g.seq)
}

// FromTime returns the smallest ID minted at t, for range queries such as
// Discord's `before`/`after` given as times.
func FromTime(t time.Time) ID {
	ms := t.UnixMilli() - Epoch
	if ms < 0 {
		return 0
	}
	return ID(uint64(ms) << 22)
}

// lowBits are the worker and counter fields, which NextUnguessable hides.
const lowBits = 1<<22 - 1

// NextUnguessable returns a fresh ID whose worker and counter fields are
// replaced by a permutation of them keyed by a secret of the generator and
// the ID's millisecond: the IDs it mints are unique on this node, as Next's
// are, and keep their time, but neither another ID nor its neighbours tell
// what they are. Attachment IDs use it, so that a file's URL does not follow
// from its message's ID (spec/events.md, "Snowflakes").
func (g *Generator) NextUnguessable() ID {
	id := g.Next()
	ms := uint64(id >> 22)
	// A four-round Feistel network over two 11-bit halves is a
	// permutation whatever its round function.
	l, r := uint32(id>>11)&0x7ff, uint32(id)&0x7ff
	var in [11]byte
	binary.BigEndian.PutUint64(in[:8], ms)
	for round := range 4 {
		in[8] = byte(round)
		binary.BigEndian.PutUint16(in[9:], uint16(r))
		m := hmac.New(sha256.New, g.hide)
		m.Write(in[:])
		f := uint32(binary.BigEndian.Uint16(m.Sum(nil))) & 0x7ff
		l, r = r, l^f
	}
	return id&^lowBits | ID(l<<11|r)
}
