// Package preprocessor runs an ordered chain of message preprocessors, the Widgets
// registerPreProcessor hook: each preprocessor receives the message about to be published and
// returns the message to publish instead.
//
// A preprocessor can change a message but never lose it: one that returns an error or panics is
// skipped for that message (the message goes on as it was before that preprocessor) and the
// failure is reported to the chain's OnError hook; returning nil keeps the message unchanged.
// Dropping messages is the job of prefilters, not preprocessors.
package preprocessor

import (
	"context"
	"fmt"
	"sync"

	"github.com/cxbus/webchat/transports"
)

// Message is the normalized message of every transport.
type Message = transports.Message

// Func is a preprocessor. It may modify *m in place or return a different message; a nil return
// keeps m. It runs on a copy, so a failing preprocessor cannot leave half-made changes behind.
type Func func(ctx context.Context, m *Message) (*Message, error)

// Failure describes a preprocessor that returned an error or panicked.
type Failure struct {
	// Index is the preprocessor's position in the chain (0 = first registered).
	Index int
	// MessageID is the id of the message it was given.
	MessageID string
	// Err is the returned error, or a description of the panic.
	Err error
	// Panicked reports a recovered panic.
	Panicked bool
}

func (f Failure) Error() string {
	if f.Panicked {
		return fmt.Sprintf("preprocessor %d panicked on message %s: %v", f.Index, f.MessageID, f.Err)
	}
	return fmt.Sprintf("preprocessor %d failed on message %s: %v", f.Index, f.MessageID, f.Err)
}

func (f Failure) Unwrap() error { return f.Err }

// Chain is an ordered list of preprocessors, safe for concurrent use. The zero value is an empty
// chain.
type Chain struct {
	mu    sync.RWMutex
	funcs []Func
	// OnError, when set, is told of every failure. It runs synchronously inside Apply.
	OnError func(Failure)
}

// Add appends fn (nil is ignored) and returns the number of preprocessors.
func (c *Chain) Add(fn Func) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fn != nil {
		c.funcs = append(c.funcs, fn)
	}
	return len(c.funcs)
}

// Len returns the number of preprocessors.
func (c *Chain) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.funcs)
}

// Clear removes every preprocessor.
func (c *Chain) Clear() {
	c.mu.Lock()
	c.funcs = nil
	c.mu.Unlock()
}

// Apply runs the chain over m in registration order and returns the resulting message. m itself
// is never modified. Failures are reported to OnError and returned, in order; the message
// returned is always complete.
func (c *Chain) Apply(ctx context.Context, m Message) (Message, []Failure) {
	c.mu.RLock()
	funcs := c.funcs
	onErr := c.OnError
	c.mu.RUnlock()
	if len(funcs) == 0 {
		return m, nil
	}
	cur := m
	var failures []Failure
	for i, fn := range funcs {
		next, err, panicked := run(ctx, fn, cur)
		if err != nil {
			f := Failure{Index: i, MessageID: cur.ID, Err: err, Panicked: panicked}
			failures = append(failures, f)
			if onErr != nil {
				onErr(f)
			}
			continue
		}
		cur = next
	}
	return cur, failures
}

// ApplyAll runs Apply over every message and returns the results in the same order.
func (c *Chain) ApplyAll(ctx context.Context, msgs []Message) ([]Message, []Failure) {
	if c.Len() == 0 {
		return msgs, nil
	}
	out := make([]Message, len(msgs))
	var failures []Failure
	for i, m := range msgs {
		var f []Failure
		out[i], f = c.Apply(ctx, m)
		failures = append(failures, f...)
	}
	return out, failures
}

func run(ctx context.Context, fn Func, m Message) (out Message, err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			out, err, panicked = m, fmt.Errorf("%v", r), true
		}
	}()
	cp := clone(m)
	res, err := fn(ctx, &cp)
	if err != nil {
		return m, err, false
	}
	if res == nil {
		return cp, nil, false
	}
	return *res, nil, false
}

// clone copies the message's reference fields so a preprocessor's in-place edits stay on the copy.
func clone(m Message) Message {
	if m.UserData != nil {
		ud := make(map[string]any, len(m.UserData))
		for k, v := range m.UserData {
			ud[k] = v
		}
		m.UserData = ud
	}
	if m.File != nil {
		f := *m.File
		m.File = &f
	}
	if m.Attributes != nil {
		m.Attributes = append([]byte(nil), m.Attributes...)
	}
	if m.Raw != nil {
		m.Raw = append([]byte(nil), m.Raw...)
	}
	return m
}
