package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/webchatservice"
)

// recorder keeps every event it is given, in order, and lets a goroutine wait for the next one
// that matches a condition, without polling or sleeping.
type recorder struct {
	mu      sync.Mutex
	events  []bus.Event
	changed chan struct{} // closed and replaced on every add
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(e bus.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Wait returns the first event recorded at index from or later (see Len) whose short name
// (without "WebChatService.") is name and for which match (nil: any) returns true, waiting for
// it if needed. Take from = Len() before an action to wait for what the action causes. It fails
// when ctx ends, naming what it waited for.
func (r *recorder) Wait(ctx context.Context, from int, name string, match func(bus.Event) bool) (bus.Event, error) {
	full := webchatservice.PluginName + "." + name
	for {
		r.mu.Lock()
		for i := from; i < len(r.events); i++ {
			e := r.events[i]
			if e.Name == full && (match == nil || match(e)) {
				r.mu.Unlock()
				return e, nil
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return bus.Event{}, fmt.Errorf("waiting for %s: %w (events so far: %s)", name, ctx.Err(), r.names())
		}
	}
}

// Seen reports whether an event with the short name was recorded.
func (r *recorder) Seen(name string) bool {
	full := webchatservice.PluginName + "." + name
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Name == full {
			return true
		}
	}
	return false
}

// Len returns the number of recorded events.
func (r *recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) names() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(r.events))
	for i, e := range r.events {
		names[i] = strings.TrimPrefix(e.Name, webchatservice.PluginName+".")
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// messageFrom matches a messageReceived event holding a message of the given participant type
// whose text contains substr.
func messageFrom(typ, substr string) func(bus.Event) bool {
	return func(e bus.Event) bool {
		d, ok := e.Data.(webchatservice.MessageReceived)
		if !ok {
			return false
		}
		for _, m := range d.Messages {
			if string(m.From.Type) == typ && strings.Contains(m.Text, substr) {
				return true
			}
		}
		return false
	}
}

// anyMatch reports whether a recorded event with the short name satisfies match.
func (r *recorder) anyMatch(name string, match func(bus.Event) bool) bool {
	full := webchatservice.PluginName + "." + name
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Name == full && match(e) {
			return true
		}
	}
	return false
}
