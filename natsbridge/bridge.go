package natsbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// --- replies ---------------------------------------------------------------------------------

// responder is a request from the micro service or a forwarded one.
type responder interface {
	Data() []byte
	Subject() string
	Respond(data []byte, hdr nats.Header)
	Fail(re *ReplyError)
}

// microReq answers from inside a micro handler (micro counts its errors).
type microReq struct{ r micro.Request }

func (m microReq) Data() []byte    { return m.r.Data() }
func (m microReq) Subject() string { return m.r.Subject() }
func (m microReq) Respond(data []byte, hdr nats.Header) {
	if code := hdr.Get(micro.ErrorCodeHeader); code != "" {
		m.r.Error(code, hdr.Get(micro.ErrorHeader), data)
		return
	}
	m.r.Respond(data)
}
func (m microReq) Fail(re *ReplyError) {
	body, _ := json.Marshal(Reply{Error: re})
	m.r.Error(fmt.Sprint(re.Code), re.Message, body)
}

// detach returns a responder usable after the micro handler returned: micro reads its request
// object once the handler is done, so later replies go straight to the reply subject, with the
// same micro error headers, and their errors are counted by the bridge (Stats).
func (b *Bridge) detach(req micro.Request, endpoint string) responder {
	return &replyReq{b: b, endpoint: endpoint, subject: req.Subject(), reply: req.Reply(), data: slices.Clone(req.Data())}
}

type replyReq struct {
	b              *Bridge
	endpoint       string
	subject, reply string
	data           []byte
}

func (r *replyReq) Data() []byte    { return r.data }
func (r *replyReq) Subject() string { return r.subject }
func (r *replyReq) Respond(data []byte, hdr nats.Header) {
	if hdr.Get(micro.ErrorCodeHeader) != "" {
		r.b.countError(r.endpoint)
	}
	if r.reply == "" {
		return // a publish, not a request: nobody to answer
	}
	m := nats.NewMsg(r.reply)
	m.Data, m.Header = data, hdr
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	if err := r.b.opts.Conn.PublishMsg(m); err != nil {
		r.b.log.Debug().Err(err).Str("subject", r.subject).Msg("natsbridge: reply not sent")
	}
}
func (r *replyReq) Fail(re *ReplyError) {
	body, _ := json.Marshal(Reply{Error: re})
	r.Respond(body, errorHeader(re))
}

func errorHeader(re *ReplyError) nats.Header {
	h := nats.Header{}
	h.Set(micro.ErrorCodeHeader, fmt.Sprint(re.Code))
	h.Set(micro.ErrorHeader, re.Message)
	return h
}

type forwardedReq struct {
	msg     *nats.Msg
	subject string
}

func (f forwardedReq) Data() []byte    { return f.msg.Data }
func (f forwardedReq) Subject() string { return f.subject }
func (f forwardedReq) Respond(data []byte, hdr nats.Header) {
	m := nats.NewMsg(f.msg.Reply)
	m.Data, m.Header = data, hdr
	f.msg.RespondMsg(m)
}
func (f forwardedReq) Fail(re *ReplyError) {
	body, _ := json.Marshal(Reply{Error: re})
	f.Respond(body, errorHeader(re))
}

// detachFor is detach for a responder that may already be detached.
func (b *Bridge) detachFor(r responder, endpoint string) responder {
	if m, ok := r.(microReq); ok {
		return b.detach(m.r, endpoint)
	}
	return r
}

func (b *Bridge) countError(endpoint string) {
	b.statsMu.Lock()
	b.asyncErrors[endpoint]++
	b.statsMu.Unlock()
}

// endpointStats is the Data of an endpoint in $SRV.STATS: errors answered after the handler
// returned (micro's num_errors counts only the others).
func (b *Bridge) endpointStats(e *micro.Endpoint) any {
	b.statsMu.Lock()
	defer b.statsMu.Unlock()
	return map[string]int64{"async_errors": b.asyncErrors[e.Name]}
}

func (b *Bridge) succeed(r responder, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		r.Fail(replyError(fmt.Errorf("%w: %v", ErrResultEncoding, err)))
		return
	}
	if !b.opts.ExposeSecrets {
		raw = redact(raw)
	}
	body, _ := json.Marshal(Reply{Result: raw})
	r.Respond(body, nil)
}

// --- sessions --------------------------------------------------------------------------------

type openRequest struct {
	Config json.RawMessage `json:"config,omitempty"`
}

// OpenResult is the result of sessions.open.
type OpenResult struct {
	ID   string `json:"id"`
	Node string `json:"node"`
}

// serveDetached answers req off the NATS dispatcher, as an in-flight request Shutdown waits
// for; after Shutdown began it answers ErrClosed.
func (b *Bridge) serveDetached(req micro.Request, endpoint string, serve func(responder)) {
	r := b.detach(req, endpoint)
	if !b.track(func() { serve(r) }) {
		r.Fail(replyError(ErrClosed))
	}
}

func (b *Bridge) onOpen(req micro.Request) { b.serveDetached(req, "open", b.open) }

func (b *Bridge) open(r responder) {
	var o openRequest
	if err := b.decode(r.Data(), &o); err != nil {
		r.Fail(replyError(err))
		return
	}
	oo := webchatservice.OpenOptions{}
	if len(o.Config) > 0 {
		if !b.opts.AllowSessionConfig {
			r.Fail(&ReplyError{Code: 403, Message: ErrNotAllowed.Error() + ": a per-session config (AllowSessionConfig is off)"})
			return
		}
		oo.Config = o.Config
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	oo.ID = webchatservice.NewSessionID()
	if b.own != nil {
		if err := b.own.claim(ctx, oo.ID); err != nil {
			r.Fail(replyError(err))
			return
		}
	}
	s, err := b.opts.Host.Open(ctx, oo)
	if err != nil {
		if b.own != nil {
			b.own.release(ctx, oo.ID)
		}
		r.Fail(replyError(err))
		return
	}
	b.succeed(r, OpenResult{ID: s.ID, Node: b.opts.NodeID})
}

type closeRequest struct {
	ID string `json:"id"`
}

func (b *Bridge) onClose(req micro.Request) { b.serveDetached(req, "close", b.closeSession) }

// closeSession ends the chat (if one is active), closes the session, deletes its snapshot and
// releases its lease. A session owned by another node is forwarded there.
func (b *Bridge) closeSession(r responder) {
	var o closeRequest
	if err := b.decode(r.Data(), &o); err != nil {
		r.Fail(replyError(err))
		return
	}
	if o.ID == "" {
		r.Fail(replyError(fmt.Errorf("%w: id is required", ErrBadPayload)))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	s, err := b.opts.Host.Get(o.ID)
	if err != nil {
		b.route(ctx, r, o.ID)
		return
	}
	if active, _ := s.Client.VerifySession(ctx); active {
		if err := s.Client.EndChat(ctx); err != nil {
			b.log.Debug().Err(err).Str("session", o.ID).Msg("natsbridge: endChat on close failed")
		}
	}
	err = b.opts.Host.Close(ctx, o.ID)
	if b.own != nil {
		b.own.forget(ctx, o.ID)
	}
	if err != nil {
		r.Fail(replyError(err))
		return
	}
	b.succeed(r, map[string]any{"id": o.ID, "closed": true})
}

// SessionInfo is one entry of sessions.list.
type SessionInfo struct {
	ID   string `json:"id"`
	Node string `json:"node,omitempty"`
}

func (b *Bridge) onList(req micro.Request) { b.serveDetached(req, "list", b.list) }

func (b *Bridge) list(r responder) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	var list []SessionInfo
	if b.own != nil {
		l, err := b.own.list(ctx)
		if err != nil {
			r.Fail(replyError(err))
			return
		}
		list = l
	} else {
		for _, id := range b.opts.Host.List() {
			list = append(list, SessionInfo{ID: id, Node: b.opts.NodeID})
		}
	}
	if list == nil {
		list = []SessionInfo{}
	}
	b.succeed(r, map[string]any{"sessions": list})
}

// decode reads an optional JSON object payload.
func (b *Bridge) decode(data []byte, v any) error {
	if len(data) > b.opts.MaxPayload {
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrPayloadTooLarge, len(data), b.opts.MaxPayload)
	}
	if len(data) == 0 || isJSONNull(data) {
		return nil
	}
	if !isJSONObject(data) {
		return ErrBadPayload
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return nil
}

// --- commands --------------------------------------------------------------------------------

func (b *Bridge) onCommand(req micro.Request) {
	b.command(microReq{req})
}

// command dispatches a bridged command. The call enters the session's bus here, in subscription
// order, so commands of one session keep their order; the reply is awaited off the NATS
// dispatcher.
func (b *Bridge) command(r responder) {
	session, command, err := b.subj.ParseCommand(r.Subject())
	if err != nil {
		r.Fail(replyError(err))
		return
	}
	data := r.Data()
	if isJSONNull(data) {
		data = nil // "no options", as on the bus
	}
	switch {
	case len(data) > b.opts.MaxPayload:
		r.Fail(replyError(fmt.Errorf("%w: %d bytes (limit %d)", ErrPayloadTooLarge, len(data), b.opts.MaxPayload)))
		return
	case !b.allow[command]:
		r.Fail(replyError(fmt.Errorf("%w: %s", ErrNotAllowed, command)))
		return
	case len(data) > 0 && !isJSONObject(data):
		r.Fail(&ReplyError{Code: 400, Message: "Invalid command options: a JSON object is required."})
		return
	}
	s, err := b.opts.Host.Get(session)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
		r := b.detachFor(r, "command")
		if !b.track(func() { defer cancel(); b.route(ctx, r, session) }) {
			cancel()
			r.Fail(replyError(ErrClosed))
		}
		return
	}
	p := s.Bus.Plugin(PluginName)
	if p == nil {
		r.Fail(replyError(fmt.Errorf("%w: %s (not bridged)", ErrUnknownSession, session)))
		return
	}
	var opts any
	if len(data) > 0 {
		opts = json.RawMessage(slices.Clone(data))
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	res := p.CommandAsync(ctx, command, opts)
	r = b.detachFor(r, "command")
	if !b.track(func() {
		defer cancel()
		v, err := res.Wait(ctx)
		if err != nil {
			r.Fail(replyError(err))
			return
		}
		b.succeed(r, v)
	}) {
		cancel()
		r.Fail(replyError(ErrClosed))
	}
}

// attach is the Host extension: it registers the bridge's plugin on a new session's bus and
// publishes every event of the bus on NATS.
func (b *Bridge) attach(s *webchatservice.Session) error {
	p, err := s.Bus.RegisterPlugin(PluginName)
	if err != nil {
		return err
	}
	pub := newEventPublisher(b, s.ID)
	if _, err := p.Subscribe(">", pub.publish); err != nil {
		return err
	}
	return p.Ready()
}

func isJSONNull(data []byte) bool {
	return string(bytes.TrimSpace(data)) == "null"
}

func isJSONObject(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return json.Valid(data)
		}
		return false
	}
	return false
}
