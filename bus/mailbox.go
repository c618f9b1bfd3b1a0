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
	ev   *Event
	fn   func()
}

// mailbox is a plugin's FIFO of work. A goroutine runs it only while it is non-empty, so an
// idle plugin costs no goroutine; items run one at a time, in arrival order.
type mailbox struct {
	bus   *Bus
	owner *Plugin
	run   func() // bound once: `go m.run()` on a method value would allocate per spawn

	mu       sync.Mutex
	q        []item
	head     int
	running  bool
	closed   bool
	warned   bool
	maxDepth int
	dropped  uint64
}

func newMailbox(b *Bus, owner *Plugin) *mailbox {
	m := &mailbox{bus: b, owner: owner}
	m.run = m.loop
	return m
}

// push appends it. It fails with ErrClosed after Close and with ErrMailboxFull at the hard limit.
func (m *mailbox) push(it item) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errClosed
	}
	depth := len(m.q) - m.head
	if lim := m.bus.opts.MailboxLimit; lim > 0 && depth >= lim {
		m.dropped++
		m.mu.Unlock()
		return ErrMailboxFull
	}
	if m.head > 256 && m.head*2 > len(m.q) {
		n := copy(m.q, m.q[m.head:])
		clear(m.q[n:])
		m.q = m.q[:n]
		m.head = 0
	}
	m.q = append(m.q, it)
	depth++
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
	m.bus.outstanding.Add(1)
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

// lingerYields is how many times an emptied mailbox yields the processor, watching for new
// work, before its goroutine exits. Under a steady stream this saves a goroutine spawn per item;
// an idle plugin still ends up with no goroutine within microseconds.
const lingerYields = 2

func (m *mailbox) loop() {
	defer m.bus.wg.Done()
	idle := 0
	for {
		m.mu.Lock()
		if m.head == len(m.q) {
			if idle < lingerYields && !m.closed {
				idle++
				m.mu.Unlock()
				runtime.Gosched()
				continue
			}
			m.q = m.q[:0]
			m.head = 0
			m.running = false
			m.mu.Unlock()
			return
		}
		idle = 0
		it := m.q[m.head]
		m.q[m.head] = item{}
		m.head++
		m.mu.Unlock()
		m.bus.process(m.owner, it)
		m.bus.itemDone()
	}
}

// close refuses further items and returns those not yet run.
func (m *mailbox) close() []item {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	rest := append([]item(nil), m.q[m.head:]...)
	clear(m.q)
	m.q = m.q[:0]
	m.head = 0
	return rest
}

func (m *mailbox) stats() (depth, maxDepth int, dropped uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.q) - m.head, m.maxDepth, m.dropped
}
