package transports

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is the source of time for every timer in a transport, so tests can
// drive timers with a [FakeClock] instead of sleeping.
type Clock interface {
	Now() time.Time
	// NewTimer is like time.NewTimer.
	NewTimer(d time.Duration) Timer
	// AfterFunc is like time.AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is like *time.Timer.
type Timer interface {
	// C is the channel the timer fires on (nil for AfterFunc timers).
	C() <-chan time.Time
	// Stop is like time.Timer.Stop.
	Stop() bool
	// Reset is like time.Timer.Reset.
	Reset(d time.Duration) bool
}

// SystemClock returns the real clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}
func (systemClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// Sleep waits for d on clock c, or until ctx is done (returning ctx.Err()).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// FakeClock is a manually advanced Clock for tests. Timers fire during
// Advance/Set, in deadline order; AfterFunc functions run synchronously in the
// goroutine calling Advance (after the clock's lock is released).
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	seq     uint64
	waiters []chan struct{}
}

// NewFakeClock returns a FakeClock set to start (a fixed date when zero).
func NewFakeClock(start time.Time) *FakeClock {
	if start.IsZero() {
		start = time.Date(2020, 8, 5, 13, 0, 0, 0, time.UTC)
	}
	return &FakeClock{now: start}
}

type fakeTimer struct {
	c      *FakeClock
	ch     chan time.Time
	fn     func()
	when   time.Time
	seq    uint64
	active bool
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the fake time reaches now+d.
func (c *FakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// AfterFunc returns a timer that calls f when the fake time reaches now+d.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	t := &fakeTimer{c: c, fn: f}
	t.Reset(d)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.c.remove(t)
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	was := t.active
	c.remove(t)
	c.seq++
	t.seq = c.seq
	t.when = c.now.Add(d)
	t.active = true
	c.timers = append(c.timers, t)
	c.notifyLocked()
	c.mu.Unlock()
	if d <= 0 {
		c.Advance(0)
	}
	return was
}

func (c *FakeClock) remove(t *fakeTimer) {
	if !t.active {
		return
	}
	t.active = false
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return
		}
	}
}

func (c *FakeClock) notifyLocked() {
	for _, w := range c.waiters {
		close(w)
	}
	c.waiters = nil
}

// Advance moves the fake time forward by d, firing every timer that falls due
// (in deadline order, each at its own deadline).
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.advanceTo(target)
}

// Set moves the fake time to t (never backwards) and fires due timers.
func (c *FakeClock) Set(t time.Time) { c.advanceTo(t) }

func (c *FakeClock) advanceTo(target time.Time) {
	for {
		c.mu.Lock()
		sort.Slice(c.timers, func(i, j int) bool {
			if c.timers[i].when.Equal(c.timers[j].when) {
				return c.timers[i].seq < c.timers[j].seq
			}
			return c.timers[i].when.Before(c.timers[j].when)
		})
		if len(c.timers) == 0 || c.timers[0].when.After(target) {
			if target.After(c.now) {
				c.now = target
			}
			c.mu.Unlock()
			return
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		t.active = false
		if t.when.After(c.now) {
			c.now = t.when
		}
		now := c.now
		c.mu.Unlock()
		if t.fn != nil {
			t.fn()
		} else {
			select {
			case t.ch <- now:
			default:
			}
		}
	}
}

// Pending returns the number of armed timers.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// BlockUntil waits until at least n timers are armed, or ctx is done. Use it to
// know that the code under test is waiting on the clock before Advance.
func (c *FakeClock) BlockUntil(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.timers) >= n {
			c.mu.Unlock()
			return nil
		}
		w := make(chan struct{})
		c.waiters = append(c.waiters, w)
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w:
		}
	}
}
