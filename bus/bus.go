package bus

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Bus is an in-process command/event bus with CXBus semantics. Create one with New; every
// method is safe for concurrent use.
type Bus struct {
	opts Options
	log  zerolog.Logger
	self *Plugin // the CXBus plugin

	mu           sync.Mutex // guards writes of plugins, subs, interceptors, retained, loaders
	plugins      atomic.Pointer[map[string]*Plugin]
	subs         atomic.Pointer[subIndex]
	interceptors atomic.Pointer[map[string][]*interceptor]
	retained     map[string]*Event
	loaders      map[string]Loader
	loading      map[string]*loadCall
	locked       bool

	deadlines deadlines
	closed    atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup // mailbox goroutines and other bus-owned goroutines

	mailboxes    atomic.Pointer[[]*mailbox] // every mailbox ever made (Drain)
	drainWaiters atomic.Int32
	idle         chan struct{} // a mailbox went idle while someone drains
}

// Loader starts a plugin on demand: a command to an unregistered plugin that has a loader runs
// the loader once (concurrent callers share it), which must register the plugin; the call is
// then delivered (its interceptors are not run again).
type Loader func(ctx context.Context, b *Bus) error

type loadCall struct {
	done chan struct{}
	err  error
}

// New returns a bus configured by opts (the zero Options are fine). The bus registers itself as
// the plugin "CXBus", already ready.
func New(opts Options) *Bus {
	b := &Bus{opts: opts.withDefaults(), retained: map[string]*Event{}, loaders: map[string]Loader{}, loading: map[string]*loadCall{}, idle: make(chan struct{}, 1)}
	b.mailboxes.Store(&[]*mailbox{})
	b.log = b.opts.Logger
	b.deadlines.bus = b
	empty := map[string]*Plugin{}
	b.plugins.Store(&empty)
	b.subs.Store(&subIndex{exact: map[eventKey][]*subscription{}})
	noInterceptors := map[string][]*interceptor{}
	b.interceptors.Store(&noInterceptors)
	self, err := b.RegisterPlugin(CXBusName)
	if err != nil {
		panic(err) // cannot happen: the name is valid and the bus is empty
	}
	_ = self.RegisterEvents("error")
	_ = self.Ready()
	b.self = self
	return b
}

// RegisterPlugin registers a plugin and returns its handle. It fails for an invalid name
// ("Invalid plugin name: …"), a taken one ("Plugin name is already taken: …") or while
// registration is locked ("Registration is locked.").
func (b *Bus) RegisterPlugin(name string) (*Plugin, error) {
	if err := ValidatePluginName(name); err != nil {
		return nil, err
	}
	if b.closed.Load() {
		return nil, errClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.locked {
		return nil, errLocked()
	}
	cur := *b.plugins.Load()
	if _, taken := cur[name]; taken {
		return nil, errNameTaken(name)
	}
	p := &Plugin{bus: b, name: name, commands: map[string]*command{}, data: map[string]any{}}
	p.mb = newMailbox(b, p)
	b.addMailboxLocked(p.mb)
	next := maps.Clone(cur)
	next[name] = p
	b.plugins.Store(&next)
	if b.opts.Debug {
		b.log.Debug().Str("plugin", name).Msg("bus: plugin registered")
	}
	return p, nil
}

// LockRegistration refuses further RegisterPlugin calls until UnlockRegistration.
func (b *Bus) LockRegistration() { b.mu.Lock(); b.locked = true; b.mu.Unlock() }

// UnlockRegistration allows RegisterPlugin again.
func (b *Bus) UnlockRegistration() { b.mu.Lock(); b.locked = false; b.mu.Unlock() }

// Plugin returns the registered plugin with that name, or nil.
func (b *Bus) Plugin(name string) *Plugin { return b.plugin(name) }

func (b *Bus) plugin(name string) *Plugin { return (*b.plugins.Load())[name] }

// RegisterLoader registers a loader for a plugin name (see Loader). A later registration replaces it.
func (b *Bus) RegisterLoader(name string, l Loader) error {
	if err := ValidatePluginName(name); err != nil {
		return err
	}
	if l == nil {
		return fmt.Errorf("%w: loader for %s", ErrNilFunc, name)
	}
	b.mu.Lock()
	b.loaders[name] = l
	b.mu.Unlock()
	return nil
}

func (b *Bus) loader(name string) Loader {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loaders[name]
}

// load runs the loader for name once for concurrent callers.
func (b *Bus) load(ctx context.Context, name string, l Loader) error {
	b.mu.Lock()
	if (*b.plugins.Load())[name] != nil { // loaded by an earlier call meanwhile
		b.mu.Unlock()
		return nil
	}
	lc, running := b.loading[name]
	if !running {
		lc = &loadCall{done: make(chan struct{})}
		b.loading[name] = lc
	}
	b.mu.Unlock()
	if !running {
		func() {
			defer func() {
				if rec := recover(); rec != nil {
					lc.err = fmt.Errorf("bus: loader for %s panicked: %v", name, rec)
				}
			}()
			lc.err = l(ctx, b)
		}()
		b.mu.Lock()
		delete(b.loading, name)
		b.mu.Unlock()
		close(lc.done)
		return lc.err
	}
	select {
	case <-lc.done:
		return lc.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Command calls a command as the CXBus plugin and waits (see Plugin.Command).
func (b *Bus) Command(ctx context.Context, name string, opts any) (any, error) {
	return b.self.Command(ctx, name, opts)
}

// CommandAsync calls a command as the CXBus plugin (see Plugin.CommandAsync).
func (b *Bus) CommandAsync(ctx context.Context, name string, opts any) *Result {
	return b.self.CommandAsync(ctx, name, opts)
}

// Subscribe subscribes as the CXBus plugin (see Plugin.Subscribe).
func (b *Bus) Subscribe(name string, fn func(Event)) (*Subscription, error) {
	return b.self.Subscribe(name, fn)
}

// Before registers an interceptor as the CXBus plugin (see Plugin.Before).
func (b *Bus) Before(command string, fn BeforeFunc) (*Interceptor, error) {
	return b.self.Before(command, fn)
}

func (b *Bus) deregister(p *Plugin) {
	if p == b.self {
		return // the bus's own plugin lives as long as the bus
	}
	b.mu.Lock()
	if !p.dereg.CompareAndSwap(false, true) {
		b.mu.Unlock()
		return
	}
	cur := *b.plugins.Load()
	if cur[p.name] == p {
		next := maps.Clone(cur)
		delete(next, p.name)
		b.plugins.Store(&next)
	}
	b.removeSubscriptionsLocked(func(s *subscription) bool { return s.owner == p })
	b.removeInterceptorsLocked(func(ic *interceptor) bool { return ic.owner == p })
	for name, ev := range b.retained {
		if ev.Publisher == p.name {
			delete(b.retained, name)
		}
	}
	b.mu.Unlock()

	p.mu.Lock()
	pending := p.buffered
	p.buffered = nil
	for r := range p.inflight {
		pending = append(pending, r)
	}
	p.inflight = nil
	p.commands = map[string]*command{}
	p.data = map[string]any{}
	p.mu.Unlock()
	for _, r := range pending {
		r.reject(errDeregistered(p.name, r.call.Command))
	}
	if b.opts.Debug {
		b.log.Debug().Str("plugin", p.name).Msg("bus: plugin deregistered")
	}
}

// Close stops the bus: further calls, publishes and registrations fail with ErrClosed ("bus:
// closed"), queued deliveries are discarded, and every call still pending — queued, buffered or
// deferred — is rejected with ErrClosed. It then waits for running handlers and callbacks to
// return, until ctx ends (returning ctx's error). Close is idempotent.
func (b *Bus) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		b.deadlines.stop()
		var pending []*Result
		// Every mailbox, deregistered plugins' too: nothing may be accepted that will not run.
		for _, m := range *b.mailboxes.Load() {
			for _, it := range m.close() {
				if it.res != nil {
					pending = append(pending, it.res)
				}
			}
		}
		for _, p := range *b.plugins.Load() {
			p.mu.Lock()
			pending = append(pending, p.buffered...)
			p.buffered = nil
			for r := range p.inflight {
				pending = append(pending, r)
			}
			p.inflight = nil
			p.mu.Unlock()
		}
		pending = append(pending, b.deadlines.drain()...)
		for _, r := range pending {
			r.reject(errClosed)
		}
	})
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bus: close: waiting for running handlers: %w", ctx.Err())
	}
}

// Drain waits until every mailbox is idle (nothing queued or running) or ctx ends. Tests use
// it to wait for asynchronous delivery without sleeping. Work started outside the mailboxes
// (a handler's goroutine settling later) is not waited for.
func (b *Bus) Drain(ctx context.Context) error {
	b.drainWaiters.Add(1)
	defer b.drainWaiters.Add(-1)
	recheck := time.NewTimer(time.Millisecond)
	defer recheck.Stop()
	for {
		// Quiescent when two passes in a row find every mailbox idle and nothing pushed between.
		busy1, pushes1 := b.activity()
		if !busy1 {
			busy2, pushes2 := b.activity()
			if !busy2 && pushes1 == pushes2 {
				return nil
			}
		}
		recheck.Reset(time.Millisecond)
		select {
		case <-b.idle:
		case <-recheck.C: // a mailbox may go idle between the check and the wait
		case <-ctx.Done():
			return fmt.Errorf("bus: drain: %w", ctx.Err())
		}
	}
}

func (b *Bus) activity() (busy bool, pushes uint64) {
	for _, m := range *b.mailboxes.Load() {
		mb, n := m.busy()
		busy = busy || mb
		pushes += n
	}
	return busy, pushes
}

// mailboxIdle wakes a Drain; it costs one atomic load when nobody drains.
func (b *Bus) mailboxIdle() {
	if b.drainWaiters.Load() > 0 {
		select {
		case b.idle <- struct{}{}:
		default:
		}
	}
}

func (b *Bus) addMailboxLocked(m *mailbox) {
	cur := *b.mailboxes.Load()
	next := make([]*mailbox, 0, len(cur)+1)
	for _, x := range cur {
		if x.owner.dereg.Load() && x.idleAndEmpty() { // a deregistered plugin's idle mailbox
			x.closeIdle()
			continue
		}
		next = append(next, x)
	}
	next = append(next, m)
	b.mailboxes.Store(&next)
}

// PluginInfo describes a plugin in Registry.
type PluginInfo struct {
	Events   []string `json:"events"`
	Commands []string `json:"commands"`
}

// Registry returns every registered plugin with its declared events and registered commands
// (short names, sorted).
func (b *Bus) Registry() map[string]PluginInfo {
	out := map[string]PluginInfo{}
	for name, p := range *b.plugins.Load() {
		p.mu.RLock()
		info := PluginInfo{Events: slices.Sorted(slices.Values(p.events)), Commands: slices.Sorted(maps.Keys(p.commands))}
		p.mu.RUnlock()
		if info.Events == nil {
			info.Events = []string{}
		}
		if info.Commands == nil {
			info.Commands = []string{}
		}
		out[name] = info
	}
	return out
}

// PluginStats are a plugin's queue metrics.
type PluginStats struct {
	// MailboxDepth is the number of items queued now; MaxMailboxDepth the highest seen.
	MailboxDepth, MaxMailboxDepth int
	// Buffered counts calls waiting for Ready; InFlight deferred calls not yet settled.
	Buffered, InFlight int
	// Refused counts items refused at Options.MailboxLimit.
	Refused uint64
}

// Stats returns the queue metrics of every registered plugin.
func (b *Bus) Stats() map[string]PluginStats {
	out := map[string]PluginStats{}
	for name, p := range *b.plugins.Load() {
		var s PluginStats
		s.MailboxDepth, s.MaxMailboxDepth, s.Refused = p.mb.stats()
		p.mu.RLock()
		s.Buffered, s.InFlight = len(p.buffered), len(p.inflight)
		p.mu.RUnlock()
		out[name] = s
	}
	return out
}

// ErrorEvent is the data of the CXBus.error event, published when the bus recovers a panic in a
// callback or interceptor, refuses an item at the mailbox limit, or sees a mailbox pass the
// warning depth.
type ErrorEvent struct {
	// Kind is "panic", "slowConsumer", "mailboxFull" or "mailboxWarning".
	Kind string `json:"kind"`
	// Plugin is the plugin concerned; Name the command, event or callback concerned.
	Plugin  string `json:"plugin"`
	Name    string `json:"name,omitempty"`
	Message string `json:"message"`
}

// report publishes CXBus.error. Deliveries of the error event itself that overflow are logged
// only, so reporting can never loop.
func (b *Bus) report(e ErrorEvent) {
	if b.closed.Load() {
		return
	}
	b.publish(b.self, "error", e, false, true)
}

func (b *Bus) mailboxWarning(plugin string, depth int) {
	b.log.Warn().Str("plugin", plugin).Int("depth", depth).Msg("bus: mailbox depth passed the warning threshold")
	b.report(ErrorEvent{Kind: "mailboxWarning", Plugin: plugin, Message: fmt.Sprintf("mailbox depth %d reached the warning threshold %d", depth, b.opts.MailboxWarn)})
}

// safeRun runs fn, recovering and reporting a panic.
func (b *Bus) safeRun(what string, fn func()) {
	defer func() {
		if rec := recover(); rec != nil {
			b.log.Error().Str("in", what).Str("panic", fmt.Sprint(rec)).Msg("bus: callback panicked")
			b.report(ErrorEvent{Kind: "panic", Plugin: what, Message: fmt.Sprintf("callback panicked: %v", rec)})
		}
	}()
	fn()
}

// safeCallback runs a Then/Catch callback; a panic becomes a rejection.
func (b *Bus) safeCallback(what string, fn func() (any, error)) (v any, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			b.log.Error().Str("in", what).Str("panic", fmt.Sprint(rec)).Msg("bus: callback panicked")
			b.report(ErrorEvent{Kind: "panic", Name: what, Message: fmt.Sprintf("%s callback panicked: %v", what, rec)})
			v, err = nil, fmt.Errorf("bus: %s callback panicked: %v", what, rec)
		}
	}()
	return fn()
}
