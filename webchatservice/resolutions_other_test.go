package webchatservice_test

// Resolutions of poll (§3.11), startPoll/stopPoll/resetPollExceptions (§3.12), getTranscript,
// getAgents, getStats (§3.14), sendFile (§3.15), downloadFile and getFileLimits (§3.16),
// getSessionData and fetchHistory (§3.17), registerTypingPreviewInput, registerPreProcessor and
// verifySession (§3.18), sleep and wake (§3.19) in mode P and the mode-independent rows.
// fetchHistory's resolved row needs a restored session: restore_history_test.go.

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/preprocessor"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

// §3.11 poll (private) and §3.12 startPoll, stopPoll, resetPollExceptions in mode P.
func TestResolutionsPolling(t *testing.T) {
	const denied = "Access Denied to private command. Only WebChatService is allowed to invoke this command."
	sim := startSim(t, fastSimOptions())

	t.Run("poll rejected: caller is not WebChatService (unconfigured too)", func(t *testing.T) {
		for _, opts := range []webchatservice.Options{{}, pcOptions(sim, nil)} {
			s := newTS(t, opts)
			_, err := s.cmd(webchatservice.CmdPoll, nil)
			rejects(t, err, bus.ErrAccessDenied, denied)
		}
	})

	idle := newTS(t, pcOptions(sim, nil))
	act, _ := active(t, sim, pcOptions(sim, nil))
	for _, s := range []struct {
		name string
		s    *ts
	}{{"no session", idle}, {"active", act}} {
		t.Run("poll rejected: mode P ("+s.name+")", func(t *testing.T) {
			_, err := s.s.self(webchatservice.CmdPoll, nil)
			rejects(t, err, transports.ErrPollingUnsupported, "This transport doesn't support polling.")
			// The private check comes first, whatever the mode.
			_, err = s.s.cmd(webchatservice.CmdPoll, nil)
			rejects(t, err, bus.ErrAccessDenied, denied)
		})
		for _, cmd := range []string{webchatservice.CmdStartPoll, webchatservice.CmdStopPoll} {
			t.Run(cmd+" rejected: mode P ("+s.name+")", func(t *testing.T) {
				_, err := s.s.cmd(cmd, nil)
				rejects(t, err, transports.ErrPollingUnsupported, "This transport doesn't support polling.")
			})
		}
		t.Run("resetPollExceptions rejected: mode P ("+s.name+")", func(t *testing.T) {
			_, err := s.s.cmd(webchatservice.CmdResetPollExceptions, nil)
			rejects(t, err, transports.ErrResetPollExceptionsUnsupported, "This transport doesn't support resetPollExceptions command.")
		})
	}
	act.sync()
	for _, ev := range []string{webchatservice.EventPollingStarted, webchatservice.EventPollingStopped} {
		if n := act.log.count(ev); n != 0 {
			t.Errorf("%s published %d times in mode P", ev, n)
		}
	}
}

// §3.14 getTranscript, getAgents, getStats always resolve.
func TestResolutionsReadOnly(t *testing.T) {
	sim := startSim(t, fastSimOptions())

	t.Run("resolved: no session", func(t *testing.T) {
		for _, opts := range []webchatservice.Options{{}, pcOptions(sim, nil)} {
			s := newTS(t, opts)
			if got := dump(s.must(webchatservice.CmdGetTranscript, nil)); got != `{"messages":[],"originalMessages":[]}` {
				t.Errorf("getTranscript %s", got)
			}
			if got := dump(s.must(webchatservice.CmdGetAgents, nil)); got != `{"agents":{}}` {
				t.Errorf("getAgents %s", got)
			}
			if got := dump(s.must(webchatservice.CmdGetStats, nil)); got != `{"agents":{},"startTime":false,"endTime":false,"duration":false}` {
				t.Errorf("getStats %s", got)
			}
		}
	})

	s, conv := active(t, sim, pcOptions(sim, nil))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "first"})
	if _, err := conv.Say("second", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.waitMsg("second", false)

	t.Run("resolved: active session", func(t *testing.T) {
		tr := s.must(webchatservice.CmdGetTranscript, nil).(webchatservice.Transcript)
		if len(tr.Messages) != len(tr.OriginalMessages) || !hasText(tr.Messages, "first") || !hasText(tr.Messages, "second") {
			t.Fatalf("transcript %s", dump(tr))
		}
		var joins int
		for i, m := range tr.Messages {
			if m.Type == transports.TypeParticipantJoined {
				joins++
			}
			if m.Text == "second" && (!bytes.Contains(tr.OriginalMessages[i], []byte(`"body":"second"`)) || m.From.ID != conv.AgentID()) {
				t.Errorf("message %s, original %s", dump(m), tr.OriginalMessages[i])
			}
		}
		if joins != 2 {
			t.Errorf("%d joins in the transcript, want client and agent", joins)
		}
		agents := s.must(webchatservice.CmdGetAgents, nil).(webchatservice.AgentsResult).Agents
		a, ok := agents[conv.AgentID()]
		if len(agents) != 1 || !ok || a.Name != "Alex" || !a.Connected || a.Supervisor || a.ConnectedTime == 0 || a.DisconnectedTime != 0 {
			t.Errorf("getAgents %s (agent id %s)", dump(agents), conv.AgentID())
		}
		st := s.must(webchatservice.CmdGetStats, nil).(webchatservice.Stats)
		first, last := tr.Messages[0].Timestamp.UnixMilli(), tr.Messages[len(tr.Messages)-1].Timestamp.UnixMilli()
		if st.StartTime != first || st.EndTime != last || st.Duration != last-first || dump(st.Agents) != dump(agents) {
			t.Errorf("getStats %s, transcript from %d to %d", dump(st), first, last)
		}
	})

	t.Run("resolved: agent left", func(t *testing.T) {
		id := conv.AgentID()
		if err := conv.LeaveAgent(); err != nil {
			t.Fatal(err)
		}
		s.wait(webchatservice.EventAgentDisconnected)
		a := s.must(webchatservice.CmdGetAgents, nil).(webchatservice.AgentsResult).Agents[id]
		if a.Connected || a.DisconnectedTime < a.ConnectedTime || a.DisconnectedTime == 0 {
			t.Errorf("agent after leaving %s", dump(a))
		}
	})

	t.Run("resolved: last ended session's transcript until the next startChat", func(t *testing.T) {
		s.must(webchatservice.CmdEndChat, nil)
		s.wait(webchatservice.EventEnded)
		tr := s.must(webchatservice.CmdGetTranscript, nil).(webchatservice.Transcript)
		if !hasText(tr.Messages, "first") || !hasText(tr.Messages, "second") {
			t.Fatalf("transcript after end %s", dump(tr))
		}
		if st := s.must(webchatservice.CmdGetStats, nil).(webchatservice.Stats); st.StartTime == false {
			t.Errorf("getStats after end %s", dump(st))
		}
		s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
		tr = s.must(webchatservice.CmdGetTranscript, nil).(webchatservice.Transcript)
		if hasText(tr.Messages, "first") || hasText(tr.Messages, "second") {
			t.Errorf("old transcript after a new startChat: %s", dump(tr))
		}
	})
}

// §3.15 sendFile and §3.16 downloadFile, getFileLimits in mode P: the transport's rejection
// comes before the session check and the options.
func TestResolutionsFiles(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	idle := newTS(t, pcOptions(sim, nil))
	act, conv := active(t, sim, pcOptions(sim, nil))
	file := webchatservice.SendFileOptions{Files: []webchatservice.File{{Name: "a.txt", ContentType: "text/plain", Size: 2, Reader: bytes.NewReader([]byte("hi"))}}}
	for _, s := range []struct {
		name string
		s    *ts
	}{{"no session", idle}, {"active", act}} {
		for _, tc := range []struct {
			cmd      string
			opts     any
			sentinel error
			text     string
		}{
			{webchatservice.CmdSendFile, file, transports.ErrFileUploadUnsupported, "This transport doesn't support file uploads."},
			{webchatservice.CmdSendFile, nil, transports.ErrFileUploadUnsupported, "This transport doesn't support file uploads."},
			{webchatservice.CmdDownloadFile, map[string]any{"fileId": "1", "fileName": "myfile.txt"}, transports.ErrFileDownloadUnsupported, "This transport doesn't support file download."},
			{webchatservice.CmdDownloadFile, nil, transports.ErrFileDownloadUnsupported, "This transport doesn't support file download."},
			{webchatservice.CmdGetFileLimits, nil, transports.ErrFileLimitsUnsupported, "This transport doesn't support getFileLimits command."},
		} {
			t.Run(tc.cmd+" rejected: mode P ("+s.name+")", func(t *testing.T) {
				_, err := s.s.cmd(tc.cmd, tc.opts)
				rejects(t, err, tc.sentinel, tc.text)
			})
		}
	}
	if n := len(conv.Messages()); n == 0 {
		t.Fatal("no transcript")
	}
}

var pcSessionKeys = []string{"jwt", "conversationId", "memberId", "displayName", "WebSocketUrl", "nextMsgURL", "lastMessageId"}

// §3.17 getSessionData: always resolves, same shape with empty values without a session.
func TestResolutionsGetSessionData(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s := newTS(t, pcOptions(sim, nil))
	empty := s.must(webchatservice.CmdGetSessionData, nil).(map[string]string)
	if len(empty) != len(pcSessionKeys) {
		t.Errorf("no session: %v", empty)
	}
	for _, k := range pcSessionKeys {
		if v, ok := empty[k]; !ok || v != "" {
			t.Errorf("no session: %s = %q, %v", k, v, ok)
		}
	}
	s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	sd := s.must(webchatservice.CmdGetSessionData, nil).(map[string]string)
	if sd["conversationId"] != conv.ID() || sd["memberId"] != conv.GuestID() || len(sd["jwt"]) < 20 || sd["jwt"] == transports.Redacted || sd["WebSocketUrl"] == "" {
		t.Errorf("active (in process, secrets included): %v", sd)
	}
	for _, k := range pcSessionKeys {
		if _, ok := sd[k]; !ok {
			t.Errorf("active: key %s missing", k)
		}
	}
	s.must(webchatservice.CmdEndChat, nil)
	if after := s.must(webchatservice.CmdGetSessionData, nil).(map[string]string); dump(after) != dump(empty) {
		t.Errorf("after end: %v", after)
	}
}

// §3.17 fetchHistory rows reachable in a live chat (the resolved row: restore_history_test.go).
func TestResolutionsFetchHistory(t *testing.T) {
	sim := startSim(t, fastSimOptions())

	t.Run("rejected: P with transport.pagination false", func(t *testing.T) {
		cfg := pureCloudConfig(sim.URL, nil)
		cfg["transport"].(map[string]any)["pagination"] = false
		s, _ := active(t, sim, webchatservice.Options{Config: cfg})
		_, err := s.cmd(webchatservice.CmdFetchHistory, nil)
		rejects(t, err, transports.ErrHistoryNotEnabled, "Fetching chat history on scroll is not enabled.")
	})

	t.Run("rejected: everything already fetched", func(t *testing.T) {
		s, _ := active(t, sim, pcOptions(sim, nil))
		// A live chat delivered everything from its start: nothing is older.
		_, err := s.cmd(webchatservice.CmdFetchHistory, nil)
		rejects(t, err, transports.ErrNoMoreMessages, "No more messages to fetch.")
		_, err = s.cmd(webchatservice.CmdFetchHistory, nil)
		rejects(t, err, transports.ErrNoMoreMessages, "No more messages to fetch.")
	})

	t.Run("rejected: request fails", func(t *testing.T) {
		s, _ := active(t, sim, pcOptions(sim, nil))
		sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpGetMessages, Status: 400})
		defer sim.ClearFaults()
		_, err := s.cmd(webchatservice.CmdFetchHistory, nil)
		var te *transports.TransportError
		if !errors.As(err, &te) || te.Status != 400 {
			t.Fatalf("rejection %v, want the 400 TransportError", err)
		}
	})

	t.Run("rejected [ours]: no session", func(t *testing.T) {
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdFetchHistory, nil)
		rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
	})
}

type textBox struct{ s string }

func (b *textBox) Text() string { return b.s }

// §3.18 registerTypingPreviewInput.
func TestResolutionsRegisterTypingPreviewInput(t *testing.T) {
	s := newTS(t, webchatservice.Options{Config: offlineConfig(nil)})
	ch := make(chan string, 1)
	var nilFunc func() string
	for _, tc := range []struct {
		name string
		opts any
		ok   bool
	}{
		{"resolved: a func() string", map[string]any{"input": func() string { return "typing…" }}, true},
		{"resolved: a receive channel", map[string]any{"input": (<-chan string)(ch)}, true},
		{"resolved: a channel", map[string]any{"input": ch}, true},
		{"resolved: a Text() source", map[string]any{"input": &textBox{"x"}}, true},
		{"resolved: typed options", webchatservice.TypingPreviewInput{Input: func() string { return "" }}, true},
		{"rejected: missing", map[string]any{}, false},
		{"rejected: nil options", nil, false},
		{"rejected: null", map[string]any{"input": nil}, false},
		{"rejected: a nil func", map[string]any{"input": nilFunc}, false},
		{"rejected: a string", map[string]any{"input": "#chat-input"}, false},
		{"rejected: a number", map[string]any{"input": 7}, false},
		{"rejected: a send-only channel", map[string]any{"input": (chan<- string)(ch)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.cmd(webchatservice.CmdRegisterTypingPreviewInput, tc.opts)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			rejects(t, err, webchatservice.ErrInvalidPreviewInput, "Invalid value provided for the input property. An HTML element reference to a textarea or text input is required.")
		})
	}
}

// §3.18 registerPreProcessor.
func TestResolutionsRegisterPreProcessor(t *testing.T) {
	s := newTS(t, webchatservice.Options{Config: offlineConfig(nil)})
	f1 := func(ctx context.Context, m *webchatservice.Message) (*webchatservice.Message, error) { return m, nil }
	f2 := preprocessor.Func(f1)
	f3 := func(m *webchatservice.Message) *webchatservice.Message { return m }
	for _, tc := range []struct {
		name string
		opts any
		fn   any
	}{
		{"func(ctx, *Message) (*Message, error)", map[string]any{"preprocessor": f1}, f1},
		{"preprocessor.Func", map[string]any{"preprocessor": f2}, f2},
		{"func(*Message) *Message", map[string]any{"preprocessor": f3}, f3},
		{"typed options", webchatservice.PreProcessorOptions{PreProcessor: f1}, f1},
	} {
		t.Run("resolved: "+tc.name, func(t *testing.T) {
			v, err := s.cmd(webchatservice.CmdRegisterPreProcessor, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(v) != reflect.TypeOf(tc.fn) || reflect.ValueOf(v).Pointer() != reflect.ValueOf(tc.fn).Pointer() {
				t.Errorf("resolution %T, want the registered function", v)
			}
		})
	}
	var nilFn func(*webchatservice.Message) *webchatservice.Message
	for _, tc := range []struct {
		name string
		opts any
		typ  string
	}{
		{"missing", map[string]any{}, "undefined"},
		{"nil options", nil, "undefined"},
		{"null", map[string]any{"preprocessor": nil}, "undefined"},
		{"a string", map[string]any{"preprocessor": "uppercase"}, "string"},
		{"an int", map[string]any{"preprocessor": 42}, "int"},
		{"a JSON number", map[string]any{"preprocessor": 4.2}, "float64"},
		{"a func of another shape", map[string]any{"preprocessor": func() {}}, "func()"},
		{"a nil func", map[string]any{"preprocessor": nilFn}, "func(*transports.Message) *transports.Message"},
	} {
		t.Run("rejected: "+tc.name, func(t *testing.T) {
			_, err := s.cmd(webchatservice.CmdRegisterPreProcessor, tc.opts)
			rejects(t, err, webchatservice.ErrNoPreprocessor, "No preprocessor function provided. Type provided was '"+tc.typ+"'.")
		})
	}
}

// §3.18 verifySession (waiting for a running restore: restore_flow_test.go).
func TestResolutionsVerifySession(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	for _, opts := range []webchatservice.Options{{}, pcOptions(sim, nil)} {
		s := newTS(t, opts)
		if v := s.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":false}` {
			t.Errorf("no session: %s", dump(v))
		}
	}
	s, _ := active(t, sim, pcOptions(sim, nil))
	if v := s.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":true}` {
		t.Errorf("active: %s", dump(v))
	}
	s.must(webchatservice.CmdEndChat, nil)
	if v := s.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":false}` {
		t.Errorf("ended: %s", dump(v))
	}
}

// §3.19 sleep and wake are no-ops in mode P: they resolve and publish nothing.
func TestResolutionsSleepWake(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	idle := newTS(t, pcOptions(sim, map[string]any{"sleepEnabled": true}))
	act, _ := active(t, sim, pcOptions(sim, map[string]any{"sleepEnabled": true}))
	for _, s := range []*ts{idle, act} {
		s.must(webchatservice.CmdSleep, nil)
		s.must(webchatservice.CmdWake, nil)
		s.must(webchatservice.CmdSleep, nil)
		s.must(webchatservice.CmdWake, map[string]any{"resetIdleState": true})
		s.sync()
		for _, ev := range []string{webchatservice.EventSleeping, webchatservice.EventWaking} {
			if n := s.log.count(ev); n != 0 {
				t.Errorf("%s published %d times", ev, n)
			}
		}
		if v, ok := s.app.Get("WebChatService.sleeping"); ok && v != false {
			t.Errorf("data sleeping = %v", v)
		}
	}
	// Still usable.
	act.must(webchatservice.CmdSendMessage, map[string]any{"message": "awake"})
}
