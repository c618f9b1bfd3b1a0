package gms

import (
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
	e.mu.Unlock()
	e.signal()
	return true
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
	}
	e.final = true
	e.mu.Unlock()
	e.signal()
}

// reset drops everything queued (a failed Start).
func (e *emitter) reset() {
	e.mu.Lock()
	e.q = nil
	e.mu.Unlock()
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
