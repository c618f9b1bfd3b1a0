package purecloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func init() {
	transports.MustRegister(transports.TypePureCloud, func(cfg json.RawMessage, opts transports.Options) (transports.Transport, error) {
		return NewFromJSON(cfg, opts)
	})
}

// Session data keys (Widgets getSessionData for purecloud-v2-sockets).
const (
	KeyJWT            = "jwt"
	KeyConversationID = "conversationId"
	KeyMemberID       = "memberId"
	KeyDisplayName    = "displayName"
	KeyWebSocketURL   = "WebSocketUrl"
	KeyNextMsgURL     = "nextMsgURL"
	KeyLastMessageID  = "lastMessageId"
)

// The optional capabilities Genesys Cloud offers; a signature drift fails the build here
// rather than a type assertion at run time.
var (
	_ transports.Transport = (*Transport)(nil)
	_ transports.History   = (*Transport)(nil)
)

// Transport is the purecloud-v2-sockets client of one guest chat. Create it
// with New (or transports.New("purecloud-v2-sockets", …)). It implements
// transports.Transport and transports.History.
type Transport struct {
	set     settings
	log     zerolog.Logger
	clock   transports.Clock
	rest    *rest
	dialer  *websocket.Dialer
	backoff transports.Backoff
	events  chan transports.Event
	mbox    mailbox
	members memberCache

	mu          sync.Mutex
	life        *transports.Lifecycle // its Context ends with the session; guarded by mu
	keys        sessionKeys
	cursor      transports.Cursor
	connected   bool
	connWait    chan struct{} // closed when connected becomes true
	lastTyping  time.Time
	own         *transports.Seen // ids of messages accepted by Send
	histBefore  string
	histDone    bool
	loopStarted bool

	sendMu sync.Mutex
	histMu sync.Mutex

	wg sync.WaitGroup
}

type sessionKeys struct {
	conv, member, jwt, stream, name string
	exp                             time.Time
}

// New returns a transport for cfg. It does not contact the server.
func New(cfg Config, opts transports.Options) (*Transport, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	hc := opts.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	t := &Transport{
		set:      set,
		log:      opts.Logger,
		clock:    opts.Clock,
		events:   make(chan transports.Event, eventBuffer),
		connWait: make(chan struct{}),
		life:     transports.NewLifecycle(),
		own:      transports.NewSeen(256),
	}
	t.backoff = transports.Backoff{Initial: set.reconnectInitial, Max: DefaultReconnectMax, Rand: opts.Rand}
	t.rest = &rest{base: set.baseURL, hc: hc, timeout: set.ajaxTimeout, log: t.log, clock: t.clock,
		backoff: transports.Backoff{Initial: 500 * time.Millisecond, Max: 10 * time.Second, Rand: opts.Rand}}
	t.dialer = &websocket.Dialer{
		NetDialContext:   opts.DialContext,
		HandshakeTimeout: set.ajaxTimeout,
		ReadBufferSize:   1024,
		WriteBufferSize:  256,
		WriteBufferPool:  writePool,
		Proxy:            http.ProxyFromEnvironment,
	}
	t.members.init()
	t.mbox.init()
	return t, nil
}

// eventBuffer is the capacity of the event channel; a slow consumer gets
// backpressure (the loop waits), never a dropped event.
const eventBuffer = 16

// writePool lets idle sockets hold no write buffer (we only write on close).
var writePool = &sync.Pool{}

// NewFromJSON parses a Widgets `webchat` JSON section and returns a transport.
func NewFromJSON(cfg json.RawMessage, opts transports.Options) (*Transport, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return New(c, opts)
}

// Type returns "purecloud-v2-sockets".
func (t *Transport) Type() string { return transports.TypePureCloud }

// Capabilities: pagination (fetchHistory) as configured; no files, notices,
// user-data updates or polling.
func (t *Transport) Capabilities() transports.Capabilities {
	return transports.Capabilities{Pagination: t.set.pagination, History: t.set.pagination}
}

// Events returns the ordered event stream.
func (t *Transport) Events() <-chan transports.Event { return t.events }

// Start creates the conversation (#1), reports a synthetic ParticipantJoined
// for the client, and starts attaching the event stream in the background
// (EventConnected follows; routing starts only then).
func (t *Transport) Start(ctx context.Context, req transports.StartRequest) (transports.SessionData, error) {
	if err := t.checkNew(); err != nil {
		return transports.SessionData{}, err
	}
	cr, err := t.set.buildCreate(req)
	if err != nil {
		return transports.SessionData{}, err
	}
	resp, raw, err := t.rest.create(ctx, cr)
	if err != nil {
		return transports.SessionData{}, err
	}
	keys := sessionKeys{conv: resp.ID, member: resp.Member.ID, jwt: resp.JWT, stream: resp.EventStreamURI,
		name: cr.MemberInfo.DisplayName, exp: jwtExpiry(resp.JWT)}
	now := t.clock.Now()
	t.members.put(keys.member, &member{role: wire.RoleCustomer, name: keys.name, state: wire.StateConnected})
	t.mu.Lock()
	if t.life.Phase != transports.PhaseNew {
		t.mu.Unlock()
		return transports.SessionData{}, t.life.PhaseErr()
	}
	t.keys = keys
	// Widgets publishes a ParticipantJoined for the client as soon as #1
	// succeeds. The channel is fresh, so this never blocks.
	t.events <- transports.Event{Kind: transports.EventMessages, Time: now, Messages: []transports.Message{{
		ID: keys.member + ":joined", Index: now.UnixMilli(), Type: transports.TypeParticipantJoined, Timestamp: now,
		From: transports.From{ID: keys.member, Type: transports.ParticipantClient, Name: keys.name}, Synthetic: true,
	}}}
	t.activateLocked()
	t.mu.Unlock()
	sd := t.SessionData()
	sd.Answer = raw
	return sd, nil
}

// Resume reattaches to a saved session: it reads our own member (#3) and
// fails with transports.ErrSessionEnded when the chat is over or the token
// expired; then it attaches the socket and backfills after cur in the
// background (EventConnected, then EventMessages).
func (t *Transport) Resume(ctx context.Context, sd transports.SessionData, cur transports.Cursor) error {
	if err := t.checkNew(); err != nil {
		return err
	}
	if sd.Transport != "" && sd.Transport != transports.TypePureCloud {
		return fmt.Errorf("%w: session data of transport %q", transports.ErrInvalidConfig, sd.Transport)
	}
	keys := sessionKeys{conv: sd.Get(KeyConversationID), member: sd.Get(KeyMemberID), jwt: sd.Get(KeyJWT),
		stream: sd.Get(KeyWebSocketURL), name: sd.Get(KeyDisplayName)}
	if keys.conv == "" || keys.member == "" || keys.jwt == "" || keys.stream == "" {
		return fmt.Errorf("%w: %v", transports.ErrInvalidConfig, errNoSession)
	}
	keys.exp = jwtExpiry(keys.jwt)
	if !keys.exp.IsZero() && !t.clock.Now().Before(keys.exp) {
		return fmt.Errorf("%w: the chat token expired", transports.ErrSessionEnded)
	}
	if cur.ID == "" {
		cur.ID = sd.Get(KeyLastMessageID)
	}
	me, err := t.rest.getMember(ctx, keys.jwt, keys.conv, keys.member, 2)
	if err != nil {
		if r, fatal := fatalReason(err, true); fatal {
			return fmt.Errorf("%w (%s): %w", transports.ErrSessionEnded, r, err)
		}
		return err
	}
	if me.LeaveDate != nil {
		return fmt.Errorf("%w: customer disconnected, conversation ended", transports.ErrSessionEnded)
	}
	if keys.name == "" {
		keys.name = me.DisplayName
	}
	t.members.put(keys.member, &member{role: wire.RoleCustomer, name: keys.name, avatar: me.AvatarImageURL})
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase != transports.PhaseNew {
		return t.life.PhaseErr()
	}
	t.keys = keys
	t.cursor = transports.Cursor{ID: cur.ID}
	t.histBefore = cur.ID
	t.activateLocked()
	return nil
}

func (t *Transport) checkNew() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase != transports.PhaseNew {
		return t.life.PhaseErr()
	}
	return nil
}

// activateLocked starts the session loop; t.mu held.
func (t *Transport) activateLocked() {
	t.life.Phase = transports.PhaseActive
	t.loopStarted = true
	t.wg.Add(1)
	go t.run()
}

// SessionData returns the current session data (Widgets getSessionData keys;
// jwt and WebSocketUrl are secret).
func (t *Transport) SessionData() transports.SessionData {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys.conv == "" {
		return transports.SessionData{}
	}
	v := map[string]string{
		KeyJWT: t.keys.jwt, KeyConversationID: t.keys.conv, KeyMemberID: t.keys.member,
		KeyDisplayName: t.keys.name, KeyWebSocketURL: t.keys.stream, KeyLastMessageID: t.cursor.ID,
	}
	if t.cursor.ID != "" {
		v[KeyNextMsgURL] = wire.MessagesPath(t.keys.conv) + "?" + wire.QueryAfter + "=" + t.cursor.ID
	}
	return transports.SessionData{Transport: transports.TypePureCloud, Values: v, Secret: []string{KeyJWT, KeyWebSocketURL}}
}

// Cursor returns the id of the last delivered message.
func (t *Transport) Cursor() transports.Cursor {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cursor
}

// Typing posts a typing indicator (#6) at most once per TypingInterval while
// the user types. typing=false sends nothing (the API has no stop call).
// Typing is never queued: while disconnected it is a no-op.
func (t *Transport) Typing(ctx context.Context, preview string, typing bool) error {
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return err
	}
	now := t.clock.Now()
	if !typing || !t.connected || (!t.lastTyping.IsZero() && now.Sub(t.lastTyping) < TypingInterval) {
		t.mu.Unlock()
		return nil
	}
	t.lastTyping = now
	k := t.keys
	t.mu.Unlock()
	err := t.rest.postTyping(ctx, k.jwt, k.conv, k.member)
	if err != nil {
		if r, fatal := fatalReason(err, true); fatal {
			t.endSession(r, err)
			return fmt.Errorf("%w: %w", transports.ErrSessionEnded, err)
		}
	}
	return err
}

// End ends the chat: it deletes our own member (#4). 204, 404 and 400
// chat.error.conversation.state all mean ended. The session ends locally
// even when the call fails (the error is returned). EventEnded{EndedByClient}
// follows and the event stream closes.
func (t *Transport) End(ctx context.Context) error {
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return err
	}
	k := t.keys
	t.life.Ending = true
	t.mu.Unlock()
	err := t.rest.deleteMember(ctx, k.jwt, k.conv, k.member)
	if err != nil && (statusOf(err) == http.StatusNotFound || isConversationState(err)) {
		err = nil
	}
	t.endSession(transports.EndedByClient, err)
	return err
}

// endSession moves the session to ended (once) and stops the loop, which
// then reports EventEnded and closes the event stream.
func (t *Transport) endSession(r transports.EndReason, err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.life.End(r, err); !ok {
		return false
	}
	t.connected = false
	return true
}

// Close stops every goroutine, timer and socket without ending the chat on
// the server, so the session can be resumed later. Idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	if !t.life.Close() {
		t.mu.Unlock()
		t.wg.Wait()
		return nil
	}
	t.connected = false
	started := t.loopStarted
	t.loopStarted = true
	t.mu.Unlock()
	t.wg.Wait()
	if !started {
		close(t.events)
	}
	return nil
}

// emit delivers ev unless the transport is being closed.
func (t *Transport) emit(ev transports.Event) {
	if ev.Time.IsZero() {
		ev.Time = t.clock.Now()
	}
	select {
	case t.events <- ev:
	case <-t.life.Closed():
	}
}

// waitConnected blocks until the socket is attached and backfilled.
func (t *Transport) waitConnected(ctx context.Context) (sessionKeys, error) {
	for {
		t.mu.Lock()
		if t.life.Phase != transports.PhaseActive {
			err := t.life.PhaseErr()
			t.mu.Unlock()
			return sessionKeys{}, err
		}
		if t.connected {
			k := t.keys
			t.mu.Unlock()
			return k, nil
		}
		w := t.connWait
		t.mu.Unlock()
		select {
		case <-w:
		case <-t.life.Done():
		case <-ctx.Done():
			return sessionKeys{}, ctx.Err()
		}
	}
}

func (t *Transport) setConnected(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if on == t.connected || t.life.Phase != transports.PhaseActive {
		return
	}
	t.connected = on
	if on {
		close(t.connWait)
	} else {
		t.connWait = make(chan struct{})
	}
}

// jwtExpiry reads exp from the token without verifying it (zero when unknown).
func jwtExpiry(tok string) time.Time {
	_, c, _, _, err := wire.ParseJWT(tok)
	if err != nil || c.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}

// fatalReason maps an error that ends the session (§7.3 (c)): 400
// chat.error.conversation.state, 401 (token no longer accepted) and, when
// convScoped, 404 on the conversation.
func fatalReason(err error, convScoped bool) (transports.EndReason, bool) {
	switch {
	case isConversationState(err):
		return transports.EndedByServer, true
	case statusOf(err) == http.StatusUnauthorized:
		return transports.EndedExpired, true
	case convScoped && statusOf(err) == http.StatusNotFound:
		return transports.EndedSessionLost, true
	}
	return "", false
}

var (
	errWatchdog = errors.New("purecloud: no frame within the heartbeat interval")
	errClosing  = errors.New("purecloud: server announced socket closing")
)
