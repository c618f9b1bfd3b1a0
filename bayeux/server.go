package bayeux

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Server defaults.
const (
	DefaultServerTimeout        = 30 * time.Second
	DefaultServerMaxInterval    = 10 * time.Second
	DefaultUnknownSessionError  = "402::Unknown client"
	DefaultBrowserCookieName    = "BAYEUX_BROWSER"
	DefaultMultiSessionInterval = 2 * time.Second
	DefaultMaxMessageSize       = 1 << 20
)

// ServerOptions configures a Server. The zero value works; each field documents its
// default.
type ServerOptions struct {
	// Timeout is how long a lone /meta/connect is held when there is nothing to deliver
	// (advice.timeout). Default 30s. A client's own advice.timeout is honoured when
	// shorter; 0 from the client means "answer now".
	Timeout time.Duration
	// Interval is the advised delay between connects (advice.interval). Default 0.
	Interval time.Duration
	// MaxInterval is how long a session survives without a connect, counted from the
	// end of the previous connect, on top of Interval. Default 10s.
	MaxInterval time.Duration
	// UnknownSessionError is the "error" of a reply to a request with an unknown or
	// expired clientId. Default "402::Unknown client" (CometD 2/3, as GMS). Other servers
	// say "402::session_unknown" or "401:<id>:Unknown client".
	UnknownSessionError string
	// Transports lists the connection types offered. Default websocket and long-polling.
	Transports []string
	// Subprotocols are the WebSocket sub-protocols accepted. Default none (the client
	// need not ask for one).
	Subprotocols []string
	// CheckOrigin validates the WebSocket upgrade's Origin. Default: accept all.
	CheckOrigin func(r *http.Request) bool
	// CookieName is the browser cookie set on a long-polling handshake. Default
	// "BAYEUX_BROWSER".
	CookieName string
	// StrictCookies makes long-polling requests carry the session's browser cookie (as
	// CometD and GMS do); a request without it is treated as from an unknown session.
	StrictCookies bool
	// MaxSessionsPerBrowser limits held connects per browser cookie; a connect beyond it
	// is answered at once with advice multiple-clients. Default 0 = no limit.
	MaxSessionsPerBrowser int
	// MultiSessionInterval is the interval advised with multiple-clients. Default 2s.
	MultiSessionInterval time.Duration
	// AckExtension enables the "ack" extension for clients that ask for it.
	AckExtension bool
	// ConnectDeliveryOnly makes long-polling sessions receive messages only in /meta/connect
	// replies (CometD's metaConnectDeliveryOnly), never in the reply to a publish. Connect
	// replies are sequential, so messages arrive in the order they were delivered even for a
	// client that processes concurrent HTTP replies in parallel. Default false: a handler's
	// deliveries travel with the publish reply (one round trip less).
	ConnectDeliveryOnly bool
	// MaxMessageSize bounds a request body or WebSocket frame. Default 1 MiB.
	MaxMessageSize int64
	// Authorize, when set, vets each handshake; a non-nil error denies it with
	// "403::handshake_denied" and advice reconnect "none".
	Authorize func(ctx context.Context, r *http.Request, handshake *Message) error
	// OnSessionOpen is called after a successful handshake.
	OnSessionOpen func(s *ServerSession)
	// OnSessionClose is called once when a session ends, with the reason.
	OnSessionClose func(s *ServerSession, reason CloseReason)
	// Logger receives debug logs. Default zerolog.Nop(). Cookies are never logged.
	Logger zerolog.Logger
	// Clock is the time source. Default the wall clock.
	Clock Clock
	// Rand is the source of session ids. Default crypto/rand.
	Rand io.Reader
}

// CloseReason says why a server session ended.
type CloseReason string

// Close reasons.
const (
	CloseDisconnect CloseReason = "disconnect" // the client sent /meta/disconnect
	CloseExpired    CloseReason = "expired"    // no connect within Interval+MaxInterval
	CloseForgotten  CloseReason = "forgotten"  // Forget or ForgetSession (fault injection)
	CloseServer     CloseReason = "server closed"
)

// ServiceHandler handles a publish on a /service/** channel. It runs before the publish
// is acknowledged; deliveries it makes to s go to that session only and, over
// long-polling, travel in the same HTTP response, before the acknowledgement. A non-nil
// error makes the acknowledgement unsuccessful: its text is used as the Bayeux error when
// it is one ("403::denied"), otherwise "407::publish_failed" is sent.
type ServiceHandler func(ctx context.Context, s *ServerSession, m *Message) error

type serviceRoute struct {
	pattern string
	h       ServiceHandler
}

// Server is a Bayeux 1.0 server: an http.Handler serving long-polling POSTs and
// WebSocket upgrades on the path it is mounted at (any sub-path is accepted, so
// "<base>/handshake", "<base>/connect" … work too).
//
//	srv := bayeux.NewServer(bayeux.ServerOptions{Timeout: 30 * time.Second})
//	srv.HandleService("/service/chatV2/*", func(ctx context.Context, s *bayeux.ServerSession, m *bayeux.Message) error {
//		return s.Deliver(m.Channel, map[string]any{"statusCode": 0})
//	})
//	mux.Handle("/genesys/cometd", srv)
//	mux.Handle("/genesys/cometd/", srv)
//	defer srv.Close()
type Server struct {
	opts ServerOptions
	log  zerolog.Logger

	mu       sync.Mutex
	sessions map[string]*ServerSession
	services []serviceRoute
	conns    map[*wsConn]struct{}
	closed   bool

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	refuseWS  atomic.Bool
	failN     atomic.Int64
	failCode  atomic.Int64
	delay     atomic.Int64
	duplicate atomic.Bool
}

// NewServer returns a server and starts its session sweeper; Close stops it.
func NewServer(opts ServerOptions) *Server {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultServerTimeout
	}
	if opts.Interval < 0 {
		opts.Interval = 0
	}
	if opts.MaxInterval <= 0 {
		opts.MaxInterval = DefaultServerMaxInterval
	}
	if opts.UnknownSessionError == "" {
		opts.UnknownSessionError = DefaultUnknownSessionError
	}
	if len(opts.Transports) == 0 {
		opts.Transports = []string{TransportWebSocket, TransportLongPolling}
	}
	if opts.CookieName == "" {
		opts.CookieName = DefaultBrowserCookieName
	}
	if opts.MultiSessionInterval <= 0 {
		opts.MultiSessionInterval = DefaultMultiSessionInterval
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		sessions: map[string]*ServerSession{},
		conns:    map[*wsConn]struct{}{},
		done:     make(chan struct{}),
	}
	s.wg.Add(1)
	go s.sweep()
	return s
}

// HandleService registers h for publishes on channels matching pattern (an exact
// /service/** channel, or one ending in "/*" or "/**"). The first matching registration
// wins. It panics on a pattern outside /service/**, like http.ServeMux on a bad pattern.
func (s *Server) HandleService(pattern string, h ServiceHandler) {
	if err := ValidateChannel(pattern); err != nil || !IsServiceChannel(pattern) || h == nil {
		panic(fmt.Sprintf("bayeux: HandleService(%q): want a /service/** channel or pattern and a handler", pattern))
	}
	s.mu.Lock()
	s.services = append(s.services, serviceRoute{pattern, h})
	s.mu.Unlock()
}

// Session returns the live session with the given clientId, or nil.
func (s *Server) Session(id string) *ServerSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// Sessions returns the live sessions.
func (s *Server) Sessions() []*ServerSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*ServerSession, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, ss)
	}
	return out
}

// ForgetSession drops a session as if it had expired (fault injection: "the server
// forgot the session"); the client's next request gets the unknown-session error. It
// reports whether the session existed.
func (s *Server) ForgetSession(id string) bool {
	ss := s.Session(id)
	if ss == nil {
		return false
	}
	ss.Forget()
	return true
}

// Publish delivers data on a broadcast channel to every session subscribed to it and
// returns how many sessions it reached.
func (s *Server) Publish(channel string, data any) (int, error) {
	if err := ValidateChannel(channel); err != nil {
		return 0, err
	}
	if IsWildcard(channel) || IsMetaChannel(channel) || IsServiceChannel(channel) {
		return 0, fmt.Errorf("%w %q: publish needs a broadcast channel", ErrBadChannel, channel)
	}
	raw, err := encodeData(data)
	if err != nil {
		return 0, err
	}
	return s.broadcast(&Message{Channel: channel, Data: raw}), nil
}

// SetRefuseWebSocket makes the server answer WebSocket upgrades with HTTP 400 (fault
// injection; clients fall back to long-polling).
func (s *Server) SetRefuseWebSocket(refuse bool) { s.refuseWS.Store(refuse) }

// FailRequests makes the next n long-polling requests fail with the HTTP status code
// (e.g. 500 or 503) before being processed.
func (s *Server) FailRequests(n int, status int) {
	s.failCode.Store(int64(status))
	s.failN.Store(int64(n))
}

// SetReplyDelay delays the processing of every long-polling request and WebSocket frame
// by d (0 turns it off).
func (s *Server) SetReplyDelay(d time.Duration) { s.delay.Store(int64(d)) }

// SetDuplicateDeliveries makes every ServerSession.Deliver and broadcast send the
// message twice (fault injection for client de-duplication).
func (s *Server) SetDuplicateDeliveries(on bool) { s.duplicate.Store(on) }

// DropConnections closes every WebSocket connection abruptly (sessions survive until
// they expire).
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Close ends every session (reason CloseServer), closes WebSocket connections, releases
// held connects and stops the sweeper. It waits for the goroutines the server owns.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		sessions := make([]*ServerSession, 0, len(s.sessions))
		for _, ss := range s.sessions {
			sessions = append(sessions, ss)
		}
		s.mu.Unlock()
		close(s.done)
		for _, ss := range sessions {
			ss.end(CloseServer)
		}
		s.DropConnections()
	})
	s.wg.Wait()
	return nil
}

// goTracked runs f in a goroutine that Close waits for; false if the server is closed.
func (s *Server) goTracked(f func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func (s *Server) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// ServeHTTP serves long-polling POSTs and WebSocket upgrades.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.isClosed() {
		http.Error(w, "bayeux: server closed", http.StatusServiceUnavailable)
		return
	}
	if isWebSocketUpgrade(r) {
		s.serveWebSocket(w, r)
		return
	}
	s.serveLongPolling(w, r)
}

func (s *Server) newID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.opts.Rand, b); err != nil {
		return "", fmt.Errorf("bayeux: session id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func (s *Server) supports(transport string) bool {
	return slices.Contains(s.opts.Transports, transport)
}

func (s *Server) lookup(id string) *ServerSession {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil {
		return nil
	}
	if ss.expiredAt(s.opts.Clock.Now()) {
		ss.end(CloseExpired)
		return nil
	}
	return ss
}

func (s *Server) expiry() time.Duration { return s.opts.Interval + s.opts.MaxInterval }

// sweep expires sessions that sent no connect for Interval+MaxInterval.
func (s *Server) sweep() {
	defer s.wg.Done()
	period := s.expiry() / 4
	if period > time.Second {
		period = time.Second
	}
	if period < 10*time.Millisecond {
		period = 10 * time.Millisecond
	}
	for {
		t := s.opts.Clock.NewTimer(period)
		select {
		case <-s.done:
			t.Stop()
			return
		case <-t.C():
		}
		now := s.opts.Clock.Now()
		for _, ss := range s.Sessions() {
			if ss.expiredAt(now) {
				ss.end(CloseExpired)
			}
		}
	}
}

func (s *Server) broadcast(m *Message) int {
	n := 0
	for _, ss := range s.Sessions() {
		if ss.subscribedTo(m.Channel) {
			if ss.deliver(m.Clone()) == nil {
				n++
			}
		}
	}
	return n
}

func (s *Server) route(channel string) ServiceHandler {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.services {
		if MatchChannel(r.pattern, channel) {
			return r.h
		}
	}
	return nil
}

func (s *Server) addSession(ss *ServerSession) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.sessions[ss.id] = ss
	s.mu.Unlock()
	s.log.Debug().Str("session", ss.id).Str("transport", ss.Transport()).Msg("bayeux: session opened")
	if s.opts.OnSessionOpen != nil {
		s.opts.OnSessionOpen(ss)
	}
	return nil
}

func (s *Server) removeSession(ss *ServerSession, reason CloseReason) {
	s.mu.Lock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	s.mu.Unlock()
	s.log.Debug().Str("session", ss.id).Str("reason", string(reason)).Msg("bayeux: session closed")
	if s.opts.OnSessionClose != nil {
		s.opts.OnSessionClose(ss, reason)
	}
}

// heldCount counts sessions of a browser that currently hold a connect, except ss.
func (s *Server) heldCount(browser string, except *ServerSession) int {
	if browser == "" {
		return 0
	}
	n := 0
	for _, ss := range s.Sessions() {
		if ss != except && ss.browser == browser && ss.hasHeld() {
			n++
		}
	}
	return n
}

// waitDelay applies the SetReplyDelay fault; false means ctx ended first.
func (s *Server) waitDelay(ctx context.Context) bool {
	d := time.Duration(s.delay.Load())
	if d <= 0 {
		return true
	}
	t := s.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Server) takeFailure() int {
	for {
		n := s.failN.Load()
		if n <= 0 {
			return 0
		}
		if s.failN.CompareAndSwap(n, n-1) {
			return int(s.failCode.Load())
		}
	}
}

func errorText(err error) string {
	var be interface{ BayeuxError() string }
	if errors.As(err, &be) {
		return be.BayeuxError()
	}
	if e := ParseError(err.Error()); e.Code != 0 {
		return err.Error()
	}
	return "407::publish_failed"
}
