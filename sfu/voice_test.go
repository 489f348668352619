package sfu

import (
	"strings"
	"testing"
	"time"
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
	for _, p := range b.got(2, "microphone") {
		if !strings.HasPrefix(string(p.Payload), "from-a:") {
			t.Fatalf("b got payload %q", p.Payload)
		}
	}
	if n := len(a.ops(opClientsConnect)); n == 0 {
		t.Error("a was not told that b connected")
	}
}
