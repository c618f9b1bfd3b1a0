package purecloud_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud"
)

func TestEndByAgent(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	tr, rec := newClient(t, baseConfig(srv.URL))
	conv := startChat(t, ctx, srv, tr, rec)
	chatter(t, ctx, conv, tr, "chat", 2)
	if err := conv.End(); err != nil {
		t.Fatal(err)
	}
	ev := rec.WaitKind(t, transports.EventEnded)
	if ev.Reason != transports.EndedByServer {
		t.Fatalf("reason %q, want server", ev.Reason)
	}
	<-rec.Done()
	evs := rec.Events()
	if !hasMessage(evs, func(m transports.Message) bool {
		return m.Type == transports.TypeParticipantLeft && m.From.Type == transports.ParticipantAgent && m.From.Name == "Alex"
	}) {
		t.Fatal("no agent ParticipantLeft before the end")
	}
	if evs[len(evs)-1].Kind != transports.EventEnded || countKind(evs, transports.EventTransfer) != 0 {
		t.Fatalf("events: %v", evs)
	}
	checkTranscript(t, conv, rec, true)
	if _, err := tr.Send(ctx, transports.Outgoing{Text: "anyone?"}); !errors.Is(err, transports.ErrSessionEnded) {
		t.Fatalf("send after end: %v", err)
	}
}

// The chat ends while the socket is down: the reattach is closed (1001),
// the client confirms with #3 and reports the end.
func TestEndWhileDisconnected(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	tr, rec := newClient(t, baseConfig(srv.URL))
	conv := startChat(t, ctx, srv, tr, rec)
	conv.RefuseReconnects(time.Second)
	conv.AbortSockets()
	rec.WaitKind(t, transports.EventDisconnected)
	if _, err := conv.Say("last words", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := conv.End(); err != nil {
		t.Fatal(err)
	}
	ev := rec.WaitKind(t, transports.EventEnded)
	if ev.Reason != transports.EndedByServer {
		t.Fatalf("reason %q (%v), want server", ev.Reason, ev.Err)
	}
}

// A send into an ended conversation gets 400 chat.error.conversation.state:
// the send fails with ErrSessionEnded and the session ends.
func TestSendIntoEndedConversation(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	tr, rec := newClient(t, baseConfig(srv.URL))
	conv := startChat(t, ctx, srv, tr, rec)
	conv.StallSockets() // the end events never arrive on the socket
	if err := conv.End(); err != nil {
		t.Fatal(err)
	}
	_, err := tr.Send(ctx, transports.Outgoing{Text: "hello?"})
	var te *transports.TransportError
	if !errors.Is(err, transports.ErrSessionEnded) || !errors.As(err, &te) || te.Code != "chat.error.conversation.state" {
		t.Fatalf("err = %v", err)
	}
	if ev := rec.WaitKind(t, transports.EventEnded); ev.Reason != transports.EndedByServer {
		t.Fatalf("reason %q", ev.Reason)
	}
}

func TestTransferAndRequeue(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	tr, rec := newClient(t, baseConfig(srv.URL))
	conv := startChat(t, ctx, srv, tr, rec)
	alex := conv.AgentID()
	bea, err := conv.Transfer(simpc.AgentProfile{Name: "Bea"}, simpc.JoinOptions{Greeting: "Bea here"})
	if err != nil {
		t.Fatal(err)
	}
	evs := rec.WaitFor(t, "transfer event and Bea's greeting", func(evs []transports.Event) bool {
		return countKind(evs, transports.EventTransfer) == 1 && hasMessage(evs, textFrom("Bea here", transports.ParticipantAgent))
	})
	var left, joinedBea bool
	for _, m := range messages(evs) {
		if m.Type == transports.TypeParticipantLeft && m.From.ID == alex {
			if left {
				t.Fatal("Alex left twice")
			}
			left = true
		}
		if m.Type == transports.TypeParticipantJoined && m.From.ID == bea && m.From.Name == "Bea" {
			joinedBea = true
		}
	}
	for _, e := range evs {
		if e.Kind == transports.EventTransfer && e.Participant.ID != alex {
			t.Fatalf("transfer of %+v", e.Participant)
		}
	}
	if !left || !joinedBea {
		t.Fatalf("left=%v joinedBea=%v", left, joinedBea)
	}
	// Requeue: Bea leaves, nobody ends the chat.
	if err := conv.LeaveAgent(); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, "second transfer (requeue)", func(evs []transports.Event) bool { return countKind(evs, transports.EventTransfer) == 2 })
	if countKind(rec.Events(), transports.EventEnded) != 0 {
		t.Fatal("requeue ended the chat")
	}
	if _, err := tr.Send(ctx, transports.Outgoing{Text: "still there?"}); err != nil {
		t.Fatal(err)
	}
	checkTranscript(t, conv, rec, true)
}

func TestIdleTimeout(t *testing.T) {
	ctx := testCtx(t)
	o := fastSim()
	o.IdleTimeout = 700 * time.Millisecond
	srv := startSim(t, o)
	tr, rec := newClient(t, baseConfig(srv.URL))
	conv := startChat(t, ctx, srv, tr, rec)
	ev := rec.WaitKind(t, transports.EventEnded)
	if ev.Reason != transports.EndedByServer {
		t.Fatalf("reason %q", ev.Reason)
	}
	if ended, why := conv.Ended(); !ended || why != simpc.EndByIdle {
		t.Fatalf("sim ended=%v why=%v", ended, why)
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Run("REST 401", func(t *testing.T) {
		ctx := testCtx(t)
		srv := startSim(t, fastSim())
		tr, rec := newClient(t, baseConfig(srv.URL))
		conv := startChat(t, ctx, srv, tr, rec)
		conv.ExpireToken()
		if _, err := tr.Send(ctx, transports.Outgoing{Text: "hi"}); !errors.Is(err, transports.ErrSessionEnded) {
			t.Fatalf("err = %v", err)
		}
		if ev := rec.WaitKind(t, transports.EventEnded); ev.Reason != transports.EndedExpired {
			t.Fatalf("reason %q", ev.Reason)
		}
	})
	t.Run("reattach 4100", func(t *testing.T) {
		ctx := testCtx(t)
		srv := startSim(t, fastSim())
		tr, rec := newClient(t, baseConfig(srv.URL))
		conv := startChat(t, ctx, srv, tr, rec)
		conv.ExpireToken()
		conv.AbortSockets()
		if ev := rec.WaitKind(t, transports.EventEnded); ev.Reason != transports.EndedExpired {
			t.Fatalf("reason %q (%v)", ev.Reason, ev.Err)
		}
	})
	t.Run("JWT exp passes on the virtual clock", func(t *testing.T) {
		ctx := testCtx(t)
		o := fastSim()
		vc := simpc.NewVirtualClock(time.Now())
		o.Clock = vc
		o.HeartbeatInterval = -1
		o.JWTTTL = time.Hour
		o.IdleTimeout, o.DetachTimeout = -1, -1 // only the token expires
		srv := startSim(t, o)
		cfg := baseConfig(srv.URL)
		cfg.Transport.SocketHeartbeatTrackerInterval = 600000 // no heartbeats on a stopped clock
		tr, rec := newClient(t, cfg)
		if _, err := tr.Start(ctx, transports.StartRequest{Nickname: "Joan"}); err != nil {
			t.Fatal(err)
		}
		rec.WaitKind(t, transports.EventConnected)
		vc.Advance(2 * time.Hour)
		_, err := tr.Send(ctx, transports.Outgoing{Text: "hi"})
		if !errors.Is(err, transports.ErrSessionEnded) {
			t.Fatalf("err = %v", err)
		}
		if ev := rec.WaitKind(t, transports.EventEnded); ev.Reason != transports.EndedExpired {
			t.Fatalf("reason %q", ev.Reason)
		}
	})
}

func TestResume(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	cfg := baseConfig(srv.URL)
	a, recA := newClient(t, cfg)
	conv := startChat(t, ctx, srv, a, recA)
	chatter(t, ctx, conv, a, "first", 3)
	recA.WaitFor(t, "all delivered", func(evs []transports.Event) bool {
		return hasMessage(evs, textFrom("first guest 2", transports.ParticipantClient))
	})
	sd, cur := a.SessionData(), a.Cursor()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	<-recA.Done()
	if countKind(recA.Events(), transports.EventEnded) != 0 {
		t.Fatal("Close ended the chat")
	}
	// The agent keeps talking while no client is attached.
	for i := 0; i < 4; i++ {
		if _, err := conv.Say(fmt.Sprintf("while away %d", i), simpc.SayOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	b, recB := newClient(t, cfg)
	if err := b.Resume(ctx, sd, cur); err != nil {
		t.Fatal(err)
	}
	recB.WaitKind(t, transports.EventConnected)
	chatter(t, ctx, conv, b, "second", 2)
	recB.WaitFor(t, "last echo", func(evs []transports.Event) bool {
		return hasMessage(evs, textFrom("second guest 1", transports.ParticipantClient))
	})

	// A and B together delivered the transcript exactly once, in order.
	checkTranscript(t, conv, collected(append(recA.Events(), recB.Events()...)), true)
	for _, m := range messages(recB.Events()) {
		if m.Text == "first agent 0" {
			t.Fatal("resume re-delivered old messages")
		}
	}
	if err := b.End(ctx); err != nil {
		t.Fatal(err)
	}
	<-recB.Done()

	// Resuming an ended chat fails with ErrSessionEnded.
	c, _ := newClient(t, cfg)
	if err := c.Resume(ctx, sd, cur); !errors.Is(err, transports.ErrSessionEnded) {
		t.Fatalf("resume of an ended chat: %v", err)
	}
	d, _ := newClient(t, cfg)
	if err := d.Resume(ctx, transports.SessionData{Transport: transports.TypePureCloud}, transports.Cursor{}); !errors.Is(err, transports.ErrInvalidConfig) {
		t.Fatalf("resume without keys: %v", err)
	}
}

func TestHistoryPaging(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	cfg := baseConfig(srv.URL)
	cfg.Transport.MaxMessagePageSize = 40
	a, recA := newClient(t, cfg)
	conv := startChat(t, ctx, srv, a, recA)
	const n = 130
	for i := 0; i < n; i++ {
		if _, err := conv.Say(fmt.Sprintf("line %03d", i), simpc.SayOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	recA.WaitFor(t, "last line", func(evs []transports.Event) bool {
		return hasMessage(evs, textFrom(fmt.Sprintf("line %03d", n-1), transports.ParticipantAgent))
	})
	sd, cur := a.SessionData(), a.Cursor()
	_ = a.Close()

	// A fresh client resumed at the end pages backwards through everything.
	b, _ := newClient(t, cfg)
	if err := b.Resume(ctx, sd, cur); err != nil {
		t.Fatal(err)
	}
	var pages [][]transports.Message
	for {
		p, err := b.FetchHistory(ctx)
		if errors.Is(err, transports.ErrNoMoreMessages) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p.Messages)
		if len(pages) > 10 {
			t.Fatal("paging does not end")
		}
	}
	var got []string
	for i := len(pages) - 1; i >= 0; i-- {
		for _, m := range pages[i] {
			if m.Type == transports.TypeMessage {
				got = append(got, m.ID)
			}
		}
	}
	want := chatIDs(conv)
	want = want[:len(want)-1] // the cursor message itself is not "older"
	if len(got) != len(want) {
		t.Fatalf("history has %d messages, transcript %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("history order differs at %d", i)
		}
	}
	if len(pages) < 4 {
		t.Fatalf("%d pages for %d messages with page size 40", len(pages), n)
	}
	for _, m := range pages[0] {
		if m.Type == transports.TypeMessage && m.From.Type != transports.ParticipantAgent {
			t.Fatalf("history sender %+v", m.From)
		}
	}

	cfg.Transport.Pagination = new(bool)
	c, _ := newClient(t, cfg)
	if err := c.Resume(ctx, sd, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchHistory(ctx); !errors.Is(err, transports.ErrHistoryNotEnabled) {
		t.Fatalf("pagination off: %v", err)
	}
	if c.Capabilities().Pagination {
		t.Fatal("capabilities say pagination")
	}
}

func TestBotEvents(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		t.Run(fmt.Sprint("botEventsEnabled=", enabled), func(t *testing.T) {
			ctx := testCtx(t)
			o := fastSim()
			o.Script.Workflow, o.Script.WorkflowName, o.Script.WorkflowGreeting = true, "Flow", "Welcome!"
			srv := startSim(t, o)
			cfg := baseConfig(srv.URL)
			cfg.Transport.BotEventsEnabled = enabled
			tr, rec := newClient(t, cfg)
			conv := startChat(t, ctx, srv, tr, rec)
			evs := rec.WaitFor(t, "greeting", func(evs []transports.Event) bool {
				return hasMessage(evs, textFrom("Welcome!", transports.ParticipantExternal))
			})
			bots := 0
			for _, m := range messages(evs) {
				if m.From.Type == transports.ParticipantBot && m.IsParticipantEvent() {
					bots++
				}
			}
			if want := map[bool]int{false: 0, true: 2}[enabled]; bots != want {
				t.Fatalf("%d bot join/leave messages, want %d", bots, want)
			}
			checkTranscript(t, conv, rec, true)
		})
	}
}

func TestUnsupportedOperations(t *testing.T) {
	tr, _ := newClient(t, baseConfig("http://127.0.0.1:1"))
	checks := []struct {
		err  error
		want string
	}{
		{func() error { _, err := transports.AsFiles(tr); return err }(), "This transport doesn't support file uploads."},
		{transports.FileOpError(transports.FileOpDownload), "This transport doesn't support file download."},
		{transports.FileOpError(transports.FileOpLimits), "This transport doesn't support getFileLimits command."},
		{func() error { _, err := transports.AsNotices(tr); return err }(), "This transport doesn't support sendCustomNotice command."},
		{func() error { _, err := transports.AsUserDataUpdater(tr); return err }(), "This transport doesn't support updating userData during an active chat session."},
		{func() error { _, err := transports.AsPoller(tr); return err }(), "This transport doesn't support polling."},
	}
	for _, c := range checks {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("got %v, want %q", c.err, c.want)
		}
	}
	if _, err := transports.AsHistory(tr); err != nil {
		t.Errorf("purecloud has history: %v", err)
	}
	caps := tr.Capabilities().Published()
	if !caps["pagination"] || caps["fileUpload"] || caps["async"] {
		t.Errorf("capabilities %v", caps)
	}
	var _ transports.History = (*purecloud.Transport)(nil)
}
