package natsbridge_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/micro"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/webchatservice"
)

func TestBridgeChatOverNATS(t *testing.T) {
	sim := startSim(t)
	srv := startNATS(t, false)
	startDaemon(t, srv.ClientURL(), webchatservice.HostOptions{Config: simConfig(sim.URL)}, natsbridge.Options{})
	nc := connect(t, srv.ClientURL())
	subj := natsbridge.Subjects{Prefix: "webchat"}

	var opened natsbridge.OpenResult
	mustResult(t, nc, subj.Open(), nil, &opened)
	if len(opened.ID) != 32 {
		t.Fatalf("session id %q", opened.ID)
	}
	events := subscribeEvents(t, nc, subj.Events(opened.ID))

	cmd := func(name string) string { return subj.Command(opened.ID, "WebChatService."+name) }
	mustResult(t, nc, cmd("startChat"), map[string]any{"nickname": "Ada"}, nil)
	started := events.waitFor(t, "WebChatService.started", nil)
	if s := dump(started); strings.Contains(s, "eyJ") {
		t.Fatalf("a JWT leaked into the started event: %s", s)
	}
	events.waitFor(t, "WebChatService.agentConnected", nil)
	mustResult(t, nc, cmd("sendMessage"), map[string]any{"message": "hello over NATS"}, nil)
	events.waitFor(t, "WebChatService.messageReceived", func(e map[string]any) bool { return strings.Contains(dump(e), "hello over NATS") })

	var sd map[string]string
	mustResult(t, nc, cmd("getSessionData"), "null", &sd) // null = no options
	if sd["jwt"] != "[redacted]" || sd["conversationId"] == "" {
		t.Fatalf("getSessionData over NATS: %v", sd)
	}
	var transcript webchatservice.Transcript
	mustResult(t, nc, cmd("getTranscript"), nil, &transcript)
	if len(transcript.Messages) == 0 {
		t.Fatal("empty transcript")
	}

	// Rejections keep their exact texts.
	wantError(t, nc, cmd("sendMessage"), map[string]any{"message": "  "}, 400, "No message text provided.")
	wantError(t, nc, cmd("startChat"), nil, 400, "There is already an active chat session.")
	wantError(t, nc, cmd("poll"), nil, 403, "natsbridge: command not allowed over NATS: WebChatService.poll")
	wantError(t, nc, cmd("registerPreProcessor"), nil, 403, "")
	wantError(t, nc, subj.Command(opened.ID, "Other.thing"), nil, 403, "")
	wantError(t, nc, subj.Command("0123456789abcdef0123456789abcdef", "WebChatService.getAgents"), nil, 404, "natsbridge: unknown session: 0123456789abcdef0123456789abcdef")
	wantError(t, nc, cmd("sendMessage"), "[1,2]", 400, "Invalid command options: a JSON object is required.")
	wantError(t, nc, cmd("sendMessage"), `{"message":`, 400, "Invalid command options: a JSON object is required.")
	wantError(t, nc, cmd("sendMessage"), `{"message":"`+strings.Repeat("x", 70<<10)+`"}`, 413, "")
	wantError(t, nc, subj.Open(), `{"config":{}}`, 403, "")

	var list struct{ Sessions []natsbridge.SessionInfo }
	mustResult(t, nc, subj.List(), nil, &list)
	if len(list.Sessions) != 1 || list.Sessions[0].ID != opened.ID {
		t.Fatalf("list %+v", list)
	}

	// Micro discovery and per-endpoint stats.
	msg, err := nc.Request("$SRV.PING.webchat", nil, wait)
	if err != nil {
		t.Fatal(err)
	}
	var ping micro.Ping
	json.Unmarshal(msg.Data, &ping)
	if ping.Name != "webchat" || ping.Version != natsbridge.Version {
		t.Fatalf("ping %s", msg.Data)
	}
	msg, err = nc.Request("$SRV.STATS.webchat", nil, wait)
	if err != nil {
		t.Fatal(err)
	}
	var stats micro.Stats
	json.Unmarshal(msg.Data, &stats)
	counts := map[string]int{}
	for _, e := range stats.Endpoints {
		counts[e.Name] = e.NumRequests
		if e.Name == "command" {
			// Rejected before dispatch (403, 413, bad payload) → micro's num_errors; rejected by
			// the service after the handler returned (400s) → the bridge's async_errors.
			var data struct {
				AsyncErrors int `json:"async_errors"`
			}
			json.Unmarshal(e.Data, &data)
			if e.NumErrors == 0 || data.AsyncErrors < 2 {
				t.Fatalf("command endpoint errors: %+v %s", e, e.Data)
			}
		}
	}
	if counts["open"] < 2 || counts["command"] < 8 || counts["list"] != 1 {
		t.Fatalf("stats %s", msg.Data)
	}

	// Close ends the chat and forgets the session.
	mustResult(t, nc, subj.Close(), map[string]any{"id": opened.ID}, nil)
	events.waitFor(t, "WebChatService.ended", nil)
	wantError(t, nc, cmd("getAgents"), nil, 404, "")

	// Events arrived in bus order: started before the first messageReceived, ended last of the chat.
	names := []string{}
	events.mu.Lock()
	for _, e := range events.events {
		names = append(names, e["event"].(string))
	}
	events.mu.Unlock()
	if idx(names, "WebChatService.started") > idx(names, "WebChatService.agentConnected") || idx(names, "WebChatService.ended") < idx(names, "WebChatService.agentConnected") {
		t.Fatalf("event order %v", names)
	}
}

func idx(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
