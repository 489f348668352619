package password

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Length bounds in bytes. The upper bound keeps hashing cost independent of
// what a client sends; 128 bytes is far beyond any passphrase people type.
const (
	MinLen = 8
	MaxLen = 128
)

// Policy refusals, each mapped to a form error on the "password" field.
var (
	ErrTooShort     = errors.New("Must be 8 or more in length.")
	ErrTooLong      = errors.New("Must be 128 or fewer in length.")
	ErrInvalidUTF8  = errors.New("Must be valid UTF-8.")
	ErrHasUsername  = errors.New("Password must not contain your username.")
	ErrOneCharacter = errors.New("Password must not repeat a single character.")
)

// Check applies the policy to a new password for username.
func Check(pw, username string) error {
	switch {
	case len(pw) < MinLen:
		return ErrTooShort
	case len(pw) > MaxLen:
		return ErrTooLong
	case !utf8.ValidString(pw) || strings.ContainsRune(pw, utf8.RuneError):
		// U+FFFD is what JSON decoding makes of bad bytes and lone
		// surrogates (\ud800): a password holding it is not the one typed.
		return ErrInvalidUTF8
	case username != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(username)):
		return ErrHasUsername
	case oneCharacter(pw):
		return ErrOneCharacter
	}
	return nil
}

func oneCharacter(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}
