package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/webchatservice"
)

// eventPrinter writes bus events as they happen: one readable line per event (time offset from
// start, event name, short summary), or with JSON set one line of the raw Widgets-style event
// JSON. It is safe for concurrent use; notes written with Note never interleave with events.
type eventPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	start time.Time
	now   func() time.Time
	err   error // first write error
}

func newEventPrinter(w io.Writer, jsonLines bool, now func() time.Time) *eventPrinter {
	if now == nil {
		now = time.Now
	}
	return &eventPrinter{w: w, json: jsonLines, start: now(), now: now}
}

// Event prints e.
func (p *eventPrinter) Event(e bus.Event) {
	var line string
	if p.json {
		b, err := json.Marshal(e)
		if err != nil {
			b, _ = json.Marshal(map[string]any{"event": e.Name, "publisher": e.Publisher, "error": err.Error()})
		}
		line = string(b)
	} else {
		line = strings.TrimRight(fmt.Sprintf("%s  %-22s %s", p.offset(), shortName(e.Name), summarize(e)), " ")
	}
	p.write(line)
}

// Note prints a line that is not an event (headers, checks). JSON output leaves notes out, so
// that it stays one event per line.
func (p *eventPrinter) Note(format string, args ...any) {
	if p.json {
		return
	}
	p.write(fmt.Sprintf("%s  # %s", p.offset(), fmt.Sprintf(format, args...)))
}

// Err returns the first error writing the output.
func (p *eventPrinter) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *eventPrinter) offset() string {
	return fmt.Sprintf("%8s", fmt.Sprintf("+%.3fs", p.now().Sub(p.start).Seconds()))
}

func (p *eventPrinter) write(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.w, line+"\n"); err != nil && p.err == nil {
		p.err = err
	}
}

// summarize describes an event's payload in a few words. It reads only fields that never hold
// secrets (session data in events is redacted anyway, and is not printed).
func summarize(e bus.Event) string {
	if shortName(e.Name) == webchatservice.EventAjaxResponse {
		// The server's raw answer: name what it is about rather than print it (it may carry
		// customer data; secrets in it are redacted anyway).
		m, _ := e.Data.(map[string]any)
		if raw, ok := e.Data.(json.RawMessage); ok {
			_ = json.Unmarshal(raw, &m) // not an object: no details
		}
		if m != nil {
			if id := str(m["id"]); m["id"] != nil {
				return "server answer for conversation " + id
			}
			if id := str(m["chatId"]); m["chatId"] != nil {
				return "server answer for chat " + id
			}
		}
		return "server answer"
	}
	switch d := e.Data.(type) {
	case webchatservice.MessageReceived:
		return summarizeMessages(d)
	case webchatservice.Participants:
		verb := "joined"
		if strings.HasSuffix(e.Name, "Disconnected") {
			verb = "left"
		}
		return fmt.Sprintf("%s %s · %s connected", who(d.Message.From.Name, string(d.Message.From.Type)), verb, plural(d.NumAgentsConnected, "agent"))
	case webchatservice.Message: // agentTypingStarted / agentTypingStopped carry the typing message
		if d.From.Name == "" && d.From.Type == "" {
			return ""
		}
		return who(d.From.Name, string(d.From.Type))
	case webchatservice.Started:
		if inner, ok := d["data"].(map[string]any); ok { // Genesys Cloud
			return "conversation " + str(inner["conversationId"])
		}
		return "chat " + str(d["sessionID"]) // GMS
	case webchatservice.ErrorPayload:
		return describeError(d)
	case *webchatservice.ErrorPayload:
		return describeError(*d)
	case webchatservice.RestoreFailed:
		return strings.TrimSpace("reason " + d.Reason + " " + d.Error)
	case webchatservice.Restored:
		return fmt.Sprintf("async %t", d.Async)
	case webchatservice.IdleAlert:
		return fmt.Sprintf("%d seconds left", d.SecondsLeft)
	case webchatservice.SessionLost:
		return d.Error
	case map[string]bool: // capabilitiesChanged
		return compactJSON(d)
	case map[string]any:
		if len(d) == 0 {
			return ""
		}
		return compactJSON(d)
	case nil:
		return ""
	default:
		return compactJSON(d)
	}
}

func summarizeMessages(d webchatservice.MessageReceived) string {
	parts := make([]string, 0, len(d.Messages))
	for _, m := range d.Messages {
		from := who(m.From.Name, string(m.From.Type))
		switch m.Type {
		case "ParticipantJoined":
			parts = append(parts, from+" joined")
		case "ParticipantLeft":
			parts = append(parts, from+" left")
		default:
			parts = append(parts, fmt.Sprintf("%s: %q", from, truncate(m.Text, 80)))
		}
	}
	s := strings.Join(parts, " | ")
	if s == "" {
		s = "(no visible messages)"
	}
	switch {
	case d.Restoring:
		s = "[restoring] " + s
	case d.OldMessages:
		s = "[history] " + s
	}
	return s
}

func describeError(d webchatservice.ErrorPayload) string {
	var parts []string
	if d.Text != "" {
		parts = append(parts, d.Text)
	}
	if d.Operation != "" {
		parts = append(parts, "operation "+d.Operation)
	}
	if d.Status != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", d.Status))
	}
	if d.ErrorReason != "" {
		parts = append(parts, d.ErrorReason)
	}
	if d.Message != "" {
		parts = append(parts, truncate(d.Message, 80))
	}
	return strings.Join(parts, " · ")
}

// shortName strips "WebChatService." from a full event name.
func shortName(full string) string {
	return strings.TrimPrefix(full, webchatservice.PluginName+".")
}

// who names a participant: "Alex (Agent)", or the type alone when the name is unknown.
func who(name, typ string) string {
	switch {
	case name != "" && typ != "":
		return name + " (" + typ + ")"
	case name != "":
		return name
	case typ != "":
		return typ
	default:
		return "someone"
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	return truncate(string(b), 100)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
