package bus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Plugin is a registered plugin's handle: everything a plugin does on the bus goes through it,
// so the bus knows who commands, subscribes and publishes. Its command handlers, subscription
// callbacks and Then/Catch callbacks run one at a time in its mailbox, in arrival order, so
// plugin state needs no locks.
type Plugin struct {
	bus  *Bus
	name string
	mb   *mailbox

	readyCalled atomic.Bool
	dereg       atomic.Bool
	flushed     bool // mailbox-owned: Ready has been processed, buffered calls flushed

	mu       sync.RWMutex
	commands map[string]*command
	events   []string
	buffered []*Result
	inflight map[*Result]struct{}
	data     map[string]any
}

// Name returns the plugin's name (Widgets' namespace()).
func (p *Plugin) Name() string { return p.name }

// Bus returns the bus the plugin is registered on.
func (p *Plugin) Bus() *Bus { return p.bus }

// RegisterCommand registers <Plugin>.<name>. Registering a name again replaces its handler.
func (p *Plugin) RegisterCommand(name string, h Handler, opts ...CommandOption) error {
	if err := validateShortCommand(name); err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("%w: handler for %s.%s", ErrNilFunc, p.name, name)
	}
	if p.dereg.Load() {
		return fmt.Errorf("%w: %s", ErrNotRegistered, p.name)
	}
	c := &command{name: name, handler: h}
	for _, o := range opts {
		o(c)
	}
	p.mu.Lock()
	p.commands[name] = c
	p.mu.Unlock()
	if p.bus.opts.Debug {
		p.bus.log.Debug().Str("command", p.name+"."+name).Bool("private", c.private).Msg("bus: command registered")
	}
	return nil
}

// UnregisterCommand removes <Plugin>.<name>. Calls to it that are queued, buffered, or deferred
// and still pending are rejected with "Command does not exist: <Plugin.name>".
func (p *Plugin) UnregisterCommand(name string) {
	full := p.name + "." + name
	p.mu.Lock()
	delete(p.commands, name)
	var pending []*Result
	for r := range p.inflight {
		if r.call.Command == full {
			pending = append(pending, r)
			delete(p.inflight, r)
		}
	}
	p.mu.Unlock()
	for _, r := range pending {
		r.reject(errCommandNotFound(full))
	}
}

func (p *Plugin) command(name string) *command {
	p.mu.RLock()
	c := p.commands[name]
	p.mu.RUnlock()
	return c
}

// RegisterEvents declares event names, for introspection only: publishing is never restricted.
func (p *Plugin) RegisterEvents(names ...string) error {
	for _, n := range names {
		if err := validateEventName(n); err != nil {
			return err
		}
	}
	p.mu.Lock()
	for _, n := range names {
		if !slices.Contains(p.events, n) {
			p.events = append(p.events, n)
		}
	}
	p.mu.Unlock()
	return nil
}

// Ready marks the plugin ready: calls from other plugins that were buffered since registration
// are delivered in call order, before any later call. Idempotent.
func (p *Plugin) Ready() error {
	if p.dereg.Load() {
		return fmt.Errorf("%w: %s", ErrNotRegistered, p.name)
	}
	if p.readyCalled.CompareAndSwap(false, true) {
		if err := p.mb.push(&item{kind: itemReady}); err != nil {
			return err
		}
		if p.bus.opts.Debug {
			p.bus.log.Debug().Str("plugin", p.name).Msg("bus: plugin ready")
		}
	}
	return nil
}

// IsReady reports whether Ready has been called.
func (p *Plugin) IsReady() bool { return p.readyCalled.Load() }

func (p *Plugin) buffer(r *Result) {
	r.mu.Lock()
	r.buffered = true
	r.mu.Unlock()
	p.mu.Lock()
	p.buffered = append(p.buffered, r)
	p.mu.Unlock()
	if r.settled() { // timed out meanwhile: take it out again
		p.untrack(r)
	}
	p.bus.log.Debug().Str("command", r.call.Command).Msg("bus: command has been buffered and will be executed once the plugin has loaded and/or called its ready() method")
}

// flushReady runs on the mailbox: buffered calls go first, in call order.
func (p *Plugin) flushReady() {
	p.flushed = true
	p.mu.Lock()
	calls := p.buffered
	p.buffered = nil
	p.mu.Unlock()
	for _, r := range calls {
		p.bus.deliver(p, r)
	}
}

func (p *Plugin) track(r *Result) {
	p.mu.Lock()
	if p.inflight == nil {
		p.inflight = make(map[*Result]struct{})
	}
	p.inflight[r] = struct{}{}
	p.mu.Unlock()
	// The call may have settled while being tracked: untrack it then.
	if r.settled() {
		p.untrack(r)
	}
}

// untrack forgets a settled call: out of the in-flight set and the buffer.
func (p *Plugin) untrack(r *Result) {
	p.mu.Lock()
	delete(p.inflight, r)
	if i := slices.Index(p.buffered, r); i >= 0 {
		p.buffered = slices.Delete(p.buffered, i, i+1)
	}
	p.mu.Unlock()
}

// Command calls a command and waits for its result or for ctx to end (then the call is rejected:
// "Command timed out: …" or "Command cancelled: …"). A bare name is one of the plugin's own
// commands. Never call a command of your own plugin blocking from inside one of its handlers or
// callbacks (the mailbox runs one item at a time): use CommandAsync and Then.
func (p *Plugin) Command(ctx context.Context, name string, opts any) (any, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return p.bus.dispatch(ctx, p, name, opts, false).wait(ctx)
}

// CommandAsync calls a command and returns its Result at once. The call is rejected when ctx
// ends before it settles.
func (p *Plugin) CommandAsync(ctx context.Context, name string, opts any) *Result {
	return p.bus.dispatch(ctx, p, name, opts, true)
}

// Before registers an interceptor for the full command name (any plugin's, registered or not).
// Interceptors run in registration order, once per call, before the call is buffered or
// delivered. Each receives the current options and returns the options for the next one (return
// them unchanged to pass); returning nil (no object) cancels the call with "Command was cancelled
// by a 'before' function."; returning an error rejects the call with it. Interceptors run on the
// dispatch path: keep them quick and never wait on bus results in them. CallInfoFrom(ctx) gives
// the call's commander, command and time.
func (p *Plugin) Before(command string, fn BeforeFunc) (*Interceptor, error) {
	return p.bus.addInterceptor(p, command, fn)
}

// Deregister removes the plugin: its commands, subscriptions, interceptors, retained events and
// data. Its buffered and pending calls are rejected with "Plugin was deregistered: <Plugin>". The
// name becomes free. Idempotent.
func (p *Plugin) Deregister() {
	p.bus.deregister(p)
}

// Post runs fn in the plugin's mailbox, after everything queued before it, one at a time with
// the plugin's handlers and callbacks. Goroutines that finish I/O for a plugin (a deferred
// command, a network read) use it to touch plugin state without locks. A panic in fn is
// recovered and reported on CXBus.error. Post fails after Close (ErrClosed) or at the mailbox
// hard limit (ErrMailboxFull, reported).
func (p *Plugin) Post(fn func()) error {
	if fn == nil {
		return fmt.Errorf("%w: Post on %s", ErrNilFunc, p.name)
	}
	if err := p.mb.push(&item{kind: itemFunc, fn: fn}); err != nil {
		if err == ErrMailboxFull {
			return p.bus.pushError(err, p, "posted function")
		}
		return err
	}
	return nil
}
