package gms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
	"github.com/cxbus/webchat/transports/transporttest"
)

// sendAsync sends text in the background; the result arrives on the channel.
func sendAsync(ctx context.Context, c *client, text string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, transports.Outgoing{Text: text})
		ch <- err
	}()
	return ch
}

func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(waitLong):
		t.Fatal("send did not return")
		return nil
	}
}

// onceEach asserts each kind occurred exactly once.
func onceEach(t *testing.T, evs []transports.Event, ks ...transports.EventKind) {
	t.Helper()
	for _, k := range ks {
		if n := count(evs, k); n != 1 {
			t.Errorf("%d %v events, want 1; events %v", n, k, transporttest.Kinds(evs))
		}
	}
}

func clientSaid(chat *simgms.Chat, text string) int {
	n := 0
	for _, m := range chat.ClientMessages() {
		if m == text {
			n++
		}
	}
	return n
}

// TestChatServerOffline: statusCode 1 answers beyond pollExceptionLimit →
// one EventServerOffline and, once it answers again, one EventServerOnline
// (Widgets re-fired every limit+1 failures); a send made meanwhile is
// delivered once; nothing is lost.
func TestChatServerOffline(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, s, c, chat := startModeChat(t, mk, simgms.Options{})
		ann, _ := chat.JoinAgent("Ann")
		ann.Send("before")
		c.rec.WaitFor(t, "before", msgWith(transports.TypeMessage, transports.ParticipantAgent, "before"))

		rest := c.Mode() == ModeREST
		if rest {
			// Widgets would report offline three times for this outage.
			s.ChatServerOffline(3*(DefaultPollExceptionLimit+1) + 1)
		} else {
			// CometD: the first statusCode 1 answer means offline; the
			// worker probes with requestNotifications until it answers.
			s.ChatServerOffline(4)
			// CometD has no polling: an operation meets the outage.
			go c.SendCustomNotice(ctx, "probe", nil)
		}
		c.rec.WaitFor(t, "offline", hasKind(transports.EventServerOffline))
		if rest {
			ann.Send("during") // delivered once the Chat Server answers again
		}
		res := sendAsync(ctx, c, "sent while offline")
		c.rec.WaitFor(t, "online", hasKind(transports.EventServerOnline))
		if err := waitErr(t, res); err != nil {
			t.Fatalf("Send: %v", err)
		}
		ann.Send("after")
		evs := c.rec.WaitFor(t, "after", msgWith(transports.TypeMessage, transports.ParticipantAgent, "after"))
		onceEach(t, evs, transports.EventServerOffline, transports.EventServerOnline, transports.EventDisconnected, transports.EventReconnected)
		if n := clientSaid(chat, "sent while offline"); n != 1 {
			t.Errorf("message stored %d times", n)
		}
		// Order: offline, disconnected … online, reconnected.
		var seq []transports.EventKind
		for _, e := range evs {
			switch e.Kind {
			case transports.EventServerOffline, transports.EventServerOnline, transports.EventDisconnected, transports.EventReconnected:
				seq = append(seq, e.Kind)
			}
		}
		want := []transports.EventKind{transports.EventServerOffline, transports.EventDisconnected, transports.EventServerOnline, transports.EventReconnected}
		if fmt.Sprint(seq) != fmt.Sprint(want) {
			t.Errorf("sequence %v, want %v", seq, want)
		}
		waitIndex(t, c, chat)
		checkTranscript(t, c, chat)
	})
}

// TestHTTPFailures: 5xx answers → one EventDisconnected, one
// EventReconnected; a send meanwhile is delivered once.
func TestHTTPFailures(t *testing.T) {
	for _, mode := range []string{"rest", "cometd-lp"} {
		t.Run(mode, func(t *testing.T) {
			ctx := testCtx(t)
			s := startSim(t, simgms.Options{})
			cfg := restConfig(s)
			if mode != "rest" {
				cfg = cometConfig(s, false)
			}
			c := newClient(t, cfg)
			chat := c.startChat(t, ctx, s)
			ann, _ := chat.JoinAgent("Ann")
			// Fail until the client reports the outage (how many failed requests that takes
			// depends on which requests are in flight), then let requests through again.
			if mode == "rest" {
				s.FailRequests(1<<20, 503)
			} else {
				s.Bayeux().FailRequests(1<<20, 503)
				// A held connect may already be waiting: a delivery releases it, and the
				// client's next request meets the failures.
				ann.Send("release")
			}
			c.rec.WaitFor(t, "disconnected", hasKind(transports.EventDisconnected))
			if mode == "rest" {
				s.FailRequests(0, 0)
			} else {
				s.Bayeux().FailRequests(0, 0)
			}
			ann.Send("during")
			if err := waitErr(t, sendAsync(ctx, c, "hello")); err != nil {
				t.Fatal(err)
			}
			c.rec.WaitFor(t, "reconnected", hasKind(transports.EventReconnected))
			c.rec.WaitFor(t, "during", msgWith(transports.TypeMessage, transports.ParticipantAgent, "during"))
			evs := c.rec.Events()
			onceEach(t, evs, transports.EventDisconnected, transports.EventReconnected)
			if n := count(evs, transports.EventServerOffline); n != 0 {
				t.Errorf("%d offline events for HTTP failures", n)
			}
			if n := clientSaid(chat, "hello"); n != 1 {
				t.Errorf("message stored %d times", n)
			}
			waitIndex(t, c, chat)
			checkTranscript(t, c, chat)
		})
	}
}

// TestSlowResponses: answers slower than ajaxTimeout make the send's outcome
// unknown; the transport finds the message in the transcript instead of
// sending it again.
func TestSlowResponses(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx := testCtx(t)
		s := startSim(t, simgms.Options{})
		cfg := mk(s)
		cfg.AjaxTimeout = 300
		c := newClient(t, cfg)
		chat := c.startChat(t, ctx, s)
		var started chan string
		if c.Mode() == ModeREST {
			// Only the send's own transcript check refreshes from now on.
			if err := c.StopPoll(ctx); err != nil {
				t.Fatal(err)
			}
			started = make(chan string, 16)
			c.reqs.mu.Lock()
			c.reqs.started = started
			c.reqs.mu.Unlock()
		}
		s.SetDelay(900 * time.Millisecond)
		res := make(chan transports.Sent, 1)
		errc := make(chan error, 1)
		go func() {
			sent, err := c.Send(ctx, transports.Outgoing{Text: "slow hello"})
			res <- sent
			errc <- err
		}()
		if _, err := chat.WaitEvent(ctx, "Message", nil); err != nil {
			t.Fatal(err)
		}
		if started != nil {
			// The REST simulator delays after processing: wait until the send
			// timed out (its transcript check starts) before removing the delay.
			for p := range started {
				if p == "refresh" {
					break
				}
			}
		}
		s.SetDelay(0)
		if err := waitErr(t, errc); err != nil {
			t.Fatalf("Send: %v", err)
		}
		sent := <-res
		if !sent.Deduplicated || sent.Index == 0 {
			t.Errorf("Sent = %+v, want the deduplicated first attempt", sent)
		}
		if started != nil {
			if _, err := c.StartPoll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		ann, _ := chat.JoinAgent("Ann")
		ann.Send("fast again")
		c.rec.WaitFor(t, "agent", msgWith(transports.TypeMessage, transports.ParticipantAgent, "fast again"))
		if n := clientSaid(chat, "slow hello"); n != 1 {
			t.Errorf("message stored %d times, want 1", n)
		}
		waitIndex(t, c, chat)
		checkTranscript(t, c, chat)
	})
}

// TestAmbiguousResendWithSince: a send whose outcome was unknown before a
// restart is resent with Since; the transport finds it and sends nothing.
func TestAmbiguousResendWithSince(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx := testCtx(t)
		s := startSim(t, simgms.Options{})
		c := newClient(t, mk(s))
		c.startChat(t, ctx, s)
		since := c.Cursor()
		first, err := c.Send(ctx, transports.Outgoing{Text: "twice?"})
		if err != nil {
			t.Fatal(err)
		}
		// The caller did not learn that the first attempt succeeded (a crash),
		// and it sends again with the cursor from before.
		c2 := c
		again, err := c2.Send(ctx, transports.Outgoing{Text: "twice?", Since: &since})
		if err != nil {
			t.Fatal(err)
		}
		// The first Send claimed the message, so the resend finds nothing
		// unclaimed and sends a new one: claims keep two real sends apart.
		if again.Deduplicated || again.Index == first.Index {
			t.Fatalf("resend = %+v after %+v", again, first)
		}
		// A fresh transport (after a restart) has claimed nothing: it finds the message.
		chat := s.Chats()[0]
		c3 := newClient(t, mk(s))
		if err := c3.Resume(ctx, c.SessionData(), c.Cursor()); err != nil {
			t.Fatal(err)
		}
		got, err := c3.Send(ctx, transports.Outgoing{Text: "twice?", Since: &since})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Deduplicated || got.Index != first.Index {
			t.Fatalf("after restart: %+v, want the first message %d", got, first.Index)
		}
		if n := clientSaid(chat, "twice?"); n != 2 {
			t.Errorf("stored %d times, want 2", n)
		}
	})
}

// TestKeyRotation: the chat moves to another Chat Server (new alias and
// secureKey); the transport takes the new keys from the next answer and
// reports them once.
func TestKeyRotation(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, _, c, chat := startModeChat(t, mk, simgms.Options{})
		ann, _ := chat.JoinAgent("Ann")
		c.rec.WaitFor(t, "agent joined", msgWith(transports.TypeParticipantJoined, transports.ParticipantAgent, ""))
		keys := chat.MoveChatServer(simgms.MoveOptions{NewUserID: true})
		ann.Send("after the move")
		evs := c.rec.WaitFor(t, "new keys", func(evs []transports.Event) bool {
			for _, e := range evs {
				if e.Kind == transports.EventSessionData && e.SessionData.Get(KeyAlias) == keys.Alias {
					return true
				}
			}
			return false
		})
		var sd *transports.SessionData
		for _, e := range evs {
			if e.Kind == transports.EventSessionData {
				sd = e.SessionData
			}
		}
		if sd.Get(KeySecureKey) != keys.SecureKey || sd.Get(KeyUserID) != keys.UserID || sd.Get(KeySessionID) != chat.ID() {
			t.Fatalf("session data after move: %v", sd)
		}
		if got := c.SessionData(); got.Get(KeySecureKey) != keys.SecureKey {
			t.Fatal("SessionData() has the old secureKey")
		}
		if _, err := c.Send(ctx, transports.Outgoing{Text: "with the new key"}); err != nil {
			t.Fatal(err)
		}
		c.rec.WaitFor(t, "agent after move", msgWith(transports.TypeMessage, transports.ParticipantAgent, "after the move"))
		waitIndex(t, c, chat)
		checkTranscript(t, c, chat)
	})
}

// TestSessionLost: GMS no longer accepts the session (the old secureKey has
// no grace after a move) → EventEnded{EndedSessionLost}.
func TestSessionLost(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, _, c, chat := startModeChat(t, mk, simgms.Options{KeyGrace: -1})
		chat.MoveChatServer(simgms.MoveOptions{})
		_, err := c.SendCustomNotice(ctx, "hello?", nil)
		evs := c.rec.WaitClosed(t)
		last := evs[len(evs)-1]
		if last.Kind != transports.EventEnded || last.Reason != transports.EndedSessionLost {
			t.Fatalf("last event %v (%v), want ended(sessionLost)", last, last.Err)
		}
		if err != nil && !errors.Is(err, transports.ErrSessionEnded) {
			t.Fatalf("notice error %v, want ErrSessionEnded", err)
		}
		var te *transports.TransportError
		if !errors.As(last.Err, &te) || len(te.Errors) == 0 {
			t.Fatalf("end cause %v, want the GMS error", last.Err)
		}
	})
}

// TestAgentEndsChat: chatEnded from the server → agents' leaves, then
// EventEnded{EndedByServer}, stream closed.
func TestAgentEndsChat(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		_, _, c, chat := startModeChat(t, mk, simgms.Options{})
		chat.JoinAgent("Ann")
		chat.JoinSupervisor("Sam")
		chat.End()
		evs := c.rec.WaitClosed(t)
		last := evs[len(evs)-1]
		if last.Kind != transports.EventEnded || last.Reason != transports.EndedByServer {
			t.Fatalf("last event %v", last)
		}
		left := 0
		for _, m := range messages(evs) {
			if m.Type == transports.TypeParticipantLeft {
				left++
			}
		}
		if left != 2 {
			t.Fatalf("%d leaves delivered, want 2", left)
		}
		checkTranscript(t, c, chat)
	})
}

// TestIdle: IdleAlert → EventIdleAlert{secondsLeft}; IdleClose →
// EventIdleClose then EventEnded{EndedIdle}; the raw messages are delivered too.
func TestIdle(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		_, _, c, chat := startModeChat(t, mk, simgms.Options{Idle: simgms.IdleOptions{Enabled: true, Close: 30 * time.Second}})
		if err := chat.IdleAlert(); err != nil {
			t.Fatal(err)
		}
		evs := c.rec.WaitFor(t, "idle alert", hasKind(transports.EventIdleAlert))
		for _, e := range evs {
			if e.Kind == transports.EventIdleAlert && e.IdleSecondsLeft != 30 {
				t.Fatalf("secondsLeft %d, want 30", e.IdleSecondsLeft)
			}
		}
		if !hasMessage(evs, transports.TypeIdleAlert, transports.ParticipantExternal, "") {
			t.Fatal("IdleAlert message not delivered")
		}
		if err := chat.IdleClose(); err != nil {
			t.Fatal(err)
		}
		evs = c.rec.WaitClosed(t)
		var seq []transports.EventKind
		for _, e := range evs {
			if e.Kind == transports.EventIdleClose || e.Kind == transports.EventEnded {
				seq = append(seq, e.Kind)
			}
		}
		if len(seq) != 2 || seq[0] != transports.EventIdleClose || evs[len(evs)-1].Reason != transports.EndedIdle {
			t.Fatalf("events %v, want idleClose then ended(idle)", transporttest.Kinds(evs))
		}
	})
}

// TestDuplicates: every notification twice (CometD) and a repeated event in
// every REST transcript: nothing is delivered twice.
func TestDuplicates(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, s, c, chat := startModeChat(t, mk, simgms.Options{})
		s.SetDuplicateDelivery(true)
		ann, _ := chat.JoinAgent("Ann")
		for i := 0; i < 5; i++ {
			ann.Send(fmt.Sprint("m", i))
			if _, err := c.Send(ctx, transports.Outgoing{Text: fmt.Sprint("c", i)}); err != nil {
				t.Fatal(err)
			}
		}
		waitIndex(t, c, chat)
		s.SetDuplicateDelivery(false)
		checkTranscript(t, c, chat)
	})
}

// TestIndexGaps: GMS skips indexes; the transport never waits for a gap to
// fill and keeps the order.
func TestIndexGaps(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		_, _, c, chat := startModeChat(t, mk, simgms.Options{SkipIndexEvery: 2})
		ann, _ := chat.JoinAgent("Ann")
		for i := 0; i < 6; i++ {
			ann.Send(fmt.Sprint("m", i))
		}
		waitIndex(t, c, chat)
		checkTranscript(t, c, chat)
	})
}

// concurrentSends: sends from several goroutines are all delivered once.
func TestConcurrentSends(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, _, c, chat := startModeChat(t, mk, simgms.Options{})
		var wg sync.WaitGroup
		seen := make(chan int64, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sent, err := c.Send(ctx, transports.Outgoing{Text: "same text"})
				if err != nil {
					t.Error(err)
					return
				}
				seen <- sent.Index
			}(i)
		}
		wg.Wait()
		close(seen)
		idx := map[int64]bool{}
		for i := range seen {
			if idx[i] {
				t.Errorf("index %d returned twice", i)
			}
			idx[i] = true
		}
		if n := clientSaid(chat, "same text"); n != 8 {
			t.Errorf("stored %d, want 8", n)
		}
		waitIndex(t, c, chat)
		checkTranscript(t, c, chat)
	})
}

// TestAmbiguousSendError: when ctx ends while a send's outcome is unknown,
// Send returns *transports.AmbiguousSendError with the cursor to resend
// with; the resend finds the first attempt and sends nothing.
func TestAmbiguousSendError(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx := testCtx(t)
		s := startSim(t, simgms.Options{})
		cfg := mk(s)
		cfg.AjaxTimeout = 200
		c := newClient(t, cfg)
		chat := c.startChat(t, ctx, s)
		before := c.Cursor()
		s.SetDelay(1500 * time.Millisecond)
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := c.Send(sctx, transports.Outgoing{Text: "maybe"})
		cancel()
		var amb *transports.AmbiguousSendError
		if !errors.As(err, &amb) || amb.Since != before {
			t.Fatalf("Send = %v, want AmbiguousSendError since %+v", err, before)
		}
		if _, err := chat.WaitEvent(ctx, "Message", nil); err != nil {
			t.Fatal(err)
		}
		s.SetDelay(0)
		sent, err := c.Send(ctx, transports.Outgoing{Text: "maybe", Since: &amb.Since})
		if err != nil || !sent.Deduplicated {
			t.Fatalf("resend = %+v, %v", sent, err)
		}
		if n := clientSaid(chat, "maybe"); n != 1 {
			t.Fatalf("stored %d times", n)
		}
	})
}

// TestAutoCancelIdleTimer: with autoCancelIdleTimer, the first typing after an IdleAlert sends
// one cancel-idle-timer customNotice (Chat Server then restarts its idle timers); later typing
// sends none until the next alert; without the option typing never does.
func TestAutoCancelIdleTimer(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprint("autoCancelIdleTimer=", on), func(t *testing.T) {
				ctx := testCtx(t)
				s := startSim(t, simgms.Options{Idle: simgms.IdleOptions{Enabled: true, Close: 30 * time.Second}})
				cfg := mk(s)
				cfg.AutoCancelIdleTimer = on
				c := newClient(t, cfg)
				chat := c.startChat(t, ctx, s)
				cancels := func() int {
					n := 0
					for _, e := range chat.Transcript() {
						if e.Type == wire.EventCustomNotice && e.EventAttributes["purpose"] == "cancel-idle-timer" {
							n++
						}
					}
					return n
				}
				if err := c.Typing(ctx, "be", true); err != nil {
					t.Fatal(err)
				}
				if n := cancels(); n != 0 {
					t.Fatalf("%d notices before any alert", n)
				}
				if err := chat.IdleAlert(); err != nil {
					t.Fatal(err)
				}
				c.rec.WaitFor(t, "idle alert", hasKind(transports.EventIdleAlert))
				for range 2 {
					if err := c.Typing(ctx, "still here", true); err != nil {
						t.Fatal(err)
					}
				}
				want := 0
				if on {
					want = 1
				}
				if n := cancels(); n != want {
					t.Fatalf("%d cancel-idle-timer notices after an alert and two typings, want %d", n, want)
				}
				if ended, _ := chat.Ended(); ended {
					t.Fatal("the chat ended")
				}
			})
		}
	})
}
