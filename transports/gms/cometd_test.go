package gms

import (
	"errors"
	"fmt"
	"net"
	"testing"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
	"github.com/cxbus/webchat/transports/transporttest"
)

// cometdModes runs f over WebSocket and long-polling.
func cometdModes(t *testing.T, f func(t *testing.T, ws bool)) {
	t.Run("ws", func(t *testing.T) { f(t, true) })
	t.Run("lp", func(t *testing.T) { f(t, false) })
}

// TestCometDFaults: dropped sockets, forgotten Bayeux sessions (402 →
// re-handshake) and a GMS restart: one disconnected/reconnected pair for a lost socket (none for a bare 402, a pair or none for a restart),
// requestNotifications from the cursor afterwards, nothing lost or repeated,
// and a send made meanwhile is delivered once.
func TestCometDFaults(t *testing.T) {
	faults := []struct {
		name   string
		inject func(s *simgms.Server, chat *simgms.Chat)
		wsOnly bool
		// down: the connection is lost (EventDisconnected/EventReconnected);
		// a bare 402 re-handshake is not a disconnect (Widgets).
		down func(ws bool) bool
		// maybeDown: a lost socket may be replaced before the client reports an
		// outage (fast re-dial, or the 402 re-handshake of a restart): one
		// disconnected/reconnected pair or none; never a lost or repeated message.
		maybeDown bool
	}{
		{"drop", func(s *simgms.Server, chat *simgms.Chat) { chat.DropCometD() }, true, func(bool) bool { return false }, true},
		{"forget", func(s *simgms.Server, chat *simgms.Chat) { chat.ForgetCometD() }, false, func(bool) bool { return false }, false},
		{"restart", func(s *simgms.Server, chat *simgms.Chat) { s.Restart() }, false, func(bool) bool { return false }, true},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			cometdModes(t, func(t *testing.T, ws bool) {
				if f.wsOnly && !ws {
					t.Skip("socket drops only affect WebSocket")
				}
				ctx := testCtx(t)
				s := startSim(t, simgms.Options{})
				c := newClient(t, cometConfig(s, ws))
				chat := c.startChat(t, ctx, s)
				ann, _ := chat.JoinAgent("Ann")
				ann.Send("before")
				c.rec.WaitFor(t, "before", msgWith(transports.TypeMessage, transports.ParticipantAgent, "before"))
				f.inject(s, chat)
				for i := 0; i < 3; i++ {
					ann.Send(fmt.Sprint("meanwhile ", i))
				}
				if _, err := c.Send(ctx, transports.Outgoing{Text: "client meanwhile"}); err != nil {
					t.Fatal(err)
				}
				down := f.down(ws)
				if down {
					c.rec.WaitFor(t, "reconnected", hasKind(transports.EventReconnected))
				}
				c.rec.WaitFor(t, "meanwhile", msgWith(transports.TypeMessage, transports.ParticipantAgent, "meanwhile 2"))
				ann.Send("after")
				evs := c.rec.WaitFor(t, "after", msgWith(transports.TypeMessage, transports.ParticipantAgent, "after"))
				d, r := count(evs, transports.EventDisconnected), count(evs, transports.EventReconnected)
				switch {
				case down:
					onceEach(t, evs, transports.EventDisconnected, transports.EventReconnected)
				case f.maybeDown:
					if d != r || d > 1 {
						t.Errorf("%d disconnected / %d reconnected, want a pair or none: %v", d, r, transporttest.Kinds(evs))
					}
				case d+r != 0:
					t.Errorf("a 402 re-handshake reported as a disconnect: %v", transporttest.Kinds(evs))
				}
				if n := clientSaid(chat, "client meanwhile"); n != 1 {
					t.Errorf("stored %d times", n)
				}
				waitIndex(t, c, chat)
				checkTranscript(t, c, chat)
			})
		})
	}
}

// TestCometDDroppedNotifications: unsolicited notifications lost on the way
// leave a gap; the transport asks for it before going on, so nothing is
// lost and the order is kept.
func TestCometDDroppedNotifications(t *testing.T) {
	cometdModes(t, func(t *testing.T, ws bool) {
		ctx := testCtx(t)
		s := startSim(t, simgms.Options{})
		c := newClient(t, cometConfig(s, ws))
		chat := c.startChat(t, ctx, s)
		ann, _ := chat.JoinAgent("Ann")
		c.rec.WaitFor(t, "agent", msgWith(transports.TypeParticipantJoined, transports.ParticipantAgent, ""))
		s.DropNotifications(2)
		for i := 0; i < 5; i++ {
			ann.Send(fmt.Sprint("m", i))
		}
		waitIndex(t, c, chat)
		checkTranscript(t, c, chat)
	})
}

// TestCometDServerTimeout: requestNotifications unanswered ServerTimeoutAfter
// times → one EventServerTimeout; when answers come back the session goes on.
func TestCometDServerTimeout(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{})
	c := newClient(t, cometConfig(s, true))
	c.set.notifyRetry = 100e6 // 100 ms
	c.set.timeoutAfter = 3
	chat := c.startChat(t, ctx, s)
	ann, _ := chat.JoinAgent("Ann")
	s.Bayeux().SetReplyDelay(2e9) // publishes are acknowledged after 2 s: every try times out
	chat.DropCometD()
	c.rec.WaitFor(t, "server timeout", hasKind(transports.EventServerTimeout))
	s.Bayeux().SetReplyDelay(0)
	ann.Send("back")
	evs := c.rec.WaitFor(t, "back", msgWith(transports.TypeMessage, transports.ParticipantAgent, "back"))
	c.rec.WaitFor(t, "reconnected", hasKind(transports.EventReconnected))
	if n := count(evs, transports.EventServerTimeout); n != 1 {
		t.Errorf("%d server timeouts", n)
	}
	waitIndex(t, c, chat)
	checkTranscript(t, c, chat)
}

// TestCometDStartHandshakeFails: five failed handshakes while starting →
// Start fails with statusCode 1 (Widgets' rejection), nothing left running.
func TestCometDStartHandshakeFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ws := false
	c := newClient(t, Config{CometD: CometDConfig{Enabled: true, CometURL: "http://" + addr + "/genesys/cometd", WebsocketEnabled: &ws}})
	_, err = c.Start(testCtx(t), transports.StartRequest{Nickname: "Joan"})
	var te *transports.TransportError
	if !errors.As(err, &te) || te.StatusCode != 1 || te.Operation != "requestChat" {
		t.Fatalf("Start error %v, want a TransportError with statusCode 1", err)
	}
	if c.SessionData().IsZero() != true {
		t.Fatal("session data after a failed start")
	}
}

// TestCometDReplacesClientThatGaveUp: after the start, a Bayeux client that
// gives up (too many failed handshakes) is replaced; the chat goes on.
func TestCometDReplacesClientThatGaveUp(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{})
	ws := false
	c := newClient(t, cometConfig(s, ws))
	chat := c.startChat(t, ctx, s)
	ann, _ := chat.JoinAgent("Ann")
	s.Bayeux().FailRequests(3*HandshakeAttempts, 503)
	chat.ForgetCometD()
	c.rec.WaitFor(t, "disconnected", hasKind(transports.EventDisconnected))
	ann.Send("survived")
	c.rec.WaitFor(t, "survived", msgWith(transports.TypeMessage, transports.ParticipantAgent, "survived"))
	evs := c.rec.WaitFor(t, "reconnected", hasKind(transports.EventReconnected))
	onceEach(t, evs, transports.EventDisconnected, transports.EventReconnected)
	waitIndex(t, c, chat)
	checkTranscript(t, c, chat)
}

// TestCometDDeprecatedIDs: notifications with "deprecated" ids and
// "monitored" never overwrite the stored keys.
func TestCometDDeprecatedIDs(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{CometDDeprecatedIDs: true, CometDMonitored: true})
	c := newClient(t, cometConfig(s, true))
	sd, err := c.Start(ctx, transports.StartRequest{FirstName: "Joan", LastName: "Smith"})
	if err != nil {
		t.Fatal(err)
	}
	chat := s.Chats()[0]
	ann, _ := chat.JoinAgent("Ann")
	ann.Send("hi")
	c.rec.WaitFor(t, "hi", msgWith(transports.TypeMessage, transports.ParticipantAgent, "hi"))
	got := c.SessionData()
	if got.Get(KeySecureKey) != chat.Keys().SecureKey || got.Get(KeySessionID) == "deprecated" || got.Get(KeyUserID) == "deprecated" {
		t.Fatalf("session data %v (start: %v)", got, sd)
	}
}

// TestPollingRejectedInCometD: CometD mode has no poller.
func TestPollingRejectedInCometD(t *testing.T) {
	s := startSim(t, simgms.Options{})
	c := newClient(t, cometConfig(s, true))
	if _, err := transports.AsPoller(c.Transport); !errors.Is(err, transports.ErrPollingUnsupported) {
		t.Fatalf("AsPoller: %v", err)
	}
	if _, err := c.Poll(testCtx(t)); !errors.Is(err, transports.ErrPollingUnsupported) {
		t.Fatalf("Poll: %v", err)
	}
	if ok, _ := c.Sleep(testCtx(t)); ok {
		t.Fatal("Sleep in CometD mode")
	}
}

// TestMatchGap: the gap check (asked from the last index processed, 4 here, with the gap
// revealed by index 6) takes only an answer that starts below 6; the notification that
// revealed the gap, delivered again late, or a later one, is not its answer.
func TestMatchGap(t *testing.T) {
	ans := func(status wire.StatusCode, ended bool, idx ...int) *answer {
		r := &wire.Response{StatusCode: status, ChatEnded: ended}
		for _, i := range idx {
			r.Messages = append(r.Messages, wire.Event{Index: i, Type: wire.EventMessage})
		}
		return &answer{resp: r}
	}
	match := matchGap(6)
	for _, tc := range []struct {
		name string
		a    *answer
		want bool
	}{
		{"the answer: the last seen, the missing, the revealing event", ans(wire.StatusOK, false, 4, 5, 6), true},
		{"the answer to a real gap: the last seen and the revealing event", ans(wire.StatusOK, false, 4, 6), true},
		{"a late duplicate of the revealing notification", ans(wire.StatusOK, false, 6), false},
		{"a later unsolicited notification", ans(wire.StatusOK, false, 7), false},
		{"a failure answers the check", ans(wire.StatusFailed, false), true},
		{"chatEnded answers the check", ans(wire.StatusOK, true, 7), true},
	} {
		if got := match(tc.a); got != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.name, got, tc.want)
		}
	}
}
