package gms

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
	"github.com/cxbus/webchat/transports/transporttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const svc = "customer-support"

// waitLong bounds every wait: generous for a busy 2-core machine.
const waitLong = 30 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startSim starts a simulator without a scripted agent unless o.Script is set.
func startSim(t testing.TB, o simgms.Options) *simgms.Server {
	t.Helper()
	if o.Script == nil {
		o.Script = &simgms.Script{}
	}
	s, err := simgms.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func restConfig(s *simgms.Server) Config {
	return Config{DataURL: s.ChatURL(svc)}
}

func cometConfig(s *simgms.Server, websocket bool) Config {
	return Config{CometD: CometDConfig{Enabled: true, CometURL: s.CometDURL(), Channel: wire.ServiceChannel(svc),
		APIURL: s.NtfURL(), WebsocketEnabled: &websocket}}
}

// modes runs f for REST, CometD over WebSocket and CometD over long-polling.
func modes(t *testing.T, f func(t *testing.T, mk func(*simgms.Server) Config)) {
	t.Run("rest", func(t *testing.T) { f(t, restConfig) })
	t.Run("cometd-ws", func(t *testing.T) { f(t, func(s *simgms.Server) Config { return cometConfig(s, true) }) })
	t.Run("cometd-lp", func(t *testing.T) { f(t, func(s *simgms.Server) Config { return cometConfig(s, false) }) })
}

// counter counts requests by URL path suffix.
type counter struct {
	rt http.RoundTripper
	mu sync.Mutex
	n  map[string]int
	// started, when set, receives the path suffix of every request as it starts.
	started chan string
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	p := r.URL.Path
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[i+1:]
	}
	c.mu.Lock()
	c.n[p]++
	started := c.started
	c.mu.Unlock()
	if started != nil {
		select {
		case started <- p:
		default:
		}
	}
	return c.rt.RoundTrip(r)
}

func (c *counter) get(p string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[p]
}

// client is a transport under test with its recorder and request counter.
type client struct {
	*Transport
	rec  *transporttest.Recorder
	reqs *counter
}

// newClient builds a transport with its own HTTP client (idle connections
// closed at cleanup, so goleak sees none), fast timings, and an event recorder.
func newClient(t testing.TB, cfg Config, mod ...func(*transports.Options)) *client {
	t.Helper()
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	cnt := &counter{rt: base, n: map[string]int{}}
	opts := transports.Options{HTTPClient: &http.Client{Transport: cnt}}
	for _, m := range mod {
		m(&opts)
	}
	tr, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	fast(tr)
	rec := transporttest.Record(tr)
	t.Cleanup(func() {
		_ = tr.Close()
		<-rec.Done()
	})
	return &client{Transport: tr, rec: rec, reqs: cnt}
}

// fast shortens every interval (tests only; the config clamps to the Widgets ranges).
func fast(tr *Transport) {
	s := &tr.set
	s.pollRate, s.pollMin, s.pollMax = 40*time.Millisecond, 20*time.Millisecond, 60*time.Millisecond
	s.sendBackoff.Initial, s.sendBackoff.Max = 10*time.Millisecond, 100*time.Millisecond
	s.notifyRetry = 500 * time.Millisecond
	s.bayeuxBackoff = 20 * time.Millisecond
	s.rehandshakeDelay = 20 * time.Millisecond
	tr.poll.current = s.pollRate
}

var count = transporttest.Count

var messages = transporttest.Messages

func hasMessage(evs []transports.Event, typ transports.MessageType, who transports.ParticipantType, text string) bool {
	for _, m := range messages(evs) {
		if m.Type == typ && m.From.Type == who && (text == "" || m.Text == text) {
			return true
		}
	}
	return false
}

// msgWith is a waitFor condition: a message of type typ from who with text.
func msgWith(typ transports.MessageType, who transports.ParticipantType, text string) func([]transports.Event) bool {
	return func(evs []transports.Event) bool { return hasMessage(evs, typ, who, text) }
}

func hasKind(k transports.EventKind) func([]transports.Event) bool {
	return func(evs []transports.Event) bool { return count(evs, k) > 0 }
}

// startChat starts a chat as "Joan" and returns the simulator's chat.
func (c *client) startChat(t testing.TB, ctx context.Context, s *simgms.Server) *simgms.Chat {
	t.Helper()
	sd, err := c.Start(ctx, transports.StartRequest{Nickname: "Joan", Subject: "Savings", UserData: map[string]any{"customerId": 42}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if sd.Get(KeySessionID) == "" || sd.Get(KeySecureKey) == "" || !sd.IsSecret(KeySecureKey) {
		t.Fatalf("session data %v", sd)
	}
	chat, err := s.WaitChat(ctx, sd.Get(KeySessionID))
	if err != nil {
		t.Fatal(err)
	}
	c.rec.WaitFor(t, "client joined", msgWith(transports.TypeParticipantJoined, transports.ParticipantClient, ""))
	return chat
}

// checkTranscript asserts that every event of the simulator's transcript up
// to the last delivered index was delivered exactly once, in order.
func checkTranscript(t testing.TB, c *client, chat *simgms.Chat) {
	t.Helper()
	msgs := messages(c.rec.Events())
	seen := map[int64]int{}
	var last int64
	for _, m := range msgs {
		seen[m.Index]++
		if m.Index <= last {
			t.Errorf("index %d delivered after %d (order or duplicate)", m.Index, last)
		}
		last = m.Index
		if want := chat.ID() + ":" + itoa(m.Index); m.ID != want {
			t.Errorf("message id %q, want %q", m.ID, want)
		}
	}
	var missing []int64
	for _, e := range chat.Transcript() {
		if int64(e.Index) > last {
			continue
		}
		if seen[int64(e.Index)] == 0 {
			missing = append(missing, int64(e.Index))
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	if len(missing) > 0 {
		t.Errorf("lost events with indexes %v", missing)
	}
}

// waitIndex waits until the transport delivered the simulator's last index.
func waitIndex(t testing.TB, c *client, chat *simgms.Chat) {
	t.Helper()
	tr := chat.Transcript()
	want := int64(tr[len(tr)-1].Index)
	c.rec.WaitFor(t, "index "+itoa(want), func(evs []transports.Event) bool {
		ms := messages(evs)
		return len(ms) > 0 && ms[len(ms)-1].Index >= want
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// syncBuffer is a bytes.Buffer safe for concurrent writers (log sinks).
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// startModeChat is the usual start of a mode test: a fresh simulator with o, a client for the
// mode's configuration and a started chat.
func startModeChat(t *testing.T, mk func(*simgms.Server) Config, o simgms.Options) (context.Context, *simgms.Server, *client, *simgms.Chat) {
	t.Helper()
	ctx := testCtx(t)
	s := startSim(t, o)
	c := newClient(t, mk(s))
	return ctx, s, c, c.startChat(t, ctx, s)
}
