package gms

import (
	"errors"

	"github.com/cxbus/webchat/transports"
)

// Errors carried by EventDisconnected.
var (
	// ErrServerOffline: GMS answers statusCode 1 (Chat Server offline).
	ErrServerOffline = errors.New("gms: chat server offline (statusCode 1)")
	// ErrCometDDown: the CometD connection is lost; the transport reconnects.
	ErrCometDDown = errors.New("gms: CometD connection lost")
)

// connState is the one connectivity state machine of a session
// (gms-chat-v2.md §16.5, webchatservice.md §6.3). Every transition is
// reported once; nothing re-fires while the state is unchanged. Its methods
// run under Transport.mu and emit through the non-blocking emitter.
//
// The link is down while the transport cannot reach GMS (transportDown:
// disconnectAfter consecutive network/timeout/5xx failures, or a lost
// CometD session) or while the Chat Server is offline (more than
// pollExceptionLimit consecutive statusCode 1 answers). EventDisconnected
// marks the link going down and EventReconnected its return, so
// EventReconnected (which Widgets publishes with chatServerBackOnline)
// always follows an EventDisconnected.
type connState struct {
	limit, onlineAfter, discAfter int

	fails         int // consecutive transport failures
	transportDown bool
	retries       int // consecutive statusCode 1 answers
	offline       bool
	oks           int // consecutive statusCode 0 answers while offline
	linkDown      bool
	lastErr       error

	// cometd: the transport comes back only with a resync answer.
	needResync bool

	upWait chan struct{} // closed while the link is up
}

func newConnState(s settings) connState {
	c := connState{limit: s.pollLimit, onlineAfter: s.onlineAfter, discAfter: s.discAfter, upWait: make(chan struct{})}
	close(c.upWait)
	return c
}

// up reports whether the link is up.
func (c *connState) up() bool { return !c.linkDown }

// failure records a transport failure (network error, timeout, HTTP 5xx).
func (c *connState) failure(t *Transport, err error) {
	c.fails++
	c.lastErr = err
	if !c.transportDown && c.fails >= c.discAfter {
		c.transportDown = true
	}
	c.update(t)
}

// cometdDown records a lost CometD connection; it comes back with resynced.
func (c *connState) cometdDown(t *Transport, err error) {
	if err == nil {
		err = ErrCometDDown
	}
	c.lastErr = err
	c.transportDown = true
	c.needResync = true
	c.update(t)
}

// resynced records the answer to requestNotifications after a reconnect.
func (c *connState) resynced(t *Transport) {
	c.needResync = false
	c.fails = 0
	c.transportDown = false
	c.update(t)
}

// answer records a decoded answer with the API statusCode.
func (c *connState) answer(t *Transport, status int) {
	c.fails = 0
	if !c.needResync {
		c.transportDown = false
	}
	if status == 1 {
		c.oks = 0
		c.retries++
		if !c.offline && c.retries > c.limit {
			c.offline = true
			c.lastErr = ErrServerOffline
			t.emitLocked(transports.Event{Kind: transports.EventServerOffline, Err: ErrServerOffline})
			if t.cm != nil {
				t.cm.poke() // CometD has no poll loop: the worker probes until it answers
			}
		}
	} else {
		c.retries = 0
		if c.offline && status == 0 {
			c.oks++
			if c.oks >= c.onlineAfter {
				c.offline = false
				c.oks = 0
				t.emitLocked(transports.Event{Kind: transports.EventServerOnline})
			}
		}
	}
	c.update(t)
}

// forceOffline marks the Chat Server offline at once (a restore answered
// statusCode 1: Widgets' restoredOffline).
func (c *connState) forceOffline(t *Transport) {
	if c.offline {
		return
	}
	c.offline = true
	c.retries = c.limit + 1
	c.lastErr = ErrServerOffline
	t.emitLocked(transports.Event{Kind: transports.EventServerOffline, Err: ErrServerOffline})
	c.update(t)
}

// reset zeroes the failure counters (resetPollExceptions); the states stay.
func (c *connState) reset() {
	c.fails, c.retries = 0, 0
}

func (c *connState) update(t *Transport) {
	down := c.transportDown || c.offline
	if down == c.linkDown {
		return
	}
	c.linkDown = down
	if down {
		c.upWait = make(chan struct{})
		t.emitLocked(transports.Event{Kind: transports.EventDisconnected, Err: c.lastErr})
		return
	}
	close(c.upWait)
	t.emitLocked(transports.Event{Kind: transports.EventReconnected})
}
