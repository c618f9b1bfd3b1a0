package bayeux

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const waitLong = 15 * time.Second

// events records a client's state events.
type events struct {
	mu   sync.Mutex
	all  []StateEvent
	wake chan struct{}
}

func newEvents() *events { return &events{wake: make(chan struct{}, 1)} }

func (e *events) add(ev StateEvent) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *events) count(k StateKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

// waitFor waits until n events of kind k were seen.
func (e *events) waitFor(t *testing.T, k StateKind, n int) {
	t.Helper()
	deadline := time.After(waitLong)
	for e.count(k) < n {
		select {
		case <-e.wake:
		case <-deadline:
			e.mu.Lock()
			defer e.mu.Unlock()
			t.Fatalf("timed out waiting for %d %v events; got %+v", n, k, e.all)
		}
	}
}

type testEnv struct {
	srv *Server
	hs  *httptest.Server
	url string
}

func newTestEnv(t *testing.T, opts ServerOptions) *testEnv {
	t.Helper()
	srv := NewServer(opts)
	srv.HandleService("/service/echo", func(ctx context.Context, s *ServerSession, m *Message) error {
		return s.Deliver(m.Channel, m.Data)
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		srv.Close()
		hs.Close()
	})
	return &testEnv{srv: srv, hs: hs, url: hs.URL + "/cometd"}
}

func newTestClient(t *testing.T, url string, opts Options) (*Client, *events) {
	t.Helper()
	ev := newEvents()
	opts.OnState = ev.add
	if opts.BackoffIncrement == 0 {
		opts.BackoffIncrement = 20 * time.Millisecond
	}
	c, err := NewClient(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ev
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	t.Cleanup(cancel)
	return ctx
}

var transportCases = []struct {
	name       string
	transports []string
}{
	{"websocket", []string{TransportWebSocket, TransportLongPolling}},
	{"long-polling", []string{TransportLongPolling}},
}

func TestClientServiceRequest(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, ServerOptions{Timeout: 2 * time.Second})
			c, ev := newTestClient(t, env.url, Options{Transports: tc.transports})
			ctx := ctxT(t)
			if err := c.Handshake(ctx); err != nil {
				t.Fatal(err)
			}
			if got := c.Transport(); got != tc.transports[0] {
				t.Fatalf("transport %q, want %q", got, tc.transports[0])
			}
			ev.waitFor(t, EventConnected, 1)
			for i := range 5 {
				rep, err := c.Request(ctx, "/service/echo", map[string]int{"n": i}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var got map[string]int
				if err := rep.DataAs(&got); err != nil || got["n"] != i {
					t.Fatalf("reply %s, err %v", rep.Data, err)
				}
			}
			if err := c.Disconnect(ctx); err != nil {
				t.Fatal(err)
			}
			ev.waitFor(t, EventTerminated, 1)
			if len(env.srv.Sessions()) != 0 {
				t.Fatalf("server still has sessions after disconnect")
			}
		})
	}
}

func TestClientBroadcastSubscribe(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, ServerOptions{Timeout: 2 * time.Second})
			c, _ := newTestClient(t, env.url, Options{Transports: tc.transports})
			ctx := ctxT(t)
			if err := c.Handshake(ctx); err != nil {
				t.Fatal(err)
			}
			got := make(chan string, 10)
			sub, err := c.Subscribe(ctx, "/chat/*", func(m *Message) {
				var s string
				_ = json.Unmarshal(m.Data, &s)
				got <- m.Channel + "=" + s
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Publish(ctx, "/chat/room", "hello"); err != nil {
				t.Fatal(err)
			}
			if n, err := env.srv.Publish("/chat/lobby", "from server"); err != nil || n != 1 {
				t.Fatalf("server publish reached %d, err %v", n, err)
			}
			want := map[string]bool{"/chat/room=hello": true, "/chat/lobby=from server": true}
			for range 2 {
				select {
				case s := <-got:
					if !want[s] {
						t.Fatalf("unexpected delivery %q", s)
					}
					delete(want, s)
				case <-time.After(waitLong):
					t.Fatalf("missing deliveries %v", want)
				}
			}
			if err := sub.Unsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			if n, _ := env.srv.Publish("/chat/lobby", "x"); n != 0 {
				t.Fatalf("delivered to %d after unsubscribe", n)
			}
		})
	}
}

func TestClientRehandshakeAfterServerForgets(t *testing.T) {
	for _, tc := range transportCases {
		for _, text := range []string{"402::Unknown client", "402::session_unknown", "401:abc:Unknown client"} {
			t.Run(tc.name+"/"+text, func(t *testing.T) {
				env := newTestEnv(t, ServerOptions{Timeout: 5 * time.Second, UnknownSessionError: text})
				c, ev := newTestClient(t, env.url, Options{Transports: tc.transports})
				ctx := ctxT(t)
				if err := c.Handshake(ctx); err != nil {
					t.Fatal(err)
				}
				got := make(chan struct{}, 10)
				if _, err := c.Subscribe(ctx, "/news", func(*Message) { got <- struct{}{} }); err != nil {
					t.Fatal(err)
				}
				ev.waitFor(t, EventConnected, 1)
				first := c.ClientID()
				if !env.srv.ForgetSession(first) {
					t.Fatal("session not found")
				}
				ev.waitFor(t, EventReestablished, 1)
				if c.ClientID() == first || c.ClientID() == "" {
					t.Fatalf("client id %q after re-handshake (was %q)", c.ClientID(), first)
				}
				// The subscription was sent again.
				if n, _ := env.srv.Publish("/news", 1); n != 1 {
					t.Fatalf("re-subscription missing: publish reached %d", n)
				}
				select {
				case <-got:
				case <-time.After(waitLong):
					t.Fatal("no delivery after re-handshake")
				}
				if _, err := c.Request(ctx, "/service/echo", "x", nil); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestClientPublishUnknownSessionReported(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 5 * time.Second})
	c, ev := newTestClient(t, env.url, Options{Transports: []string{TransportLongPolling}})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, EventConnected, 1)
	// Forget the session without waking the held connect's reply path first: the
	// publish must fail with a typed error, then the client recovers.
	id := c.ClientID()
	env.srv.Session(id).end(CloseForgotten)
	_, err := c.Publish(ctx, "/service/echo", 1)
	if err != nil && !errors.Is(err, ErrSessionUnknown) {
		t.Fatalf("publish error %v, want ErrSessionUnknown or success after re-handshake", err)
	}
	ev.waitFor(t, EventReestablished, 1)
}

func TestClientWebSocketDropReconnects(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 5 * time.Second})
	c, ev := newTestClient(t, env.url, Options{})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, EventConnected, 1)
	id := c.ClientID()
	env.srv.DropConnections()
	ev.waitFor(t, EventDisconnected, 1)
	ev.waitFor(t, EventReconnected, 1)
	if c.ClientID() != id {
		t.Fatalf("client id changed after a socket drop: %q → %q", id, c.ClientID())
	}
	if ev.count(EventReestablished) != 0 {
		t.Fatal("a socket drop must not re-handshake")
	}
	if _, err := c.Request(ctx, "/service/echo", "after drop", nil); err != nil {
		t.Fatal(err)
	}
}

// A drop while no connect is outstanding (here: during the advised interval) is
// reported too, although the redial succeeds at once.
func TestClientWebSocketDropBetweenConnectsIsReported(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 5 * time.Second, Interval: time.Second})
	c, ev := newTestClient(t, env.url, Options{})
	if err := c.Handshake(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, EventConnected, 1)
	id := c.ClientID()
	env.srv.DropConnections()
	ev.waitFor(t, EventDisconnected, 1)
	ev.waitFor(t, EventReconnected, 1)
	if c.ClientID() != id || ev.count(EventReestablished) != 0 {
		t.Fatalf("a socket drop must keep the session: id %q → %q, re-established %d", id, c.ClientID(), ev.count(EventReestablished))
	}
	if n := ev.count(EventDisconnected); n != 1 {
		t.Fatalf("EventDisconnected fired %d times for one drop", n)
	}
}

func TestClientFallsBackToLongPolling(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 2 * time.Second})
	env.srv.SetRefuseWebSocket(true)
	c, ev := newTestClient(t, env.url, Options{})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Transport() != TransportLongPolling {
		t.Fatalf("transport %q, want long-polling", c.Transport())
	}
	ev.waitFor(t, EventConnected, 1)
	if _, err := c.Request(ctx, "/service/echo", 1, nil); err != nil {
		t.Fatal(err)
	}
}

func TestClientRetriesAfterHTTPFailures(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 300 * time.Millisecond})
	c, ev := newTestClient(t, env.url, Options{Transports: []string{TransportLongPolling}})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, EventConnected, 1)
	env.srv.FailRequests(3, 503)
	ev.waitFor(t, EventDisconnected, 1)
	ev.waitFor(t, EventReconnected, 1)
	if ev.count(EventDisconnected) != 1 {
		t.Fatalf("EventDisconnected fired %d times for one outage", ev.count(EventDisconnected))
	}
}

func TestClientHandshakeFailureCap(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	env.srv.FailRequests(1000, 500)
	c, ev := newTestClient(t, env.url, Options{Transports: []string{TransportLongPolling}, MaxConsecutiveHandshakeFailures: 3})
	err := c.Handshake(ctxT(t))
	if !errors.Is(err, ErrHandshakeFailed) {
		t.Fatalf("err %v, want ErrHandshakeFailed", err)
	}
	ev.waitFor(t, EventTerminated, 1)
}

func TestClientHandshakeDeniedIsTerminal(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Authorize: func(context.Context, *http.Request, *Message) error {
		return errors.New("no")
	}})
	c, _ := newTestClient(t, env.url, Options{})
	err := c.Handshake(ctxT(t))
	if !errors.Is(err, ErrReconnectNone) {
		t.Fatalf("err %v, want ErrReconnectNone", err)
	}
	var re *ReplyError
	if !errors.As(err, &re) || re.Err.Code != 403 {
		t.Fatalf("err %v: want a *ReplyError with code 403", err)
	}
}

func ctxDone(ctx context.Context) <-chan struct{} { return ctx.Done() }

func TestClientPublishWaitsForHandshake(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	env.srv.FailRequests(1_000_000, 503)
	clk := newFakeClock()
	clk.created = make(chan time.Duration, 64)
	c, _ := newTestClient(t, env.url, Options{Transports: []string{TransportLongPolling}, Clock: clk})
	ctx := ctxT(t)
	hsDone := make(chan error, 1)
	go func() { hsDone <- c.Handshake(ctx) }()
	<-clk.created // the client is backing off after a failed handshake
	pubDone := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, "/service/echo", "queued", nil)
		pubDone <- err
	}()
	env.srv.FailRequests(0, 0)
	clk.Advance(time.Hour)
	if err := <-hsDone; err != nil {
		t.Fatal(err)
	}
	if err := <-pubDone; err != nil {
		t.Fatalf("request made while handshaking: %v", err)
	}
}

func TestClientRequestMatchAndTimeout(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	env.srv.HandleService("/service/multi", func(ctx context.Context, s *ServerSession, m *Message) error {
		for _, v := range []string{"progress", "done"} {
			if err := s.Deliver(m.Channel, v); err != nil {
				return err
			}
		}
		return nil
	})
	env.srv.HandleService("/service/silent", func(context.Context, *ServerSession, *Message) error { return nil })
	c, _ := newTestClient(t, env.url, Options{MaxNetworkDelay: 300 * time.Millisecond})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Request(ctx, "/service/multi", nil, func(m *Message) bool { return string(m.Data) == `"done"` })
	if err != nil || string(rep.Data) != `"done"` {
		t.Fatalf("reply %v, err %v", rep, err)
	}
	if _, err := c.Request(ctx, "/service/silent", nil, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if _, err := c.Request(ctx, "/chat/x", nil, nil); !errors.Is(err, ErrBadChannel) {
		t.Fatalf("err %v, want ErrBadChannel", err)
	}
	if _, err := c.Publish(ctx, "/meta/connect", nil); !errors.Is(err, ErrBadChannel) {
		t.Fatalf("err %v, want ErrBadChannel", err)
	}
}

func TestClientOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts Options
		want string
	}{
		{"ftp://x/cometd", Options{}, "scheme"},
		{"http:///cometd", Options{}, "no host"},
		{"http://x/cometd", Options{Transports: []string{"callback-polling"}}, "unsupported transport"},
		{"http://x/cometd", Options{MaxConsecutiveHandshakeFailures: -1}, "MaxConsecutiveHandshakeFailures"},
	} {
		c, err := NewClient(tc.url, tc.opts)
		if err == nil {
			c.Close()
			t.Fatalf("%s %+v: no error", tc.url, tc.opts)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("err %v, want it to mention %q", err, tc.want)
		}
	}
	c, err := NewClient("http://127.0.0.1:1/cometd", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(context.Background(), "/a", 1); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("publish before handshake: %v", err)
	}
	c.Close()
	if err := c.Handshake(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("handshake after close: %v", err)
	}
}
