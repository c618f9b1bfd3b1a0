package bus

import (
	"runtime"
	"sync"
)

type itemKind uint8

const (
	itemDispatch itemKind = iota // a new call: private check, interceptors, buffer or deliver
	itemDeliver                  // a call whose interceptors have run: deliver to the handler
	itemReady                    // the plugin called Ready: flush buffered calls in order
	itemEvent                    // an event for one subscription
	itemFunc                     // a callback (Then/Catch, AfterFunc) owned by this plugin
)

type item struct {
	kind itemKind
	res  *Result
	sub  *subscription
	ev   Event // by value: an event delivery allocates nothing beyond its mailbox slot
	fn   func()
}

// mailbox is a plugin's FIFO of work. A goroutine runs it only while it is non-empty, so an
// idle plugin costs no goroutine; items run one at a time, in arrival order. The queue is a list
// of fixed-size chunks, so a burst never copies the backlog around as it grows.
type mailbox struct {
	bus   *Bus
	owner *Plugin
	run   func() // bound once: `go m.run()` on a method value would allocate per spawn

	mu       sync.Mutex
	head     *chunk // items are taken from head.items[head.r:]
	tail     *chunk // and added at tail.items[tail.w]
	depth    int
	pushes   uint64 // items ever pushed (Drain's quiescence check)
	running  bool
	closed   bool
	warned   bool
	maxDepth int
	dropped  uint64
}

const chunkSize = 128

type chunk struct {
	items [chunkSize]item
	r, w  int
	next  *chunk
}

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

func newMailbox(b *Bus, owner *Plugin) *mailbox {
	m := &mailbox{bus: b, owner: owner}
	m.run = m.loop
	return m
}

// newChunkLocked returns an empty chunk; m.mu held.
func (m *mailbox) newChunkLocked() *chunk { return chunkPool.Get().(*chunk) }

// recycleLocked returns a chunk whose items are all zero to the pool shared by every mailbox
// (an idle mailbox keeps no chunk: many sessions, many plugins); m.mu held.
func (m *mailbox) recycleLocked(c *chunk) {
	c.r, c.w, c.next = 0, 0, nil
	chunkPool.Put(c)
}

// push appends a copy of *it. It fails with ErrClosed after Close and with ErrMailboxFull at
// the hard limit.
func (m *mailbox) push(it *item) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errClosed
	}
	if lim := m.bus.opts.MailboxLimit; lim > 0 && m.depth >= lim {
		m.dropped++
		m.mu.Unlock()
		return ErrMailboxFull
	}
	if m.tail == nil {
		m.tail = m.newChunkLocked()
		m.head = m.tail
	} else if m.tail.w == chunkSize {
		c := m.newChunkLocked()
		m.tail.next = c
		m.tail = c
	}
	m.tail.items[m.tail.w] = *it
	m.tail.w++
	m.depth++
	m.pushes++
	depth := m.depth
	if depth > m.maxDepth {
		m.maxDepth = depth
	}
	warn := false
	if w := m.bus.opts.MailboxWarn; w > 0 {
		if depth >= w && !m.warned {
			m.warned, warn = true, true
		} else if depth < w/2 {
			m.warned = false
		}
	}
	if !m.running {
		m.running = true
		m.bus.wg.Add(1)
		m.mu.Unlock()
		go m.run()
	} else {
		m.mu.Unlock()
	}
	if warn {
		m.bus.mailboxWarning(m.owner.name, depth)
	}
	return nil
}

// pop takes the next item; called with m.mu held and m.depth > 0.
func (m *mailbox) pop() item {
	var it item
	m.popInto(&it)
	return it
}

// popInto moves the next item to dst (items are large: no intermediate copy); called with m.mu
// held and m.depth > 0.
func (m *mailbox) popInto(dst *item) {
	c := m.head
	*dst = c.items[c.r]
	c.items[c.r] = item{}
	c.r++
	m.depth--
	if c.r == c.w && (c.w == chunkSize || m.depth == 0) {
		// The chunk is used up: recycle it.
		m.head = c.next
		if m.head == nil {
			m.tail = nil
		}
		m.recycleLocked(c)
	}
}

// take removes up to batchSize items from the head chunk for the loop, which runs them in
// place (items are large: copying them out costs more than running them) and then calls
// release; m.mu held and m.depth > 0. Pushes meanwhile only write slots at or after c.w.
func (m *mailbox) take() (c *chunk, start, end int, detached bool) {
	c = m.head
	start, end = c.r, min(c.w, c.r+batchSize)
	c.r = end
	m.depth -= end - start
	if c.r == c.w && (c.w == chunkSize || m.depth == 0) {
		// Used up: off the queue now; recycled once its items have run.
		m.head = c.next
		if m.head == nil {
			m.tail = nil
		}
		detached = true
	}
	return c, start, end, detached
}

// lingerYields is how many times an emptied mailbox yields the processor, watching for new
// work, before its goroutine exits. Under a steady stream this saves a goroutine spawn per item;
// an idle plugin still ends up with no goroutine within microseconds.
const lingerYields = 2

// batchSize is how many items the loop takes per lock acquisition.
const batchSize = 32

func (m *mailbox) loop() {
	defer m.bus.wg.Done()
	idle := 0
	for {
		m.mu.Lock()
		if m.depth == 0 {
			if idle < lingerYields && !m.closed {
				idle++
				m.mu.Unlock()
				runtime.Gosched()
				continue
			}
			m.running = false
			m.mu.Unlock()
			m.bus.mailboxIdle()
			return
		}
		idle = 0
		c, start, end, detached := m.take()
		m.mu.Unlock()
		for i := start; i < end; i++ {
			it := &c.items[i]
			if m.bus.closed.Load() {
				// Close took what was queued; items already taken here are refused alike.
				if it.res != nil {
					it.res.reject(errClosed)
				}
			} else {
				m.bus.process(m.owner, it)
			}
			*it = item{} // drop the references
		}
		if detached {
			m.mu.Lock()
			m.recycleLocked(c)
			m.mu.Unlock()
		}
	}
}

func (m *mailbox) idleAndEmpty() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.running && m.depth == 0
}

// closeIdle closes a mailbox that is being forgotten (its plugin deregistered), so a late Post
// fails instead of queuing work that would never run.
func (m *mailbox) closeIdle() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}

// busy reports whether the mailbox has work queued or running, and how many items it ever had.
func (m *mailbox) busy() (bool, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.running || m.depth > 0, m.pushes
}

// close refuses further items and returns those not yet run.
func (m *mailbox) close() []item {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	rest := make([]item, 0, m.depth)
	for m.depth > 0 {
		rest = append(rest, m.pop())
	}
	return rest
}

func (m *mailbox) stats() (depth, maxDepth int, dropped uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.depth, m.maxDepth, m.dropped
}
