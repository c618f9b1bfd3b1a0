// Quickstart embeds WebChatService in a Go program: it starts a Genesys Cloud guest chat, prints
// the messages as they arrive, sends one, and ends the chat.
//
// It needs no arguments and no account: it starts the Genesys Cloud simulator in-process on
// 127.0.0.1 with an agent that echoes. Against a real deployment, drop the simulator and put
// your region's API base, deployment key, organization and queue in the configuration.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/cxbus/webchat/bus"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	_ "github.com/cxbus/webchat/transports/purecloud" // registers the "purecloud-v2-sockets" transport
	"github.com/cxbus/webchat/webchatservice"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// widgetsConfig is a Genesys Widgets `_genesys.widgets.webchat` object: it loads as is.
const widgetsConfig = `{
	"transport": {
		"type": "purecloud-v2-sockets",
		"dataURL": %q,
		"deploymentKey": "my-deployment-key",
		"orgGuid": "my-org-guid",
		"interactionData": {"routing": {"targetType": "QUEUE", "targetAddress": "Support"}}
	},
	"userData": {"source": "quickstart"}
}`

func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// A contact center to talk to: the simulator, whose agent greets and echoes.
	sim, err := simpc.Start("127.0.0.1:0", simpc.Options{
		RoutingDelay: 50 * time.Millisecond, AlertDelay: 50 * time.Millisecond, AnswerDelay: 100 * time.Millisecond,
		Script: &simpc.Script{
			Agent:         &simpc.AgentProfile{Name: "Alex"},
			AgentGreeting: "Hello! How can I help?",
			Echo:          true,
			EchoPrefix:    "You said: ",
		},
	})
	if err != nil {
		return err
	}
	defer sim.Close()

	// A Host runs sessions; each has its own bus with WebChatService on it.
	host, err := webchatservice.NewHost(webchatservice.HostOptions{Config: fmt.Sprintf(widgetsConfig, sim.URL)})
	if err != nil {
		return err
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		host.Shutdown(sctx) // closes every session; the simulator closes after it
	}()
	session, err := host.Open(ctx, webchatservice.OpenOptions{})
	if err != nil {
		return err
	}
	chat := session.Client // typed commands and events, through the session's bus

	// Print every message as it arrives, and note when the agent answers. Callbacks run one at a
	// time in the order of the events; they must not block, so they hand values on with offer.
	answers := make(chan string, 16)
	agentJoined := make(chan string, 1)
	ended := make(chan struct{}, 1)
	_, err1 := chat.OnMessageReceived(func(e webchatservice.MessageReceived) {
		for _, m := range e.Messages {
			if m.Type != transports.TypeMessage {
				continue // participant joins and leaves are in messages too
			}
			fmt.Fprintf(out, "%s: %s\n", m.From.Name, m.Text)
			if m.From.Type == transports.ParticipantAgent {
				offer(answers, m.Text)
			}
		}
	})
	_, err2 := chat.OnParticipants(webchatservice.EventAgentConnected, func(p webchatservice.Participants) {
		fmt.Fprintf(out, "(%s joined)\n", p.Message.From.Name)
		offer(agentJoined, p.Message.From.Name)
	})
	_, err3 := chat.OnEvent(webchatservice.EventEnded, func(bus.Event) {
		fmt.Fprintln(out, "(chat ended)")
		offer(ended, struct{}{})
	})
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}

	if _, err := chat.StartChat(ctx, webchatservice.StartChatOptions{Nickname: "Ada", Email: "ada@example.com"}); err != nil {
		return fmt.Errorf("startChat: %w", err)
	}
	if _, err := receive(ctx, agentJoined); err != nil {
		return fmt.Errorf("waiting for an agent: %w", err)
	}
	if _, err := receive(ctx, answers); err != nil { // the greeting
		return fmt.Errorf("waiting for the greeting: %w", err)
	}
	if _, err := chat.SendMessage(ctx, "Hello from Go!"); err != nil {
		return fmt.Errorf("sendMessage: %w", err)
	}
	if _, err := receive(ctx, answers); err != nil { // the echo
		return fmt.Errorf("waiting for the answer: %w", err)
	}
	if err := chat.EndChat(ctx); err != nil {
		return fmt.Errorf("endChat: %w", err)
	}
	if _, err := receive(ctx, ended); err != nil {
		return fmt.Errorf("waiting for the end: %w", err)
	}
	return nil
}

// offer hands v on without blocking (the channels are large enough for this program).
func offer[T any](ch chan<- T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// receive waits for a value on ch or for ctx to end.
func receive[T any](ctx context.Context, ch <-chan T) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
