package gms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// opTimeout bounds the wait for an operation's answer notification.
func (t *Transport) opTimeout() time.Duration { return t.set.ajaxTimeout }

// connectCometD makes the session's Bayeux client and handshakes. A failed
// start handshake (HandshakeAttempts in a row) is Widgets' {statusCode:1}
// rejection.
func (t *Transport) connectCometD(ctx context.Context, op wire.Operation) (*cometd, error) {
	cm := newCometd(t)
	t.mu.Lock()
	if t.life.Phase != transports.PhaseNew {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return nil, err
	}
	t.cm = cm
	t.mu.Unlock()
	cl, _, err := cm.newClient()
	if err != nil {
		return nil, err
	}
	if err := cl.Handshake(ctx); err != nil {
		return nil, &transports.TransportError{Operation: string(op), StatusCode: int(wire.StatusRetry),
			Message: "CometD handshake failed", Err: err}
	}
	return cm, nil
}

// dropCometD undoes connectCometD after a failed Start/Resume.
func (t *Transport) dropCometD() {
	t.mu.Lock()
	cm := t.cm
	t.cm = nil
	t.mu.Unlock()
	if cm != nil {
		cm.shutdown()
	}
}

// startCometD handshakes and publishes requestChat; Start resolves with the
// answer notification that carries the session keys ([ours]; Widgets
// resolved before the chatId was known).
func (t *Transport) startCometD(ctx context.Context, req *wire.Request) (*answer, error) {
	cm, err := t.connectCometD(ctx, wire.OpRequestChat)
	if err != nil {
		t.dropCometD()
		return nil, err
	}
	req.Auth = t.set.basic
	a, err := cm.do(ctx, req, &opWaiter{match: matchFirst, suffix: true}, t.opTimeout())
	if err != nil {
		t.dropCometD()
		return nil, &transports.TransportError{Operation: string(wire.OpRequestChat), Err: err}
	}
	if a.resp.StatusCode != wire.StatusOK {
		t.dropCometD()
		return a, apiError(wire.OpRequestChat, 0, a)
	}
	t.mu.Lock()
	k := t.keys
	t.mu.Unlock()
	if k.SecureKey == "" {
		t.dropCometD()
		return a, &transports.TransportError{Operation: string(wire.OpRequestChat), Body: transports.RedactJSON(a.body, nil),
			Err: fmt.Errorf("%w: the requestChat answer has no secureKey", transports.ErrMalformed)}
	}
	return a, nil
}

// resumeCometD handshakes and publishes requestNotifications from the
// cursor. An asynchronous chat resumed without a cursor delivers only the
// last page (async.maxMessagePageSize); older events are left to fetchHistory.
func (t *Transport) resumeCometD(ctx context.Context, cur transports.Cursor) error {
	cm, err := t.connectCometD(ctx, wire.OpRequestNotifications)
	if err != nil {
		t.dropCometD()
		return err
	}
	t.mu.Lock()
	pos := t.tracker.Position()
	w := &opWaiter{match: matchNotifications(pos), suffix: true}
	if cur.IsZero() && t.async {
		w.tail = t.set.pageSize
	}
	t.mu.Unlock()
	a, err := cm.do(ctx, &wire.Request{Operation: wire.OpRequestNotifications, TranscriptPosition: int(pos)}, w, t.opTimeout())
	if err != nil {
		t.dropCometD()
		return &transports.TransportError{Operation: string(wire.OpRequestNotifications), Err: err}
	}
	var rerr error
	if a.resp.StatusCode != wire.StatusOK {
		rerr = apiError(wire.OpRequestNotifications, 0, a)
	}
	if err := t.resumeResult(a, rerr); err != nil {
		t.dropCometD()
		return err
	}
	if a.resp.StatusCode == wire.StatusFailed {
		t.dropCometD()
		return sessionEndedErr(rerr)
	}
	return nil
}

// endCometD publishes disconnect, waits (bounded) for chatEnded, then
// disconnects the Bayeux session.
func (t *Transport) endCometD(ctx context.Context) error {
	t.mu.Lock()
	cm := t.cm
	t.mu.Unlock()
	if cm == nil {
		return nil
	}
	a, err := cm.do(ctx, &wire.Request{Operation: wire.OpDisconnect}, &opWaiter{match: matchEnded}, t.opTimeout())
	cm.disconnect(t.opTimeout())
	switch {
	case errors.Is(err, transports.ErrSessionEnded):
		return nil
	case err != nil:
		return &transports.TransportError{Operation: string(wire.OpDisconnect), Err: err}
	case a.resp.StatusCode != wire.StatusOK && !a.resp.ChatEnded:
		return apiError(wire.OpDisconnect, 0, a)
	}
	return nil
}

// run is the CometD worker: resync after reconnects (requestNotifications
// from the cursor, retried every NotificationRetry; EventServerTimeout after
// ServerTimeoutAfter unanswered), gap verification, offline probing, and a
// new Bayeux client when the current one gave up. On exit it disconnects
// (session ended) or just closes (transport closed) the Bayeux client.
func (c *cometd) run() {
	t := c.t
	defer t.wg.Done()
	defer func() {
		t.mu.Lock()
		ended := t.life.Phase == transports.PhaseEnded
		t.mu.Unlock()
		if ended {
			c.disconnect(t.opTimeout())
		} else {
			c.shutdown()
		}
	}()
	for {
		select {
		case <-c.wake:
		case <-t.life.Context().Done():
			return
		}
	work:
		for t.life.Context().Err() == nil {
			t.mu.Lock()
			reh := c.rehandshake
			c.rehandshake = false
			gap := c.gapPending && c.hold != nil
			c.gapPending = false
			var pos, first int64
			if gap {
				pos, first = c.hold.from, c.hold.first
			}
			sync := (t.conn.needResync && c.linkBack) || t.conn.offline
			t.mu.Unlock()
			switch {
			case reh:
				c.replaceClient()
			case gap:
				c.verifyGap(pos, first)
			case sync:
				c.syncOnce()
			default:
				break work
			}
		}
	}
}

// syncOnce publishes one requestNotifications from the cursor and handles
// the answer (or its absence).
func (c *cometd) syncOnce() {
	t := c.t
	t.mu.Lock()
	pos := t.tracker.Position()
	t.mu.Unlock()
	start := t.clock.Now()
	a, err := c.do(t.life.Context(), &wire.Request{Operation: wire.OpRequestNotifications, TranscriptPosition: int(pos)},
		&opWaiter{match: matchNotifications(pos), suffix: true}, t.set.notifyRetry)
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		t.mu.Unlock()
		return
	}
	if err != nil || a == nil {
		c.unanswered++
		if c.unanswered >= t.set.timeoutAfter && !c.timedOut {
			c.timedOut = true
			t.emitLocked(transports.Event{Kind: transports.EventServerTimeout, Err: err})
		}
		t.mu.Unlock()
		// A publish that failed at once (no session yet) waits before the next try.
		if wait := t.set.notifyRetry - t.clock.Now().Sub(start); wait > 0 {
			_ = t.sleep(t.life.Context(), wait)
		}
		return
	}
	c.unanswered, c.timedOut = 0, false
	switch a.resp.StatusCode {
	case wire.StatusOK:
		if t.conn.needResync {
			t.conn.resynced(t)
		}
		t.mu.Unlock()
	case wire.StatusRetry:
		t.mu.Unlock()
		_ = t.sleep(t.life.Context(), t.set.notifyRetry) // offline: probe again later
	default:
		if t.life.Phase == transports.PhaseActive && !a.resp.ChatEnded {
			// requestNotifications failed for good: the session is over (§5).
			t.endLocked(transports.EndedSessionLost, apiError(wire.OpRequestNotifications, 0, a))
		}
		t.mu.Unlock()
	}
}

// verifyGap asks for the events from pos, the last index processed (the
// answer repeats it; the tracker drops it), so the answer cannot be mistaken
// for an unsolicited notification (see matchGap); the listener applies it and
// releases what it held. Without an answer the held notifications are
// released as they are (a real gap).
func (c *cometd) verifyGap(pos, first int64) {
	t := c.t
	_, err := c.do(t.life.Context(), &wire.Request{Operation: wire.OpRequestNotifications, TranscriptPosition: int(pos)},
		&opWaiter{match: matchGap(first), gap: true, suffix: true}, t.set.notifyRetry)
	if err != nil {
		t.log.Debug().Err(err).Int64("pos", pos).Msg("gms: gap check unanswered; accepting the gap")
		t.mu.Lock()
		c.releaseLocked()
		t.mu.Unlock()
	}
}

// replaceClient makes a new Bayeux client after the current one gave up
// (too many failed handshakes, or advice "none"), retrying with back-off.
func (c *cometd) replaceClient() {
	t := c.t
	b := transports.Backoff{Initial: t.set.rehandshakeDelay, Max: transports.DefaultBackoffMax, Rand: t.opts.Rand}
	for attempt := 0; t.life.Context().Err() == nil; attempt++ {
		if err := t.sleep(t.life.Context(), b.Delay(attempt)); err != nil {
			return
		}
		cl, _, err := c.newClient()
		if err != nil {
			return
		}
		if err := cl.Handshake(t.life.Context()); err == nil {
			t.mu.Lock()
			c.linkBack = true
			t.mu.Unlock()
			return
		}
		t.log.Debug().Int("attempt", attempt).Msg("gms: CometD handshake failed")
	}
}
