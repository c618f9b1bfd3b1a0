package bayeux

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// Client defaults (those of the CometD JavaScript client).
const (
	DefaultBackoffIncrement = time.Second
	DefaultMaxBackoff       = 60 * time.Second
	DefaultMaxNetworkDelay  = 10 * time.Second
	// DefaultHandshakeTimeout is the advice.timeout sent on the handshake.
	DefaultHandshakeTimeout = 60 * time.Second
)

// Options configures a Client. The zero value works; each field documents its default.
type Options struct {
	// Transports lists the connection types in order of preference. Default
	// ["websocket", "long-polling"]: WebSocket first, long-polling when the server does
	// not offer WebSocket or a WebSocket never worked.
	Transports []string
	// Jar holds the session's cookies. Default: a new in-memory jar for this client.
	// Share a jar between clients only on purpose: servers bind sessions to cookies.
	Jar http.CookieJar
	// Header is sent with every long-polling POST and with the WebSocket upgrade (for
	// example an API key). Never logged.
	Header http.Header
	// HTTPClient provides the http.RoundTripper for long-polling (its Jar and Timeout
	// are not used). Default: a clone of http.DefaultTransport owned by the client.
	HTTPClient *http.Client
	// Dialer dials WebSockets; its Jar is replaced by the client's. Default: a
	// websocket.Dialer with the proxy from the environment.
	Dialer *websocket.Dialer
	// Subprotocols are offered on the WebSocket upgrade. Default none.
	Subprotocols []string
	// AppendMessageType makes long-polling POST the handshake to <url>/handshake, connects
	// to <url>/connect and the disconnect to <url>/disconnect, as the CometD JavaScript
	// client does. Default false: everything goes to <url>.
	AppendMessageType bool
	// Extensions see every message sent and received.
	Extensions []Extension
	// AckExtension adds an AckExtension (after Extensions).
	AckExtension bool
	// BackoffIncrement is added to the back-off after each failure. Default 1s.
	BackoffIncrement time.Duration
	// MaxBackoff caps the back-off. Default 60s.
	MaxBackoff time.Duration
	// MaxNetworkDelay bounds every request; a connect may take advice.timeout more.
	// Default 10s.
	MaxNetworkDelay time.Duration
	// ConnectTimeout bounds the WebSocket opening handshake. Default MaxNetworkDelay.
	ConnectTimeout time.Duration
	// DisableStickyReconnect makes a WebSocket that failed after having worked count as
	// failed, so the client re-handshakes over long-polling. Default false (keep it).
	DisableStickyReconnect bool
	// MaxConsecutiveHandshakeFailures ends the client with ErrHandshakeFailed after that
	// many failed handshakes in a row. Default 0 = unlimited.
	MaxConsecutiveHandshakeFailures int
	// OnState is called, in order and on the client's dispatch goroutine, for every
	// state event. Default none (see also State and AddStateListener).
	OnState func(StateEvent)
	// Logger receives debug logs. Default zerolog.Nop(). Cookies, headers and data are
	// never logged.
	Logger zerolog.Logger
	// Clock is the time source for back-off and deadlines. Default the wall clock.
	Clock Clock
	// Rand returns numbers in [0,1) for the ±10% jitter on back-off delays. Default
	// math/rand/v2.Float64.
	Rand func() float64
}

// StateKind names a client state event.
type StateKind int

// State events, in the order they usually occur.
const (
	// EventHandshake: a handshake succeeded (ClientID, Transport set).
	EventHandshake StateKind = iota + 1
	// EventConnected: the first connect after a handshake succeeded.
	EventConnected
	// EventDisconnected: a connect failed (network, HTTP status, deadline, lost socket,
	// or an unsuccessful reply advising retry), or the WebSocket dropped between
	// connects; the client retries. Emitted once per outage, whether or not a connect
	// was outstanding when the socket dropped.
	EventDisconnected
	// EventReconnected: the first successful connect after an outage, same session.
	EventReconnected
	// EventReestablished: a handshake after the first one succeeded and the
	// subscriptions were sent again: the server may have lost application state.
	EventReestablished
	// EventTerminated: the client stopped; Err is nil after Disconnect or Close,
	// otherwise why (ErrHandshakeFailed, ErrReconnectNone).
	EventTerminated
)

func (k StateKind) String() string {
	switch k {
	case EventHandshake:
		return "handshake"
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventReconnected:
		return "reconnected"
	case EventReestablished:
		return "reestablished"
	case EventTerminated:
		return "terminated"
	}
	return "StateKind(" + strconv.Itoa(int(k)) + ")"
}

// StateEvent reports a change of the client's connection state.
type StateEvent struct {
	Kind      StateKind
	ClientID  string
	Transport string
	Err       error
}

// Client is a Bayeux client. Its methods are safe for concurrent use. Create it with
// NewClient, start it with Handshake, stop it with Disconnect or Close.
type Client struct {
	url  *url.URL
	opts Options
	log  zerolog.Logger
	hc   *http.Client
	own  *http.Transport // closed on Close when we created it
	jar  http.CookieJar
	exts []Extension

	mu             sync.Mutex
	nextID         uint64
	pending        map[string]*pendingReq
	clientID       string
	transport      string
	ws             *clientWS
	ready          chan struct{} // closed while a session and a usable transport exist
	advice         *Advice
	subs           map[string]int
	running        bool
	handshakes     int
	disconnecting  bool
	everHandshaken bool
	wsFailed       bool
	wsWorked       bool
	connecting     bool // a connect is outstanding
	wsLost         bool // the session's socket closed under it; the loop reports an outage
	termErr        error
	term           chan struct{} // closed when the loop ends (replaced on restart)
	closed         bool
	kick           chan string
	loopCancel     context.CancelFunc
	firstResult    chan error

	listenersMu sync.RWMutex
	listeners   []*listener
	waiters     []*waiter
	stateLs     []*stateListener
	lseq        uint64

	disp *dispatcher

	done chan struct{} // closed by Close
	wg   sync.WaitGroup
	once sync.Once
}

type pendingReq struct {
	channel string
	ch      chan result
	ws      *clientWS // socket it was sent on (nil for long-polling)
}

type result struct {
	m   *Message
	err error
}

// NewClient returns a client for the Bayeux endpoint at rawURL (http, https, ws or wss;
// WebSocket uses the same path). It does not connect: call Handshake.
func NewClient(rawURL string, opts Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bayeux: bad url: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("bayeux: bad url %q: scheme must be http, https, ws or wss", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("bayeux: bad url %q: no host", rawURL)
	}
	if len(opts.Transports) == 0 {
		opts.Transports = []string{TransportWebSocket, TransportLongPolling}
	}
	for _, t := range opts.Transports {
		if t != TransportWebSocket && t != TransportLongPolling {
			return nil, fmt.Errorf("bayeux: unsupported transport %q: want %q or %q", t, TransportWebSocket, TransportLongPolling)
		}
	}
	if opts.BackoffIncrement <= 0 {
		opts.BackoffIncrement = DefaultBackoffIncrement
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxNetworkDelay <= 0 {
		opts.MaxNetworkDelay = DefaultMaxNetworkDelay
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = opts.MaxNetworkDelay
	}
	if opts.MaxConsecutiveHandshakeFailures < 0 {
		return nil, errors.New("bayeux: MaxConsecutiveHandshakeFailures must be >= 0")
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	c := &Client{
		url:     u,
		opts:    opts,
		log:     opts.Logger,
		pending: map[string]*pendingReq{},
		subs:    map[string]int{},
		ready:   make(chan struct{}),
		term:    make(chan struct{}),
		kick:    make(chan string, 1),
		done:    make(chan struct{}),
		advice:  initialAdvice(),
	}
	c.jar = opts.Jar
	if c.jar == nil {
		c.jar, _ = cookiejar.New(nil)
	}
	var rt http.RoundTripper
	if opts.HTTPClient != nil && opts.HTTPClient.Transport != nil {
		rt = opts.HTTPClient.Transport
	} else {
		c.own = http.DefaultTransport.(*http.Transport).Clone()
		rt = c.own
	}
	c.hc = &http.Client{Transport: rt, Jar: c.jar}
	c.exts = append([]Extension(nil), opts.Extensions...)
	if opts.AckExtension {
		c.exts = append(c.exts, NewAckExtension())
	}
	close(c.term) // not running yet
	c.disp = newDispatcher(c.log)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.disp.run(c.done)
	}()
	if opts.OnState != nil {
		c.AddStateListener(opts.OnState)
	}
	return c, nil
}

func initialAdvice() *Advice {
	return &Advice{Reconnect: ReconnectRetry, Interval: Ms(0), Timeout: Ms(DefaultHandshakeTimeout), MaxInterval: Ms(0)}
}

// ClientID returns the current session id ("" when there is none).
func (c *Client) ClientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientID
}

// Transport returns the negotiated connection type ("" before the first handshake).
func (c *Client) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Advice returns a copy of the last advice received (merged field by field).
func (c *Client) Advice() *Advice {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.advice.Clone()
}

// Handshake starts the client: it negotiates a session and starts the connect loop,
// which keeps it connected until Disconnect, Close, or a terminal condition. It returns
// once the first handshake succeeded, or with the terminal error (ErrHandshakeFailed,
// ErrReconnectNone, a *ReplyError of the last failed handshake wrapped in them), or with
// ctx's error, in which case the client keeps trying in the background until Close.
// Calling it while the client runs waits for a session.
func (c *Client) Handshake(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.running {
		c.mu.Unlock()
		_, err := c.waitSession(ctx)
		return err
	}
	c.running = true
	c.termErr = nil
	c.term = make(chan struct{})
	c.handshakes = 0
	first := make(chan error, 1)
	c.firstResult = first
	lctx, cancel := context.WithCancel(context.Background())
	c.loopCancel = cancel
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		c.loop(lctx)
	}()
	select {
	case err := <-first:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitSession waits until a session and a usable transport exist.
func (c *Client) waitSession(ctx context.Context) (string, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return "", ErrClosed
		}
		if !c.running {
			err := c.termErr
			c.mu.Unlock()
			if err == nil {
				err = ErrNotConnected
			}
			return "", err
		}
		ready, term := c.ready, c.term
		id := c.clientID
		select {
		case <-ready:
			c.mu.Unlock()
			return id, nil
		default:
		}
		c.mu.Unlock()
		select {
		case <-ready:
		case <-term:
		case <-ctx.Done():
			return "", ctx.Err()
		case <-c.done:
			return "", ErrClosed
		}
	}
}

func (c *Client) newID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	return strconv.FormatUint(c.nextID, 10)
}

// Publish sends data on channel and waits for the server's acknowledgement. data is
// encoded with encoding/json unless it is a json.RawMessage or []byte holding JSON. An
// unsuccessful acknowledgement returns the reply and a *ReplyError. Publishes made
// while the client (re-)handshakes wait for the session.
func (c *Client) Publish(ctx context.Context, channel string, data any) (*Message, error) {
	if err := ValidateChannel(channel); err != nil {
		return nil, err
	}
	if IsMetaChannel(channel) || IsWildcard(channel) {
		return nil, fmt.Errorf("%w %q: cannot publish on a meta or wildcard channel", ErrBadChannel, channel)
	}
	raw, err := encodeData(data)
	if err != nil {
		return nil, err
	}
	return c.publish(ctx, &Message{Channel: channel, Data: raw}, nil)
}

func (c *Client) publish(ctx context.Context, m *Message, beforeSend func()) (*Message, error) {
	id, err := c.waitSession(ctx)
	if err != nil {
		return nil, err
	}
	m.ClientID = id
	if beforeSend != nil {
		beforeSend()
	}
	rep, err := c.call(ctx, m, c.opts.MaxNetworkDelay)
	if err != nil {
		return nil, err
	}
	if !rep.Successful {
		c.afterFailedReply(rep)
		return rep, replyError(rep)
	}
	return rep, nil
}

// afterFailedReply applies a failed publish/subscribe reply's advice: "handshake"
// re-handshakes; 401/402 without advice re-handshakes when no connect is outstanding
// (otherwise the connect loop finds out).
func (c *Client) afterFailedReply(rep *Message) {
	c.adoptAdvice(rep.Advice)
	action := ""
	if rep.Advice != nil {
		action = rep.Advice.ForTransport(c.Transport()).Reconnect
	}
	if action == "" {
		code := ParseError(rep.Error).Code
		c.mu.Lock()
		outstanding := c.connecting
		c.mu.Unlock()
		if (code == 401 || code == 402) && !outstanding {
			action = ReconnectHandshake
		}
	}
	if action == ReconnectHandshake {
		c.poke(ReconnectHandshake)
	}
}

// poke wakes the connect loop with an action.
func (c *Client) poke(action string) {
	select {
	case c.kick <- action:
	default:
	}
}

// Disconnect sends /meta/disconnect (best effort, bounded by ctx and MaxNetworkDelay),
// stops the connect loop and closes the connection. The client can Handshake again.
func (c *Client) Disconnect(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	id, running := c.clientID, c.running
	ready := c.ready
	c.mu.Unlock()
	var err error
	c.mu.Lock()
	c.disconnecting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.disconnecting = false
		c.mu.Unlock()
	}()
	if running && id != "" && isClosed(ready) {
		var rep *Message
		rep, err = c.call(ctx, &Message{Channel: ChannelDisconnect, ClientID: id}, c.opts.MaxNetworkDelay)
		if err == nil && !rep.Successful {
			err = replyError(rep)
		}
	}
	c.stop(nil)
	return err
}

// Close stops the client without telling the server and releases everything it owns.
// It waits for the client's goroutines to end.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.stop(nil)
		close(c.done)
		if c.own != nil {
			c.own.CloseIdleConnections()
		}
	})
	c.wg.Wait()
	return nil
}

// stop ends the connect loop, the session and the socket, and emits EventTerminated.
func (c *Client) stop(termErr error) {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return
	}
	cancel := c.loopCancel
	term := c.term
	c.mu.Unlock()
	cancel()
	<-term // the loop has ended (it calls finish)
	c.mu.Lock()
	if c.termErr == nil {
		c.termErr = termErr
	}
	c.mu.Unlock()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (c *Client) prefers(t string) bool { return slices.Contains(c.opts.Transports, t) }
