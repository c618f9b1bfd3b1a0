package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

func TestSummarize(t *testing.T) {
	agent := transports.From{ID: "a1", Type: transports.ParticipantAgent, Name: "Alex"}
	client := transports.From{ID: "c1", Type: transports.ParticipantClient, Name: "Ada"}
	tests := []struct {
		event string
		data  any
		want  string
	}{
		{"ready", map[string]any{}, ""},
		{"ended", nil, ""},
		{"started", webchatservice.Started{"data": map[string]any{"conversationId": "c-1", "jwt": "[redacted]"}}, "conversation c-1"},
		{"started", webchatservice.Started{"sessionID": "s-1", "secureKey": "[redacted]"}, "chat s-1"},
		{"ajaxResponse", json.RawMessage(`{"id":"c-2","jwt":"[redacted]"}`), "server answer for conversation c-2"},
		{"ajaxResponse", map[string]any{"chatId": "g-1"}, "server answer for chat g-1"},
		{"ajaxResponse", json.RawMessage(`[1]`), "server answer"},
		{"messageReceived", webchatservice.MessageReceived{Messages: []webchatservice.Message{
			{Type: transports.TypeParticipantJoined, From: agent},
			{Type: transports.TypeMessage, From: agent, Text: "hi"},
		}}, `Alex (Agent) joined | Alex (Agent): "hi"`},
		{"messageReceived", webchatservice.MessageReceived{Restoring: true, Messages: []webchatservice.Message{
			{Type: transports.TypeMessage, From: client, Text: "back"},
		}}, `[restoring] Ada (Client): "back"`},
		{"messageReceived", webchatservice.MessageReceived{OldMessages: true, Messages: []webchatservice.Message{
			{Type: transports.TypeParticipantLeft, From: transports.From{Type: transports.ParticipantClient}},
		}}, `[history] Client left`},
		{"messageReceived", webchatservice.MessageReceived{}, "(no visible messages)"},
		{"messageReceived", webchatservice.MessageReceived{Messages: []webchatservice.Message{
			{Type: transports.TypeMessage, Text: strings.Repeat("x", 100)},
		}}, `someone: "` + strings.Repeat("x", 79) + `…"`},
		{"agentConnected", webchatservice.Participants{Message: webchatservice.Message{From: agent}, NumAgentsConnected: 1}, "Alex (Agent) joined · 1 agent connected"},
		{"agentDisconnected", webchatservice.Participants{Message: webchatservice.Message{From: agent}}, "Alex (Agent) left · 0 agents connected"},
		{"agentTypingStarted", webchatservice.Message{From: agent}, "Alex (Agent)"},
		{"agentTypingStopped", webchatservice.Message{}, ""},
		{"error", webchatservice.ErrorPayload{Text: "boom", TransportError: transports.TransportError{Operation: "send", Status: 503, ErrorReason: "MessageFailed"}}, "boom · operation send · HTTP 503 · MessageFailed"},
		{"restoreFailed", webchatservice.RestoreFailed{Reason: "network", Error: "refused"}, "reason network refused"},
		{"restored", webchatservice.Restored{Async: true}, "async true"},
		{"idleAlert", webchatservice.IdleAlert{SecondsLeft: 30}, "30 seconds left"},
		{"sessionLost", webchatservice.SessionLost{Error: "gone"}, "gone"},
		{"capabilitiesChanged", map[string]bool{"pagination": true}, `{"pagination":true}`},
		{"other", 42, "42"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			got := summarize(bus.Event{Name: "WebChatService." + tt.event, Data: tt.data})
			if got != tt.want {
				t.Errorf("summarize(%s) = %q, want %q", tt.event, got, tt.want)
			}
		})
	}
}

func TestEventPrinter(t *testing.T) {
	now := time.Unix(100, 0)
	clock := func() time.Time { return now }
	var buf bytes.Buffer
	p := newEventPrinter(&buf, false, clock)
	now = now.Add(1500 * time.Millisecond)
	p.Event(bus.Event{Name: "WebChatService.ready", Data: map[string]any{}})
	p.Note("hello %d", 7)
	want := " +1.500s  ready\n +1.500s  # hello 7\n"
	if buf.String() != want {
		t.Errorf("text output %q, want %q", buf.String(), want)
	}

	buf.Reset()
	p = newEventPrinter(&buf, true, clock)
	p.Event(bus.Event{Time: time.UnixMilli(5), Publisher: "WebChatService", Name: "WebChatService.ended", Data: map[string]any{}})
	p.Note("left out of JSON output")
	if got, want := buf.String(), `{"time":5,"publisher":"WebChatService","event":"WebChatService.ended","data":{}}`+"\n"; got != want {
		t.Errorf("JSON output %q, want %q", got, want)
	}
	if p.Err() != nil {
		t.Errorf("Err = %v", p.Err())
	}
}
