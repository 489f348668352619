package udp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/nacl/secretbox"
)

func header(ext bool) []byte {
	h := []byte{0x80, opusPayload, 0x01, 0x02, 0, 0, 0x03, 0xc0, 0xde, 0xad, 0xbe, 0xef}
	if ext {
		h[0] |= extensionBit
	}
	return h
}

// TestCryptRoundTrip: what one end seals the other opens, in every mode,
// and a flipped bit is refused.
func TestCryptRoundTrip(t *testing.T) {
	key := [KeySize]byte{1, 2, 3}
	for _, mode := range Modes {
		c, err := NewCrypt(mode, &key)
		if err != nil {
			t.Fatal(mode, err)
		}
		p := c.Seal(nil, header(false), []byte("opus frame"))
		got, ok := c.Open(p)
		if !ok || string(got) != "opus frame" {
			t.Errorf("%s: opened %q %v", mode, got, ok)
		}
		p[len(p)/2] ^= 1
		if _, ok := c.Open(p); ok {
			t.Errorf("%s: a tampered packet opened", mode)
		}
		if _, ok := c.Open(p[:5]); ok {
			t.Errorf("%s: a runt opened", mode)
		}
	}
	if _, err := NewCrypt("xsalsa20_poly1305_lite", &key); err != ErrMode {
		t.Errorf("an unknown mode: %v", err)
	}
}

// TestCryptWire pins each mode's layout as clients build it: rtpsize
// seals the extension body with the payload, after a header and
// extension preamble that are the additional data, and appends a 32-bit
// counter that begins the nonce; xsalsa20_poly1305 seals everything after
// the 12-byte header, which is the nonce.
func TestCryptWire(t *testing.T) {
	key := [KeySize]byte{9, 8, 7}
	ext := []byte{0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00} // one-byte extensions: preamble, one word
	payload := []byte("opus")
	h := append(header(true), ext[:4]...)
	body := append(append([]byte{}, ext[4:]...), payload...)

	block, _ := aes.NewCipher(key[:])
	gcm, _ := cipher.NewGCM(block)
	x, _ := chacha20poly1305.NewX(key[:])
	for mode, aead := range map[string]cipher.AEAD{ModeAES256GCM: gcm, ModeXChaCha20: x} {
		nonce := make([]byte, aead.NonceSize())
		binary.BigEndian.PutUint32(nonce, 7)
		p := binary.BigEndian.AppendUint32(aead.Seal(append([]byte{}, h...), nonce, body, h), 7)
		c, _ := NewCrypt(mode, &key)
		if got, ok := c.Open(p); !ok || !bytes.Equal(got, payload) {
			t.Errorf("%s: opened %q %v", mode, got, ok)
		}
	}

	var nonce [24]byte
	copy(nonce[:], header(true))
	p := secretbox.Seal(header(true), append(append([]byte{}, ext...), payload...), &nonce, &key)
	c, _ := NewCrypt(ModeXSalsa20, &key)
	if got, ok := c.Open(p); !ok || !bytes.Equal(got, payload) {
		t.Errorf("xsalsa20_poly1305: opened %q %v", got, ok)
	}
}
