package bayeux

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// dispatcher runs listener callbacks one at a time, in arrival order, on its own
// goroutine, so a slow listener never blocks the transport and a listener may call the
// client (even Publish and wait) without deadlocking it. Its queue is unbounded.
type dispatcher struct {
	log  zerolog.Logger
	mu   sync.Mutex
	q    []func()
	wake chan struct{}
}

func newDispatcher(log zerolog.Logger) *dispatcher {
	return &dispatcher{log: log, wake: make(chan struct{}, 1)}
}

func (d *dispatcher) post(f func()) {
	d.mu.Lock()
	d.q = append(d.q, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run(done <-chan struct{}) {
	for {
		stopping := false
		select {
		case <-d.wake:
		case <-done:
			stopping = true
		}
		for {
			d.mu.Lock()
			q := d.q
			d.q = nil
			d.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, f := range q {
				d.call(f)
			}
		}
		if stopping {
			return
		}
	}
}

func (d *dispatcher) call(f func()) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error().Str("panic", fmt.Sprint(r)).Msg("bayeux: listener panicked")
		}
	}()
	f()
}

type listener struct {
	id      uint64
	pattern string
	fn      func(*Message)
}

type waiter struct {
	channel string
	id      string
	match   func(*Message) bool
	armed   atomic.Bool
	ch      chan *Message
}

func (w *waiter) matches(m *Message) bool {
	if !w.armed.Load() || m.Channel != w.channel {
		return false
	}
	if w.match != nil {
		return w.match(m)
	}
	if m.ID != "" {
		return m.ID == w.id
	}
	return true
}

// RemoveFunc removes what was added (a listener). Calling it again does nothing.
type RemoveFunc func()

// AddListener calls fn for every message received on channel: an exact channel name,
// or a pattern ending in "/*" or "/**". It needs no subscription: deliveries on
// /service/** channels reach it, and so do replies on meta channels ("/meta/connect",
// "/meta/handshake", …); publish acknowledgements are dispatched on "/meta/publish".
// Listeners run one at a time, in order, on the client's dispatch goroutine; fn must not
// modify the message.
func (c *Client) AddListener(channel string, fn func(*Message)) (RemoveFunc, error) {
	if err := ValidateChannel(channel); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, fmt.Errorf("bayeux: AddListener(%q) needs a function", channel)
	}
	return c.addListener(channel, fn), nil
}

func (c *Client) addListener(channel string, fn func(*Message)) RemoveFunc {
	c.listenersMu.Lock()
	c.lseq++
	l := &listener{id: c.lseq, pattern: channel, fn: fn}
	c.listeners = append(c.listeners, l)
	c.listenersMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.listenersMu.Lock()
			c.listeners = without(c.listeners, l)
			c.listenersMu.Unlock()
		})
	}
}

// without returns s without x, in a new backing array when x was there, so dispatchers
// iterating a copy of the old slice header are unaffected.
func without[T comparable](s []T, x T) []T {
	i := slices.Index(s, x)
	if i < 0 {
		return s
	}
	return append(s[:i:i], s[i+1:]...)
}

func (c *Client) addWaiter(w *waiter) {
	c.listenersMu.Lock()
	c.waiters = append(c.waiters, w)
	c.listenersMu.Unlock()
}

func (c *Client) removeWaiter(w *waiter) {
	c.listenersMu.Lock()
	c.waiters = without(c.waiters, w)
	c.listenersMu.Unlock()
}

// stateListener is a listener of state events.
type stateListener struct{ fn func(StateEvent) }

// AddStateListener calls fn for every state event, in order, on the dispatch goroutine.
func (c *Client) AddStateListener(fn func(StateEvent)) RemoveFunc {
	sl := &stateListener{fn: fn}
	c.listenersMu.Lock()
	c.stateLs = append(c.stateLs, sl)
	c.listenersMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.listenersMu.Lock()
			c.stateLs = without(c.stateLs, sl)
			c.listenersMu.Unlock()
		})
	}
}

// State returns a channel of state events. Each call returns a new channel fed from
// that moment on; its buffer is unbounded, and it is closed when the client is closed
// (events not yet read by then are dropped).
func (c *Client) State() <-chan StateEvent {
	out := make(chan StateEvent)
	var (
		mu   sync.Mutex
		q    []StateEvent
		wake = make(chan struct{}, 1)
	)
	c.AddStateListener(func(ev StateEvent) {
		mu.Lock()
		q = append(q, ev)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		close(out)
		return out
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer close(out)
		for {
			mu.Lock()
			var next *StateEvent
			if len(q) > 0 {
				ev := q[0]
				q = q[1:]
				next = &ev
			}
			mu.Unlock()
			if next == nil {
				select {
				case <-wake:
					continue
				case <-c.done:
					return
				}
			}
			select {
			case out <- *next:
			case <-c.done:
				return
			}
		}
	}()
	return out
}

func (c *Client) emit(ev StateEvent) {
	c.listenersMu.RLock()
	ls := append([]*stateListener(nil), c.stateLs...)
	c.listenersMu.RUnlock()
	c.log.Debug().Str("event", ev.Kind.String()).Str("transport", ev.Transport).AnErr("err", ev.Err).Msg("bayeux: state")
	c.disp.post(func() {
		for _, l := range ls {
			l.fn(ev)
		}
	})
}

// receive handles every message that arrived (replies and deliveries, any order).
func (c *Client) receive(msgs []*Message) {
	for _, m := range msgs {
		if !c.incoming(m) {
			continue
		}
		if m.IsReply() {
			c.resolve(m)
			ch := m.Channel
			if !IsMetaChannel(ch) {
				ch = "/meta/publish"
			}
			c.dispatch(ch, m)
			continue
		}
		if m.Advice != nil {
			c.adoptAdvice(m.Advice)
		}
		if m.Data == nil {
			c.log.Debug().Str("channel", m.Channel).Msg("bayeux: ignoring a message that is neither a reply nor a delivery")
			continue
		}
		c.listenersMu.RLock()
		for _, w := range c.waiters {
			if w.matches(m) {
				select {
				case w.ch <- m:
				default:
				}
			}
		}
		c.listenersMu.RUnlock()
		c.dispatch(m.Channel, m)
	}
}

func (c *Client) dispatch(channel string, m *Message) {
	c.listenersMu.RLock()
	var fns []func(*Message)
	for _, l := range c.listeners {
		if MatchChannel(l.pattern, channel) {
			fns = append(fns, l.fn)
		}
	}
	c.listenersMu.RUnlock()
	if len(fns) == 0 {
		return
	}
	c.disp.post(func() {
		for _, fn := range fns {
			fn(m)
		}
	})
}

func (c *Client) incoming(m *Message) bool {
	for _, e := range c.exts {
		if !e.Incoming(m) {
			return false
		}
	}
	return true
}

func (c *Client) outgoing(m *Message) bool {
	for _, e := range c.exts {
		if !e.Outgoing(m) {
			return false
		}
	}
	return true
}

// resolve hands a reply to the request waiting for it: by id, or, for a reply without
// id, to the oldest pending request on the same channel.
func (c *Client) resolve(m *Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := m.ID
	if id == "" {
		var best uint64
		for k, p := range c.pending {
			if p.channel == m.Channel {
				if n := parseUint(k); id == "" || n < best {
					id, best = k, n
				}
			}
		}
	}
	p, ok := c.pending[id]
	if !ok {
		return
	}
	delete(c.pending, id)
	p.ch <- result{m: m}
}

func parseUint(s string) uint64 {
	var n uint64
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + uint64(r-'0')
	}
	return n
}

func (c *Client) adoptAdvice(a *Advice) {
	if a == nil {
		return
	}
	c.mu.Lock()
	c.advice = c.advice.Merge(a)
	c.mu.Unlock()
}
