package bayeux

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// outcome of one handshake or connect attempt.
type outcome struct {
	ok     bool
	reply  *Message // nil on a transport failure
	err    error
	action string // what to do next
}

// loop is the client's engine: handshake, then exactly one outstanding connect at a
// time, following advice (§9 of the spec in docs/bayeux.md). It ends on ctx (Disconnect,
// Close) or a terminal condition.
func (c *Client) loop(ctx context.Context) {
	var termErr error
	defer func() { c.finish(termErr) }()
	var (
		backoff          time.Duration
		hsFailures       int
		action           = ReconnectHandshake
		firstConnect     bool // next connect carries advice{timeout:0}
		announceConnect  bool // next successful connect emits EventConnected
		outage           bool // connects are failing (EventDisconnected sent)
		unconnectedSince time.Time
	)
	nextBackoff := func() time.Duration {
		d := backoff
		backoff = min(backoff+c.opts.BackoffIncrement, c.opts.MaxBackoff)
		return c.jitter(d)
	}
	for {
		if c.quit(ctx) {
			return
		}
		select {
		case a := <-c.kick:
			if a == ReconnectHandshake {
				action = ReconnectHandshake
			}
		default:
		}
		switch action {
		case ReconnectHandshake:
			c.dropSession()
			o := c.handshakeOnce(ctx)
			if c.quit(ctx) {
				return
			}
			if o.ok {
				backoff, hsFailures = 0, 0
				c.takeSocketLost()
				firstConnect, announceConnect, outage = true, true, false
				action = ReconnectRetry
				continue
			}
			if o.action == ReconnectNone {
				termErr = fmt.Errorf("%w: %w", ErrReconnectNone, o.err)
				return
			}
			hsFailures++
			if n := c.opts.MaxConsecutiveHandshakeFailures; n > 0 && hsFailures >= n {
				termErr = fmt.Errorf("%w after %d attempts: %w", ErrHandshakeFailed, hsFailures, o.err)
				return
			}
			c.log.Debug().Err(o.err).Int("failures", hsFailures).Msg("bayeux: handshake failed")
			if a := c.wait(ctx, c.interval()+nextBackoff()); a != "" {
				action = a
			}
		case ReconnectRetry:
			if c.takeSocketLost() && !outage && !announceConnect {
				// The socket dropped between connects. The redial below usually
				// succeeds at once, but a drop is reported whether or not a connect
				// was outstanding, so that users see every drop.
				outage = true
				unconnectedSince = c.opts.Clock.Now()
				c.emitNow(EventDisconnected, fmt.Errorf("%w: websocket closed", ErrTransport))
			}
			o := c.connectOnce(ctx, firstConnect)
			if c.quit(ctx) {
				return
			}
			if o.ok {
				backoff = 0
				firstConnect = false
				switch {
				case announceConnect:
					c.emitNow(EventConnected, nil)
					announceConnect = false
				case outage:
					c.emitNow(EventReconnected, nil)
				}
				outage = false
				action = o.action
				if action == ReconnectRetry {
					if a := c.wait(ctx, c.interval()); a != "" {
						action = a
					}
				}
				continue
			}
			firstConnect = true
			action = o.action
			if action == ReconnectRetry && !outage {
				// A transport failure, or a failed reply that advises retrying: the
				// session is not usable until a connect succeeds again.
				outage = true
				unconnectedSince = c.opts.Clock.Now()
				c.emitNow(EventDisconnected, o.err)
			}
			if action == ReconnectRetry && o.reply == nil {
				if c.opts.DisableStickyReconnect && c.Transport() == TransportWebSocket && c.prefers(TransportLongPolling) {
					c.mu.Lock()
					c.wsFailed = true
					c.mu.Unlock()
					action = ReconnectHandshake
					continue
				}
				adv := c.Advice()
				if mi := adv.MaxIntervalDuration(); mi > 0 {
					to, _ := adv.TimeoutDuration()
					if c.opts.Clock.Now().Sub(unconnectedSince)+backoff > to+adv.IntervalDuration()+mi {
						action = ReconnectHandshake // the server has surely expired us
						continue
					}
				}
			}
			if action == ReconnectRetry {
				if a := c.wait(ctx, c.interval()+nextBackoff()); a != "" {
					action = a
				}
			} else if action == ReconnectHandshake {
				backoff = 0
			}
		default: // ReconnectNone
			termErr = ErrReconnectNone
			return
		}
	}
}

func (c *Client) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration((c.opts.Rand()*0.2-0.1)*float64(d))
}

func (c *Client) interval() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.advice.ForTransport(c.transport).IntervalDuration()
}

// wait sleeps d; it returns early with an action poked by a failed publish.
func (c *Client) wait(ctx context.Context, d time.Duration) string {
	if d <= 0 {
		select {
		case a := <-c.kick:
			return a
		default:
			return ""
		}
	}
	t := c.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return ""
	case a := <-c.kick:
		return a
	case <-ctx.Done():
		return ""
	}
}

func (c *Client) emitNow(kind StateKind, err error) {
	c.mu.Lock()
	ev := StateEvent{Kind: kind, ClientID: c.clientID, Transport: c.transport, Err: err}
	c.mu.Unlock()
	c.emit(ev)
}

// dropSession forgets the session before a (re-)handshake: requests wait for the next.
func (c *Client) dropSession() {
	c.mu.Lock()
	c.clientID = ""
	c.setReadyLocked(false)
	c.mu.Unlock()
}

// handshakeOnce sends one handshake, alone, over WebSocket unless it is not wanted or
// failed before ever working, and adopts the session on success.
func (c *Client) handshakeOnce(ctx context.Context) outcome {
	c.mu.Lock()
	var types []string
	for _, t := range c.opts.Transports {
		if t == TransportWebSocket && c.wsFailed {
			continue
		}
		types = append(types, t)
	}
	old := c.ws
	c.ws = nil
	c.mu.Unlock()
	if old != nil {
		old.close() // a new session starts on a new socket
	}
	if len(types) == 0 {
		return outcome{err: errors.New("bayeux: no usable transport left"), action: ReconnectNone}
	}
	m := &Message{
		Channel: ChannelHandshake, Version: "1.0", MinimumVersion: "1.0",
		SupportedConnectionTypes: types,
		Advice:                   &Advice{Timeout: Ms(DefaultHandshakeTimeout), Interval: Ms(0)},
	}
	var (
		rep *Message
		err error
		ws  *clientWS
	)
	if types[0] == TransportWebSocket {
		ws, err = c.dialWS(ctx)
		if err == nil {
			rep, err = c.callWS(ctx, ws, m, c.opts.MaxNetworkDelay)
		}
		if err != nil {
			if ws != nil {
				ws.close()
			}
			c.mu.Lock()
			if !c.wsWorked && c.prefers(TransportLongPolling) {
				c.wsFailed = true
				c.log.Debug().Err(err).Msg("bayeux: websocket unavailable; falling back to long-polling")
			}
			c.mu.Unlock()
			return outcome{err: err, action: ReconnectHandshake}
		}
	} else {
		c.mu.Lock()
		c.transport = TransportLongPolling
		c.mu.Unlock()
		rep, err = c.callLP(ctx, m, c.opts.MaxNetworkDelay)
		if err != nil {
			return outcome{err: err, action: ReconnectHandshake}
		}
	}
	c.adoptAdvice(rep.Advice)
	if !rep.Successful {
		if ws != nil {
			ws.close()
		}
		action := ReconnectHandshake
		if rep.Advice != nil && rep.Advice.Reconnect != "" {
			action = rep.Advice.Reconnect
		}
		return outcome{reply: rep, err: replyError(rep), action: action}
	}
	chosen := ""
	for _, t := range types {
		if slices.Contains(rep.SupportedConnectionTypes, t) {
			chosen = t
			break
		}
	}
	if chosen == "" || rep.ClientID == "" {
		if ws != nil {
			ws.close()
		}
		return outcome{reply: rep, err: fmt.Errorf("bayeux: handshake reply without clientId or common transport (server offers %v)", rep.SupportedConnectionTypes), action: ReconnectHandshake}
	}
	c.mu.Lock()
	if ws != nil {
		c.wsWorked = true
	}
	if chosen == TransportWebSocket {
		c.ws = ws
	} else if ws != nil {
		defer ws.close()
	}
	c.clientID = rep.ClientID
	c.transport = chosen
	c.setReadyLocked(true)
	c.handshakes++
	n := c.handshakes
	resub := c.everHandshaken
	c.everHandshaken = true
	subs := make([]string, 0, len(c.subs))
	for ch := range c.subs {
		subs = append(subs, ch)
	}
	first := c.firstResult
	c.firstResult = nil
	c.mu.Unlock()
	c.log.Debug().Str("transport", chosen).Msg("bayeux: handshake succeeded")
	c.emitNow(EventHandshake, nil)
	if first != nil {
		first <- nil
	}
	if resub || n > 1 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.resubscribe(ctx, subs, n > 1)
		}()
	}
	return outcome{ok: true, reply: rep, action: ReconnectRetry}
}

// resubscribe sends the subscriptions again after a re-handshake, then emits
// EventReestablished.
func (c *Client) resubscribe(ctx context.Context, subs []string, reestablished bool) {
	slices.Sort(subs)
	for _, ch := range subs {
		if err := c.sendSubscription(ctx, ChannelSubscribe, ch); err != nil {
			c.log.Debug().Err(err).Str("channel", ch).Msg("bayeux: re-subscribe failed")
		}
	}
	if reestablished && ctx.Err() == nil {
		c.emitNow(EventReestablished, nil)
	}
}

// connectOnce sends one /meta/connect and classifies its outcome.
func (c *Client) connectOnce(ctx context.Context, first bool) outcome {
	c.mu.Lock()
	id, tr, ws := c.clientID, c.transport, c.ws
	timeout, _ := c.advice.ForTransport(tr).TimeoutDuration()
	c.mu.Unlock()
	if tr == TransportWebSocket && ws == nil {
		w, err := c.dialWS(ctx)
		if err != nil {
			return outcome{err: err, action: ReconnectRetry}
		}
		c.mu.Lock()
		c.ws = w
		c.setReadyLocked(c.clientID != "")
		c.mu.Unlock()
		first = true
	}
	m := &Message{Channel: ChannelConnect, ClientID: id, ConnectionType: tr}
	deadline := c.opts.MaxNetworkDelay
	if first {
		m.Advice = &Advice{Timeout: Ms(0)}
	} else {
		deadline += timeout
	}
	c.mu.Lock()
	c.connecting = true
	c.mu.Unlock()
	rep, err := c.call(ctx, m, deadline)
	c.mu.Lock()
	c.connecting = false
	c.mu.Unlock()
	if err != nil {
		return outcome{err: err, action: ReconnectRetry}
	}
	c.adoptAdvice(rep.Advice)
	if rep.Successful {
		action := c.Advice().ForTransport(tr).Reconnect
		if action == "" {
			action = ReconnectRetry
		}
		return outcome{ok: true, reply: rep, action: action}
	}
	action := ""
	if rep.Advice != nil {
		action = rep.Advice.ForTransport(tr).Reconnect
	}
	if action == "" {
		switch ParseError(rep.Error).Code {
		case 401, 402, 403:
			action = ReconnectHandshake
		default:
			action = ReconnectRetry
		}
	}
	return outcome{reply: rep, err: replyError(rep), action: action}
}

// finish runs when the loop ends: it closes the socket, records the terminal error,
// reports the first handshake's result if still awaited, and emits EventTerminated.
func (c *Client) finish(termErr error) {
	c.mu.Lock()
	ws := c.ws
	c.ws = nil
	c.clientID = ""
	c.setReadyLocked(false)
	c.running = false
	c.termErr = termErr
	first := c.firstResult
	c.firstResult = nil
	term := c.term
	tr := c.transport
	c.mu.Unlock()
	if ws != nil {
		ws.close()
	}
	if first != nil {
		err := termErr
		if err == nil {
			err = ErrClosed
		}
		first <- err
	}
	c.emit(StateEvent{Kind: EventTerminated, Transport: tr, Err: termErr})
	close(term)
}

// quit reports whether the loop must end: ctx ended, or Disconnect is under way, in
// which case it waits for Disconnect to cancel ctx so the socket stays open for the
// disconnect reply.
func (c *Client) quit(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	c.mu.Lock()
	d := c.disconnecting
	c.mu.Unlock()
	if d {
		<-ctx.Done()
		return true
	}
	return false
}
