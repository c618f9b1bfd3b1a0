package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"
)

// Event is what a subscription callback receives. Its JSON form matches Widgets':
// {"time": <epoch ms>, "publisher": "...", "event": "Plugin.event", "data": {...}}.
type Event struct {
	// Time is the publish time; for a retained event replayed to a new subscriber, the replay time.
	Time time.Time
	// Publisher is the publishing plugin.
	Publisher string
	// Name is the full event name, Plugin.event.
	Name string
	// Data is the payload; an empty map when the publisher gave none (never nil). Payloads are
	// shared by every subscriber: treat them as read-only.
	Data any
}

// MarshalJSON encodes the event as Widgets does.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Time      int64  `json:"time"`
		Publisher string `json:"publisher"`
		Event     string `json:"event"`
		Data      any    `json:"data"`
	}{e.Time.UnixMilli(), e.Publisher, e.Name, e.Data})
}

type eventKey struct{ plugin, event string }

// subIndex is an immutable snapshot of the subscriptions; writers replace it under Bus.mu so
// Publish reads it without locking.
type subIndex struct {
	exact    map[eventKey][]*subscription
	patterns []*subscription
}

type subscription struct {
	owner  *Plugin
	pat    pattern
	fn     func(Event)
	active atomic.Bool
}

// Subscription is a handle on one subscription.
type Subscription struct{ s *subscription }

// Name returns the subscribed name or pattern.
func (s *Subscription) Name() string { return s.s.pat.display }

// Unsubscribe removes exactly this subscription; events already queued for it are discarded.
// Idempotent.
func (s *Subscription) Unsubscribe() {
	if !s.s.active.CompareAndSwap(true, false) {
		return
	}
	b := s.s.owner.bus
	b.mu.Lock()
	b.removeSubscriptionsLocked(func(x *subscription) bool { return x == s.s })
	b.mu.Unlock()
}

// Subscribe subscribes to an exact event name (Plugin.event) or a pattern ("WebChatService.*",
// "*.ready", "WebChatService.>", "*"): see ParsePattern. Events need not be declared or
// published yet. A retained event matching the name is delivered at once (asynchronously), then
// live events, each exactly once per subscription, in publish order. fn runs in this plugin's mailbox.
func (p *Plugin) Subscribe(name string, fn func(Event)) (*Subscription, error) {
	if fn == nil {
		return nil, fmt.Errorf("%w: callback for %s", ErrNilFunc, name)
	}
	pat, err := ParsePattern(name)
	if err != nil {
		return nil, err
	}
	b := p.bus
	if b.closed.Load() {
		return nil, errClosed
	}
	s := &subscription{owner: p, pat: pat, fn: fn}
	s.active.Store(true)
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.dereg.Load() {
		return nil, fmt.Errorf("%w: %s", ErrNotRegistered, p.name)
	}
	cur := b.subs.Load()
	next := &subIndex{exact: cur.exact, patterns: cur.patterns}
	if pat.exact {
		next.exact = make(map[eventKey][]*subscription, len(cur.exact)+1)
		for k, v := range cur.exact {
			next.exact[k] = v
		}
		k := eventKey{pat.plugin, pat.event}
		next.exact[k] = append(slices.Clip(cur.exact[k]), s)
	} else {
		next.patterns = append(slices.Clip(cur.patterns), s)
	}
	b.subs.Store(next)
	if b.opts.Debug {
		b.log.Debug().Str("subscriber", p.name).Str("event", name).Msg("bus: subscribed")
	}
	// Replay matching retained events, under b.mu so no republish slips between.
	names := make([]string, 0, len(b.retained))
	for n, ev := range b.retained {
		if pat.matches(ev.Publisher, n[len(ev.Publisher)+1:]) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	now := b.opts.Now()
	for _, n := range names {
		ev := *b.retained[n]
		ev.Time = now
		if err := p.mb.push(&item{kind: itemEvent, sub: s, ev: ev}); err != nil {
			b.deliveryRefused(s, &ev, err)
		}
	}
	return &Subscription{s: s}, nil
}

// Unsubscribe is the Widgets compatibility form: it removes all of this plugin's subscriptions
// to that exact name or pattern.
func (p *Plugin) Unsubscribe(name string) {
	b := p.bus
	b.mu.Lock()
	b.removeSubscriptionsLocked(func(s *subscription) bool {
		if s.owner == p && s.pat.display == name {
			s.active.Store(false)
			return true
		}
		return false
	})
	b.mu.Unlock()
}

func (b *Bus) removeSubscriptionsLocked(drop func(*subscription) bool) {
	cur := b.subs.Load()
	next := &subIndex{exact: make(map[eventKey][]*subscription, len(cur.exact))}
	for k, list := range cur.exact {
		kept := slices.DeleteFunc(slices.Clone(list), func(s *subscription) bool {
			if drop(s) {
				s.active.Store(false)
				return true
			}
			return false
		})
		if len(kept) > 0 {
			next.exact[k] = kept
		}
	}
	next.patterns = slices.DeleteFunc(slices.Clone(cur.patterns), func(s *subscription) bool {
		if drop(s) {
			s.active.Store(false)
			return true
		}
		return false
	})
	b.subs.Store(next)
}

// Publish publishes <Plugin>.<event> to the current subscribers. Publishing with no subscriber
// is not an error. Delivery is asynchronous: Publish returns before any callback runs and never
// waits for a slow subscriber.
func (p *Plugin) Publish(event string, data any) error {
	return p.bus.publish(p, event, data, false, false)
}

// PublishDirect is Publish; Widgets uses it for chatty events that are not logged.
func (p *Plugin) PublishDirect(event string, data any) error {
	return p.bus.publish(p, event, data, false, false)
}

// Republish publishes and retains the event: a later subscriber to a matching name receives the
// last retained value at once. A later Republish replaces it; a plain Publish of the same name
// leaves it alone. Retained values live until replaced, cleared (ClearRetained) or the publisher
// deregisters.
func (p *Plugin) Republish(event string, data any) error {
	return p.bus.publish(p, event, data, true, false)
}

// ClearRetained drops the retained value of <Plugin>.<event>.
func (p *Plugin) ClearRetained(event string) {
	b := p.bus
	b.mu.Lock()
	delete(b.retained, p.name+"."+event)
	b.mu.Unlock()
}

func (b *Bus) publish(p *Plugin, event string, data any, retain, isReport bool) error {
	if b.closed.Load() {
		return errClosed
	}
	if p.dereg.Load() {
		return fmt.Errorf("%w: %s", ErrNotRegistered, p.name)
	}
	if !validEventName(event) {
		return validateEventName(event)
	}
	idx := b.subs.Load()
	exact := idx.exact[eventKey{p.name, event}]
	if len(exact) == 0 && len(idx.patterns) == 0 && !retain && !b.opts.Debug {
		return nil
	}
	if data == nil {
		data = map[string]any{}
	}
	var full string
	if len(exact) > 0 {
		full = exact[0].pat.display // an exact subscription's name is the full event name
	} else {
		full = p.name + "." + event
	}
	ev := Event{Time: b.opts.Now(), Publisher: p.name, Name: full, Data: data}
	if b.opts.Debug && !isReport {
		b.log.Debug().Str("event", ev.Name).Bool("retained", retain).Msg("bus: publish")
	}
	if retain {
		b.mu.Lock()
		defer b.mu.Unlock()
		retained := ev
		b.retained[ev.Name] = &retained
		idx = b.subs.Load()
		exact = idx.exact[eventKey{p.name, event}]
	}
	for _, s := range exact {
		b.enqueueEvent(s, &ev, isReport)
	}
	for _, s := range idx.patterns {
		if s.pat.matches(p.name, event) {
			b.enqueueEvent(s, &ev, isReport)
		}
	}
	return nil
}

func (b *Bus) enqueueEvent(s *subscription, ev *Event, isReport bool) {
	if !s.active.Load() {
		return
	}
	if err := s.owner.mb.push(&item{kind: itemEvent, sub: s, ev: *ev}); err != nil {
		if isReport {
			b.log.Error().Str("subscriber", s.owner.name).Str("event", ev.Name).Err(err).Msg("bus: error event not delivered")
			return
		}
		b.deliveryRefused(s, ev, err)
	}
}

func (b *Bus) deliveryRefused(s *subscription, ev *Event, err error) {
	if err == errClosed {
		return
	}
	b.log.Error().Str("subscriber", s.owner.name).Str("event", ev.Name).Err(err).Msg("bus: slow consumer: event not delivered")
	b.report(ErrorEvent{Kind: "slowConsumer", Plugin: s.owner.name, Name: ev.Name, Message: fmt.Sprintf("event %s not delivered to %s: mailbox full", ev.Name, s.owner.name)})
}

func (b *Bus) deliverEvent(s *subscription, ev *Event) {
	if !s.active.Load() {
		return
	}
	defer func() {
		if rec := recover(); rec != nil {
			b.log.Error().Str("subscriber", s.owner.name).Str("event", ev.Name).Str("panic", fmt.Sprint(rec)).Msg("bus: subscriber panicked")
			if ev.Publisher != CXBusName || ev.Name != CXBusName+".error" {
				b.report(ErrorEvent{Kind: "panic", Plugin: s.owner.name, Name: ev.Name, Message: fmt.Sprintf("subscriber panicked: %v", rec)})
			}
		}
	}()
	s.fn(*ev)
}

// validEventName is the allocation-free check behind validateEventName.
func validEventName(name string) bool {
	if name == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			tok := name[start:i]
			if tok == "" || tok == "*" || tok == ">" {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// Subscribers returns, for this plugin's events, who listens: exact subscriptions by full event
// name, and pattern subscriptions that can match this plugin's events by pattern.
func (p *Plugin) Subscribers() map[string][]string {
	idx := p.bus.subs.Load()
	out := map[string][]string{}
	add := func(key, who string) {
		if !slices.Contains(out[key], who) {
			out[key] = append(out[key], who)
		}
	}
	for k, list := range idx.exact {
		if k.plugin == p.name {
			for _, s := range list {
				add(k.plugin+"."+k.event, s.owner.name)
			}
		}
	}
	for _, s := range idx.patterns {
		if t := s.pat.tokens[0]; t == p.name || t == "*" || t == ">" {
			add(s.pat.display, s.owner.name)
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// RetainedInfo names a retained event and its publisher.
type RetainedInfo struct {
	Event     string `json:"event"`
	Publisher string `json:"publisher"`
}

// Retained lists the retained events, sorted by name.
func (b *Bus) Retained() []RetainedInfo {
	b.mu.Lock()
	out := make([]RetainedInfo, 0, len(b.retained))
	for n, ev := range b.retained {
		out = append(out, RetainedInfo{Event: n, Publisher: ev.Publisher})
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Event < out[j].Event })
	return out
}

// BeforeFunc is a before interceptor: see Plugin.Before.
type BeforeFunc func(ctx context.Context, opts any) (any, error)

type interceptor struct {
	owner   *Plugin
	command string
	fn      BeforeFunc
	removed atomic.Bool
}

// Interceptor is a handle on a registered before interceptor.
type Interceptor struct{ ic *interceptor }

// Remove unregisters the interceptor. Idempotent.
func (i *Interceptor) Remove() {
	if !i.ic.removed.CompareAndSwap(false, true) {
		return
	}
	b := i.ic.owner.bus
	b.mu.Lock()
	b.removeInterceptorsLocked(func(x *interceptor) bool { return x == i.ic })
	b.mu.Unlock()
}

func (b *Bus) addInterceptor(p *Plugin, command string, fn BeforeFunc) (*Interceptor, error) {
	if fn == nil {
		return nil, fmt.Errorf("%w: before interceptor for %s", ErrNilFunc, command)
	}
	full, _, err := ResolveCommand(p.name, command)
	if err != nil {
		return nil, err
	}
	ic := &interceptor{owner: p, command: full, fn: fn}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.dereg.Load() {
		return nil, fmt.Errorf("%w: %s", ErrNotRegistered, p.name)
	}
	cur := *b.interceptors.Load()
	next := make(map[string][]*interceptor, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[full] = append(slices.Clip(cur[full]), ic)
	b.interceptors.Store(&next)
	return &Interceptor{ic: ic}, nil
}

func (b *Bus) removeInterceptorsLocked(drop func(*interceptor) bool) {
	cur := *b.interceptors.Load()
	next := make(map[string][]*interceptor, len(cur))
	for k, list := range cur {
		kept := slices.DeleteFunc(slices.Clone(list), func(ic *interceptor) bool {
			if drop(ic) {
				ic.removed.Store(true)
				return true
			}
			return false
		})
		if len(kept) > 0 {
			next[k] = kept
		}
	}
	b.interceptors.Store(&next)
}

func (b *Bus) interceptorsFor(command string) []*interceptor {
	return (*b.interceptors.Load())[command]
}
