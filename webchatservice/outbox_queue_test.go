package webchatservice_test

// sendMessage while disconnected (§3.6, §6.9): the outbox keeps messages in order, sends each
// once after the reconnect, rejects when full, in reject mode, when the chat ends, and never
// sends a message whose caller was told it failed.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/restore"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

// goOffline refuses every socket attach until the test lifts it (sim.ClearFaults), drops the
// chat's sockets and waits for disconnected.
func goOffline(t *testing.T, s *ts, sim *simpc.Server, conv *simpc.Conversation) {
	t.Helper()
	from := s.log.len()
	sim.RefuseReconnects(time.Hour)
	conv.DropSockets(4000, "test drop")
	s.log.waitFrom(t, from, webchatservice.EventDisconnected, nil)
}

// goOnline lifts the refusal and waits for reconnected.
func goOnline(t *testing.T, s *ts, sim *simpc.Server) {
	t.Helper()
	from := s.log.len()
	sim.ClearFaults()
	s.log.waitFrom(t, from, webchatservice.EventReconnected, nil)
}

func sendAsync(t *testing.T, s *ts, text string) *bus.Result {
	return s.app.CommandAsync(ctxT(t), "WebChatService.sendMessage", map[string]any{"message": text})
}

func messageID(t *testing.T, v any) string {
	t.Helper()
	var m struct {
		ID string `json:"id"`
	}
	raw, ok := v.(json.RawMessage)
	if !ok || json.Unmarshal(raw, &m) != nil || m.ID == "" {
		t.Fatalf("resolution %s is not the posted message", dump(v))
	}
	return m.ID
}

// pending → resolved: messages sent while the socket is down resolve after the reconnect, in
// order, each sent once.
func TestOutboxQueueAcrossSocketDrop(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	goOffline(t, s, sim, conv)

	var res []*bus.Result
	for i := 1; i <= 5; i++ {
		res = append(res, sendAsync(t, s, fmt.Sprintf("q%d", i)))
	}
	s.sync() // every send reached the service
	for i, r := range res {
		if _, err, settled := r.Peek(); settled {
			t.Fatalf("q%d settled while disconnected: %v", i+1, err)
		}
	}
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[m0]" {
		t.Fatalf("sent while disconnected: %q", got)
	}
	goOnline(t, s, sim)
	ids := map[string]bool{}
	for i, r := range res {
		v, err := r.Wait(ctxT(t))
		if err != nil {
			t.Fatalf("q%d: %v", i+1, err)
		}
		ids[messageID(t, v)] = true
	}
	if len(ids) != 5 {
		t.Errorf("%d distinct message ids for 5 messages", len(ids))
	}
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[m0 q1 q2 q3 q4 q5]" {
		t.Errorf("server has %q, want each once, in order", got)
	}
	// The echoes come once each.
	s.waitMsg("q5", false)
	s.sync()
	for i := 1; i <= 5; i++ {
		if n := s.received(false)[fmt.Sprintf("q%d", i)]; n != 1 {
			t.Errorf("q%d echoed %d times", i, n)
		}
	}
}

// Before the socket first opens the session counts as disconnected too.
func TestOutboxBeforeFirstSocket(t *testing.T) {
	for _, mode := range []string{webchatservice.SendQueue, webchatservice.SendReject} {
		t.Run(mode, func(t *testing.T) {
			sim := startSim(t, fastSimOptions())
			sim.RefuseReconnects(time.Hour)
			s := newTS(t, pcOptions(sim, map[string]any{"sendWhileDisconnected": mode}))
			s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
			conv, err := sim.NextConversation(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			r := sendAsync(t, s, "early")
			if mode == webchatservice.SendReject {
				_, err := r.Wait(ctxT(t))
				rejects(t, err, webchatservice.ErrNotConnected, "Not connected to the chat server. Message was not sent.")
				sim.ClearFaults()
				s.wait(webchatservice.EventAgentConnected)
				if guestCount(conv, "early") != 0 {
					t.Error("a rejected message was sent")
				}
				return
			}
			s.sync()
			if _, _, settled := r.Peek(); settled {
				t.Fatal("settled before the socket opened")
			}
			sim.ClearFaults()
			if _, err := r.Wait(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if guestCount(conv, "early") != 1 {
				t.Errorf("server has %q", conv.GuestMessages())
			}
		})
	}
}

// rejected: disconnected, reject mode [ours].
func TestOutboxRejectMode(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, map[string]any{"sendWhileDisconnected": "reject"}))
	// A live frame comes after the transport's first connection: from then on sends go out.
	if _, err := conv.Say("welcome", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.waitMsg("welcome", false)
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	goOffline(t, s, sim, conv)
	_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "lost?"})
	rejects(t, err, webchatservice.ErrNotConnected, "Not connected to the chat server. Message was not sent.")
	_, err = s.cmd(webchatservice.CmdSendFilteredMessage, map[string]any{"message": "code:1", "regex": "/^code:/"})
	rejects(t, err, webchatservice.ErrNotConnected, "Not connected to the chat server. Message was not sent.")
	goOnline(t, s, sim)
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m1"})
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[m0 m1]" {
		t.Errorf("server has %q", got)
	}
}

// rejected: outbox full [ours].
func TestOutboxFull(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, map[string]any{"outboxLimit": 2}))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	goOffline(t, s, sim, conv)
	r1, r2 := sendAsync(t, s, "q1"), sendAsync(t, s, "q2")
	_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "q3"})
	rejects(t, err, webchatservice.ErrOutboxFull, "Message queue is full. Message was not sent.")
	goOnline(t, s, sim)
	for _, r := range []*bus.Result{r1, r2} {
		if _, err := r.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "q4"})
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[m0 q1 q2 q4]" {
		t.Errorf("server has %q", got)
	}
}

// If the session ends first, pending sends reject "There is no active chat session.".
func TestOutboxRejectedWhenChatEnds(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	goOffline(t, s, sim, conv)
	r1, r2 := sendAsync(t, s, "q1"), sendAsync(t, s, "q2")
	s.sync()
	s.must(webchatservice.CmdEndChat, nil)
	for _, r := range []*bus.Result{r1, r2} {
		_, err := r.Wait(ctxT(t))
		rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
	}
	sim.ClearFaults()
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[m0]" {
		t.Errorf("server has %q", got)
	}
}

// A pending send whose caller's deadline passed is never sent afterwards.
func TestOutboxDeadline(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	goOffline(t, s, sim, conv)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := s.app.Command(ctx, "WebChatService.sendMessage", map[string]any{"message": "too late"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("rejection %v, want the deadline", err)
	}
	later := sendAsync(t, s, "next")
	goOnline(t, s, sim)
	if _, err := later.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[m0 next]" {
		t.Errorf("server has %q: a message rejected to its caller was sent", got)
	}
}

// After an ambiguous failure (stored, but answered 500) the message is not sent twice.
func TestOutboxAmbiguousFailureSentOnce(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))
	sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 500, CommitThenFail: true})
	// The resolution after a deduplicated resend is nil (the transport has no answer body for a
	// message it found in the transcript); what matters here is one copy on the server.
	if _, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "once"}); err != nil {
		t.Fatal(err)
	}
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "after"})
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[once after]" {
		t.Errorf("server has %q", got)
	}
}

// The outbox is part of the snapshot: a message still queued when the process stops is sent
// once by the restored session.
func TestOutboxSurvivesRestart(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	store := restore.NewMemoryStore()
	a, conv := active(t, sim, storeOptions(sim, store, "outbox-1", nil))
	a.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	goOffline(t, a, sim, conv)
	pending := sendAsync(t, a, "queued at shutdown")
	a.sync()
	a.close()
	_, err := pending.Wait(ctxT(t))
	t.Logf("the caller of the queued message saw: %v", err)
	if err == nil {
		t.Fatal("resolved although never sent")
	}
	snap, err := store.Load(ctxT(t), "outbox-1")
	if err != nil || len(snap.Outbox) != 1 || snap.Outbox[0].Message != "queued at shutdown" {
		t.Fatalf("snapshot outbox %s, %v", dump(snap), err)
	}

	b := newTS(t, storeOptions(sim, store, "outbox-1", nil))
	b.wait(webchatservice.EventRestored)
	sim.ClearFaults()
	b.must(webchatservice.CmdSendMessage, map[string]any{"message": "after restart"})
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[m0 queued at shutdown after restart]" {
		t.Errorf("server has %q", got)
	}
}
