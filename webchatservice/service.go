package webchatservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/prefilter"
	"github.com/cxbus/webchat/preprocessor"
	"github.com/cxbus/webchat/transports"
)

// Options configure a Service. The zero value works (the service then waits for a configure
// command).
type Options struct {
	// Config is the `_genesys.widgets.webchat` configuration: a Config, *Config, map[string]any or
	// JSON. When set, the service configures itself with it at start (Widgets' self-invoked
	// configure); a bad one makes New fail with the configure rejection.
	Config any
	// Logger receives the service's logs. Default: disabled. Secrets are never logged.
	Logger zerolog.Logger
	// Transport are the runtime dependencies handed to the transport (HTTP client, dialer, clock).
	Transport transports.Options
	// Store persists session snapshots for restore. Nil: no persistence (restore after a restart
	// is then impossible; restore of an async chat still works with options.sessionData).
	Store Store
	// SessionID names this session in the Store. Required with a Store.
	SessionID string
	// Clock drives the service's timers (client typing). Default: Transport.Clock or the system clock.
	Clock transports.Clock
	// DeferRestore stops New from restoring a stored session; call RestoreStored when the
	// session's other plugins are in place (the Host does, after its extensions).
	DeferRestore bool
}

type lifecycle int

const (
	stateIdle lifecycle = iota // no session (never started, or ended)
	stateStarting
	stateActive
	stateEnding
	stateRestoring
)

func (l lifecycle) String() string {
	return [...]string{"idle", "starting", "active", "ending", "restoring"}[l]
}

// Service is the WebChatService plugin on one session's bus. All its state is owned by the
// plugin's mailbox: command handlers, transport events and timers run there one at a time.
type Service struct {
	plugin *bus.Plugin
	opts   Options
	log    zerolog.Logger
	clock  transports.Clock

	// Everything below is mailbox-owned.
	set         *settings
	caps        transports.Capabilities
	state       lifecycle
	tr          transports.Transport
	gen         int // transport generation: events of an older transport are ignored
	sd          transports.SessionData
	cursor      transports.Cursor
	lastContact time.Time
	connected   bool // the transport connection is up (false before connect and while disconnected)
	offline     bool // the chat server is offline (GMS)
	async       bool // the current session is asynchronous

	userData      map[string]any
	filters       *prefilter.Set // custom prefilters (the standard one is always applied)
	preprocessors preprocessor.Chain
	preview       func() string

	transcript   []entry
	agents       map[string]*Agent
	clientOnline bool
	agentTyping  bool

	clientTyping   bool
	typingTimer    transports.Timer
	typingSentAt   time.Time
	typingSentText string

	outbox  []*outgoing
	sending bool

	restoring   bool
	restoreWait []bus.Deferred
	heldEvents  []transports.Event // transport events held while a restore resolves
	// restoredOffline: the restore's answer said the chat server is offline.
	restoredOffline bool
	// afterRestore are commands waiting for a running restore to finish (startChat).
	afterRestore []func()
	pump         *pump
	sleeping     bool
	polling      bool

	persist   *persister
	dirty     bool // a snapshot is scheduled
	keepAlive transports.Timer

	wg          sync.WaitGroup // goroutines doing I/O for the service
	closed      bool           // mailbox-owned
	closeCalled atomic.Bool
}

// entry is one visible transcript item: the message before preprocessing and the one published.
type entry struct {
	original  Message
	processed Message
	enc       json.RawMessage // original as stored in snapshots, computed once
}

// New registers the WebChatService plugin on b, configures it from opts.Config (if any), marks
// it ready and republishes WebChatService.ready. With a Store holding a snapshot for
// opts.SessionID, it then restores that session (self-invoked restore).
func New(b *bus.Bus, opts Options) (*Service, error) {
	if opts.Store != nil && opts.SessionID == "" {
		return nil, fmt.Errorf("webchatservice: Options.SessionID is required with a Store")
	}
	s := &Service{opts: opts, log: opts.Logger, agents: map[string]*Agent{}, userData: map[string]any{}, filters: &prefilter.Set{}}
	s.clock = opts.Clock
	if s.clock == nil {
		s.clock = opts.Transport.Clock
	}
	if s.clock == nil {
		s.clock = transports.SystemClock()
	}
	if opts.Config != nil {
		set, caps, err := s.buildSettings(opts.Config)
		if err != nil {
			return nil, err
		}
		s.set, s.caps = set, caps
		s.seedUserData()
	}
	p, err := b.RegisterPlugin(PluginName)
	if err != nil {
		return nil, err
	}
	s.plugin = p
	if opts.Store != nil {
		s.persist = newPersister(s, opts.Store, opts.SessionID)
	}
	if err := s.registerCommands(); err != nil {
		p.Deregister()
		return nil, err
	}
	p.RegisterEvents(Events...)
	if err := p.Ready(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	p.Post(func() {
		defer close(done)
		if s.set != nil {
			s.setData(DataMode, string(s.set.mode))
			s.publishCapabilities()
		}
		s.setData(DataSessionActive, false)
		s.publish(EventReady, nil, true)
	})
	<-done
	if !opts.DeferRestore {
		s.RestoreStored()
	}
	return s, nil
}

// RestoreStored issues the self-invoked restore of a session stored under Options.SessionID (a
// no-op without a Store or configuration). New calls it unless Options.DeferRestore.
func (s *Service) RestoreStored() {
	if s.persist != nil && s.set != nil {
		s.selfRestore()
	}
}

// Plugin returns the service's bus plugin.
func (s *Service) Plugin() *bus.Plugin { return s.plugin }

// Bus returns the session's bus.
func (s *Service) Bus() *bus.Bus { return s.plugin.Bus() }

// buildSettings parses a configuration and checks the transport accepts it.
func (s *Service) buildSettings(v any) (*settings, transports.Capabilities, error) {
	set, err := parseConfig(v)
	if err != nil {
		return nil, transports.Capabilities{}, err
	}
	tr, err := transports.New(set.transportType, set.raw, s.transportOptions())
	if err != nil {
		return nil, transports.Capabilities{}, transportConfigError(err)
	}
	caps := tr.Capabilities()
	tr.Close()
	return set, caps, nil
}

func (s *Service) transportOptions() transports.Options {
	o := s.opts.Transport
	if o.Clock == nil {
		o.Clock = s.clock
	}
	if o.Logger.GetLevel() == zerolog.NoLevel && s.opts.Logger.GetLevel() != zerolog.NoLevel {
		o.Logger = s.opts.Logger
	}
	return o
}

func (s *Service) seedUserData() {
	for k, v := range s.set.cfg.UserData {
		if _, set := s.userData[k]; !set {
			s.userData[k] = v
		}
	}
}

// Close stops the session's goroutines and timers without ending the chat on the server (a
// later restore can continue it) and deregisters the plugin. Pending snapshot writes are
// flushed until ctx ends.
func (s *Service) Close(ctx context.Context) error {
	if !s.closeCalled.CompareAndSwap(false, true) {
		return nil
	}
	done := make(chan struct{})
	if err := s.plugin.Post(func() {
		defer close(done)
		if s.closed {
			return
		}
		if s.persist != nil && s.state == stateActive {
			// Last snapshot: it marks the message being sent, so the restored session checks
			// the transcript before sending it again.
			s.persist.save(s.snapshot())
		}
		s.closed = true
		s.stopTypingTimer()
		s.stopKeepAlive()
		if s.tr != nil {
			s.tr.Close()
		}
		s.gen++
		for _, o := range s.outbox {
			if o.d != nil {
				o.d.Reject(ErrQueuedAtClose)
			}
		}
	}); err != nil {
		close(done)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		return ctx.Err()
	}
	var err error
	if s.persist != nil {
		err = s.persist.close(ctx)
	}
	s.plugin.Deregister()
	return err
}

// publish publishes a service event; retained for ready.
func (s *Service) publish(event string, data any, retain bool) {
	var err error
	if retain {
		err = s.plugin.Republish(event, data)
	} else {
		err = s.plugin.Publish(event, data)
	}
	if err != nil && !errors.Is(err, bus.ErrClosed) && !errors.Is(err, bus.ErrNotRegistered) {
		s.log.Error().Err(err).Str("event", event).Msg("webchatservice: publish failed")
	}
}

func (s *Service) setData(key string, v any) {
	if _, err := s.plugin.Set(key, v); err != nil && !errors.Is(err, bus.ErrClosed) && !errors.Is(err, bus.ErrNotRegistered) {
		s.log.Error().Err(err).Str("key", key).Msg("webchatservice: data set failed")
	}
}

func (s *Service) publishCapabilities() {
	s.setData(DataCapabilities, s.caps.Published())
	s.publish(EventCapabilitiesChanged, s.caps.Published(), false)
}

// goIO runs work outside the mailbox and then `then` back in it. The service's Close waits for it.
func (s *Service) goIO(work func(), then func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		work()
		if then != nil {
			if err := s.plugin.Post(then); err != nil {
				s.log.Debug().Err(err).Msg("webchatservice: result after close dropped")
			}
		}
	}()
}

// deferIO settles call with the result of work, run outside the mailbox; after (optional) runs
// in the mailbox first and may replace the outcome.
func (s *Service) deferIO(call *bus.Call, work func(ctx context.Context) (any, error), after func(v any, err error) (any, error)) {
	d := call.Defer()
	ctx := d.Context()
	var v any
	var err error
	s.goIO(func() { v, err = work(ctx) }, func() {
		if after != nil {
			v, err = after(v, err)
		}
		d.Settle(v, err)
	})
}

func (s *Service) sessionDataPublic() map[string]string {
	if s.sd.IsZero() {
		return s.emptySessionData()
	}
	r := s.sd.Redacted()
	out := s.emptySessionData()
	for k, v := range r.Values {
		out[k] = v
	}
	return out
}

func (s *Service) emptySessionData() map[string]string {
	keys := []string{"sessionID", "userId", "secureKey", "alias"}
	if s.set != nil && s.set.mode == ModePureCloud {
		keys = []string{"jwt", "conversationId", "memberId", "displayName", "WebSocketUrl", "nextMsgURL", "lastMessageId"}
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = ""
	}
	return m
}
