package webchatservice_test

// Resolutions rows of modes R (GMS REST) and C (GMS CometD) against the GMS simulator:
// startChat, endChat, sendMessage, sendCustomNotice, sendTyping, updateUserData, getSessionData,
// fetchHistory (not async), sleep/wake. Polling: resolutions_gmspoll_test.go; files:
// resolutions_gmsfiles_test.go.

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cxbus/webchat/bus"
	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	_ "github.com/cxbus/webchat/transports/gms"
	"github.com/cxbus/webchat/webchatservice"
)

const gmsService = "customer-support"

// gmsSim starts a GMS simulator whose agent "Gina" joins at once and echoes.
func gmsSim(t testing.TB, o simgms.Options) *simgms.Server {
	t.Helper()
	if o.Script == nil {
		o.Script = &simgms.Script{Agent: "Gina", JoinDelay: -1, Echo: true, EchoPrefix: "echo: ", ReplyDelay: -1}
	}
	s, err := simgms.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// gmsModes are the two GMS modes with their Widgets configurations.
var gmsModes = []struct {
	name string
	cfg  func(sim *simgms.Server, extra map[string]any) map[string]any
}{
	{"R", func(sim *simgms.Server, extra map[string]any) map[string]any {
		cfg := map[string]any{"dataURL": sim.ChatURL(gmsService), "pollRate": 1000, "pollRateMin": 250, "pollRateMax": 1000, "userData": map[string]any{"source": "test"}}
		for k, v := range extra {
			cfg[k] = v
		}
		return cfg
	}},
	{"C", func(sim *simgms.Server, extra map[string]any) map[string]any {
		cfg := map[string]any{"cometD": map[string]any{"enabled": true, "cometURL": sim.CometDURL(), "channel": "/service/chatV2/" + gmsService, "apiURL": sim.NtfURL()},
			"userData": map[string]any{"source": "test"}}
		for k, v := range extra {
			cfg[k] = v
		}
		return cfg
	}},
}

// gmsActive starts a chat and waits for the agent.
func gmsActive(t testing.TB, sim *simgms.Server, cfg map[string]any) (*ts, *simgms.Chat) {
	t.Helper()
	s := newTS(t, webchatservice.Options{Config: cfg})
	v := s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	var answer struct {
		ChatID string `json:"chatId"`
	}
	if raw, ok := v.(json.RawMessage); !ok || json.Unmarshal(raw, &answer) != nil || answer.ChatID == "" {
		t.Fatalf("startChat resolution %s", dump(v))
	}
	chat, err := sim.WaitChat(ctxT(t), answer.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	s.wait(webchatservice.EventAgentConnected)
	return s, chat
}

func TestResolutionsGMSStartChat(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := gmsSim(t, simgms.Options{})

			t.Run("resolved: the request-chat answer; started before the first messages", func(t *testing.T) {
				s := newTS(t, webchatservice.Options{Config: mode.cfg(sim, nil)})
				v, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "userData": `{"order":"42"}`})
				if err != nil {
					t.Fatal(err)
				}
				var answer struct {
					StatusCode *int   `json:"statusCode"`
					ChatID     string `json:"chatId"`
					UserID     string `json:"userId"`
					SecureKey  string `json:"secureKey"`
					Alias      string `json:"alias"`
				}
				if raw, ok := v.(json.RawMessage); !ok || json.Unmarshal(raw, &answer) != nil || answer.StatusCode == nil || *answer.StatusCode != 0 ||
					answer.ChatID == "" || answer.UserID == "" || answer.Alias == "" || answer.SecureKey != transports.Redacted {
					t.Fatalf("resolution %s", dump(v))
				}
				chat, err := sim.WaitChat(ctxT(t), answer.ChatID)
				if err != nil {
					t.Fatal(err)
				}
				if ud := chat.UserData(); ud["order"] != "42" || ud["source"] != "test" {
					t.Errorf("attached data %v", ud)
				}
				st, si := s.log.waitFrom(t, 0, webchatservice.EventStarted, nil)
				p := st.Data.(webchatservice.Started)
				if p["sessionID"] != answer.ChatID || p["userId"] != answer.UserID || p["alias"] != answer.Alias || p["secureKey"] != transports.Redacted {
					t.Errorf("started %s", dump(p))
				}
				_, mi := s.log.waitFrom(t, 0, webchatservice.EventMessageReceived, nil)
				if mi < si {
					t.Errorf("messageReceived (%d) before started (%d): %v", mi, si, s.log.names())
				}
				_, ci := s.log.waitFrom(t, 0, webchatservice.EventClientConnected, nil)
				if ci < si {
					t.Errorf("clientConnected (%d) before started (%d): %v", ci, si, s.log.names())
				}
			})

			t.Run("rejected: a session is active", func(t *testing.T) {
				s, _ := gmsActive(t, sim, mode.cfg(sim, nil))
				_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
				rejects(t, err, webchatservice.ErrChatAlreadyActive, "There is already an active chat session.")
			})

			t.Run("rejected: userData malformed", func(t *testing.T) {
				s := newTS(t, webchatservice.Options{Config: mode.cfg(sim, nil)})
				_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "userData": "{not json"})
				rejects(t, err, webchatservice.ErrMalformedUserData, "malformed data object provided in userData property.")
			})

			if mode.name == "R" {
				t.Run("rejected: async true in mode R", func(t *testing.T) {
					s := newTS(t, webchatservice.Options{Config: mode.cfg(sim, nil)})
					_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "async": true})
					rejects(t, err, webchatservice.ErrAsyncOnlyCometD, "Invalid configuration. WebChatService supports Async chat only in CometD mode.")
				})
			}
		})
	}

	t.Run("R rejected: AJAX exception (HTTP 500)", func(t *testing.T) {
		sim := gmsSim(t, simgms.Options{})
		s := newTS(t, webchatservice.Options{Config: gmsModes[0].cfg(sim, nil)})
		sim.FailRequests(100, 500)
		_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
		sim.FailRequests(0, 0)
		var te *transports.TransportError
		if !errors.As(err, &te) || te.Status != 500 {
			t.Fatalf("rejection %v, want the 500 TransportError", err)
		}
		s.wait(webchatservice.EventError)
	})

	t.Run("R rejected: server exception (errors[], unknown service)", func(t *testing.T) {
		sim := gmsSim(t, simgms.Options{Services: []string{"other-service"}})
		s := newTS(t, webchatservice.Options{Config: gmsModes[0].cfg(sim, nil)})
		_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
		var te *transports.TransportError
		if !errors.As(err, &te) || len(te.Errors) == 0 || te.Errors[0].Code != 306 {
			t.Fatalf("rejection %v, want a TransportError with errors[] code 306", err)
		}
		if te.ErrorReason != "InvalidService" {
			t.Errorf("errorReason %q, want InvalidService", te.ErrorReason)
		}
	})

	t.Run("C rejected: server exception (statusCode 2, unknown service)", func(t *testing.T) {
		sim := gmsSim(t, simgms.Options{Services: []string{"other-service"}})
		s := newTS(t, webchatservice.Options{Config: gmsModes[1].cfg(sim, nil)})
		_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
		var te *transports.TransportError
		if !errors.As(err, &te) || (te.StatusCode == 0 && len(te.Errors) == 0) {
			t.Fatalf("rejection %v, want a TransportError with statusCode/errors[]", err)
		}
	})
}

func TestResolutionsGMSSession(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := gmsSim(t, simgms.Options{})
			s, chat := gmsActive(t, sim, mode.cfg(sim, nil))

			t.Run("sendMessage resolved: (AJAX Response Object)", func(t *testing.T) {
				v, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "hello"})
				if err != nil {
					t.Fatal(err)
				}
				if raw, ok := v.(json.RawMessage); !ok || !json.Valid(raw) {
					t.Errorf("resolution %s", dump(v))
				}
				s.waitMsg("echo: hello", false)
				if msgs := chat.ClientMessages(); len(msgs) != 1 || msgs[0] != "hello" {
					t.Errorf("server has %q", msgs)
				}
			})

			t.Run("sendCustomNotice resolved", func(t *testing.T) {
				if _, err := s.cmd(webchatservice.CmdSendCustomNotice, map[string]any{"message": "custom"}); err != nil {
					t.Fatal(err)
				}
				found := false
				for _, ev := range chat.Transcript() {
					if ev.Type == "CustomNotice" && ev.Text == "custom" {
						found = true
					}
				}
				if !found {
					t.Errorf("no CustomNotice in the transcript")
				}
			})

			t.Run("updateUserData resolved: active session", func(t *testing.T) {
				if _, err := s.cmd(webchatservice.CmdUpdateUserData, map[string]any{"plan": "gold"}); err != nil {
					t.Fatal(err)
				}
				if ud := chat.UserData(); ud["plan"] != "gold" {
					t.Errorf("attached data %v", ud)
				}
				if d, _ := s.app.Get("WebChatService.userData"); dump(d) != `{"plan":"gold","source":"test"}` {
					t.Errorf("data userData %s", dump(d))
				}
			})

			t.Run("sendTyping resolved: typing start sent", func(t *testing.T) {
				if _, err := s.cmd(webchatservice.CmdSendTyping, map[string]any{"message": "previ"}); err != nil {
					t.Fatal(err)
				}
				s.wait(webchatservice.EventClientTypingStarted)
				if err := chat.Wait(ctxT(t), func(c *simgms.Chat) bool { return c.Preview() == "previ" }); err != nil {
					t.Errorf("preview on the server %q: %v", chat.Preview(), err)
				}
				s.must(webchatservice.CmdSendTyping, map[string]any{"isTyping": false})
				s.wait(webchatservice.EventClientTypingStopped)
			})

			t.Run("getSessionData resolved: {sessionID, userId, secureKey, alias}", func(t *testing.T) {
				sd := s.must(webchatservice.CmdGetSessionData, nil).(map[string]string)
				k := chat.Keys()
				if sd["sessionID"] != chat.ID() || sd["userId"] == "" || sd["secureKey"] == "" || sd["secureKey"] == transports.Redacted || sd["alias"] == "" || len(sd) != 4 {
					t.Errorf("getSessionData %v (keys %+v)", sd, k)
				}
			})

			t.Run("fetchHistory rejected: chat not asynchronous", func(t *testing.T) {
				_, err := s.cmd(webchatservice.CmdFetchHistory, nil)
				rejects(t, err, transports.ErrHistoryAsyncOnly, "Fetching history messages applies only to Asynchronous chat.")
			})

			t.Run("endChat resolved: (AJAX Response Object)", func(t *testing.T) {
				if _, err := s.cmd(webchatservice.CmdEndChat, nil); err != nil {
					t.Fatal(err)
				}
				s.wait(webchatservice.EventEnded)
				if ended, why := chat.Ended(); !ended || why != simgms.EndClient {
					t.Errorf("server: ended %v (%s)", ended, why)
				}
			})

			t.Run("rejected: no active session", func(t *testing.T) {
				for _, cmd := range []string{webchatservice.CmdEndChat, webchatservice.CmdSendMessage, webchatservice.CmdSendCustomNotice, webchatservice.CmdSendTyping} {
					_, err := s.cmd(cmd, map[string]any{"message": "x"})
					rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
				}
				_, err := s.cmd(webchatservice.CmdSendFilteredMessage, map[string]any{"message": "x", "regex": "/x/"})
				rejects(t, err, webchatservice.ErrNoActiveChatSession, "No active chat session.")
				sd := s.must(webchatservice.CmdGetSessionData, nil)
				if dump(sd) != `{"alias":"","secureKey":"","sessionID":"","userId":""}` {
					t.Errorf("getSessionData without a session %s", dump(sd))
				}
			})
		})
	}
}

func TestResolutionsGMSAjaxExceptions(t *testing.T) {
	// R: every REST call answers 500 for a while; the commands reject with the TransportError.
	sim := gmsSim(t, simgms.Options{})
	s, _ := gmsActive(t, sim, gmsModes[0].cfg(sim, map[string]any{"ajaxTimeout": 1000}))
	for _, tc := range []struct {
		cmd  string
		opts any
	}{
		{webchatservice.CmdSendCustomNotice, map[string]any{"message": "n"}},
		{webchatservice.CmdUpdateUserData, map[string]any{"k": "v"}},
		{webchatservice.CmdSendTyping, map[string]any{"message": "t"}},
	} {
		t.Run(tc.cmd+" rejected: AJAX exception", func(t *testing.T) {
			sim.FailRequests(1000, 400)
			defer sim.FailRequests(0, 0)
			_, err := s.cmd(tc.cmd, tc.opts)
			var te *transports.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("rejection %v (%T), want a TransportError", err, err)
			}
		})
	}
}

// sleep / wake (R): sleeping and waking, data sleeping; wake with resetIdleState sends the
// cancel-idle-timer notice. C: no-ops.
func TestResolutionsGMSSleepWake(t *testing.T) {
	sim := gmsSim(t, simgms.Options{})
	t.Run("R", func(t *testing.T) {
		s, chat := gmsActive(t, sim, gmsModes[0].cfg(sim, map[string]any{"sleepEnabled": true}))
		s.must(webchatservice.CmdSleep, nil)
		s.wait(webchatservice.EventSleeping)
		if v, _ := s.app.Get("WebChatService.sleeping"); v != true {
			t.Errorf("data sleeping = %v", v)
		}
		s.must(webchatservice.CmdSleep, nil) // already sleeping: nothing more
		s.must(webchatservice.CmdWake, nil)
		s.wait(webchatservice.EventWaking)
		if v, _ := s.app.Get("WebChatService.sleeping"); v != false {
			t.Errorf("data sleeping = %v", v)
		}
		s.must(webchatservice.CmdWake, map[string]any{"resetIdleState": true})
		err := chat.Wait(ctxT(t), func(c *simgms.Chat) bool {
			for _, ev := range c.Transcript() {
				if ev.Type == "CustomNotice" && len(ev.EventAttributes) > 0 {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Errorf("no cancel-idle-timer notice: %v", err)
		}
		// sendMessage wakes a sleeping service.
		s.must(webchatservice.CmdSleep, nil)
		from := s.log.len()
		s.log.waitFrom(t, 0, webchatservice.EventSleeping, func(e bus.Event) bool { return true })
		s.must(webchatservice.CmdSendMessage, map[string]any{"message": "wake up"})
		s.log.waitFrom(t, from, webchatservice.EventWaking, nil)
		s.sync()
		if n := s.log.count(webchatservice.EventSleeping); n != 2 {
			t.Errorf("sleeping %d times", n)
		}
	})
	t.Run("R sleepEnabled false", func(t *testing.T) {
		s, _ := gmsActive(t, sim, gmsModes[0].cfg(sim, nil))
		s.must(webchatservice.CmdSleep, nil)
		s.sync()
		if n := s.log.count(webchatservice.EventSleeping); n != 0 {
			t.Error("slept although sleepEnabled is false")
		}
	})
	t.Run("C no-op", func(t *testing.T) {
		s, _ := gmsActive(t, sim, gmsModes[1].cfg(sim, map[string]any{"sleepEnabled": true}))
		s.must(webchatservice.CmdSleep, nil)
		s.must(webchatservice.CmdWake, nil)
		s.sync()
		if n := s.log.count(webchatservice.EventSleeping) + s.log.count(webchatservice.EventWaking); n != 0 {
			t.Errorf("sleeping/waking in mode C: %v", s.log.names())
		}
	})
}
