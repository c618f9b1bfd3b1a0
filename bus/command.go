package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Handler runs a command. It returns the resolution value or the rejection error; or it calls
// call.Defer() to settle the call later from any goroutine (for I/O), in which case its return
// values are ignored. ctx is done as soon as the call is settled, times out or is cancelled, so
// I/O started for the call should use it.
type Handler func(ctx context.Context, call *Call) (any, error)

// Call is what a command handler receives. Its JSON form matches Widgets':
// {"time": <epoch ms>, "commander": "...", "command": "Plugin.cmd", "data": {...}}.
type Call struct {
	// Time is when the call was made.
	Time time.Time
	// Commander is the calling plugin, set by the bus from the handle used; CXBus for calls made
	// on the Bus value. It cannot be spoofed by caller data.
	Commander string
	// Command is the full Plugin.command name.
	Command string
	// Options are the command options after every before interceptor: a typed struct from Go
	// callers, map[string]any or json.RawMessage from JSON callers; an empty map when none were
	// given (never nil). Decode them with DecodeOptions.
	Options any

	res *Result
}

// Defer takes over settlement of the call: the handler's return values are then ignored, and the
// returned Deferred must be resolved or rejected exactly once (later attempts are ignored). A
// deferred call still pending when its plugin deregisters, or the bus closes, is rejected.
func (c *Call) Defer() Deferred {
	r := c.res
	r.mu.Lock()
	r.deferred = true
	pending := r.state == statePending
	target := r.target
	r.mu.Unlock()
	if pending && target != nil {
		target.track(r)
	}
	return Deferred{r: r}
}

// Context returns the call's context (the one the handler received).
func (c *Call) Context() context.Context { return callContext{c.res} }

// MarshalJSON encodes the call as Widgets does.
func (c Call) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Time      int64  `json:"time"`
		Commander string `json:"commander"`
		Command   string `json:"command"`
		Data      any    `json:"data"`
	}{c.Time.UnixMilli(), c.Commander, c.Command, c.Options})
}

// Deferred settles a call whose handler called Call.Defer.
type Deferred struct{ r *Result }

// Resolve settles the call with v. It reports whether this settled the call.
func (d Deferred) Resolve(v any) bool { return d.r.settle(v, nil) }

// Reject settles the call with err. It reports whether this settled the call.
func (d Deferred) Reject(err error) bool {
	if err == nil {
		err = fmt.Errorf("bus: %s rejected with a nil error", d.r.call.Command)
	}
	return d.r.settle(nil, err)
}

// Settle resolves with v when err is nil, else rejects with err.
func (d Deferred) Settle(v any, err error) bool {
	if err != nil {
		return d.Reject(err)
	}
	return d.Resolve(v)
}

// Context returns the call's context.
func (d Deferred) Context() context.Context { return callContext(d) }

// command is a registered handler.
type command struct {
	name    string
	handler Handler
	private bool
	allow   []string // private: plugins allowed besides the owner
}

func (c *command) allows(owner, commander string) bool {
	if !c.private || commander == owner {
		return true
	}
	for _, a := range c.allow {
		if a == commander {
			return true
		}
	}
	return false
}

// CommandOption configures RegisterCommand.
type CommandOption func(*command)

// Private makes the command callable only by its owning plugin and the plugins named in allow.
// The bus rejects anyone else before interceptors and the handler run, with
// "Access Denied to private command. Only <Owner> is allowed to invoke this command.".
func Private(allow ...string) CommandOption {
	return func(c *command) {
		c.private = true
		c.allow = append([]string(nil), allow...)
	}
}

// dispatch starts a call from caller. watchCtx asks for a context watcher (async callers); a
// blocking caller watches ctx itself.
func (b *Bus) dispatch(ctx context.Context, caller *Plugin, name string, opts any, watchCtx bool) *Result {
	r := newResult(b, caller.mb)
	if ctx == nil {
		ctx = context.Background()
	}
	r.parentCtx = ctx
	r.call = Call{Time: b.opts.Now(), Commander: caller.name, Command: name, Options: opts, res: r}

	if b.closed.Load() {
		r.reject(errClosed)
		return r
	}
	if caller.dereg.Load() {
		r.reject(fmt.Errorf("%w: %s", ErrNotRegistered, caller.name))
		return r
	}
	full, plugin, err := ResolveCommand(caller.name, name)
	if err != nil {
		r.reject(err)
		return r
	}
	r.call.Command = full
	switch ok, empty := isObject(opts); {
	case !ok:
		r.reject(errInvalidOptionsNotObject(full))
		return r
	case empty:
		r.call.Options = map[string]any{}
	}
	if b.opts.Debug {
		b.log.Debug().Str("command", full).Str("commander", caller.name).Msg("bus: command")
	}
	if err := ctx.Err(); err != nil {
		r.rejectCtx(err)
		return r
	}
	if dl, ok := ctx.Deadline(); ok {
		r.deadline, r.hasDeadline = dl, true
	} else if b.opts.CommandTimeout > 0 {
		r.deadline, r.hasDeadline, r.busDeadline = r.call.Time.Add(b.opts.CommandTimeout), true, true
		b.deadlines.add(r)
	}
	if watchCtx && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { r.rejectCtx(ctx.Err()) })
		r.mu.Lock()
		if r.state == statePending {
			r.stopCtxWatch = stop
			r.mu.Unlock()
		} else {
			r.mu.Unlock()
			stop()
		}
	}

	target := b.plugin(plugin)
	if target == nil {
		b.wg.Add(1)
		go b.dispatchUnregistered(r, plugin)
		return r
	}
	r.target = target
	if err := target.mb.push(&item{kind: itemDispatch, res: r}); err != nil {
		r.reject(b.pushError(err, target, full))
	}
	return r
}

func (b *Bus) pushError(err error, target *Plugin, what string) error {
	if err == ErrMailboxFull {
		e := errMailboxFull(target.name, what)
		b.report(ErrorEvent{Kind: "mailboxFull", Plugin: target.name, Name: what, Message: e.Error()})
		return e
	}
	return err
}

// dispatchUnregistered handles a call to a plugin that is not registered: interceptors, then
// the loader (once per plugin, shared by concurrent callers) or the rejection.
func (b *Bus) dispatchUnregistered(r *Result, plugin string) {
	defer b.wg.Done()
	if !b.runInterceptors(r) {
		return
	}
	loader := b.loader(plugin)
	if loader == nil {
		r.reject(errPluginNotFound(plugin, r.call.Command))
		return
	}
	if err := b.load(callContext{r}, plugin, loader); err != nil {
		r.reject(newError("Plugin could not be loaded: "+plugin+": "+err.Error(), r.call.Command, ErrPluginNotFound, err))
		return
	}
	target := b.plugin(plugin)
	if target == nil {
		r.reject(errPluginNotFound(plugin, r.call.Command))
		return
	}
	r.mu.Lock()
	r.target = target
	r.mu.Unlock()
	if err := target.mb.push(&item{kind: itemDispatch, res: r}); err != nil {
		r.reject(b.pushError(err, target, r.call.Command))
	}
}

// process runs one mailbox item of plugin p (on p's mailbox goroutine).
func (b *Bus) process(p *Plugin, it *item) {
	switch it.kind {
	case itemDispatch:
		b.runDispatch(p, it.res)
	case itemDeliver:
		b.deliver(p, it.res)
	case itemReady:
		p.flushReady()
	case itemEvent:
		b.deliverEvent(it.sub, &it.ev)
	case itemFunc:
		b.safeRun("callback of "+p.name, it.fn)
	}
}

func (b *Bus) runDispatch(p *Plugin, r *Result) {
	if r.settled() {
		return
	}
	if p.dereg.Load() {
		r.reject(errDeregistered(p.name, r.call.Command))
		return
	}
	short := r.call.Command[len(p.name)+1:]
	if cmd := p.command(short); cmd != nil && !cmd.allows(p.name, r.call.Commander) {
		r.reject(errAccessDenied(p.name, r.call.Command))
		return
	}
	if !r.intercepted && !b.runInterceptors(r) {
		return
	}
	if !p.flushed && r.call.Commander != p.name {
		p.buffer(r)
		return
	}
	b.deliver(p, r)
}

// deliver runs the handler for r on p's mailbox goroutine.
func (b *Bus) deliver(p *Plugin, r *Result) {
	if r.settled() {
		return
	}
	if p.dereg.Load() {
		r.reject(errDeregistered(p.name, r.call.Command))
		return
	}
	short := r.call.Command[len(p.name)+1:]
	cmd := p.command(short)
	if cmd == nil {
		r.reject(errCommandNotFound(r.call.Command))
		return
	}
	if !cmd.allows(p.name, r.call.Commander) {
		r.reject(errAccessDenied(p.name, r.call.Command))
		return
	}
	v, err, panicked := b.runHandler(cmd.handler, r)
	if panicked {
		r.reject(errHandlerPanic(r.call.Command))
		return
	}
	r.mu.Lock()
	deferred := r.deferred
	r.mu.Unlock()
	if deferred {
		return
	}
	r.settle(v, err)
}

func (b *Bus) runHandler(h Handler, r *Result) (v any, err error, panicked bool) {
	defer func() {
		if rec := recover(); rec != nil {
			panicked = true
			b.log.Error().Str("command", r.call.Command).Str("panic", fmt.Sprint(rec)).Msg("bus: command handler panicked")
			b.report(ErrorEvent{Kind: "panic", Plugin: r.target.name, Name: r.call.Command, Message: fmt.Sprintf("command handler panicked: %v", rec)})
		}
	}()
	v, err = h(callContext{r}, &r.call)
	return v, err, false
}

// runInterceptors runs the before interceptors of r's command in registration order. It returns
// false after rejecting r (cancel, error or panic).
func (b *Bus) runInterceptors(r *Result) bool {
	r.intercepted = true
	list := b.interceptorsFor(r.call.Command)
	if len(list) == 0 {
		return true
	}
	opts := r.call.Options
	for _, ic := range list {
		if ic.removed.Load() {
			continue
		}
		next, err, panicked := b.runInterceptor(ic, r, opts)
		switch {
		case panicked:
			r.reject(errInterceptorPanic(r.call.Command))
			return false
		case err != nil:
			r.reject(err)
			return false
		}
		if ok, empty := isObject(next); !ok || empty { // no object: the interceptor cancelled
			r.reject(errCancelledByBefore(r.call.Command))
			return false
		}
		opts = next
	}
	r.call.Options = opts
	return true
}

func (b *Bus) runInterceptor(ic *interceptor, r *Result, opts any) (next any, err error, panicked bool) {
	defer func() {
		if rec := recover(); rec != nil {
			panicked = true
			b.log.Error().Str("command", r.call.Command).Str("interceptor", ic.owner.name).Str("panic", fmt.Sprint(rec)).Msg("bus: before interceptor panicked")
			b.report(ErrorEvent{Kind: "panic", Plugin: ic.owner.name, Name: r.call.Command, Message: fmt.Sprintf("before interceptor panicked: %v", rec)})
		}
	}()
	next, err = ic.fn(callContext{r}, opts)
	return next, err, false
}

// isObject reports whether opts is JSON-object-like (a map with string keys, a struct or pointer
// to one, or JSON text of an object), and whether it stands for "no options" (nil).
func isObject(opts any) (ok, empty bool) {
	switch v := opts.(type) {
	case nil:
		return true, true
	case map[string]any:
		return true, false
	case json.RawMessage:
		return rawIsObject(v)
	case []byte:
		return rawIsObject(v)
	}
	t := reflect.TypeOf(opts)
	switch t.Kind() {
	case reflect.Map:
		return t.Key().Kind() == reflect.String, false
	case reflect.Struct:
		return true, false
	case reflect.Pointer:
		rv := reflect.ValueOf(opts)
		if rv.IsNil() {
			return t.Elem().Kind() == reflect.Struct, true
		}
		return isObject(rv.Elem().Interface())
	}
	if m, ok := opts.(json.Marshaler); ok {
		raw, err := m.MarshalJSON()
		if err != nil {
			return false, false
		}
		return rawIsObject(raw)
	}
	return false, false
}

func rawIsObject(raw []byte) (ok, empty bool) {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 || string(s) == "null" {
		return true, true
	}
	return s[0] == '{' && json.Valid(s), false
}
