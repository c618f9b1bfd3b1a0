// Package transporttest holds helpers for tests of transports: reading what a transport's
// event stream delivered. Both transports of this module and applications testing their own
// transport use it.
package transporttest

import (
	"sync"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports"
)

// Count returns how many events of kind k evs holds.
func Count(evs []transports.Event, k transports.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// Messages returns every message the events delivered, in order.
func Messages(evs []transports.Event) []transports.Message {
	var out []transports.Message
	for _, e := range evs {
		if e.Kind == transports.EventMessages {
			out = append(out, e.Messages...)
		}
	}
	return out
}

// DefaultWait is how long a Recorder's waits last unless its Timeout says otherwise.
const DefaultWait = 30 * time.Second

// Recorder collects everything a transport's event stream delivers, for tests to wait on.
type Recorder struct {
	// Timeout bounds each wait (default DefaultWait).
	Timeout time.Duration

	mu      sync.Mutex
	events  []transports.Event
	changed chan struct{}
	done    chan struct{}
}

// EventSource is what Record reads: any transports.Transport.
type EventSource interface {
	Events() <-chan transports.Event
}

// Record starts reading tr.Events() until the stream closes.
func Record(tr EventSource) *Recorder {
	r := &Recorder{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range tr.Events() {
			r.mu.Lock()
			r.events = append(r.events, ev)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

// Events returns a copy of the events so far.
func (r *Recorder) Events() []transports.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]transports.Event(nil), r.events...)
}

// Done is closed when the event stream has closed and every event is recorded.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Closed reports whether the event stream has closed.
func (r *Recorder) Closed() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *Recorder) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultWait
}

// WaitFor waits until cond holds for the events so far and returns them. It fails the test
// when the timeout passes, or when the stream closed without cond holding.
func (r *Recorder) WaitFor(t testing.TB, what string, cond func([]transports.Event) bool) []transports.Event {
	t.Helper()
	deadline := time.NewTimer(r.timeout())
	defer deadline.Stop()
	for {
		r.mu.Lock()
		evs := append([]transports.Event(nil), r.events...)
		ch := r.changed
		r.mu.Unlock()
		if cond(evs) {
			return evs
		}
		select {
		case <-ch:
		case <-r.done:
			if evs = r.Events(); cond(evs) {
				return evs
			}
			t.Fatalf("event stream closed before %s; events: %v", what, Kinds(evs))
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; events: %v", what, Kinds(evs))
		}
	}
}

// WaitKind waits for the first event of kind k and returns it.
func (r *Recorder) WaitKind(t testing.TB, k transports.EventKind) transports.Event {
	t.Helper()
	evs := r.WaitFor(t, k.String(), func(evs []transports.Event) bool { return Count(evs, k) > 0 })
	for _, e := range evs {
		if e.Kind == k {
			return e
		}
	}
	panic("transporttest: WaitFor returned without the event")
}

// WaitClosed waits until the event stream closes and returns every event.
func (r *Recorder) WaitClosed(t testing.TB) []transports.Event {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(r.timeout()):
		t.Fatalf("event stream not closed; events: %v", Kinds(r.Events()))
	}
	return r.Events()
}

// Kinds describes each event, for failure messages.
func Kinds(evs []transports.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.String()
	}
	return out
}
