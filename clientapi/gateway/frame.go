package gateway

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/adler32"
	"strconv"
	"sync"

	"github.com/klauspost/compress/flate"
)

// body is the shared part of a dispatch frame: the payload and the brace
// that closes the envelope. Every recipient's frame is its own short prefix
// (op, t, s) followed by these bytes, so a payload is encoded once — and
// deflated at most once — however many sessions get it.
type body struct {
	typ  string
	raw  []byte // payload + "}"
	once sync.Once
	z    []byte // raw as stateless, sync-flushed deflate blocks
}

func newBody(typ string, payload json.RawMessage) *body {
	raw := make([]byte, len(payload)+1)
	copy(raw, payload)
	raw[len(payload)] = '}'
	return &body{typ: typ, raw: raw}
}

// deflated compresses raw on first use. Stateless blocks never refer to
// earlier messages, so the same bytes continue any recipient's zlib stream.
func (b *body) deflated() []byte {
	b.once.Do(func() { b.z = deflate(nil, b.raw) })
	return b.z
}

// deflate appends p as deflate blocks ending in an empty stored block, so
// the output is byte-aligned and ends 00 00 ff ff (Z_SYNC_FLUSH).
func deflate(dst, p []byte) []byte {
	buf := bytes.NewBuffer(dst)
	// Writing to a bytes.Buffer cannot fail.
	_ = flate.StatelessDeflate(buf, p, false, nil)
	return buf.Bytes()
}

// zlibHeader starts a zlib stream: deflate, 32 KiB window, no dictionary.
var zlibHeader = []byte{0x78, 0x01}

// zlibEnd is a final empty stored block: it ends a per-payload zlib message.
var zlibEnd = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// dispatchPrefix appends the envelope of a dispatch up to its "d" value.
func dispatchPrefix(dst []byte, typ string, seq int64) []byte {
	dst = append(dst, `{"op":0,"t":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","s":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	return append(dst, `,"d":`...)
}

// controlFrame renders a non-dispatch frame; s and t are null, as Discord
// sends them.
func controlFrame(op int, d any) []byte {
	data, err := json.Marshal(d)
	if err != nil {
		data = []byte("null")
	}
	out := append([]byte(`{"op":`), strconv.Itoa(op)...)
	out = append(out, `,"d":`...)
	out = append(out, data...)
	return append(out, `,"s":null,"t":null}`...)
}

// compression is how a connection compresses what it sends.
type compression uint8

const (
	compressNone    compression = iota
	compressStream              // ?compress=zlib-stream
	compressPayload             // identify compress: true
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// encode builds the frame of head (a prefix or a whole control frame) and
// tail (a dispatch body or nil) for mode. first says whether this is the
// first frame of a zlib stream. It returns the frame and whether it is
// binary; release gives its buffer back.
func encode(mode compression, first bool, head []byte, tail *body) (frame []byte, binaryFrame bool, release func()) {
	if mode == compressNone {
		return nil, false, nil
	}
	bp := bufPool.Get().(*[]byte)
	out := (*bp)[:0]
	out = append(out, zlibHeader...)
	if mode == compressStream && !first {
		out = out[:0]
	}
	out = deflate(out, head)
	if tail != nil {
		out = append(out, tail.deflated()...)
	}
	if mode == compressPayload {
		h := adler32.New()
		h.Write(head)
		if tail != nil {
			h.Write(tail.raw)
		}
		out = append(out, zlibEnd...)
		out = binary.BigEndian.AppendUint32(out, h.Sum32())
	}
	return out, true, func() { *bp = out[:0]; bufPool.Put(bp) }
}
