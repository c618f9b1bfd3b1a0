package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/cxbus/webchat/webchatservice"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"[Guard] Alex joined\n",
		"[Guard] masked a card number in a message from Host\n",
		`[Guard] Alex said "Agent got: My card is [card number removed], can you check it?"`,
		"[Guard] masked a card number in a message from CXBus\n",
		`[Guard] Alex said "Agent got: Or use [card number removed]"`,
		"sendMessage rejected: Guard: messages must not contain passwords\n",
		"Guard stats: {Masked:2 Refused:1}\n",
		"[Guard] chat ended\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, text)
		}
	}
	for _, secret := range []string{"4111", "5500", "hunter2"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q reached the chat:\n%s", secret, text)
		}
	}
}

// Example shows Guard's before function on its own: it rewrites the options of a call, or
// rejects the call.
func Example() {
	g := &Guard{out: io.Discard}
	opts, _ := g.beforeSendMessage(context.Background(), webchatservice.SendMessageOptions{Message: "card 4111 1111 1111 1111"})
	fmt.Println(opts.(webchatservice.SendMessageOptions).Message)
	_, err := g.beforeSendMessage(context.Background(), map[string]any{"message": "my password is x"})
	fmt.Println(err)
	// Output:
	// card [card number removed]
	// Guard: messages must not contain passwords
}

func TestBeforeSendMessage(t *testing.T) {
	tests := []struct {
		name    string
		opts    any
		want    string // the message WebChatService gets
		wantErr error
	}{
		{"typed, card", webchatservice.SendMessageOptions{Message: "card 4111111111111111 ok"}, "card [card number removed] ok", nil},
		{"map, card with dashes", map[string]any{"message": "5500-0000-0000-0004"}, "[card number removed]", nil},
		{"json, card", json.RawMessage(`{"message":"x 4111 1111 1111 1111"}`), "x [card number removed]", nil},
		{"no card", webchatservice.SendMessageOptions{Message: "order 1234"}, "order 1234", nil},
		{"password", map[string]any{"message": "my PASSWORD is x"}, "", ErrPassword},
		{"not a string", map[string]any{"message": 42}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Guard{out: io.Discard}
			got, err := g.beforeSendMessage(context.Background(), tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil || tt.want == "" {
				return
			}
			var text string
			switch o := got.(type) {
			case webchatservice.SendMessageOptions:
				text, _ = o.Message.(string)
			case map[string]any:
				text, _ = o["message"].(string)
			default:
				t.Fatalf("options became %T", got)
			}
			if text != tt.want {
				t.Errorf("message %q, want %q", text, tt.want)
			}
		})
	}
}
