// Plugin shows how to write a plugin for WebChatService sessions, as a Widgets developer would
// with CXBus: it registers itself on each session's bus, subscribes to WebChatService events,
// intercepts WebChatService.sendMessage with a before function, and offers a command of its own.
//
// The plugin, Guard, keeps card numbers out of the chat: it masks them in outgoing messages
// before WebChatService sees them, and refuses messages that contain a password. It is installed
// once on the Host as an extension, so it joins every session.
//
// It needs no arguments: it runs against the Genesys Cloud simulator, started in-process on
// 127.0.0.1 with an agent that echoes.
//
//	go run ./examples/plugin
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
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
		fmt.Fprintln(os.Stderr, "plugin:", err)
		os.Exit(1)
	}
}

// ErrPassword is Guard's rejection of a message that mentions a password.
var ErrPassword = errors.New("Guard: messages must not contain passwords")

var cardNumber = regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`)

// Guard is the plugin. One Guard is registered on every session's bus.
type Guard struct {
	out io.Writer

	mu      sync.Mutex // the before function runs on the caller's goroutine
	masked  int
	refused int
}

// GuardStats is the result of the Guard.getStats command.
type GuardStats struct {
	Masked  int `json:"masked"`
	Refused int `json:"refused"`
}

// Install is a webchatservice.Extension: it runs for every new session, before WebChatService
// starts, so the plugin sees every event and every command of the session.
func (g *Guard) Install(s *webchatservice.Session) error {
	p, err := s.Bus.RegisterPlugin("Guard")
	if err != nil {
		return err
	}
	// Intercept sendMessage from any plugin (the Host's typed client included).
	if _, err := p.Before("WebChatService.sendMessage", g.beforeSendMessage); err != nil {
		return err
	}
	// Subscribe to events; callbacks run one at a time in the plugin's mailbox.
	subs := map[string]func(bus.Event){
		"WebChatService.agentConnected": func(e bus.Event) {
			fmt.Fprintf(g.out, "[Guard] %s joined\n", e.Data.(webchatservice.Participants).Message.From.Name)
		},
		"WebChatService.messageReceived": func(e bus.Event) {
			for _, m := range e.Data.(webchatservice.MessageReceived).Messages {
				if m.Type == transports.TypeMessage {
					fmt.Fprintf(g.out, "[Guard] %s said %q\n", m.From.Name, m.Text)
				}
			}
		},
		"WebChatService.ended": func(bus.Event) { fmt.Fprintln(g.out, "[Guard] chat ended") },
	}
	for name, fn := range subs {
		if _, err := p.Subscribe(name, fn); err != nil {
			return err
		}
	}
	// A command of its own: Guard.getStats.
	if err := p.RegisterCommand("getStats", func(ctx context.Context, c *bus.Call) (any, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		return GuardStats{Masked: g.masked, Refused: g.refused}, nil
	}); err != nil {
		return err
	}
	return p.Ready()
}

// beforeSendMessage receives the sendMessage options as the caller gave them (a typed struct
// from Go, a map from JSON callers), and returns the options WebChatService will get. Returning
// an error rejects the call with it; returning nil options cancels the call.
func (g *Guard) beforeSendMessage(ctx context.Context, opts any) (any, error) {
	o, err := bus.DecodeOptions[webchatservice.SendMessageOptions](opts)
	if err != nil {
		return opts, nil // not ours to judge: WebChatService rejects bad options itself
	}
	text, _ := o.Message.(string)
	if strings.Contains(strings.ToLower(text), "password") {
		g.mu.Lock()
		g.refused++
		g.mu.Unlock()
		return nil, ErrPassword
	}
	if !cardNumber.MatchString(text) {
		return opts, nil
	}
	o.Message = cardNumber.ReplaceAllString(text, "[card number removed]")
	g.mu.Lock()
	g.masked++
	g.mu.Unlock()
	if info, ok := bus.CallInfoFrom(ctx); ok {
		fmt.Fprintf(g.out, "[Guard] masked a card number in a message from %s\n", info.Commander)
	}
	return o, nil
}

func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	sim, err := simpc.Start("127.0.0.1:0", simpc.Options{
		RoutingDelay: 50 * time.Millisecond, AlertDelay: 50 * time.Millisecond, AnswerDelay: 100 * time.Millisecond,
		Script: &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}, Echo: true, EchoPrefix: "Agent got: "},
	})
	if err != nil {
		return err
	}
	defer sim.Close()

	out = &syncWriter{w: out} // the plugin's callbacks and this function both print
	guard := &Guard{out: out}
	host, err := webchatservice.NewHost(webchatservice.HostOptions{
		Config: map[string]any{
			"transport": map[string]any{
				"type": "purecloud-v2-sockets", "dataURL": sim.URL, "deploymentKey": "my-deployment-key", "orgGuid": "my-org-guid",
				"interactionData": map[string]any{"routing": map[string]any{"targetType": "QUEUE", "targetAddress": "Support"}},
			},
		},
		Extensions: []webchatservice.Extension{guard.Install},
	})
	if err != nil {
		return err
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		host.Shutdown(sctx)
	}()
	session, err := host.Open(ctx, webchatservice.OpenOptions{})
	if err != nil {
		return err
	}
	chat := session.Client

	// Wait for events with a subscription of our own (the channel holds far more events than
	// this chat produces, so none is dropped).
	events := make(chan bus.Event, 256)
	if _, err := chat.OnEvent("*", func(e bus.Event) {
		select {
		case events <- e:
		default:
		}
	}); err != nil {
		return err
	}
	waitFor := func(name string, match func(bus.Event) bool) error {
		for {
			select {
			case e := <-events:
				if e.Name == "WebChatService."+name && (match == nil || match(e)) {
					return nil
				}
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w", name, ctx.Err())
			}
		}
	}
	agentSaid := func(prefix string) func(bus.Event) bool {
		return func(e bus.Event) bool {
			for _, m := range e.Data.(webchatservice.MessageReceived).Messages {
				if m.From.Type == transports.ParticipantAgent && strings.HasPrefix(m.Text, prefix) {
					return true
				}
			}
			return false
		}
	}

	if _, err := chat.StartChat(ctx, webchatservice.StartChatOptions{Nickname: "Ada"}); err != nil {
		return fmt.Errorf("startChat: %w", err)
	}
	if err := waitFor(webchatservice.EventAgentConnected, nil); err != nil {
		return err
	}

	// Guard masks the card number before WebChatService sends the message.
	if _, err := chat.SendMessage(ctx, "My card is 4111 1111 1111 1111, can you check it?"); err != nil {
		return fmt.Errorf("sendMessage: %w", err)
	}
	if err := waitFor(webchatservice.EventMessageReceived, agentSaid("Agent got: ")); err != nil {
		return err
	}

	// Callers that speak JSON (other services, over NATS) send a map; Guard sees it the same way.
	if _, err := session.Bus.Command(ctx, "WebChatService.sendMessage", map[string]any{"message": "Or use 5500-0000-0000-0004"}); err != nil {
		return fmt.Errorf("sendMessage as a map: %w", err)
	}
	if err := waitFor(webchatservice.EventMessageReceived, agentSaid("Agent got: Or use")); err != nil {
		return err
	}

	// Guard refuses this one: the call is rejected with Guard's error and nothing is sent.
	_, err = chat.SendMessage(ctx, "and my password is hunter2")
	if !errors.Is(err, ErrPassword) {
		return fmt.Errorf("sendMessage with a password: got %v, want Guard's rejection", err)
	}
	fmt.Fprintf(out, "sendMessage rejected: %v\n", err)

	// Guard's own command, called like any bus command.
	stats, err := chat.Plugin().Command(ctx, "Guard.getStats", nil)
	if err != nil {
		return fmt.Errorf("Guard.getStats: %w", err)
	}
	fmt.Fprintf(out, "Guard stats: %+v\n", stats)

	if err := chat.EndChat(ctx); err != nil {
		return fmt.Errorf("endChat: %w", err)
	}
	return waitFor(webchatservice.EventEnded, nil)
}

// syncWriter serializes writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
