package bayeux

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// conn describes where a batch of messages arrived.
type conn struct {
	transport string
	r         *http.Request // the long-polling request or the WebSocket upgrade
	ws        *wsConn       // WebSocket only
	browser   string        // browser cookie value carried by the request, if any
}

func (s *Server) advice() *Advice {
	return &Advice{Reconnect: ReconnectRetry, Interval: Ms(s.opts.Interval), Timeout: Ms(s.opts.Timeout)}
}

func reply(m *Message) *Message {
	r := &Message{Channel: m.Channel, ID: m.ID}
	r.MarkReply()
	return r
}

func failed(m *Message, errText string, adv *Advice) *Message {
	r := reply(m)
	r.Error = errText
	r.Advice = adv
	return r
}

func (s *Server) unknownSession(m *Message, withAdvice bool) *Message {
	var adv *Advice
	if withAdvice {
		adv = &Advice{Reconnect: ReconnectHandshake, Interval: Ms(0)}
	}
	r := failed(m, s.opts.UnknownSessionError, adv)
	if m.Channel == ChannelSubscribe || m.Channel == ChannelUnsubscribe {
		r.Subscription = m.Subscription
	}
	return r
}

// handshake creates a session. It returns the reply and the new session (nil when the
// handshake failed).
func (s *Server) handshake(ctx context.Context, c conn, m *Message) (*Message, *ServerSession) {
	none := &Advice{Reconnect: ReconnectNone, Interval: Ms(0)}
	if m.Version == "" {
		return failed(m, "400::version_missing", none), nil
	}
	var types []string
	for _, t := range s.opts.Transports {
		if slices.Contains(m.SupportedConnectionTypes, t) {
			types = append(types, t)
		}
	}
	if len(types) == 0 || !slices.Contains(types, c.transport) && c.transport == TransportWebSocket {
		r := failed(m, "301::connection_types_unsupported", none)
		r.Version = "1.0"
		r.SupportedConnectionTypes = s.opts.Transports
		return r, nil
	}
	if s.opts.Authorize != nil {
		if err := s.opts.Authorize(ctx, c.r, m); err != nil {
			return failed(m, "403::handshake_denied", none), nil
		}
	}
	id, err := s.newID()
	if err != nil {
		return failed(m, "500::internal_error", &Advice{Reconnect: ReconnectHandshake, Interval: Ms(time.Second)}), nil
	}
	browser := c.browser
	if browser == "" {
		if browser, err = s.newID(); err != nil {
			return failed(m, "500::internal_error", &Advice{Reconnect: ReconnectHandshake, Interval: Ms(time.Second)}), nil
		}
	}
	ss := newServerSession(s, id, browser, c.transport)
	if c.r != nil {
		ss.header = c.r.Header.Clone()
		ss.remote = c.r.RemoteAddr
	}
	r := reply(m)
	r.Successful = true
	r.Version = "1.0"
	r.ClientID = id
	r.SupportedConnectionTypes = types
	r.Advice = s.advice()
	if s.opts.AckExtension && wantsAck(m.Ext["ack"]) {
		ss.ack = true
		r.Ext = map[string]json.RawMessage{"ack": json.RawMessage("true")}
	}
	if c.ws != nil {
		ss.ws = c.ws
		c.ws.bind(ss)
	}
	if err := s.addSession(ss); err != nil {
		return failed(m, "503::server_closed", none), nil
	}
	return r, ss
}

func wantsAck(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var o struct {
		Enabled bool `json:"enabled"`
	}
	return json.Unmarshal(raw, &o) == nil && o.Enabled
}

// session finds the session of a request, applying the strict-cookie rule over
// long-polling.
func (s *Server) session(c conn, m *Message) *ServerSession {
	ss := s.lookup(m.ClientID)
	if ss == nil {
		return nil
	}
	if s.opts.StrictCookies && c.transport == TransportLongPolling && c.browser != ss.browser {
		return nil
	}
	return ss
}

// connectRequest validates a connect and returns its session, or the reply to send.
func (s *Server) connectRequest(c conn, m *Message) (*ServerSession, *Message) {
	ss := s.session(c, m)
	if ss == nil {
		return nil, s.unknownSession(m, true)
	}
	if m.ConnectionType == "" {
		return nil, failed(m, "400::connection_type_missing", nil)
	}
	if !s.supports(m.ConnectionType) {
		return nil, failed(m, "301::connection_type_unsupported", &Advice{Reconnect: ReconnectHandshake, Interval: Ms(0)})
	}
	ss.touch(m.ConnectionType)
	ss.supersede() // a new connect completes the held one at once
	if c.ws != nil {
		ss.mu.Lock()
		if !ss.ended {
			old := ss.ws
			ss.ws = c.ws
			queued := ss.queue
			if !ss.ack {
				ss.queue = nil
			} else {
				queued = nil
			}
			ss.mu.Unlock()
			if old != c.ws {
				c.ws.bind(ss)
				if old != nil {
					old.unbind(ss)
				}
			}
			for _, q := range queued {
				c.ws.send(q)
			}
		} else {
			ss.mu.Unlock()
		}
	}
	ss.applyAck(ackNumber(m.Ext["ack"]))
	return ss, nil
}

func ackNumber(raw json.RawMessage) int64 {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil {
		return -1
	}
	return int64(f)
}

// holdFor returns how long to hold a connect: 0 = answer now.
func (s *Server) holdFor(m *Message) time.Duration {
	t := s.opts.Timeout
	if m.Advice != nil && m.Advice.Timeout != nil {
		ct := time.Duration(*m.Advice.Timeout) * time.Millisecond
		if ct <= 0 {
			return 0
		}
		if ct < t {
			t = ct
		}
	}
	return t
}

// multipleClients answers a connect at once when the browser holds too many.
func (s *Server) multipleClients(ss *ServerSession, m *Message) *Message {
	if s.opts.MaxSessionsPerBrowser <= 0 || s.heldCount(ss.browser, ss) < s.opts.MaxSessionsPerBrowser {
		return nil
	}
	r := reply(m)
	r.Successful = true
	r.Advice = &Advice{Reconnect: ReconnectRetry, Interval: Ms(s.opts.MultiSessionInterval), Timeout: Ms(s.opts.Timeout), MultipleClients: true}
	return r
}

// waitHeld waits until h completes, d elapses, ctx ends or the server closes.
func (s *Server) waitHeld(ctx context.Context, ss *ServerSession, h *heldConnect, d time.Duration) {
	if h == nil {
		return
	}
	t := s.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.done:
	case <-t.C():
	case <-ctx.Done():
	case <-s.done:
	}
	ss.stopHold(h)
}

// connectReply builds the reply of a connect (and the deliveries that go with it)
// once it is no longer held.
func (s *Server) connectReply(ss *ServerSession, m *Message) []*Message {
	ended, reason := ss.Ended()
	if ended {
		if reason == CloseDisconnect {
			r := reply(m)
			r.Successful = true
			r.Advice = &Advice{Reconnect: ReconnectNone, Interval: Ms(0)}
			return []*Message{r}
		}
		return []*Message{s.unknownSession(m, true)}
	}
	msgs, batch, ack := ss.takeForConnect(ackNumber(m.Ext["ack"]))
	r := reply(m)
	r.Successful = true
	r.Advice = s.advice()
	if ack {
		r.Ext = map[string]json.RawMessage{"ack": json.RawMessage(jsonInt(batch))}
	}
	return append(msgs, r)
}

func jsonInt(n int64) []byte {
	b, _ := json.Marshal(n)
	return b
}

func (s *Server) subscribe(ss *ServerSession, m *Message) *Message {
	unsub := m.Channel == ChannelUnsubscribe
	r := reply(m)
	r.Subscription = m.Subscription
	if len(m.Subscription) == 0 {
		r.Error = "403::subscription_missing"
		return r
	}
	for _, ch := range m.Subscription {
		if ValidateChannel(ch) != nil {
			r.Error = NewError(405, "subscription_invalid", ch)
			return r
		}
		if IsMetaChannel(ch) {
			r.Error = NewError(403, "subscribe_denied", ch)
			return r
		}
	}
	ss.mu.Lock()
	for _, ch := range m.Subscription {
		if IsServiceChannel(ch) {
			continue // request/response channels record nothing
		}
		if unsub {
			delete(ss.subs, ch)
		} else {
			ss.subs[ch] = struct{}{}
		}
	}
	ss.mu.Unlock()
	r.Successful = true
	return r
}

func (s *Server) publish(ctx context.Context, ss *ServerSession, m *Message) *Message {
	r := reply(m)
	if err := ValidateChannel(m.Channel); err != nil || IsWildcard(m.Channel) {
		r.Error = NewError(405, "channel_invalid", m.Channel)
		return r
	}
	if IsServiceChannel(m.Channel) {
		if h := s.route(m.Channel); h != nil {
			if err := h(ctx, ss, m); err != nil {
				r.Error = errorText(err)
				return r
			}
		}
		r.Successful = true
		return r
	}
	data := m.Data
	if data == nil {
		data = json.RawMessage("null")
	}
	s.broadcast(&Message{Channel: m.Channel, Data: data, Ext: nil})
	r.Successful = true
	return r
}

func (s *Server) disconnect(ss *ServerSession, m *Message) *Message {
	ss.end(CloseDisconnect)
	r := reply(m)
	r.Successful = true
	return r
}

// processOne handles a non-handshake, non-connect message.
func (s *Server) processOne(ctx context.Context, c conn, m *Message) *Message {
	ss := s.session(c, m)
	if ss == nil {
		return s.unknownSession(m, false)
	}
	switch m.Channel {
	case ChannelSubscribe, ChannelUnsubscribe:
		return s.subscribe(ss, m)
	case ChannelDisconnect:
		return s.disconnect(ss, m)
	}
	if IsMetaChannel(m.Channel) {
		return failed(m, NewError(404, "Unknown Channel", m.Channel), nil)
	}
	return s.publish(ctx, ss, m)
}
