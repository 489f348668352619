package node

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
)

func TestKeyCreatedThenReloaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.key")
	key, created, err := loadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %04o, want 0600", perm)
	}
	again, created, err := loadOrCreateKey(path)
	if err != nil || created {
		t.Fatalf("second load: created=%v err=%v", created, err)
	}
	if !key.Equals(again) {
		t.Error("reloaded key differs from the created one")
	}
	if key.Type() != crypto.Ed25519 {
		t.Errorf("key type = %v, want Ed25519", key.Type())
	}
}

func TestKeyRefused(t *testing.T) {
	ed, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edBytes, err := crypto.MarshalPrivateKey(ed)
	if err != nil {
		t.Fatal(err)
	}
	secp, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secpBytes, err := crypto.MarshalPrivateKey(secp)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"group readable", edBytes, 0o640, "has mode 0640"},
		{"world readable", edBytes, 0o604, "run chmod 600"},
		{"corrupt", []byte("not a key"), 0o600, "is corrupt"},
		{"empty", nil, 0o600, "is corrupt"},
		{"secp256k1", secpBytes, 0o600, "must be Ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "node.key")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := loadOrCreateKey(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v does not name %s", err, path)
			}
		})
	}
}
