package webchatservice_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cxbus/webchat/bus"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	_ "github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 20 * time.Second

// fastScript: routing at once, an agent "Alex" joins without delay.
func fastSimOptions() simpc.Options {
	return simpc.Options{
		RoutingDelay:      -1,
		AlertDelay:        -1,
		AnswerDelay:       -1,
		CloseGrace:        -1,
		HeartbeatInterval: 100 * time.Millisecond,
		Script:            &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}},
	}
}

func startSim(t testing.TB, o simpc.Options) *simpc.Server {
	t.Helper()
	s, err := simpc.Start("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// pureCloudConfig is a Widgets webchat config pointing at the simulator.
func pureCloudConfig(url string, extra map[string]any) map[string]any {
	cfg := map[string]any{
		"transport": map[string]any{
			"type":                           "purecloud-v2-sockets",
			"dataURL":                        url,
			"deploymentKey":                  "deployment-1",
			"orgGuid":                        "org-1",
			"interactionData":                map[string]any{"routing": map[string]any{"targetType": "QUEUE", "targetAddress": "Chat Queue"}},
			"socketHeartbeatTrackerInterval": 3000,
			"socketReconnectInterval":        100,
			"transferConfirmDelay":           200,
		},
		"userData": map[string]any{"source": "test"},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// session is a bus + service + event recorder.
type session struct {
	t   testing.TB
	bus *bus.Bus
	svc *webchatservice.Service
	rec *recorder
	app *bus.Plugin
}

func newSession(t testing.TB, opts webchatservice.Options) *session {
	t.Helper()
	b := bus.New(bus.Options{})
	rec := &recorder{ch: make(chan bus.Event, 4096)}
	app, err := b.RegisterPlugin("TestApp")
	if err != nil {
		t.Fatal(err)
	}
	// Subscribe before the service exists so nothing is missed.
	if _, err := app.Subscribe("WebChatService.>", rec.add); err != nil {
		t.Fatal(err)
	}
	svc, err := webchatservice.New(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, bus: b, svc: svc, rec: rec, app: app}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("service close: %v", err)
		}
		if err := b.Close(ctx); err != nil {
			t.Errorf("bus close: %v", err)
		}
	})
	return s
}

func (s *session) cmd(name string, opts any) (any, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return s.app.Command(ctx, "WebChatService."+name, opts)
}

func (s *session) must(name string, opts any) any {
	s.t.Helper()
	v, err := s.cmd(name, opts)
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// recorder keeps every WebChatService event in order.
type recorder struct {
	mu     sync.Mutex
	events []bus.Event
	ch     chan bus.Event
}

func (r *recorder) add(e bus.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.ch <- e:
	default:
	}
}

func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Name[len("WebChatService."):]
	}
	return out
}

// waitFor waits for the next event named name (later than any returned before) and returns it.
func (s *session) waitFor(name string) bus.Event {
	s.t.Helper()
	return s.waitMatch(name, func(bus.Event) bool { return true })
}

func (s *session) waitMatch(name string, ok func(bus.Event) bool) bus.Event {
	s.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-s.rec.ch:
			if e.Name == "WebChatService."+name && ok(e) {
				return e
			}
		case <-deadline:
			s.t.Fatalf("timed out waiting for %s; events so far: %v", name, s.rec.names())
		}
	}
}

// messagesText waits until the transcript holds a message with text.
func (s *session) waitMessage(text string) webchatservice.MessageReceived {
	s.t.Helper()
	e := s.waitMatch(webchatservice.EventMessageReceived, func(e bus.Event) bool {
		for _, m := range e.Data.(webchatservice.MessageReceived).Messages {
			if m.Text == text {
				return true
			}
		}
		return false
	})
	return e.Data.(webchatservice.MessageReceived)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
