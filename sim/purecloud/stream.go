package purecloud

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// closeReplyWait bounds how long a socket waits for the peer's close frame.
const closeReplyWait = time.Second

type frameFlags uint8

const (
	flagDup        frameFlags = 1 << iota // send twice at once
	flagDupLater                          // send again after the next frame
	flagReorder                           // send after the next frame
	flagAbortAfter                        // abrupt TCP close right after this frame
)

type outFrame struct {
	data  []byte
	flags frameFlags
	close bool // a close frame with code/reason
	code  int
	text  string
}

// socket is one attached event stream: a writer goroutine drains the queue
// (so emitters never block), a reader goroutine answers pings and notices
// the peer leaving.
type socket struct {
	s    *Simulator
	c    *Conversation
	conn *websocket.Conn

	mu      sync.Mutex
	queue   []outFrame
	closing bool // a close frame is queued, or the socket is gone
	stalled bool
	hb      Timer
	signal  chan struct{}
	gone    chan struct{} // closed when the reader exits
}

func newSocket(s *Simulator, c *Conversation) *socket {
	return &socket{s: s, c: c, signal: make(chan struct{}, 1), gone: make(chan struct{})}
}

func (k *socket) wake() {
	select {
	case k.signal <- struct{}{}:
	default:
	}
}

// enqueue adds a frame unless the socket is stalled or closing.
func (k *socket) enqueue(f outFrame) {
	k.mu.Lock()
	if k.closing || k.stalled {
		k.mu.Unlock()
		return
	}
	k.queue = append(k.queue, f)
	k.mu.Unlock()
	k.wake()
}

// closeWith queues a close frame after everything already queued.
func (k *socket) closeWith(code int, reason string) {
	k.mu.Lock()
	if k.closing {
		k.mu.Unlock()
		return
	}
	k.closing = true
	k.stalled = false
	k.queue = append(k.queue, outFrame{close: true, code: code, text: reason})
	k.mu.Unlock()
	k.wake()
}

// abort closes the TCP connection with no close frame.
func (k *socket) abort() {
	k.mu.Lock()
	k.closing = true
	conn := k.conn
	k.mu.Unlock()
	if conn != nil {
		_ = conn.UnderlyingConn().Close()
	}
}

// stall stops all output, heartbeats included, until the peer gives up.
func (k *socket) stall() {
	k.mu.Lock()
	k.stalled = true
	k.queue = nil
	k.mu.Unlock()
}

func (k *socket) pop() (outFrame, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.queue) == 0 || k.stalled {
		return outFrame{}, false
	}
	f := k.queue[0]
	k.queue[0] = outFrame{}
	k.queue = k.queue[1:]
	return f, true
}

// start runs the writer, reader and heartbeat of an upgraded socket.
func (k *socket) start(conn *websocket.Conn) {
	k.mu.Lock()
	k.conn = conn
	k.mu.Unlock()
	conn.SetReadLimit(64 << 10)
	// Armed before the writer sends the first frame: a test that advances a virtual clock as
	// soon as it reads that frame finds the heartbeat scheduled.
	k.armHeartbeat()
	if !k.s.goTracked(k.readLoop) {
		// The simulator closed while this socket was upgrading: it goes away like the others.
		k.stopHeartbeat()
		k.closeNow(conn)
		close(k.gone)
		return
	}
	if !k.s.goTracked(k.writeLoop) {
		// readLoop stops the heartbeat when the connection closes.
		k.closeNow(conn)
		return
	}
}

func (k *socket) stopHeartbeat() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closing = true
	if k.hb != nil {
		k.hb.Stop()
	}
}

// closeNow sends the simulator-closed frame (1001) and closes conn, for a socket whose loops
// could not start.
func (k *socket) closeNow(conn *websocket.Conn) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "simulator closed"), time.Now().Add(time.Second))
	_ = conn.Close()
}

func (k *socket) armHeartbeat() {
	if k.s.set.heartbeat <= 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closing {
		return
	}
	k.hb = k.s.afterFunc(k.s.set.heartbeat, func() {
		k.enqueue(outFrame{data: wire.HeartbeatFrame})
		k.armHeartbeat()
	})
}

func (k *socket) readLoop() {
	defer func() {
		_ = k.conn.Close()
		close(k.gone)
		k.mu.Lock()
		k.closing = true
		if k.hb != nil {
			k.hb.Stop()
		}
		k.mu.Unlock()
		k.wake()
		k.c.detach(k)
	}()
	for {
		_, data, err := k.conn.ReadMessage()
		if err != nil {
			return
		}
		var cm wire.ChannelMessage
		if json.Unmarshal(bytes.TrimSpace(data), &cm) == nil && cm.Message == wire.PingText {
			k.enqueue(outFrame{data: wire.PongFrame})
		}
	}
}

func (k *socket) write(data []byte) error {
	_ = k.conn.SetWriteDeadline(time.Now().Add(k.s.set.wTimer))
	return k.conn.WriteMessage(websocket.TextMessage, data)
}

func (k *socket) writeLoop() {
	defer func() { _ = k.conn.Close() }()
	var held, later [][]byte
	for {
		select {
		case <-k.signal:
		case <-k.gone:
			return
		}
		for {
			f, ok := k.pop()
			if !ok {
				break
			}
			if f.close {
				for _, d := range append(held, later...) {
					if k.write(d) != nil {
						return
					}
				}
				_ = k.conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(f.code, f.text), time.Now().Add(k.s.set.wTimer))
				t := time.NewTimer(closeReplyWait)
				select {
				case <-k.gone:
				case <-t.C:
				}
				t.Stop()
				return
			}
			if f.flags&flagReorder != 0 && len(held) == 0 {
				held = append(held, f.data)
				continue
			}
			if k.write(f.data) != nil {
				return
			}
			if f.flags&flagDup != 0 && k.write(f.data) != nil {
				return
			}
			pending := append(held, later...)
			held, later = nil, nil
			for _, d := range pending {
				if k.write(d) != nil {
					return
				}
			}
			if f.flags&flagDupLater != 0 {
				later = append(later, f.data)
			}
			if f.flags&flagAbortAfter != 0 {
				_ = k.conn.UnderlyingConn().Close()
				return
			}
		}
	}
}

// serveStream handles GET /v1/token/{jwt}.
func (s *Simulator) serveStream(w http.ResponseWriter, r *http.Request, tok string) {
	if !websocket.IsWebSocketUpgrade(r) {
		s.writeError(w, r, newCorrelation(s), http.StatusBadRequest, wire.CodeBadRequest, "Expected a WebSocket upgrade request.")
		return
	}
	cl, err := s.verifyJWT(tok)
	var c *Conversation
	if err == nil {
		c = s.conversation(cl.Data.Conv)
	}
	if c == nil {
		convID := ""
		if _, uc, _, _, perr := wire.ParseJWT(tok); perr == nil {
			convID = uc.Data.Conv
		}
		s.rejectSocket(w, r, wire.CloseConnectError, wire.CloseReasonConnectError(convID))
		return
	}
	if s.refusing(c) {
		s.writeError(w, r, newCorrelation(s), http.StatusServiceUnavailable, wire.CodeServiceUnavailable,
			"The event stream is not accepting connections.")
		return
	}
	k := newSocket(s, c)
	if !c.attach(k) {
		s.rejectSocket(w, r, wire.CloseConversationEnded, wire.CloseReasonEnded)
		return
	}
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		close(k.gone)
		c.detach(k)
		return
	}
	k.start(conn)
}

// rejectSocket accepts the upgrade, then closes with code and reason.
func (s *Simulator) rejectSocket(w http.ResponseWriter, r *http.Request, code int, reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "simulator closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(s.set.wTimer))
	_ = conn.SetReadDeadline(time.Now().Add(closeReplyWait))
	for {
		if _, _, err := conn.NextReader(); err != nil {
			break
		}
	}
	_ = conn.Close()
}

// attach registers a socket before the 101 is written, so the guest is
// CONNECTED by the time the client sees open. It reports false for an
// ended conversation or a guest who left.
func (c *Conversation) attach(k *socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.guest.LeaveDate != nil {
		return false
	}
	c.sockets[k] = struct{}{}
	if c.detachT != nil {
		c.detachT.Stop()
		c.detachT = nil
	}
	c.memberChangeL(c.guest, wire.StateConnected)
	if !c.attachedOnce {
		c.attachedOnce = true
		c.postL(c.guest, "", wire.BodyMemberJoin)
		c.touchL()
		c.startRoutingL()
	}
	return true
}

// detach forgets a socket; with none left the guest is DISCONNECTED (no
// event: nobody is listening) and the detach timer starts.
func (c *Conversation) detach(k *socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sockets[k]; !ok {
		return
	}
	delete(c.sockets, k)
	if len(c.sockets) == 0 && c.guest.LeaveDate == nil {
		c.guest.State = wire.StateDisconnected
		c.armDetachL()
	}
	c.notifyL()
}

// tcpAddrIsLoopback reports whether addr (host:port) is a loopback address.
func tcpAddrIsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
