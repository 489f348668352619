package channel

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"concord/sfu/media"
)

// receiver records which tracks it is sent.
type receiver struct {
	mu  sync.Mutex
	got map[media.Track]bool
}

func (r *receiver) Add(t media.Track) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[t] = true
	return nil
}

func (r *receiver) Remove(t media.Track) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.got, t)
}

func (r *receiver) has(t media.Track) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[t]
}

// observer records the viewer lists it hears, and who speaks.
type observer struct {
	mu       sync.Mutex
	viewers  map[uint64][]uint64
	speaking map[uint64]bool
	joined   [][]uint64 // each Joined call's users
}

func (o *observer) Joined(users []uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.joined = append(o.joined, users)
}
func (*observer) Left(uint64) {}
func (o *observer) Speaking(user uint64, on, _ bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.speaking[user] = on
}
func (*observer) Published(media.Info)   {}
func (*observer) Unpublished(media.Info) {}
func (*observer) Recording(uint64, bool) {}
func (o *observer) Viewers(streamer uint64, v []uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.viewers[streamer] = v
}

func member(user uint64) (*Member, *receiver, *observer) {
	r := &receiver{got: map[media.Track]bool{}}
	o := &observer{viewers: map[uint64][]uint64{}, speaking: map[uint64]bool{}}
	return &Member{UserID: user, Receiver: r, Observer: o}, r, o
}

func track(owner uint64, kind media.Kind, source media.Source) media.Track {
	mime := "audio/opus"
	if kind == media.Video {
		mime = "video/VP8"
	}
	return media.NewFanout(media.Info{Owner: owner, Kind: kind, Source: source, Codec: webrtc.RTPCodecCapability{MimeType: mime}}, nil)
}

func TestWhoReceivesWhat(t *testing.T) {
	c := New()
	defer c.Close()
	sharer, _, _ := member(1)
	watcher, wr, wo := member(2)
	other, or, _ := member(3)
	for _, m := range []*Member{sharer, watcher, other} {
		c.Join(m)
	}
	rec := &receiver{got: map[media.Track]bool{}}
	c.Record(&Member{UserID: 9, Receiver: rec})
	mic, cam := track(1, media.Audio, media.Microphone), track(1, media.Video, media.Camera)
	screen, sound := track(1, media.Video, media.Screen), track(1, media.Audio, media.ScreenAudio)
	for _, tr := range []media.Track{mic, cam, screen, sound} {
		c.Publish(sharer, tr)
	}
	c.Watch(watcher, 1, true)
	c.Watch(watcher, 77, true) // nobody here: not kept
	if watcher.watching[77] {
		t.Error("watching a user who is not in the channel was kept")
	}

	for _, tt := range []struct {
		name string
		r    *receiver
		t    media.Track
		want bool
	}{
		{"the watcher, the microphone", wr, mic, true},
		{"the watcher, the screen", wr, screen, true},
		{"the watcher, the screen's sound", wr, sound, true},
		{"the other, the camera", or, cam, true},
		{"the other, the screen", or, screen, false},
		{"the other, the screen's sound", or, sound, false},
		{"the recorder, the screen", rec, screen, true},
		{"the recorder, the screen's sound", rec, sound, true},
	} {
		if got := tt.r.has(tt.t); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	wo.mu.Lock()
	if v := wo.viewers[1]; len(v) != 1 || v[0] != 2 {
		t.Errorf("viewers of 1: %v, want [2]", v)
	}
	wo.mu.Unlock()

	// Deafened, the watcher keeps the picture and loses the sound.
	c.SetState(watcher, State{SelfDeaf: true})
	if !wr.has(screen) || wr.has(sound) || wr.has(mic) {
		t.Errorf("deafened watcher: screen %v, sound %v, microphone %v; want true, false, false", wr.has(screen), wr.has(sound), wr.has(mic))
	}
	c.SetState(watcher, State{})
	c.Watch(watcher, 1, false)
	if wr.has(screen) || wr.has(sound) || !wr.has(mic) {
		t.Errorf("after unwatching: screen %v, sound %v, microphone %v; want false, false, true", wr.has(screen), wr.has(sound), wr.has(mic))
	}
	for _, m := range []*Member{sharer, watcher, other} {
		c.Leave(m)
	}
}

// loud is a microphone on which someone always speaks.
type loud struct{ media.Track }

func (loud) Speaking(time.Time) bool { return true }

// A member who joins while someone speaks hears it at once, not at the
// next change.
func TestJoinerHearsWhoSpeaks(t *testing.T) {
	c := New()
	defer c.Close()
	speaker, _, _ := member(1)
	c.Join(speaker)
	c.Publish(speaker, loud{track(1, media.Audio, media.Microphone)})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		_, on := c.speaking[speaker]
		c.mu.Unlock()
		if on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the speaker never spoke")
		}
	}
	joiner, _, o := member(2)
	c.Join(joiner)
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.speaking[1] {
		t.Error("the joiner was not told that 1 speaks")
	}
}

// A member who joins a full channel hears of everyone there in one call,
// which the session sends as one op 11 (in frames of a thousand), not one
// each: 300 frames at once would overrun the connection's queue.
func TestJoinerHearsEveryoneAtOnce(t *testing.T) {
	c := New()
	defer c.Close()
	var first *observer
	for u := uint64(1); u < 300; u++ {
		m, _, o := member(u)
		c.Join(m)
		if u == 1 {
			first = o
		}
	}
	last, _, o := member(300)
	c.Join(last)
	o.mu.Lock()
	calls := o.joined
	o.mu.Unlock()
	if len(calls) != 1 || len(calls[0]) != 299 || calls[0][0] != 1 || calls[0][298] != 299 {
		t.Fatalf("the joiner heard %d calls, the first of %d users", len(calls), len(calls[0]))
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	if n := len(first.joined); n != 299 || first.joined[n-1][0] != 300 {
		t.Errorf("the first member heard %d calls, want one per member who came after", n)
	}
}
