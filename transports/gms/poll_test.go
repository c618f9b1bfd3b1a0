package gms

import (
	"context"
	"errors"
	"testing"
	"time"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// pollClock drives a REST transport's poll loop with a fake clock; the
// loop reports the due time whenever it arms its timer (a state change may
// re-arm it with the same or a new due time).
type pollClock struct {
	t    *testing.T
	clk  *transports.FakeClock
	c    *client
	ctx  context.Context
	arms chan time.Time
	last time.Time // the last due time read
}

// waitArm waits until the loop armed its timer (last time, or from now on)
// with a due time matching ok.
func (p *pollClock) waitArm(what string, ok func(due time.Time) bool) {
	p.t.Helper()
	if !p.last.IsZero() && ok(p.last) {
		return
	}
	var seen []time.Duration
	for {
		select {
		case due := <-p.arms:
			p.last = due
			if ok(due) {
				return
			}
			seen = append(seen, due.Sub(p.clk.Now()))
		case <-p.ctx.Done():
			p.t.Fatalf("poll timer never armed %s (armed in %v)", what, seen)
		}
	}
}

// expectPollAfter asserts that the next poll is due exactly d from now and
// that it happens when the clock gets there.
func (p *pollClock) expectPollAfter(d time.Duration) {
	p.t.Helper()
	want := p.clk.Now().Add(d)
	p.waitArm("for "+d.String(), func(due time.Time) bool { return due.Equal(want) })
	before := p.c.reqs.get("refresh")
	p.clk.Advance(d)
	p.waitArm("after the poll", func(due time.Time) bool { return due.After(want) })
	if n := p.c.reqs.get("refresh"); n != before+1 {
		p.t.Fatalf("%d polls at %v, want 1", n-before, d)
	}
}

func newPollClient(t *testing.T, s *simgms.Server, cfg Config) *pollClock {
	clk := transports.NewFakeClock(time.Time{})
	c := newClient(t, cfg, func(o *transports.Options) { o.Clock = clk })
	// The Widgets defaults (fast() shortened them), with pollRateMax 6 s and × 2.
	c.set.pollRate, c.set.pollMin, c.set.pollMax, c.set.pollMult = 3*time.Second, 500*time.Millisecond, 6*time.Second, 2
	c.set.pollSleep = 30 * time.Second
	c.poll.current = c.set.pollRate
	p := &pollClock{t: t, clk: clk, c: c, ctx: testCtx(t), arms: make(chan time.Time, 256)}
	c.poll.armed = func(due time.Time) { p.arms <- due }
	return p
}

// TestPollRates: polls every pollRate, back off × pollRateMult up to
// pollRateMax, restart at pollRateMin after a send; pollRateMax while the
// Chat Server is offline; pollRateSleep while sleeping; pollRate after wake.
func TestPollRates(t *testing.T) {
	s := startSim(t, simgms.Options{})
	cfg := restConfig(s)
	cfg.SleepEnabled = true
	p := newPollClient(t, s, cfg)
	c := p.c
	ctx := p.ctx
	if _, err := c.Start(ctx, transports.StartRequest{Nickname: "Joan"}); err != nil {
		t.Fatal(err)
	}
	chat := s.Chats()[0]
	p.expectPollAfter(3 * time.Second) // pollRate
	p.expectPollAfter(6 * time.Second) // × 2, capped at pollRateMax
	p.expectPollAfter(6 * time.Second)

	if _, err := c.Send(ctx, transports.Outgoing{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	p.expectPollAfter(500 * time.Millisecond) // pollRateMin after a send
	p.expectPollAfter(time.Second)
	p.expectPollAfter(2 * time.Second)
	p.expectPollAfter(4 * time.Second)
	p.expectPollAfter(6 * time.Second)

	// Offline: polls keep going at pollRateMax (never beyond 30 s).
	s.ChatServerOffline(DefaultPollExceptionLimit + 1)
	for i := 0; i <= DefaultPollExceptionLimit; i++ {
		p.expectPollAfter(6 * time.Second)
	}
	if !hasKind(transports.EventServerOffline)(c.rec.Events()) {
		c.rec.WaitFor(t, "offline", hasKind(transports.EventServerOffline))
	}
	p.expectPollAfter(6 * time.Second)
	p.expectPollAfter(6 * time.Second) // onlineAfter = 2
	c.rec.WaitFor(t, "online", hasKind(transports.EventServerOnline))

	// Sleep: every pollRateSleep; wake: pollRate and the cancel-idle-timer notice.
	if ok, err := c.Sleep(ctx); !ok || err != nil {
		t.Fatalf("Sleep = %v, %v", ok, err)
	}
	if ok, _ := c.Sleep(ctx); ok {
		t.Fatal("Sleep twice")
	}
	p.expectPollAfter(30 * time.Second)
	if ok, err := c.Wake(ctx, false); !ok || err != nil {
		t.Fatalf("Wake = %v, %v", ok, err)
	}
	p.expectPollAfter(3 * time.Second)
	var notices int
	for _, e := range chat.Transcript() {
		if e.Type == wire.EventCustomNotice && e.EventAttributes["purpose"] == "cancel-idle-timer" {
			notices++
		}
	}
	if notices != 1 {
		t.Fatalf("%d cancel-idle-timer notices", notices)
	}
	if ok, err := c.Wake(ctx, true); ok || err != nil {
		t.Fatalf("Wake(reset) while awake = %v, %v", ok, err)
	}
	if n := c.reqs.get("customNotice"); n != 2 {
		t.Fatalf("%d customNotice requests, want 2 (resetIdleState sends one while awake)", n)
	}
}

// TestPollCommands: startPoll / stopPoll / resetPollExceptions / poll.
func TestPollCommands(t *testing.T) {
	s := startSim(t, simgms.Options{})
	p := newPollClient(t, s, restConfig(s))
	c, ctx := p.c, p.ctx
	if _, err := c.StartPoll(ctx); !errors.Is(err, transports.ErrNotStarted) {
		t.Fatalf("StartPoll before start: %v", err)
	}
	if _, err := c.Start(ctx, transports.StartRequest{Nickname: "Joan"}); err != nil {
		t.Fatal(err)
	}
	if _, err := transports.AsPoller(c.Transport); err != nil {
		t.Fatal(err)
	}
	if !c.Polling() {
		t.Fatal("not polling after start")
	}
	if ok, err := c.StartPoll(ctx); ok || err != nil {
		t.Fatalf("StartPoll while polling = %v, %v", ok, err)
	}
	p.waitArm("after start", func(time.Time) bool { return true })
	if err := c.StopPoll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.StopPoll(ctx); !errors.Is(err, transports.ErrNotPolling) || err.Error() != "Not currently polling. Ignoring command." {
		t.Fatalf("StopPoll twice: %v", err)
	}
	before := c.reqs.get("refresh")
	p.clk.Advance(time.Minute)
	if c.reqs.get("refresh") != before {
		t.Fatal("polled while stopped")
	}
	// A manual poll works while stopped.
	answer, err := c.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := wire.DecodeResponse(answer); err != nil || r.StatusCode != wire.StatusOK {
		t.Fatalf("Poll answer %s: %v", answer, err)
	}
	if c.reqs.get("refresh") != before+1 {
		t.Fatal("Poll did not refresh")
	}
	if ok, err := c.StartPoll(ctx); !ok || err != nil {
		t.Fatalf("StartPoll = %v, %v", ok, err)
	}
	p.expectPollAfter(6 * time.Second) // the manual poll backed the interval off too

	// One poll in flight.
	s.SetDelay(time.Minute) // on the simulator's (real) clock; cancelled below
	started := make(chan string, 1)
	c.reqs.mu.Lock()
	c.reqs.started = started
	c.reqs.mu.Unlock()
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := c.Poll(pctx); done <- err }()
	if p := <-started; p != "refresh" {
		t.Fatalf("request %q", p)
	}
	if _, err := c.Poll(ctx); !errors.Is(err, transports.ErrPollInFlight) || err.Error() != "previous poll has not finished." {
		t.Fatalf("second poll: %v", err)
	}
	cancel()
	<-done
	s.SetDelay(0)

	c.ResetPollExceptions()
	if err := c.End(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Poll(ctx); !errors.Is(err, transports.ErrSessionEnded) {
		t.Fatalf("Poll after end: %v", err)
	}
}
