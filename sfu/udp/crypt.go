package udp

import (
	"crypto/aes"
	gocipher "crypto/cipher"
	"encoding/binary"
	"errors"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/nacl/secretbox"
)

// Encryption modes, Discord's names, in the order the server prefers them.
const (
	ModeAES256GCM  = "aead_aes256_gcm_rtpsize"
	ModeXChaCha20  = "aead_xchacha20_poly1305_rtpsize"
	ModeXSalsa20   = "xsalsa20_poly1305" // Discord's old mode, which discordgo still speaks
	KeySize        = 32
	headerSize     = 12
	nonceTrailer   = 4 // the rtpsize modes' nonce counter, after the ciphertext
	extensionBit   = 0x10
	csrcCountMask  = 0x0f
	maxPacket      = 1500
	opusPayload    = 120 // the payload type Discord's clients send Opus with
	discoverySize  = 74
	discoveryBody  = 70
	discoveryAsk   = 1
	discoveryReply = 2
)

// Modes lists the encryption modes the server takes, preferred first.
var Modes = []string{ModeAES256GCM, ModeXChaCha20, ModeXSalsa20}

// ErrMode refuses an encryption mode the server does not speak.
var ErrMode = errors.New("unknown encryption mode")

// Crypt seals what the server sends and opens what a client sends, in one
// mode with one key.
type Crypt interface {
	// Seal appends header and the sealed payload to dst.
	Seal(dst, header, payload []byte) []byte
	// Open returns the payload of a packet (header extension removed), or
	// false when it does not authenticate.
	Open(packet []byte) ([]byte, bool)
}

// NewCrypt returns mode's Crypt with key: the server's and, with the
// same key, a client's.
func NewCrypt(mode string, key *[KeySize]byte) (Crypt, error) {
	switch mode {
	case ModeAES256GCM:
		block, err := aes.NewCipher(key[:])
		if err != nil {
			return nil, err
		}
		g, err := gocipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		return &rtpsize{aead: g}, nil
	case ModeXChaCha20:
		x, err := chacha20poly1305.NewX(key[:])
		if err != nil {
			return nil, err
		}
		return &rtpsize{aead: x}, nil
	case ModeXSalsa20:
		return &xsalsa{key: *key}, nil
	}
	return nil, ErrMode
}

// headerLen is the length of an RTP packet's header with its CSRCs, and,
// when ext, the 4-byte preamble of its extension; 0 when the packet is
// shorter than that.
func headerLen(p []byte, ext bool) int {
	if len(p) < headerSize {
		return 0
	}
	n := headerSize + 4*int(p[0]&csrcCountMask)
	if ext && p[0]&extensionBit != 0 {
		n += 4
	}
	if len(p) < n {
		return 0
	}
	return n
}

// stripExtension removes the extension body, whose length in 32-bit words
// the preamble ends with, from the front of a decrypted payload.
func stripExtension(preamble, payload []byte) ([]byte, bool) {
	n := 4 * int(binary.BigEndian.Uint16(preamble[2:4]))
	if n > len(payload) {
		return nil, false
	}
	return payload[n:], true
}

// rtpsize is the aead_*_rtpsize modes: the header, CSRCs and extension
// preamble are the additional data; the extension body and payload are
// sealed; a 32-bit counter after the ciphertext is the nonce's first
// bytes, the rest zero.
type rtpsize struct {
	aead    gocipher.AEAD
	counter atomic.Uint32
}

func (r *rtpsize) Seal(dst, header, payload []byte) []byte {
	var nonce [chacha20poly1305.NonceSizeX]byte
	n := r.counter.Add(1)
	binary.BigEndian.PutUint32(nonce[:], n)
	dst = append(dst, header...)
	dst = r.aead.Seal(dst, nonce[:r.aead.NonceSize()], payload, header)
	return binary.BigEndian.AppendUint32(dst, n)
}

func (r *rtpsize) Open(p []byte) ([]byte, bool) {
	h := headerLen(p, true)
	if h == 0 || len(p) < h+r.aead.Overhead()+nonceTrailer {
		return nil, false
	}
	var nonce [chacha20poly1305.NonceSizeX]byte
	copy(nonce[:], p[len(p)-nonceTrailer:])
	out, err := r.aead.Open(nil, nonce[:r.aead.NonceSize()], p[h:len(p)-nonceTrailer], p[:h])
	if err != nil {
		return nil, false
	}
	if p[0]&extensionBit != 0 {
		return stripExtension(p[h-4:h], out)
	}
	return out, true
}

// xsalsa is xsalsa20_poly1305: the 12-byte header, zero-padded, is the
// nonce, and everything after the header is sealed (an extension too).
type xsalsa struct{ key [KeySize]byte }

func (x *xsalsa) Seal(dst, header, payload []byte) []byte {
	var nonce [24]byte
	copy(nonce[:], header[:headerSize])
	return secretbox.Seal(append(dst, header...), payload, &nonce, &x.key)
}

func (x *xsalsa) Open(p []byte) ([]byte, bool) {
	h := headerLen(p, false)
	if h == 0 {
		return nil, false
	}
	var nonce [24]byte
	copy(nonce[:], p[:headerSize])
	out, ok := secretbox.Open(nil, p[h:], &nonce, &x.key)
	if !ok || p[0]&extensionBit == 0 {
		return out, ok
	}
	if len(out) < 4 {
		return nil, false
	}
	return stripExtension(out[:4], out[4:])
}
