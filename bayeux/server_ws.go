package bayeux

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const wsWriteTimeout = 10 * time.Second

func isWebSocketUpgrade(r *http.Request) bool {
	return websocket.IsWebSocketUpgrade(r)
}

// wsConn is one server-side WebSocket connection: the handler goroutine reads, a writer
// goroutine owned by the server writes frames queued by send.
type wsConn struct {
	srv  *Server
	ws   *websocket.Conn
	r    *http.Request
	br   string
	mu   sync.Mutex
	out  [][]byte
	wake chan struct{}
	done chan struct{}
	once sync.Once
	// sessions bound to this socket
	sessions map[*ServerSession]struct{}
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.refuseWS.Load() || !s.supports(TransportWebSocket) {
		http.Error(w, "bayeux: websocket not available", http.StatusBadRequest)
		return
	}
	up := websocket.Upgrader{
		Subprotocols:    s.opts.Subprotocols,
		CheckOrigin:     s.opts.CheckOrigin,
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
	}
	if up.CheckOrigin == nil {
		up.CheckOrigin = func(*http.Request) bool { return true }
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered with an HTTP error
	}
	ws.SetReadLimit(s.opts.MaxMessageSize)
	c := &wsConn{
		srv: s, ws: ws, r: r,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		sessions: map[*ServerSession]struct{}{},
	}
	if ck, err := r.Cookie(s.opts.CookieName); err == nil {
		c.br = ck.Value
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go c.writeLoop()
	c.readLoop()
	c.close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (c *wsConn) readLoop() {
	s := c.srv
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
		case <-s.done:
		}
		cancel()
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if !s.waitDelay(ctx) {
			return
		}
		msgs, err := DecodeMessages(data)
		if err != nil {
			c.closeWith(websocket.CloseUnsupportedData, truncate(err.Error(), 100))
			return
		}
		hs := false
		for _, m := range msgs {
			if m.Channel == ChannelHandshake {
				hs = true
			}
		}
		if hs && len(msgs) > 1 {
			c.closeWith(websocket.CloseProtocolError, "handshake must be alone in its frame")
			return
		}
		cn := conn{transport: TransportWebSocket, r: c.r, ws: c, browser: c.br}
		var (
			replies []*Message
			touched []*ServerSession
		)
		for _, m := range msgs {
			if m.Channel != ChannelHandshake && m.Channel != ChannelConnect {
				if ss := s.session(cn, m); ss != nil && !slices.Contains(touched, ss) {
					touched = append(touched, ss)
					ss.beginCollect()
				}
			}
			switch m.Channel {
			case ChannelHandshake:
				rep, _ := s.handshake(ctx, cn, m)
				replies = append(replies, rep)
			case ChannelConnect:
				ss, rep := s.connectRequest(cn, m)
				if rep != nil {
					replies = append(replies, rep)
					continue
				}
				if mc := s.multipleClients(ss, m); mc != nil {
					replies = append(replies, mc)
					continue
				}
				d := s.holdFor(m)
				var h *heldConnect
				if d > 0 {
					h = ss.startHold()
				}
				if h == nil {
					ss.stopHold(nil)
					replies = append(replies, s.connectReply(ss, m)...)
					continue
				}
				m := m
				if !s.goTracked(func() {
					s.waitHeld(ctx, ss, h, d)
					select {
					case <-c.done:
						return // socket gone: the client will connect again
					default:
					}
					c.send(s.connectReply(ss, m)...)
				}) {
					ss.stopHold(h)
				}
			default:
				replies = append(replies, s.processOne(ctx, cn, m))
			}
		}
		// Deliveries made by handlers travel in the same frame, before the replies. The touched
		// sessions stay locked until the frame is queued, so no delivery made meanwhile by
		// another goroutine can overtake the ones collected here.
		sort.Slice(touched, func(i, j int) bool { return touched[i].id < touched[j].id })
		var out []*Message
		for _, ss := range touched {
			ss.mu.Lock()
			out = append(out, ss.endCollectLocked()...)
		}
		out = append(out, replies...)
		if len(out) > 0 {
			c.send(out...)
		}
		for _, ss := range touched {
			ss.mu.Unlock()
		}
	}
}

// send queues one frame holding msgs (a JSON array).
func (c *wsConn) send(msgs ...*Message) {
	b, err := json.Marshal(msgs)
	if err != nil {
		c.srv.log.Error().Err(err).Msg("bayeux: encoding websocket frame")
		return
	}
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return
	default:
	}
	c.out = append(c.out, b)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *wsConn) writeLoop() {
	defer c.srv.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		frames := c.out
		c.out = nil
		c.mu.Unlock()
		for _, f := range frames {
			_ = c.ws.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.close()
				return
			}
		}
	}
}

func (c *wsConn) bind(ss *ServerSession) {
	c.mu.Lock()
	c.sessions[ss] = struct{}{}
	c.mu.Unlock()
}

func (c *wsConn) unbind(ss *ServerSession) {
	c.mu.Lock()
	delete(c.sessions, ss)
	c.mu.Unlock()
}

func (c *wsConn) closeWith(code int, text string) {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, strings.ToValidUTF8(text, "?")), time.Now().Add(time.Second))
	c.close()
}

// close closes the socket and detaches the sessions bound to it; they stay alive until
// they expire or connect again on another socket.
func (c *wsConn) close() {
	c.once.Do(func() {
		c.mu.Lock()
		close(c.done)
		bound := c.sessions
		c.sessions = map[*ServerSession]struct{}{}
		c.mu.Unlock()
		_ = c.ws.Close()
		for ss := range bound {
			ss.mu.Lock()
			if ss.ws == c {
				ss.ws = nil
				ss.wakeLocked() // the held connect's waiter sees c.done and stops
			}
			ss.mu.Unlock()
		}
	})
}
