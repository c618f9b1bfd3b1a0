package purecloud_test

import (
	"context"
	"errors"
	"testing"
	"time"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// Sends made before the socket first opens wait for it (routing needs the
// socket) and are never dropped.
func TestSendBeforeFirstAttach(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	srv.RefuseReconnects(800 * time.Millisecond)
	tr, rec := newClient(t, baseConfig(srv.URL))
	if _, err := tr.Start(ctx, transports.StartRequest{Nickname: "Joan"}); err != nil {
		t.Fatal(err)
	}
	done := sendAsync(ctx, tr, "early 1", "early 2")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	conv, _ := srv.NextConversation(ctx)
	// The guest's member-join is posted on the first attach: our messages come after it.
	msgs := conv.Messages()
	join := -1
	for i, m := range msgs {
		if m.Sender.ID == conv.GuestID() && m.BodyType == wire.BodyMemberJoin {
			join = i
		}
		if m.Body == "early 1" && join < 0 {
			t.Fatal("message posted before the socket attached")
		}
	}
	// EventConnected was emitted before the sends returned; the recorder may still be
	// catching up with the stream, so wait for it, then check it came exactly once.
	rec.WaitKind(t, transports.EventConnected)
	if n := countKind(rec.Events(), transports.EventConnected); n != 1 {
		t.Fatalf("%d EventConnected, want 1", n)
	}
	checkTranscript(t, conv, rec, true)
}

// 429: the send waits exactly Retry-After on the transport's clock.
func TestRetryAfterHonoured(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	fc, cfg := fakeClockConfig(srv.URL)
	tr, rec := newClient(t, cfg, func(o *transports.Options) { o.Clock = fc })
	conv := startChat(t, ctx, srv, tr, rec)
	base := fc.Pending() // the watchdog
	srv.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 429, RetryAfter: 7})
	done := sendAsync(ctx, tr, "patient")
	if err := fc.BlockUntil(ctx, base+1); err != nil { // Send sleeps on the clock
		t.Fatal(err)
	}
	fc.Advance(7*time.Second - time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("send returned before Retry-After passed: %v", err)
	default:
	}
	if n := len(conv.GuestMessages()); n != 0 {
		t.Fatalf("%d messages stored before Retry-After", n)
	}
	fc.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := conv.GuestMessages(); len(got) != 1 {
		t.Fatalf("stored %q", got)
	}
}

// Typing posts at most once per 3 s; typing=false sends nothing.
func TestTypingDebounce(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	fc, cfg := fakeClockConfig(srv.URL)
	tr, rec := newClient(t, cfg, func(o *transports.Options) { o.Clock = fc })
	conv := startChat(t, ctx, srv, tr, rec)
	posts := func() int { return conv.FramesSent() }
	before := posts()
	for i := 0; i < 5; i++ {
		if err := tr.Typing(ctx, "hel", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Typing(ctx, "", false); err != nil {
		t.Fatal(err)
	}
	if got := posts() - before; got != 1 {
		t.Fatalf("%d typing posts, want 1", got)
	}
	fc.Advance(2 * time.Second)
	_ = tr.Typing(ctx, "hello", true)
	if got := posts() - before; got != 1 {
		t.Fatalf("%d typing posts after 2 s, want 1", got)
	}
	fc.Advance(time.Second)
	_ = tr.Typing(ctx, "hello w", true)
	if got := posts() - before; got != 2 {
		t.Fatalf("%d typing posts after 3 s, want 2", got)
	}
}

// Incoming typing: started, re-armed by each indicator, timed out without a message.
func TestAgentTypingTimeout(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	fc, cfg := fakeClockConfig(srv.URL)
	tr, rec := newClient(t, cfg, func(o *transports.Options) { o.Clock = fc })
	conv := startChat(t, ctx, srv, tr, rec)
	typing := func(evs []transports.Event) []transports.TypingState {
		var s []transports.TypingState
		for _, e := range evs {
			if e.Kind == transports.EventTyping {
				s = append(s, e.Typing.State)
			}
		}
		return s
	}
	base := fc.Pending()
	if err := conv.Typing(); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, "typing started", func(evs []transports.Event) bool { return len(typing(evs)) == 1 })
	if err := fc.BlockUntil(ctx, base+1); err != nil {
		t.Fatal(err)
	}
	fc.Advance(3 * time.Second)
	if err := conv.Typing(); err != nil { // re-arms, no second "started"
		t.Fatal(err)
	}
	// Our own message's echo comes after the indicator on the socket: once
	// it is delivered, the indicator was processed (the timer re-armed).
	if _, err := tr.Send(ctx, transports.Outgoing{Text: "marker"}); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, "marker echo", func(evs []transports.Event) bool {
		return hasMessage(evs, textFrom("marker", transports.ParticipantClient))
	})
	fc.Advance(3 * time.Second) // 6 s after the first indicator, 3 s after the second
	if s := typing(rec.Events()); len(s) != 1 {
		t.Fatalf("typing states %v: the second indicator did not re-arm", s)
	}
	fc.Advance(time.Second)
	evs := rec.WaitFor(t, "typing timeout", func(evs []transports.Event) bool { return len(typing(evs)) == 2 })
	if s := typing(evs); s[1] != transports.TypingTimeout {
		t.Fatalf("typing states %v", s)
	}
}

// The outcome of a send stays unknown when neither the POST nor the
// transcript can be read: the error says so and carries the cursor; a
// resend with Since never duplicates.
func TestAmbiguousSend(t *testing.T) {
	for _, committed := range []bool{false, true} {
		name := map[bool]string{false: "not stored", true: "stored"}[committed]
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			srv := startSim(t, fastSim())
			tr, rec := newClient(t, baseConfig(srv.URL))
			conv := startChat(t, ctx, srv, tr, rec)
			srv.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostMessage, Drop: true, CommitThenFail: committed})
			srv.InjectHTTP(simpc.HTTPFault{Op: simpc.OpGetMessages, Status: 503, Times: -1})
			sctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
			_, err := tr.Send(sctx, transports.Outgoing{Text: "maybe"})
			cancel()
			var amb *transports.AmbiguousSendError
			if !errors.As(err, &amb) {
				t.Fatalf("err = %v, want AmbiguousSendError", err)
			}
			srv.ClearFaults()
			sent, err := tr.Send(ctx, transports.Outgoing{Text: "maybe", Since: &amb.Since})
			if err != nil {
				t.Fatal(err)
			}
			if sent.Deduplicated != committed {
				t.Fatalf("Deduplicated = %v, want %v", sent.Deduplicated, committed)
			}
			if got := conv.GuestMessages(); len(got) != 1 {
				t.Fatalf("simulator stored %q", got)
			}
			checkTranscript(t, conv, rec, true)
		})
	}
}

// fakeClockConfig returns a fake clock and a config whose watchdog never
// fires while a test moves the clock by seconds.
func fakeClockConfig(url string) (*transports.FakeClock, purecloud.Config) {
	cfg := baseConfig(url)
	cfg.Transport.SocketHeartbeatTrackerInterval = int(time.Hour / time.Millisecond)
	return transports.NewFakeClock(time.Time{}), cfg
}

// A failed role lookup delivers the join with the role unknown; the next
// sighting after the retry delay looks the member up again and reports the
// agent's join (synthetic), so agentConnected is not missed.
func TestRoleLookupRetry(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	fc, cfg := fakeClockConfig(srv.URL)
	tr, rec := newClient(t, cfg, func(o *transports.Options) { o.Clock = fc })
	conv := startChat(t, ctx, srv, tr, rec)
	srv.InjectHTTP(simpc.HTTPFault{Op: simpc.OpGetMember, Status: 403, Times: 1})
	bea, err := conv.Transfer(simpc.AgentProfile{Name: "Bea"}, simpc.JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, "Bea's join with unknown role", func(evs []transports.Event) bool {
		return hasMessage(evs, func(m transports.Message) bool {
			return m.Type == transports.TypeParticipantJoined && m.From.ID == bea && m.From.Type == transports.ParticipantUnknown
		})
	})
	fc.Advance(6 * time.Second) // past the lookup retry delay
	if _, err := conv.Say("Bea speaking", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	evs := rec.WaitFor(t, "Bea's message", func(evs []transports.Event) bool {
		return hasMessage(evs, textFrom("Bea speaking", transports.ParticipantAgent))
	})
	var seq []string
	for _, m := range messages(evs) {
		if m.From.ID == bea {
			seq = append(seq, string(m.Type)+"/"+string(m.From.Type))
		}
	}
	want := []string{"ParticipantJoined/Unknown", "ParticipantJoined/Agent", "Message/Agent"}
	if len(seq) != len(want) {
		t.Fatalf("Bea's items %v, want %v", seq, want)
	}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("Bea's items %v, want %v", seq, want)
		}
	}
}
