package webchatservice_test

// Resolutions of configure (§3.3), startChat (§3.4) and endChat (§3.5) against the Genesys
// Cloud simulator (mode P) and the rows that do not depend on the mode.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

// §3.3 configure.
func TestResolutionsConfigure(t *testing.T) {
	tests := []struct {
		name  string
		first any // configure before the checked call (nil: none)
		opts  any
		// want: nil resolves; else the sentinel and the exact text.
		sentinel error
		text     string
		// prefix: the text is the exact string followed by details naming the bad field.
		prefix bool
	}{
		{name: "resolved: configuration accepted", opts: offlineConfig(nil)},
		{name: "resolved: Widgets {webchat: {...}} wrapper", opts: map[string]any{"webchat": offlineConfig(nil)}},
		{name: "resolved: JSON text", opts: json.RawMessage(mustJSON(offlineConfig(nil)))},
		{name: "rejected: missing", opts: nil, sentinel: webchatservice.ErrInvalidConfiguration, text: "Invalid configuration"},
		{name: "rejected: empty object", opts: map[string]any{}, sentinel: webchatservice.ErrInvalidConfiguration, text: "Invalid configuration"},
		{name: "rejected: empty JSON object", opts: json.RawMessage(`{}`), sentinel: webchatservice.ErrInvalidConfiguration, text: "Invalid configuration"},
		{name: "rejected: transport.type not supported", opts: map[string]any{"transport": map[string]any{"type": "pureengage-v3-rest"}},
			sentinel: webchatservice.ErrInvalidTransportConfiguration, text: "Invalid transport configuration"},
		{name: "rejected: async.enabled in mode R", opts: map[string]any{"dataURL": "http://127.0.0.1:9/genesys/2/chat/s", "async": map[string]any{"enabled": true}},
			sentinel: webchatservice.ErrAsyncOnlyCometD, text: "Invalid configuration. WebChatService supports Async chat only in CometD mode."},
		{name: "rejected [ours]: async.enabled in mode P", opts: offlineConfig(map[string]any{"async": map[string]any{"enabled": true}}),
			sentinel: webchatservice.ErrAsyncOnlyCometD, text: "Invalid configuration. WebChatService supports Async chat only in CometD mode."},
		{name: "rejected [ours]: already configured", first: offlineConfig(nil), opts: offlineConfig(nil),
			sentinel: webchatservice.ErrAlreadyConfigured, text: "WebChatService is already configured."},
		{name: "rejected [ours]: bad field named", opts: offlineConfig(map[string]any{"maxMessageLength": -1}),
			sentinel: webchatservice.ErrInvalidConfiguration, text: "Invalid configuration", prefix: true},
		{name: "rejected [ours]: bad sendWhileDisconnected named", opts: offlineConfig(map[string]any{"sendWhileDisconnected": "drop"}),
			sentinel: webchatservice.ErrInvalidConfiguration, text: "Invalid configuration", prefix: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTS(t, webchatservice.Options{})
			s.wait(webchatservice.EventReady)
			if tc.first != nil {
				s.must(webchatservice.CmdConfigure, tc.first)
			}
			_, err := s.cmd(webchatservice.CmdConfigure, tc.opts)
			switch {
			case tc.sentinel == nil:
				if err != nil {
					t.Fatalf("configure: %v", err)
				}
				caps := s.wait(webchatservice.EventCapabilitiesChanged)
				if got := dump(caps.Data); got != `{"async":false,"asyncClose":false,"fileUpload":false,"pagination":true}` {
					t.Errorf("capabilitiesChanged %s", got)
				}
				if mode, _ := s.app.Get("WebChatService.mode"); mode != string(webchatservice.ModePureCloud) {
					t.Errorf("data mode = %v", mode)
				}
				// Configured: startChat now reaches the transport (no server: a network failure,
				// not "not configured").
				if _, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "x"}); !errors.Is(err, webchatservice.ErrNoActiveChat) {
					t.Errorf("sendMessage after configure: %v", err)
				}
			case tc.prefix:
				if !errors.Is(err, tc.sentinel) {
					t.Fatalf("errors.Is(%v, %v) = false", err, tc.sentinel)
				}
				var ce *webchatservice.ConfigError
				if !errors.As(err, &ce) || ce.Kind.Error() != tc.text {
					t.Fatalf("want a ConfigError of kind %q, got %#v", tc.text, err)
				}
				if !strings.HasPrefix(err.Error(), tc.text+": ") {
					t.Errorf("text %q does not start with %q", err.Error(), tc.text)
				}
			default:
				rejects(t, err, tc.sentinel, tc.text)
			}
		})
	}
}

// A service given a bad configuration at construction fails with the configure rejection; an
// unconfigured one rejects chat commands but still answers the read-only ones.
func TestConfigureAtConstruction(t *testing.T) {
	b := newTS(t, webchatservice.Options{}).bus
	_, err := webchatservice.New(b, webchatservice.Options{Config: map[string]any{}})
	rejects(t, err, webchatservice.ErrInvalidConfiguration, "Invalid configuration")

	s := newTS(t, webchatservice.Options{})
	for _, cmd := range []string{webchatservice.CmdStartChat, webchatservice.CmdSendMessage, webchatservice.CmdEndChat} {
		if _, err := s.cmd(cmd, nil); !errors.Is(err, webchatservice.ErrNotConfigured) {
			t.Errorf("%s before configure: %v, want ErrNotConfigured", cmd, err)
		}
	}
	if v, err := s.cmd(webchatservice.CmdVerifySession, nil); err != nil || v.(webchatservice.VerifySessionResult).SessionActive {
		t.Errorf("verifySession before configure: %v %v", v, err)
	}

	c := newTS(t, webchatservice.Options{Config: offlineConfig(nil)})
	_, err = c.cmd(webchatservice.CmdConfigure, offlineConfig(nil))
	rejects(t, err, webchatservice.ErrAlreadyConfigured, "WebChatService is already configured.")
}

// §3.4 startChat.
func TestResolutionsStartChat(t *testing.T) {
	t.Run("resolved: server confirms the session", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		s := newTS(t, pcOptions(sim, map[string]any{"userData": map[string]any{"source": "cfg", "keep": "yes"}}))
		v, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "email": "ada@example.com",
			"userData": map[string]any{"source": "call", "order": "42"}})
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := v.(json.RawMessage)
		if !ok {
			t.Fatalf("resolution %T, want the create answer as JSON", v)
		}
		var answer struct {
			ID     string `json:"id"`
			JWT    string `json:"jwt"`
			Member struct {
				ID string `json:"id"`
			} `json:"member"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil {
			t.Fatal(err)
		}
		conv, err := sim.NextConversation(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if answer.ID != conv.ID() || answer.Member.ID != conv.GuestID() || answer.JWT != transports.Redacted {
			t.Errorf("answer %s; conversation %s guest %s", raw, conv.ID(), conv.GuestID())
		}
		s.wait(webchatservice.EventStarted)
		// userData: the call's merged over the configured (P: memberInfo.customFields).
		cf := conv.Members()[0].CustomFields
		if cf["source"] != "call" || cf["keep"] != "yes" || cf["order"] != "42" {
			t.Errorf("customFields %v", cf)
		}
		if active, _ := s.app.Get("WebChatService.sessionActive"); active != true {
			t.Errorf("data sessionActive = %v", active)
		}
	})

	t.Run("rejected: a session is active", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		s, _ := active(t, sim, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
		rejects(t, err, webchatservice.ErrChatAlreadyActive, "There is already an active chat session.")
	})

	t.Run("rejected: a session is being started", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		// Hold the create call so the first start is still pending when the second arrives.
		sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpCreateConversation, Delay: 300 * time.Millisecond})
		s := newTS(t, pcOptions(sim, nil))
		first := s.app.CommandAsync(ctxT(t), "WebChatService.startChat", map[string]any{"nickname": "Ada"})
		_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Bob"})
		rejects(t, err, webchatservice.ErrChatAlreadyActive, "There is already an active chat session.")
		if _, err := first.Wait(ctxT(t)); err != nil {
			t.Fatalf("first start: %v", err)
		}
		if n := len(sim.Conversations()); n != 1 {
			t.Errorf("%d conversations created, want 1", n)
		}
	})

	for _, bad := range []struct {
		name string
		v    any
	}{
		{"text that is not JSON", "name=Ada"},
		{"JSON array text", `[1,2]`},
		{"JSON null text", `null`},
		{"a number", 42},
		{"a boolean", true},
		{"an array", []any{"a"}},
	} {
		t.Run("rejected: userData "+bad.name, func(t *testing.T) {
			sim := startSim(t, fastSimOptions())
			s := newTS(t, pcOptions(sim, nil))
			_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "userData": bad.v})
			rejects(t, err, webchatservice.ErrMalformedUserData, "malformed data object provided in userData property.")
			if n := len(sim.Conversations()); n != 0 {
				t.Errorf("%d conversations created", n)
			}
		})
	}

	t.Run("resolved: userData as JSON object text", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		s := newTS(t, pcOptions(sim, nil))
		s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "userData": `{"ticket":"T-1"}`})
		conv, err := sim.NextConversation(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if cf := conv.Members()[0].CustomFields; cf["ticket"] != "T-1" || cf["source"] != "test" {
			t.Errorf("customFields %v", cf)
		}
	})

	t.Run("rejected [ours]: async true in mode P", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "async": true})
		rejects(t, err, webchatservice.ErrAsyncOnlyCometD, "Invalid configuration. WebChatService supports Async chat only in CometD mode.")
	})

	ajax := []struct {
		name   string
		fault  simpc.HTTPFault
		status int
	}{
		{"rejected: AJAX exception (HTTP 500)", simpc.HTTPFault{Op: simpc.OpCreateConversation, Status: 500}, 500},
		{"rejected: AJAX exception (network)", simpc.HTTPFault{Op: simpc.OpCreateConversation, Drop: true}, 0},
		{"rejected: AJAX exception (HTTP 503)", simpc.HTTPFault{Op: simpc.OpCreateConversation, Status: 503}, 503},
	}
	for _, tc := range ajax {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, fastSimOptions())
			sim.InjectHTTP(tc.fault)
			s := newTS(t, pcOptions(sim, nil))
			_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
			var te *transports.TransportError
			if !errors.As(err, &te) || te.Status != tc.status {
				t.Fatalf("rejection %v (%T), want a TransportError with status %d", err, err, tc.status)
			}
			ev := s.wait(webchatservice.EventError).Data.(webchatservice.ErrorPayload)
			if ev.Status != tc.status || ev.Text == "" {
				t.Errorf("error payload %s", dump(ev))
			}
			// The failed start leaves the service idle: the next one works.
			s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
			s.wait(webchatservice.EventStarted)
		})
	}

	t.Run("rejected: server exception (error body)", func(t *testing.T) {
		o := fastSimOptions()
		o.Deployments = []simpc.Deployment{{ID: "deployment-1", OrganizationID: "org-1"}}
		sim := startSim(t, o)
		s := newTS(t, pcOptions(sim, nil))
		_, err := s.cmd(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada", "deploymentKey": "unknown-deployment"})
		var te *transports.TransportError
		if !errors.As(err, &te) || te.Status != http.StatusBadRequest || te.Code == "" || te.Message == "" {
			t.Fatalf("rejection %v, want a 400 TransportError with code and message", err)
		}
		if active, _ := s.app.Get("WebChatService.sessionActive"); active != false {
			t.Errorf("data sessionActive = %v", active)
		}
	})
}

// §3.5 endChat.
func TestResolutionsEndChat(t *testing.T) {
	t.Run("resolved: active session ended", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		s, conv := active(t, sim, pcOptions(sim, nil))
		if _, err := s.cmd(webchatservice.CmdEndChat, nil); err != nil {
			t.Fatal(err)
		}
		s.wait(webchatservice.EventEnded)
		waitConv(t, conv, "the guest's leave", func(c *simpc.Conversation) bool { ended, why := c.Ended(); return ended && why == simpc.EndByGuest })
		if v := s.must(webchatservice.CmdVerifySession, nil).(webchatservice.VerifySessionResult); v.SessionActive {
			t.Error("session still active")
		}
	})

	t.Run("rejected: no active session (never started)", func(t *testing.T) {
		s := newTS(t, webchatservice.Options{Config: offlineConfig(nil)})
		_, err := s.cmd(webchatservice.CmdEndChat, nil)
		rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
	})

	t.Run("rejected: no active session (already ended)", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		s, _ := active(t, sim, pcOptions(sim, nil))
		s.must(webchatservice.CmdEndChat, nil)
		_, err := s.cmd(webchatservice.CmdEndChat, nil)
		rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
	})

	t.Run("rejected: server call failed, session ended locally", func(t *testing.T) {
		sim := startSim(t, fastSimOptions())
		s, conv := active(t, sim, pcOptions(sim, nil))
		sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpDeleteMember, Status: 500, Times: -1})
		_, err := s.cmd(webchatservice.CmdEndChat, nil)
		var te *transports.TransportError
		if !errors.As(err, &te) || te.Status != 500 {
			t.Fatalf("rejection %v, want the TransportError of the failed DELETE", err)
		}
		s.wait(webchatservice.EventEnded)
		if v := s.must(webchatservice.CmdVerifySession, nil).(webchatservice.VerifySessionResult); v.SessionActive {
			t.Error("session still active after a failed endChat")
		}
		if ended, _ := conv.Ended(); ended {
			t.Error("the server ended the conversation although DELETE failed")
		}
		// Ended locally: a new chat can start.
		sim.ClearFaults()
		s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
