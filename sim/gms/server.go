package gms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// ControlPrefix is the path prefix of the HTTP control API.
const ControlPrefix = "/_sim/"

// Server is a GMS Chat V2 simulator: an http.Handler serving the REST API
// under /genesys/2/chat/{service}, the file API at /genesys/2/chat-ntf, the
// CometD endpoint at /genesys/cometd and the control API under /_sim/.
//
// NewServer starts it on a loopback port (like httptest.NewServer; URL is the
// base, e.g. "http://127.0.0.1:41234"); New returns one without a listener,
// to mount as a handler or run with Start.
type Server struct {
	// URL is the base URL ("http://127.0.0.1:port") once listening.
	URL string

	opts  Options
	st    settings
	log   zerolog.Logger
	clock Clock
	rand  io.Reader
	bx    *bayeux.Server
	mux   *http.ServeMux

	mu      sync.Mutex
	chats   map[string]*Chat    // by chatId
	keys    map[string]keyEntry // by secureKey
	closed  bool
	aliasN  int
	waiters []chan struct{}

	faults faults

	tmu    sync.Mutex
	timers map[*simTimer]struct{}
	wg     sync.WaitGroup

	httpSrv  *httptest.Server
	stdSrv   *http.Server
	closeOne sync.Once
}

type keyEntry struct {
	chat    *Chat
	expires time.Time // zero: the current key
}

// New returns a simulator without a listener (mount it, or call Start).
func New(opts Options) (*Server, error) {
	st, err := opts.settings()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:   opts,
		st:     st,
		log:    opts.Logger,
		clock:  opts.Clock,
		rand:   opts.Rand,
		chats:  map[string]*Chat{},
		keys:   map[string]keyEntry{},
		timers: map[*simTimer]struct{}{},
	}
	if s.clock == nil {
		s.clock = transports.SystemClock()
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	bo := opts.Bayeux
	bo.Logger = opts.Logger
	// The ack extension (for clients that ask for it) keeps long-polling
	// deliveries in /meta/connect replies only, hence in order.
	bo.AckExtension = true
	userOpen, userClose := bo.OnSessionOpen, bo.OnSessionClose
	bo.OnSessionOpen = func(ss *bayeux.ServerSession) {
		if userOpen != nil {
			userOpen(ss)
		}
	}
	bo.OnSessionClose = func(ss *bayeux.ServerSession, reason bayeux.CloseReason) {
		s.cometdSessionClosed(ss)
		if userClose != nil {
			userClose(ss, reason)
		}
	}
	// Long-polling notifications only in connect replies, so they arrive in index order even
	// for clients without the ack extension (the Genesys sample drops any index it has passed).
	bo.ConnectDeliveryOnly = true
	s.bx = bayeux.NewServer(bo)
	s.bx.HandleService(wire.ServiceChannelPrefix+"*", s.serveCometD)
	s.mux = http.NewServeMux()
	s.mux.Handle(wire.CometDPath, s.bx)
	s.mux.Handle(wire.CometDPath+"/", s.bx)
	s.mux.HandleFunc(wire.ChatPath+"/", s.serveREST)
	s.mux.HandleFunc(wire.NtfPath, s.serveNtf)
	s.mux.HandleFunc(wire.NtfPath+"/", s.serveNtf)
	if !opts.DisableControlAPI {
		s.mux.HandleFunc(ControlPrefix, s.serveControl)
	}
	return s, nil
}

// NewServer starts a simulator on a random loopback port. It panics on bad
// Options, like httptest.NewServer on a listen failure; use New to get the
// error instead.
func NewServer(opts Options) *Server {
	s, err := New(opts)
	if err != nil {
		panic(err)
	}
	s.httpSrv = httptest.NewServer(s)
	s.URL = s.httpSrv.URL
	return s
}

// Start listens on addr (e.g. "127.0.0.1:8080") and serves in the
// background until Close. It sets URL.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gms: listen %s: %w", addr, err)
	}
	s.stdSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.stdSrv.Serve(ln)
	}()
	return nil
}

// ChatURL returns the REST base of a service: URL + "/genesys/2/chat/" + service.
func (s *Server) ChatURL(service string) string { return s.URL + wire.ChatPath + "/" + service }

// CometDURL returns URL + "/genesys/cometd".
func (s *Server) CometDURL() string { return s.URL + wire.CometDPath }

// NtfURL returns URL + "/genesys/2/chat-ntf".
func (s *Server) NtfURL() string { return s.URL + wire.NtfPath }

// Bayeux returns the CometD server (for its own fault hooks).
func (s *Server) Bayeux() *bayeux.Server { return s.bx }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops the listener (if any), ends the CometD sessions, stops every
// timer and waits for the goroutines the simulator owns. Chats are kept in
// memory (Chat values stay readable).
func (s *Server) Close() error {
	s.closeOne.Do(func() {
		s.mu.Lock()
		s.closed = true
		ws := s.waiters
		s.waiters = nil
		s.mu.Unlock()
		for _, w := range ws {
			close(w)
		}
		if s.httpSrv != nil {
			s.httpSrv.CloseClientConnections()
		}
		_ = s.bx.Close()
		if s.httpSrv != nil {
			s.httpSrv.Close()
		}
		if s.stdSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.stdSrv.Shutdown(ctx)
			cancel()
			_ = s.stdSrv.Close()
		}
		s.tmu.Lock()
		ts := make([]*simTimer, 0, len(s.timers))
		for t := range s.timers {
			ts = append(ts, t)
		}
		s.tmu.Unlock()
		for _, t := range ts {
			t.Stop()
		}
	})
	s.wg.Wait()
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// simTimer is a clock.AfterFunc the simulator tracks, so Close can stop it
// and wait for a callback in flight.
type simTimer struct {
	s *Server
	t transports.Timer
}

// after runs f after d on the simulator's clock, outside every lock. A d ≤ 0
// runs f at once on an owned goroutine (and returns nil). It returns nil when
// the simulator is closed.
func (s *Server) after(d time.Duration, f func()) *simTimer {
	if d <= 0 {
		s.goOwned(f)
		return nil
	}
	st := &simTimer{s: s}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.tmu.Lock()
	s.timers[st] = struct{}{}
	s.wg.Add(1)
	s.tmu.Unlock()
	s.mu.Unlock()
	t := s.clock.AfterFunc(d, func() {
		if !s.dropTimer(st) {
			return
		}
		defer s.wg.Done()
		if s.isClosed() {
			return
		}
		f()
	})
	s.tmu.Lock()
	st.t = t
	s.tmu.Unlock()
	return st
}

func (s *Server) dropTimer(st *simTimer) bool {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if _, ok := s.timers[st]; !ok {
		return false
	}
	delete(s.timers, st)
	return true
}

// Stop cancels the timer; it reports whether the call was still pending.
func (t *simTimer) Stop() bool {
	if t == nil || !t.s.dropTimer(t) {
		return false
	}
	t.s.tmu.Lock()
	tt := t.t
	t.s.tmu.Unlock()
	if tt != nil {
		tt.Stop()
	}
	t.s.wg.Done()
	return true
}

// goOwned runs f on a goroutine Close waits for (not at all once closed).
func (s *Server) goOwned(f func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Pending returns the number of armed simulator timers (idle, flex,
// scripted agent steps, fault windows).
func (s *Server) Pending() int {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	return len(s.timers)
}

// ids

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func (s *Server) randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		// A broken id source is a programming error in the test setup.
		panic(fmt.Sprintf("gms: id source failed: %v", err))
	}
	return b
}

// newChatID returns 16 alphanumeric characters.
func (s *Server) newChatID() string {
	b := s.randBytes(16)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// newHex16 returns 16 hex digits (upper-case when upper).
func (s *Server) newHex16(upper bool) string {
	h := hex.EncodeToString(s.randBytes(8))
	if upper {
		return strings.ToUpper(h)
	}
	return h
}

// newAlias returns a small decimal Chat Server alias different from old.
func (s *Server) newAlias(old string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		s.aliasN++
		a := fmt.Sprint(100 + s.aliasN%900)
		if a != old {
			return a
		}
	}
}

// chat registry

// Chat returns the chat with chatId, or nil.
func (s *Server) Chat(chatID string) *Chat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chats[chatID]
}

// Chats returns every chat the simulator holds, oldest first.
func (s *Server) Chats() []*Chat {
	s.mu.Lock()
	out := make([]*Chat, 0, len(s.chats))
	for _, c := range s.chats {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// WaitChat waits for a chat to exist (the first one when chatID is "") and
// returns it. It fails when ctx is done or the simulator closes.
func (s *Server) WaitChat(ctx context.Context, chatID string) (*Chat, error) {
	for {
		s.mu.Lock()
		var found *Chat
		if chatID != "" {
			found = s.chats[chatID]
		} else {
			for _, c := range s.chats {
				if found == nil || c.seq < found.seq {
					found = c
				}
			}
		}
		if found != nil {
			s.mu.Unlock()
			return found, nil
		}
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		w := make(chan struct{})
		s.waiters = append(s.waiters, w)
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ErrClosed is returned by waits when the simulator has been closed.
var ErrClosed = errors.New("gms: simulator closed")

func (s *Server) addChat(c *Chat) {
	s.mu.Lock()
	s.chats[c.id] = c
	s.keys[c.secureKey] = keyEntry{chat: c}
	ws := s.waiters
	s.waiters = nil
	s.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// chatByKey finds the chat of a secureKey (current, or old within the grace window).
func (s *Server) chatByKey(key string) *Chat {
	if key == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.keys[key]
	if !ok {
		return nil
	}
	if !e.expires.IsZero() && s.clock.Now().After(e.expires) {
		delete(s.keys, key)
		return nil
	}
	return e.chat
}

func (s *Server) rekey(c *Chat, oldKey, newKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.keyGrace > 0 {
		s.keys[oldKey] = keyEntry{chat: c, expires: s.clock.Now().Add(s.st.keyGrace)}
	} else {
		delete(s.keys, oldKey)
	}
	s.keys[newKey] = keyEntry{chat: c}
}

// forget drops an ended chat after its retention.
func (s *Server) forget(c *Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.chats, c.id)
	for k, e := range s.keys {
		if e.chat == c {
			delete(s.keys, k)
		}
	}
}

func (s *Server) serviceAllowed(name string) bool {
	if len(s.opts.Services) == 0 {
		return name != ""
	}
	for _, x := range s.opts.Services {
		if x == name {
			return true
		}
	}
	return false
}
