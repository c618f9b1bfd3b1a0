package purecloud_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/transports/transporttest"
)

// countDials counts event-stream attach attempts.
func countDials(n *atomic.Int64) func(*transports.Options) {
	return func(o *transports.Options) {
		d := &net.Dialer{}
		o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			n.Add(1)
			return d.DialContext(ctx, network, addr)
		}
	}
}

// chatter makes the agent and the guest exchange n messages each.
func chatter(t *testing.T, ctx context.Context, conv *simpc.Conversation, tr *purecloud.Transport, tag string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := conv.Say(fmt.Sprintf("%s agent %d", tag, i), simpc.SayOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Send(ctx, transports.Outgoing{Text: fmt.Sprintf("%s guest %d", tag, i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// sendAsync sends in the background (the send must wait for the reconnect).
func sendAsync(ctx context.Context, tr *purecloud.Transport, texts ...string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		for _, s := range texts {
			if _, err := tr.Send(ctx, transports.Outgoing{Text: s}); err != nil {
				ch <- err
				return
			}
		}
		ch <- nil
	}()
	return ch
}

func TestSocketFaults(t *testing.T) {
	cases := []struct {
		name   string
		inject func(srv *simpc.Server, conv *simpc.Conversation)
		quiet  bool // no disconnected/reconnected expected
	}{
		{"clean close", func(_ *simpc.Server, c *simpc.Conversation) { c.DropSockets(4000, "test drop") }, false},
		{"abrupt close", func(_ *simpc.Server, c *simpc.Conversation) { c.AbortSockets() }, false},
		{"service restart 1001", func(s *simpc.Server, _ *simpc.Conversation) { s.DropAllSockets(false) }, false},
		{"refused reconnects", func(_ *simpc.Server, c *simpc.Conversation) {
			c.RefuseReconnects(1500 * time.Millisecond)
			c.AbortSockets()
		}, false},
		{"stall (watchdog)", func(_ *simpc.Server, c *simpc.Conversation) { c.StallSockets() }, false},
		{"socket_closing", func(_ *simpc.Server, c *simpc.Conversation) { c.SendSocketClosing() }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv := startSim(t, fastSim())
			cfg := baseConfig(srv.URL)
			cfg.Transport.SocketHeartbeatTrackerInterval = 800
			var dials atomic.Int64
			tr, rec := newClient(t, cfg, countDials(&dials))
			conv := startChat(t, ctx, srv, tr, rec)
			chatter(t, ctx, conv, tr, "before", 3)

			tc.inject(srv, conv)
			if !tc.quiet {
				rec.WaitKind(t, transports.EventDisconnected)
			}
			// While the socket is down: the agent talks (only backfill can
			// recover these) and the guest sends (held until reattached).
			for i := 0; i < 3; i++ {
				if _, err := conv.Say(fmt.Sprintf("gap agent %d", i), simpc.SayOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			sent := sendAsync(ctx, tr, "gap guest 0", "gap guest 1")
			if !tc.quiet {
				rec.WaitKind(t, transports.EventReconnected)
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			chatter(t, ctx, conv, tr, "after", 3)
			checkTranscript(t, conv, rec, true)

			evs := rec.Events()
			if got := countKind(evs, transports.EventDisconnected); (tc.quiet && got != 0) || (!tc.quiet && got != 1) {
				t.Errorf("%d disconnected events", got)
			}
			if countKind(evs, transports.EventEnded) != 0 {
				t.Fatal("the chat ended")
			}
			if n := dials.Load(); n > 12 {
				t.Errorf("%d attach attempts: reconnect storm", n)
			}
			t.Logf("attach attempts: %d", dials.Load())
			if got := conv.GuestMessages(); len(got) != 8 {
				t.Errorf("simulator got %d guest messages, want 8: %q", len(got), got)
			}
		})
	}
}

func TestDeliveryFaults(t *testing.T) {
	cases := []struct {
		name    string
		window  int
		inject  func(c *simpc.Conversation)
		ordered bool
	}{
		{"duplicate at once", 0, func(c *simpc.Conversation) { c.DuplicateNext(20, false) }, true},
		{"duplicate later", 0, func(c *simpc.Conversation) { c.DuplicateNext(20, true) }, true},
		{"duplicate CONNECTED", 0, func(c *simpc.Conversation) {
			for i := 0; i < 3; i++ {
				if err := c.DuplicateConnected(); err != nil {
					panic(err)
				}
			}
		}, true},
		{"reordered, no window", 0, func(c *simpc.Conversation) { c.ReorderNext(6) }, false},
		{"reordered, 300 ms window", 300, func(c *simpc.Conversation) { c.ReorderNext(6) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv := startSim(t, fastSim())
			cfg := baseConfig(srv.URL)
			cfg.Transport.ReorderWindow = tc.window
			tr, rec := newClient(t, cfg)
			conv := startChat(t, ctx, srv, tr, rec)
			tc.inject(conv)
			for i := 0; i < 10; i++ {
				if _, err := conv.Say(fmt.Sprintf("agent %d", i), simpc.SayOptions{Typing: i%3 == 0}); err != nil {
					t.Fatal(err)
				}
			}
			chatter(t, ctx, conv, tr, "mixed", 3)
			checkTranscript(t, conv, rec, tc.ordered)
			if !tc.ordered {
				// Without the window the swap is visible: proof the fault fired.
				if inv := inversions(conv, rec); inv == 0 {
					t.Error("reorder fault produced no inversion")
				} else {
					t.Logf("%d order inversions delivered (no reorder window)", inv)
				}
			}
			joins := 0
			for _, m := range messages(rec.Events()) {
				if m.Type == transports.TypeParticipantJoined && m.From.Type == transports.ParticipantAgent {
					joins++
				}
			}
			if joins != 1 {
				t.Errorf("%d agent joins reported, want 1", joins)
			}
		})
	}
}

func TestHTTPFaults(t *testing.T) {
	cases := []struct {
		name  string
		fault simpc.HTTPFault
		// drop the socket so the backfill (#7) path runs too
		drop bool
	}{
		{"503 on backfill", simpc.HTTPFault{Op: simpc.OpGetMessages, Status: 503, Times: 2}, true},
		{"504 on members", simpc.HTTPFault{Op: simpc.OpGetMembers, Status: 504, Times: 3}, true},
		{"500 on send", simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 500, Times: 2}, false},
		{"commit then 503 on send", simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 503, CommitThenFail: true, Times: 2}, false},
		{"commit then drop on send", simpc.HTTPFault{Op: simpc.OpPostMessage, Drop: true, CommitThenFail: true, Times: 2}, false},
		{"429 on send", simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 429, RetryAfter: 1, Times: 1}, false},
		{"429 on backfill", simpc.HTTPFault{Op: simpc.OpGetMessages, Status: 429, RetryAfter: 1, Times: 1}, true},
		{"slow everything", simpc.HTTPFault{Delay: 150 * time.Millisecond, Times: -1}, true},
		{"random 503 (p=0.3)", simpc.HTTPFault{Status: 503, Probability: 0.3}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			o := fastSim()
			o.FaultSeed = 7
			srv := startSim(t, o)
			tr, rec := newClient(t, baseConfig(srv.URL))
			conv := startChat(t, ctx, srv, tr, rec)
			chatter(t, ctx, conv, tr, "before", 2)
			srv.InjectHTTP(tc.fault)
			if tc.drop {
				conv.AbortSockets()
				rec.WaitKind(t, transports.EventDisconnected)
				if _, err := conv.Say("during the gap", simpc.SayOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			chatter(t, ctx, conv, tr, "faulty", 3)
			if tc.drop {
				rec.WaitKind(t, transports.EventReconnected)
			}
			srv.ClearFaults()
			chatter(t, ctx, conv, tr, "after", 2)
			checkTranscript(t, conv, rec, true)
			if got := conv.GuestMessages(); len(got) != 7 {
				t.Errorf("simulator stored %d guest messages, want 7 (a resend duplicated?): %q", len(got), got)
			}
		})
	}
}

func TestRetryAfterTooLong(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	tr, rec := newClient(t, baseConfig(srv.URL))
	conv := startChat(t, ctx, srv, tr, rec)
	srv.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 429, RetryAfter: 600})
	_, err := tr.Send(ctx, transports.Outgoing{Text: "too soon"})
	if !errors.Is(err, transports.ErrRetryAfterTooLong) {
		t.Fatalf("err = %v, want ErrRetryAfterTooLong", err)
	}
	if len(conv.GuestMessages()) != 0 {
		t.Fatal("message stored")
	}
	// Reported, not dropped: a later send works.
	if _, err := tr.Send(ctx, transports.Outgoing{Text: "now"}); err != nil {
		t.Fatal(err)
	}
}

// inversions counts delivered chat messages that came after a message the
// transcript orders later.
func inversions(conv *simpc.Conversation, rec *transporttest.Recorder) int {
	pos := map[string]int{}
	for i, id := range chatIDs(conv) {
		pos[id] = i
	}
	n, maxSeen := 0, -1
	for _, m := range messages(rec.Events()) {
		p, ok := pos[m.ID]
		if !ok || m.Type != transports.TypeMessage {
			continue
		}
		if p < maxSeen {
			n++
		}
		if p > maxSeen {
			maxSeen = p
		}
	}
	return n
}
