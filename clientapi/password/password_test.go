package password

import (
	"context"
	"strings"
	"testing"
)

var cheap = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyRehash(t *testing.T) {
	ctx := context.Background()
	weak, _ := NewHasher(cheap)
	encoded, err := weak.Hash(ctx, "correct horse")
	if err != nil || !strings.HasPrefix(encoded, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q %v", encoded, err)
	}
	if ok, rehash, err := weak.Verify(ctx, "correct horse", encoded); !ok || rehash || err != nil {
		t.Fatalf("verify = %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := weak.Verify(ctx, "correct horsf", encoded); ok {
		t.Fatal("wrong password accepted")
	}
	stronger, _ := NewHasher(Params{Memory: 2048, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32})
	if ok, rehash, _ := stronger.Verify(ctx, "correct horse", encoded); !ok || !rehash {
		t.Fatalf("raised parameters: ok %v rehash %v", ok, rehash)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, _, err := weak.Verify(ctx, "x", bad); err == nil {
			t.Errorf("accepted malformed %q", bad)
		}
	}
	if err := weak.VerifyDummy(ctx, "anything"); err != nil {
		t.Fatal(err)
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		pw   string
		want error
	}{
		{"correct horse", nil},
		{"short", ErrTooShort},
		{strings.Repeat("ab", 65), ErrTooLong},
		{"xxALICExx1", ErrHasUsername},
		{"zzzzzzzzzz", ErrOneCharacter},
		{"abc\xffdefgh", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		if got := Check(tt.pw, "alice"); got != tt.want {
			t.Errorf("Check(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}
