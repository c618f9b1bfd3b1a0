package bus

import (
	"container/heap"
	"sync"
	"time"
)

// deadlines enforces the bus default deadline with one timer for the whole bus, so a call costs
// no timer of its own: calls sit in a min-heap by deadline and the timer fires for the earliest.
type deadlines struct {
	bus   *Bus
	mu    sync.Mutex
	h     deadlineHeap
	timer *time.Timer
	at    time.Time // when the timer fires; zero when stopped
	dead  bool
}

type deadlineHeap []*Result

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h deadlineHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *deadlineHeap) Push(x any) {
	r := x.(*Result)
	r.heapIdx = len(*h)
	*h = append(*h, r)
}
func (h *deadlineHeap) Pop() any {
	old := *h
	n := len(old)
	r := old[n-1]
	old[n-1] = nil
	r.heapIdx = -1
	*h = old[:n-1]
	return r
}

func (d *deadlines) add(r *Result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return
	}
	heap.Push(&d.h, r)
	if r.heapIdx == 0 && (d.at.IsZero() || r.deadline.Before(d.at)) {
		d.arm(r.deadline)
	}
}

// arm sets the timer for t; called with d.mu held.
func (d *deadlines) arm(t time.Time) {
	wait := t.Sub(d.bus.opts.Now())
	if wait < 0 {
		wait = 0
	}
	d.at = t
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
}

func (d *deadlines) remove(r *Result) {
	d.mu.Lock()
	if r.heapIdx >= 0 && r.heapIdx < len(d.h) && d.h[r.heapIdx] == r {
		heap.Remove(&d.h, r.heapIdx)
	}
	d.mu.Unlock()
}

func (d *deadlines) fire() {
	d.mu.Lock()
	if d.dead {
		d.mu.Unlock()
		return
	}
	now := d.bus.opts.Now()
	var expired []*Result
	for len(d.h) > 0 && !d.h[0].deadline.After(now) {
		expired = append(expired, heap.Pop(&d.h).(*Result))
	}
	d.at = time.Time{}
	if len(d.h) > 0 {
		d.arm(d.h[0].deadline)
	}
	d.mu.Unlock()
	for _, r := range expired {
		r.reject(errTimedOut(r.call.Command))
	}
}

func (d *deadlines) stop() {
	d.mu.Lock()
	d.dead = true
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
}

// drain empties the heap and returns the calls that were in it.
func (d *deadlines) drain() []*Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*Result, 0, len(d.h))
	for len(d.h) > 0 {
		out = append(out, heap.Pop(&d.h).(*Result))
	}
	return out
}
