package webchatservice_test

// Restore in the GMS modes (§3.13, §6.6): within the window from the memory store, the chat
// already ended (restoreFailed "ended"), server/network failure (AJAX Response Object, session
// kept), and the async chat of mode C (external restore with sessionData, fetchHistory pages).
// restoredOffline is in restore_offline_test.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/restore"
	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

func gmsOptions(cfg map[string]any, store restore.Store, id string) webchatservice.Options {
	return webchatservice.Options{Config: cfg, Store: store, SessionID: id}
}

func TestRestoreGMS(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Run("resolved: within the window, new messages after restored", func(t *testing.T) {
				sim := gmsSim(t, simgms.Options{})
				store := restore.NewMemoryStore()
				cfg := mode.cfg(sim, nil)
				chat := gmsFirstSessionOpts(t, sim, cfg, store, "gms-within")
				agent := chat.Agents()[0]
				if err := agent.Send("while away"); err != nil {
					t.Fatal(err)
				}
				b := newTS(t, gmsOptions(cfg, store, "gms-within"))
				b.wait(webchatservice.EventRestored)
				mr := b.waitMsg("m1", true)
				if !hasText(mr.Messages, "echo: m1") {
					t.Errorf("replay %s", dump(mr.Messages))
				}
				b.waitMsg("while away", false)
				b.must(webchatservice.CmdSendMessage, map[string]any{"message": "m2"})
				b.waitMsg("echo: m2", false)
				if got := b.received(false); got["m1"]+got["echo: m1"] != 0 || got["while away"] != 1 {
					t.Errorf("restoring:false deliveries %v", got)
				}
				if msgs := chat.ClientMessages(); fmt.Sprint(msgs) != "[m1 m2]" {
					t.Errorf("server has %q", msgs)
				}
				if d := b.wait(webchatservice.EventRestored); dump(d.Data) != `{"async":false}` {
					t.Errorf("restored %s", dump(d.Data))
				}
			})

			t.Run("rejected: chat already ended (restoreFailed ended)", func(t *testing.T) {
				sim := gmsSim(t, simgms.Options{})
				store := &gateStore{Store: restore.NewMemoryStore()}
				cfg := mode.cfg(sim, nil)
				chat := gmsFirstSessionOpts(t, sim, cfg, store, "gms-ended")
				if err := chat.End(); err != nil {
					t.Fatal(err)
				}
				store.hide.Store(true)
				b := newTS(t, gmsOptions(cfg, store, "gms-ended"))
				b.must(webchatservice.CmdVerifySession, nil)
				store.hide.Store(false)
				_, err := b.self(webchatservice.CmdRestore, nil)
				rejects(t, err, webchatservice.ErrNoSessionToRestore, "No chat session found to restore.")
				rf := b.wait(webchatservice.EventRestoreFailed).Data.(webchatservice.RestoreFailed)
				if rf.Reason != webchatservice.RestoreFailedEnded {
					t.Errorf("restoreFailed %s", dump(rf))
				}
				b.close()
				if _, err := store.Load(ctxT(t), "gms-ended"); !errors.Is(err, restore.ErrNotFound) {
					t.Errorf("snapshot of an ended chat kept: %v", err)
				}
			})

			t.Run("rejected: server or network failure (AJAX Response Object), session kept", func(t *testing.T) {
				sim := gmsSim(t, simgms.Options{})
				store := &gateStore{Store: restore.NewMemoryStore()}
				cfg := mode.cfg(sim, map[string]any{"ajaxTimeout": 1000})
				gmsFirstSessionOpts(t, sim, cfg, store, "gms-fail")
				store.hide.Store(true)
				b := newTS(t, gmsOptions(cfg, store, "gms-fail"))
				b.must(webchatservice.CmdVerifySession, nil)
				store.hide.Store(false)
				if mode.name == "C" {
					sim.SetDelay(3 * time.Second) // every CometD operation times out
				} else {
					sim.FailRequests(1<<20, 503)
				}
				_, err := b.self(webchatservice.CmdRestore, nil)
				sim.FailRequests(0, 0)
				sim.SetDelay(0)
				var te *transports.TransportError
				if !errors.As(err, &te) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("rejection %v (%T), want the AJAX Response Object", err, err)
				}
				rf := b.wait(webchatservice.EventRestoreFailed).Data.(webchatservice.RestoreFailed)
				if rf.Reason != webchatservice.RestoreFailedNetwork && rf.Reason != webchatservice.RestoreFailedServer {
					t.Errorf("restoreFailed %s", dump(rf))
				}
				if _, err := b.self(webchatservice.CmdRestore, nil); err != nil {
					t.Fatalf("second restore: %v", err)
				}
				b.wait(webchatservice.EventRestored)
			})
		})
	}

	t.Run("R rejected: async requested in mode R", func(t *testing.T) {
		sim := gmsSim(t, simgms.Options{})
		s := newTS(t, webchatservice.Options{Config: gmsModes[0].cfg(sim, nil)})
		_, err := s.cmd(webchatservice.CmdRestore, map[string]any{"async": map[string]any{"enabled": true},
			"sessionData": map[string]any{"sessionID": "c", "userId": "u", "secureKey": "k", "alias": "1"}})
		rejects(t, err, webchatservice.ErrAsyncOnlyCometD, "Invalid configuration. WebChatService supports Async chat only in CometD mode.")
	})
}

// gmsFirstSessionOpts is gmsFirstSession with the store in the options.
func gmsFirstSessionOpts(t *testing.T, sim *simgms.Server, cfg map[string]any, store restore.Store, id string) *simgms.Chat {
	t.Helper()
	a := newTS(t, gmsOptions(cfg, store, id))
	a.must(webchatservice.CmdVerifySession, nil)
	v := a.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	var answer struct {
		ChatID string `json:"chatId"`
	}
	if err := json.Unmarshal(v.(json.RawMessage), &answer); err != nil {
		t.Fatal(err)
	}
	chat, err := sim.WaitChat(ctxT(t), answer.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	a.wait(webchatservice.EventAgentConnected)
	a.must(webchatservice.CmdSendMessage, map[string]any{"message": "m1"})
	a.waitMsg("echo: m1", false)
	a.sync()
	a.close()
	if _, err := store.Load(ctxT(t), id); err != nil {
		t.Fatalf("no snapshot: %v", err)
	}
	return chat
}

// Async chat (C): the host restores it with its session data (the command is public then);
// fetchHistory pages through it.
func TestRestoreGMSAsync(t *testing.T) {
	sim := gmsSim(t, simgms.Options{})
	cfg := gmsModes[1].cfg(sim, map[string]any{"async": map[string]any{"enabled": true, "maxMessagePageSize": 2}})
	a := newTS(t, webchatservice.Options{Config: cfg})
	v := a.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	var answer struct {
		ChatID string `json:"chatId"`
	}
	if err := json.Unmarshal(v.(json.RawMessage), &answer); err != nil {
		t.Fatal(err)
	}
	chat, err := sim.WaitChat(ctxT(t), answer.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	if chat.UserData()["GCTI_Chat_AsyncMode"] != "true" {
		t.Errorf("attached data %v", chat.UserData())
	}
	a.wait(webchatservice.EventAgentConnected)
	for i := 1; i <= 4; i++ {
		a.must(webchatservice.CmdSendMessage, map[string]any{"message": fmt.Sprintf("m%d", i)})
	}
	a.waitMsg("echo: m4", false)
	sd := a.must(webchatservice.CmdGetSessionData, nil).(map[string]string)
	a.close()

	b := newTS(t, webchatservice.Options{Config: cfg})
	if err := b.cli.Restore(ctxT(t), map[string]any{"sessionID": sd["sessionID"], "userId": sd["userId"], "secureKey": sd["secureKey"], "alias": sd["alias"]}); err != nil {
		t.Fatalf("async restore: %v", err)
	}
	if r := b.wait(webchatservice.EventRestored); dump(r.Data) != `{"async":true}` {
		t.Errorf("restored %s", dump(r.Data))
	}
	_, err = b.cmd(webchatservice.CmdRestore, map[string]any{"sessionData": map[string]any{"sessionID": sd["sessionID"], "secureKey": sd["secureKey"]}})
	rejects(t, err, webchatservice.ErrRestoreWhileActive, "Chat session is already active, ignoring restore command.")
	b.must(webchatservice.CmdSendMessage, map[string]any{"message": "after restore"})
	b.waitMsg("echo: after restore", false)

	seen := map[string]int{}
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("history never ends")
		}
		from := b.log.len()
		_, err := b.cmd(webchatservice.CmdFetchHistory, nil)
		if err != nil {
			rejects(t, err, transports.ErrNoMoreMessages, "No more messages to fetch.")
			break
		}
		e, _ := b.log.waitFrom(t, from, webchatservice.EventMessageReceived, func(e bus.Event) bool {
			return e.Data.(webchatservice.MessageReceived).OldMessages
		})
		for _, m := range e.Data.(webchatservice.MessageReceived).Messages {
			if m.Type == transports.TypeMessage {
				seen[m.Text]++
			}
		}
	}
	// Restored without a cursor, the latest page came live and fetchHistory pages the rest:
	// together every message exactly once.
	live := b.received(false)
	for i := 1; i <= 4; i++ {
		for _, txt := range []string{fmt.Sprintf("m%d", i), fmt.Sprintf("echo: m%d", i)} {
			if seen[txt]+live[txt] != 1 {
				t.Errorf("%q: %d in history, %d live", txt, seen[txt], live[txt])
			}
		}
	}
}
