package webchatservice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

// HostPluginName is the plugin through which a Session's Client speaks.
const HostPluginName = "Host"

// Errors of the Host.
var (
	ErrSessionNotFound = errors.New("webchatservice: session not found")
	ErrSessionExists   = errors.New("webchatservice: session id already open")
	ErrHostClosed      = errors.New("webchatservice: host closed")
)

// Extension runs for every new session, like a Widgets extension: after WebChatService is
// registered and ready (its retained ready event is replayed to late subscribers), before it
// restores a stored session and before any chat starts. It registers plugins on s.Bus,
// subscribes, adds before interceptors, preprocessors and prefilters. An error closes the session.
type Extension func(s *Session) error

// HostOptions configure a Host. The zero value works, but every session then needs its own
// configuration (OpenOptions.Config).
type HostOptions struct {
	// Config is the default `webchat` configuration of new sessions.
	Config any
	// Logger receives logs (each session's carries its id). Default: disabled.
	Logger zerolog.Logger
	// Store persists snapshots so sessions survive restarts (nil: no persistence).
	Store Store
	// Transport are the transports' runtime dependencies.
	Transport transports.Options
	// Bus configures each session's bus.
	Bus bus.Options
	// Clock drives the services' timers (default: Transport.Clock or the system clock).
	Clock transports.Clock
	// Extensions run for every new session, in order.
	Extensions []Extension
}

// OpenOptions configure one new session.
type OpenOptions struct {
	// ID is the session id; empty picks a random 128-bit one. Ids are never derived from user data.
	ID string
	// Config overrides HostOptions.Config for this session.
	Config any
}

// Session is one chat session: its own bus, WebChatService, and a typed client.
type Session struct {
	ID      string
	Bus     *bus.Bus
	Service *Service
	// Client speaks as the plugin "Host" on the session's bus.
	Client *Client
}

// Host runs many sessions in one process. Each session has its own bus, so a panicking or
// stuck plugin in one never affects another.
type Host struct {
	opts HostOptions

	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool
}

// NewHost returns a Host. A default configuration, when given, is checked now.
func NewHost(opts HostOptions) (*Host, error) {
	if opts.Config != nil {
		if _, err := parseConfig(opts.Config); err != nil {
			return nil, err
		}
	}
	return &Host{opts: opts, sessions: map[string]*Session{}}, nil
}

// Use adds an extension for sessions opened from now on.
func (h *Host) Use(ext Extension) {
	h.mu.Lock()
	h.opts.Extensions = append(h.opts.Extensions, ext)
	h.mu.Unlock()
}

// Open creates a session: a bus, the extensions, then WebChatService (which restores the
// session from the Store when a snapshot exists for its id).
func (h *Host) Open(ctx context.Context, o OpenOptions) (*Session, error) {
	id := o.ID
	if id == "" {
		id = NewSessionID()
	}
	cfg := o.Config
	if cfg == nil {
		cfg = h.opts.Config
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrHostClosed
	}
	if _, dup := h.sessions[id]; dup {
		h.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrSessionExists, id)
	}
	h.sessions[id] = nil // reserve the id
	exts := slices.Clone(h.opts.Extensions)
	h.mu.Unlock()

	s, err := h.open(id, cfg, exts)
	h.mu.Lock()
	if err != nil || h.closed {
		delete(h.sessions, id)
		h.mu.Unlock()
		if err == nil {
			s.close(ctx)
			return nil, ErrHostClosed
		}
		return nil, err
	}
	h.sessions[id] = s
	h.mu.Unlock()
	return s, nil
}

func (h *Host) open(id string, cfg any, exts []Extension) (*Session, error) {
	log := h.opts.Logger.With().Str("session", id).Logger()
	bo := h.opts.Bus
	bo.Logger = log
	b := bus.New(bo)
	hostPlugin, err := b.RegisterPlugin(HostPluginName)
	if err != nil {
		b.Close(context.Background())
		return nil, err
	}
	svc, err := New(b, Options{Config: cfg, Logger: log, Transport: h.opts.Transport, Store: h.opts.Store, SessionID: id, Clock: h.opts.Clock, DeferRestore: true})
	if err != nil {
		b.Close(context.Background())
		return nil, err
	}
	s := &Session{ID: id, Bus: b, Service: svc, Client: NewClient(hostPlugin)}
	for _, ext := range exts {
		if err := ext(s); err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s.close(ctx) // bounded: a plugin the extension left stuck must not hang Open
			cancel()
			return nil, fmt.Errorf("webchatservice: extension: %w", err)
		}
	}
	svc.RestoreStored()
	return s, nil
}

// Get returns an open session.
func (h *Host) Get(id string) (*Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[id]
	if s == nil {
		return nil, fmt.Errorf("%w: %s", ErrSessionNotFound, id)
	}
	return s, nil
}

// List returns the ids of the open sessions, sorted.
func (h *Host) List() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.sessions))
	for id, s := range h.sessions {
		if s != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Close detaches a session: its goroutines stop and its bus closes, but the chat is not ended on
// the server and its snapshot stays, so it can be restored (Open with the same id). End the
// chat first (Client.EndChat) to finish it.
func (h *Host) Close(ctx context.Context, id string) error {
	h.mu.Lock()
	s := h.sessions[id]
	if s == nil {
		h.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrSessionNotFound, id)
	}
	delete(h.sessions, id)
	h.mu.Unlock()
	return s.close(ctx)
}

func (s *Session) close(ctx context.Context) error {
	err := s.Service.Close(ctx)
	// Let subscribers (the NATS bridge, the app) receive the events already published before the
	// bus stops delivering.
	if derr := s.Bus.Drain(ctx); err == nil {
		err = derr
	}
	if cerr := s.Bus.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// RestoreAll opens a session for every snapshot in the Store that is not open yet (after a
// restart). Each restores itself; it returns the ids opened.
func (h *Host) RestoreAll(ctx context.Context) ([]string, error) {
	if h.opts.Store == nil {
		return nil, nil
	}
	ids, err := h.opts.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	var opened []string
	var errs []error
	for _, id := range ids {
		if _, err := h.Get(id); err == nil {
			continue
		}
		if _, err := h.Open(ctx, OpenOptions{ID: id}); err != nil {
			errs = append(errs, fmt.Errorf("session %s: %w", id, err))
			continue
		}
		opened = append(opened, id)
	}
	return opened, errors.Join(errs...)
}

// Shutdown closes every session (snapshots flushed, chats left running on the server for a
// later restore) and refuses new ones. It returns when all are closed or ctx ends.
func (h *Host) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	all := make([]*Session, 0, len(h.sessions))
	for id, s := range h.sessions {
		if s != nil {
			all = append(all, s)
		}
		delete(h.sessions, id)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(all))
	for i, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.close(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// NewSessionID returns a random 128-bit session id (32 hex digits).
func NewSessionID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("webchatservice: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
