package gms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// cometd runs the CometD side of a session: one bayeux.Client at a time
// (each with its own cookie jar), a listener on the service channel, and a
// worker goroutine that resynchronizes after reconnects and re-handshakes
// (requestNotifications from the cursor), verifies transcript gaps, probes
// an offline Chat Server and replaces a Bayeux client that gave up.
//
// GMS answers operations with notifications on the service channel and no
// correlation id (gms-chat-v2.md §4.1). Operations are therefore published
// one at a time (sem); each waits for the first later notification its
// predicate recognizes as its answer (the own event it produces, an empty
// answer, chatEnded, or a statusCode other than 0).
type cometd struct {
	t *Transport

	sem  chan struct{} // one operation in flight
	wake chan struct{} // worker wake-up

	cmu    sync.Mutex
	client *bayeux.Client
	gen    int
	shut   bool

	// Guarded by t.mu.
	waiter      *opWaiter
	hold        *gapHold
	gapPending  bool
	rehandshake bool
	linkBack    bool // the Bayeux session is connected again: resync may run
	// startEvents are state events seen while the chat was starting.
	startEvents []bayeux.StateEvent
	unanswered  int
	timedOut    bool
}

// opWaiter waits for the answer of one operation.
type opWaiter struct {
	match func(*answer) bool
	ch    chan *answer
	// suffix: the answer carries the transcript from our position
	// (requestChat, requestNotifications), so nextPosition applies and gaps
	// inside it are real.
	suffix bool
	// gap: this is the requestNotifications that verifies a held gap.
	gap bool
	// tail > 0 keeps only the last tail events (async restore without a
	// cursor: older ones are left to fetchHistory).
	tail int
	op   wire.Operation
}

// gapHold holds notifications that arrived after one with an index gap,
// until the requestNotifications that verifies the gap is answered.
type gapHold struct {
	items []*answer
	from  int64 // the gap check asks from here: the last index processed, so its answer starts below first
	first int64 // index of the first event after the gap
}

func newCometd(t *Transport) *cometd {
	return &cometd{t: t, sem: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
}

func (c *cometd) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// newClient builds a Bayeux client with the transport's headers, dialer and
// listeners, and makes it current.
func (c *cometd) newClient() (*bayeux.Client, int, error) {
	t := c.t
	s := t.set
	opts := bayeux.Options{
		Header:                          s.header.Clone(),
		HTTPClient:                      t.opts.HTTPClient,
		Dialer:                          &websocket.Dialer{NetDialContext: t.opts.DialContext, Proxy: http.ProxyFromEnvironment, HandshakeTimeout: s.ajaxTimeout},
		AckExtension:                    true, // long-polling deliveries only in connect replies: in order
		MaxConsecutiveHandshakeFailures: s.handshakeCap,
		BackoffIncrement:                s.bayeuxBackoff,
		MaxBackoff:                      transports.DefaultBackoffMax,
		Logger:                          t.log,
		Rand:                            t.opts.Rand,
	}
	if !s.websocket {
		opts.Transports = []string{bayeux.TransportLongPolling}
	}
	cl, err := bayeux.NewClient(s.cometURL, opts)
	if err != nil {
		return nil, 0, &transports.TransportError{Operation: string(wire.OpRequestChat), Err: err}
	}
	c.cmu.Lock()
	if c.shut {
		c.cmu.Unlock()
		cl.Close()
		return nil, 0, transports.ErrClosed
	}
	old := c.client
	c.gen++
	gen := c.gen
	c.client = cl
	c.cmu.Unlock()
	if old != nil {
		old.Close()
	}
	if _, err := cl.AddListener(s.channel, func(m *bayeux.Message) { c.onMessage(gen, m) }); err != nil {
		return nil, 0, err
	}
	cl.AddStateListener(func(ev bayeux.StateEvent) { c.onState(gen, ev) })
	return cl, gen, nil
}

// current returns the current client.
func (c *cometd) current() *bayeux.Client {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	return c.client
}

// shutdown closes the client without telling the server; no client is made after it.
func (c *cometd) shutdown() {
	c.cmu.Lock()
	c.shut = true
	cl := c.client
	c.client = nil
	c.cmu.Unlock()
	if cl != nil {
		cl.Close()
	}
}

// disconnect sends /meta/disconnect (bounded), then closes the client.
func (c *cometd) disconnect(timeout time.Duration) {
	if cl := c.current(); cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_ = cl.Disconnect(ctx)
		cancel()
	}
	c.shutdown()
}

// onState handles the Bayeux client's state events (dispatch goroutine).
func (c *cometd) onState(gen int, ev bayeux.StateEvent) {
	t := c.t
	c.cmu.Lock()
	stale := gen != c.gen
	c.cmu.Unlock()
	if stale {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase == transports.PhaseNew && t.starting {
		// The connection changed while Start/Resume waited for its answer:
		// replayed once the session is active.
		c.startEvents = append(c.startEvents, ev)
		return
	}
	c.stateLocked(ev)
}

// stateLocked applies a Bayeux state event; t.mu held.
func (c *cometd) stateLocked(ev bayeux.StateEvent) {
	t := c.t
	if t.life.Phase != transports.PhaseActive {
		return
	}
	switch ev.Kind {
	case bayeux.EventDisconnected:
		c.linkBack = false
		t.conn.cometdDown(t, ev.Err)
	case bayeux.EventReconnected:
		c.linkBack = true
		t.conn.cometdDown(t, nil) // down since EventDisconnected; back after the resync
		c.poke()
	case bayeux.EventReestablished:
		// A new Bayeux session: GMS no longer delivers this chat's events
		// to us until requestNotifications (§4.6). After a lost connection
		// the link is down until then; a bare "402::Unknown client"
		// re-handshake is not a disconnect (Widgets), so the resync is
		// silent and operations go on meanwhile (their answers come to the
		// publishing session).
		c.linkBack = true
		t.conn.needResync = true
		c.poke()
	case bayeux.EventTerminated:
		if ev.Err != nil {
			t.log.Debug().Err(ev.Err).Msg("gms: CometD client gave up; making a new one")
			c.linkBack = false
			t.conn.cometdDown(t, ev.Err)
			c.rehandshake = true
			c.poke()
		}
	}
}

// onMessage handles one notification on the service channel (dispatch
// goroutine, in order).
func (c *cometd) onMessage(gen int, m *bayeux.Message) {
	t := c.t
	a, err := decodeAnswer(m.Data)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		if t.life.Phase == transports.PhaseActive {
			t.emitLocked(transports.Event{Kind: transports.EventError, Err: fmt.Errorf("%w: notification: %w", transports.ErrMalformed, err)})
		}
		return
	}
	var matched *opWaiter
	if w := c.waiter; w != nil && w.match(a) {
		c.waiter = nil
		matched = w
		w.ch <- a // buffered: never blocks
	}
	c.processLocked(a, matched)
}

// processLocked applies a notification, holding it (and what follows) when
// it reveals a gap in the transcript indexes; t.mu held.
func (c *cometd) processLocked(a *answer, w *opWaiter) {
	t := c.t
	in := answerInfo{op: wire.OpRequestNotifications}
	if w != nil {
		in.op = w.op
		in.suffix = w.suffix
	}
	if w != nil && w.tail > 0 {
		trimToTail(a, w.tail)
	}
	if c.hold != nil {
		if w != nil && (w.gap || w.suffix) {
			t.applyLocked(a, in)
			c.releaseLocked()
			return
		}
		c.hold.items = append(c.hold.items, a)
		return
	}
	if (w == nil || !w.suffix) && c.gapLocked(a) {
		c.hold = &gapHold{items: []*answer{a}, from: t.tracker.LastIndex(), first: firstNew(a, t.tracker.LastIndex())}
		c.gapPending = true
		c.poke()
		return
	}
	t.applyLocked(a, in)
}

// gapLocked reports whether a's first new event skips indexes after the
// cursor (a dropped notification, or a real GMS gap: the worker asks).
func (c *cometd) gapLocked(a *answer) bool {
	t := c.t
	if a.resp.StatusCode != wire.StatusOK || t.life.Phase != transports.PhaseActive || t.tracker.LastIndex() == 0 {
		return false
	}
	f := firstNew(a, t.tracker.LastIndex())
	return f > 0 && f > t.tracker.Position()
}

// firstNew returns the smallest event index above last (0 when none).
func firstNew(a *answer, last int64) int64 {
	var f int64
	for i := range a.resp.Messages {
		if x := int64(a.resp.Messages[i].Index); x > last && (f == 0 || x < f) {
			f = x
		}
	}
	return f
}

// releaseLocked applies the held notifications in order (gaps now accepted).
func (c *cometd) releaseLocked() {
	h := c.hold
	c.hold = nil
	c.gapPending = false
	if h == nil {
		return
	}
	for _, a := range h.items {
		c.t.applyLocked(a, answerInfo{op: wire.OpRequestNotifications})
	}
}

// opError is a failed CometD operation. ambiguous: the server may have
// processed it (the publish or its answer was lost).
type opError struct {
	op        wire.Operation
	ambiguous bool
	err       error
}

func (e *opError) Error() string {
	return "gms: " + string(e.op) + ": " + e.err.Error()
}

func (e *opError) Unwrap() error { return e.err }

// errNoAnswer: the answer notification did not arrive in time.
var errNoAnswer = errors.New("gms: no answer notification")

// do publishes one operation and waits for its answer (bounded by timeout
// and ctx). Errors are *opError or the phase error.
func (c *cometd) do(ctx context.Context, req *wire.Request, w *opWaiter, timeout time.Duration) (*answer, error) {
	t := c.t
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.life.Done():
		return nil, t.phaseErrNow()
	}
	defer func() { <-c.sem }()
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive && !(t.life.Phase == transports.PhaseNew && t.starting) {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return nil, err
	}
	req.SetKeys(t.keys)
	if req.Operation == wire.OpRequestNotifications && t.pushKeys != nil {
		req.UserData = t.pushKeys
	}
	w.ch = make(chan *answer, 1)
	w.op = req.Operation
	c.waiter = w
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if c.waiter == w {
			c.waiter = nil
		}
		t.mu.Unlock()
	}()
	data, err := req.CometD()
	if err != nil {
		return nil, &opError{op: req.Operation, err: err}
	}
	cl := c.current()
	if cl == nil {
		return nil, &opError{op: req.Operation, err: bayeux.ErrNotConnected}
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := cl.Publish(pctx, t.set.channel, data); err != nil {
		// Rejected publishes and publishes made without a session were not processed.
		amb := !errors.Is(err, bayeux.ErrUnsuccessful) && !errors.Is(err, bayeux.ErrNotConnected) && !errors.Is(err, bayeux.ErrClosed)
		return nil, &opError{op: req.Operation, ambiguous: amb, err: err}
	}
	tm := t.clock.NewTimer(timeout)
	defer tm.Stop()
	select {
	case a := <-w.ch:
		return a, nil
	case <-tm.C():
		return nil, &opError{op: req.Operation, ambiguous: true, err: errNoAnswer}
	case <-ctx.Done():
		return nil, &opError{op: req.Operation, ambiguous: true, err: ctx.Err()}
	case <-t.life.Done():
		select {
		case a := <-w.ch: // the answer that ended the session (disconnect)
			return a, nil
		default:
		}
		return nil, t.phaseErrNow()
	}
}

// trimToTail keeps the last n transcript events of a (and every item without index).
func trimToTail(a *answer, n int) {
	msgs := a.resp.Messages
	count := 0
	for i := range msgs {
		if msgs[i].Index > 0 {
			count++
		}
	}
	if count <= n {
		return
	}
	skip := count - n
	var keep []wire.Event
	var raw []json.RawMessage
	for i := range msgs {
		if msgs[i].Index > 0 && skip > 0 {
			skip--
			continue
		}
		keep = append(keep, msgs[i])
		raw = append(raw, a.rawAt(i))
	}
	a.resp.Messages = keep
	if a.raw != nil {
		a.raw = raw
	}
}

func (t *Transport) phaseErrNow() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.life.PhaseErr()
}

// Answer predicates.

// matchFirst accepts the first notification (requestChat on a fresh session).
func matchFirst(*answer) bool { return true }

// matchOwn accepts a failure, chatEnded, or an answer holding the client's
// own event of type typ (with text, when text is not empty).
func matchOwn(typ wire.EventType, text string, checkText bool) func(*answer) bool {
	return func(a *answer) bool {
		if a.resp.StatusCode != wire.StatusOK || a.resp.ChatEnded {
			return true
		}
		for i := range a.resp.Messages {
			e := &a.resp.Messages[i]
			if e.Type == typ && e.From != nil && e.From.Type == wire.PartyClient && (!checkText || e.Text == text) {
				return true
			}
		}
		return false
	}
}

// matchEmpty accepts a failure, chatEnded, or an answer without events
// (updateData, readReceipt): unsolicited notifications carry one event.
func matchEmpty(a *answer) bool {
	return a.resp.StatusCode != wire.StatusOK || a.resp.ChatEnded || len(a.resp.Messages) == 0
}

// matchEnded accepts the disconnect answer.
func matchEnded(a *answer) bool { return a.resp.StatusCode != wire.StatusOK || a.resp.ChatEnded }

// matchNotifications accepts the answer to requestNotifications(pos): a
// failure, chatEnded, or events from pos (unsolicited notifications carry
// exactly one event; one with an index below pos is a duplicate).
func matchNotifications(pos int64) func(*answer) bool {
	return func(a *answer) bool {
		r := a.resp
		if r.StatusCode != wire.StatusOK || r.ChatEnded || len(r.Messages) != 1 {
			return true
		}
		return int64(r.Messages[0].Index) >= pos
	}
}

// matchGap accepts the answer verifying a gap before index first. The check
// asks from the last index already processed, so its answer starts below
// first; a notification starting at first or later is unsolicited (a later
// event, or a late duplicate of the one that revealed the gap) and must not
// be taken for the answer, or the missing events would never be asked for.
func matchGap(first int64) func(*answer) bool {
	return func(a *answer) bool {
		r := a.resp
		if r.StatusCode != wire.StatusOK || r.ChatEnded || len(r.Messages) == 0 {
			return true
		}
		return int64(r.Messages[0].Index) < first
	}
}

// matchHistory accepts the answer to a history requestNotifications(pos):
// it starts below before (older events).
func matchHistory(before int64) func(*answer) bool {
	return func(a *answer) bool {
		r := a.resp
		if r.StatusCode != wire.StatusOK || r.ChatEnded || len(r.Messages) == 0 {
			return true
		}
		return int64(r.Messages[0].Index) < before
	}
}
