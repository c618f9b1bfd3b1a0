package natsbridge_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/webchatservice"
)

// TestCommandParityWithBus runs every bridged command over NATS and directly on the session's
// bus, in the same session state, and checks both give the same rejection text or result.
func TestCommandParityWithBus(t *testing.T) {
	sim := startSim(t)
	srv := startNATS(t, false)
	d := startDaemon(t, srv.ClientURL(), webchatservice.HostOptions{Config: simConfig(sim.URL)}, natsbridge.Options{})
	nc := connect(t, srv.ClientURL())
	subj := natsbridge.Subjects{Prefix: "webchat"}
	var opened natsbridge.OpenResult
	mustResult(t, nc, subj.Open(), nil, &opened)
	s, err := d.host.Get(opened.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Options per command (JSON, as a NATS client sends them).
	opts := map[string]string{
		"WebChatService.sendMessage":         `{"message":""}`,
		"WebChatService.sendFilteredMessage": `{"message":"x","regex":"/x/"}`,
		"WebChatService.addPrefilter":        `{"filters":["/(?=x)/"]}`,
		"WebChatService.updateUserData":      `{"k":"v"}`,
		"WebChatService.downloadFile":        `{"fileId":"f1"}`,
		"WebChatService.sendTyping":          `{"message":"typing"}`,
		"WebChatService.sendCustomNotice":    `{"message":"n"}`,
		"WebChatService.wake":                `{"resetIdleState":true}`,
	}
	skipWhileActive := map[string]bool{ // change the chat, or differ by design (secrets)
		"WebChatService.startChat": true, "WebChatService.endChat": true, "WebChatService.getSessionData": true,
		"WebChatService.sendMessage": true, "WebChatService.sendFilteredMessage": true, "WebChatService.sendTyping": true,
		"WebChatService.updateUserData": true,
	}
	compare := func(t *testing.T, command string) {
		t.Helper()
		payload := opts[command]
		_, viaNATS := request(t, nc, subj.Command(opened.ID, command), payload)
		var o any
		if payload != "" {
			o = json.RawMessage(payload)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		v, err := s.Client.Plugin().Command(ctx, command, o)
		switch {
		case err != nil:
			if viaNATS.Error == nil || viaNATS.Error.Message != err.Error() {
				t.Errorf("%s: bus rejects %q, NATS gives %s", command, err, dump(viaNATS))
			}
		default:
			want, _ := json.Marshal(v)
			if viaNATS.Error != nil || !sameJSON(viaNATS.Result, want) {
				t.Errorf("%s: bus resolves %s, NATS gives %s", command, want, dump(viaNATS))
			}
		}
	}
	t.Run("idle", func(t *testing.T) {
		for _, c := range natsbridge.DefaultAllowCommands {
			if c == "WebChatService.startChat" || c == "WebChatService.getSessionData" || c == "WebChatService.updateUserData" {
				continue
			}
			compare(t, c)
		}
	})
	joined := make(chan struct{}, 1)
	if _, err := s.Client.OnParticipants(webchatservice.EventAgentConnected, func(webchatservice.Participants) { joined <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	mustResult(t, nc, subj.Command(opened.ID, "WebChatService.startChat"), `{"nickname":"Ada"}`, nil)
	// Compare in a settled state: the scripted agent joins once, then nothing else happens.
	select {
	case <-joined:
	case <-time.After(wait):
		t.Fatal("agent never joined")
	}
	t.Run("active", func(t *testing.T) {
		for _, c := range natsbridge.DefaultAllowCommands {
			if !skipWhileActive[c] {
				compare(t, c)
			}
		}
	})
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
