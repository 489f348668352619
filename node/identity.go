package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// loadOrCreateKey reads the node's Ed25519 identity key from path, in
// libp2p's protobuf key format, or creates it with mode 0600 if the file does
// not exist. It refuses a key others can read, a corrupt file and any other
// key type: the key is the node's identity in the federation, so a silent
// replacement would be worse than not starting.
func loadOrCreateKey(path string) (key crypto.PrivKey, created bool, err error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := createKey(path)
		return key, err == nil, err
	}
	if err != nil {
		return nil, false, err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, false, fmt.Errorf("%s has mode %04o, which lets others read it; run chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	key, err = crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s is corrupt: %v", path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, false, fmt.Errorf("%s holds a %s key; a node key must be Ed25519", path, key.Type())
	}
	return key, false, nil
}

// createKey writes a new key without ever replacing an existing file, so two
// processes starting at once cannot end up with different identities.
func createKey(path string) (crypto.PrivKey, error) {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	data, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return key, nil
}
