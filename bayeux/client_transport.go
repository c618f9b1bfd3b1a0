package bayeux

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// call sends one request on the transport in use and waits for its reply (or the
// deadline, ctx, or the loss of the socket). A nil ws with transport websocket fails.
func (c *Client) call(ctx context.Context, m *Message, deadline time.Duration) (*Message, error) {
	c.mu.Lock()
	tr, ws := c.transport, c.ws
	c.mu.Unlock()
	if tr == TransportWebSocket {
		if ws == nil {
			return nil, fmt.Errorf("%w: websocket not connected", ErrTransport)
		}
		return c.callWS(ctx, ws, m, deadline)
	}
	return c.callLP(ctx, m, deadline)
}

func (c *Client) prepare(m *Message) (*pendingReq, error) {
	if m.ID == "" {
		m.ID = c.newID()
	}
	if !c.outgoing(m) {
		return nil, fmt.Errorf("bayeux: %s message dropped by an extension", m.Channel)
	}
	p := &pendingReq{channel: m.Channel, ch: make(chan result, 1)}
	return p, nil
}

func (c *Client) register(id string, p *pendingReq) {
	c.mu.Lock()
	c.pending[id] = p
	c.mu.Unlock()
}

func (c *Client) unregister(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// callLP POSTs m alone and reads its reply from the response.
func (c *Client) callLP(ctx context.Context, m *Message, deadline time.Duration) (*Message, error) {
	p, err := c.prepare(m)
	if err != nil {
		return nil, err
	}
	c.register(m.ID, p)
	defer c.unregister(m.ID)
	rctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	msgs, err := c.post(rctx, m)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(rctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: %s after %v", ErrTimeout, m.Channel, deadline)
		}
		return nil, err
	}
	c.receive(msgs)
	select {
	case r := <-p.ch:
		return r.m, r.err
	default:
		return nil, fmt.Errorf("%w: the response had no reply to %s", ErrTransport, m.Channel)
	}
}

func (c *Client) postURL(channel string) string {
	u := *c.url
	if c.opts.AppendMessageType {
		switch channel {
		case ChannelHandshake, ChannelConnect, ChannelDisconnect:
			u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(channel, "/meta/")
		}
	}
	return u.String()
}

// post sends one long-polling request. Every outcome but HTTP 200 with a decodable body
// is a transport failure.
func (c *Client) post(ctx context.Context, m *Message) ([]*Message, error) {
	body, err := json.Marshal([]*Message{m})
	if err != nil {
		return nil, fmt.Errorf("bayeux: encoding %s: %w", m.Channel, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.postURL(m.Channel), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTransport, err)
	}
	for k, vs := range c.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTransport, m.Channel, scrubURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading response: %v", ErrTransport, m.Channel, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{StatusCode: resp.StatusCode, Channel: m.Channel}
	}
	msgs, err := DecodeMessages(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTransport, m.Channel, err)
	}
	return msgs, nil
}

// scrubURLError keeps the cause of a *url.Error but not the URL (it may carry a query
// with credentials).
func scrubURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.Contains(err.Error(), "://") {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// HTTPError is a long-polling response with a status other than 200 (a transport
// failure: the client backs off and retries). It matches ErrTransport.
type HTTPError struct {
	StatusCode int
	Channel    string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("bayeux: transport failure: %s: HTTP %d", e.Channel, e.StatusCode)
}

// Is matches ErrTransport.
func (e *HTTPError) Is(target error) bool { return target == ErrTransport }

// clientWS is one client WebSocket: a reader goroutine owned by the client, writes
// serialized by wmu.
type clientWS struct {
	c    *Client
	conn *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
	once sync.Once
}

func (c *Client) wsURL() string {
	u := *c.url
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	return u.String()
}

// dialWS opens a socket with the session's cookie jar and the extra headers.
func (c *Client) dialWS(ctx context.Context) (*clientWS, error) {
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment}
	if c.opts.Dialer != nil {
		d = *c.opts.Dialer
	}
	d.Jar = c.jar
	if d.HandshakeTimeout == 0 {
		d.HandshakeTimeout = c.opts.ConnectTimeout
	}
	if len(c.opts.Subprotocols) > 0 {
		d.Subprotocols = c.opts.Subprotocols
	}
	h := http.Header{}
	for k, vs := range c.opts.Header {
		h[k] = append([]string(nil), vs...)
	}
	dctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	conn, resp, err := d.DialContext(dctx, c.wsURL(), h)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w: websocket upgrade refused: HTTP %d", ErrTransport, resp.StatusCode)
		}
		return nil, fmt.Errorf("%w: websocket dial: %v", ErrTransport, scrubURLError(err))
	}
	w := &clientWS{c: c, conn: conn, done: make(chan struct{})}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		w.readLoop()
	}()
	return w, nil
}

func (w *clientWS) readLoop() {
	defer w.close()
	for {
		_, data, err := w.conn.ReadMessage()
		if err != nil {
			return
		}
		msgs, err := DecodeMessages(data)
		if err != nil {
			w.c.log.Debug().Err(err).Msg("bayeux: bad websocket frame; closing the socket")
			return
		}
		w.c.receive(msgs)
	}
}

func (w *clientWS) write(msgs []*Message) error {
	b, err := json.Marshal(msgs)
	if err != nil {
		return fmt.Errorf("bayeux: encoding frame: %w", err)
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	select {
	case <-w.done:
		return fmt.Errorf("%w: websocket closed", ErrTransport)
	default:
	}
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.c.opts.MaxNetworkDelay))
	if err := w.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		w.close()
		return fmt.Errorf("%w: websocket write: %v", ErrTransport, err)
	}
	return nil
}

// close closes the socket once and fails every request pending on it.
func (w *clientWS) close() {
	w.once.Do(func() {
		close(w.done)
		_ = w.conn.Close()
		w.c.wsClosed(w)
	})
}

// wsClosed detaches a closed socket and fails what was pending on it.
func (c *Client) wsClosed(w *clientWS) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range c.pending {
		if p.ws == w {
			delete(c.pending, id)
			p.ch <- result{err: fmt.Errorf("%w: websocket closed", ErrTransport)}
		}
	}
	if c.ws == w {
		c.ws = nil
		c.setReadyLocked(false)
		if c.clientID != "" && !c.disconnecting {
			c.wsLost = true
		}
	}
}

// takeSocketLost reports and clears whether the session's socket was lost since the
// last call.
func (c *Client) takeSocketLost() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	lost := c.wsLost
	c.wsLost = false
	return lost
}

// callWS sends m in its own frame and waits for the reply; on deadline the socket is
// closed, failing every request pending on it (as the CometD JavaScript client does).
func (c *Client) callWS(ctx context.Context, w *clientWS, m *Message, deadline time.Duration) (*Message, error) {
	p, err := c.prepare(m)
	if err != nil {
		return nil, err
	}
	p.ws = w
	c.register(m.ID, p)
	if err := w.write([]*Message{m}); err != nil {
		c.unregister(m.ID)
		return nil, err
	}
	t := c.opts.Clock.NewTimer(deadline)
	defer t.Stop()
	select {
	case r := <-p.ch:
		return r.m, r.err
	case <-t.C():
		c.unregister(m.ID)
		w.close()
		return nil, fmt.Errorf("%w: %s after %v", ErrTimeout, m.Channel, deadline)
	case <-ctx.Done():
		c.unregister(m.ID)
		return nil, ctx.Err()
	case <-w.done:
		c.unregister(m.ID)
		select {
		case r := <-p.ch:
			return r.m, r.err
		default:
		}
		return nil, fmt.Errorf("%w: websocket closed", ErrTransport)
	}
}

// setReadyLocked opens or closes the gate publishes wait on.
func (c *Client) setReadyLocked(ready bool) {
	open := isClosed(c.ready)
	switch {
	case ready && !open:
		close(c.ready)
	case !ready && open:
		c.ready = make(chan struct{})
	}
}
