package purecloud

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// The session loop: one goroutine per session owns the connection state,
// the dedupe set, the member flags, typing timers and the reorder hold. The
// socket reader and every timer only push items into the mailbox, so the
// loop never races with them and nothing blocks the reader.

type itemKind int

const (
	itemFrame itemKind = iota
	itemConnClosed
	itemTypingTimeout
	itemHoldRelease
	itemTransferCheck
)

type item struct {
	kind   itemKind
	gen    uint64 // socket generation (frames, closes) or timer generation
	data   []byte
	at     time.Time
	err    error
	code   int
	member string
}

// mailbox is an unbounded FIFO with a wake-up channel.
type mailbox struct {
	mu     sync.Mutex
	items  []item
	notify chan struct{}
}

func (m *mailbox) init() { m.notify = make(chan struct{}, 1) }

func (m *mailbox) push(it item) {
	m.mu.Lock()
	m.items = append(m.items, it)
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

func (m *mailbox) drain() []item {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items
	m.items = nil
	return it
}

// sockConn is one attached event stream.
type sockConn struct {
	ws       *websocket.Conn
	gen      uint64
	watchdog transports.Timer
	expired  atomic.Bool
	once     sync.Once
}

func (c *sockConn) close(graceful bool) {
	c.once.Do(func() {
		c.watchdog.Stop()
		if graceful {
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}
		_ = c.ws.Close()
	})
}

// dialError is a failed attach; status is the HTTP answer when there was one.
type dialError struct {
	status int
	err    error
}

func (e *dialError) Error() string { return "purecloud: attach event stream: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// closeError is a socket that went away.
type closeError struct {
	code int
	err  error
}

func (e *closeError) Error() string { return "purecloud: event stream closed: " + e.err.Error() }
func (e *closeError) Unwrap() error { return e.err }

func (t *Transport) run() {
	defer t.wg.Done()
	ls := newLoopState(t)
	defer t.finish(ls)
	var (
		attempt       int
		downSince     time.Time
		connectedOnce bool
		discEmitted   bool
	)
	for {
		if t.life.Context().Err() != nil {
			return
		}
		c, err := t.dial(ls)
		if err == nil {
			ls.conn = c
			var ok bool
			ok, err = t.sync(ls)
			if ok {
				attempt, downSince = 0, time.Time{}
				t.setConnected(true)
				switch {
				case !connectedOnce:
					connectedOnce = true
					t.emit(transports.Event{Kind: transports.EventConnected})
				case discEmitted:
					t.emit(transports.Event{Kind: transports.EventReconnected})
				}
				discEmitted = false
				err = t.pump(ls)
				t.setConnected(false)
				ls.flushHold()
				ls.flush()
			}
			c.close(t.life.Context().Err() != nil)
			ls.conn = nil
			if t.life.Context().Err() != nil {
				return
			}
			if errors.Is(err, errClosing) {
				// Planned close: reattach at once, quietly; backfill covers the gap.
				t.log.Debug().Msg("purecloud: socket_closing, reattaching")
				continue
			}
		}
		now := t.clock.Now()
		if downSince.IsZero() {
			downSince = now
		}
		t.log.Debug().Err(err).Int("attempt", attempt).Msg("purecloud: event stream down")
		if connectedOnce && !discEmitted {
			discEmitted = true
			t.emit(transports.Event{Kind: transports.EventDisconnected, Err: err})
		}
		// Close codes and refused handshakes are hints, never proof: confirm with #3 (§7.3 d).
		if hintsEnd(err) && t.confirmEnded(ls) {
			return
		}
		k := t.snapshotKeys()
		if !k.exp.IsZero() && !now.Before(k.exp) {
			t.endSession(transports.EndedExpired, errors.Join(errors.New("purecloud: chat token expired"), err))
			return
		}
		if now.Sub(downSince) >= t.set.restoreWindow {
			if !t.confirmEnded(ls) {
				t.endSession(transports.EndedExpired, errors.Join(errors.New("purecloud: could not reattach within restoreTimeout"), err))
			}
			return
		}
		delay := t.backoff.Delay(attempt)
		attempt++
		t.idle(ls, delay)
	}
}

// hintsEnd reports close codes 1001/4100 and refused handshakes.
func hintsEnd(err error) bool {
	var ce *closeError
	if errors.As(err, &ce) {
		return ce.code == wire.CloseConversationEnded || ce.code == wire.CloseConnectError
	}
	var de *dialError
	return errors.As(err, &de) && de.status != 0
}

func (t *Transport) snapshotKeys() sessionKeys {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.keys
}

// dial attaches a new event stream and starts its reader.
func (t *Transport) dial(ls *loopState) (*sockConn, error) {
	k := t.snapshotKeys()
	ls.gen++
	ctx, cancel := context.WithTimeout(t.life.Context(), t.set.ajaxTimeout)
	defer cancel()
	ws, resp, err := t.dialer.DialContext(ctx, k.stream, nil)
	if err != nil {
		de := &dialError{err: err}
		if resp != nil {
			de.status = resp.StatusCode
			if resp.Body != nil {
				resp.Body.Close()
			}
		}
		return nil, de
	}
	ws.SetReadLimit(1 << 20)
	c := &sockConn{ws: ws, gen: ls.gen}
	c.watchdog = t.clock.AfterFunc(t.set.heartbeat, func() {
		c.expired.Store(true)
		_ = ws.Close()
	})
	t.wg.Add(1)
	go t.read(c)
	return c, nil
}

// read pushes every frame into the mailbox and resets the watchdog.
func (t *Transport) read(c *sockConn) {
	defer t.wg.Done()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			code := 0
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			if c.expired.Load() {
				err = errWatchdog
			}
			t.mbox.push(item{kind: itemConnClosed, gen: c.gen, err: &closeError{code: code, err: err}, code: code})
			return
		}
		c.watchdog.Reset(t.set.heartbeat)
		t.mbox.push(item{kind: itemFrame, gen: c.gen, data: data, at: t.clock.Now()})
	}
}

// sync runs after every attach: prefetch members (#2), backfill (#7) after
// the cursor until a short page, then read our own member (#3). Live frames
// wait in the mailbox meanwhile. ok=false with err=nil means the session ended.
func (t *Transport) sync(ls *loopState) (ok bool, err error) {
	k := t.snapshotKeys()
	if err := t.prefetchMembers(ls, k); err != nil {
		if r, fatal := fatalReason(err, true); fatal {
			t.endSession(r, err)
			return false, nil
		}
		t.log.Debug().Err(err).Msg("purecloud: members prefetch failed")
	}
	if err := t.backfill(ls, k); err != nil {
		if r, fatal := fatalReason(err, true); fatal {
			t.endSession(r, err)
			return false, nil
		}
		return false, err
	}
	ctx, cancel := context.WithTimeout(t.life.Context(), t.set.ajaxTimeout)
	me, err := t.rest.getMember(ctx, k.jwt, k.conv, k.member, 2)
	cancel()
	if err != nil {
		if r, fatal := fatalReason(err, true); fatal {
			t.endSession(r, err)
			return false, nil
		}
		t.log.Debug().Err(err).Msg("purecloud: own member read failed")
		return true, nil
	}
	if me.LeaveDate != nil || me.State == wire.StateDisconnected {
		t.endSession(transports.EndedByServer, nil)
		return false, nil
	}
	return true, nil
}

// backfill pages #7 ascending after the cursor until a short page.
func (t *Transport) backfill(ls *loopState, k sessionKeys) error {
	after := ls.cursor.ID
	retriedWithout := false
	for {
		page, err := t.rest.getMessages(t.life.Context(), k.jwt, k.conv, after, "", wire.SortAscending, wire.MaxResults, 3)
		if err != nil {
			if after != "" && !retriedWithout && statusOf(err) == http.StatusBadRequest && !isConversationState(err) {
				// The server does not know our cursor: read everything; the
				// seen-set drops what was delivered already.
				t.log.Warn().Msg("purecloud: cursor unknown to the server, backfilling from the start")
				after, retriedWithout = "", true
				continue
			}
			return err
		}
		for i := range page.Entities {
			ls.message(&page.Entities[i], nil)
		}
		ls.flush()
		if len(page.Entities) < wire.MaxResults {
			return nil
		}
		after = page.Entities[len(page.Entities)-1].ID
		if t.life.Context().Err() != nil {
			return t.life.Context().Err()
		}
	}
}

// prefetchMembers reads the member list (#2) into the role cache.
func (t *Transport) prefetchMembers(ls *loopState, k sessionKeys) error {
	for page := 1; page <= 20; page++ {
		ctx, cancel := context.WithTimeout(t.life.Context(), t.set.ajaxTimeout)
		l, err := t.rest.getMembers(ctx, k.jwt, k.conv, page, 2)
		cancel()
		if err != nil {
			return err
		}
		for i := range l.Entities {
			t.members.learn(&l.Entities[i])
		}
		if page >= l.PageCount || len(l.Entities) == 0 {
			return nil
		}
	}
	return nil
}

// confirmEnded reads our own member and ends the session when it has left
// (§7.3 d). It reports whether the session ended.
func (t *Transport) confirmEnded(ls *loopState) bool {
	k := t.snapshotKeys()
	ctx, cancel := context.WithTimeout(t.life.Context(), t.set.ajaxTimeout)
	defer cancel()
	me, err := t.rest.getMember(ctx, k.jwt, k.conv, k.member, 1)
	if err != nil {
		if r, fatal := fatalReason(err, true); fatal {
			return t.endSession(r, err)
		}
		return t.life.Context().Err() != nil
	}
	if me.LeaveDate != nil {
		return t.endSession(transports.EndedByServer, nil)
	}
	return false
}

// pump handles mailbox items while the socket is attached. It returns the
// reason the socket went away (or ctx.Err()).
func (t *Transport) pump(ls *loopState) error {
	for {
		select {
		case <-t.mbox.notify:
			var stop error
			for _, it := range t.mbox.drain() {
				if err := ls.handle(it); err != nil && stop == nil {
					stop = err
				}
			}
			ls.flush()
			if stop != nil {
				return stop
			}
			if t.life.Context().Err() != nil {
				return t.life.Context().Err()
			}
		case <-t.life.Context().Done():
			return t.life.Context().Err()
		}
	}
}

// idle waits d between reconnect attempts, still serving timers.
func (t *Transport) idle(ls *loopState, d time.Duration) {
	tm := t.clock.NewTimer(d)
	defer tm.Stop()
	for {
		select {
		case <-tm.C():
			return
		case <-t.mbox.notify:
			for _, it := range t.mbox.drain() {
				if it.kind != itemFrame && it.kind != itemConnClosed {
					_ = ls.handle(it)
				}
			}
			ls.flush()
		case <-t.life.Context().Done():
			return
		}
	}
}

// finish runs when the loop exits: it stops timers and the socket, reports
// EventEnded when the session ended, and closes the event stream.
func (t *Transport) finish(ls *loopState) {
	ls.stopTimers()
	t.mu.Lock()
	ph, reason, err := t.life.Phase, t.life.EndReason, t.life.EndErr
	t.mu.Unlock()
	if ph == transports.PhaseEnded {
		ls.flushHold()
		ls.flush()
	}
	if ls.conn != nil {
		ls.conn.close(ph == transports.PhaseEnded)
	}
	if ph == transports.PhaseEnded {
		t.emit(transports.Event{Kind: transports.EventEnded, Reason: reason, Err: err})
	}
	close(t.events)
}
