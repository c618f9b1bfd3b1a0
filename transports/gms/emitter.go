package gms

import (
	"context"
	"sync"

	"github.com/cxbus/webchat/transports"
)

// emitter serializes the event stream: producers append to an unbounded
// FIFO without blocking (so they may hold the transport's lock), one
// goroutine forwards to the public channel in order and closes it after the
// final event (EventEnded) or when the transport is closed.
type emitter struct {
	out  chan transports.Event
	mu   sync.Mutex
	q    []transports.Event
	wake chan struct{}
	// final is set once the last event was queued: later events are dropped.
	final bool
	// pending counts events pushed but not yet handed to out; flush waits for 0.
	pending  int
	flushers []chan struct{}
}

func newEmitter() *emitter {
	return &emitter{out: make(chan transports.Event, 16), wake: make(chan struct{}, 1)}
}

// push queues ev; it reports false when the stream is already final.
func (e *emitter) push(ev transports.Event) bool {
	e.mu.Lock()
	if e.final {
		e.mu.Unlock()
		return false
	}
	e.q = append(e.q, ev)
	e.pending++
	e.mu.Unlock()
	e.signal()
	return true
}

// flush waits until every event pushed so far is on the public channel (not necessarily
// read), so Start and Resume return only after the events they caused are visible to the
// consumer, in order, before the call's own result. It gives up when ctx or closed ends.
func (e *emitter) flush(ctx context.Context, closed <-chan struct{}) {
	e.mu.Lock()
	if e.pending == 0 {
		e.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	e.flushers = append(e.flushers, ch)
	e.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-closed:
	}
}

// sent records n events handed to out and releases flushers when none is pending.
func (e *emitter) sent(n int) {
	e.mu.Lock()
	e.pending -= n
	var fl []chan struct{}
	if e.pending <= 0 {
		e.pending = 0
		fl, e.flushers = e.flushers, nil
	}
	e.mu.Unlock()
	for _, ch := range fl {
		close(ch)
	}
}

// finish queues the last event (nil: none) and makes the stream final.
func (e *emitter) finish(last *transports.Event) {
	e.mu.Lock()
	if e.final {
		e.mu.Unlock()
		return
	}
	if last != nil {
		e.q = append(e.q, *last)
		e.pending++
	}
	e.final = true
	e.mu.Unlock()
	e.signal()
}

// reset drops everything queued (a failed Start).
func (e *emitter) reset() {
	e.mu.Lock()
	n := len(e.q)
	e.q = nil
	e.mu.Unlock()
	e.sent(n)
}

func (e *emitter) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run forwards events until the stream is final and drained, or until
// closed is closed (events not yet taken are then dropped). It closes out.
func (e *emitter) run(closed <-chan struct{}) {
	defer close(e.out)
	for {
		e.mu.Lock()
		q := e.q
		e.q = nil
		final := e.final
		e.mu.Unlock()
		for _, ev := range q {
			select {
			case e.out <- ev:
				e.sent(1)
			case <-closed:
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		if final {
			return
		}
		select {
		case <-e.wake:
		case <-closed:
			return
		}
	}
}
