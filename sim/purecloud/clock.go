package purecloud

import (
	"sort"
	"sync"
	"time"
)

// Clock is the time source of the simulator's timers: heartbeats, the
// scripted lifecycle, idle and detach timeouts, JWT lifetimes, close grace
// and injected latency. The zero Options use the real clock; tests pass a
// *VirtualClock and move it with Advance.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has elapsed, in its own goroutine or (for a
	// virtual clock) in the goroutine that advances the clock.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call; it reports whether the call was still pending.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// VirtualClock is a manual Clock for deterministic tests. Time stands still
// until Advance moves it; due callbacks run synchronously, in due order,
// inside Advance.
type VirtualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers map[*vtimer]struct{}
}

type vtimer struct {
	c    *VirtualClock
	when time.Time
	seq  uint64
	f    func()
}

// NewVirtualClock returns a VirtualClock reading start.
func NewVirtualClock(start time.Time) *VirtualClock {
	return &VirtualClock{now: start, timers: make(map[*vtimer]struct{})}
}

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d.
func (c *VirtualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &vtimer{c: c, when: c.now.Add(d), seq: c.seq, f: f}
	c.timers[t] = struct{}{}
	return t
}

// Stop cancels the timer.
func (t *vtimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.timers[t]
	delete(t.c.timers, t)
	return ok
}

// Pending reports how many timers are scheduled.
func (c *VirtualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Advance moves the clock forward by d, running every callback that falls
// due on the way (including ones scheduled by those callbacks), in order.
func (c *VirtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var due []*vtimer
		for t := range c.timers {
			if !t.when.After(target) {
				due = append(due, t)
			}
		}
		if len(due) == 0 {
			if target.After(c.now) {
				c.now = target
			}
			c.mu.Unlock()
			return
		}
		sort.Slice(due, func(i, j int) bool {
			if due[i].when.Equal(due[j].when) {
				return due[i].seq < due[j].seq
			}
			return due[i].when.Before(due[j].when)
		})
		t := due[0]
		delete(c.timers, t)
		if t.when.After(c.now) {
			c.now = t.when
		}
		c.mu.Unlock()
		t.f()
	}
}
