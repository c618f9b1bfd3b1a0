package gms

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// pollState is the REST poll loop's state (gms-chat-v2.md §14.2, §16.6);
// guarded by Transport.mu except busy.
type pollState struct {
	polling   bool
	sleeping  bool
	current   time.Duration
	lastStart time.Time
	lastEnd   time.Time
	busy      atomic.Bool // one poll in flight
	kick      chan struct{}
	// armed, when set (tests), is called with the due time whenever the
	// loop waits for the next poll.
	armed func(due time.Time)
}

func (p *pollState) init(s settings) {
	p.current = s.pollRate
	p.kick = make(chan struct{}, 1)
}

func (p *pollState) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// stopAll stops polling for good (End).
func (p *pollState) stopAll(t *Transport) {
	t.mu.Lock()
	p.polling = false
	t.mu.Unlock()
	p.wake()
}

// delayLocked is how long until the next poll is due: the current interval
// (pollRateSleep while sleeping, pollRateMax while the Chat Server is
// offline) after the last poll started, and at least pollRateMin/2 after it
// ended.
func (t *Transport) pollDelayLocked(now time.Time) time.Duration {
	p := &t.poll
	iv := p.current
	switch {
	case p.sleeping:
		iv = t.set.pollSleep
	case t.conn.offline:
		iv = t.set.pollMax
	}
	if iv > MaxPollInterval {
		iv = MaxPollInterval
	}
	due := p.lastStart.Add(iv)
	if min := p.lastEnd.Add(t.set.pollMin / 2); min.After(due) {
		due = min
	}
	return due.Sub(now)
}

// startPolling starts the poll loop (REST, once per session); t.mu held.
func (t *Transport) startPollingLocked() {
	now := t.clock.Now()
	t.poll.polling = true
	t.poll.lastStart, t.poll.lastEnd = now, now
	t.wg.Add(1)
	go t.pollLoop()
}

// pollLoop polls while polling is on, one poll at a time, until the session
// ends or the transport closes.
func (t *Transport) pollLoop() {
	defer t.wg.Done()
	tm := t.clock.NewTimer(time.Hour)
	tm.Stop()
	defer tm.Stop()
	for {
		t.mu.Lock()
		polling := t.poll.polling && t.life.Phase == transports.PhaseActive
		now := t.clock.Now()
		wait := t.pollDelayLocked(now)
		armed := t.poll.armed
		t.mu.Unlock()
		var tick <-chan time.Time
		if polling {
			if wait <= 0 {
				_, _ = t.pollOnce(t.life.Context())
				continue
			}
			tm.Reset(wait)
			tick = tm.C()
			if armed != nil {
				armed(now.Add(wait))
			}
		}
		select {
		case <-tick:
		case <-t.poll.kick:
			tm.Stop()
		case <-t.life.Context().Done():
			return
		}
	}
}

// pollOnce runs one refresh unless one is in flight (ErrPollInFlight). It
// returns nil once GMS answered (statusCode 0 or 1), the error otherwise.
// pollOnce runs one refresh; it returns the answer when there is one.
func (t *Transport) pollOnce(ctx context.Context) (json.RawMessage, error) {
	if !t.poll.busy.CompareAndSwap(false, true) {
		return nil, transports.ErrPollInFlight
	}
	defer t.poll.busy.Store(false)
	start := t.clock.Now()
	a, err := t.restCall(ctx, &wire.Request{Operation: wire.OpRefresh}, -1, nil, nil)
	t.mu.Lock()
	t.poll.lastStart, t.poll.lastEnd = start, t.clock.Now()
	if t.set.dynamic && !t.poll.sleeping {
		next := time.Duration(float64(t.poll.current) * t.set.pollMult)
		if next > t.set.pollMax {
			next = t.set.pollMax
		}
		if next > t.poll.current {
			t.poll.current = next
		}
	}
	t.mu.Unlock()
	var body json.RawMessage
	if a != nil {
		body = a.body
	}
	if err == nil {
		return body, nil
	}
	var te *transports.TransportError
	if a != nil && errors.As(err, &te) {
		switch {
		case te.StatusCode == int(wire.StatusRetry):
			return body, nil // answered; counted by the connectivity state machine
		case errors.Is(err, transports.ErrSessionEnded):
			return body, err
		case hasCode(te, wire.CodeMessageTooLong):
			return body, nil // Widgets drops 204 errors from refresh answers
		}
		t.mu.Lock()
		if t.life.Phase == transports.PhaseActive {
			t.emitLocked(transports.Event{Kind: transports.EventError, Err: err})
		}
		t.mu.Unlock()
	}
	return body, err
}

func hasCode(te *transports.TransportError, code int) bool {
	for _, e := range te.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}

// sentSomething puts the poll interval back to pollRateMin after the
// customer sent a message or a file (dynamic polling).
func (t *Transport) sentSomething() {
	if t.set.mode != ModeREST || !t.set.dynamic {
		return
	}
	t.mu.Lock()
	if !t.poll.sleeping {
		t.poll.current = t.set.pollMin
	}
	t.mu.Unlock()
	t.poll.wake()
}

// Poll runs one refresh now (Widgets poll). It fails with
// transports.ErrPollInFlight while a poll runs, and with
// transports.ErrPollingUnsupported in CometD mode.
func (t *Transport) Poll(ctx context.Context) (json.RawMessage, error) {
	if t.set.mode != ModeREST {
		return nil, transports.ErrPollingUnsupported
	}
	if err := t.checkActive(); err != nil {
		return nil, err
	}
	return t.pollOnce(ctx)
}

// StartPoll starts polling (idempotent); it reports whether polling actually
// started.
func (t *Transport) StartPoll(ctx context.Context) (bool, error) {
	if t.set.mode != ModeREST {
		return false, transports.ErrPollingUnsupported
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase != transports.PhaseActive {
		return false, t.life.PhaseErr()
	}
	if t.poll.polling {
		return false, nil
	}
	t.poll.polling = true
	t.poll.wake()
	return true, nil
}

// StopPoll stops polling; transports.ErrNotPolling when not polling.
func (t *Transport) StopPoll(ctx context.Context) error {
	if t.set.mode != ModeREST {
		return transports.ErrPollingUnsupported
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase != transports.PhaseActive {
		return t.life.PhaseErr()
	}
	if !t.poll.polling {
		return transports.ErrNotPolling
	}
	t.poll.polling = false
	t.poll.wake()
	return nil
}

// ResetPollExceptions resets the consecutive-failure counters. The
// offline/online state is left to the state machine (webchatservice.md §3.12).
func (t *Transport) ResetPollExceptions() {
	t.mu.Lock()
	t.conn.reset()
	t.mu.Unlock()
}

// Polling reports whether polling is on.
func (t *Transport) Polling() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.poll.polling && t.life.Phase == transports.PhaseActive
}

// Sleeping reports whether the transport sleeps (slow polling).
func (t *Transport) Sleeping() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.poll.sleeping
}

// Sleep slows polling to pollRateSleep when sleepEnabled is set, the session
// is active, not asynchronous and not already sleeping (REST only; a no-op
// in CometD mode). It reports whether the transport went to sleep.
func (t *Transport) Sleep(ctx context.Context) (bool, error) {
	if t.set.mode != ModeREST || !t.set.sleepEnabled {
		return false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase != transports.PhaseActive || t.async || t.poll.sleeping {
		return false, nil
	}
	t.poll.sleeping = true
	t.poll.wake()
	return true, nil
}

// CancelIdleAttributes are the eventAttributes of the customNotice that
// resets Chat Server's idle timers (Widgets wake).
var CancelIdleAttributes = map[string]any{"purpose": "cancel-idle-timer"}

// Wake ends sleep: the interval goes back to pollRate and a customNotice
// with eventAttributes {"purpose":"cancel-idle-timer"} resets the server's
// idle timers; resetIdleState sends that notice even when awake. It reports
// whether the transport was sleeping. A no-op in CometD mode.
func (t *Transport) Wake(ctx context.Context, resetIdleState bool) (bool, error) {
	if t.set.mode != ModeREST {
		return false, nil
	}
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		t.mu.Unlock()
		return false, nil
	}
	was := t.poll.sleeping
	if was {
		t.poll.sleeping = false
		t.poll.current = t.set.pollRate
	}
	t.mu.Unlock()
	t.poll.wake()
	if !was && !resetIdleState {
		return false, nil
	}
	_, err := t.restOp(ctx, func() *wire.Request {
		return &wire.Request{Operation: wire.OpCustomNotice, EventAttributes: CancelIdleAttributes}
	})
	return was, err
}
