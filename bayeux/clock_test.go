package bayeux

import (
	"sync"
	"time"
)

// fakeClock is a manual clock: timers fire when Advance moves time past them. Every
// timer created is reported on created (if set), so tests can follow what the code
// waits for without sleeping.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created chan time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

type fakeTimer struct {
	clk     *fakeClock
	at      time.Time
	c       chan time.Time
	stopped bool
	fired   bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	t := &fakeTimer{clk: c, at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.fired = true
		t.c <- c.now
	} else {
		c.timers = append(c.timers, t)
	}
	ch := c.created
	c.mu.Unlock()
	if ch != nil {
		ch <- d
	}
	return t
}

// Advance moves time forward and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.stopped || t.fired {
			continue
		}
		if !t.at.After(c.now) {
			t.fired = true
			t.c <- c.now
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	active := !t.stopped && !t.fired
	t.stopped = true
	return active
}
