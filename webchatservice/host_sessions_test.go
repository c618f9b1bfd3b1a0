package webchatservice_test

// Host: many sessions in parallel (-race), open/get/list/close/shutdown, extensions on every
// new session, and isolation (a panicking or stuck plugin in one session affects no other).

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cxbus/webchat/bus"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

func echoSim(t testing.TB) *simpc.Server {
	o := fastSimOptions()
	o.Script = &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}, Echo: true, EchoPrefix: "echo: "}
	return startSim(t, o)
}

func newHost(t testing.TB, o webchatservice.HostOptions) *webchatservice.Host {
	t.Helper()
	h, err := webchatservice.NewHost(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, h) })
	return h
}

// Many sessions run at once, each on its own bus, each seeing only its own chat.
func TestHostManySessionsParallel(t *testing.T) {
	const n = 16
	sim := echoSim(t)
	rec := newHostRecorder()
	h := newHost(t, webchatservice.HostOptions{Config: pureCloudConfig(sim.URL, nil), Extensions: []webchatservice.Extension{rec.ext}})

	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				ctx := ctxT(t)
				s, err := h.Open(ctx, webchatservice.OpenOptions{})
				if err != nil {
					return err
				}
				ids[i] = s.ID
				if _, err := s.Client.StartChat(ctx, webchatservice.StartChatOptions{Nickname: fmt.Sprintf("guest-%d", i)}); err != nil {
					return err
				}
				for k := 0; k < 3; k++ {
					if _, err := s.Client.SendMessage(ctx, fmt.Sprintf("s%d-m%d", i, k)); err != nil {
						return fmt.Errorf("session %d: %w", i, err)
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for i, id := range ids {
		if !hexID.MatchString(id) || seen[id] {
			t.Fatalf("session id %q (random 128-bit, unique)", id)
		}
		seen[id] = true
		l := rec.log(t, id)
		waitText(t, l, fmt.Sprintf("echo: s%d-m2", i))
		got, _ := deliveries(l, false)
		for text := range got {
			var si, k int
			if _, err := fmt.Sscanf(text, "s%d-m%d", &si, &k); err == nil && si != i {
				t.Errorf("session %d received %q of session %d", i, text, si)
			}
			if _, err := fmt.Sscanf(text, "echo: s%d-m%d", &si, &k); err == nil && si != i {
				t.Errorf("session %d received %q of session %d", i, text, si)
			}
		}
	}
	if list := h.List(); len(list) != n {
		t.Errorf("List has %d sessions, want %d", len(list), n)
	}
	if len(sim.Conversations()) != n {
		t.Errorf("%d conversations on the server", len(sim.Conversations()))
	}
	// End half of them, close the rest, all in parallel.
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := h.Get(id)
			if err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := s.Client.EndChat(ctxT(t)); err != nil {
					t.Errorf("end %d: %v", i, err)
				}
			}
			if err := h.Close(ctxT(t), id); err != nil {
				t.Errorf("close %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if list := h.List(); len(list) != 0 {
		t.Errorf("List after closing all: %v", list)
	}
	var ended int
	for _, c := range sim.Conversations() {
		if e, _ := c.Ended(); e {
			ended++
		}
	}
	if ended != n/2 {
		t.Errorf("%d chats ended on the server, want %d (Close leaves a chat running)", ended, n/2)
	}
}

func TestHostOpenGetListCloseShutdown(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	if _, err := webchatservice.NewHost(webchatservice.HostOptions{Config: map[string]any{}}); !errors.Is(err, webchatservice.ErrInvalidConfiguration) {
		t.Errorf("NewHost with a bad config: %v", err)
	}
	h := newHost(t, webchatservice.HostOptions{Config: pureCloudConfig(sim.URL, nil)})
	a, err := h.Open(ctxT(t), webchatservice.OpenOptions{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Open(ctxT(t), webchatservice.OpenOptions{ID: "a"}); !errors.Is(err, webchatservice.ErrSessionExists) {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := h.Open(ctxT(t), webchatservice.OpenOptions{ID: "bad", Config: map[string]any{"transport": map[string]any{"type": "nope"}}}); !errors.Is(err, webchatservice.ErrInvalidTransportConfiguration) {
		t.Errorf("bad per-session config: %v", err)
	}
	b, err := h.Open(ctxT(t), webchatservice.OpenOptions{ID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h.Get("a"); err != nil || got != a {
		t.Errorf("Get(a) = %v, %v", got, err)
	}
	if _, err := h.Get("zzz"); !errors.Is(err, webchatservice.ErrSessionNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	if err := h.Close(ctxT(t), "zzz"); !errors.Is(err, webchatservice.ErrSessionNotFound) {
		t.Errorf("Close unknown: %v", err)
	}
	if l := h.List(); fmt.Sprint(l) != "[a b]" {
		t.Errorf("List %v", l)
	}
	if _, err := b.Client.StartChat(ctxT(t), webchatservice.StartChatOptions{Nickname: "Bob"}); err != nil {
		t.Fatal(err)
	}
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(ctxT(t), "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Client.VerifySession(ctxT(t)); err == nil {
		t.Error("a closed session still answers")
	}
	shutdown(t, h)
	if _, err := h.Open(ctxT(t), webchatservice.OpenOptions{}); !errors.Is(err, webchatservice.ErrHostClosed) {
		t.Errorf("Open after Shutdown: %v", err)
	}
	if l := h.List(); len(l) != 0 {
		t.Errorf("List after Shutdown %v", l)
	}
	if ended, _ := conv.Ended(); ended {
		t.Error("Shutdown ended the chat on the server")
	}
}

// Extensions run for every new session before its chat can start; a before interceptor they add
// sees the typed Client's calls (the Client goes through the bus).
func TestHostExtensions(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	var runs atomic.Int32
	h := newHost(t, webchatservice.HostOptions{Config: pureCloudConfig(sim.URL, nil), Extensions: []webchatservice.Extension{
		func(s *webchatservice.Session) error {
			runs.Add(1)
			p, err := s.Bus.RegisterPlugin("Redactor")
			if err != nil {
				return err
			}
			_, err = p.Before("WebChatService.sendMessage", func(ctx context.Context, opts any) (any, error) {
				o, err := bus.DecodeOptions[webchatservice.SendMessageOptions](opts)
				if err != nil {
					return opts, nil
				}
				if text, _ := o.Message.(string); text == "cancel me" {
					return nil, nil
				}
				if text, _ := o.Message.(string); text != "" {
					o.Message = regexp.MustCompile(`\d{4}-\d{4}`).ReplaceAllString(text, "####-####")
				}
				return o, nil
			})
			return err
		},
	}})
	s1, err := h.Open(ctxT(t), webchatservice.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var laterRuns atomic.Int32
	h.Use(func(s *webchatservice.Session) error { laterRuns.Add(1); return nil })
	s2, err := h.Open(ctxT(t), webchatservice.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 2 || laterRuns.Load() != 1 {
		t.Errorf("extension runs %d (want 2), later extension %d (want 1)", runs.Load(), laterRuns.Load())
	}
	if _, err := s2.Client.StartChat(ctxT(t), webchatservice.StartChatOptions{Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Client.SendMessage(ctxT(t), "card 1234-5678"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Client.SendMessage(ctxT(t), "cancel me"); !errors.Is(err, bus.ErrCancelledByBefore) || err.Error() != "Command was cancelled by a 'before' function." {
		t.Errorf("cancelled send: %v", err)
	}
	if got := conv.GuestMessages(); fmt.Sprint(got) != "[card ####-####]" {
		t.Errorf("server has %q", got)
	}
	_ = s1

	// A failing extension fails Open and leaves nothing behind.
	h.Use(func(s *webchatservice.Session) error { return errors.New("no licence") })
	if _, err := h.Open(ctxT(t), webchatservice.OpenOptions{ID: "refused"}); err == nil {
		t.Error("Open succeeded although an extension failed")
	}
	if _, err := h.Get("refused"); !errors.Is(err, webchatservice.ErrSessionNotFound) {
		t.Errorf("a refused session is listed: %v", err)
	}
}

// A panicking subscriber and a stuck one in session A: A's chat goes on, and session B is not
// affected at all.
func TestHostSessionIsolation(t *testing.T) {
	sim := echoSim(t)
	stuck := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(stuck) }) }
	t.Cleanup(release)
	rec := newHostRecorder()
	var n atomic.Int32
	h := newHost(t, webchatservice.HostOptions{Config: pureCloudConfig(sim.URL, nil), Extensions: []webchatservice.Extension{
		rec.ext,
		func(s *webchatservice.Session) error {
			if n.Add(1) != 1 {
				return nil // only the first session gets the bad plugins
			}
			bad, err := s.Bus.RegisterPlugin("Panicky")
			if err != nil {
				return err
			}
			if _, err := bad.Subscribe("WebChatService.messageReceived", func(bus.Event) { panic("plugin bug") }); err != nil {
				return err
			}
			slow, err := s.Bus.RegisterPlugin("Stuck")
			if err != nil {
				return err
			}
			_, err = slow.Subscribe("WebChatService.*", func(bus.Event) { <-stuck })
			return err
		},
	}})
	t.Cleanup(release) // runs before the host's shutdown (cleanups run last-in first-out)
	a, err := h.Open(ctxT(t), webchatservice.OpenOptions{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Open(ctxT(t), webchatservice.OpenOptions{ID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []*webchatservice.Session{a, b} {
		if _, err := s.Client.StartChat(ctxT(t), webchatservice.StartChatOptions{Nickname: "Ada"}); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		for k := 0; k < 3; k++ {
			if _, err := s.Client.SendMessage(ctxT(t), fmt.Sprintf("%s-%d", s.ID, k)); err != nil {
				t.Fatalf("session %s: %v", s.ID, err)
			}
		}
	}
	waitText(t, rec.log(t, "a"), "echo: a-2")
	waitText(t, rec.log(t, "b"), "echo: b-2")
	if ok, err := a.Client.VerifySession(ctxT(t)); err != nil || !ok {
		t.Errorf("session a with a panicking and a stuck plugin: %v, %v", ok, err)
	}
	if err := a.Client.EndChat(ctxT(t)); err != nil {
		t.Errorf("end a: %v", err)
	}
}
