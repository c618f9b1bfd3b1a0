package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/webchatservice"
)

// Defaults.
const (
	DefaultServiceName    = "webchat"
	DefaultQueueGroup     = "webchat"
	DefaultMaxPayload     = 64 << 10
	DefaultCommandTimeout = 30 * time.Second
	// PluginName is the plugin the bridge registers on every session's bus: commands arriving
	// over NATS carry it as their commander.
	PluginName = "NATS"
	// Version is reported by $SRV.INFO.
	Version = "0.1.0"
)

// DefaultAllowCommands are the commands bridged by default: WebChatService's public commands
// whose options are plain JSON. Never private ones (poll), never the restore or configure
// internals, never ones taking functions or readers (registerTypingPreviewInput,
// registerPreProcessor, sendFile).
var DefaultAllowCommands = []string{
	"WebChatService.startChat", "WebChatService.endChat", "WebChatService.sendMessage",
	"WebChatService.sendCustomNotice", "WebChatService.sendTyping", "WebChatService.sendFilteredMessage",
	"WebChatService.addPrefilter", "WebChatService.updateUserData", "WebChatService.startPoll",
	"WebChatService.stopPoll", "WebChatService.resetPollExceptions", "WebChatService.getTranscript",
	"WebChatService.getAgents", "WebChatService.getStats", "WebChatService.downloadFile",
	"WebChatService.getFileLimits", "WebChatService.getSessionData", "WebChatService.fetchHistory",
	"WebChatService.verifySession", "WebChatService.sleep", "WebChatService.wake",
}

// Options configure a Bridge. Conn and Host are required; every other zero value has a default.
type Options struct {
	// Conn is the NATS connection. The bridge never closes it.
	Conn *nats.Conn
	// Host runs the sessions. The bridge adds an extension to it, so create the bridge before
	// opening sessions: sessions opened earlier are not bridged.
	Host *webchatservice.Host
	// Prefix is the first subject token(s). Default "webchat".
	Prefix string
	// ServiceName is the micro service name ($SRV discovery). Default "webchat".
	ServiceName string
	// QueueGroup spreads sessions.open and commands over the daemons. Default "webchat".
	QueueGroup string
	// NodeID names this daemon (lease owner, forwarding subject). Default: random.
	NodeID string
	// AllowCommands are the full command names bridged. Default DefaultAllowCommands.
	AllowCommands []string
	// MaxPayload bounds request payloads in bytes. Default 64 KiB.
	MaxPayload int
	// CommandTimeout bounds one bridged command. Default 30 s.
	CommandTimeout time.Duration
	// ExposeSecrets lets getSessionData and results carry JWTs and secure keys over NATS.
	// Default false: they are redacted.
	ExposeSecrets bool
	// AllowSessionConfig lets sessions.open carry a "config" object for the new session.
	// Default false: every session uses the Host's configuration.
	AllowSessionConfig bool
	// EventStream, when set, also stores every event in a JetStream stream (see EventStream).
	EventStream *EventStream
	// Ownership, when set, shares sessions between daemons through leases (see Ownership).
	Ownership *Ownership
	// Logger receives logs; secrets are never logged. Default: disabled.
	Logger zerolog.Logger
}

// Bridge connects a Host's sessions to NATS subjects.
type Bridge struct {
	opts  Options
	subj  Subjects
	log   zerolog.Logger
	allow map[string]bool

	svc     micro.Service
	nodeSub *nats.Subscription
	own     *owner
	stream  *streamWriter // nil without an event stream

	statsMu     sync.Mutex
	asyncErrors map[string]int64

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // in-flight requests and background loops
	stop   chan struct{}
}

// New creates the bridge and registers its extension on the Host. Call Start to serve.
func New(opts Options) (*Bridge, error) {
	if opts.Conn == nil || opts.Host == nil {
		return nil, fmt.Errorf("%w: Conn and Host are required", ErrInvalidOptions)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !validPrefix(opts.Prefix) {
		return nil, fmt.Errorf("%w: prefix %q is not a valid subject prefix", ErrInvalidOptions, opts.Prefix)
	}
	if opts.ServiceName == "" {
		opts.ServiceName = DefaultServiceName
	}
	if opts.QueueGroup == "" {
		opts.QueueGroup = DefaultQueueGroup
	}
	if opts.NodeID == "" {
		opts.NodeID = webchatservice.NewSessionID()[:12]
	}
	if !validToken(opts.NodeID) {
		return nil, fmt.Errorf("%w: node id %q is not a subject token", ErrInvalidOptions, opts.NodeID)
	}
	if opts.AllowCommands == nil {
		opts.AllowCommands = DefaultAllowCommands
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = DefaultCommandTimeout
	}
	b := &Bridge{opts: opts, subj: Subjects{Prefix: opts.Prefix}, log: opts.Logger, allow: map[string]bool{}, stop: make(chan struct{}), asyncErrors: map[string]int64{}}
	for _, c := range opts.AllowCommands {
		if c == "WebChatService.poll" {
			return nil, fmt.Errorf("%w: the private command %s cannot be bridged", ErrInvalidOptions, c)
		}
		b.allow[c] = true
	}
	if opts.EventStream != nil {
		w, err := newStreamWriter(b, *opts.EventStream)
		if err != nil {
			return nil, err
		}
		b.stream = w
	}
	if opts.Ownership != nil {
		own, err := newOwner(b, *opts.Ownership)
		if err != nil {
			return nil, err
		}
		b.own = own
	}
	opts.Host.Use(b.attach)
	return b, nil
}

// NodeID returns this daemon's node id.
func (b *Bridge) NodeID() string { return b.opts.NodeID }

// Subjects returns the bridge's subject scheme.
func (b *Bridge) Subjects() Subjects { return b.subj }

// Start registers the micro service (endpoints open, close, list, command) and the node's
// forwarding subscription, and starts the ownership loops.
func (b *Bridge) Start(ctx context.Context) error {
	if es := b.opts.EventStream; es != nil && es.Create {
		js, err := jetstream.New(b.opts.Conn)
		if err != nil {
			return fmt.Errorf("natsbridge: jetstream: %w", err)
		}
		if _, err := EnsureStream(ctx, js, b.opts.Prefix, *es); err != nil {
			return err
		}
	}
	svc, err := micro.AddService(b.opts.Conn, micro.Config{
		Name:         b.opts.ServiceName,
		Version:      Version,
		Description:  "Genesys WebChatService sessions over NATS",
		QueueGroup:   b.opts.QueueGroup,
		Metadata:     map[string]string{"prefix": b.opts.Prefix, "node": b.opts.NodeID},
		StatsHandler: b.endpointStats,
	})
	if err != nil {
		return fmt.Errorf("natsbridge: micro service: %w", err)
	}
	b.svc = svc
	endpoints := []struct {
		name, subject string
		h             micro.HandlerFunc
	}{
		{"open", b.subj.Open(), b.onOpen},
		{"close", b.subj.Close(), b.onClose},
		{"list", b.subj.List(), b.onList},
		{"command", b.subj.AllCommands(), b.onCommand},
	}
	for _, e := range endpoints {
		if err := svc.AddEndpoint(e.name, e.h, micro.WithEndpointSubject(e.subject)); err != nil {
			svc.Stop()
			return fmt.Errorf("natsbridge: endpoint %s: %w", e.name, err)
		}
	}
	sub, err := b.opts.Conn.Subscribe(b.subj.Node(b.opts.NodeID)+".>", b.onForwarded)
	if err != nil {
		svc.Stop()
		return fmt.Errorf("natsbridge: node subscription: %w", err)
	}
	b.nodeSub = sub
	if b.own != nil {
		b.own.start()
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return b.opts.Conn.FlushWithContext(fctx)
}

// Shutdown stops serving (in-flight requests finish), closes the sessions this node owns so
// their snapshots are flushed, and releases their leases so another daemon takes them over. It
// returns when done or when ctx ends. The NATS connection is left open (drain it after).
func (b *Bridge) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	b.mu.Unlock()
	if b.svc != nil {
		b.svc.Stop()
	}
	if b.nodeSub != nil {
		b.nodeSub.Drain()
	}
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("natsbridge: shutdown: %w", ctx.Err())
	}
	var err error
	if b.own != nil {
		err = b.own.releaseAll(ctx)
	}
	if b.stream != nil {
		// The sessions' last events are in flight: wait for the stream to have them.
		err = errors.Join(err, b.stream.flush(ctx))
		b.stream.close()
	}
	return err
}

// StreamStats reports what was stored in the event stream; zero without one.
func (b *Bridge) StreamStats() StreamStats {
	if b.stream == nil {
		return StreamStats{}
	}
	return b.stream.stats()
}

// Close stops serving at once without waiting (Shutdown is the graceful form). Leases are not
// released: they expire, and another daemon takes the sessions over then.
func (b *Bridge) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.stop)
	b.mu.Unlock()
	if b.svc != nil {
		b.svc.Stop()
	}
	if b.nodeSub != nil {
		b.nodeSub.Unsubscribe()
	}
	if b.stream != nil {
		b.stream.close()
	}
}

// Stats returns the micro service statistics (per endpoint), as $SRV.STATS does.
func (b *Bridge) Stats() micro.Stats { return b.svc.Stats() }

func (b *Bridge) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// track runs fn as an in-flight request that Shutdown waits for.
func (b *Bridge) track(fn func()) bool {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		fn()
	}()
	return true
}
