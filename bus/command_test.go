package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCommandResolvesWithCallMetadata(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Target")
	caller := register(t, b, "Caller")
	var got Call
	p.RegisterCommand("do", func(ctx context.Context, c *Call) (any, error) {
		got = *c
		return "done", nil
	})
	p.Ready()
	v, err := caller.Command(ctxT(t), "Target.do", map[string]any{"a": 1})
	if err != nil || v != "done" {
		t.Fatalf("got %v, %v", v, err)
	}
	if got.Commander != "Caller" || got.Command != "Target.do" || got.Time.IsZero() {
		t.Fatalf("call metadata: %+v", got)
	}
	if !reflect.DeepEqual(got.Options, map[string]any{"a": 1}) {
		t.Fatalf("options: %#v", got.Options)
	}
	// Calls on the bus value come from CXBus; nil options arrive as {} (never nil).
	p.RegisterCommand("who", func(ctx context.Context, c *Call) (any, error) {
		return []any{c.Commander, c.Options}, nil
	})
	v, err = b.Command(ctxT(t), "Target.who", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pair := v.([]any); pair[0] != CXBusName || !reflect.DeepEqual(pair[1], map[string]any{}) {
		t.Fatalf("got %#v", v)
	}
	raw, _ := json.Marshal(got)
	var decoded map[string]any
	json.Unmarshal(raw, &decoded)
	if decoded["commander"] != "Caller" || decoded["command"] != "Target.do" || decoded["time"] == nil {
		t.Fatalf("call JSON: %s", raw)
	}
}

func TestRejections(t *testing.T) {
	b := newBus(t, Options{})
	target := register(t, b, "Target")
	target.RegisterCommand("secret", echo, Private())
	target.RegisterCommand("shared", echo, Private("Friend"))
	target.RegisterCommand("boom", func(ctx context.Context, c *Call) (any, error) { panic("kaboom") })
	target.RegisterCommand("fail", func(ctx context.Context, c *Call) (any, error) { return nil, errors.New("custom failure") })
	target.Ready()
	caller := register(t, b, "Caller")
	friend := register(t, b, "Friend")

	cases := []struct {
		name     string
		from     *Plugin
		command  string
		opts     any
		text     string
		sentinel error
	}{
		{"unknown command", caller, "Target.nope", nil, "Command does not exist: Target.nope", ErrCommandNotFound},
		{"unknown plugin", caller, "Ghost.do", nil, "Plugin is not registered: Ghost", ErrPluginNotFound},
		{"private", caller, "Target.secret", nil, "Access Denied to private command. Only Target is allowed to invoke this command.", ErrAccessDenied},
		{"private from bus", nil, "Target.secret", nil, "Access Denied to private command. Only Target is allowed to invoke this command.", ErrAccessDenied},
		{"private allow-list other", caller, "Target.shared", nil, "Access Denied to private command. Only Target is allowed to invoke this command.", ErrAccessDenied},
		{"panic", caller, "Target.boom", nil, "Command handler panicked: Target.boom", ErrHandlerPanic},
		{"handler error", caller, "Target.fail", nil, "custom failure", nil},
		{"two dots", caller, "Target.a.b", nil, "Invalid command name: Target.a.b", ErrInvalidName},
		{"empty plugin part", caller, ".do", nil, "Invalid command name: .do", ErrInvalidName},
		{"empty command part", caller, "Target.", nil, "Invalid command name: Target.", ErrInvalidName},
		{"empty name", caller, "", nil, "Invalid command name: ", ErrInvalidName},
		{"non-object options", caller, "Target.shared", 42, "Invalid command options: a JSON object is required.", ErrInvalidOptions},
		{"array options", caller, "Target.shared", []string{"x"}, "Invalid command options: a JSON object is required.", ErrInvalidOptions},
		{"raw non-object", caller, "Target.shared", json.RawMessage(`[1]`), "Invalid command options: a JSON object is required.", ErrInvalidOptions},
		{"raw malformed", caller, "Target.shared", json.RawMessage(`{"a":`), "Invalid command options: a JSON object is required.", ErrInvalidOptions},
		{"string options", caller, "Target.shared", "hi", "Invalid command options: a JSON object is required.", ErrInvalidOptions},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.from == nil {
				_, err = b.Command(ctxT(t), tc.command, tc.opts)
			} else {
				_, err = tc.from.Command(ctxT(t), tc.command, tc.opts)
			}
			if tc.sentinel == nil {
				wantReject(t, err, tc.text)
			} else {
				wantReject(t, err, tc.text, tc.sentinel)
			}
		})
	}
	// The allow-list admits Friend; the owner always may call its private commands.
	if _, err := friend.Command(ctxT(t), "Target.shared", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := target.Command(ctxT(t), "secret", nil); err != nil {
		t.Fatal(err)
	}
	// Good options shapes.
	for _, opts := range []any{struct{ A int }{1}, &struct{ A int }{1}, json.RawMessage(` {"a":1}`), map[string]string{"a": "b"}, (*struct{})(nil), json.RawMessage("null")} {
		if _, err := friend.Command(ctxT(t), "Target.shared", opts); err != nil {
			t.Fatalf("%T: %v", opts, err)
		}
	}
}

func TestPrivateHandlerNeverRunsForForeignCaller(t *testing.T) {
	b := newBus(t, Options{})
	target := register(t, b, "Target")
	var ran atomic.Int32
	var intercepted atomic.Int32
	target.RegisterCommand("poll", func(ctx context.Context, c *Call) (any, error) { ran.Add(1); return nil, nil }, Private())
	target.Ready()
	b.Before("Target.poll", func(ctx context.Context, o any) (any, error) { intercepted.Add(1); return o, nil })
	_, err := register(t, b, "Other").Command(ctxT(t), "Target.poll", nil)
	wantReject(t, err, "Access Denied to private command. Only Target is allowed to invoke this command.", ErrAccessDenied)
	drain(t, b)
	if ran.Load() != 0 || intercepted.Load() != 0 {
		t.Fatalf("handler ran %d, interceptor ran %d; want 0, 0", ran.Load(), intercepted.Load())
	}
}

func TestUndottedCommandMeansOwnPlugin(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "WebChat")
	p.RegisterCommand("open", func(ctx context.Context, c *Call) (any, error) { return c.Command, nil })
	// Before Ready: the owner may call its own commands.
	v, err := p.Command(ctxT(t), "open", nil)
	if err != nil || v != "WebChat.open" {
		t.Fatalf("got %v, %v", v, err)
	}
}

func TestBufferedUntilReadyInCallOrder(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Slow")
	var order []int
	p.RegisterCommand("n", func(ctx context.Context, c *Call) (any, error) {
		o, _ := DecodeOptions[struct{ N int }](c.Options)
		order = append(order, o.N)
		return o.N, nil
	})
	caller := register(t, b, "Caller")
	var results []*Result
	for i := range 5 {
		results = append(results, caller.CommandAsync(ctxT(t), "Slow.n", struct{ N int }{i}))
	}
	drain(t, b)
	for _, r := range results {
		if _, _, settled := r.Peek(); settled {
			t.Fatal("call settled before Ready")
		}
	}
	if s := b.Stats()["Slow"]; s.Buffered != 5 {
		t.Fatalf("buffered = %d, want 5", s.Buffered)
	}
	p.Ready()
	// A call made after Ready is delivered after the flushed ones.
	late := caller.CommandAsync(ctxT(t), "Slow.n", struct{ N int }{5})
	if _, err := late.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		v, err := r.Wait(ctxT(t))
		if err != nil || v != i {
			t.Fatalf("result %d: %v, %v", i, v, err)
		}
	}
	if !reflect.DeepEqual(order, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("delivery order %v", order)
	}
	p.Ready() // idempotent
	drain(t, b)
}

func TestBufferedUnknownCommandRejectsAtFlush(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Late")
	r := b.CommandAsync(ctxT(t), "Late.missing", nil)
	drain(t, b)
	if _, _, ok := r.Peek(); ok {
		t.Fatal("settled before ready")
	}
	p.Ready()
	_, err := r.Wait(ctxT(t))
	wantReject(t, err, "Command does not exist: Late.missing", ErrCommandNotFound)
}

func TestPrivateCheckAtDeliveryWhenRegisteredLater(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Late")
	r := register(t, b, "Other").CommandAsync(ctxT(t), "Late.secret", nil)
	drain(t, b)
	p.RegisterCommand("secret", echo, Private())
	p.Ready()
	_, err := r.Wait(ctxT(t))
	wantReject(t, err, "Access Denied to private command. Only Late is allowed to invoke this command.", ErrAccessDenied)
}

func TestTimeouts(t *testing.T) {
	t.Run("caller deadline on buffered call removes it from the queue", func(t *testing.T) {
		b := newBus(t, Options{})
		register(t, b, "Never") // never ready
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := b.Command(ctx, "Never.do", nil)
		wantReject(t, err, "Command timed out: Never.do", ErrTimeout, context.DeadlineExceeded)
		drain(t, b)
		if s := b.Stats()["Never"]; s.Buffered != 0 {
			t.Fatalf("buffered after timeout = %d", s.Buffered)
		}
	})
	t.Run("bus default deadline", func(t *testing.T) {
		b := newBus(t, Options{CommandTimeout: 20 * time.Millisecond})
		p := register(t, b, "Hang")
		seen := make(chan context.Context, 1)
		p.RegisterCommand("forever", func(ctx context.Context, c *Call) (any, error) {
			c.Defer()
			seen <- ctx
			return nil, nil
		})
		p.Ready()
		_, err := b.Command(context.Background(), "Hang.forever", nil)
		wantReject(t, err, "Command timed out: Hang.forever", ErrTimeout, context.DeadlineExceeded)
		hctx := recv(t, seen)
		if _, ok := hctx.Deadline(); !ok {
			t.Fatal("handler context has no deadline")
		}
		select {
		case <-hctx.Done():
		case <-time.After(wait):
			t.Fatal("handler context not done after timeout")
		}
		if !errors.Is(hctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("handler ctx err = %v", hctx.Err())
		}
		if s := b.Stats()["Hang"]; s.InFlight != 0 {
			t.Fatalf("in flight after timeout = %d", s.InFlight)
		}
	})
	t.Run("cancel async call; late settlement ignored", func(t *testing.T) {
		b := newBus(t, Options{})
		p := register(t, b, "Hang")
		deferred := make(chan Deferred, 1)
		p.RegisterCommand("wait", func(ctx context.Context, c *Call) (any, error) {
			deferred <- c.Defer()
			return nil, nil
		})
		p.Ready()
		ctx, cancel := context.WithCancel(context.Background())
		r := b.CommandAsync(ctx, "Hang.wait", nil)
		d := recv(t, deferred)
		cancel()
		_, err := r.Wait(ctxT(t))
		wantReject(t, err, "Command cancelled: Hang.wait", ErrCancelled, context.Canceled)
		if d.Resolve("late") {
			t.Fatal("late resolve reported as settling")
		}
		if _, err2, _ := r.Peek(); err2 != err {
			t.Fatal("outcome changed after late resolve")
		}
	})
	t.Run("already cancelled context", func(t *testing.T) {
		b := newBus(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := b.Command(ctx, "X.y", nil)
		wantReject(t, err, "Command cancelled: X.y", context.Canceled)
	})
	t.Run("no timeout", func(t *testing.T) {
		b := newBus(t, Options{CommandTimeout: NoTimeout})
		p := register(t, b, "Later")
		d := make(chan Deferred, 1)
		p.RegisterCommand("x", func(ctx context.Context, c *Call) (any, error) { d <- c.Defer(); return nil, nil })
		p.Ready()
		r := b.CommandAsync(context.Background(), "Later.x", nil)
		dd := recv(t, d)
		if _, ok := dd.Context().Deadline(); ok {
			t.Fatal("deadline set with NoTimeout")
		}
		dd.Resolve(7)
		if v, err := r.Wait(ctxT(t)); v != 7 || err != nil {
			t.Fatal(v, err)
		}
	})
}

func TestDeferredSettlementFromAnotherGoroutine(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "IO")
	p.RegisterCommand("fetch", func(ctx context.Context, c *Call) (any, error) {
		d := c.Defer()
		go func() {
			time.Sleep(5 * time.Millisecond) // simulated I/O
			d.Resolve("fetched")
		}()
		return "ignored", errors.New("ignored")
	})
	p.Ready()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := b.Command(ctxT(t), "IO.fetch", nil)
			if err != nil || v != "fetched" {
				t.Errorf("got %v, %v", v, err)
			}
		}()
	}
	wg.Wait()
}

func TestNestedCommandsSettleAfterInner(t *testing.T) {
	b := newBus(t, Options{})
	inner := register(t, b, "Inner")
	inner.RegisterCommand("value", func(ctx context.Context, c *Call) (any, error) { return 21, nil })
	inner.Ready()
	outer := register(t, b, "Outer")
	outer.RegisterCommand("double", func(ctx context.Context, c *Call) (any, error) {
		d := c.Defer()
		outer.CommandAsync(ctx, "Inner.value", nil).Then(func(v any) (any, error) {
			d.Resolve(v.(int) * 2)
			return nil, nil
		})
		return nil, nil
	})
	// A blocking nested call to another plugin from a handler works too.
	outer.RegisterCommand("blocking", func(ctx context.Context, c *Call) (any, error) {
		v, err := outer.Command(ctx, "Inner.value", nil)
		if err != nil {
			return nil, err
		}
		return v.(int) + 1, nil
	})
	outer.Ready()
	if v, err := b.Command(ctxT(t), "Outer.double", nil); v != 42 || err != nil {
		t.Fatal(v, err)
	}
	if v, err := b.Command(ctxT(t), "Outer.blocking", nil); v != 22 || err != nil {
		t.Fatal(v, err)
	}
}

func TestThenCatchChain(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Calc")
	p.RegisterCommand("one", func(ctx context.Context, c *Call) (any, error) { return 1, nil })
	p.RegisterCommand("fail", func(ctx context.Context, c *Call) (any, error) { return nil, errors.New("nope") })
	p.Ready()
	caller := register(t, b, "Caller")

	r := caller.CommandAsync(ctxT(t), "Calc.one", nil).
		Then(func(v any) (any, error) { return v.(int) + 1, nil }).
		Then(func(v any) (any, error) { return caller.CommandAsync(ctxT(t), "Calc.one", nil), nil }). // follows a Result
		Then(func(v any) (any, error) { return fmt.Sprint("got ", v), nil })
	if v, err := r.Wait(ctxT(t)); v != "got 1" || err != nil {
		t.Fatal(v, err)
	}

	thenRan := false
	r = caller.CommandAsync(ctxT(t), "Calc.fail", nil).
		Then(func(v any) (any, error) { thenRan = true; return nil, nil }).
		Catch(func(err error) (any, error) { return "recovered from " + err.Error(), nil })
	if v, err := r.Wait(ctxT(t)); v != "recovered from nope" || err != nil || thenRan {
		t.Fatal(v, err, thenRan)
	}
	// Catch on success passes the value through; a panicking callback rejects.
	r = caller.CommandAsync(ctxT(t), "Calc.one", nil).Catch(func(error) (any, error) { return nil, nil })
	if v, _ := r.Wait(ctxT(t)); v != 1 {
		t.Fatal(v)
	}
	r = caller.CommandAsync(ctxT(t), "Calc.one", nil).Then(func(any) (any, error) { panic("oops") })
	if _, err := r.Wait(ctxT(t)); err == nil {
		t.Fatal("panicking Then resolved")
	}
	// Attached after settlement: still runs, asynchronously, in the caller's mailbox.
	done := caller.CommandAsync(ctxT(t), "Calc.one", nil)
	done.Wait(ctxT(t))
	if v, _ := done.Then(func(v any) (any, error) { return v.(int) * 10, nil }).Wait(ctxT(t)); v != 10 {
		t.Fatal(v)
	}
}

func TestCallbacksRunInCommanderMailboxSerially(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "Svc")
	p.RegisterCommand("x", func(ctx context.Context, c *Call) (any, error) { return nil, nil })
	p.Ready()
	caller := register(t, b, "Caller")
	counter := 0 // no lock: all mutations run on Caller's mailbox
	var results []*Result
	for range 200 {
		results = append(results, caller.CommandAsync(ctxT(t), "Svc.x", nil).Then(func(any) (any, error) { counter++; return nil, nil }))
	}
	caller.Subscribe("Svc.tick", func(Event) { counter++ })
	for range 200 {
		p.Publish("tick", nil)
	}
	for _, r := range results {
		r.Wait(ctxT(t))
	}
	drain(t, b)
	done := make(chan int)
	caller.CommandAsync(ctxT(t), "Svc.x", nil).Then(func(any) (any, error) { done <- counter; return nil, nil })
	if got := recv(t, done); got != 400 {
		t.Fatalf("counter = %d, want 400", got)
	}
}

func TestBeforeInterceptors(t *testing.T) {
	b := newBus(t, Options{})
	target := register(t, b, "WebChatService")
	target.RegisterCommand("sendMessage", echo)
	target.Ready()
	a := register(t, b, "A")
	c := register(t, b, "C")

	var seen []string
	a.Before("WebChatService.sendMessage", func(ctx context.Context, o any) (any, error) {
		info, ok := CallInfoFrom(ctx)
		if !ok || info.Commander != "Caller" || info.Command != "WebChatService.sendMessage" {
			t.Errorf("call info %+v %v", info, ok)
		}
		m := o.(map[string]any)
		seen = append(seen, "A:"+m["message"].(string))
		return map[string]any{"message": m["message"].(string) + " [A]"}, nil
	})
	ic, _ := c.Before("WebChatService.sendMessage", func(ctx context.Context, o any) (any, error) {
		m := o.(map[string]any)
		seen = append(seen, "C:"+m["message"].(string))
		return map[string]any{"message": m["message"].(string) + " [C]"}, nil
	})
	caller := register(t, b, "Caller")
	v, err := caller.Command(ctxT(t), "WebChatService.sendMessage", map[string]any{"message": "hi"})
	if err != nil || !reflect.DeepEqual(v, map[string]any{"message": "hi [A] [C]"}) {
		t.Fatalf("got %v, %v", v, err)
	}
	if !reflect.DeepEqual(seen, []string{"A:hi", "C:hi [A]"}) {
		t.Fatalf("order %v", seen)
	}
	ic.Remove()
	ic.Remove() // idempotent
	v, _ = caller.Command(ctxT(t), "WebChatService.sendMessage", map[string]any{"message": "hi"})
	if !reflect.DeepEqual(v, map[string]any{"message": "hi [A]"}) {
		t.Fatalf("after remove: %v", v)
	}

	// Cancel (nil return), error, panic; later interceptors are skipped.
	skipped := true
	for _, tc := range []struct {
		name string
		fn   BeforeFunc
		text string
		is   error
	}{
		{"cancel", func(ctx context.Context, o any) (any, error) { return nil, nil }, "Command was cancelled by a 'before' function.", ErrCancelledByBefore},
		{"non-object", func(ctx context.Context, o any) (any, error) { return false, nil }, "Command was cancelled by a 'before' function.", ErrCancelledByBefore},
		{"error", func(ctx context.Context, o any) (any, error) { return nil, errors.New("blocked by policy") }, "blocked by policy", nil},
		{"panic", func(ctx context.Context, o any) (any, error) { panic("bad") }, "Command was cancelled: a 'before' function panicked: T.cmd", ErrInterceptorPanic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bb := newBus(t, Options{})
			tp := register(t, bb, "T")
			ran := false
			tp.RegisterCommand("cmd", func(ctx context.Context, c *Call) (any, error) { ran = true; return nil, nil })
			// Not ready: a cancel still rejects at once (interceptors run before buffering).
			bb.Before("T.cmd", tc.fn)
			bb.Before("T.cmd", func(ctx context.Context, o any) (any, error) { skipped = false; return o, nil })
			_, err := bb.Command(ctxT(t), "T.cmd", nil)
			if tc.is != nil {
				wantReject(t, err, tc.text, tc.is)
			} else {
				wantReject(t, err, tc.text)
			}
			tp.Ready()
			bb.Drain(ctxT(t))
			if ran || !skipped {
				t.Fatalf("handler ran=%v, later interceptor ran=%v", ran, !skipped)
			}
		})
	}
}

func TestInterceptorsRunOnceForBufferedCalls(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	p.RegisterCommand("x", echo)
	var runs atomic.Int32
	b.Before("P.x", func(ctx context.Context, o any) (any, error) { runs.Add(1); return o, nil })
	r := b.CommandAsync(ctxT(t), "P.x", nil)
	drain(t, b)
	if runs.Load() != 1 {
		t.Fatalf("interceptor runs before ready = %d", runs.Load())
	}
	p.Ready()
	r.Wait(ctxT(t))
	if runs.Load() != 1 {
		t.Fatalf("interceptor runs = %d, want 1", runs.Load())
	}
}
