package guilds

import (
	"strings"
	"testing"
)

func TestSanitizeFilename(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"cat.png", "cat.png"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\photo 1.jpg`, "photo_1.jpg"},
		{"résumé.pdf", "résumé.pdf"},
		{"..", "unknown"},
		{"", "unknown"},
		{"a\"b;c\r\n.txt", "a_b_c__.txt"},
		{strings.Repeat("x", 300) + ".png", strings.Repeat("x", 251) + ".png"},
	} {
		if got := sanitizeFilename(c.in); got != c.want {
			t.Errorf("sanitizeFilename(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
