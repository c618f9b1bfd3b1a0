package bus

import (
	"testing"
	"time"
)

func TestFastClockFollowsTheSystemClock(t *testing.T) {
	c := newFastClock()
	for range 1000 {
		before := time.Now()
		got := c.Now()
		after := time.Now()
		// Monotonic readings order the three exactly; the wall readings agree within the
		// resync period.
		if got.Before(before) || got.After(after) {
			t.Fatalf("fast clock %v outside [%v, %v]", got, before, after)
		}
		if w := got.Round(0); w.Before(before.Round(0).Add(-wallResync)) || w.After(after.Round(0).Add(wallResync)) {
			t.Fatalf("wall time %v far from [%v, %v]", w, before.Round(0), after.Round(0))
		}
	}
}

func TestFastClockResyncs(t *testing.T) {
	c := newFastClock()
	stale := time.Now().Add(-2 * wallResync)
	c.epoch.Store(&stale)
	got := c.Now()
	if d := time.Since(got); d < 0 || d > wallResync {
		t.Fatalf("after a stale epoch the clock is %v off", d)
	}
	if e := c.epoch.Load(); e.Equal(stale) {
		t.Fatal("the epoch was not refreshed")
	}
}

// BenchmarkFastClock vs BenchmarkBaselineTimeNow: the cost of stamping an event.
func BenchmarkFastClock(b *testing.B) {
	now := newFastClock().Now
	var t time.Time
	for b.Loop() {
		t = now()
	}
	_ = t
}

func BenchmarkBaselineTimeNow(b *testing.B) {
	var t time.Time
	for b.Loop() {
		t = time.Now()
	}
	_ = t
}
