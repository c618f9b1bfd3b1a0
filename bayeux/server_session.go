package bayeux

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ServerSession is one client session on a Server (one clientId). Its methods are safe
// for concurrent use.
type ServerSession struct {
	srv     *Server
	id      string
	browser string
	ctx     context.Context
	cancel  context.CancelFunc
	header  http.Header
	remote  string

	mu         sync.Mutex
	transport  string
	queue      []*Message
	collecting int
	held       *heldConnect
	lastSeen   time.Time
	subs       map[string]struct{}
	ws         *wsConn
	attrs      map[string]any
	ended      bool
	reason     CloseReason
	ack        bool
	batch      int64
	unacked    []ackBatch
}

type ackBatch struct {
	num  int64
	msgs []*Message
}

type heldConnect struct {
	done chan struct{}
}

func newServerSession(srv *Server, id, browser, transport string) *ServerSession {
	ctx, cancel := context.WithCancel(context.Background())
	return &ServerSession{
		srv: srv, id: id, browser: browser, transport: transport,
		ctx: ctx, cancel: cancel,
		lastSeen: srv.opts.Clock.Now(),
		subs:     map[string]struct{}{},
	}
}

// ID returns the session's clientId.
func (ss *ServerSession) ID() string { return ss.id }

// Transport returns the connection type of the session's last connect ("websocket" or
// "long-polling"; the handshake's transport before the first connect).
func (ss *ServerSession) Transport() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.transport
}

// Header returns the headers of the request that carried the handshake (the WebSocket
// upgrade or the long-polling POST). The caller must not modify it.
func (ss *ServerSession) Header() http.Header { return ss.header }

// RemoteAddr returns the network address of the client that handshook.
func (ss *ServerSession) RemoteAddr() string { return ss.remote }

// Context returns a context cancelled when the session ends.
func (ss *ServerSession) Context() context.Context { return ss.ctx }

// SetAttribute stores a value on the session (e.g. the chat it belongs to).
func (ss *ServerSession) SetAttribute(key string, v any) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.attrs == nil {
		ss.attrs = map[string]any{}
	}
	ss.attrs[key] = v
}

// Attribute returns a value stored with SetAttribute, or nil.
func (ss *ServerSession) Attribute(key string) any {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.attrs[key]
}

// Subscriptions returns the broadcast channels and patterns the session subscribed to.
func (ss *ServerSession) Subscriptions() []string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]string, 0, len(ss.subs))
	for k := range ss.subs {
		out = append(out, k)
	}
	return out
}

// Ended reports whether the session has ended, and why.
func (ss *ServerSession) Ended() (bool, CloseReason) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ended, ss.reason
}

// Deliver sends data on channel to this session only. data is encoded with
// encoding/json unless it is a json.RawMessage or []byte holding JSON. Called from a
// ServiceHandler, the message travels with the publish acknowledgement (same HTTP
// response or WebSocket frame, before the ack); otherwise it is pushed at once over
// WebSocket, or completes the held connect over long-polling. It returns
// ErrSessionGone after the session ended.
func (ss *ServerSession) Deliver(channel string, data any) error {
	if err := ValidateChannel(channel); err != nil {
		return err
	}
	if IsWildcard(channel) {
		return fmt.Errorf("%w %q: cannot deliver on a wildcard", ErrBadChannel, channel)
	}
	raw, err := encodeData(data)
	if err != nil {
		return err
	}
	return ss.deliver(&Message{Channel: channel, Data: raw})
}

// Forget drops the session as if the server had lost it (fault injection): a held
// connect is answered with the unknown-session error and handshake advice, and every
// later request with this clientId gets the unknown-session error. The WebSocket
// connection, if any, stays open.
func (ss *ServerSession) Forget() { ss.end(CloseForgotten) }

// DropConnection closes the session's WebSocket connection abruptly, without ending
// the session (fault injection: a network drop). It does nothing over long-polling.
func (ss *ServerSession) DropConnection() {
	ss.mu.Lock()
	c := ss.ws
	ss.mu.Unlock()
	if c != nil {
		c.close()
	}
}

func encodeData(data any) (json.RawMessage, error) {
	switch d := data.(type) {
	case json.RawMessage:
		if !json.Valid(d) {
			return nil, fmt.Errorf("bayeux: delivery data is not valid JSON")
		}
		return append(json.RawMessage(nil), d...), nil
	case []byte:
		if !json.Valid(d) {
			return nil, fmt.Errorf("bayeux: delivery data is not valid JSON")
		}
		return append(json.RawMessage(nil), d...), nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("bayeux: encoding delivery data: %w", err)
	}
	return b, nil
}

func (ss *ServerSession) deliver(m *Message) error {
	msgs := []*Message{m}
	if ss.srv.duplicate.Load() {
		msgs = append(msgs, m.Clone())
	}
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return ErrSessionGone
	}
	if !ss.ack && ss.ws != nil && ss.transport == TransportWebSocket && ss.collecting == 0 {
		// Queued on the connection under the session lock, so deliveries leave in the order
		// they were made (c.send only appends to the connection's queue).
		for _, m := range msgs {
			ss.ws.send(m) // one message per frame, like the CometD Java server
		}
		ss.mu.Unlock()
		return nil
	}
	ss.queue = append(ss.queue, msgs...)
	if ss.collecting == 0 {
		ss.wakeLocked()
	}
	ss.mu.Unlock()
	return nil
}

func (ss *ServerSession) wakeLocked() {
	if ss.held != nil {
		close(ss.held.done)
		ss.held = nil
	}
}

func (ss *ServerSession) supersede() {
	ss.mu.Lock()
	ss.wakeLocked()
	ss.mu.Unlock()
}

func (ss *ServerSession) hasHeld() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.held != nil
}

func (ss *ServerSession) subscribedTo(channel string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return false
	}
	for p := range ss.subs {
		if MatchChannel(p, channel) {
			return true
		}
	}
	return false
}

func (ss *ServerSession) expiredAt(now time.Time) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return true
	}
	if ss.held != nil {
		return false
	}
	return now.Sub(ss.lastSeen) > ss.srv.expiry()
}

// end ends the session once: releases a held connect, cancels the context and runs
// the close hook.
func (ss *ServerSession) end(reason CloseReason) {
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return
	}
	ss.ended = true
	ss.reason = reason
	ss.queue = nil
	ss.wakeLocked()
	c := ss.ws
	ss.ws = nil
	ss.mu.Unlock()
	if c != nil {
		c.unbind(ss)
	}
	ss.cancel()
	ss.srv.removeSession(ss, reason)
}

// beginCollect stops deliveries from completing the held connect while a request of
// this session is processed; endCollect hands what was delivered meanwhile back.
func (ss *ServerSession) beginCollect() {
	ss.mu.Lock()
	ss.collecting++
	ss.mu.Unlock()
}

// endCollect returns the queued deliveries to put in the current response (none in ack
// mode, where deliveries travel only in connect replies).
// endCollectLocked is endCollect with ss.mu held by the caller.
func (ss *ServerSession) endCollectLocked() []*Message {
	ss.collecting--
	var out []*Message
	if !ss.ack && !ss.connectOnlyLocked() {
		out, ss.queue = ss.queue, nil
	}
	if ss.collecting == 0 && len(ss.queue) > 0 {
		ss.wakeLocked()
	}
	return out
}

func (ss *ServerSession) endCollect() []*Message {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.endCollectLocked()
}

// connectOnlyLocked: this session's messages wait for its /meta/connect reply.
func (ss *ServerSession) connectOnlyLocked() bool {
	return ss.srv.opts.ConnectDeliveryOnly && ss.transport == TransportLongPolling
}

// startHold registers a held connect, completing any previous one (a new connect
// supersedes the held one). It returns nil when there is something to deliver already.
func (ss *ServerSession) startHold() *heldConnect {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.wakeLocked()
	if ss.ended || len(ss.queue) > 0 || len(ss.unacked) > 0 {
		return nil
	}
	h := &heldConnect{done: make(chan struct{})}
	ss.held = h
	return h
}

// stopHold unregisters h (if still registered) and restarts the expiry clock.
func (ss *ServerSession) stopHold(h *heldConnect) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if h != nil && ss.held == h {
		ss.held = nil
	}
	ss.lastSeen = ss.srv.opts.Clock.Now()
}

// touch restarts the expiry clock and records the connection type.
func (ss *ServerSession) touch(transport string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.lastSeen = ss.srv.opts.Clock.Now()
	if transport != "" {
		ss.transport = transport
	}
}

// takeForConnect returns the messages for a connect reply and, in ack mode, the batch
// number to send (ackIn is the batch the client acknowledged, -1 if none).
func (ss *ServerSession) takeForConnect(ackIn int64) ([]*Message, int64, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ss.ack {
		out := ss.queue
		ss.queue = nil
		return out, 0, false
	}
	ss.applyAckLocked(ackIn)
	var out []*Message
	for _, b := range ss.unacked {
		out = append(out, b.msgs...)
	}
	out = append(out, ss.queue...)
	ss.queue = nil
	ss.batch++
	ss.unacked = nil
	if len(out) > 0 {
		ss.unacked = []ackBatch{{num: ss.batch, msgs: out}}
	}
	return out, ss.batch, true
}

// applyAck drops the batches the client acknowledged (ack mode only).
func (ss *ServerSession) applyAck(ackIn int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.applyAckLocked(ackIn)
}

func (ss *ServerSession) applyAckLocked(ackIn int64) {
	if !ss.ack {
		return
	}
	kept := ss.unacked[:0]
	for _, b := range ss.unacked {
		if b.num > ackIn {
			kept = append(kept, b)
		}
	}
	ss.unacked = kept
}
