package bayeux

import (
	"testing"
	"time"
)

// Back-off after failed handshakes: 0, then +BackoffIncrement each time, capped at
// MaxBackoff (jitter neutralised by Rand = 0.5). The fake clock reports every wait.
func TestClientHandshakeBackoff(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	env.srv.FailRequests(1_000_000, 500)
	clk := newFakeClock()
	clk.created = make(chan time.Duration, 64)
	c, _ := newTestClient(t, env.url, Options{
		Transports:       []string{TransportLongPolling},
		Clock:            clk,
		Rand:             func() float64 { return 0.5 },
		BackoffIncrement: time.Second,
		MaxBackoff:       2500 * time.Millisecond,
	})
	go func() { _ = c.Handshake(ctxT(t)) }()
	want := []time.Duration{time.Second, 2 * time.Second, 2500 * time.Millisecond, 2500 * time.Millisecond}
	for i, w := range want {
		select {
		case d := <-clk.created:
			if d != w {
				t.Fatalf("wait %d = %v, want %v", i, d, w)
			}
			clk.Advance(d)
		case <-time.After(waitLong):
			t.Fatalf("no wait %d", i)
		}
	}
}

func TestClientJitter(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		c := &Client{opts: Options{Rand: func() float64 { return r }}}
		d := c.jitter(10 * time.Second)
		if d < 9*time.Second || d > 11*time.Second {
			t.Fatalf("jitter(10s) with rand %v = %v: want within ±10%%", r, d)
		}
	}
	c := &Client{opts: Options{Rand: func() float64 { return 0.9 }}}
	if c.jitter(0) != 0 {
		t.Fatal("no jitter on a zero delay")
	}
}

// When connects keep failing for longer than timeout+interval+maxInterval, the server
// has surely expired the session: the client re-handshakes instead of retrying.
func TestClientMaxIntervalForcesHandshake(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 200 * time.Millisecond})
	clk := newFakeClock()
	clk.created = make(chan time.Duration, 64)
	maxInterval := ExtensionFuncs{In: func(m *Message) bool {
		if m.Channel == ChannelHandshake && m.Advice != nil {
			m.Advice.MaxInterval = Ms(3 * time.Second)
		}
		return true
	}}
	c, ev := newTestClient(t, env.url, Options{
		Transports: []string{TransportLongPolling}, Clock: clk, Rand: func() float64 { return 0.5 },
		BackoffIncrement: time.Second, Extensions: []Extension{maxInterval},
	})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, EventConnected, 1)
	env.srv.FailRequests(1_000_000, 503)
	ev.waitFor(t, EventDisconnected, 1)
	// Advance through the back-off waits until the client gives up retrying: the
	// handshake is attempted once now-unconnectedSince+backoff > 0.2s+0+3s.
	for ev.count(EventHandshake) < 2 {
		select {
		case d := <-clk.created:
			if d >= 3*time.Second {
				env.srv.FailRequests(0, 0) // let the coming handshake through
			}
			clk.Advance(d)
		case <-ev.wake:
		case <-time.After(waitLong):
			t.Fatal("the client never re-handshook")
		}
	}
	ev.waitFor(t, EventReestablished, 1)
}
