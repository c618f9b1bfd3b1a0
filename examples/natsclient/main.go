// Command natsclient chats through a running `webchat serve` daemon using nothing but NATS: it
// opens a session, starts a chat, prints what the agent says, sends a message, and ends.
//
//	go run ./cmd/webchat serve --sim        # terminal 1: daemon + simulated contact center
//	go run ./examples/natsclient            # terminal 2
//
// Any NATS client in any language can do the same: the subjects and payloads are in docs/nats.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	server := flag.String("server", nats.DefaultURL, "NATS server of the webchat daemon")
	prefix := flag.String("prefix", "webchat", "subject prefix of the daemon")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *server, *prefix, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "natsclient:", err)
		os.Exit(1)
	}
}

// reply is the daemon's reply envelope.
type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// event is the part of a bus event this client reads.
type event struct {
	Event string `json:"event"`
	Data  struct {
		Messages []struct {
			Type string `json:"type"`
			Text string `json:"text"`
			From struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"from"`
		} `json:"messages"`
	} `json:"data"`
}

func run(ctx context.Context, server, prefix string, out io.Writer) error {
	nc, err := nats.Connect(server, nats.Name("webchat natsclient"))
	if err != nil {
		return fmt.Errorf("connect %s: %w (is `webchat serve` running?)", server, err)
	}
	defer nc.Close()

	request := func(subject string, payload any) (json.RawMessage, error) {
		data, err := json.Marshal(payload)
		if err != nil {
			return nil, err
		}
		msg, err := nc.RequestWithContext(ctx, subject, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", subject, err)
		}
		var r reply
		if err := json.Unmarshal(msg.Data, &r); err != nil {
			return nil, fmt.Errorf("%s: bad reply: %w", subject, err)
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %d %s", subject, r.Error.Code, r.Error.Message)
		}
		return r.Result, nil
	}

	res, err := request(prefix+".sessions.open", map[string]any{})
	if err != nil {
		return err
	}
	var opened struct{ ID string }
	if err := json.Unmarshal(res, &opened); err != nil {
		return err
	}
	fmt.Fprintln(out, "session opened")
	cmd := func(name string) string { return prefix + "." + opened.ID + ".cmd.WebChatService." + name }

	// Agent messages arrive as events; hand their texts to this goroutine.
	agentSaid := make(chan string, 16)
	ended := make(chan struct{})
	sub, err := nc.Subscribe(prefix+"."+opened.ID+".evt.WebChatService.*", func(m *nats.Msg) {
		var e event
		if json.Unmarshal(m.Data, &e) != nil {
			return
		}
		switch e.Event {
		case "WebChatService.agentConnected":
			fmt.Fprintln(out, "agent connected")
		case "WebChatService.ended":
			close(ended)
		case "WebChatService.messageReceived":
			for _, msg := range e.Data.Messages {
				if msg.Type == "Message" && msg.From.Type == "Agent" {
					fmt.Fprintf(out, "%s: %s\n", msg.From.Name, msg.Text)
					agentSaid <- msg.Text
				}
			}
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	if err := nc.FlushWithContext(ctx); err != nil {
		return err
	}

	if _, err := request(cmd("startChat"), map[string]any{"nickname": "NATS client"}); err != nil {
		return err
	}
	if err := waitAgent(ctx, agentSaid); err != nil {
		return fmt.Errorf("waiting for the agent's greeting: %w", err)
	}
	fmt.Fprintln(out, "me: Hi, I need help with my order")
	if _, err := request(cmd("sendMessage"), map[string]any{"message": "Hi, I need help with my order"}); err != nil {
		return err
	}
	if err := waitAgent(ctx, agentSaid); err != nil {
		return fmt.Errorf("waiting for the agent's answer: %w", err)
	}
	if _, err := request(cmd("endChat"), nil); err != nil {
		return err
	}
	select {
	case <-ended:
	case <-ctx.Done():
		return errors.New("chat did not end")
	}
	if _, err := request(prefix+".sessions.close", map[string]any{"id": opened.ID}); err != nil {
		return err
	}
	fmt.Fprintln(out, "chat ended, session closed")
	return nil
}

func waitAgent(ctx context.Context, said <-chan string) error {
	select {
	case <-said:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
