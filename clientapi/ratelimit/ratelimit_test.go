package ratelimit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFixedWindowLocksForTheWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(Config{Limit: 2, Window: time.Minute, Now: func() time.Time { return now }})
	for i, want := range []bool{true, true, false} {
		if got := l.Allow("ip").Allowed; got != want {
			t.Fatalf("request %d allowed = %v", i, got)
		}
	}
	now = now.Add(59 * time.Second)
	if res := l.Allow("ip"); res.Allowed || res.ResetAfter != time.Second || res.Remaining != 0 {
		t.Fatalf("inside window: %+v", res)
	}
	now = now.Add(time.Second)
	if res := l.Allow("ip"); !res.Allowed || res.Remaining != 1 {
		t.Fatalf("new window: %+v", res)
	}
}

func TestBoundedMemory(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(Config{Limit: 1, Window: time.Minute, MaxKeys: 100, Now: func() time.Time { return now }})
	for i := range 1000 {
		l.Allow(fmt.Sprint(i))
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("%d keys kept, bound is 100", n)
	}
	now = now.Add(2 * time.Minute)
	l.Allow("x")
	if n := l.Len(); n != 1 {
		t.Fatalf("idle keys not evicted: %d", n)
	}
}

func TestClientIP(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:5000":             "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1::/56",
		"[::ffff:192.0.2.9]:1":       "192.0.2.9",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if got, _ := ClientIP(r); got != want {
			t.Errorf("ClientIP(%s) = %s, want %s", addr, got, want)
		}
	}
}

// Two heavy requests of one key may be in flight; a third is refused with
// 429 at once, light ones and other keys pass, and a slot frees when a
// request ends.
func TestConcurrencyBoundsHeavyRequests(t *testing.T) {
	c := NewConcurrency(2, 10)
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	h := c.Middleware(func(r *http.Request) (string, bool) { return r.Header.Get("User"), true })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			if r.Header.Get("Hold") != "" {
				<-release
			}
		}))
	req := func(user string, body string, hold bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("User", user)
		if hold {
			r.Header.Set("Hold", "1")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	heavy := strings.Repeat("x", 11)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); req("a", heavy, true) }()
		<-entered
	}
	if w := req("a", heavy, false); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("third heavy request: %d %v", w.Code, w.Header())
	}
	if w := req("a", "light", false); w.Code != 200 {
		t.Fatalf("light request: %d", w.Code)
	}
	if w := req("b", heavy, false); w.Code != 200 {
		t.Fatalf("another key: %d", w.Code)
	}
	close(release)
	wg.Wait()
	if w := req("a", heavy, false); w.Code != 200 {
		t.Fatalf("after the held ones ended: %d", w.Code)
	}
}
