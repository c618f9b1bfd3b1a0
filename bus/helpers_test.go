package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait is the generous upper bound for asynchronous outcomes; tests never assert on elapsed time.
const wait = 10 * time.Second

func newBus(t testing.TB, opts Options) *Bus {
	t.Helper()
	b := New(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

func register(t testing.TB, b *Bus, name string) *Plugin {
	t.Helper()
	p, err := b.RegisterPlugin(name)
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return p
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func drain(t testing.TB, b *Bus) {
	t.Helper()
	if err := b.Drain(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// wantReject asserts err has exactly text and matches every sentinel.
func wantReject(t testing.TB, err error, text string, sentinels ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("want rejection %q, got nil", text)
	}
	if err.Error() != text {
		t.Fatalf("rejection text:\n got %q\nwant %q", err.Error(), text)
	}
	for _, s := range sentinels {
		if !errors.Is(err, s) {
			t.Fatalf("%q does not match %v", err, s)
		}
	}
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("timed out waiting for a value")
		panic("unreachable")
	}
}

func echo(ctx context.Context, c *Call) (any, error) { return c.Options, nil }
