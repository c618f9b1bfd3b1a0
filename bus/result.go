package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

type resultState uint8

const (
	statePending resultState = iota
	stateResolved
	stateRejected
)

// Result is the outcome of a command: a future settled exactly once, by resolution with a value
// or rejection with an error. Wait blocks for it, Done gives a channel, and Then/Catch chain: each
// returns a new Result settled by its callback. Callbacks run in the mailbox of the plugin that
// issued the command, one at a time, never inside the call that attached them.
type Result struct {
	bus   *Bus
	owner *mailbox // where Then/Catch callbacks run: the commander's mailbox
	call  Call     // zero for chained results

	// Dispatch state, owned by the dispatch path.
	target       *Plugin
	parentCtx    context.Context
	deadline     time.Time
	hasDeadline  bool
	heapIdx      int         // index in the deadline heap (guarded by the heap's lock); -1 when not in it
	busDeadline  bool        // the bus default deadline applies: the call is in the deadline heap
	stopCtxWatch func() bool // guarded by mu
	intercepted  bool        // before interceptors have run

	mu        sync.Mutex
	state     resultState
	value     any
	err       error
	done      chan struct{}
	deferred  bool
	buffered  bool
	callbacks []func() // run on settlement (in owner's mailbox)
	afterFns  []*afterFn
}

type afterFn struct{ f func() }

func newResult(b *Bus, owner *mailbox) *Result {
	return &Result{bus: b, owner: owner, heapIdx: -1, done: make(chan struct{})}
}

// Command is the full name of the command this result belongs to ("" for chained results).
func (r *Result) Command() string { return r.call.Command }

// Done is closed when the result is settled.
func (r *Result) Done() <-chan struct{} { return r.done }

// Peek returns the value and error if the result is settled; ok is false while pending.
func (r *Result) Peek() (value any, err error, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.value, r.err, r.state != statePending
}

// Wait blocks until the result is settled or ctx ends. When ctx ends first it returns ctx.Err()
// (wrapped) and leaves the call running: the call itself is governed by the context it was issued with.
func (r *Result) Wait(ctx context.Context) (any, error) {
	select {
	case <-r.done:
	default:
		if ctx == nil {
			ctx = context.Background()
		}
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("bus: wait for %s: %w", r.call.Command, ctx.Err())
		}
	}
	return r.value, r.err
}

// wait blocks for a call issued with ctx: when ctx ends first, the call is rejected (timed out
// or cancelled) and that rejection is returned, unless the handler settled it first.
func (r *Result) wait(ctx context.Context) (any, error) {
	select {
	case <-r.done:
	default:
		if d := ctx.Done(); d != nil {
			select {
			case <-r.done:
			case <-d:
				r.rejectCtx(ctx.Err())
				<-r.done
			}
		} else {
			<-r.done
		}
	}
	return r.value, r.err
}

// Then returns a Result settled by fn(value) when r resolves, or rejected with r's error when r
// rejects (fn is not called). If fn returns a *Result, the new Result follows it.
func (r *Result) Then(fn func(value any) (any, error)) *Result {
	next := newResult(r.bus, r.owner)
	r.onSettled(func() {
		if r.err != nil {
			next.reject(r.err)
			return
		}
		next.follow(r.bus.safeCallback("Then", func() (any, error) { return fn(r.value) }))
	})
	return next
}

// Catch returns a Result settled by fn(err) when r rejects, or resolved with r's value when r
// resolves (fn is not called). Returning (v, nil) from fn recovers.
func (r *Result) Catch(fn func(err error) (any, error)) *Result {
	next := newResult(r.bus, r.owner)
	r.onSettled(func() {
		if r.err == nil {
			next.resolve(r.value)
			return
		}
		next.follow(r.bus.safeCallback("Catch", func() (any, error) { return fn(r.err) }))
	})
	return next
}

// follow settles r with (v, err), or, when v is a *Result, with that result's outcome.
func (r *Result) follow(v any, err error) {
	if err != nil {
		r.reject(err)
		return
	}
	if inner, ok := v.(*Result); ok && inner != nil {
		go func() {
			<-inner.done
			r.settle(inner.value, inner.err)
		}()
		return
	}
	r.resolve(v)
}

// onSettled runs fn in the owner's mailbox once r is settled (at once if it already is).
func (r *Result) onSettled(fn func()) {
	r.mu.Lock()
	if r.state == statePending {
		r.callbacks = append(r.callbacks, fn)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.runCallback(fn)
}

func (r *Result) runCallback(fn func()) {
	if r.owner == nil || r.owner.push(&item{kind: itemFunc, fn: fn}) != nil {
		// No mailbox (closed bus): run it on its own goroutine so chained results still settle.
		r.bus.wg.Add(1)
		go func() {
			defer r.bus.wg.Done()
			r.bus.safeRun("callback", fn)
		}()
	}
}

func (r *Result) resolve(v any)  { r.settle(v, nil) }
func (r *Result) reject(e error) { r.settle(nil, e) }

// settle records the outcome once; later attempts are ignored (and logged at debug level).
func (r *Result) settle(v any, err error) bool {
	r.mu.Lock()
	if r.state != statePending {
		r.mu.Unlock()
		r.bus.log.Debug().Str("command", r.call.Command).Msg("bus: call already settled; later resolve/reject ignored")
		return false
	}
	if err != nil {
		r.state, r.err = stateRejected, err
	} else {
		r.state, r.value = stateResolved, v
	}
	cbs := r.callbacks
	r.callbacks = nil
	afters := r.afterFns
	r.afterFns = nil
	tracked, target, stop := r.deferred || r.buffered, r.target, r.stopCtxWatch
	r.stopCtxWatch = nil
	r.mu.Unlock()

	// Bookkeeping first, so whoever wakes on done sees the call gone from queues and metrics.
	if r.busDeadline {
		r.bus.deadlines.remove(r)
	}
	if stop != nil {
		stop()
	}
	if tracked && target != nil {
		target.untrack(r)
	}
	close(r.done) // only the one settler that changed the state gets here
	if err != nil && r.call.Command != "" {
		r.bus.log.Debug().Str("command", r.call.Command).Str("commander", r.call.Commander).Err(err).Msg("bus: command rejected")
	}
	for _, a := range afters {
		go a.f()
	}
	for _, fn := range cbs {
		r.runCallback(fn)
	}
	return true
}

func (r *Result) rejectCtx(cause error) {
	if errors.Is(cause, context.DeadlineExceeded) {
		r.reject(errTimedOut(r.call.Command))
	} else {
		r.reject(errCancelled(r.call.Command))
	}
}

func (r *Result) settled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state != statePending
}

// callContext is the context.Context a handler and the interceptors see: it carries the caller's
// values, the call's effective deadline (the caller's or the bus default), and is done as soon as
// the call is settled — by the handler, a timeout, a cancellation, deregistration or Close.
type callContext struct{ r *Result }

func (c callContext) Deadline() (time.Time, bool) { return c.r.deadline, c.r.hasDeadline }
func (c callContext) Done() <-chan struct{}       { return c.r.done }

func (c callContext) Err() error {
	select {
	case <-c.r.done:
	default:
		return nil
	}
	if errors.Is(c.r.err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

func (c callContext) Value(key any) any {
	if key == (callInfoKey{}) {
		return c.r.info()
	}
	if c.r.parentCtx == nil {
		return nil
	}
	return c.r.parentCtx.Value(key)
}

// AfterFunc lets context.AfterFunc and context.WithCancel children register without a goroutine.
func (c callContext) AfterFunc(f func()) (stop func() bool) {
	r := c.r
	a := &afterFn{f: f}
	r.mu.Lock()
	if r.state != statePending {
		r.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	r.afterFns = append(r.afterFns, a)
	r.mu.Unlock()
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, x := range r.afterFns {
			if x == a {
				r.afterFns = append(r.afterFns[:i], r.afterFns[i+1:]...)
				return true
			}
		}
		return false
	}
}

func (c callContext) String() string { return "bus.callContext(" + c.r.call.Command + ")" }

type callInfoKey struct{}

// CallInfo is the read-only metadata of a call, available to handlers and before interceptors
// through CallInfoFrom.
type CallInfo struct {
	Time      time.Time
	Commander string
	Command   string
}

func (r *Result) info() CallInfo {
	return CallInfo{Time: r.call.Time, Commander: r.call.Commander, Command: r.call.Command}
}

// CallInfoFrom returns the metadata of the call whose handler or interceptor received ctx.
func CallInfoFrom(ctx context.Context) (CallInfo, bool) {
	if ctx == nil {
		return CallInfo{}, false
	}
	ci, ok := ctx.Value(callInfoKey{}).(CallInfo)
	return ci, ok
}
