package webchatservice_test

// Resolutions of sendMessage (§3.6), sendCustomNotice (§3.7), sendTyping (§3.8),
// sendFilteredMessage and addPrefilter (§3.9) and updateUserData (§3.10) in mode P and the
// mode-independent rows. The disconnected rows of sendMessage are in outbox_queue_test.go.

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/prefilter"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

// §3.6 sendMessage.
func TestResolutionsSendMessage(t *testing.T) {
	sim := startSim(t, fastSimOptions())

	t.Run("resolved: message accepted by the server", func(t *testing.T) {
		s, conv := active(t, sim, pcOptions(sim, nil))
		v, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "hello agent"})
		if err != nil {
			t.Fatal(err)
		}
		var answer struct {
			ID   string `json:"id"`
			Body string `json:"body"`
		}
		raw, ok := v.(json.RawMessage)
		if !ok || json.Unmarshal(raw, &answer) != nil || answer.ID == "" || answer.Body != "hello agent" {
			t.Fatalf("resolution %T %s, want the posted message", v, dump(v))
		}
		if n := guestCount(conv, "hello agent"); n != 1 {
			t.Errorf("server holds the message %d times", n)
		}
		mr := s.waitMsg("hello agent", false)
		for _, m := range mr.Messages {
			if m.Text == "hello agent" && (m.ID != answer.ID || m.From.Type != transports.ParticipantClient) {
				t.Errorf("echo %s, want id %s from Client", dump(m), answer.ID)
			}
		}
	})

	t.Run("rejected: no active session (never started)", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "hi"})
		rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
	})

	t.Run("rejected: no active session (ended)", func(t *testing.T) {
		s, _ := active(t, sim, pcOptions(sim, nil))
		s.must(webchatservice.CmdEndChat, nil)
		_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "hi"})
		rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
	})

	s, conv := active(t, sim, pcOptions(sim, map[string]any{"maxMessageLength": 5}))
	for _, tc := range []struct {
		name string
		opts any
	}{
		{"missing", map[string]any{}},
		{"nil options", nil},
		{"null", map[string]any{"message": nil}},
		{"not a string (number)", map[string]any{"message": 42}},
		{"not a string (object)", map[string]any{"message": map[string]any{"text": "hi"}}},
		{"empty", map[string]any{"message": ""}},
		{"blank", map[string]any{"message": " \t\n "}},
		{"typed, empty", webchatservice.SendMessageOptions{}},
	} {
		t.Run("rejected: message "+tc.name, func(t *testing.T) {
			_, err := s.cmd(webchatservice.CmdSendMessage, tc.opts)
			rejects(t, err, webchatservice.ErrNoMessageText, "No message text provided.")
		})
	}

	t.Run("rejected: longer than maxMessageLength (code points)", func(t *testing.T) {
		for _, text := range []string{"héllo!", "123456", "😀😀😀😀😀😀"} {
			_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": text})
			rejects(t, err, webchatservice.ErrMessageTooLong, "Message length exceeds configured threshold of (5) characters")
			var tl *webchatservice.MessageTooLongError
			if !errors.As(err, &tl) || tl.Limit != 5 {
				t.Errorf("%q: %#v, want MessageTooLongError{Limit: 5}", text, err)
			}
		}
		// Exactly the limit in code points passes, whatever the bytes or UTF-16 units.
		for _, text := range []string{"ééééé", "😀😀😀😀😀", "12345"} {
			if _, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": text}); err != nil {
				t.Errorf("%q: %v", text, err)
			}
		}
		for _, text := range []string{"héllo!", "123456", "😀😀😀😀😀😀"} {
			if n := guestCount(conv, text); n != 0 {
				t.Errorf("%q reached the server", text)
			}
		}
	})

	t.Run("rejected: AJAX exception", func(t *testing.T) {
		sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 400})
		defer sim.ClearFaults()
		from := s.log.len()
		_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "no"})
		var te *transports.TransportError
		if !errors.As(err, &te) || te.Status != 400 || te.Code == "" {
			t.Fatalf("rejection %v (%T), want the 400 TransportError", err, err)
		}
		e, _ := s.log.waitFrom(t, from, webchatservice.EventError, nil)
		if p := e.Data.(webchatservice.ErrorPayload); p.Status != 400 || p.Operation == "" {
			t.Errorf("error payload %s", dump(p))
		}
		// The session goes on.
		s.must(webchatservice.CmdSendMessage, map[string]any{"message": "ok"})
	})

	t.Run("rejected [ours]: over the P wire limit of 4000 UTF-16 units", func(t *testing.T) {
		s, conv := active(t, sim, pcOptions(sim, nil))
		long := strings.Repeat("😀", 2001) // 2001 code points, 4002 UTF-16 units
		_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": long})
		if !errors.Is(err, transports.ErrMessageTooLong) {
			t.Fatalf("rejection %v, want transports.ErrMessageTooLong", err)
		}
		if guestCount(conv, long) != 0 {
			t.Error("sent")
		}
		s.must(webchatservice.CmdSendMessage, map[string]any{"message": strings.Repeat("😀", 2000)})
	})
}

// §3.7 sendCustomNotice: mode P rejects with the transport's string, with or without a session.
func TestResolutionsSendCustomNotice(t *testing.T) {
	const text = "This transport doesn't support sendCustomNotice command."
	sim := startSim(t, fastSimOptions())
	idle := newTS(t, pcOptions(sim, nil))
	_, err := idle.cmd(webchatservice.CmdSendCustomNotice, map[string]any{"message": "x"})
	rejects(t, err, transports.ErrCustomNoticeUnsupported, text)

	s, _ := active(t, sim, pcOptions(sim, nil))
	_, err = s.cmd(webchatservice.CmdSendCustomNotice, map[string]any{"message": "x"})
	rejects(t, err, transports.ErrCustomNoticeUnsupported, text)
	s.must(webchatservice.CmdEndChat, nil)
	_, err = s.cmd(webchatservice.CmdSendCustomNotice, nil)
	rejects(t, err, transports.ErrCustomNoticeUnsupported, text)
}

// typingSession is an active chat whose service timers run on a fake clock (the transport keeps
// the real one).
func typingSession(t *testing.T, sim *simpc.Server) (*ts, *simpc.Conversation, *transports.FakeClock) {
	fc := transports.NewFakeClock(time.Now())
	o := pcOptions(sim, nil)
	o.Clock = fc
	o.Transport.Clock = transports.SystemClock()
	s, conv := active(t, sim, o)
	// A send resolves only once the socket is attached: from then on typing goes on the wire.
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "connected?"})
	return s, conv, fc
}

// §3.8 sendTyping.
func TestResolutionsSendTyping(t *testing.T) {
	sim := startSim(t, fastSimOptions())

	t.Run("resolved: typing start sent", func(t *testing.T) {
		s, _, _ := typingSession(t, sim)
		if _, err := s.cmd(webchatservice.CmdSendTyping, map[string]any{"message": "hel"}); err != nil {
			t.Fatal(err)
		}
		s.wait(webchatservice.EventClientTypingStarted)
	})

	t.Run("resolved: already typing (idle timer re-armed, nothing sent)", func(t *testing.T) {
		s, _, fc := typingSession(t, sim)
		s.must(webchatservice.CmdSendTyping, map[string]any{"message": "h"})
		s.wait(webchatservice.EventClientTypingStarted)
		// Were a second start sent, this fault would reject it.
		sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostTyping, Status: 400, Times: -1})
		defer sim.ClearFaults()
		fc.Advance(1500 * time.Millisecond)
		s.must(webchatservice.CmdSendTyping, map[string]any{"Message": "he"})
		fc.Advance(1500 * time.Millisecond) // 3 s since the start, 1.5 s since the re-arm
		s.sync()
		if n := s.log.count(webchatservice.EventClientTypingStopped); n != 0 {
			t.Fatalf("clientTypingStopped before 2 s idle (%d)", n)
		}
		fc.Advance(500 * time.Millisecond) // 2 s idle
		s.wait(webchatservice.EventClientTypingStopped)
		s.sync()
		if n := s.log.count(webchatservice.EventClientTypingStarted); n != 1 {
			t.Errorf("clientTypingStarted %d times", n)
		}
	})

	t.Run("resolved [ours]: isTyping false stops at once", func(t *testing.T) {
		s, _, _ := typingSession(t, sim)
		s.must(webchatservice.CmdSendTyping, nil)
		s.wait(webchatservice.EventClientTypingStarted)
		s.must(webchatservice.CmdSendTyping, map[string]any{"isTyping": false})
		s.wait(webchatservice.EventClientTypingStopped)
	})

	t.Run("resolved: sendMessage stops typing without waiting", func(t *testing.T) {
		s, _, _ := typingSession(t, sim)
		s.must(webchatservice.CmdSendTyping, nil)
		s.wait(webchatservice.EventClientTypingStarted)
		s.must(webchatservice.CmdSendMessage, map[string]any{"message": "done typing"})
		s.wait(webchatservice.EventClientTypingStopped)
	})

	t.Run("rejected: no active session", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdSendTyping, map[string]any{"message": "x"})
		rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
	})

	t.Run("rejected: AJAX exception", func(t *testing.T) {
		s, _, _ := typingSession(t, sim)
		sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostTyping, Status: 400})
		defer sim.ClearFaults()
		_, err := s.cmd(webchatservice.CmdSendTyping, map[string]any{"message": "x"})
		var te *transports.TransportError
		if !errors.As(err, &te) || te.Status != 400 {
			t.Fatalf("rejection %v, want the 400 TransportError", err)
		}
		s.wait(webchatservice.EventError)
		s.sync()
		if n := s.log.count(webchatservice.EventClientTypingStarted); n != 0 {
			t.Errorf("clientTypingStarted published for a failed start")
		}
		// Not typing: the next sendTyping sends a start again.
		s.must(webchatservice.CmdSendTyping, map[string]any{"message": "x"})
		s.wait(webchatservice.EventClientTypingStarted)
	})
}

// §3.9 sendFilteredMessage.
func TestResolutionsSendFilteredMessage(t *testing.T) {
	sim := startSim(t, fastSimOptions())

	t.Run("resolved: filter added, message sent and hidden", func(t *testing.T) {
		s, conv := active(t, sim, pcOptions(sim, nil))
		v, err := s.cmd(webchatservice.CmdSendFilteredMessage, map[string]any{"message": "code:1234", "regex": "/^code:/i"})
		if err != nil {
			t.Fatal(err)
		}
		if raw, ok := v.(json.RawMessage); !ok || !strings.Contains(string(raw), "code:1234") {
			t.Errorf("resolution %s, want the sendMessage answer", dump(v))
		}
		if guestCount(conv, "code:1234") != 1 {
			t.Fatalf("server messages %q", conv.GuestMessages())
		}
		// Later messages still show; the filtered one (and the agent repeating it) never does.
		if _, err := conv.Say("CODE:1234 received", simpc.SayOptions{}); err != nil {
			t.Fatal(err)
		}
		s.must(webchatservice.CmdSendMessage, map[string]any{"message": "visible"})
		s.waitMsg("visible", false)
		if got := s.received(false); got["code:1234"]+got["CODE:1234 received"] != 0 {
			t.Errorf("filtered messages delivered: %v", got)
		}
		tr := s.must(webchatservice.CmdGetTranscript, nil).(webchatservice.Transcript)
		if hasText(tr.Messages, "code:1234") || !hasText(tr.Messages, "visible") {
			t.Errorf("transcript %s", dump(tr.Messages))
		}
		if len(tr.Messages) != len(tr.OriginalMessages) {
			t.Errorf("%d messages, %d originals", len(tr.Messages), len(tr.OriginalMessages))
		}
		fs := s.must(webchatservice.CmdAddPrefilter, map[string]any{"filters": "/^code:/i"}).([]*prefilter.Filter)
		if len(fs) != 1 || fs[0].Source() != "^code:" || fs[0].Flags() != "i" {
			t.Errorf("registered filters %v", fs)
		}
	})

	t.Run("rejected: no active session", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdSendFilteredMessage, map[string]any{"message": "code:1", "regex": "/^code:/"})
		rejects(t, err, webchatservice.ErrNoActiveChatSession, "No active chat session.")
	})

	s, conv := active(t, sim, pcOptions(sim, map[string]any{"maxMessageLength": 10}))
	for _, tc := range []struct {
		name     string
		opts     map[string]any
		sentinel error
		text     string
	}{
		{"rejected [ours]: regex invalid (look-behind)", map[string]any{"message": "m1", "regex": "/(?<=a)b/"}, webchatservice.ErrInvalidFilters, msgInvalidFilters},
		{"rejected [ours]: regex invalid (unknown flag)", map[string]any{"message": "m2", "regex": "/a/q"}, webchatservice.ErrInvalidFilters, msgInvalidFilters},
		{"rejected [ours]: regex missing", map[string]any{"message": "m3"}, webchatservice.ErrInvalidFilters, msgInvalidFilters},
		{"rejected [ours]: sendMessage rejection (blank)", map[string]any{"message": "  ", "regex": "/x/"}, webchatservice.ErrNoMessageText, "No message text provided."},
		{"rejected [ours]: sendMessage rejection (too long)", map[string]any{"message": "0123456789+", "regex": "/y/"}, webchatservice.ErrMessageTooLong, "Message length exceeds configured threshold of (10) characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.cmd(webchatservice.CmdSendFilteredMessage, tc.opts)
			rejects(t, err, tc.sentinel, tc.text)
		})
	}
	if msgs := conv.GuestMessages(); len(msgs) != 0 {
		t.Errorf("rejected messages reached the server: %q", msgs)
	}
}

const msgInvalidFilters = "Missing or invalid filters provided. Please provide a regular expression or an array of regular expressions."

// §3.9 addPrefilter: no session needed.
func TestResolutionsAddPrefilter(t *testing.T) {
	s := newTS(t, webchatservice.Options{Config: offlineConfig(nil)})
	var fs []*prefilter.Filter
	for _, tc := range []struct {
		name    string
		filters any
		want    []string // sources of all registered filters after the call
	}{
		{"resolved: one JavaScript literal", "/^#\\d+$/", []string{`^#\d+$`}},
		{"resolved: a list", []any{"/secret/i", "token-[a-z]+"}, []string{`^#\d+$`, "secret", "token-[a-z]+"}},
		{"resolved: a {source, flags} object", map[string]any{"source": "^x-", "flags": "m"}, []string{`^#\d+$`, "secret", "token-[a-z]+", "^x-"}},
		{"resolved: identical filters stored once", []string{"/secret/i", "/^#\\d+$/"}, []string{`^#\d+$`, "secret", "token-[a-z]+", "^x-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := s.cmd(webchatservice.CmdAddPrefilter, map[string]any{"filters": tc.filters})
			if err != nil {
				t.Fatal(err)
			}
			fs = v.([]*prefilter.Filter)
			var got []string
			for _, f := range fs {
				got = append(got, f.Source())
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("registered %q, want %q", got, tc.want)
			}
		})
	}
	if b, _ := json.Marshal(fs); !strings.Contains(string(b), `"source"`) || !strings.Contains(string(b), `"flags"`) {
		t.Errorf("JSON form %s, want [{source, flags}]", b)
	}
	for _, tc := range []struct {
		name string
		opts any
	}{
		{"missing", map[string]any{}},
		{"null", map[string]any{"filters": nil}},
		{"empty list", map[string]any{"filters": []any{}}},
		{"empty string", map[string]any{"filters": ""}},
		{"look-behind (RE2 lacks it)", map[string]any{"filters": "/(?<=a)b/"}},
		{"back-reference (RE2 lacks it)", map[string]any{"filters": `/(a)\1/`}},
		{"unbalanced", map[string]any{"filters": "/(a/"}},
		{"unknown flag", map[string]any{"filters": "/a/x"}},
		{"a number", map[string]any{"filters": 42}},
		{"object without source", map[string]any{"filters": map[string]any{"flags": "i"}}},
		{"one bad entry in a list", map[string]any{"filters": []any{"/ok/", "/(?!no)/"}}},
	} {
		t.Run("rejected: "+tc.name, func(t *testing.T) {
			_, err := s.cmd(webchatservice.CmdAddPrefilter, tc.opts)
			rejects(t, err, webchatservice.ErrInvalidFilters, msgInvalidFilters)
			if strings.Contains(tc.name, "RE2") && !errors.Is(err, prefilter.ErrUnsupported) {
				t.Errorf("the cause (RE2 lacks the construct) is not reachable: %#v", err)
			}
		})
	}
	// A rejected list adds nothing.
	v := s.must(webchatservice.CmdAddPrefilter, map[string]any{"filters": "/secret/i"}).([]*prefilter.Filter)
	if len(v) != 4 {
		t.Errorf("%d filters after rejections, want 4", len(v))
	}
}

// §3.10 updateUserData.
func TestResolutionsUpdateUserData(t *testing.T) {
	sim := startSim(t, fastSimOptions())

	t.Run("resolved: no session, internal userData merged", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		s.must(webchatservice.CmdUpdateUserData, map[string]any{"plan": "gold"})
		v := s.must(webchatservice.CmdUpdateUserData, map[string]any{"plan": "platinum", "page": "/cart"})
		want := map[string]any{"source": "test", "plan": "platinum", "page": "/cart"}
		if dump(v) != dump(want) {
			t.Errorf("resolution %s, want %s", dump(v), dump(want))
		}
		if d, _ := s.app.Get("WebChatService.userData"); dump(d) != dump(want) {
			t.Errorf("data userData %s", dump(d))
		}
		// It is what the next start sends (P: memberInfo.customFields).
		s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "userData": map[string]any{"page": "/checkout"}})
		conv, err := sim.NextConversation(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if cf := conv.Members()[0].CustomFields; cf["plan"] != "platinum" || cf["page"] != "/checkout" || cf["source"] != "test" {
			t.Errorf("customFields %v", cf)
		}
	})

	t.Run("rejected: active session, mode P", func(t *testing.T) {
		s, _ := active(t, sim, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdUpdateUserData, map[string]any{"plan": "gold"})
		rejects(t, err, transports.ErrUserDataUpdateUnsupported, "This transport doesn't support updating userData during an active chat session.")
	})

	t.Run("rejected: options not an object", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		if _, err := s.cmd(webchatservice.CmdUpdateUserData, "plan=gold"); !errors.Is(err, bus.ErrInvalidOptions) {
			t.Errorf("rejection %v", err)
		}
	})
}
