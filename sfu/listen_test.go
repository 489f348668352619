package sfu

import (
	"sync/atomic"
	"testing"
	"time"
)

// A put whose wake-up is left over after an earlier take emptied the
// queue must not read as the queue's end.
func TestQueueSurvivesEmptyWakeups(t *testing.T) {
	q := newQueue()
	var ran atomic.Int32
	q.put(func() { ran.Add(1) })
	q.put(func() { ran.Add(1) }) // its wake-up is absorbed: one is pending
	for _, f := range q.take() {
		f()
	}
	q.ready <- struct{}{} // a wake-up with nothing behind it
	done := make(chan []func())
	go func() { done <- q.take() }()
	time.Sleep(20 * time.Millisecond)
	q.put(func() { ran.Add(1) })
	fs := <-done
	if fs == nil {
		t.Fatal("take reported a closed queue")
	}
	for _, f := range fs {
		f()
	}
	if ran.Load() != 3 {
		t.Errorf("ran %d, want 3", ran.Load())
	}
	q.close()
	if q.take() != nil {
		t.Error("a closed queue gave work")
	}
}
