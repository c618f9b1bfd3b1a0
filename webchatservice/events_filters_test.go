package webchatservice_test

// Prefilters (§6.1) and preprocessors (§6.2) as seen on messageReceived, getTranscript and the
// error event, in mode P.

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/restore"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

func say(t *testing.T, conv *simpc.Conversation, text string) {
	t.Helper()
	if _, err := conv.Say(text, simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
}

// visibleTexts is every Message text of the live messageReceived events and of getTranscript.
func visibleTexts(s *ts) (events, transcript map[string]int) {
	events = s.received(false)
	transcript = map[string]int{}
	for _, m := range s.must(webchatservice.CmdGetTranscript, nil).(webchatservice.Transcript).Messages {
		if m.Type == transports.TypeMessage {
			transcript[m.Text]++
		}
	}
	return events, transcript
}

// The standard co-browse filter hides {start:<9 digits>} from both sides, the customer's own
// messages included; the message still reaches the server.
func TestPrefilterStandardCoBrowse(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))
	for _, tc := range []struct {
		text   string
		agent  bool
		hidden bool
	}{
		{"{start:123456789}", true, true},
		{"{start:987654321}", false, true},
		{"please see {start:111222333} now", true, true},
		{"{start:12345678}", true, false},
		{"{start:1234567890}", false, false}, // ten digits: {start:123456789 is not followed by }
		{"{Start:123456789}", false, false},
	} {
		if tc.agent {
			say(t, conv, tc.text)
		} else {
			s.must(webchatservice.CmdSendMessage, map[string]any{"message": tc.text})
		}
	}
	say(t, conv, "last")
	s.waitMsg("last", false)
	events, transcript := visibleTexts(s)
	for _, txt := range []string{"{start:123456789}", "{start:987654321}", "please see {start:111222333} now"} {
		if events[txt]+transcript[txt] != 0 {
			t.Errorf("%q not hidden", txt)
		}
	}
	for _, txt := range []string{"{start:12345678}", "{start:1234567890}", "{Start:123456789}", "last"} {
		if events[txt] != 1 || transcript[txt] != 1 {
			t.Errorf("%q: %d events, %d in the transcript", txt, events[txt], transcript[txt])
		}
	}
	if guestCount(conv, "{start:987654321}") != 1 {
		t.Errorf("the hidden customer message did not reach the server: %q", conv.GuestMessages())
	}
	// Batches are consistent: originalMessages leave the hidden ones out too.
	for _, e := range s.log.all(webchatservice.EventMessageReceived) {
		mr := e.Data.(webchatservice.MessageReceived)
		if len(mr.OriginalMessages) != len(mr.Messages) {
			t.Errorf("batch: %d originals for %d messages", len(mr.OriginalMessages), len(mr.Messages))
		}
		for _, o := range mr.OriginalMessages {
			if bytes.Contains(o, []byte("{start:123456789}")) {
				t.Errorf("hidden message in originalMessages: %s", o)
			}
		}
	}
}

// Custom prefilters (addPrefilter before the chat) hide matching messages for the session; the
// hidden agent message still moves participant state (typing stops); the end clears them.
func TestPrefilterCustom(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s := newTS(t, pcOptions(sim, map[string]any{"agentTypingTimeout": 60000}))
	s.must(webchatservice.CmdAddPrefilter, map[string]any{"filters": []any{"/^internal:/i", map[string]any{"source": "token=\\d+", "flags": ""}}})
	s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.wait(webchatservice.EventAgentConnected)
	if err := conv.Typing(); err != nil {
		t.Fatal(err)
	}
	s.wait(webchatservice.EventAgentTypingStarted)
	say(t, conv, "internal: do not show")
	s.wait(webchatservice.EventAgentTypingStopped) // participant state moves for a hidden message
	say(t, conv, "INTERNAL: neither")
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "my token=1234"})
	say(t, conv, "not internal: shown")
	s.waitMsg("not internal: shown", false)
	events, transcript := visibleTexts(s)
	for _, txt := range []string{"internal: do not show", "INTERNAL: neither", "my token=1234"} {
		if events[txt]+transcript[txt] != 0 {
			t.Errorf("%q not hidden", txt)
		}
	}
	if events["not internal: shown"] != 1 || transcript["not internal: shown"] != 1 {
		t.Errorf("visible message: %v / %v", events, transcript)
	}

	// Cleared at the end of the chat.
	s.must(webchatservice.CmdEndChat, nil)
	from := s.log.len() // before the start: the agent may join before startChat even returns
	s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv2, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.log.waitFrom(t, from, webchatservice.EventAgentConnected, nil)
	say(t, conv2, "internal: now visible")
	s.waitMsg("internal: now visible", false)
}

func upper(_ context.Context, m *webchatservice.Message) (*webchatservice.Message, error) {
	c := *m
	c.Text = strings.ToUpper(c.Text)
	return &c, nil
}

func suffix(sfx string) func(*webchatservice.Message) *webchatservice.Message {
	return func(m *webchatservice.Message) *webchatservice.Message {
		if m.Type != transports.TypeMessage {
			return nil // nil keeps the message as it is
		}
		c := *m
		c.Text += sfx
		return &c
	}
}

// The return value replaces the message, in registration order; originalMessages are never
// preprocessed; the transcript holds what was published.
func TestPreprocessorsChangeMessages(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s := newTS(t, pcOptions(sim, nil))
	s.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": upper})
	s.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": suffix(" [2]")})
	s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.wait(webchatservice.EventAgentConnected)
	say(t, conv, "hello")
	mr := s.waitMsg("HELLO [2]", false)
	for i, m := range mr.Messages {
		if m.Text == "HELLO [2]" && !bytes.Contains(mr.OriginalMessages[i], []byte(`"body":"hello"`)) {
			t.Errorf("original preprocessed: %s", mr.OriginalMessages[i])
		}
	}
	tr := s.must(webchatservice.CmdGetTranscript, nil).(webchatservice.Transcript)
	if !hasText(tr.Messages, "HELLO [2]") || hasText(tr.Messages, "hello") {
		t.Errorf("transcript %s", dump(tr.Messages))
	}
	s.sync()
	if n := s.log.count(webchatservice.EventError); n != 0 {
		t.Errorf("error published %d times", n)
	}
}

// A preprocessor that panics or fails leaves the message as it was before it (even if it changed
// it in place first), is reported on error, and never loses the message.
func TestPreprocessorFailures(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s := newTS(t, pcOptions(sim, nil))
	s.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": suffix("-a")})
	s.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": func(_ context.Context, m *webchatservice.Message) (*webchatservice.Message, error) {
		if strings.HasPrefix(m.Text, "boom") {
			m.Text = "corrupted"
			panic("preprocessor bug")
		}
		if strings.HasPrefix(m.Text, "fail") {
			m.Text = "corrupted"
			return nil, errors.New("cannot process")
		}
		return m, nil
	}})
	s.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": suffix("-c")})
	s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.wait(webchatservice.EventAgentConnected)
	for _, tc := range []struct{ in, out string }{{"boom", "boom-a-c"}, {"fail", "fail-a-c"}, {"fine", "fine-a-c"}} {
		from := s.log.len()
		say(t, conv, tc.in)
		s.log.waitFrom(t, from, webchatservice.EventMessageReceived, func(e bus.Event) bool {
			return hasText(e.Data.(webchatservice.MessageReceived).Messages, tc.out)
		})
	}
	s.sync()
	errs := s.log.all(webchatservice.EventError)
	if len(errs) != 2 {
		t.Fatalf("error published %d times, want 2 (panic, failure); events %v", len(errs), s.log.names())
	}
	for _, e := range errs {
		p := e.Data.(webchatservice.ErrorPayload)
		if p.ErrorReason != "PreprocessorFailed" || p.Text == "" {
			t.Errorf("error payload %s", dump(p))
		}
	}
	if got := s.received(false); got["corrupted"] != 0 || got["boom-a-c"] != 1 || got["fail-a-c"] != 1 || got["fine-a-c"] != 1 {
		t.Errorf("delivered %v", got)
	}
}

// The store keeps messages before preprocessing; a restore replays them through the
// preprocessors registered in the new process.
func TestPreprocessorsOnRestoreReplay(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	store := &gateStore{Store: restore.NewMemoryStore()}
	a := newTS(t, storeOptions(sim, store, "pre-1", nil))
	a.must(webchatservice.CmdVerifySession, nil)
	a.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": upper})
	a.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	a.wait(webchatservice.EventAgentConnected)
	say(t, conv, "stored raw")
	a.waitMsg("STORED RAW", false)
	a.sync()
	a.close()

	store.hide.Store(true)
	b := newTS(t, storeOptions(sim, store, "pre-1", nil))
	b.must(webchatservice.CmdVerifySession, nil)
	b.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": suffix("!")})
	store.hide.Store(false)
	if _, err := b.self(webchatservice.CmdRestore, nil); err != nil {
		t.Fatal(err)
	}
	mr := b.waitMsg("stored raw!", true)
	if hasText(mr.Messages, "STORED RAW") {
		t.Errorf("replay carries the first process's preprocessing: %s", dump(mr.Messages))
	}
}
