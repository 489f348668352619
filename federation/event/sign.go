package event

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/canonical"
)

// Signer makes events of one node. It works out the node's peer ID once;
// making an event costs hashing and one Ed25519 signature.
type Signer struct {
	priv   crypto.PrivKey
	pub    crypto.PubKey
	origin peer.ID
	text   string
}

// NewSigner returns the signer of the node holding priv, an Ed25519 key.
func NewSigner(priv crypto.PrivKey) (*Signer, error) {
	if priv.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("sign event: %s key, only Ed25519 is accepted", priv.Type())
	}
	origin, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sign event: %w", err)
	}
	return &Signer{priv: priv, pub: priv.GetPublic(), origin: origin, text: origin.String()}, nil
}

// Sign completes e as an event of the node holding priv (an Ed25519 key): it
// sets Origin, canonicalises Content (nil means {}) and Unsigned, sorts
// PrevEvents and AuthEvents, checks every field as Parse would, and fills
// ContentHash, Signature and the ID. On error e is unchanged.
func Sign(e *Event, priv crypto.PrivKey) error {
	s, err := NewSigner(priv)
	if err != nil {
		return err
	}
	if err := s.Seal(e); err != nil {
		return err
	}
	return s.Sign(e)
}

// Seal does all of Sign but the signature: the ID is known afterwards, so a
// writer can chain a batch of events and sign them later, in parallel, with
// Sign. On error e is unchanged.
func (sg *Signer) Seal(e *Event) error {
	s := *e
	s.Origin, s.originKey = sg.origin, sg.pub
	s.originID, s.originText = sg.origin, sg.text
	if s.Content == nil {
		s.Content = []byte("{}")
	}
	var err error
	if s.Content, err = canonical.Canonicalize(s.Content); err != nil {
		return fmt.Errorf("%w: content: %w", ErrMalformed, err)
	}
	if s.Unsigned != nil {
		if s.Unsigned, err = canonical.Canonicalize(s.Unsigned); err != nil {
			return fmt.Errorf("%w: unsigned: %w", ErrMalformed, err)
		}
	}
	s.PrevEvents = slices.Sorted(slices.Values(s.PrevEvents))
	s.AuthEvents = slices.Sorted(slices.Values(s.AuthEvents))
	if err := s.check(); err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := s.appendForm((*bp)[:0], formContentHash)
	s.ContentHash = sha256.Sum256(buf)
	// The signature has a fixed length, so the size is known before signing.
	buf = s.appendForm(buf[:0], formWire)
	*bp = buf[:0]
	if len(buf) > MaxSize {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(buf), MaxSize)
	}
	s.id = s.computeID()
	*e = s
	return nil
}

// Sign signs an event Seal prepared.
func (sg *Signer) Sign(e *Event) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	signing := e.appendForm((*bp)[:0], formSigned)
	*bp = signing[:0]
	sig, err := sg.priv.Sign(signing)
	if err != nil {
		return fmt.Errorf("sign event: %w", err)
	}
	copy(e.Signature[:], sig)
	return nil
}

func idOf(signing []byte) string {
	sum := sha256.Sum256(signing)
	return "$" + b64.EncodeToString(sum[:])
}

// bufPool holds scratch space for the forms hashed on every accepted event.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

func (e *Event) computeID() string {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	signing := e.appendForm((*bp)[:0], formSigned)
	*bp = signing[:0]
	return idOf(signing)
}

// Verify checks that e is what its origin signed: the signature over the
// redacted form (which also yields the ID), and the content hash. A bad hash
// is ErrBadHash, unless the content is exactly its redacted form, which is
// ErrRedacted: the event is authentic but its content is gone.
func Verify(e *Event) error {
	key := e.originKey
	if key == nil {
		k, err := originKey(e.Origin)
		if err != nil {
			return malformed("origin: %v", err)
		}
		key = k
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := e.appendForm((*bp)[:0], formContentHash)
	intact := sha256.Sum256(buf) == e.ContentHash
	// Reject a tampered event before paying for the signature check.
	if !intact && !bytes.Equal(redactContent(nil, e.Type, e.Content), e.Content) {
		*bp = buf[:0]
		return ErrBadHash
	}
	signing := e.appendForm(buf[:0], formSigned)
	*bp = signing[:0]
	if ok, err := key.Verify(signing, e.Signature[:]); err != nil || !ok {
		return ErrBadSignature
	}
	if !intact {
		return ErrRedacted
	}
	return nil
}

// ContentIntact reports whether e's content still matches its hash, that is,
// whether it has not been redacted.
func (e *Event) ContentIntact() bool {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := e.appendForm((*bp)[:0], formContentHash)
	*bp = buf[:0]
	return sha256.Sum256(buf) == e.ContentHash
}
