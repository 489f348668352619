package sfu

import (
	"strings"
	"testing"
	"time"

	"concord/federation/snowflake"
)

func TestTwoUsersHearEachOther(t *testing.T) {
	r := newRig(t, 3, nil)
	a := r.connect(t, 2, testVoice)
	b := r.connect(t, 3, testVoice)
	go a.speak("from-a", 50, 30)
	b.speak("from-b", 50, 30)
	waitFor(t, "packets both ways", 5*time.Second, func() bool {
		return len(a.got(3, "microphone")) > 30 && len(b.got(2, "microphone")) > 30
	})
	wantFrom(t, b, 2, "from-a:")
	if n := len(a.ops(opClientsConnect)); n == 0 {
		t.Error("a was not told that b connected")
	}
}

// wantFrom checks that every packet c received of user's microphone
// carries what they sent, which begins with prefix.
func wantFrom(t *testing.T, c *client, user snowflake.ID, prefix string) {
	t.Helper()
	for _, p := range c.got(user, "microphone") {
		if !strings.HasPrefix(string(p.Payload), prefix) {
			t.Fatalf("%s got %q from %s", c.user, p.Payload, user)
		}
	}
}
