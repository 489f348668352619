package shortcache

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	c := New[string, int](time.Second, 2)
	t0 := time.Unix(1000, 0)
	c.Put("a", 1, t0)
	if v, ok := c.Get("a", t0.Add(999*time.Millisecond)); !ok || v != 1 {
		t.Fatalf("fresh entry: %d %v", v, ok)
	}
	if _, ok := c.Get("a", t0.Add(time.Second)); ok {
		t.Fatal("an entry outlived its time to live")
	}
	c.Put("b", 2, t0.Add(2*time.Second))
	c.Put("c", 3, t0.Add(2*time.Second)) // full: the expired a goes first
	if _, ok := c.Get("b", t0.Add(2*time.Second)); !ok {
		t.Fatal("a fresh entry was shed while an expired one could go")
	}
	c.Put("d", 4, t0.Add(2*time.Second))
	if len(c.m) > 2 {
		t.Fatalf("%d entries, max 2", len(c.m))
	}
	c.Delete("d")
	c.Drop(func(k string, v int) bool { return v > 0 })
	if len(c.m) != 0 {
		t.Fatalf("%d entries left", len(c.m))
	}
}
