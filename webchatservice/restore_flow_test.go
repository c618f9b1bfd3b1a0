package webchatservice_test

// Restore (§3.13, §6.6) with the memory store: within and after restoreTimeout, every
// Resolutions row of restore in mode P, verifySession waiting for a running restore.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/prefilter"
	"github.com/cxbus/webchat/restore"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

// gateStore is a real store whose Load a test can hide (the snapshot looks absent) or hold
// (Load waits until released), to reach the restore command's rows deterministically.
type gateStore struct {
	restore.Store
	hide  atomic.Bool
	hold  atomic.Pointer[chan struct{}]
	loads atomic.Int32
}

func (g *gateStore) Load(ctx context.Context, id string) (*restore.Snapshot, error) {
	g.loads.Add(1)
	if p := g.hold.Load(); p != nil {
		select {
		case <-*p:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if g.hide.Load() {
		return nil, fmt.Errorf("%w: %s (hidden by the test)", restore.ErrNotFound, id)
	}
	return g.Store.Load(ctx, id)
}

// holdLoads makes Load wait until the returned func is called.
func (g *gateStore) holdLoads() (release func()) {
	ch := make(chan struct{})
	g.hold.Store(&ch)
	return func() { g.hold.Store(nil); close(ch) }
}

// storeOptions is a session against sim that persists into store under id.
func storeOptions(sim *simpc.Server, store restore.Store, id string, extra map[string]any) webchatservice.Options {
	o := pcOptions(sim, extra)
	o.Store, o.SessionID = store, id
	return o
}

// firstSession runs a chat (guest "m1", agent "a1", a custom prefilter) and closes the service
// without ending the chat, leaving its snapshot in store. clock, when set, drives the service.
func firstSession(t *testing.T, sim *simpc.Server, store restore.Store, id string, extra map[string]any, clock transports.Clock) *simpc.Conversation {
	t.Helper()
	o := storeOptions(sim, store, id, extra)
	if clock != nil {
		o.Clock, o.Transport.Clock = clock, transports.SystemClock()
	}
	a := newTS(t, o)
	a.must(webchatservice.CmdVerifySession, nil) // the self-restore found nothing
	a.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	a.wait(webchatservice.EventAgentConnected)
	a.must(webchatservice.CmdAddPrefilter, map[string]any{"filters": "/^secret/"})
	a.must(webchatservice.CmdSendMessage, map[string]any{"message": "m1"})
	if _, err := conv.Say("a1", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	a.waitMsg("a1", false)
	a.sync()
	a.close()
	snap, err := store.Load(ctxT(t), id)
	if err != nil {
		t.Fatalf("no snapshot after close: %v", err)
	}
	if len(snap.Transcript) == 0 || len(snap.Prefilters) != 1 {
		t.Fatalf("snapshot: %d messages, prefilters %v", len(snap.Transcript), snap.Prefilters)
	}
	return conv
}

// Within restoreTimeout the service restores itself at start: the stored transcript is replayed
// with restoring:true, then restored, then what the agent said meanwhile with restoring:false.
func TestRestoreWithinTimeout(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	store := restore.NewMemoryStore()
	conv := firstSession(t, sim, store, "within-1", nil, nil)
	if _, err := conv.Say("a2 while away", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}

	b := newTS(t, storeOptions(sim, store, "within-1", nil))
	if v := b.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":true}` {
		t.Fatalf("verifySession after restore: %s; events %v", dump(v), b.log.names())
	}
	replay, ri := b.log.waitFrom(t, 0, webchatservice.EventMessageReceived, func(e bus.Event) bool {
		return e.Data.(webchatservice.MessageReceived).Restoring
	})
	mr := replay.Data.(webchatservice.MessageReceived)
	if !hasText(mr.Messages, "m1") || !hasText(mr.Messages, "a1") || hasText(mr.Messages, "a2 while away") {
		t.Errorf("replay %s", dump(mr.Messages))
	}
	if len(mr.OriginalMessages) != len(mr.Messages) || mr.SessionData["jwt"] != transports.Redacted {
		t.Errorf("replay payload: %d originals for %d messages, sessionData %v", len(mr.OriginalMessages), len(mr.Messages), mr.SessionData)
	}
	restored, rdi := b.log.waitFrom(t, 0, webchatservice.EventRestored, nil)
	if dump(restored.Data) != `{"async":false}` {
		t.Errorf("restored payload %s", dump(restored.Data))
	}
	_, ni := b.log.waitFrom(t, 0, webchatservice.EventMessageReceived, func(e bus.Event) bool {
		mr := e.Data.(webchatservice.MessageReceived)
		return !mr.Restoring && hasText(mr.Messages, "a2 while away")
	})
	if !(ri < rdi && rdi < ni) {
		t.Errorf("order: replay at %d, restored at %d, new message at %d; events %v", ri, rdi, ni, b.log.names())
	}
	if got := b.received(false); got["m1"]+got["a1"] != 0 || got["a2 while away"] != 1 {
		t.Errorf("restoring:false deliveries %v", got)
	}
	// The restored session is whole: agents, prefilters, sending.
	agents := b.must(webchatservice.CmdGetAgents, nil).(webchatservice.AgentsResult).Agents
	if a := agents[conv.AgentID()]; !a.Connected || a.Name != "Alex" {
		t.Errorf("agents after restore %s", dump(agents))
	}
	fs := b.must(webchatservice.CmdAddPrefilter, map[string]any{"filters": "/^secret/"}).([]*prefilter.Filter)
	if len(fs) != 1 {
		t.Errorf("prefilters after restore %v", fs)
	}
	if _, err := conv.Say("secret 42", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	b.must(webchatservice.CmdSendMessage, map[string]any{"message": "m2"})
	b.waitMsg("m2", false)
	if got := b.received(false); got["secret 42"] != 0 {
		t.Error("the restored prefilter did not hide the message")
	}
	if guestCount(conv, "m1") != 1 || guestCount(conv, "m2") != 1 {
		t.Errorf("server has %q", conv.GuestMessages())
	}
	if active, _ := b.app.Get("WebChatService.sessionActive"); active != true {
		t.Errorf("data sessionActive = %v", active)
	}
}

// restoreTimeout is measured from the last server contact, on the service's clock.
func TestRestoreTimeoutWindow(t *testing.T) {
	t0 := time.Now()
	tests := []struct {
		name     string
		cfg      map[string]any
		after    time.Duration
		restored bool
	}{
		{"default 60 s: 59.999 s later restores", nil, 60*time.Second - time.Millisecond, true},
		{"default 60 s: 60 s later times out", nil, 60 * time.Second, false},
		{"restoreTimeout 5000: 4.999 s later restores", map[string]any{"restoreTimeout": 5000}, 5*time.Second - time.Millisecond, true},
		{"restoreTimeout 5000: 5 s later times out", map[string]any{"restoreTimeout": 5000}, 5 * time.Second, false},
		{"restoreTimeout 5000: an hour later times out", map[string]any{"restoreTimeout": 5000}, time.Hour, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, fastSimOptions())
			store := &gateStore{Store: restore.NewMemoryStore()}
			id := fmt.Sprintf("window-%d", i)
			conv := firstSession(t, sim, store, id, tc.cfg, transports.NewFakeClock(t0))

			o := storeOptions(sim, store, id, tc.cfg)
			o.Clock, o.Transport.Clock = transports.NewFakeClock(t0.Add(tc.after)), transports.SystemClock()
			store.hide.Store(true)
			b := newTS(t, o)
			b.must(webchatservice.CmdVerifySession, nil) // the self-restore saw nothing
			store.hide.Store(false)
			_, err := b.self(webchatservice.CmdRestore, nil)
			b.sync()
			if tc.restored {
				if err != nil {
					t.Fatalf("restore: %v; events %v", err, b.log.names())
				}
				b.wait(webchatservice.EventRestored)
				if n := b.log.count(webchatservice.EventRestoreTimeout); n != 0 {
					t.Error("restoreTimeout published")
				}
				b.must(webchatservice.CmdSendMessage, map[string]any{"message": "still here"})
				return
			}
			rejects(t, err, webchatservice.ErrNoSessionToRestore, "No chat session found to restore.")
			if !errors.Is(err, restore.ErrExpired) {
				t.Errorf("the cause (expired) is not reachable: %#v", err)
			}
			if n := b.log.count(webchatservice.EventRestoreTimeout); n != 1 {
				t.Errorf("restoreTimeout published %d times; events %v", n, b.log.names())
			}
			for _, ev := range []string{webchatservice.EventRestored, webchatservice.EventRestoreFailed, webchatservice.EventMessageReceived} {
				if n := b.log.count(ev); n != 0 {
					t.Errorf("%s published", ev)
				}
			}
			if _, err := store.Load(ctxT(t), id); !errors.Is(err, restore.ErrNotFound) {
				t.Errorf("expired snapshot not deleted: %v", err)
			}
			if v := b.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":false}` {
				t.Errorf("verifySession %s", dump(v))
			}
			if ended, _ := conv.Ended(); ended {
				t.Error("the chat was ended on the server")
			}
			// A new chat can start.
			b.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
		})
	}
}

// §3.13 restore in mode P, row by row.
func TestResolutionsRestore(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	const (
		textDenied     = "Access Denied to private command. Only WebChatService is allowed to invoke this command in Non-Async mode."
		textRestoring  = "Already restoring. Ignoring request."
		textActive     = "Chat session is already active, ignoring restore command."
		textNotFound   = "No chat session found to restore."
		textAsync      = "Invalid configuration. WebChatService supports Async chat only in CometD mode."
		textCustomer   = "customer disconnected, conversation ended"
		textConvState  = "failed to retrieve conversation state"
		sessionDataOpt = "sessionData"
	)

	t.Run("resolved: session found and resumed", func(t *testing.T) {
		store := &gateStore{Store: restore.NewMemoryStore()}
		firstSession(t, sim, store, "row-ok", nil, nil)
		store.hide.Store(true)
		b := newTS(t, storeOptions(sim, store, "row-ok", nil))
		b.must(webchatservice.CmdVerifySession, nil)
		store.hide.Store(false)
		if v, err := b.self(webchatservice.CmdRestore, nil); err != nil || v != nil {
			t.Fatalf("restore: %v, %v", v, err)
		}
		b.wait(webchatservice.EventRestored)
	})

	t.Run("rejected: external caller, non-async", func(t *testing.T) {
		store := restore.NewMemoryStore()
		firstSession(t, sim, store, "row-denied", nil, nil)
		b := newTS(t, storeOptions(sim, store, "row-denied", nil))
		b.must(webchatservice.CmdVerifySession, nil)
		for _, opts := range []any{nil, map[string]any{sessionDataOpt: map[string]any{"conversationId": "x"}}, map[string]any{"async": map[string]any{"enabled": false}}} {
			_, err := b.cmd(webchatservice.CmdRestore, opts)
			rejects(t, err, webchatservice.ErrRestoreAccessDenied, textDenied)
		}
		_, err := b.cli.Plugin().Command(ctxT(t), "WebChatService.restore", nil)
		rejects(t, err, webchatservice.ErrRestoreAccessDenied, textDenied)
	})

	t.Run("rejected: a restore is running (verifySession waits for it)", func(t *testing.T) {
		store := &gateStore{Store: restore.NewMemoryStore()}
		firstSession(t, sim, store, "row-running", nil, nil)
		release := store.holdLoads()
		b := newTS(t, storeOptions(sim, store, "row-running", nil)) // self-restore now waits in Load
		verify := b.app.CommandAsync(ctxT(t), "WebChatService.verifySession", nil)
		_, err := b.self(webchatservice.CmdRestore, nil)
		rejects(t, err, webchatservice.ErrAlreadyRestoring, textRestoring)
		if _, _, settled := verify.Peek(); settled {
			t.Error("verifySession settled while the restore runs")
		}
		release()
		v, err := verify.Wait(ctxT(t))
		if err != nil || dump(v) != `{"sessionActive":true}` {
			t.Fatalf("verifySession after the restore: %s, %v", dump(v), err)
		}
		b.wait(webchatservice.EventRestored)
	})

	t.Run("rejected: a session is active", func(t *testing.T) {
		store := restore.NewMemoryStore()
		firstSession(t, sim, store, "row-active", nil, nil)
		b := newTS(t, storeOptions(sim, store, "row-active", nil))
		b.wait(webchatservice.EventRestored)
		_, err := b.self(webchatservice.CmdRestore, nil)
		rejects(t, err, webchatservice.ErrRestoreWhileActive, textActive)
		// A fresh chat too.
		c, _ := active(t, sim, storeOptions(sim, restore.NewMemoryStore(), "row-active-2", nil))
		_, err = c.self(webchatservice.CmdRestore, nil)
		rejects(t, err, webchatservice.ErrRestoreWhileActive, textActive)
	})

	t.Run("rejected: no stored session (no store)", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.self(webchatservice.CmdRestore, nil)
		rejects(t, err, webchatservice.ErrNoSessionToRestore, textNotFound)
	})

	t.Run("rejected: no stored session (empty store)", func(t *testing.T) {
		s := newTS(t, storeOptions(sim, restore.NewMemoryStore(), "row-empty", nil))
		s.must(webchatservice.CmdVerifySession, nil)
		_, err := s.self(webchatservice.CmdRestore, nil)
		rejects(t, err, webchatservice.ErrNoSessionToRestore, textNotFound)
		s.sync()
		for _, ev := range []string{webchatservice.EventRestoreTimeout, webchatservice.EventRestoreFailed, webchatservice.EventRestored} {
			if n := s.log.count(ev); n != 0 {
				t.Errorf("%s published for a missing snapshot", ev)
			}
		}
	})

	t.Run("rejected [ours]: async requested in mode P", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdRestore, map[string]any{"async": map[string]any{"enabled": true}, sessionDataOpt: map[string]any{"conversationId": "c"}})
		rejects(t, err, webchatservice.ErrAsyncOnlyCometD, textAsync)
	})

	t.Run("rejected: P own member already disconnected", func(t *testing.T) {
		store := &gateStore{Store: restore.NewMemoryStore()}
		conv := firstSession(t, sim, store, "row-ended", nil, nil)
		if err := conv.End(); err != nil {
			t.Fatal(err)
		}
		store.hide.Store(true)
		b := newTS(t, storeOptions(sim, store, "row-ended", nil))
		b.must(webchatservice.CmdVerifySession, nil)
		store.hide.Store(false)
		_, err := b.self(webchatservice.CmdRestore, nil)
		rejects(t, err, webchatservice.ErrCustomerDisconnected, textCustomer)
		rf := b.wait(webchatservice.EventRestoreFailed).Data.(webchatservice.RestoreFailed)
		if rf.Reason != webchatservice.RestoreFailedEnded || rf.Error == "" {
			t.Errorf("restoreFailed %s", dump(rf))
		}
		if v := b.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":false}` {
			t.Errorf("verifySession %s", dump(v))
		}
		b.close() // flushes the snapshot writes
		if _, err := store.Load(ctxT(t), "row-ended"); !errors.Is(err, restore.ErrNotFound) {
			t.Errorf("snapshot of an ended chat kept: %v", err)
		}
	})

	for _, tc := range []struct {
		name   string
		fault  simpc.HTTPFault
		reason string
	}{
		{"server (403)", simpc.HTTPFault{Op: simpc.OpGetMember, Status: 403, Times: -1}, webchatservice.RestoreFailedServer},
		{"server (500)", simpc.HTTPFault{Op: simpc.OpGetMember, Status: 500, Times: -1}, webchatservice.RestoreFailedNetwork},
		{"network", simpc.HTTPFault{Op: simpc.OpGetMember, Drop: true, Times: -1}, webchatservice.RestoreFailedNetwork},
	} {
		t.Run("rejected: P conversation state unreadable, "+tc.name, func(t *testing.T) {
			store := &gateStore{Store: restore.NewMemoryStore()}
			id := "row-unreadable"
			conv := firstSession(t, sim, store, id, nil, nil)
			store.hide.Store(true)
			b := newTS(t, storeOptions(sim, store, id, nil))
			b.must(webchatservice.CmdVerifySession, nil)
			store.hide.Store(false)
			sim.InjectHTTP(tc.fault)
			_, err := b.self(webchatservice.CmdRestore, nil)
			sim.ClearFaults()
			rejects(t, err, webchatservice.ErrConversationState, textConvState)
			rf := b.wait(webchatservice.EventRestoreFailed).Data.(webchatservice.RestoreFailed)
			if rf.Reason != tc.reason || rf.Error == "" {
				t.Errorf("restoreFailed %s, want reason %q", dump(rf), tc.reason)
			}
			// The stored session stays: a later restore within the window succeeds.
			if _, err := store.Load(ctxT(t), id); err != nil {
				t.Fatalf("snapshot deleted after a %s failure: %v", tc.reason, err)
			}
			if _, err := b.self(webchatservice.CmdRestore, nil); err != nil {
				t.Fatalf("second restore: %v", err)
			}
			b.wait(webchatservice.EventRestored)
			b.must(webchatservice.CmdSendMessage, map[string]any{"message": "after retry"})
			if guestCount(conv, "after retry") != 1 {
				t.Errorf("server has %q", conv.GuestMessages())
			}
		})
	}
}
