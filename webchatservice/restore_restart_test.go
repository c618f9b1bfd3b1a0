package webchatservice_test

// Restore after a process restart (§6.6): a Host with a file store is shut down, the agent goes
// on talking, a new Host on a new FileStore over the same directory brings the session back.
// Nothing may be lost and nothing delivered twice as new (restoring:false).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/restore"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

// hostRecorder is a Host extension that logs every session's WebChatService events from the
// moment the session's bus exists (so the self-restore's events are seen too).
type hostRecorder struct {
	mu   sync.Mutex
	logs map[string]*evlog
}

func newHostRecorder() *hostRecorder { return &hostRecorder{logs: map[string]*evlog{}} }

func (r *hostRecorder) ext(s *webchatservice.Session) error {
	p, err := s.Bus.RegisterPlugin("Recorder")
	if err != nil {
		return err
	}
	l := newEvlog()
	if _, err := p.Subscribe("WebChatService.*", l.add); err != nil {
		return err
	}
	r.mu.Lock()
	r.logs[s.ID] = l
	r.mu.Unlock()
	return nil
}

func (r *hostRecorder) log(t testing.TB, id string) *evlog {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.logs[id]
	if l == nil {
		t.Fatalf("no session %s recorded", id)
	}
	return l
}

// deliveries counts the Message texts of every messageReceived in l with restoring as given,
// and returns them in delivery order.
func deliveries(l *evlog, restoring bool) (map[string]int, []string) {
	counts := map[string]int{}
	var order []string
	for _, e := range l.all(webchatservice.EventMessageReceived) {
		mr := e.Data.(webchatservice.MessageReceived)
		if mr.Restoring != restoring || mr.OldMessages {
			continue
		}
		for _, m := range mr.Messages {
			if m.Type == "Message" {
				counts[m.Text]++
				order = append(order, m.Text)
			}
		}
	}
	return counts, order
}

func waitText(t testing.TB, l *evlog, text string) {
	t.Helper()
	l.waitFrom(t, 0, webchatservice.EventMessageReceived, func(e bus.Event) bool {
		mr := e.Data.(webchatservice.MessageReceived)
		return !mr.Restoring && hasText(mr.Messages, text)
	})
}

func shutdown(t testing.TB, h *webchatservice.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Errorf("host shutdown: %v", err)
	}
}

func TestRestoreAfterRestartFileStore(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name       string
		restoreAll bool
		encrypt    bool
	}{
		{"RestoreAll", true, false},
		{"Open with the same id", false, false},
		{"encrypted file store", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, fastSimOptions())
			dir := t.TempDir()
			const id = "restart-1"
			openStore := func() restore.Store {
				fs, err := restore.NewFileStore(dir, restore.FileOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !tc.encrypt {
					return fs
				}
				enc, err := restore.Encrypt(fs, key)
				if err != nil {
					t.Fatal(err)
				}
				return enc
			}

			// Process 1.
			rec1 := newHostRecorder()
			h1, err := webchatservice.NewHost(webchatservice.HostOptions{Config: pureCloudConfig(sim.URL, nil), Store: openStore(), Extensions: []webchatservice.Extension{rec1.ext}})
			if err != nil {
				t.Fatal(err)
			}
			s1, err := h1.Open(ctxT(t), webchatservice.OpenOptions{ID: id})
			if err != nil {
				t.Fatal(err)
			}
			l1 := rec1.log(t, id)
			if _, err := s1.Client.StartChat(ctxT(t), webchatservice.StartChatOptions{Nickname: "Ada"}); err != nil {
				t.Fatal(err)
			}
			conv, err := sim.NextConversation(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			l1.waitFrom(t, 0, webchatservice.EventAgentConnected, nil)
			for i := 1; i <= 3; i++ {
				if _, err := s1.Client.SendMessage(ctxT(t), fmt.Sprintf("g%d", i)); err != nil {
					t.Fatal(err)
				}
				if _, err := conv.Say(fmt.Sprintf("a%d", i), simpc.SayOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			waitText(t, l1, "a3")
			shutdown(t, h1)

			raw, err := os.ReadFile(filepath.Join(dir, id+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.encrypt && (bytes.Contains(raw, []byte(conv.ID())) || bytes.Contains(raw, []byte(`"text":`))) {
				t.Error("the encrypted snapshot holds session data or messages in clear text")
			}
			if !tc.encrypt && (!bytes.Contains(raw, []byte(conv.ID())) || !bytes.Contains(raw, []byte(`"text":`))) {
				t.Errorf("the plain snapshot lacks the session data or the transcript: %.300s", raw)
			}

			// Down: the agent goes on.
			for i := 1; i <= 5; i++ {
				if _, err := conv.Say(fmt.Sprintf("d%d", i), simpc.SayOptions{}); err != nil {
					t.Fatal(err)
				}
			}

			// Process 2: a new store over the same directory.
			rec2 := newHostRecorder()
			h2, err := webchatservice.NewHost(webchatservice.HostOptions{Config: pureCloudConfig(sim.URL, nil), Store: openStore(), Extensions: []webchatservice.Extension{rec2.ext}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { shutdown(t, h2) })
			if tc.restoreAll {
				ids, err := h2.RestoreAll(ctxT(t))
				if err != nil || len(ids) != 1 || ids[0] != id {
					t.Fatalf("RestoreAll: %v, %v", ids, err)
				}
			} else if _, err := h2.Open(ctxT(t), webchatservice.OpenOptions{ID: id}); err != nil {
				t.Fatal(err)
			}
			s2, err := h2.Get(id)
			if err != nil {
				t.Fatal(err)
			}
			l2 := rec2.log(t, id)
			if ok, err := s2.Client.VerifySession(ctxT(t)); err != nil || !ok {
				t.Fatalf("verifySession after restart: %v, %v; events %v", ok, err, l2.names())
			}
			for i := 1; i <= 3; i++ {
				if _, err := conv.Say(fmt.Sprintf("n%d", i), simpc.SayOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s2.Client.SendMessage(ctxT(t), "g4"); err != nil {
				t.Fatal(err)
			}
			waitText(t, l2, "n3")
			waitText(t, l2, "g4")

			// The replay is exactly the transcript of process 1.
			replayed, _ := deliveries(l2, true)
			for _, txt := range []string{"g1", "g2", "g3", "a1", "a2", "a3"} {
				if replayed[txt] != 1 {
					t.Errorf("replay: %q %d times (replay %v)", txt, replayed[txt], replayed)
				}
			}
			if len(replayed) != 6 {
				t.Errorf("replay holds %v", replayed)
			}
			// New deliveries of both processes together: every agent message exactly once, in order.
			new1, order1 := deliveries(l1, false)
			new2, order2 := deliveries(l2, false)
			var agentOrder []string
			for _, txt := range append(order1, order2...) {
				if txt[0] != 'g' {
					agentOrder = append(agentOrder, txt)
				}
			}
			want := []string{"a1", "a2", "a3", "d1", "d2", "d3", "d4", "d5", "n1", "n2", "n3"}
			if fmt.Sprint(agentOrder) != fmt.Sprint(want) {
				t.Errorf("agent messages delivered as new: %v, want %v (lost or duplicated)", agentOrder, want)
			}
			for txt, n := range new2 {
				if new1[txt] > 0 {
					t.Errorf("%q delivered as new by both processes (%d+%d)", txt, new1[txt], n)
				}
			}
			if guest := conv.GuestMessages(); fmt.Sprint(guest) != "[g1 g2 g3 g4]" {
				t.Errorf("server has guest messages %v", guest)
			}
			restored := l2.all(webchatservice.EventRestored)
			if len(restored) != 1 {
				t.Errorf("restored %d times", len(restored))
			}
		})
	}
}
