package webchatservice_test

// Shared helpers of the Resolutions, events, restore, outbox and host tests: an ordered event
// log that can be searched from any point (the harness's recorder consumes events), a session
// wrapper with a barrier, exact-rejection checks and chat set-ups against the simulator.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

// evlog keeps every WebChatService event (not data events) in publish order.
type evlog struct {
	mu     sync.Mutex
	events []bus.Event
	notify chan struct{} // closed and replaced on every add
}

func newEvlog() *evlog { return &evlog{notify: make(chan struct{})} }

func (l *evlog) add(e bus.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
}

func short(name string) string { return strings.TrimPrefix(name, webchatservice.PluginName+".") }

// names returns the short names of the events logged so far.
func (l *evlog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.events))
	for i, e := range l.events {
		out[i] = short(e.Name)
	}
	return out
}

// all returns the events named name, in order.
func (l *evlog) all(name string) []bus.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []bus.Event
	for _, e := range l.events {
		if short(e.Name) == name {
			out = append(out, e)
		}
	}
	return out
}

func (l *evlog) count(name string) int { return len(l.all(name)) }

// len returns the number of events logged so far (a position for waitFrom).
func (l *evlog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// findFrom returns the first event named name at position ≥ from, if any has arrived.
func (l *evlog) findFrom(from int, name string) (bus.Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := from; i < len(l.events); i++ {
		if short(l.events[i].Name) == name {
			return l.events[i], true
		}
	}
	return bus.Event{}, false
}

// waitFrom waits for the first event named name at position ≥ from that satisfies ok, and
// returns it with its position.
func (l *evlog) waitFrom(t testing.TB, from int, name string, ok func(bus.Event) bool) (bus.Event, int) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for i := from; i < len(l.events); i++ {
			e := l.events[i]
			if short(e.Name) == name && (ok == nil || ok(e)) {
				l.mu.Unlock()
				return e, i
			}
		}
		ch := l.notify
		l.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; events: %v", name, l.names())
			return bus.Event{}, -1
		}
	}
}

// ts is a session under test: a bus, the service, an app plugin and the event log.
type ts struct {
	t   testing.TB
	bus *bus.Bus
	svc *webchatservice.Service
	app *bus.Plugin
	log *evlog
	cli *webchatservice.Client
}

// newTS builds a session whose app plugin logs every event from before the service exists.
func newTS(t testing.TB, opts webchatservice.Options) *ts {
	t.Helper()
	s, err := openTS(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openTS(t testing.TB, opts webchatservice.Options) (*ts, error) {
	t.Helper()
	b := bus.New(bus.Options{})
	app, err := b.RegisterPlugin("TestApp")
	if err != nil {
		t.Fatal(err)
	}
	log := newEvlog()
	if _, err := app.Subscribe("WebChatService.*", log.add); err != nil {
		t.Fatal(err)
	}
	svc, err := webchatservice.New(b, opts)
	if err != nil {
		b.Close(context.Background())
		return nil, err
	}
	s := &ts{t: t, bus: b, svc: svc, app: app, log: log, cli: webchatservice.NewClient(app)}
	t.Cleanup(func() { s.close() })
	return s, nil
}

// close closes the service and the bus (idempotent; also run at cleanup).
func (s *ts) close() {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.svc.Close(ctx); err != nil && !errors.Is(err, bus.ErrClosed) {
		s.t.Errorf("service close: %v", err)
	}
	if err := s.bus.Close(ctx); err != nil && !errors.Is(err, bus.ErrClosed) {
		s.t.Errorf("bus close: %v", err)
	}
}

// cmd issues a command as the app plugin.
func (s *ts) cmd(name string, opts any) (any, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return s.app.Command(ctx, webchatservice.PluginName+"."+name, opts)
}

func (s *ts) must(name string, opts any) any {
	s.t.Helper()
	v, err := s.cmd(name, opts)
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// self issues a command as WebChatService itself (private commands).
func (s *ts) self(name string, opts any) (any, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return s.svc.Plugin().Command(ctx, webchatservice.PluginName+"."+name, opts)
}

// sync returns once every event the service published before now has been logged: a command
// round trip through the service's mailbox, then one through the app's.
func (s *ts) sync() {
	s.t.Helper()
	if _, err := s.cmd(webchatservice.CmdGetAgents, nil); err != nil {
		s.t.Fatalf("sync: %v", err)
	}
	done := make(chan struct{})
	if err := s.app.Post(func() { close(done) }); err != nil {
		s.t.Fatalf("sync: %v", err)
	}
	select {
	case <-done:
	case <-time.After(wait):
		s.t.Fatal("sync: app mailbox stuck")
	}
}

func (s *ts) wait(name string) bus.Event {
	s.t.Helper()
	e, _ := s.log.waitFrom(s.t, 0, name, nil)
	return e
}

// waitMsg waits for a messageReceived carrying text (restoring as given) and returns it.
func (s *ts) waitMsg(text string, restoring bool) webchatservice.MessageReceived {
	s.t.Helper()
	e, _ := s.log.waitFrom(s.t, 0, webchatservice.EventMessageReceived, func(e bus.Event) bool {
		mr := e.Data.(webchatservice.MessageReceived)
		return mr.Restoring == restoring && hasText(mr.Messages, text)
	})
	return e.Data.(webchatservice.MessageReceived)
}

func hasText(ms []webchatservice.Message, text string) bool {
	for _, m := range ms {
		if m.Text == text {
			return true
		}
	}
	return false
}

// received counts, over every messageReceived so far with the given restoring flag, how often
// each text was delivered.
func (s *ts) received(restoring bool) map[string]int {
	out := map[string]int{}
	for _, e := range s.log.all(webchatservice.EventMessageReceived) {
		mr := e.Data.(webchatservice.MessageReceived)
		if mr.Restoring != restoring || mr.OldMessages {
			continue
		}
		for _, m := range mr.Messages {
			if m.Type == "Message" {
				out[m.Text]++
			}
		}
	}
	return out
}

// rejects checks an exact contract rejection: errors.Is the sentinel and the exact text.
func rejects(t testing.TB, err, sentinel error, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("resolved; want rejection %q", text)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("errors.Is(%v, %v) = false", err, sentinel)
	}
	if err.Error() != text {
		t.Errorf("rejection text\n got %q\nwant %q", err.Error(), text)
	}
}

// offlineConfig is a Genesys Cloud configuration whose server is never contacted (for rows
// that settle before any server call).
func offlineConfig(extra map[string]any) map[string]any {
	return pureCloudConfig("http://127.0.0.1:9", extra)
}

// active starts a chat against sim and waits until the agent has joined.
func active(t testing.TB, sim *simpc.Server, opts webchatservice.Options) (*ts, *simpc.Conversation) {
	t.Helper()
	s := newTS(t, opts)
	s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.wait(webchatservice.EventAgentConnected)
	return s, conv
}

// pcOptions is Options for a session against sim with the extra config.
func pcOptions(sim *simpc.Server, extra map[string]any) webchatservice.Options {
	return webchatservice.Options{Config: pureCloudConfig(sim.URL, extra)}
}

// waitConv waits until cond holds on the simulated conversation.
func waitConv(t testing.TB, conv *simpc.Conversation, what string, cond func(*simpc.Conversation) bool) {
	t.Helper()
	if err := conv.Wait(ctxT(t), cond); err != nil {
		t.Fatalf("simulator: waiting for %s: %v", what, err)
	}
}

// guestCount is how often text appears among the guest's messages on the server.
func guestCount(conv *simpc.Conversation, text string) int {
	n := 0
	for _, m := range conv.GuestMessages() {
		if m == text {
			n++
		}
	}
	return n
}
