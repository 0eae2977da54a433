package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestAllow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(rate.Every(10*time.Second), 2, 100)
	steps := []struct {
		key   string
		at    time.Duration
		ok    bool
		retry time.Duration
	}{
		{"a", 0, true, 0},
		{"a", 0, true, 0},
		{"a", 0, false, 10 * time.Second}, // burst spent
		{"b", 0, true, 0},                 // other keys are independent
		{"a", 5 * time.Second, false, 5 * time.Second},
		{"a", 10 * time.Second, true, 0}, // one token back
		{"a", 10 * time.Second, false, 10 * time.Second},
	}
	for i, s := range steps {
		ok, retry := l.Allow(s.key, now.Add(s.at))
		if ok != s.ok || retry != s.retry {
			t.Errorf("step %d: Allow(%q, +%v) = %v, %v; want %v, %v", i, s.key, s.at, ok, retry, s.ok, s.retry)
		}
	}
}

func TestBoundedKeys(t *testing.T) {
	now := time.Now()
	l := New(rate.Every(time.Hour), 1, 3)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
	}
	if n := l.Len(); n != 3 {
		t.Fatalf("Len = %d after 1000 keys, want the bound 3", n)
	}
	// The most recent keys are the ones kept: their bucket is empty.
	if ok, _ := l.Allow("10.0.3.231", now); ok {
		t.Error("a recently seen key was forgotten")
	}
	// The least recently used key was evicted and starts afresh.
	if ok, _ := l.Allow("10.0.0.0", now); !ok {
		t.Error("an evicted key should start with a full bucket")
	}
}

func TestZeroBurst(t *testing.T) {
	l := New(rate.Every(time.Second), 0, 10)
	if ok, retry := l.Allow("x", time.Now()); ok || retry <= 0 {
		t.Errorf("Allow with burst 0 = %v, %v", ok, retry)
	}
}

// TestReserveUndo: an event given back with undo does not count.
func TestReserveUndo(t *testing.T) {
	l := New(rate.Every(time.Hour), 2, 10)
	now := time.Unix(1_800_000_000, 0)
	for range 5 {
		ok, _, undo := l.Reserve("client", now)
		if !ok {
			t.Fatal("a reservation given back still counted")
		}
		undo()
	}
	for i := range 2 {
		if ok, _ := l.Allow("client", now); !ok {
			t.Fatalf("event %d of the burst refused", i)
		}
	}
	if ok, retry, undo := l.Reserve("client", now); ok || retry <= 0 || undo != nil {
		t.Errorf("third event = %v, %v; want refused with a retry time", ok, retry)
	}
}
