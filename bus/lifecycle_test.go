package bus

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoader(t *testing.T) {
	b := newBus(t, Options{})
	var loads atomic.Int32
	var intercepted atomic.Int32
	b.Before("Lazy.hello", func(ctx context.Context, o any) (any, error) { intercepted.Add(1); return o, nil })
	b.RegisterLoader("Lazy", func(ctx context.Context, b *Bus) error {
		loads.Add(1)
		p, err := b.RegisterPlugin("Lazy")
		if err != nil {
			return err
		}
		p.RegisterCommand("hello", func(ctx context.Context, c *Call) (any, error) { return "hi " + c.Commander, nil })
		return p.Ready()
	})
	caller := register(t, b, "Caller")
	var rs []*Result
	for range 5 {
		rs = append(rs, caller.CommandAsync(ctxT(t), "Lazy.hello", nil))
	}
	for _, r := range rs {
		if v, err := r.Wait(ctxT(t)); v != "hi Caller" || err != nil {
			t.Fatal(v, err)
		}
	}
	if loads.Load() != 1 || intercepted.Load() != 5 {
		t.Fatalf("loads=%d intercepted=%d", loads.Load(), intercepted.Load())
	}
	b.RegisterLoader("Broken", func(ctx context.Context, b *Bus) error { return errors.New("no such file") })
	_, err := b.Command(ctxT(t), "Broken.x", nil)
	if !errors.Is(err, ErrPluginNotFound) || err.Error() != "Plugin could not be loaded: Broken: no such file" {
		t.Fatalf("got %v", err)
	}
	b.RegisterLoader("Lazy2", func(ctx context.Context, b *Bus) error { return nil }) // registers nothing
	_, err = b.Command(ctxT(t), "Lazy2.x", nil)
	wantReject(t, err, "Plugin is not registered: Lazy2", ErrPluginNotFound)
}

func TestDeregister(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Gone")
	p.RegisterCommand("slow", func(ctx context.Context, c *Call) (any, error) { c.Defer(); return nil, nil })
	p.Republish("ready", nil)
	p.Set("k", "v")
	watcher := register(t, b, "Watcher")
	got := make(chan Event, 10)
	watcher.Subscribe("Gone.ready", func(e Event) { got <- e })
	recv(t, got)
	p.Subscribe("Watcher.ping", func(e Event) { t.Error("deregistered plugin's subscription ran") })
	p.Before("Watcher.cmd", func(ctx context.Context, o any) (any, error) { return nil, nil })

	// One deferred (self-call before ready delivers), one buffered.
	inflight := p.CommandAsync(ctxT(t), "slow", nil)
	drain(t, b)
	buffered := watcher.CommandAsync(ctxT(t), "Gone.slow", nil)
	drain(t, b)
	p.Deregister()
	p.Deregister() // idempotent
	for _, r := range []*Result{inflight, buffered} {
		_, err := r.Wait(ctxT(t))
		wantReject(t, err, "Plugin was deregistered: Gone", ErrPluginDeregistered)
	}
	if _, err := b.Command(ctxT(t), "Gone.slow", nil); !errors.Is(err, ErrPluginNotFound) {
		t.Fatalf("after deregister: %v", err)
	}
	if len(b.Retained()) != 0 {
		t.Fatalf("retained %v", b.Retained())
	}
	if _, ok := watcher.Get("Gone.k"); ok {
		t.Fatal("data still readable")
	}
	watcher.RegisterCommand("cmd", echo)
	watcher.Ready()
	watcher.Publish("ping", nil)
	if _, err := b.Command(ctxT(t), "Watcher.cmd", nil); err != nil {
		t.Fatalf("interceptor of deregistered plugin still active: %v", err)
	}
	if err := p.Publish("x", nil); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("publish after deregister: %v", err)
	}
	if _, err := p.Subscribe("A.b", func(Event) {}); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("subscribe after deregister: %v", err)
	}
	if err := p.RegisterCommand("z", echo); !errors.Is(err, ErrNotRegistered) {
		t.Fatal(err)
	}
	// The name is free again.
	if _, err := b.RegisterPlugin("Gone"); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
}

func TestUnregisterCommand(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	p.RegisterCommand("wait", func(ctx context.Context, c *Call) (any, error) { c.Defer(); return nil, nil })
	p.Ready()
	r := b.CommandAsync(ctxT(t), "P.wait", nil)
	drain(t, b)
	p.UnregisterCommand("wait")
	_, err := r.Wait(ctxT(t))
	wantReject(t, err, "Command does not exist: P.wait", ErrCommandNotFound)
	_, err = b.Command(ctxT(t), "P.wait", nil)
	wantReject(t, err, "Command does not exist: P.wait", ErrCommandNotFound)
	// Re-registering replaces the handler.
	p.RegisterCommand("x", func(ctx context.Context, c *Call) (any, error) { return 1, nil })
	p.RegisterCommand("x", func(ctx context.Context, c *Call) (any, error) { return 2, nil })
	if v, _ := b.Command(ctxT(t), "P.x", nil); v != 2 {
		t.Fatal(v)
	}
}

func TestRegisterPlugin(t *testing.T) {
	b := newBus(t, Options{})
	register(t, b, "One")
	cases := map[string]string{
		"One":    "Plugin name is already taken: One",
		"CXBus":  "Plugin name is already taken: CXBus",
		"":       "Invalid plugin name: ",
		"a.b":    "Invalid plugin name: a.b",
		"a b":    "Invalid plugin name: a b",
		"x*":     "Invalid plugin name: x*",
		"x>":     "Invalid plugin name: x>",
		"\tTabs": "Invalid plugin name: \tTabs",
	}
	for name, text := range cases {
		_, err := b.RegisterPlugin(name)
		if err == nil || err.Error() != text {
			t.Errorf("%q: got %v, want %q", name, err, text)
		}
	}
	b.LockRegistration()
	_, err := b.RegisterPlugin("Two")
	wantReject(t, err, "Registration is locked.", ErrLocked)
	b.UnlockRegistration()
	register(t, b, "Two")
	if err := b.Plugin("Two").RegisterCommand("a.b", echo); !errors.Is(err, ErrInvalidName) {
		t.Fatal(err)
	}
	if err := b.Plugin("Two").RegisterCommand("ok", nil); !errors.Is(err, ErrNilFunc) {
		t.Fatal(err)
	}
}

func TestRegistryAndStats(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "WebChatService")
	p.RegisterCommand("startChat", echo)
	p.RegisterCommand("endChat", echo)
	p.RegisterEvents("ready", "started", "ready")
	reg := b.Registry()
	want := PluginInfo{Events: []string{"ready", "started"}, Commands: []string{"endChat", "startChat"}}
	if !reflect.DeepEqual(reg["WebChatService"], want) {
		t.Fatalf("registry %+v", reg["WebChatService"])
	}
	if _, ok := reg[CXBusName]; !ok {
		t.Fatal("CXBus not in registry")
	}
	if err := p.RegisterEvents("bad.*"); !errors.Is(err, ErrInvalidName) {
		t.Fatal(err)
	}
}

func TestHandlerPanicReportedAndPluginKeepsRunning(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	p.RegisterCommand("boom", func(ctx context.Context, c *Call) (any, error) { panic("x") })
	p.RegisterCommand("ok", echo)
	p.Ready()
	errs := make(chan Event, 4)
	b.Subscribe("CXBus.error", func(e Event) { errs <- e })
	_, err := b.Command(ctxT(t), "P.boom", nil)
	wantReject(t, err, "Command handler panicked: P.boom", ErrHandlerPanic)
	e := recv(t, errs).Data.(ErrorEvent)
	if e.Kind != "panic" || e.Plugin != "P" || e.Name != "P.boom" {
		t.Fatalf("error event %+v", e)
	}
	if _, err := b.Command(ctxT(t), "P.ok", nil); err != nil {
		t.Fatal(err)
	}
}

func TestClose(t *testing.T) {
	b := New(Options{})
	p := register(t, b, "P")
	started := make(chan struct{})
	release := make(chan struct{})
	p.RegisterCommand("block", func(ctx context.Context, c *Call) (any, error) {
		close(started)
		<-release
		return "finished", nil
	})
	p.RegisterCommand("defer", func(ctx context.Context, c *Call) (any, error) { c.Defer(); return nil, nil })
	p.Ready()
	deferred := b.CommandAsync(context.Background(), "P.defer", nil)
	b.Drain(ctxT(t))
	running := b.CommandAsync(context.Background(), "P.block", nil)
	<-started
	queued := b.CommandAsync(context.Background(), "P.defer", nil)
	register(t, b, "NotReady")
	buffered := b.CommandAsync(context.Background(), "NotReady.x", nil)

	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err := b.Close(closeCtx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close with a running handler: %v", err)
	}
	for _, r := range []*Result{deferred, queued, buffered, running} {
		_, err := r.Wait(ctxT(t))
		wantReject(t, err, "bus: closed", ErrClosed)
	}
	_, err = b.Command(ctxT(t), "P.defer", nil)
	wantReject(t, err, "bus: closed", ErrClosed)
	if err := p.Publish("x", nil); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := b.RegisterPlugin("New"); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	close(release)
	if err := b.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestMailboxLimitRefusesVisibly(t *testing.T) {
	b := newBus(t, Options{MailboxLimit: 3, MailboxWarn: 3})
	p := register(t, b, "Slow")
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	p.RegisterCommand("block", func(ctx context.Context, c *Call) (any, error) { started <- struct{}{}; <-release; return nil, nil })
	p.Ready()
	var reports []ErrorEvent
	var mu sync.Mutex
	b.Subscribe("CXBus.error", func(e Event) { mu.Lock(); reports = append(reports, e.Data.(ErrorEvent)); mu.Unlock() })
	first := b.CommandAsync(ctxT(t), "Slow.block", nil)
	recv(t, started) // the mailbox is now empty, its goroutine blocked in the handler
	// Fill the mailbox behind the blocked handler.
	var rs []*Result
	for range 4 {
		rs = append(rs, b.CommandAsync(ctxT(t), "Slow.block", nil))
	}
	full := 0
	for _, r := range rs {
		select {
		case <-r.Done():
			_, err := r.Wait(ctxT(t))
			if !errors.Is(err, ErrMailboxFull) {
				t.Fatalf("got %v", err)
			}
			full++
		default:
		}
	}
	if full != 1 {
		t.Fatalf("%d calls refused at the mailbox limit, want 1", full)
	}
	close(release)
	first.Wait(ctxT(t))
	drain(t, b)
	mu.Lock()
	defer mu.Unlock()
	kinds := map[string]bool{}
	for _, r := range reports {
		kinds[r.Kind] = true
	}
	if !kinds["mailboxFull"] || !kinds["mailboxWarning"] {
		t.Fatalf("reports %+v", reports)
	}
	if s := b.Stats()["Slow"]; s.Refused == 0 || s.MaxMailboxDepth < 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestManyConcurrentCallers(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Counter")
	n := 0
	p.RegisterCommand("inc", func(ctx context.Context, c *Call) (any, error) { n++; return n, nil })
	p.Ready()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if _, err := b.Command(ctxT(t), "Counter.inc", nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v, _ := b.Command(ctxT(t), "Counter.inc", nil); v != 1601 {
		t.Fatalf("n = %v", v)
	}
}

func TestPostRunsInMailboxInOrder(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	state := 0 // only touched in P's mailbox
	p.RegisterCommand("get", func(ctx context.Context, c *Call) (any, error) { return state, nil })
	p.Ready()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				p.Post(func() { state++ })
			}
		}()
	}
	wg.Wait()
	if v, _ := b.Command(ctxT(t), "P.get", nil); v != 400 {
		t.Fatalf("state = %v", v)
	}
	if err := p.Post(nil); !errors.Is(err, ErrNilFunc) {
		t.Fatal(err)
	}
	errs := make(chan ErrorEvent, 1)
	b.Subscribe("CXBus.error", func(e Event) { errs <- e.Data.(ErrorEvent) })
	p.Post(func() { panic("posted") })
	if e := recv(t, errs); e.Kind != "panic" {
		t.Fatal(e)
	}
}

// A deregistered plugin's mailbox is closed with the bus too: a late Post fails instead of
// queuing work that would never run.
func TestCloseRefusesPostOnDeregisteredPlugin(t *testing.T) {
	b := New(Options{})
	p := register(t, b, "Gone")
	p.Deregister()
	if err := b.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := p.Post(func() {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Post after Close on a deregistered plugin: %v", err)
	}
	// A deregistered plugin's idle mailbox is also closed when the bus forgets it.
	b2 := newBus(t, Options{})
	q := register(t, b2, "Old")
	q.Deregister()
	register(t, b2, "New") // prunes Old's idle mailbox
	if err := q.Post(func() {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Post on a forgotten mailbox: %v", err)
	}
}
