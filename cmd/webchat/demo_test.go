package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testDemoConfig is the default demo with short agent delays and a generous bound for a busy
// machine (the demo normally takes about a second).
func testDemoConfig() demoConfig {
	cfg := defaultDemoConfig()
	cfg.ReplyDelay = 20 * time.Millisecond
	cfg.Timeout = 30 * time.Second
	return cfg
}

func TestDemoText(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(context.Background(), testDemoConfig(), &out); err != nil {
		t.Fatalf("runDemo: %v\noutput:\n%s", err, out.String())
	}
	text := out.String()
	// The key events, in this order, each on its own line as "<offset>  <event> <summary>".
	want := []string{
		"  ready",
		"  started                conversation ",
		"  agentConnected         Alex (Agent) joined · 1 agent connected",
		`Alex (Agent): "Hi, I'm Alex. How can I help you today?"`,
		"  clientTypingStarted",
		`  messageReceived        Ada (Client): "` + demoQuestion + `"`,
		"  agentTypingStarted     Alex (Agent)",
		`  messageReceived        Alex (Agent): "` + demoOrderAnswer + `"`,
		`  messageReceived        Alex (Agent): "` + demoCodeAnswer + `"`,
		"# check: " + demoCode + " reached the agent and is hidden",
		`  messageReceived        Alex (Agent): "` + demoEchoPrefix + demoThanks + `"`,
		"  ended",
		"# demo finished",
	}
	rest := text
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order)\noutput:\n%s", w, text)
		}
		rest = rest[i+len(w):]
	}
	// The filtered message is sent but never shown as a received message.
	if strings.Contains(text, `(Client): "`+demoCode) {
		t.Errorf("the filtered message was printed as received:\n%s", text)
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if !strings.HasPrefix(strings.TrimLeft(line, " "), "+") {
			t.Errorf("line without a time offset: %q", line)
		}
	}
}

func TestDemoJSON(t *testing.T) {
	cfg := testDemoConfig()
	cfg.JSON = true
	cfg.Echo = false
	cfg.Greeting = ""
	var out bytes.Buffer
	if err := runDemo(context.Background(), cfg, &out); err != nil {
		t.Fatalf("runDemo: %v\noutput:\n%s", err, out.String())
	}
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e struct {
			Time      int64           `json:"time"`
			Publisher string          `json:"publisher"`
			Event     string          `json:"event"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line is not a JSON event: %v: %q", err, line)
		}
		if e.Publisher != "WebChatService" || !strings.HasPrefix(e.Event, "WebChatService.") || e.Time == 0 {
			t.Errorf("unexpected event %q", line)
		}
		seen[strings.TrimPrefix(e.Event, "WebChatService.")]++
	}
	for _, name := range []string{"ready", "started", "agentConnected", "messageReceived", "clientTypingStarted", "agentTypingStarted", "ended"} {
		if seen[name] == 0 {
			t.Errorf("no %s event; saw %v", name, seen)
		}
	}
	// Secrets never appear: guest JWTs are "eyJ…" and the event-stream URL embeds one.
	if s := out.String(); strings.Contains(s, "eyJ") || strings.Contains(s, "/v1/token/") {
		t.Errorf("output holds a secret:\n%s", s)
	}
	if strings.Contains(out.String(), demoEchoPrefix) {
		t.Errorf("echo was off, but the agent echoed")
	}
}

func TestDemoTimeout(t *testing.T) {
	cfg := testDemoConfig()
	cfg.Timeout = time.Millisecond
	var out bytes.Buffer
	err := runDemo(context.Background(), cfg, &out)
	if err == nil {
		t.Fatal("runDemo succeeded within 1ms")
	}
	if !strings.Contains(err.Error(), "timed out after 1ms") && !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("error does not say it timed out: %v", err)
	}
}

func TestDemoInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := runDemo(ctx, testDemoConfig(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err = %v, want an interruption", err)
	}
}

func TestDemoBadConfig(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*demoConfig)
		want string
	}{
		{"timeout", func(c *demoConfig) { c.Timeout = 0 }, "timeout must be positive"},
		{"reply delay", func(c *demoConfig) { c.ReplyDelay = -time.Second }, "reply-delay must not be negative"},
		{"agent name", func(c *demoConfig) { c.AgentName = " " }, "agent-name must not be empty"},
		{"customer", func(c *demoConfig) { c.Customer = "" }, "customer must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testDemoConfig()
			tt.mod(&cfg)
			err := runDemo(context.Background(), cfg, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func Example_help() {
	dispatch(context.Background(), []string{"help"}, os.Stdout, os.Stdout)
	// Output:
	// Usage: webchat <command> [flags]
	//
	// Commands:
	//   demo     run a scripted chat against an in-process Genesys Cloud simulator and print the bus events
	//   serve    run the daemon: sessions over NATS subjects (embedded NATS server unless --nats-url)
	//
	// Run "webchat <command> -h" for the flags of a command.
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"no command", nil, 2, "", "Usage: webchat <command>"},
		{"unknown", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "demo ", ""},
		{"help demo", []string{"help", "demo"}, 0, "-reply-delay", ""},
		{"demo -h", []string{"demo", "-h"}, 0, "", "-agent-name"},
		{"bad flag", []string{"demo", "--no-such-flag"}, 2, "", "flag provided but not defined"},
		{"stray argument", []string{"demo", "extra"}, 2, "", "unexpected arguments"},
		{"bad value", []string{"demo", "--reply-delay=soon"}, 2, "", "invalid value"},
		{"failure", []string{"demo", "--timeout=-1s"}, 1, "", "webchat demo: timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.inStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.inStdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.inStderr, stderr.String())
			}
		})
	}
}

func TestDemoCommandFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"demo", "--agent-name=Sam", "--greeting=", "--customer=Bo", "--reply-delay=10ms", "--echo=false", "--typing=false", "--timeout=30s"}
	if code := dispatch(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, w := range []string{"Sam (Agent) joined", `Bo (Client): "` + demoQuestion, `Sam (Agent): "` + demoOrderAnswer} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, unwanted := range []string{"How can I help", "agentTypingStarted", demoEchoPrefix} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output has %q although its flag turned it off:\n%s", unwanted, out)
		}
	}
}
